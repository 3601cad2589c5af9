"""Average the weights of several fine-tunes of one model (a "model soup", Wortsman et al., 2022).

Runs fine-tuned from the same checkpoint with other seeds or data mixes stay close enough in weight space
that their mean is itself a good model, often a better one than each run: their errors differ, and the
mean keeps what they agree on. It costs nothing at inference (one model, same size and speed). Runs
trained from different starts do not average: their units are not in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from numberplate.errors import ConfigError
from numberplate.train.loop import load_checkpoint, save_checkpoint


def average_checkpoints(paths: Sequence[str | Path]) -> dict:
    """The mean of the checkpoints' weights (files, or run folders: their ``best.pt``), as a checkpoint of the first
    one's task.

    Floating-point tensors (weights and batch-norm statistics) are averaged; integer buffers (batch counts)
    are the first checkpoint's. The result carries no validation metrics: it has not been measured (see
    :func:`measure`).

    Raises:
        ConfigError: fewer than two checkpoints, or one whose task kind, architecture or tensors differ from the
            first's (named by file).
    """
    if len(paths) < 2:
        raise ConfigError("averaging needs at least two checkpoints")
    paths = [_checkpoint_of(path) for path in paths]
    states = [load_checkpoint(path) for path in paths]
    first, first_path = states[0], Path(paths[0])
    for path, state in zip(paths[1:], states[1:]):
        _check_same_model(first, first_path, state, Path(path))
    averaged = {}
    for key, tensor in first["model"].items():
        if tensor.is_floating_point():
            averaged[key] = torch.stack([state["model"][key].float() for state in states]).mean(0).to(tensor.dtype)
        else:
            averaged[key] = tensor.clone()
    return {"model": averaged, "task": first["task"], "epoch": None, "seed": None,
            "averaged_from": [str(path) for path in paths]}


def _checkpoint_of(path: str | Path) -> Path:
    """A checkpoint file as given, or a run folder's ``best.pt``."""
    path = Path(path)
    return path / "best.pt" if path.is_dir() else path


def _check_same_model(first: dict, first_path: Path, state: dict, path: Path) -> None:
    for field in ("kind", "model"):
        if state.get("task", {}).get(field) != first.get("task", {}).get(field):
            raise ConfigError(f"{path}: its {field} differs from {first_path}'s: only fine-tunes of one model average")
    ours, theirs = first["model"], state["model"]
    if ours.keys() != theirs.keys():
        raise ConfigError(f"{path}: its layers differ from {first_path}'s")
    for key, tensor in ours.items():
        if theirs[key].shape != tensor.shape:
            raise ConfigError(f"{path}: {key} is {tuple(theirs[key].shape)}, {tuple(tensor.shape)} in {first_path}")


def _task_types(kind: str):
    """(recipe dataclass, task class) of a stage, imported when needed."""
    if kind == "ocr":
        from numberplate.train.ocr import OcrTask, OcrTrainConfig
        return OcrTrainConfig, OcrTask
    if kind == "classify":
        from numberplate.train.classify import ClassifyTask, ClassifyTrainConfig
        return ClassifyTrainConfig, ClassifyTask
    if kind == "detect":
        from numberplate.train.detect import DetectTask, DetectTrainConfig
        return DetectTrainConfig, DetectTask
    if kind == "refine":
        from numberplate.train.refine import RefineTask, RefineTrainConfig
        return RefineTrainConfig, RefineTask
    raise ConfigError(f"cannot measure a {kind!r} checkpoint")


def measure(checkpoint: dict, where: str = "the average") -> dict[str, float]:
    """Validation metrics of a checkpoint on the val splits of its own recipe, as a training epoch records them
    (so that the exported card states them like any trained model's)."""
    from numberplate.train.config import from_dict

    task_info = checkpoint.get("task", {})
    recipe = task_info.get("recipe")
    if not isinstance(recipe, dict):
        raise ConfigError(f"{where}: its checkpoint holds no recipe to find the validation data by")
    config_type, task_type = _task_types(task_info.get("kind"))
    task = task_type(from_dict(config_type, recipe, f"{where}: recipe"))
    with torch.no_grad():
        return task.evaluate(model_of(checkpoint), "val", torch.device("cpu"))


def model_of(checkpoint: dict) -> torch.nn.Module:
    """The network of a checkpoint with its weights, in eval mode: built from the checkpoint's own architecture,
    not through the task (whose ``build_model`` would first load the recipe's ``init_from`` weights)."""
    from numberplate.train.export import build_from_checkpoint

    return build_from_checkpoint(checkpoint)[0]


def write_average(paths: Sequence[str | Path], out: str | Path, measure_val: bool = False) -> dict:
    """Average ``paths`` into the checkpoint ``out`` (written atomically); return it. With ``measure_val`` the
    average is measured on its recipe's val splits first and the metrics kept in the checkpoint (``val``)."""
    out = Path(out)
    if out.suffix != ".pt":
        raise ConfigError(f"{out}: an averaged checkpoint is a .pt file")
    averaged = average_checkpoints(paths)
    if measure_val:
        averaged["val"] = measure(averaged, str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out, averaged)
    return averaged
