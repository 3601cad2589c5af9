"""Plate quadrilaterals: corner order, polygons reduced to 4 corners, area and shape tests.

Coordinates are image pixels, x to the right, y down; a quad lists its corners clockwise (as seen on
screen) from the top-left corner of the plate: top-left, top-right, bottom-right, bottom-left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


def order_corners(points: Sequence[Sequence[float]]) -> Quad:
    """Order 4 points clockwise from the top-left corner of the plate.

    The points are first sorted by their angle around the centroid, which gives a simple (not
    self-crossing) clockwise cycle whatever order they were clicked in. The cycle is then rotated so
    that its first edge, taken together with the opposite edge (top edge left to right plus bottom edge
    left to right), points most nearly along +x. For a plate turned by less than 45 degrees either way,
    and for perspective views of such plates, this start is the top-left corner; unlike "the two
    topmost points", it still holds for a wide plate turned by 40 degrees, whose second-highest corner
    is the bottom-left one.

    Args:
        points: 4 ``(x, y)`` points in any order.

    Returns:
        The 4 points as float tuples: top-left, top-right, bottom-right, bottom-left.

    Raises:
        ValueError: not exactly 4 points of 2 numbers each.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape != (4, 2):
        raise ValueError(f"expected 4 points (x, y), got an array of shape {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError("corner coordinates must be finite numbers")
    centre = pts.mean(axis=0)
    # With y pointing down, increasing atan2 angle runs clockwise on screen.
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    cycle = pts[np.argsort(angles, kind="stable")]
    best, best_score = 0, -math.inf
    for start in range(4):
        p0, p1, p2, p3 = (cycle[(start + k) % 4] for k in range(4))
        axis = (p1 - p0) + (p2 - p3)  # top edge + bottom edge, both left to right if start is top-left
        norm = float(np.hypot(*axis))
        score = axis[0] / norm if norm > 0 else -math.inf
        if score > best_score + 1e-12:
            best, best_score = start, score
    ordered = [cycle[(best + k) % 4] for k in range(4)]
    return tuple((float(p[0]), float(p[1])) for p in ordered)  # type: ignore[return-value]


def quad_from_polygon(xs: Sequence[float], ys: Sequence[float]) -> Quad:
    """Reduce a labelled polygon to 4 ordered corners.

    Exactly 4 points are only put in order. More points (a plate outline clicked with extra points on
    its edges or rounded corners) are reduced to 4 with :func:`cv2.approxPolyDP` on their convex hull;
    when no tolerance gives exactly 4 vertices, the minimum-area rotated rectangle is used. 3 points
    give their minimum-area rectangle.

    Args:
        xs: x coordinates of the polygon's points.
        ys: y coordinates, as many as ``xs``.

    Returns:
        Top-left, top-right, bottom-right, bottom-left corners.

    Raises:
        ValueError: fewer than 3 points or lists of different lengths (callers turn this into an
            :class:`~numberplate.errors.InputError` naming their file).
    """
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x coordinates but {len(ys)} y coordinates")
    if len(xs) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(xs)}")
    pts = np.column_stack([np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)])
    if not np.isfinite(pts).all():
        raise ValueError("polygon coordinates must be finite numbers")
    if len(pts) == 4:
        return order_corners(pts)
    hull = cv2.convexHull(pts.astype(np.float32))
    if len(pts) > 4 and len(hull) >= 4:
        perimeter = cv2.arcLength(hull, True)
        for fraction in (0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2):
            approx = cv2.approxPolyDP(hull, fraction * perimeter, True)
            if len(approx) == 4:
                return order_corners(approx.reshape(4, 2))
            if len(approx) < 4:
                break
    return order_corners(cv2.boxPoints(cv2.minAreaRect(hull)))


def box_corners(x1: float, y1: float, x2: float, y2: float) -> Quad:
    """The 4 corners of an axis-aligned box, clockwise from the top-left."""
    return (float(x1), float(y1)), (float(x2), float(y1)), (float(x2), float(y2)), (float(x1), float(y2))


def is_axis_aligned_box(corners: Sequence[Sequence[float]], tolerance: float = 0.01) -> bool:
    """Whether 4 ordered corners form an axis-aligned rectangle (a box label, not true plate corners)."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ((float(p[0]), float(p[1])) for p in corners)
    return (abs(x0 - x3) <= tolerance and abs(x1 - x2) <= tolerance
            and abs(y0 - y1) <= tolerance and abs(y2 - y3) <= tolerance)


def quad_area(corners: Sequence[Sequence[float]]) -> float:
    """Area of a polygon in square pixels (shoelace formula; absolute value)."""
    pts = np.asarray(corners, dtype=np.float64)
    x, y = pts[:, 0], pts[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)
