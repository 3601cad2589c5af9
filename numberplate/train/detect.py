"""Detector training task: centre heat map + corner regression on VIA / YOLO-pose / COCO photo sets.

Box-only labels (most real sets) and exact corners (synthetic scenes, hand-drawn polygons) mix: each
source says how far its corners can be trusted (``corner_weight``), so boxes teach *where* plates are
and exact quads teach *the corners*.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from numberplate.data.images import read_image
from numberplate.data.records import ImageRecord
from numberplate.errors import ConfigError, InputError
from numberplate.models.detector import CORNER_SCALE, STRIDE, DetectorConfig, PlateDetector
from numberplate.stages.detect import box_iou, decode, letterbox, to_network_input
from numberplate.stages.rectify import turn_points
from numberplate.train.loop import LoopConfig
from numberplate.train.onnx_import import load_start_weights

#: The corners of a mirrored plate, re-listed clockwise from its (new) top-left.
FLIP_ORDER = [1, 0, 3, 2]


@dataclass
class DetectionSource:
    """One labelled photo set and its share of each training epoch.

    Attributes:
        path: VIA folder (with ``via_region_data.json`` or ``train``/``val``/``test`` subfolders), YOLO-pose
            folder or COCO JSON.
        weight: relative share of training samples drawn from this source.
        corner_weight: trust in the corners (1 for true corners, ~0.2 for sets labelled with boxes).
        name: short name for logs (default: the folder name).
        max_eval_images: evaluate on at most this many val/test photos of this source (0 = all).
    """

    path: str
    weight: float = 1.0
    corner_weight: float = 1.0
    name: str = ""
    max_eval_images: int = 300


@dataclass
class DetectAugmentConfig:
    """Training-time augmentation.

    Attributes:
        crop: side of the square training crop in network pixels.
        scale: range of zoom relative to the inference scale (longer side = ``max_side``).
        plate_focus: chance that a crop is centred near a labelled plate (else anywhere).
        flip: chance of a horizontal mirror.
        rotate: maximum in-plane rotation in degrees.
        tilt: chance of a wide in-plane rotation instead (up to ``max_tilt`` degrees either way): phone photos
            of parked cars hold plates 30-40 degrees off level, which the small rotations never show.
        max_tilt: the widest such rotation; below 45 degrees, so the corner order stays clockwise from top-left.
        photometric: chance of brightness/contrast/colour jitter.
        blur: chance of a Gaussian blur.
        grey: chance of a grey-scale (night camera) look.
        min_plate: plates narrower than this (network pixels) are neither positives nor negatives.
    """

    crop: int = 320
    scale: tuple[float, float] = (0.45, 2.2)
    plate_focus: float = 0.75
    flip: float = 0.3
    rotate: float = 6.0
    tilt: float = 0.0
    max_tilt: float = 40.0
    photometric: float = 0.8
    blur: float = 0.2
    grey: float = 0.1
    min_plate: float = 6.0


@dataclass
class DetectTrainConfig:
    """A detector training recipe (mirrors ``configs/detector-*.toml``).

    Attributes:
        name: model name; also names the run folder.
        data: photo sets and their weights.
        classes: object classes (heat-map channels); empty = every ``label`` found in the data, sorted.
        max_side: longer side of the network input at inference (and evaluation).
        samples_per_epoch: training crops per epoch.
        threshold: detection score threshold used in evaluation.
        init_from: checkpoint to start from.
        model: network shape.
        augment: augmentation settings.
        loop: optimisation settings.
    """

    name: str = "detector"
    data: list[DetectionSource] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    max_side: int = 640
    samples_per_epoch: int = 4000
    threshold: float = 0.35
    init_from: str | None = None
    model: DetectorConfig = field(default_factory=DetectorConfig)
    augment: DetectAugmentConfig = field(default_factory=DetectAugmentConfig)
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(batch_size=16, lr=2e-3, epochs=30))


# -- targets ------------------------------------------------------------------------------------------
def make_targets(quads: list[np.ndarray], classes: list[int], corner_weights: list[float], size: tuple[int, int],
                 num_classes: int, min_plate: float) -> dict[str, np.ndarray]:
    """Training targets for one network-sized image.

    Args:
        quads: per object, 4 x 2 corners in network pixels.
        classes: per object, its class index.
        corner_weights: per object, trust in its corners.
        size: network image ``(width, height)``.
        num_classes: heat-map channels.
        min_plate: objects narrower than this are ignored (no positive, no negative).

    Returns:
        ``heat`` C x h x w (Gaussian peaks, 1 at centres), ``heat_weight`` h x w (0 around ignored objects),
        ``corners`` 8 x h x w regression targets, ``corner_weight`` h x w (0 where not supervised).
    """
    gw, gh = size[0] // STRIDE, size[1] // STRIDE
    heat = np.zeros((num_classes, gh, gw), np.float32)
    heat_weight = np.ones((gh, gw), np.float32)
    corners = np.zeros((8, gh, gw), np.float32)
    corner_weight = np.zeros((gh, gw), np.float32)
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    for quad, cls, trust in zip(quads, classes, corner_weights):
        x0, y0 = quad.min(axis=0)
        x1, y1 = quad.max(axis=0)
        width, height = x1 - x0, y1 - y0
        center = quad.mean(axis=0) / STRIDE - 0.5  # in cell coordinates (cell i spans [i, i+1) -> centre i)
        cx, cy = int(round(center[0])), int(round(center[1]))
        if width < min_plate or not (0 <= cx < gw and 0 <= cy < gh):
            gx0, gy0 = max(0, int(x0 // STRIDE) - 1), max(0, int(y0 // STRIDE) - 1)
            gx1, gy1 = min(gw, int(x1 // STRIDE) + 2), min(gh, int(y1 // STRIDE) + 2)
            if gx1 > gx0 and gy1 > gy0:
                heat_weight[gy0:gy1, gx0:gx1] = 0.0
            continue
        sx = max(0.5, 0.15 * width / STRIDE)
        sy = max(0.5, 0.15 * height / STRIDE)
        gauss = np.exp(-((xs - cx) ** 2) / (2 * sx * sx) - ((ys - cy) ** 2) / (2 * sy * sy))
        heat[cls] = np.maximum(heat[cls], gauss)
        heat[cls, cy, cx] = 1.0
        if trust <= 0:
            continue
        scale = STRIDE * CORNER_SCALE
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                gx, gy = cx + dx, cy + dy
                if not (0 <= gx < gw and 0 <= gy < gh):
                    continue
                cell = np.array([(gx + 0.5) * STRIDE, (gy + 0.5) * STRIDE], np.float32)
                corners[:, gy, gx] = ((quad - cell) / scale).reshape(-1)
                # Relative to plate width: the corner metric is "% of plate width", whatever the size.
                weight = trust * (1.0 if dx == dy == 0 else 0.5) * scale / max(width, 8.0)
                corner_weight[gy, gx] = max(corner_weight[gy, gx], weight)
    return {"heat": heat, "heat_weight": heat_weight, "corners": corners, "corner_weight": corner_weight}


def focal_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss; ``weight`` (B x h x w) masks ignored areas."""
    pred = pred.float().clamp(1e-4, 1 - 1e-4)
    positive = target.eq(1).float()
    negative = (1 - positive) * weight[:, None]
    pos_loss = -torch.log(pred) * (1 - pred) ** 2 * positive
    neg_loss = -torch.log(1 - pred) * pred**2 * (1 - target) ** 4 * negative
    return (pos_loss.sum() + neg_loss.sum()) / positive.sum().clamp(min=1.0)


