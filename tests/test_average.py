"""Averaging the weights of fine-tunes of one model (``numberplate train average``)."""

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from numberplate.cli.main import main  # noqa: E402
from numberplate.errors import ConfigError  # noqa: E402
from numberplate.models.crnn import CRNNConfig  # noqa: E402
from numberplate.stages.recognize import Recognizer  # noqa: E402
from numberplate.train.average import average_checkpoints, write_average  # noqa: E402
from numberplate.train.export import export_checkpoint  # noqa: E402
from numberplate.train.loop import LoopConfig, fit, load_checkpoint, save_checkpoint  # noqa: E402
from numberplate.train.ocr import DataSource, OcrTask, OcrTrainConfig  # noqa: E402

TINY = CRNNConfig(widths=(8, 8, 8, 8), rnn_hidden=8)


@pytest.fixture
def two_runs(ocr_dataset, tmp_path):
    """A trained tiny recognizer and a copy of it with every float tensor moved by +1."""
    config = OcrTrainConfig(name="tiny", data=[DataSource(str(ocr_dataset))], samples_per_epoch=32, model=TINY,
                            loop=LoopConfig(epochs=1, batch_size=16, threads=1))
    fit(OcrTask(config), config.loop, tmp_path / "a")
    first = tmp_path / "a" / "best.pt"
    state = load_checkpoint(first)
    state["model"] = {k: v + 1 if v.is_floating_point() else v for k, v in state["model"].items()}
    second = tmp_path / "b.pt"
    save_checkpoint(second, state)
    return first, second


def test_the_average_is_the_mean_of_the_weights_and_exports(two_runs, tmp_path, ocr_dataset):
    first, second = two_runs
    out = tmp_path / "soup.pt"
    assert main(["train", "average", str(first), str(second), "--out", str(out)]) == 0
    averaged, original = load_checkpoint(out), load_checkpoint(first)
    for key, tensor in original["model"].items():
        if tensor.is_floating_point():
            assert torch.allclose(averaged["model"][key], tensor + 0.5, atol=1e-6), key
        else:  # batch counts are not averaged
            assert torch.equal(averaged["model"][key], tensor), key
    assert averaged["averaged_from"] == [str(first), str(second)]
    assert "val" not in averaged  # not measured: no metrics of its own
    # A run folder stands for its best.pt.
    by_folder = average_checkpoints([first.parent, second])
    assert by_folder["averaged_from"][0] == str(first)
    assert all(torch.equal(by_folder["model"][k], averaged["model"][k]) for k in averaged["model"])

    card = export_checkpoint(out, tmp_path / "soup.onnx")
    assert card["averaged_from"] == [str(first), str(second)]
    reading = Recognizer(model=tmp_path / "soup.onnx")(next((ocr_dataset / "val" / "img").glob("*.png")))
    assert 0.0 <= reading.confidence <= 1.0


def test_measure_scores_the_average_on_its_recipes_val_split(two_runs, tmp_path):
    first, second = two_runs
    out = tmp_path / "soup.pt"
    assert main(["train", "average", str(first), str(first), "--out", str(out), "--measure"]) == 0
    measured = load_checkpoint(out)["val"]
    # The mean of a checkpoint with itself is that checkpoint: the same validation metrics as its training run's.
    assert measured == pytest.approx(load_checkpoint(first)["val"])
    assert set(measured) >= {"acc", "acc/ds", "cer/ds"}
    card = export_checkpoint(out, tmp_path / "soup.onnx")
    assert card["metrics"]["val"] == pytest.approx(measured)

    state = load_checkpoint(first)
    del state["task"]["recipe"]
    bare = tmp_path / "bare.pt"
    save_checkpoint(bare, state)
    with pytest.raises(ConfigError, match="holds no recipe"):
        write_average([bare, bare], tmp_path / "x.pt", measure_val=True)


