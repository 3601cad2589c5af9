"""numberplate data prelabel / split / merge / dedupe / crop / stats on generated datasets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import draw_text_crop, make_ocr_dataset

from numberplate.cli.main import main
from numberplate.data.nomeroff import write_record
from numberplate.data.prelabel import Prediction, prelabel
from numberplate.data.records import OcrRecord
from numberplate.data.tools import (
    Grouping,
    assign_splits,
    crop_dataset,
    dataset_stats,
    dedupe_dataset,
    load_ocr,
    merge_datasets,
    parse_ratios,
    split_dataset,
)
from numberplate.data.via import read_via
from numberplate.errors import InputError
from numberplate.web.demo import make_demo_ocr, make_demo_via


def photo_crops(root: Path, photos: int = 20, per_photo: int = 3) -> Path:
    """Crops cut from ``photos`` photos, ``per_photo`` each, the photo named in ``source``."""
    for p in range(photos):
        for k in range(per_photo):
            record = OcrRecord(name=f"shot{p:02d}_{k}", image_path=Path(), text=f"AB{p:02d}{k}", region="br",
                               moderated=True, extra={"source": f"shot{p:02d}.jpg"})
            write_record(root / "train", record, image=draw_text_crop(record.text, seed=p * 10 + k))
    return root


def test_split_keeps_each_photo_in_one_split(tmp_path):
    src = photo_crops(tmp_path / "crops")
    before = sorted(p.name for p in (src / "train" / "ann").iterdir())
    summary = split_dataset(src, tmp_path / "out", parse_ratios("0.6,0.2,0.2"), seed=3)
    items = load_ocr(tmp_path / "out")
    assert len(items) == 60 and sum(summary.items.values()) == 60
    split_of_photo: dict[str, set[str]] = {}
    for split, record in items:
        split_of_photo.setdefault(record.extra["source"], set()).add(split)
    assert all(len(s) == 1 for s in split_of_photo.values())
    assert {s for s, _ in items} == {"train", "val", "test"}
    assert summary.groups["train"] == 12 and summary.items["val"] == 12  # 20 photos at 0.6/0.2/0.2, whole photos
    # Same seed, same split; the source is untouched.
    split_dataset(src, tmp_path / "again", parse_ratios("0.6,0.2,0.2"), seed=3)
    assert sorted((s, r.name) for s, r in load_ocr(tmp_path / "again")) == sorted((s, r.name) for s, r in items)
    assert sorted(p.name for p in (src / "train" / "ann").iterdir()) == before


def test_split_groups_by_a_name_pattern_and_detection_photos(tmp_path):
    make_ocr_dataset(tmp_path / "plain", counts=(10, 0, 0))
    grouping = Grouping.build(regex=r"^(train00)\d")  # train000..train009 -> one group
    summary = split_dataset(tmp_path / "plain", tmp_path / "grouped", (0.5, 0.25, 0.25), grouping=grouping)
    assert sorted(summary.groups.values()) == [0, 0, 1] and max(summary.items.values()) == 10
    with pytest.raises(InputError, match="not a valid regular expression"):
        Grouping.build(regex="([")
    make_demo_via(tmp_path / "via", photos=4, labelled=4)
    split_dataset(tmp_path / "via", tmp_path / "via-split", (0.5, 0.25, 0.25))
    records = read_via(tmp_path / "via-split")
    assert len(records) == 4 and {r.split for r in records} == {"train", "val", "test"}
    assert all(r.image_path.is_file() and r.plates for r in records)


@pytest.mark.parametrize("text", ["0.8,0.2", "a,b,c", "-1,1,1", "0,0,0"])
def test_bad_ratios(text):
    with pytest.raises(InputError, match="--ratios"):
        parse_ratios(text)


def test_assign_splits_follows_the_ratios():
    splits = assign_splits({f"g{i}": 1 for i in range(1000)}, (0.8, 0.1, 0.1), seed=1)
    counts = {s: sum(1 for v in splits.values() if v == s) for s in ("train", "val", "test")}
    assert counts == {"train": 800, "val": 100, "test": 100}


def test_merge_renames_clashing_names_and_refuses_mixed_kinds(tmp_path):
    make_ocr_dataset(tmp_path / "a", counts=(3, 1, 0))
    make_ocr_dataset(tmp_path / "b", counts=(2, 0, 1), seed=1)
    written, renamed = merge_datasets([tmp_path / "a", tmp_path / "b"], tmp_path / "ab")
    assert (written, renamed) == (7, 2)
    names = {(s, r.name) for s, r in load_ocr(tmp_path / "ab")}
    assert ("train", "b-train000") in names and ("test", "test000") in names and len(names) == 7
    make_demo_via(tmp_path / "via", photos=1, labelled=1)
    with pytest.raises(InputError, match="cannot merge OCR crop sets with detection sets"):
        merge_datasets([tmp_path / "a", tmp_path / "via"], tmp_path / "mixed")
    with pytest.raises(InputError, match="not empty"):
        merge_datasets([tmp_path / "a", tmp_path / "b"], tmp_path / "ab")


def test_merge_detection_sets_with_the_same_file_names(tmp_path):
    make_demo_via(tmp_path / "one", photos=2, labelled=2, seed=0)
    make_demo_via(tmp_path / "two", photos=1, labelled=1, seed=5)
    written, renamed = merge_datasets([tmp_path / "one", tmp_path / "two"], tmp_path / "both")
    assert (written, renamed) == (3, 1)
    records = read_via(tmp_path / "both")
    assert sorted(r.image_path.name for r in records) == ["street00.jpg", "street01.jpg", "two-street00.jpg"]
    assert all(r.image_path.is_file() for r in records)
    assert not (tmp_path / "both" / ".merge-staging").exists()


def test_dedupe_finds_identical_images_and_keeps_the_moderated_one(tmp_path):
    root = make_ocr_dataset(tmp_path / "ds", counts=(4, 2, 0))
    # train001 copied into val under another name, unmoderated, with another text: a labelling conflict.
    shutil.copy(root / "train" / "img" / "train001.png", root / "val" / "img" / "copy.png")
    record = OcrRecord(name="copy", image_path=Path(), text="ZZZ9999", moderated=False)
    write_record(root / "val", record)
    groups = dedupe_dataset(root)  # dry run
    assert len(groups) == 1 and groups[0].keep.endswith("train/ann/train001.json")
    assert groups[0].drop[0].endswith("val/ann/copy.json") and "different labels" in groups[0].conflict
    assert (root / "val" / "ann" / "copy.json").exists()
    dedupe_dataset(root, out=tmp_path / "clean")
    assert len(load_ocr(tmp_path / "clean")) == 6
    dedupe_dataset(root, delete=True)
    assert not (root / "val" / "ann" / "copy.json").exists() and not (root / "val" / "img" / "copy.png").exists()
    assert dedupe_dataset(root) == []


def test_crop_cuts_each_plate_upright_with_its_labels(tmp_path):
    photos = make_demo_via(tmp_path / "via", photos=2, labelled=2)
    counts = crop_dataset(tmp_path / "via", tmp_path / "crops")
    assert counts == {"train": 2}
    items = load_ocr(tmp_path / "crops")
    assert [r.name for _, r in items] == ["street00_0", "street01_0"]
    for (_, record), (name, text, corners) in zip(items, photos):
        assert record.text == text and record.moderated and record.extra["source"] == name
        flat = [v for point in record.extra["corners"] for v in point]
        assert flat == pytest.approx([v for point in corners for v in point], abs=0.2)
        size = record.extra["size"]
        assert 3.0 < size["width"] / size["height"] < 6.0  # an upright plate, not the whole photo
    with pytest.raises(InputError, match="already an OCR crop set"):
        crop_dataset(tmp_path / "crops", tmp_path / "x")
    heights = sorted(r.extra["size"]["height"] for _, r in items)
    assert crop_dataset(tmp_path / "via", tmp_path / "tall", min_height=heights[1]) == {"train": 1, "small": 1}
    assert [r.extra["size"]["height"] for _, r in load_ocr(tmp_path / "tall")] == [heights[1]]
    with pytest.raises(InputError, match="no plates to crop"):
        crop_dataset(tmp_path / "via", tmp_path / "none", min_height=heights[1] + 1)
    # A fixed crop height: every crop that size; min_height still judges the plate's own size in the photo.
    assert crop_dataset(tmp_path / "via", tmp_path / "h40", out_height=40) == {"train": 2}
    assert [r.extra["size"]["height"] for _, r in load_ocr(tmp_path / "h40")] == [40, 40]
    assert crop_dataset(tmp_path / "via", tmp_path / "h40tall", out_height=40, min_height=heights[1]) == {
        "train": 1, "small": 1}
    assert [r.extra["size"]["height"] for _, r in load_ocr(tmp_path / "h40tall")] == [40]


def test_crop_as_read_cuts_by_the_detected_corners_and_counts_missed_plates(tmp_path):
    from numberplate.types import Detection

    photos = make_demo_via(tmp_path / "via", photos=2, labelled=2)
    detected = {}  # photo size -> call count: the first photo's plate is found, shifted; the second's is missed

    def locate(image):
        detected[len(detected)] = image.shape
        if len(detected) > 1:
            return [Detection((0.0, 0.0, 20.0, 10.0), ((0, 0), (20, 0), (20, 10), (0, 10)), 0.9, "plate")]
        corners = [(x + 3.0, y + 1.0) for x, y in photos[0][2]]
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        return [Detection((min(xs), min(ys), max(xs), max(ys)), tuple(corners), 0.8, "plate")]

    counts = crop_dataset(tmp_path / "via", tmp_path / "crops", locate=locate)
    assert counts == {"train": 1, "missed": 1}
    [(_, record)] = load_ocr(tmp_path / "crops")
    assert record.text == photos[0][1] and record.extra["cut_by"]["score"] == 0.8
    assert record.extra["cut_by"]["corners"][0] == pytest.approx([photos[0][2][0][0] + 3, photos[0][2][0][1] + 1], abs=0.1)
    assert record.extra["corners"][0] == pytest.approx(list(photos[0][2][0]), abs=0.2)  # the label is kept as it was


def test_crop_as_read_with_the_shipped_detector(tmp_path, capsys):
    photos = make_demo_via(tmp_path / "via", photos=3, labelled=3)
    assert main(["data", "crop", str(tmp_path / "via"), "--out", str(tmp_path / "crops"), "--as-read"]) == 0
    items = load_ocr(tmp_path / "crops")
    assert sorted(r.text for _, r in items) == sorted(text for _, text, _ in photos)
    assert all(0.25 <= r.extra["cut_by"]["score"] <= 1 for _, r in items)
    assert "train 3 crops" in capsys.readouterr().err


def test_stats_count_what_is_there(tmp_path):
    root = make_ocr_dataset(tmp_path / "ds", counts=(3, 2, 1))
    stats = dataset_stats(root, hashes=True)
    assert stats["total"]["items"] == 6 and stats["splits"]["val"]["items"] == 2
    assert stats["total"]["moderated"] == 6 and stats["regions"] == {"br": 6}
    assert stats["duplicates"] == {"groups": 0, "extra_items": 0}
    make_demo_via(tmp_path / "via", photos=3, labelled=2)
    via = dataset_stats(tmp_path / "via")
    assert via["kind"] == "via" and via["total"]["photos"] == 2 and via["total"]["plates"] == 2


class _FakeEngine:
    """Reads every crop as ``READ<n>``; can change an annotation behind prelabel's back."""

    name = "fake"

    def __init__(self, meddle: Path | None = None):
        self.meddle, self.calls = meddle, 0

    def read(self, crops, lines=None):
        if self.meddle is not None:
            ann = json.loads(self.meddle.read_text())
            ann["moderation"] = {"isModerated": 1, "moderatedBy": "someone"}
            ann["description"] = "HUMAN1"
            self.meddle.write_text(json.dumps(ann))
        self.calls += 1
        return [Prediction(f"READ{i}", 0.5, "fake") for i in range(len(crops))]