# -- evaluation ---------------------------------------------------------------------------------------
def match_detections(predicted_boxes: list, truth_boxes: list, iou: float = 0.5) -> list[tuple[int, int]]:
    """Greedy one-to-one matching (predictions in the given, best-first, order): (pred, truth) pairs."""
    pairs, taken = [], set()
    if not truth_boxes:
        return pairs
    for p, box in enumerate(predicted_boxes):
        best, best_iou = -1, iou
        for t, value in enumerate(box_iou(box, truth_boxes)):
            if t in taken:
                continue
            if value >= best_iou:
                best, best_iou = t, value
        if best >= 0:
            taken.add(best)
            pairs.append((p, best))
    return pairs


def corner_error(predicted, truth) -> float:
    """Largest corner distance divided by the true plate's width (top edge length)."""
    predicted, truth = np.asarray(predicted, np.float32), np.asarray(truth, np.float32)
    width = max(float(np.linalg.norm(truth[1] - truth[0])), 1.0)
    return float(np.linalg.norm(predicted - truth, axis=1).max() / width)


def check_max_tilt(max_tilt: float) -> None:
    """Turned samples keep their corners in order (clockwise from the top-left) only below 45 degrees."""
    if not 0 <= max_tilt < 45:
        raise ConfigError(f"augment.max_tilt {max_tilt}: must be at least 0 and below 45 degrees "
                          "(the corners are learnt clockwise from the top-left one)")


