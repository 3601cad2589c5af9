"""Format-aware correction: the constrained CTC search against brute force, and its effect on readings."""

import itertools
import math

import numpy as np
import pytest

from numberplate.regions import resolve
from numberplate.stages.postprocess import FormatCorrector, constrained_best_path
from numberplate.stages.recognize import ctc_greedy_decode

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _collapse(path):
    out, previous = [], 0
    for label in path:
        if label != 0 and label != previous:
            out.append(label)
        previous = label
    return out


@pytest.mark.parametrize("seed", range(40))
def test_constrained_best_path_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    steps, classes, length = int(rng.integers(2, 6)), 4, int(rng.integers(1, 4))
    log_probs = np.log(rng.dirichlet(np.ones(classes) * 0.5, size=steps))
    masks = rng.random((length, classes)) < 0.6
    masks[:, 0] = False
    for k in range(length):
        if not masks[k].any():
            masks[k, 1 + k % (classes - 1)] = True
    best, best_labels = -math.inf, None
    for path in itertools.product(range(classes), repeat=steps):
        labels = _collapse(path)
        if len(labels) == length and all(masks[k, c] for k, c in enumerate(labels)):
            score = sum(log_probs[t, c] for t, c in enumerate(path))
            if score > best:
                best, best_labels = score, labels
    score, labels, confidences = constrained_best_path(log_probs, masks)
    if best_labels is None:
        assert score == -math.inf
    else:
        assert score == pytest.approx(best)
        assert labels == best_labels
        assert len(confidences) == length and all(0 < c <= 1 for c in confidences)


def _frames(text_probs, alphabet=ALPHABET):
    """CTC frames: for each (char -> prob) dict one label frame then one blank frame."""
    frames = []
    for options in text_probs:
        frame = np.full(len(alphabet) + 1, 1e-4)
        for char, p in options.items():
            frame[alphabet.index(char) + 1] = p
        frame[0] = max(1e-4, 1 - sum(options.values()))
        frames.append(frame / frame.sum())
        blank = np.full(len(alphabet) + 1, 1e-4)
        blank[0] = 1.0
        frames.append(blank / blank.sum())
    return np.array(frames)


def test_letter_read_where_the_format_wants_a_digit_is_repaired():
    # BR old format LLL####: the model prefers "B" in the first digit position.
    chars = [{"A": .9}, {"B": .9}, {"C": .9}, {"B": .6, "8": .35}, {"1": .9}, {"2": .9}, {"3": .9}]
    probs = _frames(chars)
    assert ctc_greedy_decode(probs[None], ALPHABET)[0][0] == "ABCB123"
    fit, accepted = FormatCorrector(resolve("br"), ALPHABET).correct(probs)
    assert accepted and fit.text == "ABC8123"
    assert fit.spec.country == "br"
    assert fit.char_confidences[3] == pytest.approx(0.35, abs=0.01)


def test_brazilian_o_and_zero_are_one_glyph_where_the_format_decides():
    # Grey Brazilian plates draw O and 0 alike: a sure "0" where a letter is due is an O, at no cost...
    chars = [{"0": .99}, {"D": .99}, {"J": .99}, {"1": .99}, {"5": .99}, {"O": .99}, {"9": .99}]
    probs = _frames(chars)
    text, confs = ctc_greedy_decode(probs[None], ALPHABET)[0]
    for read in (None, (text, confs)):
        fit, accepted = FormatCorrector(resolve("br"), ALPHABET).correct(probs, read=read)
        assert accepted and fit.text == "ODJ1509" and fit.spec.code in ("br", "br-red")
    # ... while American plates, whose letter O and digit 0 differ, keep what was read (a Maryland #LL####).
    fit, accepted = FormatCorrector(resolve("us"), ALPHABET).correct(probs, read=(text, confs))
    assert not accepted and fit.text != "ODJ1509"  # 0DJ15O9 fits no US format; the O/0 swap is not free there


