"""Export a trained checkpoint to ONNX with its JSON card, and check ONNX Runtime agrees with PyTorch."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn

from numberplate import __version__
from numberplate.data.atomic import atomic_write_json
from numberplate.errors import ConfigError, WeightsError
from numberplate.models.classifier import ClassifierConfig, PlateClassifier
from numberplate.models.crnn import CRNN, CRNNConfig
from numberplate.models.detector import CORNER_SCALE, STRIDE, DetectorConfig, PlateDetector
from numberplate.models.refiner import CornerRefiner, RefinerConfig
from numberplate.runtime import load_model, sha256_of
from numberplate.train.config import from_dict
from numberplate.train.loop import load_checkpoint, read_log

PARITY_TOLERANCE = 1e-4


class _WithSoftmax(nn.Module):
    """The exported graph returns probabilities, so inference needs no extra math (softmax once)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images).softmax(-1)


# The network and its config class per task kind.
_MODELS = {"ocr": (CRNN, CRNNConfig), "detect": (PlateDetector, DetectorConfig),
           "classify": (PlateClassifier, ClassifierConfig), "refine": (CornerRefiner, RefinerConfig)}


def build_from_checkpoint(state: dict) -> tuple[nn.Module, dict]:
    task = state["task"]
    kind = task.get("kind")
    if kind not in _MODELS:
        raise ConfigError(f"cannot export a {kind!r} checkpoint")
    model_type, config_type = _MODELS[kind]
    model = model_type(from_dict(config_type, task["model"], "checkpoint task.model"))
    model.load_state_dict(state["model"])
    return model.eval(), task


def export_checkpoint(checkpoint: str | Path, out: str | Path, name: str | None = None,
                      metrics: dict | None = None, extra_card: dict | None = None) -> dict:
    """Write ``out`` (.onnx) and its card (.json beside it); return the card.

    Args:
        checkpoint: ``best.pt`` written by training.
        out: target ``.onnx`` path.
        name: model name in the card (default: the file stem).
        metrics: measured metrics to record (default: the checkpoint's validation metrics).
        extra_card: more card fields (e.g. ``regions``).

    Raises:
        WeightsError: ONNX Runtime's output differs from PyTorch's beyond the tolerance.
    """
    out = Path(out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: export target must end in .onnx")
    state = load_checkpoint(checkpoint)
    if metrics is None and "val" not in state:
        metrics = _logged_metrics(Path(checkpoint), state.get("epoch"))
    model, task = build_from_checkpoint(state)
    if task["kind"] == "detect":
        return _export_detector(model, task, state, out, name, metrics, extra_card)
    if task["kind"] == "classify":
        return _export_classifier(model, task, state, out, name, metrics, extra_card)
    if task["kind"] == "refine":
        return _export_refiner(model, task, state, out, name, metrics, extra_card)
    cfg = model.config
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.rand(1, cfg.in_channels, cfg.input_height, cfg.input_width)
    tmp = out.with_suffix(".onnx.tmp")
    # eval() on the wrapper too: the exporter restores the wrapper's mode onto every child afterwards.
    torch.onnx.export(_WithSoftmax(model).eval(), dummy, str(tmp), input_names=["images"], output_names=["probs"],
                      dynamic_axes={"images": {0: "batch"}, "probs": {0: "batch"}}, opset_version=17,
                      dynamo=False)
    tmp.replace(out)
    card = {
        **_common_card(state, task, out, name, metrics),
        "task": "ocr",
        "architecture": "crnn",
        "alphabet": task["alphabet"],
        "blank_index": 0,
        "input": {"height": cfg.input_height, "width": cfg.input_width, "channels": cfg.in_channels,
                  "layout": "NCHW", "range": "0..1", "color": "grey" if cfg.in_channels == 1 else "rgb",
                  "min_contrast": cfg.min_contrast},
        "output": "probs: N x T x (1 + len(alphabet)), softmax over classes; class 0 = CTC blank",
        "sha256": sha256_of(out),
        **(extra_card or {}),
    }
    atomic_write_json(out.with_suffix(".json"), card, indent=2)
    check_outputs(_WithSoftmax(model).eval(), out, "ocr",
                  torch.rand(8, cfg.in_channels, cfg.input_height, cfg.input_width))
    return card


def _logged_metrics(checkpoint: Path, epoch: int | None) -> dict | None:
    """A checkpoint without its own metrics (``last.pt``): that epoch's validation row of the run's log."""
    if epoch is None or not (checkpoint.parent / "log.jsonl").is_file():
        return None
    for row in read_log(checkpoint.parent):
        if row.get("epoch") == epoch:
            return {"val": {key[4:]: value for key, value in row.items() if key.startswith("val_")}, "epoch": epoch}
    return None


def _common_card(state: dict, task: dict, out: Path, name: str | None, metrics: dict | None) -> dict:
    """Card fields every exported model has: name, provenance (recipe, data, seed, versions) and metrics."""
    return {
        "name": name or out.stem,
        "version": __version__,
        "metrics": metrics if metrics is not None else {"val": state.get("val", {})},
        "recipe": task.get("recipe", {}),
        "data": task.get("data", {}),
        "epoch": state.get("epoch"),
        "seed": state.get("seed"),
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "python": platform.python_version(),
        # A weight average (``numberplate train average``) names the checkpoints it is the mean of.
        **({"averaged_from": state["averaged_from"]} if state.get("averaged_from") else {}),
    }


def _export_detector(model: nn.Module, task: dict, state: dict, out: Path, name: str | None, metrics: dict | None,
                     extra_card: dict | None) -> dict:
    """Detector graphs take any input size that is a multiple of 32 (photos keep their aspect)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".onnx.tmp")
    dummy = torch.rand(1, 3, 384, 640)
    torch.onnx.export(model.eval(), dummy, str(tmp), input_names=["images"], output_names=["heat", "corners"],
                      dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"},
                                    "heat": {0: "batch", 2: "h", 3: "w"}, "corners": {0: "batch", 2: "h", 3: "w"}},
                      opset_version=17, dynamo=False)
    tmp.replace(out)
    card = {
        **_common_card(state, task, out, name, metrics),
        "task": "detect",
        "architecture": "centernet-corners",
        "classes": task["classes"],
        "input": {"channels": 3, "height": None, "width": None, "multiple": 32, "max_side": task["max_side"],
                  "layout": "NCHW", "range": "0..1", "color": "rgb", "padding": "right/bottom, value 114"},
        "output": f"heat: N x C x H/{STRIDE} x W/{STRIDE} centre probabilities; corners: N x 8 x H/{STRIDE} x "
                  f"W/{STRIDE} offsets of the 4 corners from each cell centre in units of {STRIDE * CORNER_SCALE:g} px",
        "sha256": sha256_of(out),
        **(extra_card or {}),
    }
    atomic_write_json(out.with_suffix(".json"), card, indent=2)
    check_outputs(model, out, "detect", torch.rand(2, 3, 256, 416), tolerance=PARITY_TOLERANCE * 10)
    return card


class _HeadsWithSoftmax(nn.Module):
    """The classifier's three heads as probabilities (softmax once, inside the graph)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        region, lines, state = self.model(images)
        return region.softmax(-1), lines.softmax(-1), state.softmax(-1)


def _export_classifier(model: nn.Module, task: dict, state: dict, out: Path, name: str | None, metrics: dict | None,
                       extra_card: dict | None) -> dict:
    """One graph, three outputs (``region``, ``lines``, ``state``), each softmax probabilities."""
    cfg = model.config
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".onnx.tmp")
    wrapped = _HeadsWithSoftmax(model).eval()
    outputs = ["region", "lines", "state"]
    torch.onnx.export(wrapped, torch.rand(1, 3, cfg.input_height, cfg.input_width), str(tmp), input_names=["images"],
                      output_names=outputs, dynamic_axes={"images": {0: "batch"}, **{k: {0: "batch"} for k in outputs}},
                      opset_version=17, dynamo=False)
    tmp.replace(out)
    card = {
        **_common_card(state, task, out, name, metrics),
        "task": "classify",
        "architecture": "cnn-3-heads",
        "classes": {"region": task["regions"], "lines": task["lines"], "state": task["states"]},
        "input": {"height": cfg.input_height, "width": cfg.input_width, "channels": 3, "layout": "NCHW",
                  "range": "0..1", "color": "rgb", "resize": "stretch to height x width (no letter-box)"},
        "output": "region: N x len(classes.region), lines: N x 3, state: N x 4; softmax probabilities in the "
                  "order of classes.*; 'unknown' is the region of crops that are not plates",
        "sha256": sha256_of(out),
        **(extra_card or {}),
    }
    atomic_write_json(out.with_suffix(".json"), card, indent=2)
    check_outputs(wrapped, out, "classify", torch.rand(8, 3, cfg.input_height, cfg.input_width))
    return card


