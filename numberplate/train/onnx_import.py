"""Start training from an exported ONNX model (the shipped weights), not only from a ``.pt`` checkpoint.

The package ships ONNX files only, so a user who wants to fine-tune a shipped model on their own plates
has no PyTorch checkpoint. The export folds every batch norm into its convolution; importing puts the
folded weights into the convolution and rebuilds each batch norm from the statistics of a calibration
batch, so that the network computes exactly the exported function in eval mode and nearly the same in
train mode (where batch statistics replace the running ones). A parity check against ONNX Runtime
guards the whole mapping.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from numberplate.errors import ConfigError

_WEIGHTED = (nn.Conv2d, nn.Linear, nn.GRU)
PARITY_TOLERANCE = 2e-3


def is_onnx_source(source: str | Path) -> bool:
    """True for a ``.onnx`` path or the name of a shipped model (``ocr-latin``), false for a ``.pt``."""
    from numberplate.runtime import resolve_model_path

    text = str(source)
    if text.endswith(".onnx") or text.endswith(".pt"):
        return text.endswith(".onnx")
    path = resolve_model_path(text)
    return path.suffix == ".onnx" and path.is_file()


def load_exported(source: str | Path, task: str):
    """Open a shipped name or ``.onnx`` path (card, hash and task checked) as a
    :class:`~numberplate.runtime.LoadedModel`: its path, card and an ONNX Runtime session."""
    from numberplate.errors import WeightsError
    from numberplate.runtime import load_model

    try:
        return load_model(source, task=task, threads=1)
    except WeightsError as exc:
        raise ConfigError(str(exc)) from None


def _read_onnx(path: Path):
    """The ONNX model of ``path`` as an ``onnx.ModelProto``, with an error naming the file."""
    import onnx

    try:
        return onnx.load(str(path))
    except Exception as exc:
        raise ConfigError(f"{path}: not a readable ONNX model ({exc.__class__.__name__}: {exc})") from None


def _graph_weights(graph) -> list[tuple[str, list[np.ndarray], dict]]:
    """The weighted nodes of a float graph in execution order: (op type, initializer arrays, attributes)."""
    import onnx
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    nodes: list[tuple[str, list[np.ndarray], dict]] = []
    for node in graph.node:
        arrays = [inits.get(name) for name in node.input]
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type in ("Conv", "Gemm", "GRU"):
            nodes.append((node.op_type, arrays, attributes))
        elif node.op_type == "MatMul" and arrays[1] is not None:
            nodes.append(("MatMul", arrays, attributes))
        elif node.op_type == "Add" and nodes and nodes[-1][0] == "MatMul" and len(nodes[-1][1]) == 2:
            bias = next((a for a in arrays if a is not None), None)
            if bias is not None:
                nodes[-1][1].append(bias)  # MatMul + Add is how torch exports a Linear on a sequence
    return nodes


def _forward_with_hooks(model: nn.Module, batch: torch.Tensor, modules, hook) -> None:
    """One forward pass (no gradients) with ``hook(module, args, output)`` on each of ``modules``."""
    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        with torch.no_grad():
            model(batch)
    finally:
        for handle in handles:
            handle.remove()


def _execution_order(model: nn.Module, example: torch.Tensor) -> list[nn.Module]:
    """Weighted modules in the order a forward pass calls them (the order the exported graph has)."""
    called: list[nn.Module] = []
    _forward_with_hooks(model, example, [m for m in model.modules() if isinstance(m, _WEIGHTED)],
                        lambda module, *_: called.append(module))
    return called


def _following_norms(model: nn.Module) -> dict[nn.Module, nn.BatchNorm2d]:
    """Each convolution that a batch norm directly follows in its container (ConvBNAct and the like)."""
    pairs: dict[nn.Module, nn.BatchNorm2d] = {}
    for container in model.modules():
        children = list(container.children())
        for first, second in zip(children, children[1:]):
            if isinstance(first, nn.Conv2d) and isinstance(second, nn.BatchNorm2d):
                pairs[first] = second
    return pairs


def _gru_gates(array: np.ndarray, hidden: int) -> np.ndarray:
    """ONNX orders GRU gates z, r, h; torch orders them r, z, n."""
    z, r, h = array[:hidden], array[hidden:2 * hidden], array[2 * hidden:]
    return np.concatenate([r, z, h])


def _set(parameter: torch.Tensor, value: np.ndarray, where: str) -> None:
    if tuple(parameter.shape) != tuple(value.shape):
        raise ConfigError(f"{where}: shape {tuple(value.shape)} in the ONNX file, {tuple(parameter.shape)} in "
                          "this run's model; use the same [model] settings as the exported one")
    with torch.no_grad():
        parameter.copy_(torch.from_numpy(np.array(value, dtype=np.float32)).to(parameter.dtype))


def load_onnx_weights(model: nn.Module, source: str | Path, calibration: torch.Tensor, task: str) -> float:
    """Copy the weights of an exported model into ``model`` (same architecture); returns the parity error.

    Args:
        model: freshly built model of the same config as the exported one.
        source: ``.onnx`` path or shipped model name.
        calibration: a batch of real inputs (B x C x H x W) used to rebuild the batch norms and to check
            parity; 64 or more samples give stable statistics.
        task: the task the exported model must have ("ocr", "detect", "classify").
    """
    return _import_weights(model, load_exported(source, task), calibration)


def _import_weights(model: nn.Module, loaded, calibration: torch.Tensor) -> float:
    """:func:`load_onnx_weights` on an opened model (its file for the weights, its session for parity)."""
    from numberplate.train.quantize import float_graph, is_quantized

    path = loaded.path
    exported = _read_onnx(path)
    reference = loaded.run_all
    if is_quantized(exported.graph):
        # An int8 model (numberplate quantize): its dequantized weights are imported, so the model must compute
        # the float model they stand for.
        import onnxruntime as ort

        exported = float_graph(exported)
        session = ort.InferenceSession(exported.SerializeToString(), providers=["CPUExecutionProvider"])

        def reference(batch: np.ndarray) -> list[np.ndarray]:
            return session.run(None, {session.get_inputs()[0].name: batch})

    nodes = _graph_weights(exported.graph)
    model.eval()
    modules = _execution_order(model, calibration[:2])
    if [type(m).__name__ for m in modules] != [_TORCH_OF[op].__name__ for op, _, _ in nodes]:
        raise ConfigError(f"{path}: its layers ({len(nodes)} weighted) do not match this run's model "
                          f"({len(modules)} weighted); use the same [model] settings as the exported one")
    norms = _following_norms(model)
    for index, (module, (op, arrays, attributes)) in enumerate(zip(modules, nodes)):
        where = f"{path}: layer {index} ({op})"
        if op == "Conv":
            weight = arrays[1]
            bias = arrays[2] if len(arrays) > 2 and arrays[2] is not None else np.zeros(module.out_channels,
                                                                                      np.float32)
            norm = norms.get(module)
            if norm is not None:
                # Folding multiplied each output channel by gamma / sigma; give the weights back the size a
                # trained convolution has (He-init spread), or the optimiser's first steps, which are
                # about lr in size whatever the weight's, would wreck the small ones. The norm undoes it.
                fan_in = weight[0].size
                spread = weight.reshape(len(weight), -1).std(axis=1)
                rescale = np.where(spread > 0, np.sqrt(2.0 / fan_in) / np.maximum(spread, 1e-12), 1.0)
                weight = weight * rescale.reshape(-1, *([1] * (weight.ndim - 1)))
                # For now the norm is x / rescale + bias (the exported function); _rebuild_norms then gives
                # it the statistics of its input.
                norm.reset_parameters()
                norm.running_var.fill_(1.0 - norm.eps)
                _set(norm.weight, (1.0 / rescale).astype(np.float32), where)
                _set(norm.bias, bias, where)
            _set(module.weight, weight, where)
            if norm is None and module.bias is not None:
                _set(module.bias, bias, where)
            elif norm is None and np.any(bias):
                raise ConfigError(f"{where}: the ONNX convolution has a bias this model has no place for")
        elif op in ("Gemm", "MatMul"):
            weight = arrays[1]
            weight = weight if (op == "Gemm" and attributes.get("transB", 0)) else weight.T
            _set(module.weight, weight, where)
            if len(arrays) > 2 and arrays[2] is not None:
                _set(module.bias, arrays[2], where)
        else:  # GRU: inputs X, W, R, B
            weight, recurrent, bias = arrays[1], arrays[2], arrays[3]
            hidden = module.hidden_size
            for direction, suffix in enumerate(["", "_reverse"][: weight.shape[0]]):
                _set(getattr(module, f"weight_ih_l0{suffix}"), _gru_gates(weight[direction], hidden), where)
                _set(getattr(module, f"weight_hh_l0{suffix}"), _gru_gates(recurrent[direction], hidden), where)
                _set(getattr(module, f"bias_ih_l0{suffix}"), _gru_gates(bias[direction][:3 * hidden], hidden), where)
                _set(getattr(module, f"bias_hh_l0{suffix}"), _gru_gates(bias[direction][3 * hidden:], hidden), where)
    _rebuild_norms(model, list(norms.values()), calibration)
    return _check_parity(model, reference, path, calibration)


_TORCH_OF = {"Conv": nn.Conv2d, "Gemm": nn.Linear, "MatMul": nn.Linear, "GRU": nn.GRU}


def _rebuild_norms(model: nn.Module, norms: list[nn.BatchNorm2d], calibration: torch.Tensor) -> None:
    """Give each norm, which computes ``x * w0 + b0`` for now, the running statistics of its input and the
    scale/shift that keep that function: ``(x - mean) / sqrt(var + eps) * w + b`` with
    ``w = w0 * sqrt(var + eps)`` and ``b = b0 + w0 * mean``.

    In eval mode the norm computes the exported function exactly; in train mode batch statistics close to the
    running ones keep the function close to the exported one, so fine-tuning starts where it should.
    """
    inputs: dict[nn.Module, torch.Tensor] = {}
    _forward_with_hooks(model, calibration, norms,
                        lambda module, args, _out: inputs.__setitem__(module, args[0].detach()))
    with torch.no_grad():
        for norm in norms:
            x = inputs[norm]
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False)
            scale = norm.weight.clone()
            norm.running_mean.copy_(mean)
            norm.running_var.copy_(var)
            norm.weight.copy_(scale * torch.sqrt(var + norm.eps))
            norm.bias.add_(scale * mean)


def _check_parity(model: nn.Module, reference, path: Path, calibration: torch.Tensor) -> float:
    """Largest difference between the imported model and ONNX Runtime (``reference``: a batch -> every output)
    on the calibration batch."""
    batch = calibration[:16]
    expected = reference(batch.numpy())
    with torch.no_grad():
        actual = model(batch)
    actual = actual if isinstance(actual, (tuple, list)) else (actual,)
    error = 0.0
    for mine, theirs in zip(actual, expected):
        mine = mine.float()
        # Exported graphs end in a softmax over the last axis (OCR, classifier heads); compare probabilities.
        if theirs.ndim == mine.ndim and np.allclose(theirs.sum(-1), 1.0, atol=1e-3):
            mine = mine.softmax(-1)
        error = max(error, float(np.abs(mine.numpy() - theirs).max()))
    if error > PARITY_TOLERANCE:
        raise ConfigError(f"{path}: imported weights differ from the ONNX model by {error:.4f} "
                          "(this model's layers cannot be mapped back to PyTorch)")
    return error


def _task_of_card(card: dict) -> dict:
    """The parts of a checkpoint's task description that ``init_from`` checks, read from a model card."""
    classes = card.get("classes")
    if card["task"] == "ocr":
        return {"kind": "ocr", "alphabet": card.get("alphabet")}
    if card["task"] == "classify":
        return {"kind": "classify", "regions": list((classes or {}).get("region", []))}
    return {"kind": card["task"], "classes": classes}