# -- the task -----------------------------------------------------------------------------------------
class DetectTask:
    """Plugs the detector into :func:`numberplate.train.loop.fit`."""

    kind = "detect"
    monitor = "f1"

    def __init__(self, config: DetectTrainConfig, load_threads: int = 2):
        from numberplate.data.detection import read_detection

        if not config.data:
            raise ConfigError("detector training needs at least one data source (--data DIR or [[data]])")
        check_max_tilt(config.augment.max_tilt)
        self.config = config
        self.name = config.name
        self.sources: list[DetectionSource] = []
        self.records: dict[str, list[list[ImageRecord]]] = {"train": [], "val": [], "test": []}
        labels = set()
        for source in config.data:
            source = DetectionSource(**{**asdict(source), "name": source.name or Path(source.path).name})
            records = read_detection(source.path)
            self.sources.append(source)
            for split in self.records:
                # A set without splits is training material only (evaluation sets are passed as such).
                self.records[split].append([r for r in records if (r.split or "train") == split])
            labels.update(p.label for r in records for p in r.plates)
        self.classes = list(config.classes) or sorted(labels) or ["numberplate"]
        unknown = labels - set(self.classes)
        if unknown:
            raise ConfigError(f"labels {sorted(unknown)} in the data are not in classes {self.classes}")
        config.model.num_classes = len(self.classes)
        if not any(self.records["train"]):
            raise ConfigError("no training photos in " + ", ".join(s.path for s in config.data))
        if not any(self.records["val"]):
            raise ConfigError("no validation photos: at least one data source needs a val split")
        self.pool = ThreadPoolExecutor(max(1, load_threads))

    def describe(self) -> dict:
        return {"kind": self.kind, "name": self.name, "classes": self.classes, "max_side": self.config.max_side,
                "model": asdict(self.config.model), "recipe": asdict(self.config),
                "data": {s.name: {"path": s.path, "weight": s.weight, "corner_weight": s.corner_weight,
                                  **{split: len(self.records[split][i]) for split in self.records}}
                         for i, s in enumerate(self.sources)}}

    def build_model(self) -> nn.Module:
        model = PlateDetector(self.config.model)
        if self.config.init_from:
            # Photo crops are large: a few calibrate the norms well enough.
            state = load_start_weights(self.config.init_from, self, model, calibration_size=8)
            if state["task"].get("classes") != self.classes:
                raise ConfigError(f"{self.config.init_from}: classes {state['task'].get('classes')} differ from "
                                  f"{self.classes}")
            model.load_state_dict(state["model"])
        return model

    def steps_per_epoch(self, batch_size: int) -> int:
        return max(1, self.config.samples_per_epoch // batch_size)

    # -- samples -------------------------------------------------------------------------------------
    def _sample(self, source_index: int, record: ImageRecord, seed: int):
        rng = np.random.default_rng(seed)
        aug, source = self.config.augment, self.sources[source_index]
        try:
            image = read_image(record.image_path)
        except InputError as exc:
            print(f"warning: skipped {exc}", file=sys.stderr)
            return None
        h, w = image.shape[:2]
        scale = self.config.max_side / max(h, w) * float(np.exp(rng.uniform(*np.log(aug.scale))))
        quads = [np.asarray(p.corners, np.float32) for p in record.plates]
        if quads and rng.random() < aug.plate_focus:
            focus = quads[int(rng.integers(len(quads)))].mean(axis=0) + rng.normal(0, 0.25 * aug.crop / scale, 2)
        else:
            focus = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        widest = aug.max_tilt if rng.random() < aug.tilt else aug.rotate
        angle = rng.uniform(-widest, widest)
        matrix = cv2.getRotationMatrix2D((float(focus[0]), float(focus[1])), angle, scale)
        matrix[:, 2] += np.array([aug.crop / 2, aug.crop / 2]) - focus
        flip = rng.random() < aug.flip
        if flip:
            matrix = np.array([[-1, 0, aug.crop], [0, 1, 0]], np.float64) @ np.vstack([matrix, [0, 0, 1]])
        interpolation = cv2.INTER_AREA if scale < 0.7 else cv2.INTER_LINEAR
        out = cv2.warpAffine(image, matrix, (aug.crop, aug.crop), flags=interpolation, borderValue=(114, 114, 114))
        moved = []
        for quad in quads:
            q = turn_points(quad, matrix)
            moved.append(q[FLIP_ORDER] if flip else q)
        out = self._photometric(out, rng)
        classes = [self.classes.index(p.label) for p in record.plates]
        trust = [source.corner_weight * (1.0 if p.has_corners else 0.5) for p in record.plates]
        targets = make_targets(moved, classes, trust, (aug.crop, aug.crop), len(self.classes), aug.min_plate)
        return out, targets

    def _photometric(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        aug = self.config.augment
        out = image.astype(np.float32)
        if rng.random() < aug.photometric:
            out = (out - out.mean()) * rng.uniform(0.6, 1.3) + out.mean() + rng.uniform(-35, 35)
            out = out * rng.uniform(0.85, 1.15, 3)
        if rng.random() < aug.blur:
            out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
        if rng.random() < aug.grey:
            out = out.mean(axis=2, keepdims=True).repeat(3, axis=2)
        return np.clip(out, 0, 255).astype(np.uint8)

    def train_batches(self, epoch: int, batch_size: int, rng: np.random.Generator):
        weights = np.array([s.weight if len(r) else 0.0 for s, r in zip(self.sources, self.records["train"])])
        count = self.steps_per_epoch(batch_size) * batch_size
        source_picks = rng.choice(len(self.sources), size=count, p=weights / weights.sum())
        jobs = [(int(i), self.records["train"][i][int(rng.integers(len(self.records["train"][i])))],
                 int(rng.integers(1 << 62))) for i in source_picks]
        for start in range(0, count, batch_size):
            samples = [s for s in self.pool.map(lambda job: self._sample(*job), jobs[start:start + batch_size]) if s]
            if not samples:
                continue
            images = to_network_input([s[0] for s in samples])
            stacked = {k: torch.from_numpy(np.stack([s[1][k] for s in samples])) for k in samples[0][1]}
            yield torch.from_numpy(images), stacked

    def loss(self, model: nn.Module, batch, device: torch.device) -> torch.Tensor:
        images, targets = batch
        targets = {k: v.to(device) for k, v in targets.items()}
        heat, corners = model(images.to(device, memory_format=torch.channels_last))
        heat_loss = focal_loss(heat, targets["heat"], targets["heat_weight"])
        weight = targets["corner_weight"][:, None]
        supervised = (targets["corner_weight"] > 0).float().sum().clamp(min=1.0)
        corner_loss = (torch.abs(corners.float() - targets["corners"]) * weight).sum() / (supervised * 8)
        return heat_loss + corner_loss

    # -- evaluation ----------------------------------------------------------------------------------
    def predict(self, model: nn.Module, image: np.ndarray, device: torch.device, threshold: float | None = None):
        network_image, transform = letterbox(image, self.config.max_side)
        heat, corners = model(torch.from_numpy(to_network_input([network_image])).to(device))
        return decode(heat[0].float().cpu().numpy(), corners[0].float().cpu().numpy(), transform, self.classes,
                      self.config.threshold if threshold is None else threshold)

    def evaluate(self, model: nn.Module, split: str, device: torch.device) -> dict[str, float]:
        sets = self.records[split] if any(self.records[split]) else self.records["val"]
        metrics: dict[str, float] = {}
        f1s = []
        for source, records in zip(self.sources, sets):
            if not records:
                continue
            if source.max_eval_images and len(records) > source.max_eval_images:
                step = len(records) / source.max_eval_images
                records = [records[int(i * step)] for i in range(source.max_eval_images)]
            stats = evaluate_records(lambda img: self.predict(model, img, device), records)
            for key, value in stats.items():
                metrics[f"{key}/{source.name}"] = value
            f1s.append(stats["f1"])
        metrics["f1"] = round(float(np.mean(f1s)), 5) if f1s else 0.0
        return metrics


def evaluate_records(detect, records: list[ImageRecord], iou: float = 0.5) -> dict[str, float]:
    """Recall, precision, F1 at ``iou`` and the median corner error of true-corner plates."""
    truths = found = predicted = 0
    errors = []
    for record in records:
        try:
            image = read_image(record.image_path)
        except InputError as exc:
            print(f"warning: skipped {exc}", file=sys.stderr)
            continue
        detections = detect(image)
        boxes = [d.box for d in detections]
        pairs = match_detections(boxes, [p.box for p in record.plates], iou)
        truths += len(record.plates)
        predicted += len(detections)
        found += len(pairs)
        for p, t in pairs:
            if record.plates[t].has_corners:
                errors.append(corner_error(detections[p].corners, record.plates[t].corners))
    recall = found / truths if truths else 1.0
    precision = found / predicted if predicted else 1.0
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    out = {"recall": round(recall, 5), "precision": round(precision, 5), "f1": round(f1, 5)}
    if errors:
        out["corner_error"] = round(float(np.median(errors)), 5)
    return out
