"""Routing plates to OCR models by region and lines, and the Reader acting on the classifier's verdict."""

import numpy as np
import pytest

from numberplate.reader import Reader
from numberplate.stages.routing import DEFAULT_ROUTES, Route, route
from numberplate.types import PlateClass


@pytest.mark.parametrize(("country", "lines", "model"), [
    ("ua", 1, "ocr-ua"), ("ru", 1, "ocr-ru"), ("by", 1, "ocr-ru"), ("kz", 1, "ocr-kz"), ("de", 1, "ocr-latin"),
    ("us", 1, "ocr-latin"), ("ua", 2, "ocr-ua-multi"), ("ua", 3, "ocr-ua-multi"), ("kz", 2, "ocr-ua-multi"),
    ("ru", 2, "ocr-universal"),
    (None, 1, "ocr-universal"),
    (None, 3, "ocr-universal"),
])
def test_default_routes(country, lines, model):
    assert route(country, lines) == model


def test_first_matching_row_wins_and_a_table_without_catch_all_says_so():
    table = (Route("de", None, "mine.onnx"), *DEFAULT_ROUTES)
    assert route("de", 2, table) == "mine.onnx"
    with pytest.raises(LookupError, match="no OCR route for country 'unknown'"):
        route(None, 1, (Route("ua", 1, "ocr-ua"),))


class FixedClassifier:
    """Stands in for the classifier stage: says the same thing of every crop."""

    def __init__(self, verdict: PlateClass):
        self.verdict = verdict

    def classify_batch(self, crops, aspects=None):
        return [self.verdict] * len(crops)


def test_garbage_and_empty_crops_are_reported_not_read():
    for state in ("garbage", "empty"):
        reader = Reader(classifier=FixedClassifier(PlateClass("unknown", 0.9, 1, 0.9, state, 0.97)))
        result = reader("examples/car-ua.jpg")
        assert result.plates, "the example photo has a plate"
        plate = result.plates[0]
        assert plate.reading is None and plate.text == "" and plate.state == state
        assert plate.to_dict()["state"] == state and plate.to_dict()["text"] == ""


def test_classified_region_picks_the_region_model_and_format():
    reader = Reader(classifier=FixedClassifier(PlateClass("ua-2015", 0.95, 1, 0.99, "readable", 0.99)))
    plate = reader("examples/car-ua.jpg").plates[0]
    assert plate.text == "AA1234BC"
    assert plate.reading.model == "ocr-ua" and plate.reading.region == "ua"
    assert plate.reading.format_valid is True and plate.reading.plate_type == "ua-2015"
    assert plate.to_dict()["classified_region"] == "ua-2015"


def test_unsure_region_reads_with_the_universal_model_and_no_format():
    # (A country with its own model, named unsure, is also read by that model: see the national-model tests.)
    for verdict in (PlateClass("de", 0.3, 1, 0.99, "readable", 0.99), PlateClass("ua-2015", 0.3, 1, 0.99, "readable", 0.99)):
        reading = Reader(classifier=FixedClassifier(verdict), national_models=verdict.country != "ua")(
            "examples/car-ua.jpg").plates[0].reading
        assert reading.model == "ocr-universal" and reading.region is None and reading.format_valid is None
    reader = Reader(classifier=FixedClassifier(PlateClass("ua-2015", 0.3, 1, 0.99, "readable", 0.99)))
    reading = reader("examples/car-ua.jpg").plates[0].reading
    assert (reading.text, reading.model, reading.region, reading.format_valid) == ("AA1234BC", "ocr-ua", "ua", True)


