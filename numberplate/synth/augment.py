"""Camera and capture effects: from a flat rendered plate to a crop like the ones a detector cuts out.

Order matters and follows the physics: scene (background, frame) -> perspective -> crop box ->
optics (blur) -> sensor (down-scaling, noise, colour) -> encoder (JPEG).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from numberplate.synth.render import RenderedPlate

# A crop whose every character keeps this much (grey levels, between its strokes and the plate around
# them), this tall (pixels, at the coarsest resolution the capture passed through) and inside the crop is
# one a person can read; the OCR sets draw another crop otherwise (see :func:`Legibility.readable`).
# Set by eye on galleries of captured US/BR/AR plates: below 6 pixels characters are guesses, and a contrast
# under 10 is a character lost in glare, shadow or a dark frame.
MIN_GLYPH_CONTRAST = 10.0
MIN_GLYPH_HEIGHT = 6.0


@dataclass(frozen=True)
class Legibility:
    """How well the worst character of a captured plate survived the camera.

    Attributes:
        contrast: the lowest, over characters, grey-level difference between the character's strokes and the
            plate around them in the final crop (blur, glare, shadow, dirt, low contrast and noise all lower it).
        height: the smallest character height in pixels at the coarsest resolution the crop went through,
            counting blur as a coarser resolution.
        inside: every character lies wholly inside the crop (none cut off by its edges).
    """

    contrast: float
    height: float
    inside: bool

    def readable(self, min_contrast: float = MIN_GLYPH_CONTRAST, min_height: float = MIN_GLYPH_HEIGHT) -> bool:
        return self.inside and self.contrast >= min_contrast and self.height >= min_height


def _glyph_boxes(ink: np.ndarray) -> np.ndarray:
    """Boxes (N x 4: x0, y0, x1, y1) of the characters in an ink mask; separators (dashes, dots) and specks
    of anti-aliasing, much shorter than the characters, are dropped."""
    _, _, stats, _ = cv2.connectedComponentsWithStats((ink > 127).astype(np.uint8), connectivity=8)
    stats = stats[1:]
    if not len(stats):
        return np.zeros((0, 4), np.float32)
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    keep = stats[heights >= 0.6 * heights.max()]
    x, y, w, h = (keep[:, k].astype(np.float32) for k in
                  (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    return np.stack([x, y, x + w, y + h], axis=1)


def blur_pixel_size(motion_length: float, gaussian_sigma: float) -> float:
    """The pixel size (output pixels) that costs a character as much legibility as a blur does; 0 without
    blur. A Gaussian of sigma s smears about as far as a streak 3.3 s long (equal contrast at half the
    resolving frequency). Set by eye on galleries of blurred US/BR/AR crops: a character stays readable
    down to about three streak lengths tall, against six pixels unblurred, so a streak counts half its length.
    """
    return 0.5 * float(np.hypot(motion_length, 3.3 * gaussian_sigma))


def measure_legibility(crop: np.ndarray, ink: np.ndarray, boxes: np.ndarray, detail_scale: float,
                       blur_pixel: float = 0.0) -> Legibility:
    """Judge the characters of a final crop.

    Args:
        crop: the final crop, H x W x 3 uint8.
        ink: H x W float32 in [0, 1], the characters' strokes carried through the same geometry.
        boxes: N x 4 character boxes (x0, y0, x1, y1) in crop pixels.
        detail_scale: the coarsest scale the crop went through relative to its final size (< 1 when it was
            shrunk below the final size and enlarged again: its characters hold that much less detail).
        blur_pixel: the blur of the crop as a pixel size (:func:`blur_pixel_size`); blur and a coarse
            resolution add up like independent filters (their widths in quadrature).
    """
    if not len(boxes):
        return Legibility(0.0, 0.0, False)
    h, w = crop.shape[:2]
    grey = crop.astype(np.float32).mean(axis=2)
    inside = bool(np.all(boxes[:, 0] >= -1) and np.all(boxes[:, 1] >= -1)
                  and np.all(boxes[:, 2] <= w + 1) and np.all(boxes[:, 3] <= h + 1))
    effective_pixel = float(np.hypot(1.0 / detail_scale, blur_pixel))
    contrasts, heights = [], []
    for x0, y0, x1, y1 in boxes:
        heights.append((y1 - y0) / effective_pixel)
        pad = max(1.0, 0.15 * (y1 - y0))
        xa, ya = int(np.clip(np.floor(x0 - pad), 0, w)), int(np.clip(np.floor(y0 - pad), 0, h))
        xb, yb = int(np.clip(np.ceil(x1 + pad), 0, w)), int(np.clip(np.ceil(y1 + pad), 0, h))
        strokes, shade = ink[ya:yb, xa:xb], grey[ya:yb, xa:xb]
        if strokes.size == 0 or strokes.max() < 0.05:
            contrasts.append(0.0)
            continue
        on = strokes >= 0.6 * strokes.max()
        off = strokes <= 0.05
        contrasts.append(float(abs(shade[on].mean() - shade[off].mean())) if off.any() else 0.0)
    return Legibility(min(contrasts), min(heights), inside)


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Car paint, bumper or shadow: a tinted gradient with coarse texture."""
    grey = rng.uniform(10, 235)
    base = grey + rng.normal(0, 18 if rng.random() < 0.5 else 4, 3)  # mostly greyish, sometimes tinted
    yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None, None]
    texture = cv2.resize(rng.normal(0, 20, (max(2, h // 6), max(2, w // 6), 1)).astype(np.float32), (w, h))
    out = base.astype(np.float32) + yy * rng.uniform(-50, 50) + texture[:, :, None]
    return np.clip(out, 0, 255).astype(np.float32)


def capture(plate: RenderedPlate, rng: np.random.Generator, out_height: int | None = None) -> np.ndarray:
    """Turn a flat plate into a realistic plate crop (RGB uint8).

    Args:
        plate: the rendered plate.
        rng: randomness.
        out_height: crop height in pixels (default: random, so characters end up ~12-45 px tall).
    """
    return _capture(plate, rng, out_height, measure=False)[0]


def capture_measured(plate: RenderedPlate, rng: np.random.Generator,
                     out_height: int | None = None) -> tuple[np.ndarray, Legibility | None]:
    """:func:`capture`, and how legible its characters stayed (None when ``plate`` has no ink mask).

    The measurement draws nothing from ``rng``: the crop is the one :func:`capture` makes.
    """
    return _capture(plate, rng, out_height, measure=True)


def _capture(plate: RenderedPlate, rng: np.random.Generator, out_height: int | None,
             measure: bool) -> tuple[np.ndarray, Legibility | None]:
    """The crop, and its legibility when ``measure`` (the classifier's sets skip that work)."""
    lines = max(1, len(plate.lines))
    target_h = out_height or int(rng.uniform(22, 80) * (1 + 0.5 * (lines > 1)))
    # Work at about twice the output resolution: everything after is cheaper and looks the same.
    shrink = min(1.0, 1.6 * target_h / plate.image.shape[0])
    if shrink < 1.0:
        size = (max(8, int(plate.image.shape[1] * shrink)), max(4, int(plate.image.shape[0] * shrink)))
        plate = RenderedPlate(cv2.resize(plate.image, size, interpolation=cv2.INTER_AREA),
                              cv2.resize(plate.mask, size, interpolation=cv2.INTER_AREA),
                              plate.corners * np.array([(size[0] - 1) / (plate.image.shape[1] - 1),
                                                        (size[1] - 1) / (plate.image.shape[0] - 1)], np.float32),
                              plate.lines, plate.design,
                              cv2.resize(plate.ink, size, interpolation=cv2.INTER_AREA) if measure and plate.ink
                              is not None else None)
    ph, pw = plate.image.shape[:2]

    # Perspective: jitter the plate's corners as a 3D turn would (one side shorter) plus roll and shear.
    src = plate.corners.copy()
    dst = src.copy()
    yaw = rng.uniform(-0.18, 0.18)
    pitch = rng.uniform(-0.12, 0.12)
    dst[[0, 3], 1] += np.array([1, -1]) * ph * max(0.0, yaw) * 0.5
    dst[[1, 2], 1] += np.array([1, -1]) * ph * max(0.0, -yaw) * 0.5
    dst[[0, 1], 0] += np.array([1, -1]) * pw * max(0.0, pitch) * 0.3
    dst[[3, 2], 0] += np.array([1, -1]) * pw * max(0.0, -pitch) * 0.3
    roll = np.deg2rad(rng.uniform(-5, 5))
    center = dst.mean(axis=0)
    rotation = np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]], np.float32)
    dst = (dst - center) @ rotation.T + center
    dst += rng.normal(0, ph * 0.015, dst.shape).astype(np.float32)

    # Crop box: the plate's bounding box with a margin that is sometimes negative (cut-off edges).
    # The scene is only ever drawn inside this box.
    x0, y0 = dst.min(axis=0)
    x1, y1 = dst.max(axis=0)
    bw, bh = x1 - x0, y1 - y0
    mx0, mx1 = rng.uniform(-0.03, 0.12, 2) * bw
    my0, my1 = rng.uniform(-0.05, 0.3, 2) * bh
    origin = np.array([x0 - mx0, y0 - my0], np.float32)
    crop_w, crop_h = max(8, int(bw + mx0 + mx1)), max(4, int(bh + my0 + my1))
    dst = dst - origin
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(plate.image, matrix, (crop_w, crop_h), flags=cv2.INTER_LINEAR)
    ink = boxes = None
    if measure and plate.ink is not None:
        ink = cv2.warpPerspective(plate.ink, matrix, (crop_w, crop_h), flags=cv2.INTER_LINEAR)
        boxes = _glyph_boxes(plate.ink)
        if len(boxes):  # a blank plate has none (and is never legible)
            corners = np.stack([boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [2, 3]], boxes[:, [0, 3]]], axis=1)
            corners = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), matrix).reshape(-1, 4, 2)
            boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)
    alpha = cv2.warpPerspective(plate.mask, matrix, (crop_w, crop_h), flags=cv2.INTER_LINEAR)
    crop = _background(crop_h, crop_w, rng)
    if rng.random() < 0.2:  # a dark plate frame around the plate
        frame = cv2.dilate((alpha > 127).astype(np.uint8), np.ones((5, 5), np.uint8), iterations=1)
        crop[frame > 0] = rng.uniform(10, 60)
    alpha = alpha.astype(np.float32)[:, :, None] / 255.0
    crop = crop * (1 - alpha) + warped.astype(np.float32) * alpha

    # Optics. The blur is remembered (working pixels) for the legibility measure: it costs detail as a
    # coarser resolution would.
    motion_length = gaussian_sigma = 0.0
    if rng.random() < 0.25:
        length = int(rng.integers(3, 9))
        motion_length = float(length)
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2] = 1.0 / length
        kernel = cv2.warpAffine(kernel, cv2.getRotationMatrix2D((length / 2, length / 2), rng.uniform(-30, 30), 1),
                                (length, length))
        crop = cv2.filter2D(crop, -1, kernel / max(kernel.sum(), 1e-6))
    elif rng.random() < 0.3:
        gaussian_sigma = rng.uniform(0.5, 2.0)
        crop = cv2.GaussianBlur(crop, (0, 0), gaussian_sigma)

    # Sensor: scale to the output size, sometimes through an even smaller one.
    scale = target_h / crop.shape[0]
    blur_pixel = blur_pixel_size(motion_length * scale, gaussian_sigma * scale)
    target_w = max(8, int(crop.shape[1] * scale))
    detail_scale = 1.0  # the coarsest size the crop passes through, relative to the output
    if rng.random() < 0.3:
        detail_scale = rng.uniform(0.4, 0.8)
        crop = cv2.resize(crop, (max(4, int(target_w * detail_scale)), max(4, int(target_h * detail_scale))),
                          interpolation=cv2.INTER_AREA)
    crop = cv2.resize(crop, (target_w, target_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)

    if rng.random() < 0.85:
        contrast = rng.uniform(0.5, 1.2)
        crop = (crop - crop.mean()) * contrast + crop.mean() + rng.uniform(-50, 40)
        crop = crop * rng.uniform(0.85, 1.15, 3)  # colour cast / white balance
    crop = np.clip(crop, 0, 255)
    if rng.random() < 0.1:  # night / infra-red look: dark, grey, contrasty
        grey = crop.mean(axis=2, keepdims=True)
        crop = np.clip((grey - 60) * 1.6, 0, 255).repeat(3, axis=2)
    elif rng.random() < 0.15:
        crop = crop.mean(axis=2, keepdims=True).repeat(3, axis=2)
    gamma = rng.uniform(0.7, 1.5)
    crop = 255.0 * (crop / 255.0) ** gamma
    crop = crop + rng.normal(0, rng.uniform(0, 10), crop.shape)
    crop = np.clip(crop, 0, 255).astype(np.uint8)

    if rng.random() < 0.85:
        quality = int(rng.integers(20, 96))
        ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            crop = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if ink is None:
        return crop, None
    final_ink = cv2.resize(ink, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    boxes = boxes * np.array([crop.shape[1] / crop_w, crop.shape[0] / crop_h] * 2, np.float32)
    return crop, measure_legibility(crop, final_ink, boxes, detail_scale, blur_pixel)
