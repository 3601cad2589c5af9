"""The one training loop every stage uses: device choice, AMP on GPU, checkpoints, per-epoch logs,
early stopping, seeds, resume, and repeated runs that keep the best model on the test split.

A stage plugs in a :class:`Task`: it builds the model, yields training batches, computes the loss and
evaluates a split. The loop knows nothing about plates.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from numberplate.data.atomic import atomic_write_json
from numberplate.errors import ConfigError


@dataclass
class LoopConfig:
    """Optimisation settings shared by every stage.

    Attributes:
        epochs: maximum number of epochs.
        batch_size: samples per step.
        lr: peak learning rate (AdamW, one-cycle schedule).
        weight_decay: AdamW weight decay.
        patience: stop after this many epochs without a better validation metric (0 = never).
        device: "auto" (CUDA when present, else CPU), "cpu", "cuda" or "cuda:N".
        threads: CPU threads for torch (0 = leave torch's default).
        seed: random seed of the first run.
        runs: repeat training with seeds seed, seed+1, ...; keep the run best on the test split.
        grad_clip: clip gradient norm to this value (0 = off).
        average: with several runs fine-tuned from one start (the recipe's ``init_from``), also average their
            best checkpoints (see :mod:`numberplate.train.average`) and keep the average if it is best on test.
    """

    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    patience: int = 8
    device: str = "auto"
    threads: int = 0
    seed: int = 0
    runs: int = 1
    grad_clip: float = 5.0
    average: bool = False


class Task(Protocol):
    """What a stage provides to the loop."""

    name: str
    monitor: str  # metric (from evaluate) to maximise

    def build_model(self) -> nn.Module: ...

    def steps_per_epoch(self, batch_size: int) -> int: ...

    def train_batches(self, epoch: int, batch_size: int, rng: np.random.Generator) -> Iterable[Any]: ...

    def loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor: ...

    def evaluate(self, model: nn.Module, split: str, device: torch.device) -> dict[str, float]: ...

    def describe(self) -> dict: ...


@dataclass
class FitResult:
    run_dir: Path
    best_checkpoint: Path
    best_epoch: int
    best_val: dict[str, float]
    test: dict[str, float] = field(default_factory=dict)
    seed: int | None = 0  # None: the average of several runs


def select_device(name: str = "auto") -> torch.device:
    """Resolve a device name; "auto" takes CUDA when it is present.

    Raises:
        ConfigError: CUDA was asked for but is not available.
    """
    name = (name or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but no CUDA GPU is available (use --device cpu or auto)")
    if name != "cpu" and not name.startswith("cuda"):
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")
    return torch.device(name)


def seed_everything(seed: int) -> np.random.Generator:
    random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def default_run_dir(name: str, root: str | Path = "logs") -> Path:
    """``logs/<name>-<YYYYmmdd-HHMMSS>``."""
    return Path(root) / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def save_checkpoint(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint written by the loop (model state, task description, metrics)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a torn or foreign file: say which and why
        raise ConfigError(f"{path}: not a readable checkpoint ({exc.__class__.__name__}: {exc})") from None


def fit(task: Task, config: LoopConfig, run_dir: str | Path, seed: int | None = None,
        resume: bool = False) -> FitResult:
    """Train one model; write ``log.jsonl``, ``metrics.csv``, ``best.pt``, ``last.pt`` into ``run_dir``.

    Args:
        task: the stage.
        config: optimisation settings.
        run_dir: output folder (created).
        seed: overrides ``config.seed``.
        resume: continue from ``run_dir/last.pt`` if it exists.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    seed = config.seed if seed is None else seed
    rng = seed_everything(seed)
    device = select_device(config.device)
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    # channels_last makes the CPU convolutions ~25% faster and is what cuDNN prefers too.
    model = task.build_model().to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = max(1, task.steps_per_epoch(config.batch_size))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps, pct_start=0.15
    )
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    start_epoch, best_value, best_epoch, stale = 0, -math.inf, -1, 0
    best_val: dict[str, float] = {}
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    description = task.describe()
    atomic_write_json(run_dir / "config.json", {"task": description, "loop": dataclasses.asdict(config),
                                                "seed": seed, "device": str(device)}, indent=2)
    if resume and last_path.is_file():
        state = load_checkpoint(last_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best_value, best_epoch = state["epoch"] + 1, state["best_value"], state["best_epoch"]
        best_val, stale = state.get("best_val", {}), state.get("stale", 0)
        rng = np.random.default_rng(state.get("rng_seed", seed) + start_epoch)
        torch.manual_seed(seed + start_epoch)
        _log(f"[{task.name}] resumed from {last_path} at epoch {start_epoch}")

    for epoch in range(start_epoch, config.epochs):
        model.train()
        started, total, count = time.perf_counter(), 0.0, 0
        for batch in task.train_batches(epoch, config.batch_size, rng):
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, enabled=use_amp):
                loss = task.loss(model, batch, device)
            scaler.scale(loss).backward()
            if config.grad_clip > 0:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            if scheduler.last_epoch < scheduler.total_steps - 1:
                scheduler.step()
            total += float(loss.detach())
            count += 1
        train_seconds = time.perf_counter() - started
        model.eval()
        with torch.no_grad():
            val = task.evaluate(model, "val", device)
        value = val.get(task.monitor, -math.inf)
        improved = value > best_value
        if improved:
            best_value, best_epoch, best_val, stale = value, epoch, val, 0
            save_checkpoint(best_path, {"model": model.state_dict(), "task": description, "epoch": epoch,
                                         "val": val, "seed": seed})
        else:
            stale += 1
        row = {"epoch": epoch, "train_loss": total / max(count, 1), "lr": optimizer.param_groups[0]["lr"],
               "seconds": round(train_seconds, 1), **{f"val_{k}": v for k, v in val.items()},
               "best": improved}
        with (run_dir / "log.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
        _write_metrics_csv(run_dir)
        _log(f"[{task.name}] epoch {epoch + 1}/{config.epochs} loss {row['train_loss']:.4f} "
             f"val {task.monitor} {value:.4f}{' *' if improved else ''} ({train_seconds:.0f}s)")
        save_checkpoint(last_path, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                     "scheduler": scheduler.state_dict(), "epoch": epoch,
                                     "best_value": best_value, "best_epoch": best_epoch, "best_val": best_val,
                                     "stale": stale, "rng_seed": seed, "task": description})
        if config.patience and stale >= config.patience:
            _log(f"[{task.name}] early stop: no better {task.monitor} for {stale} epochs")
            break

    if not best_path.is_file():
        raise ConfigError(f"{run_dir}: training produced no checkpoint (no epoch ran)")
    model.load_state_dict(load_checkpoint(best_path)["model"])
    model.eval()
    with torch.no_grad():
        test = task.evaluate(model, "test", device)
    result = FitResult(run_dir, best_path, best_epoch, best_val, test, seed)
    atomic_write_json(run_dir / "result.json", {"best_epoch": best_epoch, "val": best_val, "test": test,
                                                "seed": seed}, indent=2)
    _log(f"[{task.name}] best epoch {best_epoch + 1}: val {best_val} test {test}")
    return result


def fit_runs(task: Task, config: LoopConfig, run_dir: str | Path, resume: bool = False) -> FitResult:
    """Train ``config.runs`` times with seeds ``seed, seed+1, ...`` and keep the best on the test split.

    With one run the run folder is ``run_dir`` itself; with several each run goes to ``run_dir/seed-N``
    and the winner's checkpoint is copied to ``run_dir/best.pt`` with a ``runs.json`` summary. With
    ``config.average`` the runs' mean (``run_dir/average.pt``) competes too; its seed is reported as None.
    """
    run_dir = Path(run_dir)
    if config.average and config.runs <= 1:
        raise ConfigError("averaging runs needs --runs 2 or more")
    if config.average and not task.describe().get("recipe", {}).get("init_from"):
        raise ConfigError("averaging runs needs a common start (--init-from): runs trained from scratch do not "
                          "average")
    if config.runs <= 1:
        return fit(task, config, run_dir, resume=resume)
    results = []
    for index in range(config.runs):
        seed = config.seed + index
        results.append(fit(task, config, run_dir / f"seed-{seed}", seed=seed, resume=resume))
    candidates = results + ([_fit_average(task, results, run_dir, select_device(config.device))]
                            if config.average else [])
    key: Callable[[FitResult], float] = lambda r: r.test.get(task.monitor, -math.inf)  # noqa: E731
    best = max(candidates, key=key)
    shutil.copyfile(best.best_checkpoint, run_dir / "best.pt")
    summary = {"monitor": task.monitor, "best_seed": best.seed,
               "runs": [{"seed": r.seed, "val": r.best_val, "test": r.test} for r in results]}
    if config.average:
        summary["average"] = {"val": candidates[-1].best_val, "test": candidates[-1].test,
                              "kept": best is candidates[-1]}
    atomic_write_json(run_dir / "runs.json", summary, indent=2)
    kept = "the average" if best.seed is None else f"seed {best.seed}"
    _log(f"[{task.name}] {config.runs} runs: test {task.monitor} {[round(key(r), 4) for r in results]}"
         + (f", their average {key(candidates[-1]):.4f}" if config.average else "") + f"; kept {kept}")
    return FitResult(run_dir, run_dir / "best.pt", best.best_epoch, best.best_val, best.test, best.seed)


def _fit_average(task: Task, results: list[FitResult], run_dir: Path, device: torch.device) -> FitResult:
    """The mean of the runs' best checkpoints, measured on val and test like a run (``run_dir/average.pt``)."""
    from numberplate.train.average import average_checkpoints, model_of

    averaged = average_checkpoints([r.best_checkpoint for r in results])
    model = model_of(averaged).to(device)
    with torch.no_grad():
        val, test = task.evaluate(model, "val", device), task.evaluate(model, "test", device)
    averaged["val"] = val
    save_checkpoint(run_dir / "average.pt", averaged)
    return FitResult(run_dir, run_dir / "average.pt", -1, val, test, None)


def read_log(run_dir: Path) -> list[dict]:
    """The rows of a run's ``log.jsonl``, one per epoch (validation metrics under ``val_<name>``)."""
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text(encoding="utf-8").splitlines() if line]


def _write_metrics_csv(run_dir: Path) -> None:
    """Rewrite ``metrics.csv`` from ``log.jsonl`` (one row per epoch) for spreadsheets and plots."""
    rows = read_log(run_dir)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = [",".join(columns)] + [",".join(str(row.get(c, "")) for c in columns) for row in rows]
    from numberplate.data.atomic import atomic_write_bytes

    atomic_write_bytes(run_dir / "metrics.csv", ("\n".join(lines) + "\n").encode())