def test_a_sure_classified_type_of_the_country_read_is_passed_on_as_a_type_hint():
    hint = Reader._type_hint
    assert hint(PlateClass("ru", 0.9, 1, 0.99, "readable", 0.99), "ru") == "ru"
    assert hint(PlateClass("ru", 0.4, 1, 0.99, "readable", 0.99), "ru") is None  # unsure of the type
    assert hint(PlateClass("ru", 0.9, 1, 0.99, "readable", 0.99), "kz") is None  # read as another country
    assert hint(PlateClass("ru", 0.9, 1, 0.99, "readable", 0.99), None) is None
    assert hint(None, "ru") is None


def test_forced_region_wins_over_the_classifier():
    reader = Reader(region="ua", classifier=FixedClassifier(PlateClass("de", 0.99, 1, 0.99, "readable", 0.99)))
    reading = reader("examples/car-ua.jpg").plates[0].reading
    assert reading.region == "ua" and reading.model == "ocr-ua"


def test_no_classifier_reads_one_line_with_the_universal_model():
    reader = Reader(use_classifier=False)
    assert reader.classifier is None
    result = reader(np.asarray(__import__("cv2").imread("examples/car-ua.jpg"))[:, :, ::-1].copy())
    assert result.plates[0].reading.model == "ocr-universal" and result.plates[0].state is None
    assert "classify" not in result.timings


class FixedDetector:
    """Stands in for the detector: the example photo's plate, with a given score (in any photo it is shown, so the
    readers below do not look at photos turned: ``turns=()``)."""

    def __init__(self, score: float):
        self.score = score

    def __call__(self, image):
        from numberplate.types import Detection

        corners = ((517.0, 524.0), (762.0, 524.0), (762.0, 587.0), (517.0, 587.0))
        return [Detection((517.0, 524.0, 762.0, 587.0), corners, self.score, "plate")]


@pytest.mark.parametrize(("score", "verdict", "kept"), [
    (0.9, PlateClass("unknown", 0.9, 1, 0.9, "garbage", 0.9), True),  # strong: reported whatever it is
    (0.3, PlateClass("ua-2015", 0.95, 1, 0.99, "readable", 0.99), True),  # weak, readable, fits the UA format
    (0.3, PlateClass("unknown", 0.9, 1, 0.9, "garbage", 0.9), False),  # weak and not a plate
    (0.3, PlateClass("ua-2015", 0.3, 1, 0.99, "readable", 0.99), False),  # weak, no region sure: no format check
])
def test_weak_detections_need_the_classifier_and_the_format_to_agree(score, verdict, kept, monkeypatch):
    monkeypatch.setattr("numberplate.reader.CONFIDENT_READING", 1.01)  # the example reads at 1.000: rule off
    reader = Reader(detector=FixedDetector(score), classifier=FixedClassifier(verdict), use_refiner=False, turns=())
    assert reader.threshold == 0.35 and reader.confirm_threshold == 0.2
    plates = reader("examples/car-ua.jpg").plates
    assert len(plates) == (1 if kept else 0)
    off = Reader(detector=FixedDetector(score), classifier=FixedClassifier(verdict), use_refiner=False,
                 confirm_threshold=None, turns=())
    assert len(off("examples/car-ua.jpg").plates) == 1  # without the rule the detector's word is final


@pytest.mark.parametrize(("format_reading", "kept"), [(0.4, True), (1.01, False)])
def test_a_weak_detection_is_not_confirmed_by_a_format_fitting_guess(format_reading, kept, monkeypatch):
    # Plate-free photos: garbage read with confidence 0.0-0.28 as a string that fits a loose format.
    monkeypatch.setattr("numberplate.reader.CONFIDENT_READING", 1.01)  # the example reads at 1.000: rule off
    monkeypatch.setattr("numberplate.reader.FORMAT_READING", format_reading)
    verdict = PlateClass("ua-2015", 0.95, 1, 0.99, "readable", 0.99)
    reader = Reader(detector=FixedDetector(0.3), classifier=FixedClassifier(verdict), use_refiner=False, turns=())
    plates = reader("examples/car-ua.jpg").plates
    assert len(plates) == (1 if kept else 0)
    strong = Reader(detector=FixedDetector(0.5), classifier=FixedClassifier(verdict), use_refiner=False, turns=())
    assert len(strong("examples/car-ua.jpg").plates) == 1  # a strong detection needs no confirming


