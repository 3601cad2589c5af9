"""Classifier training task: plate type, text lines and state from Nomeroff-layout crop sets, synthetic
(``numberplate synth classify``: every type and state) and real (country labels) mixed by weight.

Labels become targets through :class:`numberplate.stages.classify.RegionLabels`: a synthetic crop names
its exact type, a real crop its country (any type of that country is right), a blank or covered plate
only its country, garbage is ``unknown``. The region loss is the cross-entropy of that set of classes
(``-log`` of their summed probability), so country labels never push one type against its siblings.
"""

from __future__ import annotations

import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from numberplate.data.images import read_image
from numberplate.data.nomeroff import load_split, split_dirs
from numberplate.data.records import STATES, OcrRecord
from numberplate.errors import ConfigError, InputError
from numberplate.models.classifier import LINE_CLASSES, ClassifierConfig, PlateClassifier
from numberplate.stages.classify import (
    UNKNOWN,
    RegionLabels,
    is_exact,
    lines_target,
    resize_crop,
    score,
    to_input,
)
from numberplate.train.loop import LoopConfig
from numberplate.train.onnx_import import load_start_weights, load_weights_except


@dataclass
class ClassifySource:
    """One dataset folder in the Nomeroff layout and its share of each training epoch.

    Attributes:
        path: folder holding ``train``/``val``/``test`` (each with ``img`` and ``ann``).
        weight: relative share of training samples drawn from this source per epoch.
        name: short name used in logs and metrics (default: the folder name).
        balance: 0 draws the source's crops uniformly; 1 draws every region label equally often (a
            country with 1 crop as often as one with 30); values between soften the counts.
        augment: chance that a crop of this source is augmented (synthetic crops already went through
            camera effects; a few hundred real crops need all the variety they can get).
        daylight: chance that a crop of this source is shown in grey with dark text on a light plate
            (inverted when its text is the lighter). Infrared night crops (all the real Brazilian ones) then
            also show the daylight look of their plates, so "looks like a real photo" stops meaning "US".
        infrared: chance that a crop of this source is shown as a night infra-red camera sees it: grey,
            often green-tinted, dim and flat. The other way round: when only Brazilian crops are infra-red
            shots, "infra-red" is learnt as "Brazil" (American night plates were called Brazilian).
    """

    path: str
    weight: float = 1.0
    name: str = ""
    balance: float = 0.0
    augment: float = 1.0
    daylight: float = 0.0
    infrared: float = 0.0


@dataclass
class ClassifyAugmentConfig:
    """Augmentations on the model-sized crop (probabilities and ranges). Colour shifts stay small:
    colour is what tells a yellow plate from a white one."""

    affine: float = 0.8
    max_rotate: float = 4.0
    max_shift: float = 0.06
    scale: tuple[float, float] = (0.85, 1.12)
    photometric: float = 0.8
    color_gain: float = 0.1
    blur: float = 0.2
    noise: float = 0.3
    downscale: float = 0.25
    grey: float = 0.08


@dataclass
class ClassifyTrainConfig:
    """A classifier training recipe (mirrors ``configs/classifier.toml``).

    Attributes:
        name: model name; also names the run folder.
        data: the dataset folders and their weights.
        regions: the region classes; empty = every region label of the training splits, sorted, plus
            ``unknown`` (so a model learns whatever classes its data has).
        samples_per_epoch: training samples drawn per epoch (with replacement, by source weight).
        loss_weights: weights of the region, lines and state losses.
        init_from: checkpoint (``.pt``) or exported model to start from; with another region list the region head
            keeps the rows of the classes both lists have (see ``region_rows``).
        fresh_region_head: start the region head afresh all the same (the shipped seventh fine-tune did: with the
            old rows the new real photos' countries were learnt less well).
        model: network shape.
        augment: augmentation settings.
        loop: optimisation settings.
    """

    name: str = "classifier"
    data: list[ClassifySource] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    samples_per_epoch: int = 20000
    loss_weights: tuple[float, float, float] = (1.0, 0.5, 1.0)
    init_from: str | None = None
    fresh_region_head: bool = False
    model: ClassifierConfig = field(default_factory=ClassifierConfig)
    augment: ClassifyAugmentConfig = field(default_factory=ClassifyAugmentConfig)
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(batch_size=128, lr=3e-3, epochs=12, patience=5))


