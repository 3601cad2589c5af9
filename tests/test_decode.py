import numpy as np
import pytest

from numberplate.stages.recognize import ctc_greedy_decode, stretch_contrast

ALPHABET = "AB1"


def _probs(steps, confidence=0.9):
    """One-hot-ish probabilities over [blank, A, B, 1] for a list of class indexes."""
    probs = np.full((1, len(steps), 4), (1 - confidence) / 3, np.float32)
    for t, cls in enumerate(steps):
        probs[0, t, cls] = confidence
    return probs


def test_repeats_collapse_and_blanks_separate():
    # A A _ A B B _ 1 -> "AAB1"
    [(text, confs)] = ctc_greedy_decode(_probs([1, 1, 0, 1, 2, 2, 0, 3]), ALPHABET)
    assert text == "AAB1"
    assert len(confs) == 4 and all(c == pytest.approx(0.9) for c in confs)


def test_char_confidence_is_the_best_step():
    probs = _probs([2, 2, 0])
    probs[0, 1] = [0.05, 0.05, 0.85, 0.05]
    probs[0, 0] = [0.3, 0.1, 0.5, 0.1]
    [(text, confs)] = ctc_greedy_decode(probs, ALPHABET)
    assert text == "B" and confs == (pytest.approx(0.85),)


def test_mask_renormalises_over_allowed_classes():
    probs = np.array([[[0.1, 0.5, 0.0, 0.4]]], np.float32)  # "A" wins unmasked
    assert ctc_greedy_decode(probs, ALPHABET)[0][0] == "A"
    allowed = np.array([True, False, True, True])  # region without "A"
    text, confs = ctc_greedy_decode(probs, ALPHABET, allowed)[0]
    assert text == "1" and confs[0] == pytest.approx(0.8)


def test_all_blank_is_empty():
    assert ctc_greedy_decode(_probs([0, 0, 0]), ALPHABET) == [("", ())]


def test_lines_side_by_side_puts_the_lower_line_right_of_the_upper():
    from numberplate.stages.recognize import lines_side_by_side

    crop = np.zeros((40, 60, 3), np.uint8)
    crop[:20] = 50  # upper line area
    crop[20:] = 200  # lower line area
    one_line = lines_side_by_side(crop, 2)
    assert one_line.shape[1] == 120 and one_line.shape[0] < 40
    assert one_line[:, 5].mean() < 100 and one_line[:, 115].mean() > 150  # upper left, lower right
    assert lines_side_by_side(crop, 1) is crop
    assert lines_side_by_side(crop, 3).shape[1] == 180


def test_dim_crops_are_stretched_and_well_lit_ones_left_alone():
    rng = np.random.default_rng(0)
    dim = rng.integers(100, 131, (48, 128, 1)).astype(np.uint8)  # a night shot: 30 grey levels
    lit = rng.integers(0, 256, (48, 128, 1)).astype(np.uint8)
    out = stretch_contrast(np.stack([dim, lit]), 180)
    low, high = np.percentile(out[0], (1, 99))
    assert high - low == pytest.approx(180, abs=8) and (low + high) / 2 == pytest.approx(128, abs=8)
    assert np.array_equal(out[1], lit)
    # Order of grey levels is kept: a darker pixel stays darker.
    assert np.all(np.diff(out[0].ravel()[np.argsort(dim.ravel(), kind="stable")].astype(int)) >= 0)
    batch = np.stack([dim])
    assert stretch_contrast(batch, 0) is batch


def test_the_stretch_matches_its_plain_numpy_definition():
    # The shipped ocr-latin was trained with the np.percentile version; the histogram one must not drift.
    rng = np.random.default_rng(3)
    for _ in range(20):
        low = int(rng.integers(0, 200))
        batch = rng.integers(low, low + int(rng.integers(1, 256 - low)), (4, 16, 40, 1)).astype(np.uint8)
        flat = batch.reshape(4, -1)
        p1, p99 = np.percentile(flat, (1, 99), axis=1)
        dim = (p99 - p1) < 180
        expected = flat.copy()
        stretched = (flat[dim].astype(np.float32) - p1[dim, None]) * (180 / np.maximum(p99 - p1, 1.0)[dim])[:, None]
        expected[dim] = np.clip(stretched + 38, 0, 255).astype(np.uint8)
        assert np.array_equal(stretch_contrast(batch, 180).reshape(4, -1), expected)
