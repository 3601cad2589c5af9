"""Rectification stage: warp each plate by its 4 corners into an upright crop for the classifier and OCR.

The crop keeps a small margin around the plate, like the crops the recognizer was trained on, and keeps
every text line (two- and three-line plates stay whole; the classifier decides how to read them). When
the corners are implausible (self-crossing, collapsed, far from the box) the plate is cut by its box
and deskewed from the image content instead.
"""

from __future__ import annotations

import cv2
import numpy as np

from numberplate.types import Detection

#: Margins added around the plate, as fractions of its width (x) and height (y). The detector's corners
#: tend to sit a little inside the plate; these margins keep edge characters whole, and little else: more
#: margin is more of the car's graphics read as characters and smaller text once resized. Chosen by
#: end-to-end accuracy (`numberplate eval read`, shipped models of 2026-11-29, refined corners) on the
#: photo sets endtoend/us, endtoend/br (region given / classifier) and the synthetic scenes
#: work/scenes-dev/val: 0.08/0.15 read 83.3/82.4, 93.0/91.2, 61.2%; 0.06/0.12 85.1/84.2, 96.5/96.5,
#: 62.8%; 0.05/0.12 85.1/83.8, 96.5/93.9, 62.0%; 0.04/0.10 84.2/83.8, 93.9/91.2, 62.0%.
MARGIN_X = 0.06
MARGIN_Y = 0.12


def _edge(a, b) -> float:
    return float(np.hypot(b[0] - a[0], b[1] - a[1]))


def _outlined_size(corners: np.ndarray) -> tuple[float, float]:
    """Width and height of the plate its 4 corners outline: the mean of opposite sides."""
    width = 0.5 * (_edge(corners[0], corners[1]) + _edge(corners[3], corners[2]))
    height = 0.5 * (_edge(corners[0], corners[3]) + _edge(corners[1], corners[2]))
    return width, height


def plate_aspect(detection: Detection) -> float | None:
    """Width over height of the plate as its corners outline it; None when the corners are not plausible
    (the crop then falls back to the box, whose shape says little)."""
    corners = np.asarray(detection.corners, np.float32)
    if not corners_plausible(corners):
        return None
    width, height = _outlined_size(corners)
    return width / height


def turn_points(points, matrix: np.ndarray) -> np.ndarray:
    """Points (N x 2) mapped by a 2 x 3 affine ``matrix`` (a turn from ``cv2.getRotationMatrix2D``, say)."""
    matrix = np.asarray(matrix, np.float64)
    return np.asarray(points, np.float64) @ matrix[:, :2].T + matrix[:, 2]


def plate_tilt(corners) -> float:
    """Degrees the plate's top and bottom edges run below level, left to right (clockwise on screen)."""
    corners = np.asarray(corners, np.float64)
    run = corners[1] - corners[0] + corners[2] - corners[3]
    return float(np.degrees(np.arctan2(run[1], run[0])))


def corners_plausible(corners: np.ndarray) -> bool:
    """Convex, clockwise, no collapsed side, and filling a fair part of its own box (in its level frame)."""
    if corners.shape != (4, 2) or not np.isfinite(corners).all():
        return False
    cross = []
    for i in range(4):
        a, b, c = corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]
        cross.append((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]))
    if not all(v > 0 for v in cross):  # clockwise in image coordinates (y down) means positive turns
        return False
    sides = [_edge(corners[i], corners[(i + 1) % 4]) for i in range(4)]
    if min(sides) < 2:
        return False
    # The box is taken in the plate's own level frame (turned by the slope of its top and bottom edges): a
    # long plate tilted 30 degrees fills only ~0.3 of its photo box, yet is a sound quadrilateral.
    angle = np.radians(plate_tilt(corners))
    turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]], np.float32)
    level = (corners - corners.mean(axis=0)) @ turn.T
    box_w, box_h = np.ptp(level[:, 0]), np.ptp(level[:, 1])
    area = cv2.contourArea(corners.astype(np.float32))
    return area >= 0.35 * box_w * box_h


def rectify(image: np.ndarray, detection: Detection, out_height: int | None = None) -> np.ndarray:
    """The upright crop of one plate (RGB uint8).

    Args:
        image: the photo, RGB uint8.
        detection: the plate's corners and box.
        out_height: height of the crop (default: the plate's own height in the photo, at least 16 px).
    """
    corners = np.asarray(detection.corners, np.float32)
    if not corners_plausible(corners):
        return box_crop(image, detection.box)
    width, height = _outlined_size(corners)
    if out_height:
        scale = out_height / max(height * (1 + 2 * MARGIN_Y), 1.0)
        width, height = width * scale, height * scale
    elif height < 16:  # upsample tiny plates a little: the recognizer resizes anyway, warping once is better
        width, height = width * 16 / max(height, 1.0), 16.0
    mx, my = width * MARGIN_X, height * MARGIN_Y
    out_w, out_h = max(8, int(round(width + 2 * mx))), max(8, int(round(height + 2 * my)))
    target = np.array([[mx, my], [mx + width, my], [mx + width, my + height], [mx, my + height]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    return cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def box_crop(image: np.ndarray, box, deskew: bool = True) -> np.ndarray:
    """Cut ``box`` (with margins) out of ``image``; optionally undo a small tilt found in the content."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * MARGIN_X, (y2 - y1) * MARGIN_Y
    x1, y1 = int(max(0, np.floor(x1 - mx))), int(max(0, np.floor(y1 - my)))
    x2, y2 = int(min(w, np.ceil(x2 + mx))), int(min(h, np.ceil(y2 + my)))
    crop = image[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)]
    if not deskew or crop.shape[0] < 8 or crop.shape[1] < 16:
        return crop.copy()
    angle = skew_angle(crop)
    if abs(angle) < 1.0:
        return crop.copy()
    ch, cw = crop.shape[:2]
    matrix = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, 1.0)
    return cv2.warpAffine(crop, matrix, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def skew_angle(crop: np.ndarray, max_angle: float = 20.0) -> float:
    """Tilt of the text lines in degrees (positive = counter-clockwise), from near-horizontal edges."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, 60, 160)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=max(10, crop.shape[1] // 4),
                            minLineLength=crop.shape[1] // 3, maxLineGap=4)
    if lines is None:
        return 0.0
    angles, lengths = [], []
    for x1, y1, x2, y2 in lines.reshape(-1, 4):
        angle = np.degrees(np.arctan2(y2 - y1, x2 - x1))
        if abs(angle) <= max_angle:
            angles.append(angle)
            lengths.append(np.hypot(x2 - x1, y2 - y1))
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cumulative = np.cumsum(np.asarray(lengths)[order])
    median = float(np.asarray(angles)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])
    return median  # cv2 rotates counter-clockwise for positive angles; image y points down
