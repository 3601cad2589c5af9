"""ONNX Runtime sessions for shipped and user models, each checked against its JSON card.

A model is ``NAME.onnx`` plus ``NAME.json`` (the card): task, input contract, alphabet or classes, the
training recipe, measured metrics and the sha256 of the ONNX file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from numberplate.errors import WeightsError

CARD_REQUIRED = ("name", "task", "input", "sha256")


def shipped_weights_dir() -> Path:
    """The folder of the weights that ship inside the package."""
    return Path(str(resources.files("numberplate") / "weights"))


def list_shipped_models(task: str | None = None) -> list[dict]:
    """Cards of the shipped models, optionally only those of one task ("ocr", ...)."""
    cards = []
    for card_path in sorted(shipped_weights_dir().glob("*.json")):
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a broken card is reported when that model is loaded, not while listing
        if task is None or card.get("task") == task:
            cards.append(card)
    return cards


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class LoadedModel:
    """An ONNX Runtime session with its card."""

    name: str
    path: Path
    card: dict
    session: object  # onnxruntime.InferenceSession
    input_name: str

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The first output of the graph for ``batch``."""
        return self.session.run(None, {self.input_name: batch})[0]

    def run_all(self, batch: np.ndarray) -> list[np.ndarray]:
        """Every output of the graph for ``batch``, in the graph's order."""
        return self.session.run(None, {self.input_name: batch})


def resolve_model_path(name_or_path: str | Path) -> Path:
    """A shipped model name (``ocr-universal``) or a path to an ``.onnx`` file -> the ``.onnx`` path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".onnx" or candidate.exists():
        return candidate
    return shipped_weights_dir() / f"{name_or_path}.onnx"


def load_model(name_or_path: str | Path, task: str, threads: int | None = None) -> LoadedModel:
    """Open a model after checking its card, hash and input contract.

    Args:
        name_or_path: shipped model name or path of an ``.onnx`` file with its ``.json`` card beside it.
        task: the task the caller expects ("ocr", ...).
        threads: intra-op threads for ONNX Runtime (None = number of CPU cores).

    Raises:
        WeightsError: file or card missing, hash mismatch (corrupt or replaced file), wrong task, or
            a file ONNX Runtime cannot load.
    """
    import onnxruntime as ort

    path = resolve_model_path(name_or_path)
    card_path = path.with_suffix(".json")
    if not path.is_file():
        known = ", ".join(c["name"] for c in list_shipped_models(task)) or "none"
        raise WeightsError(f"{path}: model file not found (shipped {task} models: {known})")
    if not card_path.is_file():
        raise WeightsError(f"{card_path}: model card not found (every .onnx needs its .json card beside it)")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{card_path}: unreadable model card ({exc})") from None
    missing = [k for k in CARD_REQUIRED if k not in card]
    if missing:
        raise WeightsError(f"{card_path}: model card lacks {', '.join(missing)}")
    if card["task"] != task:
        raise WeightsError(f"{path}: is a {card['task']!r} model, expected a {task!r} model")
    actual = sha256_of(path)
    if actual != card["sha256"]:
        raise WeightsError(f"{path}: sha256 {actual[:12]}... does not match its card ({card['sha256'][:12]}...): "
                           "the file is corrupt or was replaced")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # A pipeline runs several models one after the other on few cores: idle worker threads that spin
    # waiting for work would steal the CPU from the next model (the detector ran 2-3x slower).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # ORT raises several private types for bad files
        raise WeightsError(f"{path}: ONNX Runtime cannot load this model ({exc})") from None
    inputs = session.get_inputs()
    expected = card["input"]
    shape = inputs[0].shape
    # A size left open in the card (detectors take any multiple of 32) or in the graph is not checked.
    wanted = (expected.get("channels"), expected.get("height"), expected.get("width"))
    if len(shape) != 4 or any(isinstance(got, int) and isinstance(want, int) and got != want
                              for got, want in zip(shape[1:], wanted)):
        raise WeightsError(f"{path}: input shape {shape} does not match its card {expected}")
    return LoadedModel(card.get("name", path.stem), path, card, session, inputs[0].name)
