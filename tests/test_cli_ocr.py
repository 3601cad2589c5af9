"""The ``numberplate ocr`` and ``eval ocr`` commands on a tiny model trained in the test."""

import json

import pytest

torch = pytest.importorskip("torch")

from conftest import make_ocr_dataset  # noqa: E402

from numberplate.cli.main import main  # noqa: E402
from numberplate.models.crnn import CRNNConfig  # noqa: E402
from numberplate.train.export import export_checkpoint  # noqa: E402
from numberplate.train.loop import LoopConfig, fit  # noqa: E402
from numberplate.train.ocr import DataSource, OcrTask, OcrTrainConfig  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    dataset = make_ocr_dataset(root / "ds", counts=(16, 4, 4))
    config = OcrTrainConfig(name="tiny", data=[DataSource(str(dataset))], samples_per_epoch=32,
                            model=CRNNConfig(widths=(8, 8, 8, 8), rnn_hidden=8),
                            loop=LoopConfig(epochs=1, batch_size=16, threads=1))
    fit(OcrTask(config), config.loop, root / "run")
    onnx_path = root / "tiny.onnx"
    export_checkpoint(root / "run" / "best.pt", onnx_path)
    return onnx_path, dataset


def test_jsonl_output_and_bad_files_do_not_stop_the_run(tiny_model, tmp_path, capsys):
    model, dataset = tiny_model
    good = sorted((dataset / "test" / "img").glob("*.png"))[:2]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code = main(["ocr", "--model", str(model), "--format", "jsonl", str(good[0]), str(broken),
                 str(tmp_path / "missing.png"), str(good[1])])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [line["image"] for line in lines] == [str(good[0]), str(good[1])]
    assert set(lines[0]) >= {"image", "text", "confidence", "char_confidences"}
    assert len(lines[0]["char_confidences"]) == len(lines[0]["text"])
    assert "broken.jpg: image file is truncated" in err
    assert "missing.png: file not found" in err
    assert "2 crops read, 2 failed" in err


def test_nothing_readable_exits_non_zero(tiny_model, tmp_path, capsys):
    model, _ = tiny_model
    (tmp_path / "empty").mkdir()
    assert main(["ocr", "--model", str(model), str(tmp_path / "empty")]) == 1
    assert "folder holds no images" in capsys.readouterr().err


def test_text_format_and_folder_input(tiny_model, capsys):
    model, dataset = tiny_model
    assert main(["ocr", "--model", str(model), str(dataset / "val" / "img")]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 4 and all(len(r) == 3 and 0 <= float(r[2]) <= 1 for r in rows)


def test_eval_reports_accuracy_and_speed(tiny_model, capsys):
    model, dataset = tiny_model
    assert main(["eval", "ocr", "--data", str(dataset), "--model", str(model), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["plates"] == 4 and 0 <= result["exact_accuracy"] <= 1 and result["plates_per_second"] > 0
    assert 0 <= result["cer"]


def test_unknown_region_is_a_clear_error(tiny_model, capsys):
    model, dataset = tiny_model
    assert main(["ocr", "--region", "atlantis", "--model", str(model), str(dataset)]) == 2
    assert "unknown region 'atlantis'" in capsys.readouterr().err


def test_exporting_the_last_epoch_records_that_epochs_validation(tiny_model, tmp_path):
    # last.pt carries no metrics of its own: the card takes that epoch's row of the run's log.
    run = tiny_model[0].parent / "run"
    card = export_checkpoint(run / "last.pt", tmp_path / "last.onnx")
    row = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
    assert card["metrics"]["epoch"] == row["epoch"] == card["epoch"]
    assert card["metrics"]["val"]["acc"] == row["val_acc"] and "loss" not in card["metrics"]["val"]