def test_a_reading_that_fits_no_format_of_its_country_tries_the_next_countries_of_the_same_model():
    # Called German (whose formats AA1234BC does not fit); next Ukrainian (another OCR model: not tried),
    # then Bulgarian (the same latin model, and AA1234BC is a Bulgarian format).
    verdict = PlateClass("de", 0.9, 1, 0.99, "readable", 0.99, 0.9, (("ua", 0.05), ("bg", 0.03)))
    found = []
    for next_countries in (0, 1, 2):
        reader = Reader(classifier=FixedClassifier(verdict), next_countries=next_countries, national_models=False)
        plate = reader("examples/car-ua.jpg").plates[0]
        found.append((plate.text, plate.reading.region, plate.reading.format_valid, plate.reading.model))
        assert plate.to_dict()["classified_region"] == "de"  # what the classifier said stays reported
    assert found == [("AA1234BC", "de", False, "ocr-latin"), ("AA1234BC", "de", False, "ocr-latin"),
                     ("AA1234BC", "bg", True, "ocr-latin")]
    assert Reader(classifier=FixedClassifier(verdict)).next_countries == 2


def test_with_one_given_ocr_model_every_next_country_is_read_by_it():
    # ocr_model= reads every country, Ukraine included: the retry tries Ukraine first, whose format fits.
    verdict = PlateClass("de", 0.9, 1, 0.99, "readable", 0.99, 0.9, (("ua", 0.05), ("bg", 0.03)))
    plate = Reader(classifier=FixedClassifier(verdict), ocr_model="ocr-latin")("examples/car-ua.jpg").plates[0]
    assert (plate.text, plate.reading.region, plate.reading.format_valid) == ("AA1234BC", "ua", True)


def test_recognizers_of_countries_with_one_model_share_its_session():
    from numberplate.stages.recognize import Recognizer

    shared = {}
    german, bulgarian = Recognizer("de", loaded_models=shared), Recognizer("bg", loaded_models=shared)
    assert german.model is bulgarian.model and list(shared) == ["ocr-latin"]
    assert Recognizer("de").model is not german.model  # without a shared dict each loads its own
    assert Recognizer("ua", loaded_models=shared).model.name == "ocr-ua" and sorted(shared) == ["ocr-latin", "ocr-ua"]


@pytest.mark.parametrize(("confident_reading", "kept"), [(0.9, True), (1.01, False)])
def test_a_weak_detection_read_confidently_needs_no_format(confident_reading, kept, monkeypatch):
    # No region sure enough to fit a format (a vanity plate fits none): the reading's own confidence decides.
    monkeypatch.setattr("numberplate.reader.CONFIDENT_READING", confident_reading)
    verdict = PlateClass("de", 0.3, 1, 0.99, "readable", 0.99)
    plates = Reader(detector=FixedDetector(0.3), classifier=FixedClassifier(verdict), use_refiner=False, turns=())(
        "examples/car-ua.jpg").plates
    assert [(p.text, p.reading.format_valid) for p in plates] == ([("AA1234BC", None)] if kept else [])


def test_a_weak_detection_is_not_confirmed_by_a_next_country(monkeypatch):
    monkeypatch.setattr("numberplate.reader.CONFIDENT_READING", 1.01)  # the example reads at 1.000: rule off
    verdict = PlateClass("de", 0.9, 1, 0.99, "readable", 0.99, 0.9, (("bg", 0.05),))
    weak = Reader(detector=FixedDetector(0.3), classifier=FixedClassifier(verdict), use_refiner=False, turns=())
    assert weak("examples/car-ua.jpg").plates == ()
    strong = Reader(detector=FixedDetector(0.9), classifier=FixedClassifier(verdict), use_refiner=False)
    assert [(p.text, p.reading.region) for p in strong("examples/car-ua.jpg").plates] == [("AA1234BC", "bg")]


