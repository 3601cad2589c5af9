"""Int8 quantization of an exported OCR model, for faster CPU inference.

ONNX Runtime's static quantization: the convolution weights become int8 (one scale per output channel)
and the activations between them uint8, with scales measured on real inputs (calibration crops from the
model's own kind of data). The recurrent layer and the output stay float. On CPUs with VNNI (AVX-512 or
AVX-VNNI) the convolutions, most of a recognizer's cost, then run on int8 dot products.

The weights use 7 of the 8 bits by default (``reduce_range``). Without VNNI, ONNX Runtime's AVX2 kernels add
pairs of uint8 x int8 products in 16 bits, which saturates with full-range weights: a model quantized on a
VNNI machine then reads differently on an AVX2 one (ocr-latin: 94.2% agreement with the float model on
AVX2, against 99% with 7-bit weights, at the same speed).

A quantized model is only written when it reads what the float model reads: the greedy readings of
both are compared on held-out crops (the val split), and the export fails below ``MIN_AGREEMENT``.
"""

from __future__ import annotations

import contextlib
import io
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numberplate.data.atomic import atomic_write_bytes, atomic_write_json
from numberplate.data.images import read_image
from numberplate.data.nomeroff import load_split, split_dirs
from numberplate.data.records import OcrRecord
from numberplate.errors import ConfigError, InputError, WeightsError
from numberplate.runtime import load_model, sha256_of
from numberplate.stages.recognize import BATCH_SIZE, ctc_greedy_decode, model_batch

CALIBRATION_CROPS = 512
AGREEMENT_CROPS = 1000
# Share of held-out crops whose int8 reading must equal the float model's reading.
MIN_AGREEMENT = 0.98
CALIBRATION_BATCH = 32
# What is quantized. Relu and MaxPool between convolutions keep the activations in uint8, so ONNX Runtime
# fuses each DequantizeLinear -> Conv -> Relu -> QuantizeLinear chain into one int8 convolution.
QUANTIZED_OPS = ("Conv", "Relu", "MaxPool")
# Activation ranges from the 99.99th percentile of the calibration activations, not their extremes: a few
# outlying values would otherwise widen every step of the uint8 scale (min-max cost 0.14 points of exact
# reads on 3,600 synthetic UA plates, the percentile 0.03).
CALIBRATION_PERCENTILE = 99.99
QUANTIZATION_METHOD = ("onnxruntime static quantization, QDQ: int8 convolution weights per output channel "
                       "(7-bit range unless reduce_range is false), uint8 activations (ranges at the "
                       f"{CALIBRATION_PERCENTILE}th percentile of the calibration crops); recurrent layer and output "
                       "in float")


@dataclass
class QuantizeResult:
    """What ``quantize_ocr`` wrote and measured."""

    out: Path
    card: dict
    calibration_crops: int
    agreement_crops: int
    agreement: float
    size_before: int
    size_after: int


def _pick(records: list[OcrRecord], count: int, seed: int) -> list[OcrRecord]:
    if len(records) <= count:
        return list(records)
    return random.Random(seed).sample(records, count)


def model_inputs(records: Sequence[OcrRecord], card: dict) -> np.ndarray:
    """Crops -> the batch the recognizer feeds a model of this card."""
    shape = card["input"]
    return model_batch([read_image(r.image_path) for r in records], [r.count_lines for r in records],
                       shape["height"], shape["width"], shape["channels"], int(shape.get("min_contrast", 0)))


def _greedy_texts(run, inputs: np.ndarray, alphabet: str) -> list[str]:
    """Best-path readings of ``inputs`` by ``run`` (a batch -> probabilities callable)."""
    texts = []
    for start in range(0, len(inputs), BATCH_SIZE):
        texts += [text for text, _ in ctc_greedy_decode(run(inputs[start:start + BATCH_SIZE]), alphabet)]
    return texts


