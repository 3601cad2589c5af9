"""Training, resume, repeated runs, export and inference on a tiny generated dataset."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from numberplate.errors import ConfigError, WeightsError  # noqa: E402
from numberplate.models.crnn import CRNNConfig  # noqa: E402
from numberplate.stages.recognize import Recognizer  # noqa: E402
from numberplate.train.config import from_dict, load_toml  # noqa: E402
from numberplate.train.export import export_checkpoint  # noqa: E402
from numberplate.train.loop import LoopConfig, fit, fit_runs, select_device  # noqa: E402
from numberplate.train.ocr import DataSource, OcrTask, OcrTrainConfig  # noqa: E402

TINY = CRNNConfig(widths=(8, 8, 8, 8), rnn_hidden=8)


def tiny_config(dataset, **loop) -> OcrTrainConfig:
    return OcrTrainConfig(name="tiny", data=[DataSource(str(dataset))], samples_per_epoch=64, model=TINY,
                          loop=LoopConfig(epochs=2, batch_size=16, threads=1, **loop))


def test_fit_writes_logs_metrics_and_checkpoints(ocr_dataset, tmp_path):
    run = tmp_path / "run"
    result = fit(OcrTask(tiny_config(ocr_dataset)), tiny_config(ocr_dataset).loop, run)
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1]
    assert all("val_acc" in r and "train_loss" in r for r in rows)
    assert (run / "metrics.csv").read_text().splitlines()[0].startswith("epoch,train_loss")
    assert result.best_checkpoint == run / "best.pt" and (run / "last.pt").is_file()
    assert json.loads((run / "config.json").read_text())["task"]["alphabet"] == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert "acc" in result.test


def test_resume_continues_after_the_last_epoch(ocr_dataset, tmp_path):
    run = tmp_path / "run"
    config = tiny_config(ocr_dataset)
    config.loop.epochs = 1
    fit(OcrTask(config), config.loop, run)
    config.loop.epochs = 3
    fit(OcrTask(config), config.loop, run, resume=True)
    epochs = [json.loads(line)["epoch"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert epochs == [0, 1, 2]


def test_runs_keep_the_best_on_test(ocr_dataset, tmp_path):
    config = tiny_config(ocr_dataset, runs=2, seed=5)
    config.loop.epochs = 1
    result = fit_runs(OcrTask(config), config.loop, tmp_path / "runs")
    summary = json.loads((tmp_path / "runs" / "runs.json").read_text())
    assert [r["seed"] for r in summary["runs"]] == [5, 6]
    best = max(summary["runs"], key=lambda r: r["test"]["acc"])
    assert summary["best_seed"] == best["seed"] == result.seed
    assert (tmp_path / "runs" / "best.pt").is_file()


def test_export_parity_and_inference(ocr_dataset, tmp_path):
    config = tiny_config(ocr_dataset)
    fit(OcrTask(config), config.loop, tmp_path / "run")
    onnx_path = tmp_path / "model" / "tiny.onnx"
    card = export_checkpoint(tmp_path / "run" / "best.pt", onnx_path)
    assert card["alphabet"].startswith("0123") and card["input"] == {
        "height": 32, "width": 128, "channels": 1, "layout": "NCHW", "range": "0..1", "color": "grey",
            "min_contrast": 0}
    assert json.loads(onnx_path.with_suffix(".json").read_text())["sha256"] == card["sha256"]
    recognizer = Recognizer(model=onnx_path, threads=1)
    image = np.full((40, 160, 3), 255, np.uint8)
    readings = recognizer.read_batch([image, image])
    assert len(readings) == 2 and 0.0 <= readings[0].confidence <= 1.0
    assert len(readings[0].char_confidences) == len(readings[0].text)
    assert readings[0] == readings[1]


def test_a_model_trained_with_min_contrast_gets_dim_crops_stretched_at_inference(ocr_dataset, tmp_path):
    config = tiny_config(ocr_dataset)
    config.model = CRNNConfig(widths=(8, 8, 8, 8), rnn_hidden=8, min_contrast=180)
    config.loop.epochs = 1
    fit(OcrTask(config), config.loop, tmp_path / "run")
    card = export_checkpoint(tmp_path / "run" / "best.pt", tmp_path / "m.onnx")
    assert card["input"]["min_contrast"] == 180
    recognizer = Recognizer(model=tmp_path / "m.onnx", threads=1)
    seen = []
    run = recognizer.model.run
    recognizer.model.run = lambda batch: seen.append(batch) or run(batch)
    dim = np.random.default_rng(1).integers(90, 121, (40, 160, 3)).astype(np.uint8)
    recognizer.read_batch([dim])
    low, high = np.percentile(seen[0] * 255, (1, 99))
    assert high - low == pytest.approx(180, abs=10)


def test_corrupt_weights_give_a_clear_error(ocr_dataset, tmp_path):
    config = tiny_config(ocr_dataset)
    config.loop.epochs = 1
    fit(OcrTask(config), config.loop, tmp_path / "run")
    onnx_path = tmp_path / "m.onnx"
    export_checkpoint(tmp_path / "run" / "best.pt", onnx_path)
    data = bytearray(onnx_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx_path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="does not match its card"):
        Recognizer(model=onnx_path)
    onnx_path.with_suffix(".json").unlink()
    with pytest.raises(WeightsError, match="model card not found"):
        Recognizer(model=onnx_path)


def test_device_choice_on_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert select_device("auto").type == "cpu"
    assert select_device("cpu").type == "cpu"
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        select_device("cuda")
    with pytest.raises(ConfigError, match="unknown device"):
        select_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto").type == "cuda"


def test_config_errors_name_the_key(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('name = "x"\n[loop]\nepochs = 3\nbogus = 1\n')
    with pytest.raises(ConfigError, match=r"c.toml.loop: unknown key\(s\) bogus"):
        load_toml(OcrTrainConfig, path)
    path.write_text('name = "x"\n[[data]]\npath = "a"\nweight = 2\n[loop]\nepochs = "many"\n')
    with pytest.raises(ConfigError, match="epochs: expected int"):
        load_toml(OcrTrainConfig, path)
    config = from_dict(OcrTrainConfig, {"data": [{"path": "a", "weight": 2}], "model": {"widths": [1, 2, 3, 4]}})
    assert config.data[0].weight == 2.0 and config.model.widths == (1, 2, 3, 4)


def test_no_data_and_not_a_dataset(tmp_path):
    with pytest.raises(ConfigError, match="at least one data source"):
        OcrTask(OcrTrainConfig())
    from numberplate.errors import InputError

    with pytest.raises(InputError, match="not a Nomeroff OCR dataset"):
        OcrTask(OcrTrainConfig(data=[DataSource(str(tmp_path))]))


def test_far_plate_augmentation_shrinks_and_compresses_only_when_asked():
    from numberplate.train.ocr import AugmentConfig, augment_crop

    still = dict(affine=0, photometric=0, blur=0, noise=0, invert=0)
    crop = np.zeros((32, 128, 1), np.uint8)
    crop[8:24, ::8] = 255  # thin vertical strokes: what shrinking and JPEG blur
    rng = np.random.default_rng(0)
    assert np.array_equal(augment_crop(crop, rng, AugmentConfig(downscale=0, jpeg=0, **still)), crop)
    compressed = augment_crop(crop, rng, AugmentConfig(downscale=0, jpeg=1, jpeg_quality=(20, 20), **still))
    assert compressed.shape == crop.shape and compressed.dtype == np.uint8
    assert 0 < np.abs(compressed.astype(int) - crop).mean() < 40  # blurred strokes, still strokes
    far = augment_crop(crop, rng, AugmentConfig(downscale=1, downscale_range=(0.3, 0.3), jpeg=0, **still))
    assert far.shape == crop.shape and far[8:24].max() < 255  # 3-pixel stripes cannot survive 0.3x


def test_a_source_can_keep_its_own_shrink_and_jpeg_settings(tmp_path):
    from numberplate.train.ocr import AugmentConfig

    recipe = tmp_path / "r.toml"
    recipe.write_text('[[data]]\npath = "a"\n[[data]]\npath = "b"\ndownscale = 0.1\njpeg = 0.0\n'
                      "[augment]\ndownscale = 0.5\njpeg = 0.4\n")
    config = load_toml(OcrTrainConfig, recipe)
    plain, own = (source.augment(config.augment) for source in config.data)
    assert (plain.downscale, plain.jpeg) == (0.5, 0.4) and plain is config.augment
    assert (own.downscale, own.jpeg, own.blur) == (0.1, 0.0, AugmentConfig().blur)