def test_russian_o_and_zero_follow_the_format_and_an_exact_fit_comes_first():
    # A sure "0" where a Russian type-1 plate has a letter (T411OC174, read from a photo) is the letter O...
    chars = [{"T": .99}, {"4": .99}, {"1": .99}, {"1": .99}, {"0": .99}, {"C": .99}, {"1": .99}, {"7": .99},
             {"4": .99}]
    probs = _frames(chars)
    text, confs = ctc_greedy_decode(probs[None], ALPHABET)[0]
    fit, accepted = FormatCorrector(resolve("ru"), ALPHABET).correct(probs, read=(text, confs))
    assert accepted and fit.text == "T411OC174" and fit.spec.code == "ru"
    # ... but a reading that fits one type as it stands is that type, not another one reached through the twin:
    # 0857HM84 is a military plate (####LL##), not the type-1 O857HM84.
    chars = [{c: .99} for c in "0857HM84"]
    probs = _frames(chars)
    text, confs = ctc_greedy_decode(probs[None], ALPHABET)[0]
    fit, accepted = FormatCorrector(resolve("ru"), ALPHABET).correct(probs, read=(text, confs))
    assert accepted and fit.text == "0857HM84" and fit.spec.code == "ru-military"
    # Unless the classifier called the plate a civil one (a white O296BB97 read with a 0): its type wins.
    fit, accepted = FormatCorrector(resolve("ru"), ALPHABET).correct(probs, read=(text, confs), prefer_type="ru")
    assert accepted and fit.text == "O857HM84" and fit.spec.code == "ru"
    # A military plate classified so, or a type with no fit, leaves the reading as it stands.
    for prefer in ("ru-military", "ru-taxi", "de"):
        fit, _ = FormatCorrector(resolve("ru"), ALPHABET).correct(probs, read=(text, confs), prefer_type=prefer)
        assert fit.text == "0857HM84" and fit.spec.code == "ru-military"


def test_a_digit_read_as_its_letter_lookalike_is_repaired_beyond_the_plain_budget():
    # Missouri LL#L#L read "MHGV4L": the 6 is read as G with 0.97 (about 3.9 nats: over the plain budget of 3).
    chars = [{"M": .99}, {"H": .99}, {"G": .97, "6": .02}, {"V": .99}, {"4": .99}, {"L": .99}]
    probs = _frames(chars)
    read = ctc_greedy_decode(probs[None], ALPHABET)[0]
    assert read[0] == "MHGV4L"
    fit, accepted = FormatCorrector(resolve("us"), ALPHABET, lookalike_cost=None).correct(probs, read=read)
    assert not accepted
    fit, accepted = FormatCorrector(resolve("us"), ALPHABET).correct(probs, read=read)
    assert accepted and fit.text == "MH6V4L"
    assert fit.char_confidences[2] == pytest.approx(0.02, abs=0.005)


def test_lookalike_swaps_go_only_from_letter_to_digit_and_within_their_budget():
    corrector = FormatCorrector(resolve("us"), ALPHABET)
    # A digit where a letter is due stays a digit: "M86V4L" is not made "MB6V4L".
    chars = [{"M": .99}, {"8": .97, "B": .02}, {"6": .99}, {"V": .99}, {"4": .99}, {"L": .99}]
    probs = _frames(chars)
    fit, accepted = corrector.correct(probs, read=ctc_greedy_decode(probs[None], ALPHABET)[0])
    assert not accepted
    assert corrector.lookalike_fit(probs, "M86V4L") is None
    # A sure letter (G at 0.9997 against 6 at 0.0001: 9 nats) is not swapped either.
    chars = [{"M": .99}, {"H": .99}, {"G": .9997}, {"V": .99}, {"4": .99}, {"L": .99}]
    probs = _frames(chars)
    fit, accepted = corrector.correct(probs, read=ctc_greedy_decode(probs[None], ALPHABET)[0])
    assert not accepted


def test_confident_reading_outside_every_format_is_kept():
    # Two characters too few for BR and both confident: forcing a format would invent characters.
    probs = _frames([{"A": .99}, {"B": .99}, {"1": .99}, {"2": .99}, {"3": .99}])
    fit, accepted = FormatCorrector(resolve("br"), ALPHABET).correct(probs)
    assert not accepted


