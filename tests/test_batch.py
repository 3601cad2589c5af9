"""numberplate read at scale: --out streaming, --jobs, --resume, CSV, the summary; outputs unchanged."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from numberplate.batch import BatchSummary, ReaderOptions, completed_images
from numberplate.cli.main import main
from numberplate.runtime import list_shipped_models

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "car-ua.jpg"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """6 copies of the example street photo, one photo without plates and one broken file."""
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    for index in range(6):
        shutil.copy(EXAMPLE, root / ("sub" if index % 2 else "") / f"car{index}.jpg")
    cv2.imwrite(str(root / "blank.png"), np.full((120, 160, 3), 128, np.uint8))
    (root / "broken.jpg").write_bytes(b"\xff\xd8not really a jpeg")
    return root


def test_single_photo_output_is_unchanged(capsys):
    assert main(["read", str(EXAMPLE)]) == 0
    out, err = capsys.readouterr()
    # With a shipped classifier the plate's region is named too.
    region = "\tregion=ua" if list_shipped_models("classify") else ""
    fields = out.rstrip("\n").split("\t")
    assert out.endswith("\n") and out.count("\n") == 1 and err == ""
    assert fields[:2] == [str(EXAMPLE), "AA1234BC"] and float(fields[2]) >= 0.9
    # The plate drawn in the example spans about (510, 521)-(773, 594); boxes move a little with new weights.
    box = [int(v) for v in fields[3].removeprefix("box=").split(",")]
    assert all(abs(a - b) <= 15 for a, b in zip(box, (510, 521, 773, 594)))
    assert "".join(f"\t{f}" for f in fields[4:]) == region


def test_out_jobs_streams_every_photo_and_summarises(folder, tmp_path, capsys):
    out = tmp_path / "results.jsonl"
    assert main(["read", str(folder), "--out", str(out), "--jobs", "2", "--region", "ua"]) == 0
    _, err = capsys.readouterr()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(Path(r["image"]).name for r in records) == ["blank.png"] + [f"car{i}.jpg" for i in range(6)]
    texts = {Path(r["image"]).name: [p["text"] for p in r["plates"]] for r in records}
    assert texts["blank.png"] == [] and all(texts[f"car{i}.jpg"] == ["AA1234BC"] for i in range(6))
    assert "broken.jpg: image file is truncated" in err
    assert "summary: 7 read, 1 failed, 6 plates found" in err and "photos/s" in err
    # Same records as the one-photo jsonl output (a worker process reads exactly like the CLI).
    assert main(["read", str(folder / "car0.jpg"), "--format", "jsonl", "--region", "ua"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert next(r for r in records if r["image"] == single["image"]) == single


def test_resume_skips_done_photos_and_repairs_a_torn_line(folder, tmp_path, capsys):
    out = tmp_path / "results.jsonl"
    assert main(["read", str(folder / "sub"), "--out", str(out)]) == 0
    capsys.readouterr()
    first = out.read_text().splitlines()
    assert len(first) == 3
    out.write_text("\n".join(first[:2]) + "\n" + first[2][:40])  # stopped while writing the third line
    assert main(["read", str(folder), "--out", str(out)]) == 2  # an existing file needs --resume
    assert "--resume" in capsys.readouterr().err
    assert main(["read", str(folder), "--out", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    assert "2 skipped" in err and "summary: 5 read, 1 failed" in err
    lines = out.read_text().splitlines()
    images = [json.loads(line)["image"] for line in lines]
    assert len(images) == len(set(images)) == 7
    assert lines[:2] == first[:2]
    # Everything done: nothing is read again and the run succeeds.
    assert main(["read", str(folder), "--out", str(out), "--resume"]) == 0
    assert "0 read, 1 failed, 7 skipped" in capsys.readouterr().err


def test_csv_out_lists_every_photo_and_resumes(folder, tmp_path, capsys):
    out = tmp_path / "results.csv"
    assert main(["read", str(folder / "sub"), str(folder / "blank.png"), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert {Path(r["image"]).name: r["text"] for r in rows} == {"car1.jpg": "AA1234BC", "car3.jpg": "AA1234BC",
                                                                "car5.jpg": "AA1234BC", "blank.png": ""}
    assert main(["read", str(folder), "--out", str(out), "--resume"]) == 0
    assert "4 skipped" in capsys.readouterr().err
    assert completed_images(out, "csv") == {str(p) for p in folder.rglob("*") if p.is_file() and p.name != "broken.jpg"}
    assert out.read_text().count("image,plate,text") == 1


def test_completed_images_rejects_foreign_files(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"image": "a.jpg", "plates": []}\nnot json\n')
    with pytest.raises(Exception, match="line 2 is not a result"):
        completed_images(path, "jsonl")
    assert completed_images(tmp_path / "missing.jsonl", "jsonl") == set()


def test_bad_batch_options_are_clear_errors(folder, tmp_path, capsys):
    assert main(["read", str(folder), "--resume"]) == 2
    assert main(["read", str(folder), "--out", str(tmp_path / "r.txt"), "--format", "text"]) == 2
    assert main(["read", str(folder), "--jobs", "0"]) == 2
    err = capsys.readouterr().err
    assert "--resume continues a results file" in err and "jsonl or csv" in err and "--jobs must be >= 1" in err


@pytest.mark.parametrize(("flags", "message"), [
    (["--next-countries", "-1"], "--next-countries must be >= 0, got -1"),
    (["--threads", "0"], "--threads must be >= 1, got 0"),
    (["--max-side", "8"], "--max-side must be >= 32, got 8"),
    (["--threshold", "2"], "--threshold must be between 0 and 1, got 2.0"),
    (["--confirm-threshold", "-0.1"], "--confirm-threshold must be between 0 and 1, got -0.1"),
])
def test_bad_reader_options_fail_before_any_model_loads(flags, message, capsys):
    for command in (["read", "examples/car-ua.jpg"], ["eval", "read", "--data", "examples"], ["serve"]):
        assert main([*command, *flags]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


def test_read_eval_read_and_serve_build_the_same_reader_options():
    from numberplate.cli.main import build_parser
    from numberplate.cli.reader_args import reader_options
    from numberplate.cli.serve import config_from_args

    flags = ["--region", "br", "--classifier", "c.onnx", "--no-refiner", "--next-countries", "0",
             "--confirm-threshold", "0.3", "--max-side", "960", "--threads", "1", "--no-national-models"]
    def parse(argv):
        return build_parser(argv).parse_args(argv)

    from_read = reader_options(parse(["read", "x.jpg", *flags]))
    from_eval = reader_options(parse(["eval", "read", "--data", "d", *flags]))
    from_serve = config_from_args(parse(["serve", *flags])).reader
    assert from_read == from_eval == from_serve
    assert (from_read.region, from_read.classifier, from_read.use_refiner, from_read.next_countries,
            from_read.confirm_threshold, from_read.max_side, from_read.threads) == ("br", "c.onnx", False, 0, 0.3, 960, 1)
    assert from_read.national_models is False and ReaderOptions().national_models is True
    assert replace(from_read, classifier=None).build().national_models is False


def test_serve_checks_an_explicit_threads_count_like_read(capsys):
    assert main(["serve", "--threads", "0"]) == 2  # not "auto": the same check as read and eval read
    assert "--threads must be >= 1, got 0" in capsys.readouterr().err


def test_summary_line():
    summary = BatchSummary(read=10, failed=1, skipped=2, plates=12, seconds=2.0)
    assert summary.line() == ("10 read, 1 failed, 2 skipped (already in the results), 12 plates found, 2.0 s, "
                              "5.0 photos/s")


def test_batch_options_default_to_the_readers_own_thresholds():
    import inspect

    from numberplate.reader import Reader
    from numberplate.stages.detect import Detector

    options, reader = ReaderOptions(), inspect.signature(Reader).parameters
    assert options.threshold == reader["threshold"].default == inspect.signature(Detector).parameters["threshold"].default
    assert options.confirm_threshold == reader["confirm_threshold"].default < options.threshold