def _export_refiner(model: nn.Module, task: dict, state: dict, out: Path, name: str | None, metrics: dict | None,
                    extra_card: dict | None) -> dict:
    """One output, the 8 corner coordinates in window units; the card carries the window padding."""
    cfg = model.config
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".onnx.tmp")
    torch.onnx.export(model.eval(), torch.rand(1, 3, cfg.input_height, cfg.input_width), str(tmp),
                      input_names=["images"], output_names=["corners"],
                      dynamic_axes={"images": {0: "batch"}, "corners": {0: "batch"}}, opset_version=17, dynamo=False)
    tmp.replace(out)
    card = {
        **_common_card(state, task, out, name, metrics),
        "task": "refine",
        "architecture": "cnn-corner-regressor",
        "input": {"height": cfg.input_height, "width": cfg.input_width, "channels": 3, "layout": "NCHW",
                  "range": "0..1", "color": "rgb", "window": task["window"],
                  "resize": "the detection box padded by window, stretched to height x width"},
        "output": "corners: N x 8, (x, y) of the top-left, top-right, bottom-right, bottom-left corners in "
                  "window units (0..1 inside the window)",
        "sha256": sha256_of(out),
        **(extra_card or {}),
    }
    atomic_write_json(out.with_suffix(".json"), card, indent=2)
    check_outputs(model, out, "refine", torch.rand(8, 3, cfg.input_height, cfg.input_width))
    return card


def check_outputs(module: nn.Module, onnx_path: Path, task: str, batch: torch.Tensor,
                  tolerance: float = PARITY_TOLERANCE) -> float:
    """Largest difference between every output of ``module`` (what was exported) and of ONNX Runtime on
    ``batch``; raises if it is over ``tolerance``."""
    with torch.no_grad():
        expected = module(batch)
    expected = expected if isinstance(expected, (tuple, list)) else (expected,)
    actual = load_model(onnx_path, task=task, threads=1).run_all(batch.numpy())
    diff = max(float(np.abs(e.numpy() - a).max()) for e, a in zip(expected, actual))
    if diff > tolerance:
        raise WeightsError(f"{onnx_path}: ONNX output differs from PyTorch by {diff:.2e} (> {tolerance})")
    return diff
