"""Model readings for unlabelled crops: ``numberplate data prelabel`` and the annotation tool's pre-fill.

A reading is stored in the crop's annotation as ``predicted`` (beside the human label, never instead
of it)::

    "predicted": {"text": "AB1234CD", "confidence": 0.93, "engine": "numberplate", "model": "ocr-ua", ...}

Engines: ``numberplate`` (the shipped classifier when there is one, then the routed OCR model) and
``tesseract`` (the ``tesseract`` program, one line, plate characters only).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numberplate.errors import InputError, NumberplateError

ENGINES = ("numberplate", "tesseract")
_TESSERACT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class Prediction:
    """One engine's reading of one crop."""

    text: str
    confidence: float | None
    engine: str
    model: str | None = None
    region: str | None = None
    lines: int | None = None
    state: str | None = None

    def to_dict(self) -> dict:
        out = {"text": self.text, "confidence": None if self.confidence is None else round(self.confidence, 4),
               "engine": self.engine}
        for key in ("model", "region", "lines", "state"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


class NumberplateEngine:
    """The package's own models: classify (when a classifier is shipped), route, read.

    Args:
        region: read every crop as this region; None lets the classifier (or nothing) decide.
        threads: ONNX Runtime threads.
    """

    name = "numberplate"

    def __init__(self, region: str | None = None, threads: int | None = None):
        from numberplate.reader import Reader

        self.reader = Reader(region=region, threads=threads)

    def read(self, crops: Sequence[np.ndarray], lines: Sequence[int] | None = None) -> list[Prediction]:
        """Read crops; ``lines`` (the annotations' line counts) stand in when no classifier is shipped."""
        from numberplate.types import PlateClass

        if self.reader.classifier is not None:
            classes = self.reader.classifier.classify_batch(list(crops)) if crops else []
        else:
            counts = list(lines) if lines is not None else [1] * len(crops)
            classes = [PlateClass("unknown", 0.0, n, 1.0, "readable", 0.0) for n in counts]
        readings = self.reader.read_crops(list(crops), classes)
        out = []
        for reading, plate_class in zip(readings, classes):
            classified = self.reader.classifier is not None
            state = plate_class.state if classified else None
            lines_out = plate_class.lines if classified else None
            if reading is None:  # garbage or empty: nothing to read
                out.append(Prediction("", plate_class.state_confidence, self.name, None, None, lines_out, state))
                continue
            region = plate_class.region if classified and plate_class.region != "unknown" else reading.region
            out.append(Prediction(reading.text, reading.confidence, self.name, reading.model, region, lines_out, state))
        return out


class TesseractEngine:
    """The ``tesseract`` program reading each crop as one line of plate characters."""

    name = "tesseract"

    def __init__(self):
        self.program = shutil.which("tesseract")
        if self.program is None:
            raise NumberplateError("tesseract is not installed (Debian: apt-get install tesseract-ocr); "
                                   "use --engine numberplate")

    def read_one(self, crop: np.ndarray) -> Prediction:
        import cv2

        ok, buf = cv2.imencode(".png", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        result = subprocess.run(
            [self.program, "stdin", "stdout", "--psm", "7", "-c", f"tessedit_char_whitelist={_TESSERACT_CHARS}", "tsv"],
            input=buf.tobytes(), capture_output=True, check=False, timeout=60,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        words, confidences = [], []
        for row in result.stdout.decode("utf-8", "replace").splitlines()[1:]:
            cells = row.split("\t")
            if len(cells) == 12 and cells[11].strip():
                try:
                    confidence = float(cells[10])
                except ValueError:
                    continue
                if confidence >= 0:
                    words.append(cells[11].strip())
                    confidences.append(confidence / 100)
        text = "".join(c for c in "".join(words).upper() if c.isalnum())
        # Tesseract 5 reports confidence 0 for every word when a character whitelist is set: unknown, not zero.
        confidence = min(confidences) if confidences and max(confidences) > 0 else None
        return Prediction(text, confidence if text else 0.0, self.name, "tesseract")

    def read(self, crops: Sequence[np.ndarray], lines: Sequence[int] | None = None) -> list[Prediction]:
        return [self.read_one(c) for c in crops]


def make_engine(name: str, region: str | None = None, threads: int | None = None):
    """An engine by name (see :data:`ENGINES`)."""
    if name == "numberplate":
        return NumberplateEngine(region, threads)
    if name == "tesseract":
        return TesseractEngine()
    raise InputError(None, f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")


@dataclass
class PrelabelSummary:
    read: int = 0
    skipped_moderated: int = 0
    skipped_existing: int = 0
    changed_meanwhile: int = 0
    failed: int = 0


def prelabel(root: str | Path, engine, include_moderated: bool = False, keep_existing: bool = False,
             batch_size: int = 64, progress=None) -> PrelabelSummary:
    """Store ``engine``'s reading as ``predicted`` in each unmoderated crop's annotation.

    Labels (``description``, region, state, moderation) are left alone. Each annotation is rewritten
    atomically and only if nobody changed it since it was read (an annotation tool may be open on the same
    set): such items are counted in ``changed_meanwhile`` and left as the other writer left them.

    Args:
        root: Nomeroff-layout dataset.
        engine: from :func:`make_engine`.
        include_moderated: read moderated crops too.
        keep_existing: skip crops that already have a ``predicted`` reading.
        progress: called with the number of crops done so far, after each batch.
    """
    from numberplate.data.images import read_image
    from numberplate.data.nomeroff import iter_records, split_dirs
    from numberplate.data.revision import StaleRevision, json_bytes, read_bytes, replace_if_unchanged, revision_of

    summary = PrelabelSummary()
    todo = []
    for split_dir in split_dirs(root):
        for record in iter_records(split_dir):
            if record.moderated and not include_moderated:
                summary.skipped_moderated += 1
            elif keep_existing and "predicted" in record.extra:
                summary.skipped_existing += 1
            else:
                # The content as listed: the reading is added to exactly this, or not at all.
                todo.append((record, read_bytes(record.ann_path)))
    for start in range(0, len(todo), batch_size):
        chunk, crops = [], []
        for record, data in todo[start:start + batch_size]:
            try:
                crops.append(read_image(record.image_path))
                chunk.append((record, data))
            except InputError:
                summary.failed += 1
        predictions = engine.read(crops, [r.count_lines for r, _ in chunk]) if crops else []
        for (record, data), prediction in zip(chunk, predictions):
            if data is None:
                summary.changed_meanwhile += 1
                continue
            try:
                ann = json.loads(data)
            except json.JSONDecodeError:
                summary.failed += 1
                continue
            ann["predicted"] = prediction.to_dict()
            try:
                replace_if_unchanged(record.ann_path, revision_of(data), json_bytes(ann))
                summary.read += 1
            except StaleRevision:
                summary.changed_meanwhile += 1
        if progress is not None:
            progress(min(start + batch_size, len(todo)), len(todo))
    return summary
