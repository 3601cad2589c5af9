"""OCR training task: CRNN + CTC on Nomeroff-layout crop sets, synthetic and real mixed by weight."""

from __future__ import annotations

import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from numberplate.data.images import read_image
from numberplate.data.nomeroff import load_split, split_dirs
from numberplate.data.records import OcrRecord
from numberplate.errors import ConfigError, InputError
from numberplate.models.crnn import CRNN, CRNNConfig
from numberplate.regions import LATIN_ALPHABET, reading_order, resolve, to_internal
from numberplate.stages.recognize import (
    ctc_greedy_decode,
    lines_side_by_side,
    resize_crop,
    stretch_contrast,
    to_tensor_layout,
)
from numberplate.train.loop import LoopConfig
from numberplate.train.metrics import char_error_rate, exact_accuracy
from numberplate.train.onnx_import import load_start_weights, load_weights_except


@dataclass
class DataSource:
    """One dataset folder in the Nomeroff layout and its share of each training epoch.

    Attributes:
        path: folder holding ``train``/``val``/``test`` (each with ``img`` and ``ann``).
        weight: relative share of training samples drawn from this source per epoch.
        name: short name used in logs and metrics (default: the folder name).
        downscale, jpeg: this source's own ``[augment]`` shrink and JPEG probabilities (None = the recipe's):
            crops already as small as the photos they stand for need no more shrinking.
    """

    path: str
    weight: float = 1.0
    name: str = ""
    downscale: float | None = None
    jpeg: float | None = None

    def augment(self, base: AugmentConfig) -> AugmentConfig:
        """The augmentation settings for this source's crops."""
        changes = {k: v for k, v in (("downscale", self.downscale), ("jpeg", self.jpeg)) if v is not None}
        return replace(base, **changes) if changes else base


@dataclass
class AugmentConfig:
    """Cheap augmentations applied on the model-sized crop (probabilities and ranges)."""

    affine: float = 0.8
    max_rotate: float = 3.0
    max_shift: float = 0.04
    scale: tuple[float, float] = (0.9, 1.08)
    photometric: float = 0.8
    blur: float = 0.2
    noise: float = 0.3
    downscale: float = 0.2
    downscale_range: tuple[float, float] = (0.35, 0.7)
    jpeg: float = 0.0
    jpeg_quality: tuple[int, int] = (25, 70)
    invert: float = 0.0


@dataclass
class OcrTrainConfig:
    """A recognizer training recipe (mirrors ``configs/ocr-*.toml``).

    Attributes:
        name: model name; also names the run folder ``logs/<name>-<date>``.
        alphabet: "latin" (digits + A-Z), "data" (characters of the training texts) or a region code
            whose specs define it (e.g. "ua").
        data: the dataset folders and their weights.
        max_lines: keep only plates with at most this many text lines.
        samples_per_epoch: training samples drawn per epoch (with replacement, by source weight).
        init_from: checkpoint (``.pt``) to start from, e.g. to fine-tune the universal model.
        model: network shape.
        augment: augmentation settings.
        loop: optimisation settings.
    """

    name: str = "ocr"
    alphabet: str = "latin"
    data: list[DataSource] = field(default_factory=list)
    max_lines: int = 1
    samples_per_epoch: int = 20000
    init_from: str | None = None
    model: CRNNConfig = field(default_factory=CRNNConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)


@dataclass
class CropSet:
    """Model-sized crops of one split of one source, in memory."""

    name: str
    images: np.ndarray  # N x H x W x C uint8
    texts: list[str]


def resolve_alphabet(spec: str, texts: list[str]) -> str:
    if spec == "latin":
        return LATIN_ALPHABET
    if spec == "data":
        return "".join(sorted(set("".join(texts))))
    try:
        return "".join(sorted(set().union(*(s.alphabet for s in resolve(spec)))))
    except KeyError as exc:
        raise ConfigError(f"alphabet: {exc.args[0]}") from None


def _usable(record: OcrRecord, max_lines: int) -> bool:
    return bool(record.text) and record.state == "readable" and record.count_lines <= max_lines


def load_crops(records: list[OcrRecord], name: str, config: CRNNConfig, threads: int = 2) -> CropSet:
    """Read and resize every record's image; unreadable images are reported and skipped."""
    h, w, c = config.input_height, config.input_width, config.in_channels

    def load(record: OcrRecord):
        try:
            return resize_crop(lines_side_by_side(read_image(record.image_path), record.count_lines), h, w, c)
        except InputError as exc:
            print(f"warning: skipped {exc}", file=sys.stderr)
            return None

    with ThreadPoolExecutor(max(1, threads)) as pool:
        arrays = list(pool.map(load, records))
    keep = [i for i, a in enumerate(arrays) if a is not None]
    images = np.stack([arrays[i] for i in keep]) if keep else np.zeros((0, h, w, c), np.uint8)
    # Multi-line plates are read line after line: their target is the text in that order.
    texts = [reading_order(records[i].text, records[i].region, records[i].count_lines) for i in keep]
    return CropSet(name, images, texts)


