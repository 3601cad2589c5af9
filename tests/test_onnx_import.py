"""Training can start from an exported ONNX model (the shipped weights), not only from a .pt checkpoint."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from numberplate.cli.main import main as cli_main  # noqa: E402
from numberplate.errors import ConfigError  # noqa: E402
from numberplate.models.classifier import ClassifierConfig, PlateClassifier  # noqa: E402
from numberplate.models.crnn import CRNN, CRNNConfig  # noqa: E402
from numberplate.models.detector import DetectorConfig, PlateDetector  # noqa: E402
from numberplate.runtime import load_model  # noqa: E402
from numberplate.train.config import from_dict  # noqa: E402
from numberplate.train.export import export_checkpoint  # noqa: E402
from numberplate.train.loop import LoopConfig, fit  # noqa: E402
from numberplate.train.ocr import DataSource, OcrTask, OcrTrainConfig  # noqa: E402
from numberplate.train.onnx_import import calibration_batch, is_onnx_source, load_onnx_weights  # noqa: E402

TINY = CRNNConfig(widths=(8, 8, 8, 16), rnn_hidden=8)


@pytest.fixture()
def exported(ocr_dataset, tmp_path):
    config = OcrTrainConfig(name="tiny", data=[DataSource(str(ocr_dataset))], samples_per_epoch=128, model=TINY,
                            loop=LoopConfig(epochs=2, batch_size=16, threads=1))
    task = OcrTask(config)
    fit(task, config.loop, tmp_path / "run")
    export_checkpoint(tmp_path / "run" / "best.pt", tmp_path / "tiny.onnx")
    return tmp_path / "tiny.onnx", task


def test_imported_model_computes_the_exported_function(exported):
    path, task = exported
    calibration = calibration_batch(task)
    model = CRNN(TINY)
    error = load_onnx_weights(model, path, calibration, "ocr")
    assert error < 1e-4
    model.eval()
    with torch.no_grad():
        eval_probs = model(calibration).softmax(-1)
        model.train()
        train_probs = model(calibration).softmax(-1)  # batch statistics now: close to the running ones
    expected = load_model(path, "ocr", threads=1).run(calibration.numpy())
    assert np.abs(eval_probs.numpy() - expected).max() < 1e-4
    assert np.abs(train_probs.numpy() - expected).mean() < 0.02
    norm = model.features[0][1]
    assert float(norm.running_var.min()) > 0 and not torch.allclose(norm.running_mean, torch.zeros_like(norm.running_mean))


def test_other_architecture_is_refused_with_the_file_named(exported):
    path, task = exported
    with pytest.raises(ConfigError, match=r"tiny\.onnx.*\[model\] settings"):
        load_onnx_weights(CRNN(CRNNConfig(widths=(8, 8, 8, 8), rnn_hidden=8)), path, calibration_batch(task), "ocr")
    with pytest.raises(ConfigError, match="is a 'ocr' model, expected a 'classify' model"):
        load_onnx_weights(CRNN(TINY), path, calibration_batch(task), "classify")


def test_cli_fine_tunes_from_an_onnx_file_with_its_architecture(exported, ocr_dataset, tmp_path, capsys):
    path, _ = exported
    run = tmp_path / "fine-tuned"
    code = cli_main(["train", "ocr", "--init-from", str(path), "--data", str(ocr_dataset), "--epochs", "1",
                     "--samples-per-epoch", "32", "--batch-size", "16", "--threads", "1", "--out", str(run)])
    assert code == 0
    task = json.loads((run / "config.json").read_text())["task"]
    assert task["model"]["widths"] == [8, 8, 8, 16] and task["model"]["rnn_hidden"] == 8
    assert "imported into PyTorch" in capsys.readouterr().err


def test_a_taller_input_keeps_all_but_the_last_convolution(exported, ocr_dataset, capsys):
    path, _ = exported
    taller = CRNNConfig(input_height=48, widths=(8, 8, 8, 16), rnn_hidden=8)
    task = OcrTask(OcrTrainConfig(name="tall", data=[DataSource(str(ocr_dataset))], samples_per_epoch=64,
                                  model=taller, init_from=str(path)))
    model = task.build_model()
    assert "differ in shape" in capsys.readouterr().err
    source = CRNN(TINY)
    load_onnx_weights(source, path, torch.nn.functional.interpolate(calibration_batch(task), size=(32, 128)), "ocr")
    last = model.features[-1][0].weight
    assert last.shape == (16, 16, 3, 3) and source.features[-1][0].weight.shape == (16, 16, 2, 3)
    assert torch.equal(model.features[0][0].weight, source.features[0][0].weight)
    assert torch.equal(model.classifier.weight, source.classifier.weight)
    images = next(iter(task.train_batches(0, 4, np.random.default_rng(0))))[0]
    assert images.shape[2] == 48 and model(images.float()).shape == (4, 32, TINY.num_classes)


def test_crnn_heights_must_be_multiples_of_16():
    with pytest.raises(ValueError, match="multiple of 16"):
        CRNN(CRNNConfig(input_height=40))


def test_pt_paths_and_unknown_names_are_not_onnx_sources(tmp_path):
    assert is_onnx_source("ocr-latin") and is_onnx_source(tmp_path / "x.onnx")
    assert not is_onnx_source(tmp_path / "best.pt") and not is_onnx_source("no-such-model")


@pytest.mark.parametrize("name, kind, config_type, model_type, shape", [
    ("ocr-universal", "ocr", CRNNConfig, CRNN, (24, 1, 32, 128)),
    ("classifier-plates", "classify", ClassifierConfig, PlateClassifier, (24, 3, 48, 160)),
    ("detector-plates", "detect", DetectorConfig, PlateDetector, (4, 3, 256, 320)),
])
def test_every_shipped_model_imports_exactly(name, kind, config_type, model_type, shape):
    card = load_model(name, kind, threads=1).card
    model = model_type(from_dict(config_type, card["recipe"]["model"]))
    calibration = torch.from_numpy(np.random.default_rng(0).random(shape, dtype=np.float32))
    assert load_onnx_weights(model, name, calibration, kind) < 1e-4