@dataclass
class ClassSet:
    """Model-sized crops of one split of one source, in memory, with their targets."""

    name: str
    images: np.ndarray  # N x H x W x 3 uint8
    allowed: np.ndarray  # N x R bool: region classes that count as right (all False = no region label)
    lines: np.ndarray  # N int64: lines class, -1 = none
    states: np.ndarray  # N int64: index into STATES
    regions: list[str]  # the labels as written in the data
    count_lines: list[int]
    exact: list[bool]  # region labels that name an exact type (synthetic)

    def __len__(self) -> int:
        return len(self.states)


def load_set(records: list[OcrRecord], name: str, labels: RegionLabels, config: ClassifierConfig,
             threads: int = 2) -> ClassSet:
    """Read and resize every record's image; unreadable images are reported and skipped."""
    h, w = config.input_height, config.input_width

    def load(record: OcrRecord):
        try:
            return resize_crop(read_image(record.image_path), h, w)
        except InputError as exc:
            print(f"warning: skipped {exc}", file=sys.stderr)
            return None

    with ThreadPoolExecutor(max(1, threads)) as pool:
        arrays = list(pool.map(load, records))
    keep = [i for i, a in enumerate(arrays) if a is not None]
    allowed = np.zeros((len(keep), len(labels.classes)), bool)
    for row, i in enumerate(keep):
        allowed[row, list(labels.allowed(records[i].region, records[i].state, is_exact(records[i])))] = True
    return ClassSet(
        name,
        np.stack([arrays[i] for i in keep]) if keep else np.zeros((0, h, w, 3), np.uint8),
        allowed,
        np.array([lines_target(records[i].count_lines, records[i].state) for i in keep], np.int64),
        np.array([STATES.index(records[i].state) for i in keep], np.int64),
        [records[i].region for i in keep],
        [records[i].count_lines for i in keep],
        [is_exact(records[i]) for i in keep],
    )


def region_rows(fresh: dict, weights: dict, old_regions: list[str], regions: list[str]) -> dict:
    """The region head's tensors (``region.*``) for the class list ``regions``: a start model's row (in
    ``weights``, whose classes are ``old_regions``) where it has the class, the fresh model's own
    initialisation (``fresh``) where it has not."""
    out = {}
    for key, rows in fresh.items():
        if not key.startswith("region."):
            continue
        rows = rows.clone()
        old = weights.get(key)
        if old is not None and old.shape[1:] == rows.shape[1:]:
            for index, region in enumerate(regions):
                if region in old_regions:
                    rows[index] = old[old_regions.index(region)]
        out[key] = rows
    return out