def calibration_batch(task, size: int = 64) -> torch.Tensor:
    """The images of one training batch of ``task`` (fixed seed): what the rebuilt batch norms see."""
    while size >= 2:  # an epoch shorter than ``size`` samples yields no full batch: ask for less
        batch = next(iter(task.train_batches(0, size, np.random.default_rng(0))), None)
        if batch is not None:
            return batch[0].float()
        size //= 2
    raise ConfigError("no training batch to calibrate the imported model on (too few training samples)")


def load_start_weights(source: str | Path, task, model: nn.Module, calibration_size: int = 64) -> dict:
    """The checkpoint a run starts from: a ``.pt`` of the loop, or an exported/shipped ONNX model.

    Args:
        source: ``.pt`` path, ``.onnx`` path or shipped model name.
        task: the run's task (its ``kind``; its training batches calibrate an imported model).
        model: the run's freshly built model; an ONNX source is imported into a model of the same class
            built with the exported architecture (its card's ``recipe.model``), which may differ from this
            run's (a new class head, say): the caller decides what of the state it keeps.
        calibration_size: training samples to calibrate an imported model on.

    Returns:
        ``{"model": state_dict, "task": {...}}`` as :func:`numberplate.train.loop.load_checkpoint` gives.
    """
    from numberplate.train.config import from_dict
    from numberplate.train.loop import load_checkpoint

    if not is_onnx_source(source):
        return load_checkpoint(source)
    loaded = load_exported(source, task.kind)
    model_config = loaded.card.get("recipe", {}).get("model")
    if not isinstance(model_config, dict):
        raise ConfigError(f"{loaded.path}: its card has no recipe.model, so the architecture is unknown")
    exported = type(model)(from_dict(type(model.config), model_config, f"{loaded.path}: recipe.model"))
    calibration = calibration_batch(task, calibration_size)
    size = loaded.card.get("input", {})
    fixed = isinstance(size.get("height"), int) and isinstance(size.get("width"), int)  # detectors take any size
    if fixed and tuple(calibration.shape[2:]) != (size["height"], size["width"]):
        # This run reads another input size (a taller OCR input, say): calibrate at the exported one.
        calibration = F.interpolate(calibration, size=(size["height"], size["width"]), mode="bilinear",
                                    align_corners=False)
    error = _import_weights(exported, loaded, calibration)
    print(f"note: {loaded.path}: imported into PyTorch (largest output difference {error:.1e})", file=sys.stderr)
    return {"model": exported.state_dict(), "task": _task_of_card(loaded.card)}


def load_weights_except(model: nn.Module, weights: dict, fresh, source: str | Path) -> None:
    """Load a start checkpoint's ``weights`` into ``model``, all but the tensors named in ``fresh`` (a new
    head, a resized layer: they keep their new initialisation).

    Raises:
        ConfigError: naming ``source``, when any other tensor is missing or left over.
    """
    fresh = set(fresh)
    missing, unexpected = model.load_state_dict({k: v for k, v in weights.items() if k not in fresh}, strict=False)
    if unexpected or [k for k in missing if k not in fresh]:
        raise ConfigError(f"{source}: does not fit this model (missing {missing[:3]}, unexpected {unexpected[:3]})")


def recipe_of(source: str | Path, kind: str) -> dict:
    """The training recipe a starting model was made with (its card's, or its checkpoint's)."""
    from numberplate.train.loop import load_checkpoint

    if is_onnx_source(source):
        return dict(load_exported(source, kind).card.get("recipe") or {})
    return dict(load_checkpoint(source)["task"].get("recipe") or {})