def test_too_short_for_a_template_gives_no_fit():
    probs = _frames([{"A": .99}])[:1]  # one frame cannot hold 7 characters
    assert FormatCorrector(resolve("br"), ALPHABET).best_fit(probs) is None


def test_a_reading_that_already_fits_is_taken_without_search_and_agrees_with_it():
    chars = [{"A": .9}, {"B": .9}, {"C": .9}, {"0": .6, "O": .35}, {"1": .9}, {"2": .9}, {"3": .9}]
    probs = _frames(chars)
    text, confs = ctc_greedy_decode(probs[None], ALPHABET)[0]
    corrector = FormatCorrector(resolve("br"), ALPHABET)
    quick, accepted = corrector.correct(probs, read=(text, confs))
    searched = corrector.best_fit(probs)
    assert accepted and quick.text == searched.text == "ABC0123"
    assert quick.log_prob == pytest.approx(searched.log_prob)


@pytest.mark.parametrize("seed", range(5))
def test_all_templates_searched_together_agree_with_one_at_a_time(seed):
    from numberplate.stages.postprocess import _slot_masks

    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(len(ALPHABET) + 1) * 0.2, size=24)
    specs = resolve("us")  # nine templates of lengths 6 and 7
    corrector = FormatCorrector(specs, ALPHABET)
    log_probs = np.log(np.maximum(probs, 1e-12))
    singles = []
    for spec in specs:
        for template in spec.templates:
            score, labels, _ = constrained_best_path(log_probs, _slot_masks(template, spec.letters, ALPHABET))
            singles.append((score, "".join(ALPHABET[c - 1] for c in labels)))
    fit = corrector.best_fit(probs)
    best_score, best_text = max(singles)
    assert fit.log_prob == pytest.approx(best_score) and fit.text == best_text


def test_a_russian_region_code_no_region_has_is_read_as_one_that_exists():
    # Three-digit region codes are 1xx or one of the few 7xx / 9xx issued (PLATES.md 1.3): a "4" half-read before
    # "79" is the 1 of 179...
    chars = [{c: .99} for c in "A123BC"] + [{"4": .55, "1": .4}, {"7": .99}, {"9": .99}]
    probs = _frames(chars)
    text, confs = ctc_greedy_decode(probs[None], ALPHABET)[0]
    assert text == "A123BC479"
    fit, accepted = FormatCorrector(resolve("ru"), ALPHABET).correct(probs, read=(text, confs))
    assert accepted and fit.text == "A123BC179"
    # ... a third digit half-seen after 98 (the flag beside the box) is no digit: there is no region 984...
    chars = [{c: .99} for c in "M586EE98"] + [{"4": .6}]
    probs = _frames(chars)
    fit, accepted = FormatCorrector(resolve("ru"), ALPHABET).correct(probs, read=ctc_greedy_decode(probs[None],
                                                                                                   ALPHABET)[0])
    assert accepted and fit.text == "M586EE98"
    # ... and a code that exists is kept as read.
    chars = [{c: .99} for c in "A123BC"] + [{"7": .55, "1": .4}, {"9": .99}, {"9": .99}]
    probs = _frames(chars)
    fit, accepted = FormatCorrector(resolve("ru"), ALPHABET).correct(probs, read=ctc_greedy_decode(probs[None],
                                                                                                   ALPHABET)[0])
    assert accepted and fit.text == "A123BC799"


def test_a_kazakh_region_codes_zero_read_as_the_letter_o_is_the_digit():
    # The region code 01 fits the literal 0 of the template `###LLL0#`; the plate draws O and 0 alike.
    chars = [{c: .99} for c in "OO5AAAO1"]
    probs = _frames(chars)
    fit, accepted = FormatCorrector(resolve("kz"), ALPHABET).correct(probs, read=ctc_greedy_decode(probs[None],
                                                                                                   ALPHABET)[0])
    assert accepted and fit.text == "005AAA01"