def _jpeg(image: np.ndarray, rng: np.random.Generator, quality: tuple[int, int]) -> np.ndarray:
    """``image`` (float, 0..255) through a JPEG encode/decode at a random quality, as float32."""
    data = np.clip(image, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", data, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(quality[0], quality[1] + 1))])
    decoded = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else data
    return decoded.reshape(data.shape).astype(np.float32)


def augment_crop(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Geometric and photometric jitter on one H x W x C uint8 crop (model size in, same size out)."""
    h, w = image.shape[:2]
    out = image
    if rng.random() < cfg.affine:
        angle = rng.uniform(-cfg.max_rotate, cfg.max_rotate)
        scale = rng.uniform(*cfg.scale)
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        matrix[0, 2] += rng.uniform(-cfg.max_shift, cfg.max_shift) * w
        matrix[1, 2] += rng.uniform(-cfg.max_shift, cfg.max_shift) * h * 2
        matrix[0, 1] += rng.uniform(-0.08, 0.08)  # shear: italic-looking perspective leftovers
        out = cv2.warpAffine(out, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE).reshape(h, w, -1)
    out = out.astype(np.float32)
    if rng.random() < cfg.photometric:
        contrast = rng.uniform(0.5, 1.3)
        brightness = rng.uniform(-40, 40)
        out = (out - out.mean()) * contrast + out.mean() + brightness
        out = np.clip(out, 0, 255)
        gamma = rng.uniform(0.7, 1.4)
        out = 255.0 * (out / 255.0) ** gamma
    if rng.random() < cfg.downscale:
        # A plate far from the camera: few pixels, often JPEG-compressed at that size with the whole photo.
        factor = rng.uniform(*cfg.downscale_range)
        small = cv2.resize(out, (max(8, int(w * factor)), max(6, int(h * factor))), interpolation=cv2.INTER_AREA)
        if rng.random() < cfg.jpeg:
            small = _jpeg(small, rng, cfg.jpeg_quality)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)
    elif rng.random() < cfg.jpeg:
        out = _jpeg(out, rng, cfg.jpeg_quality).reshape(h, w, -1)
    if rng.random() < cfg.blur:
        sigma = rng.uniform(0.4, 1.2)
        out = cv2.GaussianBlur(out, (0, 0), sigma).reshape(h, w, -1)
    if rng.random() < cfg.noise:
        out = out + rng.normal(0, rng.uniform(3, 14), out.shape)
    if rng.random() < cfg.invert:
        out = 255 - out
    return np.clip(out, 0, 255).astype(np.uint8)


class OcrTask:
    """Plugs the recognizer into :func:`numberplate.train.loop.fit`."""

    kind = "ocr"
    monitor = "acc"

    def __init__(self, config: OcrTrainConfig, load_threads: int = 2):
        if not config.data:
            raise ConfigError("ocr training needs at least one data source (--data DIR or [[data]] in the config)")
        self.config = config
        self.name = config.name
        self.sources: list[DataSource] = []
        self.train_sets: list[CropSet] = []
        self.eval_sets: dict[str, list[CropSet]] = {"val": [], "test": []}
        records_by_split: dict[str, list[tuple[DataSource, list[OcrRecord]]]] = {s: [] for s in ("train", "val", "test")}
        for source in config.data:
            split_dirs(source.path)  # raises a clear error for a folder that is not a dataset
            name = source.name or Path(source.path).name
            source = replace(source, name=name)
            self.sources.append(source)
            for split in records_by_split:
                records = [r for r in load_split(source.path, split) if _usable(r, config.max_lines)]
                for r in records:
                    r.text = to_internal(r.text)
                records_by_split[split].append((source, records))
        all_train_texts = [r.text for _, recs in records_by_split["train"] for r in recs]
        self.alphabet = resolve_alphabet(config.alphabet, all_train_texts)
        if config.model.num_classes != len(self.alphabet) + 1:
            config.model.num_classes = len(self.alphabet) + 1
        self.char_index = {c: i + 1 for i, c in enumerate(self.alphabet)}
        self.dropped = Counter()
        for split, pairs in records_by_split.items():
            for source, records in pairs:
                ok = [r for r in records if all(c in self.char_index for c in r.text)]
                self.dropped[f"{source.name}/{split}"] += len(records) - len(ok)
                crops = load_crops(ok, source.name, config.model)
                if split == "train":
                    self.train_sets.append(crops)
                elif len(crops.texts):
                    self.eval_sets[split].append(crops)
        for key, count in self.dropped.items():
            if count:
                print(f"warning: {key}: {count} texts with characters outside the alphabet were left out",
                      file=sys.stderr)
        if not any(len(s.texts) for s in self.train_sets):
            raise ConfigError("no usable training samples in " + ", ".join(s.path for s in config.data))
        if not self.eval_sets["val"]:
            raise ConfigError("no validation samples: at least one data source needs a val/ split")
        if not self.eval_sets["test"]:
            self.eval_sets["test"] = self.eval_sets["val"]

    # -- the Task protocol -------------------------------------------------------------------------
    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "alphabet": self.alphabet,
            "model": asdict(self.config.model),
            "recipe": asdict(self.config),
            "data": {s.name: {"path": s.path, "weight": s.weight,
                              "train": len(t.texts)} for s, t in zip(self.sources, self.train_sets)},
        }

    def build_model(self) -> nn.Module:
        model = CRNN(self.config.model)
        if self.config.init_from:
            state = load_start_weights(self.config.init_from, self, model)
            if state["task"]["alphabet"] != self.alphabet:
                raise ConfigError(f"{self.config.init_from}: its alphabet {state['task']['alphabet']!r} "
                                  f"differs from this run's {self.alphabet!r}")
            weights, own = state["model"], model.state_dict()
            # Another input height changes only the last convolution's kernel (it collapses H/16 rows):
            # keep everything else, start that layer afresh.
            resized = [k for k, v in weights.items() if k in own and own[k].shape != v.shape]
            if resized:
                print(f"note: {self.config.init_from}: {', '.join(resized)} differ in shape (another input size); "
                      "those start afresh", file=sys.stderr)
            load_weights_except(model, weights, resized, self.config.init_from)
        return model

    def steps_per_epoch(self, batch_size: int) -> int:
        return max(1, self.config.samples_per_epoch // batch_size)

    def train_batches(self, epoch: int, batch_size: int, rng: np.random.Generator):
        weights = np.array([s.weight if len(t.texts) else 0.0 for s, t in zip(self.sources, self.train_sets)])
        counts = np.floor(weights / weights.sum() * self.config.samples_per_epoch).astype(int)
        picks = [(i, j) for i, n in enumerate(counts) for j in rng.integers(0, len(self.train_sets[i].texts), n)]
        order = rng.permutation(len(picks))
        augments = [source.augment(self.config.augment) for source in self.sources]
        for start in range(0, len(order) - batch_size + 1, batch_size):
            batch = [picks[k] for k in order[start:start + batch_size]]
            images = np.stack([augment_crop(self.train_sets[i].images[j], rng, augments[i]) for i, j in batch])
            texts = [self.train_sets[i].texts[j] for i, j in batch]
            targets = torch.tensor([self.char_index[c] for t in texts for c in t], dtype=torch.long)
            lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
            images = stretch_contrast(images, self.config.model.min_contrast)
            yield torch.from_numpy(to_tensor_layout(images)), targets, lengths

    def loss(self, model: nn.Module, batch, device: torch.device) -> torch.Tensor:
        images, targets, lengths = batch
        logits = model(images.to(device, non_blocking=True, memory_format=torch.channels_last))  # B, T, C
        log_probs = logits.float().log_softmax(2).permute(1, 0, 2)  # T, B, C for ctc_loss
        input_lengths = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
        return F.ctc_loss(log_probs, targets.to(device), input_lengths, lengths, blank=0, zero_infinity=True)

    def predict(self, model: nn.Module, images: np.ndarray, device: torch.device) -> list[str]:
        texts = []
        for start in range(0, len(images), 512):
            chunk = stretch_contrast(images[start:start + 512], self.config.model.min_contrast)
            batch = torch.from_numpy(to_tensor_layout(chunk)).to(device)
            probs = model(batch).float().softmax(2).cpu().numpy()
            texts.extend(t for t, _ in ctc_greedy_decode(probs, self.alphabet))
        return texts

    def evaluate(self, model: nn.Module, split: str, device: torch.device) -> dict[str, float]:
        metrics: dict[str, float] = {}
        accs = []
        for crops in self.eval_sets[split]:
            preds = self.predict(model, crops.images, device)
            acc = exact_accuracy(preds, crops.texts)
            metrics[f"acc/{crops.name}"] = round(acc, 5)
            metrics[f"cer/{crops.name}"] = round(char_error_rate(preds, crops.texts), 5)
            accs.append(acc)
        metrics["acc"] = round(float(np.mean(accs)), 5)  # mean over sources: small real sets count as much
        return metrics
