"""Detector targets and decoding agree; rectification flattens plates; scenes carry exact corners."""

import cv2
import numpy as np
import pytest

from numberplate.stages.detect import CORNER_SCALE, STRIDE, Letterbox, decode, letterbox
from numberplate.stages.rectify import box_crop, corners_plausible, rectify, skew_angle
from numberplate.types import Detection


def _perfect_outputs(quads, size):
    """What a perfect network would output: the training targets themselves."""
    pytest.importorskip("torch")
    from numberplate.train.detect import make_targets

    targets = make_targets([np.asarray(q, np.float32) for q in quads], [0] * len(quads), [1.0] * len(quads), size, 1,
                           min_plate=6)
    return targets["heat"], targets["corners"]


def test_decoding_the_training_targets_gives_back_the_corners():
    quads = [[(100, 50), (220, 60), (218, 90), (98, 80)], [(300, 200), (380, 200), (380, 260), (300, 260)]]
    heat, corners = _perfect_outputs(quads, (512, 320))
    detections = decode(heat, corners, Letterbox(1.0, 512, 320), ["numberplate"], threshold=0.5)
    assert len(detections) == 2
    for quad in quads:
        best = min(detections, key=lambda d: np.abs(np.array(d.corners) - quad).max())
        assert np.abs(np.array(best.corners) - np.array(quad)).max() < 0.01
        assert best.box == pytest.approx((min(x for x, _ in quad), min(y for _, y in quad),
                                          max(x for x, _ in quad), max(y for _, y in quad)))


def test_decode_maps_back_through_the_letterbox_scale():
    quad = [(40, 40), (120, 40), (120, 64), (40, 64)]
    heat, corners = _perfect_outputs([quad], (256, 128))
    (detection,) = decode(heat, corners, Letterbox(0.5, 256, 128), ["plate"], threshold=0.5)
    assert detection.label == "plate"
    assert np.allclose(detection.corners, np.array(quad) * 2, atol=0.05)


def test_decode_finds_nothing_on_an_empty_heat_map():
    heat = np.zeros((1, 40, 60), np.float32)
    assert decode(heat, np.zeros((8, 40, 60), np.float32), Letterbox(1.0, 240, 160), ["numberplate"]) == []


def test_tiny_objects_are_ignored_not_negative():
    pytest.importorskip("torch")
    from numberplate.train.detect import make_targets

    tiny = np.array([(100, 100), (103, 100), (103, 102), (100, 102)], np.float32)
    targets = make_targets([tiny], [0], [1.0], (256, 256), 1, min_plate=6)
    assert targets["heat"].max() == 0
    assert targets["heat_weight"][25, 25] == 0 and targets["heat_weight"][0, 0] == 1


def test_corner_targets_are_in_units_of_the_scaled_stride():
    pytest.importorskip("torch")
    from numberplate.train.detect import make_targets

    quad = np.array([(64, 64), (192, 64), (192, 96), (64, 96)], np.float32)
    targets = make_targets([quad], [0], [1.0], (256, 256), 1, min_plate=6)
    cy, cx = np.unravel_index(targets["heat"][0].argmax(), targets["heat"][0].shape)
    cell = np.array([(cx + 0.5) * STRIDE, (cy + 0.5) * STRIDE])
    assert np.allclose(targets["corners"][:, cy, cx].reshape(4, 2) * STRIDE * CORNER_SCALE + cell, quad)


def test_letterbox_keeps_aspect_and_pads_to_32():
    image = np.zeros((720, 1280, 3), np.uint8)
    out, transform = letterbox(image, 640)
    assert out.shape == (384, 640, 3) and transform.scale == 0.5
    assert (out[360:] == 114).all()


def _plate_photo():
    """A white plate with black bars, seen in perspective on a grey photo; returns photo and corners."""
    plate = np.full((100, 460, 3), 255, np.uint8)
    for x in range(40, 420, 60):
        cv2.rectangle(plate, (x, 20), (x + 30, 80), (0, 0, 0), -1)
    corners = np.array([[200, 150], [600, 180], [590, 270], [205, 250]], np.float32)
    matrix = cv2.getPerspectiveTransform(np.array([[0, 0], [460, 0], [460, 100], [0, 100]], np.float32), corners)
    photo = np.full((480, 800, 3), 170, np.uint8)
    mask = cv2.warpPerspective(np.full((100, 460), 255, np.uint8), matrix, (800, 480))
    warped = cv2.warpPerspective(plate, matrix, (800, 480))
    photo[mask > 128] = warped[mask > 128]
    return photo, corners


def test_rectify_flattens_a_plate_seen_in_perspective():
    photo, corners = _plate_photo()
    detection = Detection((200, 150, 600, 270), tuple(map(tuple, corners.tolist())), 0.9)
    crop = rectify(photo, detection, out_height=64)
    assert crop.shape[0] == 64 and 3.0 < crop.shape[1] / crop.shape[0] < 5.5
    grey = crop.mean(axis=2)
    # The bars are upright after flattening: a middle row crosses all 7, the margins stay plate/photo.
    row = grey[crop.shape[0] // 2] < 128
    assert np.count_nonzero(np.diff(row.astype(int)) == 1) == 7


def test_implausible_corners_fall_back_to_the_box():
    photo, _ = _plate_photo()
    crossed = ((200, 150), (590, 270), (600, 180), (205, 250))  # self-intersecting
    assert not corners_plausible(np.array(crossed, np.float32))
    crop = rectify(photo, Detection((200, 150, 600, 270), crossed, 0.9))
    expected = box_crop(photo, (200, 150, 600, 270))
    assert crop.shape == expected.shape


def test_corners_of_a_steeply_tilted_plate_are_plausible():
    # A 520 x 110 plate turned 35 degrees fills 0.3 of its photo box: still a sound plate to warp by.
    plate = np.array([[-260, -55], [260, -55], [260, 55], [-260, 55]], np.float32)
    for degrees in (-40, -35, 0, 35, 40):
        a = np.radians(degrees)
        turned = plate @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32).T + 400
        assert corners_plausible(turned), degrees
    sheared = np.array([[100, 100], [300, 100], [900, 140], [700, 140]], np.float32)  # a sliver, sheared flat
    assert not corners_plausible(sheared)


def test_plate_aspect_is_the_width_over_height_its_corners_outline():
    from numberplate.stages.rectify import plate_aspect

    upright = ((100, 50), (400, 50), (400, 150), (100, 150))
    assert plate_aspect(Detection((100, 50, 400, 150), upright, 0.9)) == pytest.approx(3.0)
    crossed = ((200, 150), (590, 270), (600, 180), (205, 250))
    assert plate_aspect(Detection((200, 150, 600, 270), crossed, 0.9)) is None  # the box's shape says little


def test_skew_angle_measures_a_tilted_line():
    crop = np.full((60, 240, 3), 255, np.uint8)
    cv2.line(crop, (10, 20), (230, 20 + int(220 * np.tan(np.radians(8)))), (0, 0, 0), 3)
    assert skew_angle(crop) == pytest.approx(8, abs=1.5)
