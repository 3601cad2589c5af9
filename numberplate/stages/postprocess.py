"""Format-aware post-processing of CTC readings.

A plate format fixes, position by position, whether a letter or a digit stands there (``LL####LL``
for UA). Blind substitution (O -> 0 wherever a digit is due) goes wrong when the reading has a
character too many or too few. Instead we search the CTC output itself: for each template of the
region, the most probable alignment whose text fits the template (a Viterbi pass over the frames,
restricted per position to the template's classes). The best fitting text replaces the free reading
when its path is not much less probable than the free best path; a confident reading that fits no
format (a vanity plate, a foreign car) is kept and reported ``format_valid = False``. One kind of
repair gets a bigger budget: a reading that fits a format once some letters are read as the digits they
look like (G -> 6, B -> 8, Q -> 0...), same length, nothing else changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from numberplate.regions.alphabet import DIGITS
from numberplate.regions.spec import RegionSpec

_NEG = -1e9
# How much less probable (in nats of path log-probability) a format-fitting reading may be than the
# free reading and still replace it. Tuned on the val splits of the real crop sets (see README).
DEFAULT_MAX_COST = 3.0
# A reading that fits a format once some characters are swapped for their look-alikes (the classic
# letter/digit confusions below, nothing else, same length) may cost this much more: a model that reads
# a 6 as G with 0.97 is usually wrong about the glyph, not about the plate's format.
DEFAULT_LOOKALIKE_COST = 6.0
# Letter -> digit pairs that plate fonts draw alike. One way only: on the real crop sets and photos the
# model reads a digit as its letter look-alike (6 as G, 8 as B, 0 as Q) far more often than the reverse,
# and swapping digits to letters turned right readings of foreign plates into a wrong format.
LOOKALIKES = ("O0", "Q0", "D0", "I1", "Z2", "A4", "S5", "G6", "T7", "B8")


@dataclass(frozen=True)
class FormatFit:
    """The best reading of one crop that fits a plate format.

    Attributes:
        text: text in template order (the visual order of the lines for multi-line plates).
        char_confidences: per character, the highest probability it reached on the chosen path.
        log_prob: log-probability of the chosen path.
        spec: plate type whose template it fits.
        template: the template (``"LL####LL"``), in the same order as ``text``.
    """

    text: str
    char_confidences: tuple[float, ...]
    log_prob: float
    spec: RegionSpec
    template: str


def _slot_masks(template: str, letters: str, alphabet: str, twins: tuple[str, ...] = ()) -> np.ndarray | None:
    """Template -> L x C boolean masks over model classes (class 0 = blank never allowed in a slot).

    With ``twins`` (``"O0"``: a letter and a digit the plate draws alike), a letter slot also admits the
    digit and a digit slot the letter; ``fitted_text`` writes back what the slot wants.
    None when the model's alphabet cannot write the template (e.g. a literal it does not know).
    """
    masks = np.zeros((len(template), len(alphabet) + 1), dtype=bool)
    letter_set = set(letters) | {digit for letter, digit in twins if letter in letters}
    digit_set = set(DIGITS) | {letter for letter, _ in twins}
    for position, symbol in enumerate(template):
        if symbol == "L":
            allowed = [i + 1 for i, c in enumerate(alphabet) if c in letter_set]
        elif symbol == "#":
            allowed = [i + 1 for i, c in enumerate(alphabet) if c in digit_set]
        else:  # a literal, or its twin (the literal 0 of a Kazakh region code `0#` drawn as an O)
            spelled = {symbol} | {b for pair in twins for a, b in (pair, pair[::-1]) if a == symbol}
            allowed = [i + 1 for i, c in enumerate(alphabet) if c in spelled]
        if not allowed:
            return None
        masks[position, allowed] = True
    return masks


def fitted_text(text: str, template: str, twins: tuple[str, ...] = ()) -> str:
    """``text`` (which fits ``template`` up to ``twins``) with each twin turned into what its slot wants."""
    to_letter = {digit: letter for letter, digit in twins}
    to_digit = {letter: digit for letter, digit in twins}
    return "".join(to_letter.get(c, c) if slot == "L" else to_digit.get(c, c) if slot == "#" else slot
                   for c, slot in zip(text, template))


@dataclass
class _Trellis:
    """Forward pass of the constrained CTC Viterbi search for K templates at once (padded to one length)."""

    scores: np.ndarray  # K: best path log-probability per template (-inf when it cannot fit)
    end_in_blank: np.ndarray  # K: whether that best path ends in a blank
    end_class: np.ndarray  # K: its last label's class when it ends in a label
    label_from: np.ndarray  # T x K x L x C: 0 stay, 1 from blank[k], 2 from label[k-1]
    label_prev_class: np.ndarray  # T x K x L x C: the class of label[k-1] for a move of kind 2
    blank_from: np.ndarray  # T x K x (L+1): 1 when blank[k] was entered from label[k-1]
    blank_prev_class: np.ndarray  # T x K x (L+1): that label's class


def _forward(log_probs: np.ndarray, masks: np.ndarray, lengths: np.ndarray) -> _Trellis:
    """Viterbi over the frames for K templates: ``masks`` K x L x C (slots beyond a template's length are
    all False), ``lengths`` K. Each template's search is independent; batching them saves the per-frame
    overhead, which dominates at these sizes."""
    steps, classes = log_probs.shape
    count, length = masks.shape[:2]
    slot_lp = np.where(masks, 0.0, _NEG)  # K x L x C additive mask
    # State after frame t: blank[k] = k labels emitted and in a blank; label[k, c] = in label k (0-based) = c.
    blank = np.full((count, length + 1), _NEG)
    label = np.full((count, length, classes), _NEG)
    blank[:, 0] = log_probs[0, 0]
    label[:, 0] = log_probs[0][None, :] + slot_lp[:, 0]
    label_from = np.zeros((steps, count, length, classes), dtype=np.int8)
    label_prev_class = np.zeros((steps, count, length, classes), dtype=np.int16)
    blank_from = np.zeros((steps, count, length + 1), dtype=np.int8)
    blank_prev_class = np.zeros((steps, count, length + 1), dtype=np.int16)
    class_ids = np.arange(classes)[None, None, :]
    slots_k, slots_l = np.indices((count, length))
    direct = np.full(label.shape, _NEG)  # K x L x C: best score of a move from label[k-1] into label[k] = c
    for t in range(1, steps):
        # Best and second-best label of each slot: a direct label->label move needs a different class
        # (the same class twice without a blank would collapse into one character).
        best_class = label.argmax(axis=2)  # K x L
        best_value = label[slots_k, slots_l, best_class]
        label[slots_k, slots_l, best_class] = -np.inf
        second_class = label.argmax(axis=2)
        second_value = label[slots_k, slots_l, second_class]
        label[slots_k, slots_l, best_class] = best_value

        new_blank = np.empty_like(blank)
        new_blank[:, 0] = blank[:, 0] + log_probs[t, 0]
        from_label = best_value + log_probs[t, 0]
        stay = blank[:, 1:] + log_probs[t, 0]
        take_label = from_label > stay
        new_blank[:, 1:] = np.where(take_label, from_label, stay)
        blank_from[t, :, 1:] = take_label
        blank_prev_class[t, :, 1:] = best_class

        from_blank = blank[:, :length, None]  # K x L x 1, the same for every class
        if length > 1:  # direct[:, 0] stays _NEG: the first slot has no label before it
            clash = best_class[:, :-1, None] == class_ids
            direct[:, 1:] = np.where(clash, second_value[:, :-1, None], best_value[:, :-1, None])
            label_prev_class[t, :, 1:] = np.where(clash, second_class[:, :-1, None], best_class[:, :-1, None])
        # The best of staying, coming from the blank and the direct move (ties go to the earlier, as argmax).
        choice = label_from[t]
        entered = from_blank > label
        best = np.where(entered, from_blank, label)
        choice[entered] = 1
        jumped = direct > best
        best = np.where(jumped, direct, best)
        choice[jumped] = 2
        label = best + log_probs[t][None, None, :] + slot_lp
        blank = new_blank

    rows = np.arange(count)
    last_label = label[rows, np.maximum(lengths - 1, 0)]  # K x C
    end_class = last_label.argmax(axis=1)
    end_label = last_label[rows, end_class]
    end_blank = blank[rows, lengths]
    scores = np.maximum(end_label, end_blank)
    scores = np.where((scores <= _NEG / 2) | (lengths == 0) | (lengths > steps), -np.inf, scores)
    return _Trellis(scores, end_blank >= end_label, end_class, label_from, label_prev_class, blank_from,
                    blank_prev_class)


def _backtrack(trellis: _Trellis, log_probs: np.ndarray, k: int, length: int) -> tuple[list[int], list[float]]:
    """Labels and per-label confidence of template ``k``'s best path."""
    labels: list[int] = [0] * length
    confidences = [0.0] * length
    in_blank = bool(trellis.end_in_blank[k])
    slot, c = (length, 0) if in_blank else (length - 1, int(trellis.end_class[k]))
    for t in range(log_probs.shape[0] - 1, -1, -1):
        if in_blank:
            if t > 0 and slot > 0 and trellis.blank_from[t, k, slot] == 1:
                in_blank, c, slot = False, int(trellis.blank_prev_class[t, k, slot]), slot - 1
            continue
        labels[slot] = c
        confidences[slot] = max(confidences[slot], float(np.exp(log_probs[t, c])))
        if t == 0:
            break
        came = trellis.label_from[t, k, slot, c]
        if came == 1:
            in_blank = True
        elif came == 2:
            c, slot = int(trellis.label_prev_class[t, k, slot, c]), slot - 1
    return labels, confidences


