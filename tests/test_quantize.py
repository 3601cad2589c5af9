"""Int8 quantization of an OCR model: calibrated, checked against the float model, written with its card."""

import json
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")  # onnxruntime.quantization needs it (the [train] extra)
numpy_helper = pytest.importorskip("onnx.numpy_helper")

from numberplate.cli.main import main  # noqa: E402
from numberplate.errors import ConfigError, InputError, WeightsError  # noqa: E402
from numberplate.runtime import resolve_model_path, sha256_of  # noqa: E402
from numberplate.stages.recognize import Recognizer  # noqa: E402
from numberplate.synth.ocr_dataset import generate  # noqa: E402
from numberplate.train.quantize import float_graph, is_quantized, quantize_ocr  # noqa: E402


@pytest.fixture(scope="module")
def ua_plates(tmp_path_factory):
    root = tmp_path_factory.mktemp("ua")
    generate(["ua"], 160, root, seed=3, val_fraction=0.25, test_fraction=0.0, max_lines=1)
    return root


def float_twin(quantized: Path, out: Path) -> Path:
    """The float model an int8 one stands for, with its card (the shipped recognizers are int8)."""
    onnx.save(float_graph(onnx.load(str(quantized))), str(out))
    card = json.loads(quantized.with_suffix(".json").read_text())
    card.pop("quantization")
    card.update(name=out.stem, sha256=sha256_of(out))
    out.with_suffix(".json").write_text(json.dumps(card))
    return out


@pytest.fixture(scope="module")
def float_ua(tmp_path_factory):
    return float_twin(resolve_model_path("ocr-ua"), tmp_path_factory.mktemp("float") / "ocr-ua-float.onnx")


def test_quantized_model_reads_like_the_float_one_with_int8_convolutions(ua_plates, float_ua, tmp_path):
    assert is_quantized(onnx.load(str(resolve_model_path("ocr-ua"))).graph)
    assert not is_quantized(onnx.load(str(float_ua)).graph)
    out = tmp_path / "ocr-ua-int8.onnx"
    result = quantize_ocr(float_ua, [ua_plates], out, calibration_crops=64)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["name"] == "ocr-ua-int8" and card["sha256"] == result.card["sha256"]
    assert card["quantization"]["from"]["name"] == "ocr-ua-float"
    assert card["quantization"]["calibration_crops"] == 64 and card["quantization"]["agreement_crops"] == 40
    assert card["quantization"]["agreement"] == pytest.approx(result.agreement, abs=1e-5) and result.agreement >= 0.98
    assert result.size_after < 0.6 * result.size_before  # int8 weights: about half the float file
    graph = onnx.load(str(out)).graph
    int8_kernels = [t for t in graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4]
    assert len(int8_kernels) == 6  # every convolution of the CRNN
    # 7-bit weights by default: AVX2 CPUs (no VNNI) sum pairs of products in 16 bits, which full range overflows
    assert card["quantization"]["reduce_range"] is True
    assert max(abs(int(v)) for t in int8_kernels for v in numpy_helper.to_array(t).ravel()) <= 64
    assert {n.op_type for n in graph.node} >= {"QuantizeLinear", "DequantizeLinear", "GRU"}

    crops = sorted((ua_plates / "val" / "img").iterdir())
    float_reads = Recognizer(region="ua", model=float_ua, threads=1).read_batch(crops)
    int8_reads = Recognizer(region="ua", model=out, threads=1).read_batch(crops)
    same = sum(a.text == b.text for a, b in zip(float_reads, int8_reads))
    assert same >= len(crops) - 1
    assert sum(r.text == p.text for r, p in zip(int8_reads, _truths(crops))) >= 0.9 * len(crops)


def _truths(crops):
    from numberplate.data.nomeroff import load_split

    by_image = {r.image_path.name: r for r in load_split(crops[0].parent.parent.parent, "val")}
    return [by_image[c.name] for c in crops]


def test_a_quantized_model_that_reads_differently_is_not_written(ua_plates, float_ua, tmp_path):
    out = tmp_path / "q.onnx"
    with pytest.raises(WeightsError, match="held-out crops") as refused:
        quantize_ocr(float_ua, [ua_plates], out, calibration_crops=32, min_agreement=1.01)
    assert "VNNI" not in str(refused.value)
    assert not out.exists() and not out.with_suffix(".json").exists()
    # With 8-bit weights the refusal names the likely cause: a CPU whose int8 kernels overflow.
    with pytest.raises(WeightsError, match="7-bit weights, the default"):
        quantize_ocr(float_ua, [ua_plates], out, calibration_crops=32, min_agreement=1.01, reduce_range=False)
    assert not out.exists()


def test_an_int8_model_is_not_quantized_again(ua_plates, tmp_path):
    with pytest.raises(ConfigError, match="already quantized"):
        quantize_ocr("ocr-ua", [ua_plates], tmp_path / "again.onnx")


def test_cli_quantizes_and_names_a_folder_that_is_not_a_dataset(ua_plates, float_ua, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["quantize", str(float_ua), "--data", str(ua_plates), "--out", str(out), "--crops", "32"]) == 0
    printed = capsys.readouterr().out
    assert "calibrated on 32 crops" in printed and "held-out crops" in printed
    assert Recognizer(model=out, threads=1).model.card["quantization"]["calibration_crops"] == 32
    with pytest.raises(InputError, match="not a Nomeroff OCR dataset"):
        quantize_ocr(float_ua, [tmp_path], tmp_path / "n.onnx")
    assert main(["quantize", str(float_ua), "--data", str(tmp_path), "--out", str(tmp_path / "n.onnx")]) != 0
    assert "not a Nomeroff OCR dataset" in capsys.readouterr().err