def test_a_plate_called_another_alphabet_s_country_is_read_again_by_the_national_models():
    # A Ukrainian plate called Russian (a real-photo plate of a country the classifier saw only drawn): the Russian
    # model's text fits no Russian format, no next country helps, the Ukrainian model's fits a Ukrainian one.
    verdict = PlateClass("ru", 0.9, 1, 0.99, "readable", 0.99, 0.9, (("by", 0.05),))
    found = []
    for national_models in (False, True):
        reader = Reader(classifier=FixedClassifier(verdict), national_models=national_models)
        plate = reader("examples/car-ua.jpg").plates[0]
        found.append((plate.text, plate.reading.region, plate.reading.format_valid, plate.reading.model))
        assert plate.to_dict()["classified_region"] == "ru"
    assert found == [("AA1234BC", "ru", False, "ocr-ru"), ("AA1234BC", "ua", True, "ocr-ua")]


class ScriptedRecognizer:
    """Reads every crop as one fixed reading (stands in for a country's recognizer)."""

    def __init__(self, reading):
        self.reading = reading

    def read_batch(self, crops, lines=None, types=None):
        return [self.reading] * len(crops)


def scripted_reader(readings: dict, verdict: PlateClass | None = None, **options) -> Reader:
    verdict = verdict or PlateClass("de", 0.9, 1, 0.99, "readable", 0.99, 0.9, ())
    reader = Reader(classifier=FixedClassifier(verdict), use_refiner=False, turns=(), **options)
    reader._recognizers.update({country: ScriptedRecognizer(r) for country, r in readings.items()})
    return reader


def reading(text, confidence, region, fits, model):
    from numberplate.types import TextReading

    return TextReading(text, confidence, (confidence,) * len(text), region, model, fits)


@pytest.mark.parametrize(("national", "expected"), [
    # the most confident fitting reading of another model wins ...
    ({"ua": ("UA1", 0.7, True), "ru": ("RU1", 0.9, True), "by": ("BY1", 0.8, True), "kz": ("KZ1", 0.99, False)},
     "RU1"),
    # ... only when it is more confident than the first reading (0.6) and at least NATIONAL_READING (0.5)
    ({"ua": ("UA1", 0.55, False), "ru": ("RU1", 0.58, True), "by": ("BY1", 0.9, False), "kz": ("KZ1", 0.99, False)},
     "DE1"),
    ({"ua": ("UA1", 0.45, True), "ru": ("RU1", 0.4, True), "by": ("BY1", 0.3, True), "kz": ("KZ1", 0.99, False)},
     "DE1"),
])
def test_the_national_models_reading_is_kept_only_when_it_fits_and_is_surer(national, expected):
    readings = {"de": reading("DE1", 0.6, "de", False, "ocr-latin")}
    model = {"ua": "ocr-ua", "ru": "ocr-ru", "by": "ocr-ru", "kz": "ocr-kz"}
    readings.update({c: reading(t, q, c, fits, model[c]) for c, (t, q, fits) in national.items()})
    plate = scripted_reader(readings)("examples/car-ua.jpg").plates[0]
    assert plate.text == expected
    assert scripted_reader(readings, national_models=False)("examples/car-ua.jpg").plates[0].text == "DE1"


@pytest.mark.parametrize(("lines", "model"), [(1, "ocr-latin"), (2, "ocr-universal")])
def test_a_class_learnt_from_data_only_is_read_by_its_route_s_model_without_formats(lines, model):
    # "hr" has no spec (the classifier learnt it from labelled real crops): no formats to fit, but a one-line
    # plate of a Latin-script country is read by the Latin model, as the table's "*" row says, not the universal.
    verdict = PlateClass("hr", 0.9, lines, 0.99, "readable", 0.99, 0.9, (("de", 0.05),))
    reading = Reader(classifier=FixedClassifier(verdict), use_refiner=False)("examples/car-ua.jpg").plates[0].reading
    assert (reading.model, reading.region, reading.format_valid) == (model, None, None)


