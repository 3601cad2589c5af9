import json
from pathlib import Path

import pytest
from conftest import draw_text_crop

from numberplate.data.nomeroff import iter_records, load_split, record_to_annotation, split_dirs, write_record
from numberplate.data.records import OcrRecord
from numberplate.errors import InputError


def _write(split: Path, name: str, ann, image: bool = True):
    (split / "ann").mkdir(parents=True, exist_ok=True)
    (split / "img").mkdir(parents=True, exist_ok=True)
    text = ann if isinstance(ann, str) else json.dumps(ann)
    (split / "ann" / f"{name}.json").write_text(text, encoding="utf-8")
    if image:
        import cv2

        cv2.imwrite(str(split / "img" / f"{name}.png"), draw_text_crop("AB123"))


def test_values_as_strings_or_ints_and_region_id(tmp_path):
    split = tmp_path / "train"
    _write(split, "a", {"description": "ab1234cd", "region_id": "2", "count_lines": "1", "state_id": 2,
                        "moderation": {"isModerated": "1", "moderatedBy": "olga"}, "predicted": "AB1234CD"})
    _write(split, "b", {"description": "X1", "country": "de", "count_lines": 2, "moderation": {"isModerated": 0}})
    a, b = list(iter_records(split))
    assert (a.text, a.region, a.count_lines, a.state, a.moderated) == ("AB1234CD", "eu-ua-2004", 1, "readable", True)
    assert (b.region, b.count_lines, b.moderated) == ("de", 2, False)


def test_unknown_fields_survive_a_round_trip(tmp_path):
    split = tmp_path / "train"
    _write(split, "a", {"description": "AB12", "region_id": 1, "count_lines": 1,
                        "moderation": {"isModerated": 1, "moderatedBy": "olga"}, "predicted": "AB1Z", "size": [1, 2]})
    record = next(iter_records(split))
    record.text = "AB13"
    write_record(split, record)
    ann = json.loads((split / "ann" / "a.json").read_text())
    assert ann["description"] == "AB13"
    assert ann["region_id"] == 1 and ann["predicted"] == "AB1Z" and ann["size"] == [1, 2]
    assert ann["moderation"] == {"isModerated": 1, "moderatedBy": "olga"}


@pytest.mark.parametrize("content, message", [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ({"description": "A1", "count_lines": 7}, "count_lines must be 1, 2 or 3"),
    ({"description": "A1", "region_id": 99}, "region_id 99"),
    ({"description": "A1", "count_lines": "two"}, "expected an integer"),
])
def test_bad_annotations_name_the_file(tmp_path, content, message):
    split = tmp_path / "train"
    _write(split, "bad", content)
    with pytest.raises(InputError) as info:
        list(iter_records(split))
    assert "bad.json" in str(info.value) and message in str(info.value)


def test_missing_image_and_error_collection(tmp_path):
    split = tmp_path / "val"
    _write(split, "good", {"description": "A1"})
    _write(split, "orphan", {"description": "B2"}, image=False)
    errors = []
    records = list(iter_records(split, errors))
    assert [r.name for r in records] == ["good"]
    assert len(errors) == 1 and "orphan.json" in str(errors[0]) and "no image" in str(errors[0])


def test_split_dirs_rejects_non_datasets(tmp_path):
    with pytest.raises(InputError, match="not found"):
        split_dirs(tmp_path / "nope")
    with pytest.raises(InputError, match="not a Nomeroff OCR dataset"):
        split_dirs(tmp_path)


def test_write_then_read_back(ocr_dataset):
    records = load_split(ocr_dataset, "train")
    assert len(records) == 24
    assert all(r.image_path.is_file() and r.region == "br" and r.moderated for r in records)
    ann = record_to_annotation(records[0])
    assert ann["region"] == "br" and ann["moderation"]["isModerated"] == 1


def test_write_is_atomic_no_temp_files_left(tmp_path):
    record = OcrRecord(name="x", image_path=Path(), text="AB1")
    write_record(tmp_path, record, image=draw_text_crop("AB1"))
    assert sorted(p.name for p in (tmp_path / "ann").iterdir()) == ["x.json"]
    assert sorted(p.name for p in (tmp_path / "img").iterdir()) == ["x.png"]


def test_written_files_are_world_readable_and_keep_their_mode(tmp_path):
    from numberplate.data.atomic import atomic_write_bytes

    target = tmp_path / "a.json"
    atomic_write_bytes(target, b"{}")
    assert target.stat().st_mode & 0o777 == 0o644
    target.chmod(0o600)
    atomic_write_bytes(target, b"{}")
    assert target.stat().st_mode & 0o777 == 0o600
