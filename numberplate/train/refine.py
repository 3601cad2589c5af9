"""Corner refiner training task: windows around plates with true corners, as the detector would give them.

Every plate with true corners (``has_corners``: synthetic scenes, hand-drawn quadrilaterals) is cut once
with generous context and kept in memory. Each training sample then plays the detector: the true corners
are moved by a random error of the size the detector makes (a share of the plate width), the window is
built around the moved corners' box exactly as at inference (:func:`numberplate.stages.refine.corner_window`)
and the target is the true corners in window units.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from numberplate.data.images import read_image
from numberplate.data.records import ImageRecord
from numberplate.errors import ConfigError, InputError
from numberplate.models.refiner import CornerRefiner, RefinerConfig
from numberplate.stages.detect import to_network_input
from numberplate.stages.rectify import turn_points
from numberplate.stages.refine import WindowPadding, corner_window, to_window_units, window_crop
from numberplate.train.classify import ClassifyAugmentConfig, augment_crop
from numberplate.train.detect import FLIP_ORDER, check_max_tilt
from numberplate.train.loop import LoopConfig
from numberplate.train.onnx_import import load_start_weights

#: Plates narrower than this (pixels) teach nothing about corners.
MIN_PLATE_WIDTH = 12.0
#: Context kept around each plate, in plate widths (the jittered windows stay inside it).
CONTEXT = 0.6
#: Context crops are shrunk so the plate is at most this wide (the window is 128 px wide anyway).
MAX_PLATE_WIDTH = 256.0


@dataclass
class RefineSource:
    """One photo set (VIA / YOLO-pose / COCO) whose plates have true corners; box-only plates are skipped."""

    path: str
    weight: float = 1.0
    name: str = ""


@dataclass
class RefineAugmentConfig:
    """Training-time perturbation.

    Attributes:
        corner_noise: standard deviation of each simulated detector corner, in plate widths (the shipped
            detector's median error is ~0.1 of the width for the worst corner).
        shift: standard deviation of a shift shared by the 4 simulated corners, in plate widths.
        noise_scale: each sample draws a factor in this range for both (easy and hard samples).
        flip: chance of a horizontal mirror (the corner order is mirrored with it).
        photometric: chance of brightness/contrast/colour jitter.
        blur: chance of a Gaussian blur.
        noise: chance of pixel noise.
        downscale: chance of a down- and up-scaling (small, soft plates).
        grey: chance of a grey-scale (night camera) look.
        tilt: chance of turning the plate and its surroundings in-plane, up to ``max_tilt`` degrees either way
            (phone photos hold plates 30-40 degrees off level; the scenes' plates are nearly level).
        max_tilt: the widest such turn; below 45 degrees, so the corner order stays clockwise from top-left.
    """

    corner_noise: float = 0.065
    shift: float = 0.03
    noise_scale: tuple[float, float] = (0.2, 1.6)
    flip: float = 0.5
    photometric: float = 0.8
    blur: float = 0.2
    noise: float = 0.3
    downscale: float = 0.2
    grey: float = 0.1
    tilt: float = 0.0
    max_tilt: float = 40.0


@dataclass
class RefineTrainConfig:
    """A corner refiner training recipe (mirrors ``configs/refiner.toml``).

    Attributes:
        name: model name; also names the run folder.
        data: photo sets and their weights.
        samples_per_epoch: training windows per epoch.
        eval_jitters: windows per validation plate (each with its own fixed simulated detector error).
        init_from: checkpoint (``.pt``), exported ``.onnx`` or shipped model name to start from.
        model: network shape.
        window: how far the window reaches beyond the box.
        augment: augmentation settings.
        loop: optimisation settings.
    """

    name: str = "refiner"
    data: list[RefineSource] = field(default_factory=list)
    samples_per_epoch: int = 32768
    eval_jitters: int = 2
    init_from: str | None = None
    model: RefinerConfig = field(default_factory=RefinerConfig)
    window: WindowPadding = field(default_factory=WindowPadding)
    augment: RefineAugmentConfig = field(default_factory=RefineAugmentConfig)
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(batch_size=128, lr=2e-3, epochs=20))


@dataclass
class PlateContext:
    """One plate cut out with its surroundings: ``image`` and the true ``corners`` in its pixels."""

    image: np.ndarray
    corners: np.ndarray  # 4 x 2 float32


def cut_contexts(record: ImageRecord) -> list[PlateContext]:
    """The plates of one photo that have true corners, each with ``CONTEXT`` plate widths around it."""
    plates = [p for p in record.plates if p.has_corners]
    if not plates:
        return []
    image = read_image(record.image_path)
    h, w = image.shape[:2]
    out = []
    for plate in plates:
        corners = np.asarray(plate.corners, np.float32)
        width = float(corners[:, 0].max() - corners[:, 0].min())
        if width < MIN_PLATE_WIDTH:
            continue
        margin = CONTEXT * width
        x1, y1 = (corners.min(axis=0) - margin).astype(int)
        x2, y2 = (corners.max(axis=0) + margin).astype(int) + 1
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
        if x2 - x1 < 4 or y2 - y1 < 4:
            continue
        crop, local = image[y1:y2, x1:x2], corners - [x1, y1]
        scale = min(1.0, MAX_PLATE_WIDTH / width)
        if scale < 1.0:
            crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                              interpolation=cv2.INTER_AREA)
            local = local * scale
        out.append(PlateContext(np.ascontiguousarray(crop), local.astype(np.float32)))
    return out


def tilt_context(context: PlateContext, angle: float) -> PlateContext:
    """The context turned ``angle`` degrees (counter-clockwise) about the plate's centre, corners with it."""
    centre = context.corners.mean(axis=0)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)
    h, w = context.image.shape[:2]
    image = cv2.warpAffine(context.image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return PlateContext(image, turn_points(context.corners, matrix).astype(np.float32))


def simulate_detection(corners: np.ndarray, rng: np.random.Generator, cfg: RefineAugmentConfig) -> np.ndarray:
    """Corners as a detector might give them: the true ones plus a shared shift and per-corner errors."""
    width = max(float(np.linalg.norm(corners[1] - corners[0])), 1.0)
    scale = rng.uniform(*cfg.noise_scale)
    noisy = corners + rng.normal(0, cfg.shift * scale * width, 2) + rng.normal(0, cfg.corner_noise * scale * width,
                                                                               (4, 2))
    return noisy.astype(np.float32)


def make_sample(context: PlateContext, rng: np.random.Generator, cfg: RefineAugmentConfig, model: RefinerConfig,
                padding: WindowPadding, augment: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One (window crop H x W x 3 uint8, target 8 floats in window units) pair."""
    if augment and rng.random() < cfg.tilt:
        context = tilt_context(context, rng.uniform(-cfg.max_tilt, cfg.max_tilt))
    guess = simulate_detection(context.corners, rng, cfg)
    box = (*guess.min(axis=0), *guess.max(axis=0))
    window = corner_window(box, padding)
    crop = window_crop(context.image, window, model.input_width, model.input_height)
    target = to_window_units(context.corners, window)
    if augment:
        if rng.random() < cfg.flip:
            crop = crop[:, ::-1]
            target = np.stack([1.0 - target[:, 0], target[:, 1]], axis=1)[FLIP_ORDER]
        crop = augment_crop(np.ascontiguousarray(crop), rng, ClassifyAugmentConfig(
            affine=0.0, photometric=cfg.photometric, blur=cfg.blur, noise=cfg.noise, downscale=cfg.downscale,
            grey=cfg.grey))
    return np.ascontiguousarray(crop), target.reshape(8).astype(np.float32)


def window_errors(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per sample, the largest corner distance in window units (x and y each over the window's size)."""
    return np.linalg.norm((predicted - target).reshape(-1, 4, 2), axis=2).max(axis=1)


class RefineTask:
    """Plugs the corner refiner into :func:`numberplate.train.loop.fit`."""

    kind = "refine"
    monitor = "score"

    def __init__(self, config: RefineTrainConfig, load_threads: int = 2):
        from numberplate.data.detection import read_detection

        if not config.data:
            raise ConfigError("refiner training needs at least one data source (--data DIR or [[data]])")
        check_max_tilt(config.augment.max_tilt)
        self.config = config
        self.name = config.name
        self.sources: list[RefineSource] = []
        self.contexts: dict[str, list[list[PlateContext]]] = {"train": [], "val": [], "test": []}
        with ThreadPoolExecutor(max(1, load_threads)) as pool:
            for source in config.data:
                source = RefineSource(**{**asdict(source), "name": source.name or Path(source.path).name})
                self.sources.append(source)
                records = read_detection(source.path)
                for split in self.contexts:
                    chosen = [r for r in records if (r.split or "train") == split]
                    cut = pool.map(self._cut_or_report, chosen)
                    self.contexts[split].append([c for contexts in cut for c in contexts])
        if not any(self.contexts["train"]):
            raise ConfigError("no plates with true corners to train on in "
                              + ", ".join(s.path for s in config.data) + " (box-only labels teach no corners)")
        if not any(self.contexts["val"]):
            raise ConfigError("no validation plates with true corners: at least one data source needs a val split")
        if not any(self.contexts["test"]):
            self.contexts["test"] = self.contexts["val"]
        self._eval_sets: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    @staticmethod
    def _cut_or_report(record: ImageRecord) -> list[PlateContext]:
        try:
            return cut_contexts(record)
        except InputError as exc:  # one bad photo: say which and go on with the others
            print(f"warning: skipped {exc}", file=sys.stderr)
            return []

    # -- the Task protocol -------------------------------------------------------------------------
    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "model": asdict(self.config.model),
            "window": asdict(self.config.window),
            "recipe": asdict(self.config),
            "data": {s.name: {"path": s.path, "weight": s.weight,
                              **{split: len(self.contexts[split][i]) for split in self.contexts}}
                     for i, s in enumerate(self.sources)},
        }

    def build_model(self) -> nn.Module:
        model = CornerRefiner(self.config.model)
        if self.config.init_from:
            state = load_start_weights(self.config.init_from, self, model)
            model.load_state_dict(state["model"])
        return model

    def steps_per_epoch(self, batch_size: int) -> int:
        return max(1, self.config.samples_per_epoch // batch_size)

    def train_batches(self, epoch: int, batch_size: int, rng: np.random.Generator):
        sets = self.contexts["train"]
        weights = np.array([s.weight if len(c) else 0.0 for s, c in zip(self.sources, sets)])
        count = self.steps_per_epoch(batch_size) * batch_size
        picks = rng.choice(len(sets), size=count, p=weights / weights.sum())
        for start in range(0, count, batch_size):
            samples = [make_sample(sets[i][int(rng.integers(len(sets[i])))], rng, self.config.augment,
                                   self.config.model, self.config.window) for i in picks[start:start + batch_size]]
            crops = np.stack([s[0] for s in samples])
            targets = np.stack([s[1] for s in samples])
            yield torch.from_numpy(to_network_input(crops)), torch.from_numpy(targets)

    def loss(self, model: nn.Module, batch, device: torch.device) -> torch.Tensor:
        images, targets = batch
        predicted = model(images.to(device, memory_format=torch.channels_last)).float()
        return F.smooth_l1_loss(predicted, targets.to(device), beta=0.02)

    def _eval_set(self, split: str) -> list[tuple[np.ndarray, np.ndarray]]:
        """Fixed windows per source (seeded), so every epoch is judged on the same samples."""
        if split not in self._eval_sets:
            rng = np.random.default_rng(1234)
            sets = []
            for contexts in self.contexts[split]:
                samples = [make_sample(c, rng, self.config.augment, self.config.model, self.config.window,
                                       augment=False) for c in contexts for _ in range(self.config.eval_jitters)]
                sets.append((np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples]))
                            if samples else (np.zeros((0,)), np.zeros((0, 8))))
            self._eval_sets[split] = sets
        return self._eval_sets[split]

    def evaluate(self, model: nn.Module, split: str, device: torch.device) -> dict[str, float]:
        metrics: dict[str, float] = {}
        medians = []
        for source, (crops, targets) in zip(self.sources, self._eval_set(split)):
            if not len(targets):
                continue
            predicted = []
            with torch.no_grad():
                for start in range(0, len(crops), 512):
                    batch = torch.from_numpy(to_network_input(crops[start:start + 512])).to(device)
                    predicted.append(model(batch).float().cpu().numpy())
            errors = window_errors(np.concatenate(predicted), targets)
            metrics[f"window_error/{source.name}"] = round(float(np.median(errors)), 5)
            medians.append(float(np.median(errors)))
        metrics["window_error"] = round(float(np.mean(medians)), 5) if medians else 1.0
        metrics["score"] = round(1.0 - metrics["window_error"], 5)
        return metrics