def test_checkpoints_of_other_models_do_not_average(two_runs, tmp_path):
    first, _ = two_runs
    state = load_checkpoint(first)
    other = tmp_path / "other.pt"
    state["task"] = {**state["task"], "model": {**state["task"]["model"], "rnn_hidden": 16}}
    save_checkpoint(other, state)
    with pytest.raises(ConfigError, match="other.pt: its model differs"):
        average_checkpoints([first, other])

    state = load_checkpoint(first)
    key = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][key] = torch.zeros(*state["model"][key].shape, 2)
    resized = tmp_path / "resized.pt"
    save_checkpoint(resized, state)
    with pytest.raises(ConfigError, match=f"resized.pt: {key} is"):
        average_checkpoints([first, resized])


def test_bad_arguments_are_clear_errors(two_runs, tmp_path, capsys):
    first, _ = two_runs
    assert main(["train", "average", str(first), "--out", str(tmp_path / "x.pt")]) == 2
    assert main(["train", "average", str(first), str(tmp_path / "missing.pt"), "--out", str(tmp_path / "x.pt")]) == 2
    assert main(["train", "average", str(first), str(first), "--out", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err
    assert "at least two checkpoints" in err
    assert "missing.pt: checkpoint not found" in err
    assert "x.onnx: an averaged checkpoint is a .pt file" in err
    assert not (tmp_path / "x.pt").exists() and not (tmp_path / "x.onnx").exists()


def test_averaging_keeps_the_first_checkpoints_task(two_runs):
    first, second = two_runs
    averaged = average_checkpoints([first, second])
    assert averaged["task"] == load_checkpoint(first)["task"]
    assert dataclasses.asdict(TINY)["rnn_hidden"] == averaged["task"]["model"]["rnn_hidden"]
    assert np.isfinite(sum(float(v.float().sum()) for v in averaged["model"].values()))


def test_repeated_fine_tunes_can_keep_their_average(two_runs, ocr_dataset, tmp_path):
    import json

    from numberplate.train.loop import fit_runs

    first, _ = two_runs
    config = OcrTrainConfig(name="tiny", data=[DataSource(str(ocr_dataset))], samples_per_epoch=32, model=TINY,
                            init_from=str(first), loop=LoopConfig(epochs=1, batch_size=16, threads=1, runs=2,
                                                                  seed=3, average=True))
    result = fit_runs(OcrTask(config), config.loop, tmp_path / "runs")
    summary = json.loads((tmp_path / "runs" / "runs.json").read_text())
    assert [r["seed"] for r in summary["runs"]] == [3, 4]
    assert set(summary["average"]) == {"val", "test", "kept"} and "acc" in summary["average"]["test"]
    average = load_checkpoint(tmp_path / "runs" / "average.pt")
    assert len(average["averaged_from"]) == 2 and average["val"] == summary["average"]["val"]
    kept = (tmp_path / "runs" / "best.pt").read_bytes()
    if summary["average"]["kept"]:
        assert result.seed is None and kept == (tmp_path / "runs" / "average.pt").read_bytes()
    else:
        assert kept == (tmp_path / "runs" / f"seed-{result.seed}" / "best.pt").read_bytes()
    best_test = max([r["test"]["acc"] for r in summary["runs"]] + [summary["average"]["test"]["acc"]])
    assert result.test["acc"] == best_test


def test_averaging_runs_needs_several_fine_tunes_of_one_start(ocr_dataset, tmp_path):
    from numberplate.train.loop import fit_runs

    scratch = OcrTrainConfig(name="tiny", data=[DataSource(str(ocr_dataset))], samples_per_epoch=32, model=TINY,
                             loop=LoopConfig(epochs=1, batch_size=16, threads=1, runs=2, average=True))
    with pytest.raises(ConfigError, match="needs a common start"):
        fit_runs(OcrTask(scratch), scratch.loop, tmp_path / "a")
    scratch.loop.runs = 1
    with pytest.raises(ConfigError, match="needs --runs 2 or more"):
        fit_runs(OcrTask(scratch), scratch.loop, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_the_average_flag_reaches_the_loop_from_the_command_line(ocr_dataset, tmp_path, capsys):
    assert main(["train", "ocr", "--data", str(ocr_dataset), "--runs", "2", "--average", "--epochs", "1",
                 "--out", str(tmp_path / "run")]) == 2
    assert "averaging runs needs a common start (--init-from)" in capsys.readouterr().err
