"""Corner refinement stage: re-locate each detected plate's corners in a window around it (ONNX Runtime).

The window is the detection box padded by a share of its width and height (the detector's corners can be
off by ~10% of the width, mostly up and down), stretched to the refiner's input size. Training
(``numberplate/train/refine.py``) cuts its windows with the same functions, from jittered true corners.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from numberplate.stages.detect import to_network_input
from numberplate.stages.rectify import plate_tilt, turn_points
from numberplate.types import Detection

DEFAULT_REFINER = "refiner-plates"


@dataclass(frozen=True)
class WindowPadding:
    """How far the window reaches beyond the box: ``x`` of the box width each side; ``y_height`` of the box
    height plus ``y_width`` of the box width above and below; plus ``pixels`` everywhere."""

    x: float = 0.12
    y_height: float = 0.3
    y_width: float = 0.06
    pixels: float = 2.0


def corner_window(box, padding: WindowPadding = WindowPadding()) -> tuple[float, float, float, float]:
    """The window ``(x1, y1, x2, y2)`` the refiner looks at for a plate found at ``box``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    pad_x = padding.x * w + padding.pixels
    pad_y = padding.y_height * h + padding.y_width * w + padding.pixels
    return x1 - pad_x, y1 - pad_y, x2 + pad_x, y2 + pad_y


def window_crop(image: np.ndarray, window, width: int, height: int, turn: np.ndarray | None = None) -> np.ndarray:
    """The window of ``image`` stretched to ``height x width`` (grey 114 beyond the photo's edges).

    ``turn``: a 2 x 3 affine map from photo pixels into a turned frame (:func:`level_turn`); the window is then
    taken in that frame (the photo turned about the plate, so a tilted plate lies level in the window).
    """
    x1, y1, x2, y2 = window
    sx, sy = width / max(x2 - x1, 1e-6), height / max(y2 - y1, 1e-6)
    # Only the window's pixels (plus a row and column for interpolation) are touched, not the photo.
    h, w = image.shape[:2]
    matrix = np.array([[sx, 0.0, -x1 * sx], [0.0, sy, -y1 * sy]], np.float64)
    reach = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64)
    if turn is not None:
        matrix = matrix @ np.vstack([turn, [0.0, 0.0, 1.0]])
        back = cv2.invertAffineTransform(turn)
        reach = turn_points(reach, back)  # the photo pixels the turned window sees
    left, top = max(int(np.floor(reach[:, 0].min())) - 1, 0), max(int(np.floor(reach[:, 1].min())) - 1, 0)
    right, bottom = min(int(np.ceil(reach[:, 0].max())) + 2, w), min(int(np.ceil(reach[:, 1].max())) + 2, h)
    if right <= left or bottom <= top:  # the window lies wholly outside the photo
        return np.full((height, width, 3), 114, np.uint8)
    source = image[top:bottom, left:right]
    # Shrinking a big plate into the window: smooth first so thin strokes do not alias.
    shrink = 1.0 / min(sx, sy)
    if shrink > 2.0:
        source = cv2.GaussianBlur(source, (0, 0), 0.5 * shrink)
    matrix[:, 2] += matrix[:, :2] @ np.array([left, top], np.float64)  # from the cut-out's pixels
    return cv2.warpAffine(source, matrix.astype(np.float32), (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(114, 114, 114))


def level_turn(corners) -> np.ndarray:
    """2 x 3 affine map turning the photo about the plate's centre so that its edges lie level."""
    centre = np.asarray(corners, np.float64).mean(axis=0)
    return cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), plate_tilt(corners), 1.0)


def to_window_units(points, window) -> np.ndarray:
    """Pixel points (N x 2) -> window units (0..1 inside the window)."""
    x1, y1, x2, y2 = window
    points = np.asarray(points, np.float32)
    return (points - [x1, y1]) / [max(x2 - x1, 1e-6), max(y2 - y1, 1e-6)]


def from_window_units(units, window) -> np.ndarray:
    """Window units (N x 2) -> pixel points."""
    x1, y1, x2, y2 = window
    return np.asarray(units, np.float32) * [x2 - x1, y2 - y1] + [x1, y1]


def _box_of(corners, turn: np.ndarray) -> tuple[float, float, float, float]:
    """The bounding box of ``corners`` mapped by ``turn``."""
    points = turn_points(corners, turn)
    return (*points.min(axis=0), *points.max(axis=0))


class Refiner:
    """Re-locates the corners of detected plates.

    Args:
        model: shipped model name or path of an ``.onnx`` file with its card.
        threads: ONNX Runtime threads (None = all cores).
        max_shift: a refined corner that moves further than this share of the plate width from the
            detector's is not trusted; that plate keeps the detector's corners.
        level_beyond: a plate whose detected edges run more than this many degrees off level is turned
            level (with the photo about it) before the refiner looks at it, and its corners turned back.
    """

    def __init__(self, model: str = DEFAULT_REFINER, threads: int | None = None, max_shift: float = 0.35,
                 level_beyond: float = 8.0):
        from numberplate.runtime import load_model

        self.model = load_model(model, task="refine", threads=threads)
        card = self.model.card
        self.width, self.height = int(card["input"]["width"]), int(card["input"]["height"])
        self.padding = WindowPadding(**card["input"].get("window", {}))
        self.max_shift = max_shift
        self.level_beyond = level_beyond

    def __call__(self, image: np.ndarray, detections: list[Detection]) -> list[Detection]:
        """The same detections with refined corners (and boxes: the corners' bounding box)."""
        if not detections:
            return []
        # A steep plate is looked at turned level (the refiner learnt nearly level plates): its window is taken
        # in the turned photo and the corners found there are turned back.
        turns = [level_turn(d.corners) if abs(plate_tilt(d.corners)) > self.level_beyond else None
                 for d in detections]
        windows = [corner_window(_box_of(d.corners, turn) if turn is not None else d.box, self.padding)
                   for d, turn in zip(detections, turns)]
        crops = [window_crop(image, w, self.width, self.height, turn) for w, turn in zip(windows, turns)]
        units = self.model.run(to_network_input(crops)).reshape(-1, 4, 2)
        h, w = image.shape[:2]
        refined = []
        for detection, window, turn, corners in zip(detections, windows, turns, units):
            quad = from_window_units(corners, window)
            if turn is not None:
                quad = turn_points(quad, cv2.invertAffineTransform(turn)).astype(np.float32)
            old = np.asarray(detection.corners, np.float32)
            width = max(float(np.linalg.norm(old[1] - old[0])), 1.0)
            if not np.all(np.isfinite(quad)) or np.linalg.norm(quad - old, axis=1).max() > self.max_shift * width:
                refined.append(detection)
                continue
            quad[:, 0] = quad[:, 0].clip(0, w - 1)
            quad[:, 1] = quad[:, 1].clip(0, h - 1)
            box = (float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max()))
            refined.append(replace(detection, box=box, corners=tuple((float(x), float(y)) for x, y in quad)))
        return refined
