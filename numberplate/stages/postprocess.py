"""Format-aware post-processing of CTC readings.

A plate format fixes, position by position, whether a letter or a digit stands there (``LL####LL``
for UA). Blind substitution (O -> 0 wherever a digit is due) goes wrong when the reading has a
character too many or too few. Instead we search the CTC output itself: for each template of the
region, the most probable alignment whose text fits the template (a Viterbi pass over the frames,
restricted per position to the template's classes). The best fitting text replaces the free reading
when its path is not much less probable than the free best path; a confident reading that fits no
format (a vanity plate, a foreign car) is kept and reported ``format_valid = False``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from numberplate.regions.spec import RegionSpec

_NEG = -1e9
# How much less probable (in nats of path log-probability) a format-fitting reading may be than the
# free reading and still replace it. Tuned on the val splits of the real crop sets (see README).
DEFAULT_MAX_COST = 3.0


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


def _slot_masks(template: str, letters: str, alphabet: str) -> np.ndarray | None:
    """Template -> L x C boolean masks over model classes (class 0 = blank never allowed in a slot).

    None when the model's alphabet cannot write the template (e.g. a literal it does not know).
    """
    masks = np.zeros((len(template), len(alphabet) + 1), dtype=bool)
    letter_set = set(letters)
    for position, symbol in enumerate(template):
        if symbol == "L":
            allowed = [i + 1 for i, c in enumerate(alphabet) if c in letter_set]
        elif symbol == "#":
            allowed = [i + 1 for i, c in enumerate(alphabet) if c.isdigit()]
        else:
            allowed = [alphabet.index(symbol) + 1] if symbol in alphabet else []
        if not allowed:
            return None
        masks[position, allowed] = True
    return masks


def constrained_best_path(log_probs: np.ndarray, masks: np.ndarray) -> tuple[float, list[int], list[float]]:
    """Most probable CTC path whose collapsed labels fit the slot masks.

    Args:
        log_probs: T x C log-probabilities, class 0 = blank.
        masks: L x C booleans, which classes each of the L output positions may take.

    Returns:
        ``(log_prob, labels, confidences)``: path log-probability (``-inf`` when the T frames cannot hold
        L labels), the L chosen classes and, per label, the highest probability over its frames.
    """
    steps, classes = log_probs.shape
    length = masks.shape[0]
    if length == 0 or steps < length:
        return -math.inf, [], []
    slot_lp = np.where(masks, 0.0, _NEG)  # L x C additive mask
    # State after frame t: blank[k] = k labels emitted and in a blank; label[k, c] = in label k (0-based) = c.
    blank = np.full(length + 1, _NEG)
    label = np.full((length, classes), _NEG)
    blank[0] = log_probs[0, 0]
    label[0] = log_probs[0] + slot_lp[0]
    # Back-pointers per frame: for label[k, c] where it came from (0 stay, 1 from blank[k], 2 from label[k-1]),
    # for blank[k] (0 stay, 1 from label[k-1, best]).
    label_from = np.zeros((steps, length, classes), dtype=np.int8)
    label_prev_class = np.zeros((steps, length, classes), dtype=np.int16)
    blank_from = np.zeros((steps, length + 1), dtype=np.int8)
    blank_prev_class = np.zeros((steps, length + 1), dtype=np.int16)
    for t in range(1, steps):
        # Best and second-best label of each slot: a direct label->label move needs a different class
        # (the same class twice without a blank would collapse into one character).
        order = np.argsort(label, axis=1)
        best_class, second_class = order[:, -1], order[:, -2]
        best_value = label[np.arange(length), best_class]
        second_value = label[np.arange(length), second_class]

        new_blank = np.full(length + 1, _NEG)
        new_blank[0] = blank[0] + log_probs[t, 0]
        from_label = best_value + log_probs[t, 0]
        stay = blank[1:] + log_probs[t, 0]
        take_label = from_label > stay
        new_blank[1:] = np.where(take_label, from_label, stay)
        blank_from[t, 1:] = take_label
        blank_prev_class[t, 1:] = best_class

        stay_label = label
        from_blank = np.broadcast_to(blank[:length, None], (length, classes))
        direct = np.full((length, classes), _NEG)
        direct_class = np.zeros((length, classes), dtype=np.int16)
        if length > 1:
            previous_best = np.broadcast_to(best_value[:-1, None], (length - 1, classes)).copy()
            previous_class = np.broadcast_to(best_class[:-1, None], (length - 1, classes)).copy()
            clash = previous_class == np.arange(classes)[None, :]
            previous_best[clash] = np.broadcast_to(second_value[:-1, None], (length - 1, classes))[clash]
            previous_class[clash] = np.broadcast_to(second_class[:-1, None], (length - 1, classes))[clash]
            direct[1:] = previous_best
            direct_class[1:] = previous_class
        candidates = np.stack([stay_label, from_blank, direct])  # 3 x L x C
        choice = candidates.argmax(axis=0)
        label = np.take_along_axis(candidates, choice[None], axis=0)[0] + log_probs[t][None, :] + slot_lp
        label_from[t] = choice
        label_prev_class[t] = direct_class
        blank = new_blank

    end_label_class = int(label[length - 1].argmax())
    end_label = float(label[length - 1, end_label_class])
    end_blank = float(blank[length])
    total = max(end_label, end_blank)
    if total <= _NEG / 2:
        return -math.inf, [], []

    # Walk back through the frames, recording which label each frame sat in.
    labels: list[int] = [0] * length
    confidences = [0.0] * length
    in_blank, k, c = (end_blank >= end_label), length, end_label_class
    if not in_blank:
        k = length - 1
    for t in range(steps - 1, -1, -1):
        if in_blank:
            if t > 0 and k > 0 and blank_from[t, k] == 1:
                in_blank, c, k = False, int(blank_prev_class[t, k]), k - 1
            continue
        labels[k] = c
        confidences[k] = max(confidences[k], float(np.exp(log_probs[t, c])))
        if t == 0:
            break
        came = label_from[t, k, c]
        if came == 1:
            in_blank = True
        elif came == 2:
            c, k = int(label_prev_class[t, k, c]), k - 1
    return total, labels, confidences


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
    """

    def __init__(self, specs: Sequence[RegionSpec], alphabet: str, max_cost: float = DEFAULT_MAX_COST):
        self.specs = tuple(specs)
        self.alphabet = alphabet
        self.max_cost = max_cost

    @cached_property
    def _templates(self) -> list[tuple[RegionSpec, str, np.ndarray]]:
        out = []
        for spec in self.specs:
            for template in spec.templates:
                # The model reads multi-line plates line after line: fit the visual order.
                visual = "".join(spec.visual_lines(template))
                masks = _slot_masks(visual, spec.letters, self.alphabet)
                if masks is not None:
                    out.append((spec, visual, masks))
        return out

    def best_fit(self, probs: np.ndarray, lines: int | None = None) -> FormatFit | None:
        """The most probable format-fitting reading of one crop's T x C probabilities (None if no format
        can be fitted). ``lines`` limits the search to plate types with that many lines."""
        log_probs = np.log(np.maximum(probs, 1e-12))
        best: FormatFit | None = None
        for spec, template, masks in self._templates:
            if lines is not None and spec.count_lines != lines:
                continue
            log_prob, labels, confidences = constrained_best_path(log_probs, masks)
            if best is None or log_prob > best.log_prob:
                text = "".join(self.alphabet[c - 1] for c in labels)
                best = FormatFit(text, tuple(confidences), log_prob, spec, template)
        if best is None or not math.isfinite(best.log_prob):
            return None
        return best

    def _fits_as_read(self, text: str, lines: int | None) -> tuple[RegionSpec, str] | None:
        """The first (type, template) whose format the free reading already fits."""
        for spec, template, masks in self._templates:
            if (lines is None or spec.count_lines == lines) and len(template) == len(text) and all(
                    c in self.alphabet and masks[k, self.alphabet.index(c) + 1] for k, c in enumerate(text)):
                return spec, template
        return None

    def correct(self, probs: np.ndarray, lines: int | None = None,
                read: tuple[str, tuple[float, ...]] | None = None) -> tuple[FormatFit | None, bool]:
        """``(fit, accepted)``: the best format fit and whether it should replace the free reading.

        ``read`` is the free (greedy) reading and its confidences, when known: if it already fits a
        format it is the answer, since the free best path is then also the best fitting one, and the
        search is skipped (most plates: the search costs milliseconds, this check microseconds).
        """
        if read is not None:
            as_read = self._fits_as_read(read[0], lines)
            if as_read is not None:
                log_prob = free_best_path_log_prob(np.log(np.maximum(probs, 1e-12)))
                return FormatFit(read[0], tuple(read[1]), log_prob, as_read[0], as_read[1]), True
        fit = self.best_fit(probs, lines)
        if fit is None:
            return None, False
        free = free_best_path_log_prob(np.log(np.maximum(probs, 1e-12)))
        return fit, free - fit.log_prob <= self.max_cost
