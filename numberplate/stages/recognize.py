"""Text recognition on plate crops: preprocessing, the CRNN through ONNX Runtime, CTC decoding.

The same :func:`preprocess_crop` feeds training and inference, so they never drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from numberplate.data.images import read_image
from numberplate.errors import NumberplateError
from numberplate.runtime import LoadedModel, list_shipped_models, load_model
from numberplate.stages.postprocess import DEFAULT_MAX_COST, FormatCorrector
from numberplate.stages.routing import DEFAULT_ROUTES, Route, route
from numberplate.types import TextReading

BATCH_SIZE = 64


def resize_crop(image: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    """RGB crop (H x W x 3 uint8) -> ``height x width x channels`` uint8, grey-scale when channels == 1."""
    if image.ndim == 2:
        image = image[:, :, None].repeat(3, axis=2)
    if channels == 1:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]
    shrinking = image.shape[0] > height or image.shape[1] > width
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return resized.reshape(height, width, channels)


# Each line strip reaches this far (share of the crop height) into its neighbours, so a split that is
# a little off still leaves every character whole in one strip.
LINE_OVERLAP = 0.08


def lines_side_by_side(image: np.ndarray, lines: int) -> np.ndarray:
    """A multi-line plate crop -> one-line image: the text lines cut apart and put side by side.

    The recognizer reads one line of characters; a two-line square plate (``AB`` over ``1234``)
    becomes ``AB | 1234`` read left to right, top line first. One-line crops pass through unchanged.
    """
    if lines <= 1:
        return image
    height = image.shape[0]
    strips = []
    for index in range(lines):
        top = max(0, int(round((index / lines - LINE_OVERLAP) * height)))
        bottom = min(height, int(round(((index + 1) / lines + LINE_OVERLAP) * height)))
        strips.append(image[top:bottom])
    strip_height = min(s.shape[0] for s in strips)
    return np.hstack([s[:strip_height] for s in strips])


def to_tensor_layout(batch: np.ndarray) -> np.ndarray:
    """N x H x W x C uint8 -> N x C x H x W float32 in [0, 1] (the model's input)."""
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def preprocess_crop(image: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    """One RGB crop -> C x H x W float32 model input."""
    return to_tensor_layout(resize_crop(image, height, width, channels)[None])[0]


def mask_classes(probs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Keep only the allowed classes (blank always allowed) and renormalise: a region's characters."""
    probs = probs * allowed[None, None, :]
    return probs / np.maximum(probs.sum(axis=2, keepdims=True), 1e-12)


def ctc_greedy_decode(probs: np.ndarray, alphabet: str,
                      allowed: np.ndarray | None = None) -> list[tuple[str, tuple[float, ...]]]:
    """Best-path CTC decoding with per-character confidence.

    Args:
        probs: N x T x (1 + len(alphabet)) softmax outputs; class 0 is the blank.
        alphabet: characters of classes 1..
        allowed: optional boolean mask over classes (blank always allowed): the region's characters.
            Probabilities are renormalised over the allowed classes before decoding.

    Returns:
        For each item, the text and one confidence per character (the highest probability the
        character reached over the time steps it spans).
    """
    if allowed is not None:
        probs = mask_classes(probs, allowed)
    best = probs.argmax(axis=2)  # N x T
    best_p = probs.max(axis=2)
    results = []
    for labels, scores in zip(best, best_p):
        chars, confs, previous = [], [], 0
        for label, score in zip(labels, scores):
            if label != 0 and label == previous:
                confs[-1] = max(confs[-1], float(score))
            elif label != 0:
                chars.append(alphabet[label - 1])
                confs.append(float(score))
            previous = label
        results.append(("".join(chars), tuple(confs)))
    return results


def default_ocr_model(region: str | None, lines: int = 1, routes: Sequence[Route] = DEFAULT_ROUTES) -> str:
    """Shipped model for plates of a region with ``lines`` text lines: the routing table's choice when
    that model is shipped, else the universal one."""
    names = {card["name"] for card in list_shipped_models("ocr")}
    country = None
    if region:
        from numberplate.regions import resolve

        country = resolve(region)[0].country
    chosen = route(country, lines, routes)
    if chosen in names or Path(chosen).suffix == ".onnx":
        return chosen
    if "ocr-universal" not in names:
        raise NumberplateError("no shipped OCR model found in the package (numberplate/weights is empty); "
                               "reinstall the package or pass --model PATH.onnx")
    return "ocr-universal"


@dataclass
class _OcrModel:
    """One loaded recognizer and what decoding needs to know about it."""

    loaded: LoadedModel
    alphabet: str
    height: int
    width: int
    channels: int
    allowed: np.ndarray | None  # the region's characters among the model's classes
    corrector: FormatCorrector | None


class Recognizer:
    """Reads the text of plate crops.

    Args:
        region: region code (``ua``, ``de``, ``us``...) to pick the region's models, restrict the
            output to the region's alphabet and fit its plate formats; None reads unrestricted.
        model: a shipped model name or an ``.onnx`` path for every crop, overriding the routing table.
        threads: ONNX Runtime intra-op threads (None = all cores).
        correct_format: with a region, fit each reading to the region's plate formats using the
            per-character probabilities (see :mod:`numberplate.stages.postprocess`).
        max_format_cost: how much less probable (nats) a format-fitting reading may be than the free one.
        routes: which model reads plates of a region with 1, 2 or 3 lines (see ``stages/routing.py``).

    Example:
        >>> Recognizer(region="ua")("crop.jpg").text  # doctest: +SKIP
        'AA1234BB'
    """

    def __init__(self, region: str | None = None, model: str | Path | None = None, threads: int | None = None,
                 correct_format: bool = True, max_format_cost: float = DEFAULT_MAX_COST,
                 routes: Sequence[Route] = DEFAULT_ROUTES):
        self.region = region.lower() if region else None
        self.specs = []
        if self.region:
            from numberplate.regions import resolve

            try:
                self.specs = resolve(self.region)
            except KeyError as exc:
                raise NumberplateError(str(exc.args[0])) from None
        self.fixed_model = model
        self.threads = threads
        self.correct_format = correct_format
        self.max_format_cost = max_format_cost
        self.routes = tuple(routes)
        self._models: dict[str, _OcrModel] = {}
        primary = self._model_for(1)  # load now: a missing or corrupt model fails here, not mid-run
        self.model: LoadedModel = primary.loaded
        self.alphabet, self.height, self.width, self.channels = (primary.alphabet, primary.height, primary.width,
                                                                 primary.channels)

    def model_name(self, lines: int) -> str:
        return str(self.fixed_model) if self.fixed_model else default_ocr_model(self.region, lines, self.routes)

    def _model_for(self, lines: int) -> _OcrModel:
        name = self.model_name(lines)
        if name not in self._models:
            loaded = load_model(name, task="ocr", threads=self.threads)
            card = loaded.card
            alphabet = card["alphabet"]
            allowed = corrector = None
            if self.specs:
                region_chars = set().union(*(spec.alphabet for spec in self.specs))
                allowed = np.array([True] + [c in region_chars for c in alphabet])
                if self.correct_format:
                    corrector = FormatCorrector(self.specs, alphabet, self.max_format_cost)
            self._models[name] = _OcrModel(loaded, alphabet, card["input"]["height"], card["input"]["width"],
                                           card["input"]["channels"], allowed, corrector)
        return self._models[name]

    def read_batch(self, images: Sequence[np.ndarray | str | Path],
                   lines: int | Sequence[int] = 1) -> list[TextReading]:
        """Read many crops (RGB arrays or file paths); batched through the model(s).

        Args:
            images: the crops.
            lines: text lines per crop (one number for all, or one per crop): multi-line plates are
                cut into lines read top to bottom, then put in the canonical order of their format.
        """
        arrays = [read_image(i) if isinstance(i, str | Path) else i for i in images]
        line_counts = [lines] * len(arrays) if isinstance(lines, int) else list(lines)
        if len(line_counts) != len(arrays):
            raise ValueError(f"{len(arrays)} crops but {len(line_counts)} line counts")
        groups: dict[str, list[int]] = {}
        for index, count in enumerate(line_counts):
            groups.setdefault(self.model_name(count), []).append(index)
        readings: list[TextReading | None] = [None] * len(arrays)
        for indices in groups.values():
            ocr = self._model_for(line_counts[indices[0]])
            for start in range(0, len(indices), BATCH_SIZE):
                chunk = indices[start:start + BATCH_SIZE]
                batch = np.stack([resize_crop(lines_side_by_side(arrays[i], line_counts[i]), ocr.height, ocr.width,
                                              ocr.channels) for i in chunk])
                probs = ocr.loaded.run(to_tensor_layout(batch))
                if ocr.allowed is not None:
                    probs = mask_classes(probs, ocr.allowed)
                for i, item_probs, (text, confs) in zip(chunk, probs, ctc_greedy_decode(probs, ocr.alphabet)):
                    readings[i] = self._finish(ocr, item_probs, text, confs, line_counts[i])
        return readings

    def _finish(self, ocr: _OcrModel, probs: np.ndarray, text: str, confs: tuple[float, ...],
                lines: int) -> TextReading:
        """The reading of one crop, fitted to the region's formats when there is a region."""
        format_valid = plate_type = raw_text = None
        if ocr.corrector is not None:
            fit, accepted = ocr.corrector.correct(probs, lines, (text, confs))
            format_valid = accepted
            if accepted:
                plate_type = fit.spec.code
                order = fit.spec.canonical_order(len(fit.text))
                canonical = "".join(fit.text[i] for i in order)
                if canonical != text:
                    raw_text, text = text, canonical
                    confs = tuple(fit.char_confidences[i] for i in order)
        confidence = float(np.prod(confs)) if confs else 0.0
        return TextReading(text, confidence, confs, self.region, ocr.loaded.name, format_valid, plate_type, raw_text)

    def __call__(self, image: np.ndarray | str | Path, lines: int = 1) -> TextReading:
        return self.read_batch([image], lines)[0]