def augment_crop(image: np.ndarray, rng: np.random.Generator, cfg: ClassifyAugmentConfig) -> np.ndarray:
    """Geometric and photometric jitter on one H x W x 3 uint8 crop (same size out): crop boxes that
    are off a little, other cameras and light."""
    h, w = image.shape[:2]
    out = image
    if rng.random() < cfg.affine:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-cfg.max_rotate, cfg.max_rotate),
                                         rng.uniform(*cfg.scale))
        matrix[0, 2] += rng.uniform(-cfg.max_shift, cfg.max_shift) * w
        matrix[1, 2] += rng.uniform(-cfg.max_shift, cfg.max_shift) * h
        matrix[0, 1] += rng.uniform(-0.08, 0.08)
        out = cv2.warpAffine(out, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    out = out.astype(np.float32)
    if rng.random() < cfg.photometric:
        mean = out.mean()
        out = (out - mean) * rng.uniform(0.6, 1.3) + mean + rng.uniform(-35, 35)
        out = out * rng.uniform(1 - cfg.color_gain, 1 + cfg.color_gain, 3)
        out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** rng.uniform(0.75, 1.35)
    if rng.random() < cfg.downscale:
        factor = rng.uniform(0.35, 0.7)
        small = cv2.resize(out, (max(8, int(w * factor)), max(6, int(h * factor))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < cfg.blur:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.2))
    if rng.random() < cfg.noise:
        out = out + rng.normal(0, rng.uniform(3, 12), out.shape).astype(np.float32)
    if rng.random() < cfg.grey:
        out = out.mean(axis=2, keepdims=True).repeat(3, axis=2)
    return np.clip(out, 0, 255).astype(np.uint8)


def daylight_look(image: np.ndarray) -> np.ndarray:
    """The crop in grey with dark text on a light plate: inverted when the pixels far from the plate's
    typical (median) grey are mostly lighter than it, i.e. when the text is the light part."""
    grey = image.astype(np.float32).mean(axis=2)
    h, w = grey.shape
    centre = grey[h // 5:h - h // 5, w // 10:w - w // 10]
    median = float(np.median(centre))
    lighter, darker = int((centre > median + 30).sum()), int((centre < median - 30).sum())
    if lighter > darker:
        grey = 255.0 - grey
    return np.repeat(grey[:, :, None], 3, axis=2).astype(np.uint8)


def infrared_look(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The crop as a night infra-red camera shows it: grey, half the time with the green cast of the real
    Brazilian infra-red crops, with less contrast and a random brightness."""
    grey = image.astype(np.float32).mean(axis=2)
    grey = (grey - grey.mean()) * rng.uniform(0.4, 1.0) + grey.mean() + rng.uniform(-60, 20)
    tint = np.array([0.4, 1.0, 0.65], np.float32) if rng.random() < 0.5 else np.ones(3, np.float32)
    return np.clip(grey[:, :, None] * tint, 0, 255).astype(np.uint8)


def region_set_loss(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Mean of ``-log P(any allowed class)`` over the rows that have an allowed class (0 if none has)."""
    logits = logits.float()
    has = allowed.any(dim=1)
    # Rows without a label get every class allowed: their loss is exactly 0 and their gradient stays finite.
    safe = allowed | ~has[:, None]
    per_row = logits.logsumexp(dim=1) - logits.masked_fill(~safe, -1e4).logsumexp(dim=1)
    return per_row.sum() / has.sum().clamp(min=1)


class ClassifyTask:
    """Plugs the classifier into :func:`numberplate.train.loop.fit`."""

    kind = "classify"
    monitor = "score"

    def __init__(self, config: ClassifyTrainConfig, load_threads: int = 2):
        if not config.data:
            raise ConfigError("classifier training needs at least one data source (--data DIR or [[data]] in the "
                              "config)")
        self.config = config
        self.name = config.name
        self.sources: list[ClassifySource] = []
        by_split: dict[str, list[list[OcrRecord]]] = {s: [] for s in ("train", "val", "test")}
        for source in config.data:
            split_dirs(source.path)  # raises a clear error for a folder that is not a dataset
            self.sources.append(ClassifySource(**{**asdict(source), "name": source.name or Path(source.path).name}))
            for split in by_split:
                by_split[split].append(load_split(source.path, split))
        seen = {r.region.lower() for records in by_split["train"] for r in records if r.state != "garbage"}
        regions = list(config.regions) or sorted(seen - {"", UNKNOWN})
        self.regions = [r for r in regions if r != UNKNOWN] + [UNKNOWN]
        config.model.num_regions = len(self.regions)
        self.labels = RegionLabels(self.regions)
        self.train_sets: list[ClassSet] = []
        self.eval_sets: dict[str, list[ClassSet]] = {"val": [], "test": []}
        self.sample_p: list[np.ndarray] = []
        unlabelled: Counter = Counter()
        for index, source in enumerate(self.sources):
            for split in by_split:
                records = by_split[split][index]
                data = load_set(records, source.name, self.labels, config.model, load_threads)
                lost = [r for r, a, s in zip(data.regions, data.allowed, data.states)
                        if not a.any() and STATES[s] == "readable" and r.lower() not in ("", UNKNOWN)]
                unlabelled.update(f"{source.name}/{split}: {r}" for r in lost)
                if split == "train":
                    self.train_sets.append(data)
                    self.sample_p.append(self._sampling(data, source.balance))
                elif len(data):
                    self.eval_sets[split].append(data)
        for key, count in sorted(unlabelled.items()):
            print(f"warning: {key} ({count} crops) is not among the region classes; its region is not learned",
                  file=sys.stderr)
        if not any(len(s) for s in self.train_sets):
            raise ConfigError("no usable training crops in " + ", ".join(s.path for s in config.data))
        if not self.eval_sets["val"]:
            raise ConfigError("no validation crops: at least one data source needs a val/ split")
        if not self.eval_sets["test"]:
            self.eval_sets["test"] = self.eval_sets["val"]

    @staticmethod
    def _sampling(data: ClassSet, balance: float) -> np.ndarray:
        """Per-crop draw probabilities inside one source: each (region, state) label weighs
        ``count ** -balance``."""
        if not len(data):
            return np.zeros(0)
        keys = [f"{r}|{s}" for r, s in zip(data.regions, data.states)]
        counts = Counter(keys)
        p = np.array([counts[k] ** -balance for k in keys], np.float64)
        return p / p.sum()

    # -- the Task protocol -------------------------------------------------------------------------
    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "regions": self.regions,
            "lines": list(LINE_CLASSES),
            "states": list(STATES),
            "model": asdict(self.config.model),
            "recipe": asdict(self.config),
            "data": {s.name: {"path": s.path, "weight": s.weight, "balance": s.balance, "augment": s.augment,
                              "daylight": s.daylight, "infrared": s.infrared, "train": len(t)}
                     for s, t in zip(self.sources, self.train_sets)},
        }

    def build_model(self) -> nn.Module:
        model = PlateClassifier(self.config.model)
        if self.config.init_from:
            state = load_start_weights(self.config.init_from, self, model)
            weights, fresh = state["model"], []
            old_regions = list(state["task"].get("regions") or [])
            if self.config.fresh_region_head:
                fresh = [k for k in model.state_dict() if k.startswith("region.")]
                print(f"note: {self.config.init_from}: the region head starts afresh (fresh_region_head)",
                      file=sys.stderr)
            elif old_regions != self.regions:
                # Other region classes (a type added, the user's own): the trunk and the other heads are kept,
                # and so are the region head's rows of the classes both lists have; new classes start afresh.
                weights = dict(weights, **region_rows(model.state_dict(), weights, old_regions, self.regions))
                kept = len(set(old_regions) & set(self.regions))
                print(f"note: {self.config.init_from}: region classes differ; {kept} of {len(self.regions)} keep "
                      "their weights, the others start afresh", file=sys.stderr)
            load_weights_except(model, weights, fresh, self.config.init_from)
        return model

    def steps_per_epoch(self, batch_size: int) -> int:
        return max(1, self.config.samples_per_epoch // batch_size)

    def train_batches(self, epoch: int, batch_size: int, rng: np.random.Generator):
        weights = np.array([s.weight if len(t) else 0.0 for s, t in zip(self.sources, self.train_sets)])
        counts = np.floor(weights / weights.sum() * self.config.samples_per_epoch).astype(int)
        picks = [(i, int(j)) for i, n in enumerate(counts) if n
                 for j in rng.choice(len(self.train_sets[i]), size=n, p=self.sample_p[i])]
        order = rng.permutation(len(picks))
        batches = [[picks[k] for k in order[start:start + batch_size]]
                   for start in range(0, len(order) - batch_size + 1, batch_size)]
        seeds = rng.integers(0, 1 << 62, len(batches))
        # The next batch is augmented in a thread while the model trains on this one (cv2 and NumPy release
        # the GIL); each batch has its own seed, so the stream does not depend on the timing.
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(self._make_batch, batches[0], int(seeds[0])) if batches else None
            for index in range(len(batches)):
                batch = pending.result()
                if index + 1 < len(batches):
                    pending = pool.submit(self._make_batch, batches[index + 1], int(seeds[index + 1]))
                yield batch

    def _make_batch(self, batch: list[tuple[int, int]], seed: int):
        rng = np.random.default_rng(seed)
        images = np.stack([self._sample(i, j, rng) for i, j in batch])
        allowed = np.stack([self.train_sets[i].allowed[j] for i, j in batch])
        lines = np.array([self.train_sets[i].lines[j] for i, j in batch], np.int64)
        states = np.array([self.train_sets[i].states[j] for i, j in batch], np.int64)
        return (torch.from_numpy(to_input(images)), torch.from_numpy(allowed), torch.from_numpy(lines),
                torch.from_numpy(states))

    def _sample(self, source: int, index: int, rng: np.random.Generator) -> np.ndarray:
        image = self.train_sets[source].images[index]
        daylight = self.sources[source].daylight
        if daylight and rng.random() < daylight:  # (no draw when off: the stream of older recipes stays)
            image = daylight_look(image)
        infrared = self.sources[source].infrared
        if infrared and rng.random() < infrared:
            image = infrared_look(image, rng)
        if rng.random() < self.sources[source].augment:
            image = augment_crop(image, rng, self.config.augment)
        return image

    def loss(self, model: nn.Module, batch, device: torch.device) -> torch.Tensor:
        images, allowed, lines, states = batch
        region, line_logits, state_logits = model(images.to(device, non_blocking=True,
                                                            memory_format=torch.channels_last))
        w_region, w_lines, w_state = self.config.loss_weights
        lines = lines.to(device)
        loss = w_region * region_set_loss(region, allowed.to(device))
        loss = loss + w_state * F.cross_entropy(state_logits.float(), states.to(device))
        if (lines >= 0).any():
            loss = loss + w_lines * F.cross_entropy(line_logits.float(), lines, ignore_index=-1)
        return loss

    def predict(self, model: nn.Module, images: np.ndarray, device: torch.device) -> tuple[np.ndarray, ...]:
        """Class indices (region, lines, state) for N x H x W x 3 uint8 crops."""
        outs: list[list[np.ndarray]] = [[], [], []]
        for start in range(0, len(images), 512):
            batch = torch.from_numpy(to_input(images[start:start + 512])).to(device)
            for k, logits in enumerate(model(batch)):
                outs[k].append(logits.float().argmax(dim=1).cpu().numpy())
        return tuple(np.concatenate(o) if o else np.zeros(0, np.int64) for o in outs)

    def evaluate(self, model: nn.Module, split: str, device: torch.device) -> dict[str, float]:
        metrics: dict[str, float] = {}
        per_head: dict[str, list[float]] = {"region_acc": [], "state_acc": [], "lines_acc": []}
        for data in self.eval_sets[split]:
            region, lines, state = self.predict(model, data.images, device)
            predicted = [(self.regions[r], LINE_CLASSES[n], STATES[s]) for r, n, s in zip(region, lines, state)]
            truth = [(r, n, STATES[s], e) for r, n, s, e in zip(data.regions, data.count_lines, data.states, data.exact)]
            result = score(predicted, truth, self.labels)
            for key, value in result.items():
                if key.endswith("_n"):
                    continue
                metrics[f"{key}/{data.name}"] = round(value, 5)
                if key in per_head:
                    per_head[key].append(value)
        # Means over sources: a small real set counts as much as a large synthetic one.
        for key, values in per_head.items():
            metrics[key] = round(float(np.mean(values)), 5) if values else 0.0
        metrics["score"] = round((metrics["region_acc"] + metrics["state_acc"]) / 2, 5)
        return metrics