def constrained_best_path(log_probs: np.ndarray, masks: np.ndarray) -> tuple[float, list[int], list[float]]:
    """Most probable CTC path whose collapsed labels fit the slot masks.

    Args:
        log_probs: T x C log-probabilities, class 0 = blank.
        masks: L x C booleans, which classes each of the L output positions may take.

    Returns:
        ``(log_prob, labels, confidences)``: path log-probability (``-inf`` when the T frames cannot hold
        L labels), the L chosen classes and, per label, the highest probability over its frames.
    """
    length = masks.shape[0]
    if length == 0 or log_probs.shape[0] < length:
        return -math.inf, [], []
    trellis = _forward(log_probs, masks[None], np.array([length]))
    if not math.isfinite(trellis.scores[0]):
        return -math.inf, [], []
    labels, confidences = _backtrack(trellis, log_probs, 0, length)
    return float(trellis.scores[0]), labels, confidences


def free_best_path_log_prob(log_probs: np.ndarray) -> float:
    """Log-probability of the unconstrained best path (what greedy decoding reads)."""
    return float(log_probs.max(axis=1).sum())


class FormatCorrector:
    """Fits readings to the plate formats of some plate types.

    Args:
        specs: the plate types a reading may be (e.g. every type of the ``--region`` country).
        alphabet: the model's alphabet (classes 1..).
        max_cost: accept a format-fitting reading when its path log-probability is at most this much
            below the free reading's.
        lookalike_cost: failing that, accept a reading that differs from the free one only by look-alike
            swaps (``LOOKALIKES``: 6/G, 8/B, 1/I, 0/O...) when it is at most this much below it; None = never.
    """

    def __init__(self, specs: Sequence[RegionSpec], alphabet: str, max_cost: float = DEFAULT_MAX_COST,
                 lookalike_cost: float | None = DEFAULT_LOOKALIKE_COST):
        self.specs = tuple(specs)
        self.alphabet = alphabet
        self.max_cost = max_cost
        self.lookalike_cost = lookalike_cost

    @cached_property
    def _class_of(self) -> dict[str, int]:
        return {c: i + 1 for i, c in enumerate(self.alphabet)}

    @cached_property
    def _templates(self) -> list[tuple[RegionSpec, str, np.ndarray]]:
        out = []
        for spec in self.specs:
            for template in spec.templates:
                # The model reads multi-line plates line after line: fit the visual order.
                visual = "".join(spec.visual_lines(template))
                masks = _slot_masks(visual, spec.letters, self.alphabet, spec.twins)
                if masks is not None:
                    out.append((spec, visual, masks))
        return out

    @cached_property
    def _stacked(self) -> dict[int | None, tuple[list[tuple[RegionSpec, str]], np.ndarray, np.ndarray]]:
        """Per line count (and None = all): the templates, their masks padded to one length, their lengths."""
        out = {}
        for lines in {None, *(spec.count_lines for spec, _, _ in self._templates)}:
            chosen = [(spec, template, masks) for spec, template, masks in self._templates
                      if lines is None or spec.count_lines == lines]
            longest = max(len(t) for _, t, _ in chosen)
            stacked = np.zeros((len(chosen), longest, len(self.alphabet) + 1), dtype=bool)
            for k, (_, template, masks) in enumerate(chosen):
                stacked[k, :len(template)] = masks
            out[lines] = ([(s, t) for s, t, _ in chosen], stacked, np.array([len(t) for _, t, _ in chosen]))
        return out

    def best_fit(self, probs: np.ndarray, lines: int | None = None) -> FormatFit | None:
        """The most probable format-fitting reading of one crop's T x C probabilities (None if no format
        can be fitted). ``lines`` limits the search to plate types with that many lines."""
        if not self._templates or (lines is not None and lines not in self._stacked):
            return None
        templates, masks, lengths = self._stacked[lines]
        return self._best_of(np.log(np.maximum(probs, 1e-12)), templates, masks, lengths)

    def _best_of(self, log_probs: np.ndarray, templates: list[tuple[RegionSpec, str]], masks: np.ndarray,
                 lengths: np.ndarray) -> FormatFit | None:
        """The most probable path over K templates at once (K x L x C masks padded to one length)."""
        trellis = _forward(log_probs, masks, lengths)
        best = int(np.argmax(trellis.scores))
        if not math.isfinite(trellis.scores[best]):
            return None
        labels, confidences = _backtrack(trellis, log_probs, best, int(lengths[best]))
        spec, template = templates[best]
        text = fitted_text("".join(self.alphabet[c - 1] for c in labels), template, spec.twins)
        return FormatFit(text, tuple(confidences), float(trellis.scores[best]), spec, template)

    @cached_property
    def _lookalikes(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for letter, digit in LOOKALIKES:
            out[letter] = out.get(letter, "") + digit
        return out

    def lookalike_fit(self, probs: np.ndarray, text: str, lines: int | None = None) -> FormatFit | None:
        """The most probable reading that fits a format and differs from ``text`` (the free reading) only
        by look-alike swaps, position for position; None when no template of its length can be reached so."""
        classes = [self._class_of.get(c) for c in text]
        if None in classes:
            return None
        templates, reachable_masks = [], []
        for spec, template, masks in self._templates:
            if len(template) != len(text) or (lines is not None and spec.count_lines != lines):
                continue
            # Each position may keep its character or take one of its look-alikes, as the template allows.
            reachable = np.zeros_like(masks)
            for k, char in enumerate(text):
                for candidate in char + self._lookalikes.get(char, ""):
                    cls = self._class_of.get(candidate)
                    if cls is not None and masks[k, cls]:
                        reachable[k, cls] = True
            if reachable.any(axis=1).all():
                templates.append((spec, template))
                reachable_masks.append(reachable)
        if not templates:
            return None
        # All of one length: searched together in one trellis, as best_fit searches the region's templates.
        return self._best_of(np.log(np.maximum(probs, 1e-12)), templates, np.stack(reachable_masks),
                             np.full(len(templates), len(text)))

    def _fits_as_read(self, text: str, lines: int | None,
                      prefer_type: str | None = None) -> tuple[RegionSpec, str] | None:
        """The first (type, template) whose format the free reading already fits; one it fits as it stands
        comes before one it fits only through twins (Russian `0857HM84` is a military plate, not `O857HM84`),
        unless the plate was classified as the type it fits through twins: the glyph then says less than the
        plate's look (a white civil plate `O296BB97` read with a 0)."""
        classes = [self._class_of.get(c) for c in text]
        if None in classes:
            return None
        fits = [(spec, template) for spec, template, masks in self._templates
                if (lines is None or spec.count_lines == lines) and len(template) == len(text)
                and all(masks[k, c] for k, c in enumerate(classes))]
        unchanged = [(spec, template) for spec, template in fits if fitted_text(text, template, spec.twins) == text]
        preferred = [fit for fit in unchanged + fits if fit[0].code == prefer_type]
        return (preferred or unchanged or fits or [None])[0]

    def correct(self, probs: np.ndarray, lines: int | None = None,
                read: tuple[str, tuple[float, ...]] | None = None,
                prefer_type: str | None = None) -> tuple[FormatFit | None, bool]:
        """``(fit, accepted)``: the best format fit and whether it should replace the free reading.

        ``read`` is the free (greedy) reading and its confidences, when known: if it already fits a
        format it is the answer, since the free best path is then also the best fitting one, and the
        search is skipped (most plates: the search costs milliseconds, this check microseconds).
        ``prefer_type`` is the plate type the crop was classified as, if any (see :meth:`_fits_as_read`).
        """
        if read is not None:
            as_read = self._fits_as_read(read[0], lines, prefer_type)
            if as_read is not None:
                log_prob = free_best_path_log_prob(np.log(np.maximum(probs, 1e-12)))
                text = fitted_text(read[0], as_read[1], as_read[0].twins)
                return FormatFit(text, tuple(read[1]), log_prob, as_read[0], as_read[1]), True
        fit = self.best_fit(probs, lines)
        if fit is None:
            return None, False
        free = free_best_path_log_prob(np.log(np.maximum(probs, 1e-12)))
        if free - fit.log_prob <= self.max_cost:
            return fit, True
        if read is not None and self.lookalike_cost is not None:
            swapped = self.lookalike_fit(probs, read[0], lines)
            if swapped is not None and free - swapped.log_prob <= self.lookalike_cost:
                return swapped, True
        return fit, False
