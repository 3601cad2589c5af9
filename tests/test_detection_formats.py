"""Detection datasets: VIA, YOLO-pose and COCO reading/writing, corner geometry, checks and the data CLI."""

from __future__ import annotations

import itertools
import json
import math
import random
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from numberplate.cli.main import main
from numberplate.data.coco import read_coco, write_coco
from numberplate.data.detection import check_detection_dataset, detect_format, read_detection, write_detection
from numberplate.data.geometry import order_corners, quad_from_polygon
from numberplate.data.records import ImageRecord, PlateAnnotation
from numberplate.data.via import read_via, write_via
from numberplate.data.yolo import parse_names, read_yolo, write_yolo
from numberplate.errors import InputError

W, H = 200, 120


def photo(path: Path, width: int = W, height: int = H, seed: int = 0) -> Path:
    """A small JPEG with a white 'plate' on a noisy background."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    cv2.rectangle(image, (40, 50), (120, 70), (255, 255, 255), -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def polygon(xs, ys, **attributes) -> dict:
    return {"shape_attributes": {"name": "polygon", "all_points_x": list(xs), "all_points_y": list(ys)},
            "region_attributes": attributes}


def via_entry(folder: Path, name: str, regions, file_attributes=None, seed: int = 0) -> tuple[str, dict]:
    size = photo(folder / name, seed=seed).stat().st_size
    return f"{name}{size}", {"filename": name, "size": size, "regions": regions,
                             "file_attributes": file_attributes or {}}


# Corners clockwise from the top-left, in pixels of a W x H photo.
TILTED = ((40.5, 50.0), (120.0, 56.0), (118.0, 75.5), (38.0, 70.0))
SECOND = ((130.0, 20.0), (190.0, 22.0), (189.0, 40.0), (131.0, 37.0))


def make_via_dataset(root: Path) -> Path:
    """train/ (list regions, several shapes and attributes) + val/ (VIA 1 dict regions, a negative photo)."""
    train, val = root / "train", root / "val"
    shuffled = [TILTED[2], TILTED[0], TILTED[3], TILTED[1]]  # clicked in a random order
    entries = dict([
        via_entry(train, "a.jpg", [
            polygon([p[0] for p in shuffled], [p[1] for p in shuffled], **{"class": "numberplate", "np": "AB1234CE",
                                                                            "country": "UA", "occluded": "no"}),
            {"shape_attributes": {"name": "rect", "x": 130, "y": 20, "width": 60, "height": 18},
             "region_attributes": {"np": "XY987", "region": "de"}},
        ], file_attributes={"weather": "rain"}, seed=1),
        via_entry(train, "b.jpg", [
            polygon([p[0] for p in SECOND], [p[1] for p in SECOND], **{"class": "moto", "np": "", "country": "pl"}),
        ], seed=2),
    ])
    (train / "via_region_data.json").write_text(json.dumps(entries), encoding="utf-8")
    entries = dict([
        via_entry(val, "c.jpg", {"0": polygon([10, 60, 60, 10], [10, 10, 30, 30], np="BOX1", country="ro")}, seed=3),
        via_entry(val, "d.jpg", [], seed=4),
    ])
    (val / "via_region_data.json").write_text(json.dumps(entries), encoding="utf-8")
    return root


@pytest.fixture
def via_dataset(tmp_path: Path) -> Path:
    return make_via_dataset(tmp_path / "via")


def by_name(records: list[ImageRecord]) -> dict[str, ImageRecord]:
    return {r.image_path.name: r for r in records}


def assert_corners_close(actual, expected, tolerance: float = 0.5) -> None:
    assert len(actual) == 4
    for a, e in zip(actual, expected):
        assert math.dist(a, e) <= tolerance, (actual, expected)


# ----------------------------------------------------------------------------------------------- geometry


def rotated_rect(cx: float, cy: float, width: float, height: float, degrees: float):
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    base = [(-width / 2, -height / 2), (width / 2, -height / 2), (width / 2, height / 2), (-width / 2, height / 2)]
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in base]


@pytest.mark.parametrize("size", [(200, 50), (120, 90), (60, 60), (40, 110)])
def test_order_corners_on_shuffled_rotated_quads(size):
    rng = random.Random(0)
    for degrees in range(-40, 41, 5):
        quad = rotated_rect(300, 200, *size, degrees)
        for permutation in itertools.permutations(quad):
            ordered = order_corners(list(permutation))
            assert_corners_close(ordered, quad, 1e-9)
        mirrored = list(reversed(quad))  # counter-clockwise input
        rng.shuffle(mirrored)
        assert_corners_close(order_corners(mirrored), quad, 1e-9)


def test_order_corners_on_perspective_quads():
    quads = [
        ((0, 0), (100, 30), (100, 60), (0, 50)),          # right side far away
        ((10, 5), (90, 0), (100, 40), (0, 45)),           # seen from below
        ((20, 0), (80, 0), (100, 30), (0, 30)),           # trapezoid
        ((0, 40), (120, 0), (128, 25), (6, 66)),          # steep and skewed (about 18 degrees)
        ((5, 0), (60, 35), (40, 60), (-12, 28)),          # turned by about 32 degrees, short
    ]
    for quad in quads:
        for permutation in itertools.permutations(quad):
            assert order_corners(permutation) == tuple((float(x), float(y)) for x, y in quad)


def test_quad_from_polygon():
    # A plate outline with extra points on its edges reduces to its 4 corners.
    xs = [10, 50, 90, 91, 89, 50, 10, 9]
    ys = [10, 11, 12, 25, 38, 39, 40, 25]
    assert_corners_close(quad_from_polygon(xs, ys), ((10, 10), (90, 12), (89, 38), (10, 40)), 1.5)
    # Exactly 4 points are only ordered.
    assert quad_from_polygon([90, 10, 10, 90], [40, 40, 0, 0]) == ((10, 0), (90, 0), (90, 40), (10, 40))
    with pytest.raises(ValueError, match="at least 3 points"):
        quad_from_polygon([1, 2], [3, 4])
    with pytest.raises(ValueError, match="3 x coordinates but 2"):
        quad_from_polygon([1, 2, 3], [3, 4])


# ------------------------------------------------------------------------------------------------------ VIA


def test_read_via_region_data_shapes_and_attributes(via_dataset):
    records = read_via(via_dataset)
    assert [(r.image_path.name, r.split) for r in records] == [
        ("a.jpg", "train"), ("b.jpg", "train"), ("c.jpg", "val"), ("d.jpg", "val")]
    a, b, c, d = records
    assert a.image_path == via_dataset / "train" / "a.jpg" and a.width is None
    assert a.extra == {"weather": "rain"}
    tilted, rect = a.plates
    assert tilted.corners == TILTED  # put in order whatever order the points were clicked in
    assert (tilted.label, tilted.text, tilted.region, tilted.has_corners) == ("numberplate", "AB1234CE", "ua", True)
    assert tilted.attributes == {"occluded": "no"}
    assert rect.corners == ((130, 20), (190, 20), (190, 38), (130, 38))
    assert (rect.label, rect.text, rect.region, rect.has_corners, rect.attributes) == (
        "numberplate", "XY987", "de", False, {})
    assert b.plates[0].label == "moto" and b.plates[0].corners == SECOND
    # VIA 1 dict regions; an axis-aligned polygon is a box label.
    assert c.plates[0].corners == ((10, 10), (60, 10), (60, 30), (10, 30))
    assert (c.plates[0].text, c.plates[0].region, c.plates[0].has_corners) == ("BOX1", "ro", False)
    assert d.plates == []


def test_read_via_project_file_and_json_path(tmp_path):
    folder = tmp_path / "project"
    key, entry = via_entry(folder, "car.png", {"1": polygon([5, 50, 52, 4], [5, 8, 30, 28], np="KA01", type="bus"),
                                               "0": polygon([60, 90, 90, 60], [60, 60, 80, 80], np="ZZ")})
    project = {"_via_settings": {"ui": {}}, "_via_img_metadata": {key: entry}, "_via_attributes": {}}
    (folder / "my_project.json").write_text(json.dumps(project), encoding="utf-8")
    records = read_via(folder / "my_project.json")
    assert len(records) == 1 and records[0].image_path == folder / "car.png" and records[0].split == ""
    assert [p.text for p in records[0].plates] == ["ZZ", "KA01"]  # dict regions in key order
    assert records[0].plates[1].attributes == {"type": "bus"}
    assert records[0].plates[1].corners == ((5, 5), (50, 8), (52, 30), (4, 28))
    assert detect_format(folder / "my_project.json") == "via"


def test_via_errors_name_the_file(tmp_path):
    folder = tmp_path / "bad"
    key, entry = via_entry(folder, "x.jpg", [polygon([1, 2], [3, 4])])
    (folder / "via_region_data.json").write_text(json.dumps({key: entry}), encoding="utf-8")
    with pytest.raises(InputError, match=r"via_region_data.json: x.jpg: region 1: a polygon needs at least 3"):
        read_via(folder)
    (folder / "via_region_data.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="via_region_data.json: not VIA region data"):
        read_via(folder)
    key, entry = via_entry(folder, "x.jpg", [{"shape_attributes": {"name": "circle", "cx": 1, "cy": 1, "r": 3}}])
    (folder / "via_region_data.json").write_text(json.dumps({key: entry}), encoding="utf-8")
    with pytest.raises(InputError, match="shape 'circle' is not supported"):
        read_via(folder)


def test_via_round_trip_keeps_everything(via_dataset, tmp_path):
    records = read_via(via_dataset)
    written = write_via(records, tmp_path / "out")
    assert written == [tmp_path / "out" / "train" / "via_region_data.json",
                       tmp_path / "out" / "val" / "via_region_data.json"]
    data = json.loads(written[0].read_text())
    a_size = (tmp_path / "out" / "train" / "a.jpg").stat().st_size
    entry = data[f"a.jpg{a_size}"]
    assert entry["size"] == a_size and entry["file_attributes"] == {"weather": "rain"}
    assert entry["regions"][0] == polygon([p[0] for p in TILTED], [p[1] for p in TILTED], **{
        "class": "numberplate", "np": "AB1234CE", "country": "ua", "occluded": "no"})
    again = read_via(tmp_path / "out")
    assert [(r.image_path.name, r.split, r.plates, r.extra) for r in again] == [
        (r.image_path.name, r.split, r.plates, r.extra) for r in records]


# ----------------------------------------------------------------------------------------------------- YOLO


def test_via_to_yolo_to_via_keeps_corners_and_labels(via_dataset, tmp_path):
    records = read_via(via_dataset)
    yaml_path = write_yolo(records, tmp_path / "yolo")
    yaml_text = yaml_path.read_text()
    assert "kpt_shape: [4, 3]" in yaml_text and "flip_idx: [1, 0, 3, 2]" in yaml_text
    assert "train: images/train" in yaml_text and "val: images/val" in yaml_text
    assert parse_names(yaml_text) == {0: "numberplate", 1: "moto"}
    assert (tmp_path / "yolo" / "images" / "val" / "d.jpg").is_file()
    assert (tmp_path / "yolo" / "labels" / "val" / "d.txt").read_text() == ""  # a negative
    line = (tmp_path / "yolo" / "labels" / "train" / "a.txt").read_text().splitlines()[0].split()
    assert len(line) == 17 and line[0] == "0"
    assert float(line[5]) == pytest.approx(40.5 / W, abs=1e-6) and float(line[6]) == pytest.approx(50 / H, abs=1e-6)
    assert line[7] == "2"
    box_line = (tmp_path / "yolo" / "labels" / "train" / "a.txt").read_text().splitlines()[1].split()
    assert box_line[5:] == ["0"] * 12  # box-only: corners not labelled
    assert [float(v) for v in box_line[1:5]] == pytest.approx([160 / W, 29 / H, 60 / W, 18 / H], abs=1e-6)

    back = read_yolo(tmp_path / "yolo")
    assert [(r.image_path.name, r.split, r.width, r.height) for r in back] == [
        ("a.jpg", "train", W, H), ("b.jpg", "train", W, H), ("c.jpg", "val", W, H), ("d.jpg", "val", None, None)]
    write_via(back, tmp_path / "via2")
    final = by_name(read_via(tmp_path / "via2"))
    for original in records:
        result = final[original.image_path.name]
        assert result.split == original.split
        assert len(result.plates) == len(original.plates)
        for got, want in zip(result.plates, original.plates):
            assert_corners_close(got.corners, want.corners)
            assert (got.label, got.has_corners) == (want.label, want.has_corners)
            assert got.text == "" and got.region == ""  # YOLO has no place for text or region


def test_read_yolo_flat_layout_box_lines_and_names(tmp_path):
    root = tmp_path / "flat"
    photo(root / "images" / "p.jpg")
    photo(root / "images" / "neg.jpg")
    (root / "labels").mkdir()
    (root / "labels" / "p.txt").write_text("1 0.5 0.5 0.2 0.1\n\n0 0.3 0.4 0.1 0.1 0.25 0.35 2 0.35 0.35 2 "
                                           "0.35 0.45 1 0.25 0.45 2\n")
    (root / "data.yaml").write_text("path: .\ntrain: images  # comment\nnames:\n  - plate\n  - 'car #1'\nnc: 2\n")
    records = by_name(read_yolo(root))
    assert records["neg.jpg"].plates == [] and records["p.jpg"].split == ""
    box, quad = records["p.jpg"].plates
    assert box.label == "car #1" and not box.has_corners
    assert_corners_close(box.corners, ((80, 54), (120, 54), (120, 66), (80, 66)), 1e-6)
    assert quad.label == "plate" and quad.has_corners
    assert_corners_close(quad.corners, ((50, 42), (70, 42), (70, 54), (50, 54)), 1e-6)
    assert parse_names("names: [a, 'b, c', \"d\"]\n") == {0: "a", 1: "b, c", 2: "d"}
    assert parse_names("names: {0: plate, 2: car}") == {0: "plate", 2: "car"}
    assert parse_names("train: x\nnames:\n  0: plate\n  1: \"big car\"\nval: y\n") == {0: "plate", 1: "big car"}

    (root / "labels" / "p.txt").write_text("0 0.5 0.5 0.2\n")
    with pytest.raises(InputError, match=r"p.txt: line 1: expected 5 \(box\), 13 or 17"):
        read_yolo(root)
    (root / "labels" / "p.txt").write_text("7 0.5 0.5 0.2 0.1\n")
    with pytest.raises(InputError, match="class id 7 is not among the names"):
        read_yolo(root)


def test_write_yolo_rejects_unknown_class(via_dataset, tmp_path):
    with pytest.raises(InputError, match="plate label 'moto' is not among the classes"):
        write_yolo(read_via(via_dataset), tmp_path / "y", classes=["numberplate"])


# ----------------------------------------------------------------------------------------------------- COCO


def test_via_to_coco_to_via_keeps_everything(via_dataset, tmp_path):
    records = read_via(via_dataset)
    written = write_coco(records, tmp_path / "coco")
    assert written == [tmp_path / "coco" / "train.json", tmp_path / "coco" / "val.json"]
    data = json.loads(written[0].read_text())
    assert data["categories"][0]["keypoints"] == ["top_left", "top_right", "bottom_right", "bottom_left"]
    assert [c["name"] for c in data["categories"]] == ["numberplate", "moto"]
    assert data["images"][0] == {"weather": "rain", "id": 1, "file_name": "images/train/a.jpg", "width": W,
                                 "height": H}
    first, box = data["annotations"][:2]
    assert first["keypoints"] == [40.5, 50, 2, 120, 56, 2, 118, 75.5, 2, 38, 70, 2] and first["num_keypoints"] == 4
    assert first["bbox"] == [38, 50, 82, 25.5]
    assert first["attributes"] == {"text": "AB1234CE", "region": "ua", "occluded": "no"}
    assert box["num_keypoints"] == 0 and box["bbox"] == [130, 20, 60, 18]

    back = read_coco(tmp_path / "coco")
    assert [(r.image_path, r.split, r.width) for r in back][0] == (tmp_path / "coco" / "images" / "train" / "a.jpg",
                                                                   "train", W)
    write_via(back, tmp_path / "via2")
    final = read_via(tmp_path / "via2")
    assert [(r.image_path.name, r.split, r.plates, r.extra) for r in final] == [
        (r.image_path.name, r.split, r.plates, r.extra) for r in records]


def test_read_coco_single_file_with_segmentation_only(tmp_path):
    photo(tmp_path / "imgs" / "s.jpg")
    data = {"images": [{"id": 7, "file_name": "s.jpg", "width": W, "height": H, "license": 3}],
            "annotations": [
                {"id": 1, "image_id": 7, "category_id": 3, "segmentation": [[70, 60, 20, 62, 22, 80, 71, 79]],
                 "bbox": [20, 60, 51, 20], "iscrowd": 0, "score": 0.9},
                {"id": 2, "image_id": 7, "category_id": 3, "bbox": [1, 2, 10, 5]}],
            "categories": [{"id": 3, "name": "plate"}]}
    (tmp_path / "ann.json").write_text(json.dumps(data))
    (record,) = read_coco(tmp_path / "ann.json", image_root=tmp_path / "imgs")
    assert record.image_path == tmp_path / "imgs" / "s.jpg" and record.extra == {"license": 3}
    seg, box = record.plates
    assert seg.corners == ((20, 62), (70, 60), (71, 79), (22, 80)) and seg.has_corners and seg.label == "plate"
    assert seg.attributes == {"score": 0.9}
    assert box.corners == ((1, 2), (11, 2), (11, 7), (1, 7)) and not box.has_corners
    data["annotations"][1]["image_id"] = 99
    (tmp_path / "ann.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"ann.json: annotation 2: image_id 99 is not among the images"):
        read_coco(tmp_path / "ann.json")


# ------------------------------------------------------------------------------------ detection and checks


def test_detect_format_and_dispatch(via_dataset, tmp_path):
    assert detect_format(via_dataset) == "via"
    records = read_detection(via_dataset)
    for fmt in ("yolo", "coco", "via"):
        write_detection(records, tmp_path / fmt, fmt)
        assert detect_format(tmp_path / fmt) == fmt
        assert len(read_detection(tmp_path / fmt)) == 4
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty: folder is empty"):
        detect_format(tmp_path / "empty")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("hi")
    with pytest.raises(InputError, match="no detection dataset here"):
        detect_format(tmp_path / "other")
    (tmp_path / "other" / "annotations.json").write_text("{oops")
    with pytest.raises(InputError, match=r"annotations.json: invalid JSON"):
        detect_format(tmp_path / "other")


def test_clean_dataset_passes_check(via_dataset):
    report = check_detection_dataset(via_dataset)
    assert report.ok and report.items == 4


def test_check_reports_every_problem_with_its_file(via_dataset):
    train, val = via_dataset / "train", via_dataset / "val"
    (train / "b.jpg").unlink()
    data = (val / "c.jpg").read_bytes()
    (val / "c.jpg").write_bytes(data[: len(data) // 2])
    entries = json.loads((train / "via_region_data.json").read_text())
    key = next(k for k in entries if k.startswith("a.jpg"))
    entries[key]["regions"].append(polygon([150, 230, 230, 150], [100, 100, 130, 131]))  # past the right edge
    entries[key]["regions"].append(polygon([10, 11, 12, 10], [10, 10, 11, 11]))  # 1.5 px²
    (train / "via_region_data.json").write_text(json.dumps(entries))
    photo(train / "stray.jpg")
    report = check_detection_dataset(via_dataset)
    problems = [str(p) for p in report.problems]
    expect = [("b.jpg", "file not found"), ("c.jpg", "truncated"),
              ("a.jpg", "plate 3 has corners outside the 200x120 image: (230, 100), (230, 130), (150, 131)"),
              ("a.jpg", "plate 4 is degenerate"), ("stray.jpg", "not listed in via_region_data.json")]
    for name, message in expect:
        assert any(p.startswith(str(train / name) if name != "c.jpg" else str(val / name)) and message in p
                   for p in problems), (name, problems)
    assert len(problems) == len(expect)

    (val / "via_region_data.json").write_text('{"c.jpg1": {"filename": "c.jpg", "regions": [}')
    problems = [str(p) for p in check_detection_dataset(via_dataset).problems]
    assert problems[0] == f"{val / 'via_region_data.json'}: invalid JSON (Expecting value at line 1 column 46)"
    assert len(problems) == 5  # the broken file and the 4 train problems; val photos are not listed one by one
    (val / "via_region_data.json").write_text('{"images": [], "annotations": []}')
    problems = [str(p) for p in check_detection_dataset(via_dataset).problems]
    assert problems[0].startswith(f"{val / 'via_region_data.json'}: this is a COCO file, not VIA region data")
    assert len(problems) == 5


def test_check_yolo_and_coco(via_dataset, tmp_path):
    records = read_via(via_dataset)
    write_yolo(records, tmp_path / "yolo")
    (tmp_path / "yolo" / "labels" / "train" / "ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "yolo" / "labels" / "val" / "c.txt").write_text("0 0.5 0.5 abc 0.1\n")
    problems = [str(p) for p in check_detection_dataset(tmp_path / "yolo").problems]
    assert problems == [f"{tmp_path / 'yolo' / 'labels' / 'train' / 'ghost.txt'}: label file has no image in "
                        f"{tmp_path / 'yolo' / 'images' / 'train'}",
                        f"{tmp_path / 'yolo' / 'labels' / 'val' / 'c.txt'}: line 1: not a list of numbers: "
                        "'0 0.5 0.5 abc 0.1'"]
    records[0].width, records[0].height = 400, 300  # does not match the photo
    write_coco(records, tmp_path / "coco")
    (tmp_path / "coco" / "images" / "val" / "d.jpg").unlink()
    problems = [str(p) for p in check_detection_dataset(tmp_path / "coco").problems]
    assert problems == [f"{tmp_path / 'coco' / 'images' / 'train' / 'a.jpg'}: image is 200x120 but the annotation "
                        "says 400x300", f"{tmp_path / 'coco' / 'images' / 'val' / 'd.jpg'}: file not found"]


# ---------------------------------------------------------------------------------------------------------- CLI


def test_cli_convert_and_check(via_dataset, tmp_path, capsys):
    out = tmp_path / "as-coco"
    assert main(["data", "convert", str(via_dataset), "--to", "coco", "--out", str(out)]) == 0
    assert "(via) -> " in capsys.readouterr().err and (out / "train.json").is_file()
    assert main(["data", "check", str(out)]) == 0
    assert "coco dataset, 4 items, 0 problems" in capsys.readouterr().err
    # Not into a non-empty folder, unless --force.
    assert main(["data", "convert", str(via_dataset), "--to", "coco", "--out", str(out)]) == 2
    assert "output folder is not empty" in capsys.readouterr().err
    assert main(["data", "convert", str(out), "--from", "coco", "--to", "yolo", "--out", str(out), "--force"]) == 0
    assert "dropped them on 4 plates" in capsys.readouterr().err
    assert detect_format(out) == "yolo" and (out / "labels" / "train" / "a.txt").is_file()

    (via_dataset / "train" / "a.jpg").unlink()
    assert main(["data", "check", str(via_dataset)]) == 1
    assert capsys.readouterr().out == f"{via_dataset / 'train' / 'a.jpg'}: file not found\n"
    assert main(["data", "convert", str(tmp_path / "nothing"), "--to", "via", "--out", str(tmp_path / "x")]) == 2
    assert "nothing: not found" in capsys.readouterr().err


def test_cli_as_a_process(via_dataset, tmp_path):
    out = tmp_path / "as-yolo"
    run = [sys.executable, "-m", "numberplate.cli.main", "data"]
    done = subprocess.run(run + ["convert", str(via_dataset), "--to", "yolo", "--out", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "labels" / "train").iterdir()) == ["a.txt", "b.txt"]
    done = subprocess.run(run + ["check", str(out)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "")
    (out / "images" / "train" / "b.jpg").write_bytes(b"\xff\xd8 broken")
    done = subprocess.run(run + ["check", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stdout.startswith(f"{out / 'images' / 'train' / 'b.jpg'}: ")


def test_exact_axis_aligned_corners_survive_a_via_round_trip(tmp_path):
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), np.zeros((40, 60, 3), np.uint8))
    quad = ((10.0, 10.0), (50.0, 10.0), (50.0, 20.0), (10.0, 20.0))
    records = [ImageRecord(image, [PlateAnnotation(quad, text="AB12", has_corners=True),
                                   PlateAnnotation(quad, text="CD34", has_corners=False)])]
    write_via(records, tmp_path / "out")
    plates = read_via(tmp_path / "out")[0].plates
    assert [(p.text, p.has_corners) for p in plates] == [("AB12", True), ("CD34", False)]
    assert "exact_corners" not in plates[0].attributes