@pytest.mark.parametrize(("first_country", "kz_confidence", "expected"), [
    # Between countries with their own models (a Kazakh plate called Russian) a fitting reading needs only 0.3 and
    # half the first's confidence ...
    ("ru", 0.5, "KZ1"),
    ("ru", 0.4, "FIRST"),  # not half of 0.9
    # ... from a Latin country's reading it must be surer than the first.
    ("de", 0.5, "FIRST"),
    ("de", 0.95, "KZ1"),
])
def test_a_national_reading_between_national_countries_needs_less_confidence(first_country, kz_confidence,
                                                                            expected):
    model = {"de": "ocr-latin", "ru": "ocr-ru"}[first_country]
    readings = {first_country: reading("FIRST", 0.9, first_country, False, model),
                "ua": reading("UA1", 0.9, "ua", False, "ocr-ua"),
                "kz": reading("KZ1", kz_confidence, "kz", True, "ocr-kz")}
    verdict = PlateClass(first_country, 0.9, 1, 0.99, "readable", 0.99, 0.9, ())
    assert scripted_reader(readings, verdict)("examples/car-ua.jpg").plates[0].text == expected


@pytest.mark.parametrize(("named", "fits", "expected"), [
    ("ua-2015", True, "UA1"),  # unsure, but named a country with its own model: its fitting reading is kept
    ("ua-2015", False, "ANY1"),  # its reading fits no Ukrainian format: the universal model's stays
    ("de", True, "ANY1"),  # a Latin country's guess is not tried
])
def test_a_plate_of_unsure_country_is_read_by_its_named_country_s_own_model(named, fits, expected):
    verdict = PlateClass(named, 0.3, 1, 0.99, "readable", 0.99, 0.3, ())  # below min_region_confidence (0.5)
    readings = {None: reading("ANY1", 0.9, None, None, "ocr-universal"),
                "ua": reading("UA1", 0.6, "ua", fits, "ocr-ua"), "de": reading("DE1", 0.6, "de", fits, "ocr-latin")}
    assert scripted_reader(readings, verdict)("examples/car-ua.jpg").plates[0].text == expected
    assert scripted_reader(readings, verdict, national_models=False)("examples/car-ua.jpg").plates[0].text == "ANY1"


@pytest.mark.parametrize(("ua_confidence", "expected"), [(0.95, "UA1"), (0.6, "ANY1")])
def test_an_unsure_plate_s_next_national_country_must_read_it_surer_than_the_first(ua_confidence, expected):
    # Named a Latin country unsure, Ukrainian next: the Ukrainian model's fitting reading is kept only when it is
    # surer than the universal model's (0.9).
    verdict = PlateClass("de", 0.3, 1, 0.99, "readable", 0.99, 0.3, (("fr", 0.2), ("ua", 0.1)))
    readings = {None: reading("ANY1", 0.9, None, None, "ocr-universal"),
                "ua": reading("UA1", ua_confidence, "ua", True, "ocr-ua"),
                "fr": reading("FR1", 0.99, "fr", True, "ocr-latin")}
    assert scripted_reader(readings, verdict)("examples/car-ua.jpg").plates[0].text == expected


def test_plate_types_must_come_one_per_crop():
    from numberplate.stages.recognize import Recognizer

    crop = np.full((40, 160, 3), 200, np.uint8)
    with pytest.raises(ValueError, match="1 crops but 2 plate types"):
        Recognizer(region="ru").read_batch([crop], 1, types=["ru", "ru"])
    assert len(Recognizer(region="ru").read_batch([crop], 1, types=["ru"])) == 1