def test_prelabel_fills_predicted_for_unmoderated_items_only(tmp_path):
    root = tmp_path / "demo"
    make_demo_ocr(root, count=4)
    moderated = root / "train" / "ann" / "photo000_0.json"
    ann = json.loads(moderated.read_text())
    ann.pop("predicted")
    ann["moderation"] = {"isModerated": 1}
    moderated.write_text(json.dumps(ann))
    meddled = root / "train" / "ann" / "photo001_1.json"
    summary = prelabel(root, _FakeEngine(meddle=meddled))
    assert (summary.read, summary.skipped_moderated, summary.changed_meanwhile) == (2, 1, 1)
    assert "predicted" not in json.loads(moderated.read_text())
    assert json.loads((root / "train" / "ann" / "photo000_1.json").read_text())["predicted"]["engine"] == "fake"
    other = json.loads(meddled.read_text())  # the other writer's label survives
    assert other["description"] == "HUMAN1" and other["predicted"]["engine"] == "numberplate"
    again = prelabel(root, _FakeEngine(), keep_existing=True)
    assert again.read == 0 and again.skipped_existing == 2


def test_prelabel_command_with_the_shipped_models(tmp_path, capsys):
    root = make_ocr_dataset(tmp_path / "ds", counts=(3, 0, 0))
    for path in (root / "train" / "ann").iterdir():
        ann = json.loads(path.read_text())
        ann["moderation"]["isModerated"] = 0
        path.write_text(json.dumps(ann))
    assert main(["data", "prelabel", str(root), "--region", "br", "--threads", "1"]) == 0
    assert "3 crops read by numberplate" in capsys.readouterr().err
    for path in (root / "train" / "ann").iterdir():
        predicted = json.loads(path.read_text())["predicted"]
        assert predicted["engine"] == "numberplate" and 0 <= predicted["confidence"] <= 1
        assert predicted["text"].isalnum()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_tesseract_engine_reads_a_drawn_crop():
    from numberplate.data.prelabel import TesseractEngine

    (prediction,) = TesseractEngine().read([draw_text_crop("AB1234", height=60, width=220)])
    assert prediction.engine == "tesseract" and "1234" in prediction.text


def test_data_commands_help_and_errors(tmp_path, capsys):
    for tool in ("prelabel", "split", "merge", "dedupe", "crop", "stats"):
        with pytest.raises(SystemExit) as exit_info:
            main(["data", tool, "--help"])
        assert exit_info.value.code == 0
        assert "Example: numberplate data" in capsys.readouterr().out
    (tmp_path / "nothing").mkdir()
    assert main(["data", "stats", str(tmp_path / "nothing")]) == 2
    assert "neither a Nomeroff OCR dataset" in capsys.readouterr().err
    root = make_ocr_dataset(tmp_path / "ds", counts=(2, 0, 0))
    assert main(["data", "split", str(root), "--out", str(tmp_path / "o"), "--ratios", "1,2"]) == 2
    assert "--ratios must be three" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    assert main(["data", "split", str(root), "--out", str(tmp_path / "full")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["data", "crop", str(root), "--out", str(tmp_path / "c")]) == 2
    assert "already an OCR crop set" in capsys.readouterr().err
    assert main(["data", "crop", str(root), "--out", str(tmp_path / "c"), "--detector", "x.onnx"]) == 2
    assert "--detector goes with --as-read" in capsys.readouterr().err
    assert main(["data", "stats", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["items"] == 2