def quantize_ocr(model: str | Path, data: Sequence[str | Path], out: str | Path, name: str | None = None,
                 calibration_crops: int = CALIBRATION_CROPS, agreement_crops: int = AGREEMENT_CROPS,
                 min_agreement: float = MIN_AGREEMENT, seed: int = 0, reduce_range: bool = True) -> QuantizeResult:
    """Write an int8 copy of an exported OCR model (``out`` + its card) and return what was measured.

    Args:
        model: shipped model name or ``.onnx`` path (with its card beside it).
        data: Nomeroff-layout datasets of the plates the model reads: calibration crops come from their
            train splits, the agreement check from their val splits (train crops not used for calibration
            when there is no val split).
        out: target ``.onnx`` path; may be the source itself (it is replaced only after the check).
        name: model name in the new card (default: the file stem of ``out``).
        min_agreement: least share of held-out crops read the same by both models.
        reduce_range: 7-bit weights (the default), so that CPUs without VNNI read as CPUs with it do.

    Raises:
        WeightsError: the quantized model reads fewer than ``min_agreement`` of the crops as the float one.
        InputError: a dataset folder is missing or holds no crops.
    """
    try:
        from onnxruntime.quantization import (
            CalibrationDataReader,
            CalibrationMethod,
            QuantFormat,
            QuantType,
            quantize_static,
        )
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:  # onnxruntime.quantization needs the onnx package
        raise ConfigError(f"quantization needs the onnx package (pip install 'numberplate[train]'): {exc}") from None
    import onnxruntime as ort

    out = Path(out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: the quantized model's path must end in .onnx")
    source = load_model(model, task="ocr", threads=1)
    card = dict(source.card)
    if "quantization" in card:
        origin = card["quantization"].get("from", {}).get("name", "a float model")
        raise ConfigError(f"{source.path}: already quantized to int8 (from {origin}); quantize the float model it "
                          f"came from (numberplate export writes one)")
    if not data:
        raise ConfigError("quantization needs at least one dataset (--data) for calibration crops")
    # The same number of crops from every dataset: a small real set beside a large synthetic one still
    # shows the quantizer what real camera crops make of the activations.
    calibration, check = [], []
    per_set_calibration = max(1, calibration_crops // len(data))
    per_set_check = max(1, agreement_crops // len(data))
    for index, root in enumerate(data):
        split_dirs(root)  # a clear error for a folder that is not a dataset
        train = [r for r in load_split(root, "train") if r.state == "readable"]
        if not train:
            raise InputError(Path(root), "no readable crops in the train split to calibrate on")
        picked = _pick(train, per_set_calibration, seed + index)
        held_out = [r for r in load_split(root, "val") if r.state == "readable"]
        if not held_out:
            used = {r.image_path for r in picked}
            held_out = [r for r in train if r.image_path not in used] or picked
        calibration += picked
        check += _pick(held_out, per_set_check, seed + index)

    # Whole batches only: the percentile calibrator stacks the batches' activations into one array.
    if len(calibration) > CALIBRATION_BATCH:
        calibration = calibration[:len(calibration) // CALIBRATION_BATCH * CALIBRATION_BATCH]
    calibration_inputs = model_inputs(calibration, card)
    input_name = source.input_name

    class _Batches(CalibrationDataReader):
        def __init__(self):
            self._batches = iter(range(0, len(calibration_inputs), CALIBRATION_BATCH))

        def get_next(self):
            start = next(self._batches, None)
            if start is None:
                return None
            return {input_name: calibration_inputs[start:start + CALIBRATION_BATCH]}

    with tempfile.TemporaryDirectory(prefix="numberplate-quantize-") as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quantized = Path(scratch) / "quantized.onnx"
        quant_pre_process(str(source.path), str(prepared))
        with contextlib.redirect_stdout(io.StringIO()):  # the calibrator prints its progress
            quantize_static(str(prepared), str(quantized), _Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, reduce_range=reduce_range,
                            op_types_to_quantize=list(QUANTIZED_OPS), calibrate_method=CalibrationMethod.Percentile,
                            extra_options={"CalibPercentile": CALIBRATION_PERCENTILE})
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        int8_session = ort.InferenceSession(str(quantized), options, providers=["CPUExecutionProvider"])
        check_inputs = model_inputs(check, card)
        expected = _greedy_texts(source.run, check_inputs, card["alphabet"])
        actual = _greedy_texts(lambda batch: int8_session.run(None, {input_name: batch})[0], check_inputs,
                               card["alphabet"])
        agreement = float(np.mean([a == b for a, b in zip(expected, actual)]))
        if agreement < min_agreement:
            hint = "" if reduce_range else (" (8-bit weights overflow on CPUs without VNNI, such as AVX2-only ones: "
                                            "quantize with 7-bit weights, the default)")
            raise WeightsError(f"{out}: the int8 model reads {agreement:.1%} of {len(check)} held-out crops as the "
                               f"float model does (at least {min_agreement:.0%} needed); not written{hint}")
        size_before = source.path.stat().st_size
        atomic_write_bytes(out, quantized.read_bytes())
    card.update({
        "name": name or out.stem,
        "sha256": sha256_of(out),
        "quantization": {
            "method": QUANTIZATION_METHOD,
            "from": {"name": source.card.get("name"), "sha256": source.card.get("sha256")},
            "calibration": [str(d) for d in data],
            "reduce_range": reduce_range,
            "calibration_crops": len(calibration),
            "agreement": round(agreement, 5),
            "agreement_crops": len(check),
        },
    })
    atomic_write_json(out.with_suffix(".json"), card, indent=2)
    load_model(out, task="ocr", threads=1)  # the written pair opens like any other model
    return QuantizeResult(out, card, len(calibration), len(check), agreement, size_before, out.stat().st_size)


def is_quantized(graph) -> bool:
    """True for a graph with quantize/dequantize steps (what ``quantize_ocr`` writes)."""
    return any(node.op_type in ("QuantizeLinear", "DequantizeLinear") for node in graph.node)


def float_graph(model):
    """The float model an int8 (QDQ) one stands for, as a new ``onnx.ModelProto``: weights dequantized, each
    activation quantize/dequantize pair removed. A uint8 step with zero point 0 clips at 0, which is how the
    quantizer keeps a Relu it dropped: such a pair becomes a Relu. Used to fine-tune a shipped int8 model
    (its float twin is imported into PyTorch)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in [n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in constants]:
        values, scale = constants[node.input[0]], constants[node.input[1]]
        zero = constants[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros_like(scale)
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        shape = [1] * values.ndim
        if scale.ndim:
            shape[axis] = -1
        real = (values.astype(np.float32) - zero.astype(np.float32).reshape(shape)) * scale.reshape(shape)
        graph.initializer.append(numpy_helper.from_array(real.astype(np.float32), node.output[0]))
        graph.node.remove(node)
    for quantize in [n for n in graph.node if n.op_type == "QuantizeLinear"]:
        clips = len(quantize.input) > 2 and not constants[quantize.input[2]].any()
        for dequantize in [n for n in graph.node
                           if n.op_type == "DequantizeLinear" and n.input[0] == quantize.output[0]]:
            if clips:
                relu = onnx.helper.make_node("Relu", [quantize.input[0]], [dequantize.output[0]])
                graph.node.insert(list(graph.node).index(quantize), relu)  # nodes stay in topological order
            else:
                for user in graph.node:
                    for index, name in enumerate(user.input):
                        if name == dequantize.output[0]:
                            user.input[index] = quantize.input[0]
            graph.node.remove(dequantize)
        graph.node.remove(quantize)
    used = {name for node in graph.node for name in node.input}
    for tensor in [t for t in graph.initializer if t.name not in used]:
        graph.initializer.remove(tensor)
    return model
