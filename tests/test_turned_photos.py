"""Phone photos hold plates 30-40 degrees off level: the reader looks at such photos turned."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import CountingDetector

from numberplate.reader import Reader, _detect_turned
from numberplate.types import Detection, PlateClass, TextReading

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "car-ua.jpg"


@pytest.fixture(scope="module")
def reader():
    return Reader()


def _turned_example(angle: float) -> np.ndarray:
    image = cv2.cvtColor(cv2.imread(str(EXAMPLE)), cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("angle", [-35, 35, 40])
def test_a_steep_plate_is_read_once_with_the_photo_turned(reader, angle):
    photo = _turned_example(angle)
    texts = [p.text for p in reader(photo).plates if p.text]
    assert texts == ["AA1234BC"]
    plate = next(p for p in reader(photo).plates if p.text)
    top = np.subtract(plate.detection.corners[1], plate.detection.corners[0])
    assert np.degrees(np.arctan2(top[1], top[0])) == pytest.approx(-angle, abs=6)  # corners along the plate
    # Looking at the photo only as taken, the detector's corners lie nearly level and the plate is misread.
    level_only = Reader(turns=(), relevel_beyond=None, detector=reader.detector, classifier=reader.classifier,
                        refiner=reader.refiner)
    assert "AA1234BC" not in [p.text for p in level_only(photo).plates]


def test_a_level_photo_is_looked_at_once(reader):
    # Neither turned (a sure readable plate) nor set small (a 1280 x 720 scene): one detector pass.
    detector = CountingDetector(reader.detector)
    counting = Reader(detector=detector, classifier=reader.classifier, refiner=reader.refiner)
    assert [p.text for p in counting(str(EXAMPLE)).plates if p.text] == ["AA1234BC"]
    assert len(detector.shapes) == 1


def test_what_a_turned_photo_shows_is_turned_back():
    class Level:  # finds one level plate in the middle of whatever it is shown
        def __call__(self, image):
            h, w = image.shape[:2]
            quad = ((w / 2 - 50, h / 2 - 10), (w / 2 + 50, h / 2 - 10), (w / 2 + 50, h / 2 + 10), (w / 2 - 50, h / 2 + 10))
            return [Detection((w / 2 - 50, h / 2 - 10, w / 2 + 50, h / 2 + 10), quad, 0.9)]

    found = _detect_turned(Level(), np.zeros((200, 300, 3), np.uint8), 30.0)
    assert len(found) == 1 and found[0].turned == 30.0 and found[0].score == 0.9
    corners = np.asarray(found[0].corners)
    assert corners.mean(axis=0) == pytest.approx([150, 100], abs=1e-6)
    top = corners[1] - corners[0]
    # Turned 30 degrees counter-clockwise to be seen level: in the photo the plate runs 30 degrees clockwise.
    assert np.degrees(np.arctan2(top[1], top[0])) == pytest.approx(30.0, abs=1e-3)


def test_a_plate_found_only_turned_must_be_confirmed_by_its_reading(reader):
    plate_class = PlateClass("de", 0.9, 1, 0.99, "readable", 0.99)
    guess = TextReading("K1VIKE", 0.05, (0.05,) * 6, region="de", format_valid=False)
    sure = TextReading("B1234", 0.95, (0.95,) * 5, region="de", format_valid=True)
    as_taken = Detection((0, 0, 10, 5), ((0, 0), (10, 0), (10, 5), (0, 5)), 0.9)
    turned = Detection((0, 0, 10, 5), ((0, 0), (10, 0), (10, 5), (0, 5)), 0.9, turned=30.0)
    assert reader._confirmed(as_taken, guess, plate_class)  # a strong detection as taken stands on its own
    assert not reader._confirmed(turned, guess, plate_class)  # signs seen turned look like plates
    assert reader._confirmed(turned, sure, plate_class)


@pytest.mark.parametrize(("score", "classified", "looks"), [(0.5, False, 3), (0.65, False, 1), (0.65, True, 3)])
def test_a_photo_is_looked_at_turned_unless_it_holds_a_level_plate(reader, score, classified, looks):
    # Turned 30 degrees, a plate is often found in part at 0.35-0.6 as taken, and a lamp or a sign may score
    # higher: neither makes the photo level. (The classifier calls the detection on a blank photo garbage.)
    from numberplate.reader import LEVEL_PLATE

    calls = []

    class OnePlate:
        def __call__(self, image):
            calls.append(image.shape)
            quad = ((600, 500), (700, 500), (700, 530), (600, 530))
            return [Detection((600, 500, 700, 530), quad, score)] if len(calls) == 1 else []

    photo = np.full((720, 1280, 3), 90, np.uint8)
    Reader(detector=OnePlate(), classifier=reader.classifier if classified else None, use_classifier=classified,
           refiner=reader.refiner, relevel_beyond=None)(photo)
    assert len(calls) == looks
    assert score >= LEVEL_PLATE or looks == 3  # below LEVEL_PLATE a photo is always looked at turned
