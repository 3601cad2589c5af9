"""Detection stage: photo -> plates with box, score and 4 corners (ONNX Runtime, no torch).

The network (``numberplate/models/detector.py``) sees the photo scaled so its longer side is
``max_side`` pixels, padded right and bottom to a multiple of 32. It returns a centre heat map and
corner offsets at 1/4 resolution; :func:`decode` turns them into detections in original pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from numberplate.stages.thresholds import DEFAULT_THRESHOLD
from numberplate.types import Detection

#: Must match ``numberplate.models.detector`` (kept here so inference never imports torch).
STRIDE = 4
CORNER_SCALE = 8.0
DEFAULT_DETECTOR = "detector-plates"


@dataclass(frozen=True)
class Letterbox:
    """How a photo was fitted into the network input: ``network_xy = original_xy * scale``."""

    scale: float
    width: int  # network input width (padded)
    height: int  # network input height (padded)


def letterbox(image: np.ndarray, max_side: int = 640, multiple: int = 32) -> tuple[np.ndarray, Letterbox]:
    """Scale an RGB uint8 photo so its longer side is ``max_side``; pad right/bottom to ``multiple``.

    Returns:
        ``H x W x 3`` uint8 network-sized image (padding is grey) and the transform.
    """
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    pad_w, pad_h = -(-new_w // multiple) * multiple, -(-new_h // multiple) * multiple
    out = np.full((pad_h, pad_w, 3), 114, np.uint8)
    out[:new_h, :new_w] = resized
    return out, Letterbox(scale, pad_w, pad_h)


def to_network_input(images: list[np.ndarray]) -> np.ndarray:
    """Stack ``H x W x 3`` uint8 images (same size) into ``N x 3 x H x W`` float32 in 0..1."""
    return np.stack(images).transpose(0, 3, 1, 2).astype(np.float32) / 255.0


def _intersections(box, boxes) -> tuple[np.ndarray, float, np.ndarray]:
    """Intersection areas of one ``(x1, y1, x2, y2)`` box with each row of ``boxes`` (N x 4), its area, theirs."""
    box, boxes = np.asarray(box, np.float64), np.asarray(boxes, np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    return ix * iy, float(area), (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(box, boxes) -> np.ndarray:
    """Intersection over union of one ``(x1, y1, x2, y2)`` box with each row of ``boxes`` (N x 4)."""
    inter, area, areas = _intersections(box, boxes)
    return inter / np.maximum(area + areas - inter, 1e-9)


def box_within(box, boxes) -> np.ndarray:
    """Share of one box's area inside each row of ``boxes`` (N x 4): 1 = wholly inside."""
    inter, area, _ = _intersections(box, boxes)
    return inter / max(area, 1e-9)


def decode(heat: np.ndarray, corners: np.ndarray, transform: Letterbox, labels: list[str],
           threshold: float = DEFAULT_THRESHOLD, max_objects: int = 100, nms_iou: float = 0.5) -> list[Detection]:
    """Heat-map peaks -> detections in original-image pixels.

    Args:
        heat: ``C x h x w`` centre probabilities of one image.
        corners: ``8 x h x w`` corner offsets (units of ``STRIDE * CORNER_SCALE`` pixels).
        transform: the letterbox that produced the network input.
        labels: class names, one per heat-map channel.
        threshold: minimum centre probability.
        max_objects: keep at most this many, best first.
        nms_iou: drop a detection overlapping a better one of the same class by more than this.
    """
    kernel = np.ones((3, 3), np.uint8)
    found: list[tuple[float, int, int, int]] = []
    for c in range(heat.shape[0]):
        channel = np.ascontiguousarray(heat[c], dtype=np.float32)
        peaks = (channel >= cv2.dilate(channel, kernel)) & (channel >= threshold)
        ys, xs = np.nonzero(peaks)
        found.extend((float(channel[y, x]), c, int(y), int(x)) for y, x in zip(ys, xs))
    found.sort(reverse=True)
    detections: list[Detection] = []
    kept_boxes: dict[int, list[np.ndarray]] = {}
    for score, c, y, x in found:
        center = np.array([(x + 0.5) * STRIDE, (y + 0.5) * STRIDE], np.float32)
        quad = center + corners[:, y, x].reshape(4, 2) * (STRIDE * CORNER_SCALE)
        quad = quad / transform.scale
        box = np.array([*quad.min(axis=0), *quad.max(axis=0)])
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            continue
        previous = kept_boxes.setdefault(c, [])
        if previous and box_iou(box, previous).max() > nms_iou:
            continue
        previous.append(box)
        detections.append(Detection(tuple(float(v) for v in box), tuple((float(px), float(py)) for px, py in quad),
                                    score, labels[c] if c < len(labels) else str(c)))
        if len(detections) >= max_objects:
            break
    return detections


def clip_detection(detection: Detection, width: int, height: int) -> Detection:
    """Keep corners and box inside the image."""
    quad = [(min(max(x, 0.0), width - 1.0), min(max(y, 0.0), height - 1.0)) for x, y in detection.corners]
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    return replace(detection, box=(min(xs), min(ys), max(xs), max(ys)), corners=tuple(quad))


class Detector:
    """Finds plates (or any 4-corner objects the model was trained on) in RGB photos.

    Args:
        model: shipped model name or path of an ``.onnx`` file with its card.
        threshold: minimum detection score.
        max_side: longer side of the network input in pixels (default: the card's).
        threads: ONNX Runtime threads (None = all cores).
    """

    def __init__(self, model: str = DEFAULT_DETECTOR, threshold: float = DEFAULT_THRESHOLD, max_side: int | None = None,
                 threads: int | None = None):
        from numberplate.runtime import load_model

        self.model = load_model(model, task="detect", threads=threads)
        card = self.model.card
        self.labels: list[str] = list(card.get("classes", ["numberplate"]))
        self.max_side = int(max_side or card["input"].get("max_side", 640))
        self.multiple = int(card["input"].get("multiple", 32))
        self.threshold = threshold

    def __call__(self, image: np.ndarray) -> list[Detection]:
        """Detections in one RGB uint8 photo, best first."""
        network_image, transform = letterbox(image, self.max_side, self.multiple)
        heat, corners = self.model.run_all(to_network_input([network_image]))[:2]
        detections = decode(heat[0], corners[0], transform, self.labels, self.threshold)
        h, w = image.shape[:2]
        return [clip_detection(d, w, h) for d in detections]
