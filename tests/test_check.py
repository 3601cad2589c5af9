import json

from numberplate.cli.main import main
from numberplate.data.check import check_ocr_dataset


def test_clean_dataset_passes(ocr_dataset, capsys):
    report = check_ocr_dataset(ocr_dataset)
    assert report.ok and report.items == 36
    assert main(["data", "check", str(ocr_dataset)]) == 0


def test_every_problem_is_reported_with_its_file(ocr_dataset, capsys):
    train = ocr_dataset / "train"
    (train / "ann" / "train000.json").write_text("{broken", encoding="utf-8")
    (train / "img" / "train001.png").write_bytes(b"not an image")
    ann = json.loads((train / "ann" / "train002.json").read_text())
    ann["description"] = ""
    (train / "ann" / "train002.json").write_text(json.dumps(ann))
    ann["description"] = "AB#12"
    (train / "ann" / "train003.json").write_text(json.dumps(ann))
    (train / "img" / "train004.png").unlink()
    (train / "img" / "stray.png").write_bytes((train / "img" / "train005.png").read_bytes())

    problems = [str(p) for p in check_ocr_dataset(ocr_dataset).problems]
    expect = {"train000.json": "invalid JSON", "train001.png": "not a readable image",
              "train002.json": "empty text", "train003.json": "outside the alphabet",
              "train004.json": "no image", "stray.png": "has no annotation"}
    for name, message in expect.items():
        assert any(name in p and message in p for p in problems), (name, problems)
    assert len(problems) == len(expect)
    assert main(["data", "check", str(ocr_dataset)]) == 1
    assert "train003.json" in capsys.readouterr().out


def test_not_a_dataset(tmp_path, capsys):
    assert main(["data", "check", str(tmp_path)]) == 1
    assert "not a Nomeroff OCR dataset" in capsys.readouterr().out
