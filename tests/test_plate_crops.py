"""Users pass plate crops to `numberplate read` as often as scenes: a plate filling the frame is read whole."""

from pathlib import Path

import numpy as np
import pytest

from numberplate.reader import ZOOM_OUT, Reader, _detect_zoomed_out, _may_be_crop, _whole_plates
from numberplate.types import Detection, PlateClass, TextReading

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _box(x1, y1, x2, y2, score=0.9, zoomed_out=False) -> Detection:
    return Detection((x1, y1, x2, y2), ((x1, y1), (x2, y1), (x2, y2), (x1, y2)), score, zoomed_out=zoomed_out)


@pytest.fixture(scope="module")
def reader():
    return Reader()


def test_a_plate_crop_is_read_whole(reader):
    plates = [p for p in reader(str(EXAMPLES / "plate-ua.jpg")).plates if p.text]
    assert [p.text for p in plates] == ["BH0708KA"]
    assert plates[0].detection.zoomed_out and plates[0].reading.region == "ua"
    assert plates[0].to_dict()["zoomed_out"] is True
    # As taken only, the detector (which learnt plates in scenes) finds the plate in pieces.
    as_taken = Reader(zoom_out=False, detector=reader.detector, classifier=reader.classifier, refiner=reader.refiner)
    assert "BH0708KA" not in [p.text for p in as_taken(str(EXAMPLES / "plate-ua.jpg")).plates]


def test_which_photos_may_be_plate_crops():
    photo = np.zeros
    assert _may_be_crop(photo((72, 245, 3)), [])  # small
    assert _may_be_crop(photo((300, 1400, 3)), [])  # wider than any camera frame, and low
    assert not _may_be_crop(photo((487, 1280, 3)), [])  # a dashcam strip
    assert not _may_be_crop(photo((720, 1280, 3)), [_box(500, 500, 700, 550)])
    assert _may_be_crop(photo((720, 1280, 3)), [_box(100, 100, 1100, 600, score=0.5)])  # a plate across the photo
    # A small photo where the detector is sure of a plate much lower than the photo is a scene.
    assert not _may_be_crop(photo((300, 400, 3)), [_box(244, 170, 314, 190, score=0.92)])
    assert _may_be_crop(photo((300, 400, 3)), [_box(244, 170, 314, 190, score=0.6)])


def test_what_the_photo_set_small_shows_is_mapped_back():
    class Middle:  # finds one plate, the middle quarter of whatever it is shown
        def __init__(self):
            self.shapes = []

        def __call__(self, image):
            self.shapes.append(image.shape)
            h, w = image.shape[:2]
            return [_box(w * 3 / 8, h * 3 / 8, w * 5 / 8, h * 5 / 8, score=0.7)]

    detector = Middle()
    found = _detect_zoomed_out(detector, np.zeros((50, 200, 3), np.uint8), factor=4.0)
    assert detector.shapes == [(450, 800, 3)]  # 4 x 200 wide, 16:9 high (4 x 50 would be a strip)
    assert len(found) == 1 and found[0].zoomed_out and found[0].score == 0.7
    # The canvas' middle quarter (300..500 x 168.75..281.25) is the photo's (0..200 x -6.25..106.25), clipped.
    assert found[0].box == pytest.approx((0.0, 0.0, 199.0, 49.0))
    assert ZOOM_OUT > 1


def test_a_whole_plate_found_set_small_replaces_its_pieces():
    whole = _box(0, 0, 240, 50, score=0.8, zoomed_out=True)
    pieces = [_box(40, 2, 150, 48, score=0.95), _box(150, 0, 240, 50, score=0.5)]
    elsewhere = _box(300, 0, 400, 50, score=0.6)
    kept = _whole_plates([whole], pieces + [elsewhere])
    assert kept == [whole, elsewhere]


def test_a_plate_found_set_small_must_be_confirmed_by_its_reading(reader):
    plate_class = PlateClass("ua", 0.9, 1, 0.99, "readable", 0.99)
    guess = TextReading("K1VIKE", 0.05, (0.05,) * 6, region="ua", format_valid=False)
    sure = TextReading("BH0708KA", 0.99, (0.99,) * 8, region="ua", format_valid=True)
    zoomed = _box(0, 0, 240, 50, zoomed_out=True)
    assert not reader._confirmed(zoomed, guess, plate_class)
    assert reader._confirmed(zoomed, sure, plate_class)
    assert reader._confirmed(_box(0, 0, 240, 50), guess, plate_class)  # as taken, a strong detection stands alone


def test_the_read_command_looks_at_crops_set_small_unless_told_not_to(capsys):
    import json

    from numberplate.cli.main import main

    assert main(["read", str(EXAMPLES / "plate-ua.jpg"), "--format", "jsonl"]) == 0
    plates = json.loads(capsys.readouterr().out.splitlines()[0])["plates"]
    assert [p["text"] for p in plates] == ["BH0708KA"] and plates[0]["zoomed_out"] is True
    assert main(["read", str(EXAMPLES / "plate-ua.jpg"), "--format", "jsonl", "--no-zoom-out"]) == 0
    plates = json.loads(capsys.readouterr().out.splitlines()[0])["plates"]
    assert "BH0708KA" not in [p["text"] for p in plates] and not any(p.get("zoomed_out") for p in plates)
