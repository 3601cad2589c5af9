"""The whole pipeline: detect -> rectify -> classify -> read, composed from stage objects that can be passed in.

Example:
    >>> from numberplate import Reader
    >>> result = Reader(region="ua")("car.jpg")  # doctest: +SKIP
    >>> [(p.text, p.confidence, p.detection.corners) for p in result.plates]  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from numberplate.data.images import read_image
from numberplate.errors import NumberplateError
from numberplate.runtime import list_shipped_models
from numberplate.stages.detect import DEFAULT_DETECTOR, Detector, box_iou, box_within, clip_detection
from numberplate.stages.recognize import Recognizer, country_recognizer, default_ocr_model, known_countries
from numberplate.stages.rectify import plate_aspect, plate_tilt, rectify, turn_points
from numberplate.stages.routing import DEFAULT_NEXT_COUNTRIES, DEFAULT_ROUTES, Route
from numberplate.stages.thresholds import DEFAULT_CONFIRM_THRESHOLD, DEFAULT_THRESHOLD
from numberplate.types import Detection, ImageResult, Plate, PlateClass, TextReading

# Crops in these states are reported, not read: there is no text to read.
UNREADABLE_STATES = ("garbage", "empty")
#: Detections scoring between DEFAULT_CONFIRM_THRESHOLD and the threshold are confirmed by the classifier and
#: the plate format, or by a reading this confident, format or not (vanity plates fit none). On endtoend/us, br
#: and the 940 plate-free photos of ../shared/data/negatives (work of 2026-11-29), the weak readable detections
#: the format does not confirm read: sign and sticker words 0.92-1.0 (TEXAS, RESIDENT: kept either way), one
#: vanity plate 0.865 (CCLVN3), then nothing above 0.61 (a lone "8"): 0.8 sits in that gap.
CONFIDENT_READING = 0.8
#: ... and a format-fitting reading confirms only when this confident. Among the weak detections confirmed by the
#: format alone on the same photos, plates read 0.49-1.0 and all of the plate-free photos' texts 0.28 or less
#: (garbage read as a guess that fits a Brazilian or Argentinian format): 0.4 sits in that gap.
FORMAT_READING = 0.4
#: A national model's reading (see Reader's ``national_models``) replaces the first only when it fits its
#: country's formats and is read at least this confidently, and more so than the first (0.5, 0.7 and 0.9 read the
#: same on the Russian photos under a classifier that misnames their country, 2026-11-30).
NATIONAL_READING = 0.5
#: Between the countries with their own models (UA, RU, BY, KZ: one look-alike alphabet, plates the classifier
#: confuses, a Kazakh plate called Russian) a national reading replaces the first from this confidence when it is
#: at least NATIONAL_OVER_FIRST times as confident: the first, fitting no format of its country, was read by the
#: wrong model (degraded KZ specimens read right 49.7 -> 68.7%, with --region kz 74.0%; photos unchanged).
NATIONAL_READING_BETWEEN = 0.3
NATIONAL_OVER_FIRST = 0.5
#: A classified plate type at least this probable decides between the formats of its country a reading fits only
#: through O/0 look-alikes (a white Russian plate read `0296BB97` is the civil `O296BB97`, not a military one).
TYPE_HINT_CONFIDENCE = 0.5
#: Angles a photo without a level plate (a detection scoring LEVEL_PLATE that the classifier calls readable) is
#: looked at again (see Reader's ``turns``), and how much a plate found turned may overlap one found as taken (box
#: IoU) before it counts as the same plate. On photos turned 25-35 degrees, most photos whose plate was missed held
#: a detection of 0.35-0.6 as taken (half the steep plate, or a light or a sign): looking turned unless one scores
#: 0.6 found br / us 88.6 / 73.9 -> 97.4 / 82.0% of their plates, the photos as taken unchanged (0.7 lost an
#: American plate as taken); unless it is also readable, 98.2 / 85.1%.
DEFAULT_TURNS = (30.0, -30.0)
LEVEL_PLATE = 0.6
TURNED_OVERLAP = 0.3
#: Plates steeper than this (degrees, refined corners) are found again turned level (Reader's ``relevel_beyond``);
#: two of them overlapping more than SAME_PLATE (box IoU) afterwards were halves of one plate.
DEFAULT_RELEVEL_BEYOND = 15.0
SAME_PLATE = 0.5
#: A photo that may be a plate crop (see Reader's ``zoom_out``): its longer side at most CROP_SIDE pixels, or its
#: height and wider than CROP_ASPECT (no camera frame is; a dashcam strip is taller), or a detection spanning
#: FILLED_WIDTH of its width; unless the detector is SCENE_PLATE sure of a plate under SCENE_HEIGHT of the photo's
#: height (a small scene photo). Such a photo is looked at again set in the middle of a canvas ZOOM_OUT times its
#: size: the detector learnt plates in scenes and finds a plate that fills the frame in pieces (on the real crop
#: sets, 8 read more plates than 2.5 or 5, on val and test splits alike).
CROP_SIDE = 400
CROP_ASPECT = 2.2
FILLED_WIDTH = 0.6
SCENE_PLATE, SCENE_HEIGHT = 0.8, 0.25
ZOOM_OUT = 8.0
PIECE = 0.6  # pooling the two looks, a box with this share of its area inside a kept one is a piece of it


class Reader:
    """Finds and reads every plate in photos.

    Per plate: detect -> refine the corners -> rectify -> classify (region/type, lines, state) -> route to an OCR model ->
    read and fit to the region's plate formats. Plates classified ``garbage`` or ``empty`` are
    reported with their state and not read.

    Args:
        region: force this region (country code such as ``ua``) for every plate instead of the
            classifier's; None lets the classifier decide.
        detector: a :class:`Detector` to use, or None for the shipped one.
        recognizer: one :class:`Recognizer` for every plate (turns routing off), or None.
        classifier: a :class:`~numberplate.stages.classify.Classifier`, or None for the shipped one
            (when ``use_classifier``).
        use_classifier: run the classifier (when a classifier model is shipped or given).
        refiner: a :class:`~numberplate.stages.refine.Refiner`, or None for the shipped one (when
            ``use_refiner``).
        use_refiner: re-locate each plate's corners with the refiner (when a refiner model is shipped or given).
        refiner_model: shipped name or ``.onnx`` path of the refiner (when ``refiner`` is None).
        detector_model: shipped name or ``.onnx`` path of the detector (when ``detector`` is None).
        classifier_model: shipped name or ``.onnx`` path of the classifier (when ``classifier`` is None).
        ocr_model: one shipped name or ``.onnx`` path for every plate, overriding the routing table.
            (Build the recognizers lazily: a photo of UA plates never loads the KZ model.)
        routes: the routing table (see :mod:`numberplate.stages.routing`).
        threshold: minimum detection score of a plate that is reported whatever the later stages say.
        confirm_threshold: detections scoring from this up to ``threshold`` are weak: they are reported only
            when the classifier calls them readable plates and their reading fits a plate format of their
            region (small and far plates score low; so do signs and grilles, which fail those checks).
            None turns the rule off: every detection the detector returns is reported.
        min_region_confidence: below this classifier confidence in its country a plate's region counts as
            unknown (read by the universal model, no format fit).
        next_countries: when a reading fits no plate format of its country, the classifier's next this-many
            countries read by the same OCR model are tried in turn and the first whose formats the reading
            fits is kept (its ``region`` then names that country); 0 = never. The classifier confuses
            look-alike designs (grey Brazilian and American plates); their formats often tell them apart.
        max_side: detector input size (longer side in pixels); None = the model card's.
        threads: ONNX Runtime threads per model (None = all cores).
        turns: when the photo as taken holds no detection scoring LEVEL_PLATE or more that the classifier (when on)
            calls a readable plate, it is looked at again
            turned by each of these angles (degrees, counter-clockwise) and what is found there is turned back:
            phone photos of parked cars hold plates 30-40 degrees off level, which the detector (trained on
            nearly level plates) misses or finds in part. Empty = never; costs one detector pass per angle, on such
            photos only.
        relevel_beyond: a plate whose refined corners run more than this many degrees off level is found again
            in the photo turned level about it, and its corners taken from there (the detector outlines steep
            plates poorly); None = never (and without a refiner). One detector pass per such plate's angle.
        zoom_out: a photo that may be a plate crop (small, wider than a camera frame, or with a detection across
            most of its width; see CROP_SIDE) is looked at again set small in the middle of a larger canvas. Its
            sure finds there come first, and what the photo as taken shows inside them is dropped as pieces (a
            plate filling the frame is found in pieces as taken, whole when set small). Finds of that look are
            reported only when confirmed like weak ones. One more detector pass on such photos.
        national_models: when a one-model retry of ``next_countries`` still fits no format, the crop is read again
            by the own model of each country the routing table names (``ocr-ua``, ``ocr-ru``, ``ocr-kz``) and the
            most confident reading that fits its country's formats is kept if it is more confident than the first
            (see NATIONAL_READING; between those countries see NATIONAL_READING_BETWEEN). A plate of a country the
            classifier has not seen on real photos is often called another country's, whose model then misreads
            it. And a plate whose country the classifier is unsure of (below ``min_region_confidence``) is also
            read by the model of the country it named or of a next one, if it has its own (see
            ``_read_as_unsure_country``). Costs those models' passes on such plates only.
    """

    def __init__(self, region: str | None = None, detector: Detector | None = None,
                 recognizer: Recognizer | None = None, classifier=None, use_classifier: bool = True,
                 detector_model: str | Path = DEFAULT_DETECTOR, classifier_model: str | Path | None = None,
                 ocr_model: str | Path | None = None,
                 routes: Sequence[Route] = DEFAULT_ROUTES, threshold: float = DEFAULT_THRESHOLD,
                 confirm_threshold: float | None = DEFAULT_CONFIRM_THRESHOLD,
                 min_region_confidence: float = 0.5, next_countries: int = DEFAULT_NEXT_COUNTRIES,
                 max_side: int | None = None, threads: int | None = None,
                 refiner=None, use_refiner: bool = True, refiner_model: str | Path | None = None,
                 turns: Sequence[float] = DEFAULT_TURNS, relevel_beyond: float | None = DEFAULT_RELEVEL_BEYOND,
                 zoom_out: bool = True, national_models: bool = True):
        self.region = region.lower() if region else None
        if self.region:
            from numberplate.regions import resolve

            try:
                resolve(self.region)
            except KeyError as exc:
                raise NumberplateError(str(exc.args[0])) from None
        self.threshold = threshold
        self.confirm_threshold = confirm_threshold
        lowest = threshold if confirm_threshold is None else min(threshold, confirm_threshold)
        self.detector = detector or Detector(str(detector_model), lowest, max_side, threads)
        self.classifier = classifier
        if self.classifier is None and use_classifier and (classifier_model or list_shipped_models("classify")):
            from numberplate.stages.classify import DEFAULT_CLASSIFIER, Classifier

            self.classifier = Classifier(classifier_model or DEFAULT_CLASSIFIER, threads=threads)
        if not use_classifier:
            self.classifier = None
        self.refiner = refiner if use_refiner else None
        if self.refiner is None and use_refiner and (refiner_model or list_shipped_models("refine")):
            from numberplate.stages.refine import DEFAULT_REFINER, Refiner

            self.refiner = Refiner(str(refiner_model or DEFAULT_REFINER), threads=threads)
        self.ocr_model = ocr_model
        self.routes = tuple(routes)
        self.min_region_confidence = min_region_confidence
        self.next_countries = next_countries
        self.threads = threads
        self._recognizers: dict[str | None, Recognizer] = {}
        self._ocr_sessions: dict = {}  # OCR models by name, shared by the per-country recognizers
        self._fixed_recognizer = recognizer
        self.turns = tuple(float(angle) for angle in turns)
        self.relevel_beyond = relevel_beyond
        self.zoom_out = zoom_out
        self.national_models = national_models

    def __call__(self, image: np.ndarray | str | Path) -> ImageResult:
        """All plates of one photo (RGB uint8 array or path), best detection first."""
        source = None
        if isinstance(image, str | Path):
            source, image = str(image), read_image(image)
        return self.read_array(image, source)

    def locate(self, image: np.ndarray, timings: dict[str, float] | None = None) -> list[Detection]:
        """The plates of one photo as the reader cuts them: detected, corners refined (when a refiner is on)."""
        started = time.perf_counter()
        detections = self.detector(image)
        if self.zoom_out and _may_be_crop(image, detections):
            zoomed = _detect_zoomed_out(self.detector, image)
            sure = [d for d in zoomed if d.score >= self.threshold]
            detections = _whole_plates(sure, detections + [d for d in zoomed if d.score < self.threshold])
        if self.turns and not self._holds_level_plate(image, detections):
            turned = [d for angle in self.turns for d in _detect_turned(self.detector, image, angle)]
            detections = _add_apart(detections, turned)
        if timings is not None:
            timings["detect"] = time.perf_counter() - started
        if self.refiner is not None:
            started = time.perf_counter()  # (the second look at steep plates counts as refining)
            detections = self.refiner(image, detections)
            if self.relevel_beyond is not None:
                detections = self._relevel(image, detections)
            if timings is not None:
                timings["refine"] = time.perf_counter() - started
        return detections

    def _holds_level_plate(self, image: np.ndarray, detections: list[Detection]) -> bool:
        """Whether some detection scores LEVEL_PLATE and, when a classifier is on, is classified a readable plate
        (a sure detection of a sign or a lamp says nothing about how the photo's plates lie)."""
        sure = [d for d in detections if d.score >= LEVEL_PLATE]
        if not sure or self.classifier is None:
            return bool(sure)
        classes = self.classifier.classify_batch([rectify(image, d) for d in sure], [plate_aspect(d) for d in sure])
        return any(c.state == "readable" for c in classes)

    def _relevel(self, image: np.ndarray, detections: list[Detection]) -> list[Detection]:
        """Steep plates (refined corners more than ``relevel_beyond`` degrees off level) found again in the photo
        turned level about them, and refined there: on a plate tilted 30 degrees the detector's corners lie
        nearly level and often outline half of it (two detections for one plate), while turned level the
        detector outlines it whole. One detector pass per distinct angle; plates found once only."""
        out, passes = list(detections), {}
        for index, detection in enumerate(detections):
            tilt = plate_tilt(detection.corners)
            if abs(tilt) <= self.relevel_beyond:
                continue
            angle = round(tilt)
            if angle not in passes:
                passes[angle] = _detect_turned(self.detector, image, angle)
            again = [d for d in passes[angle] if box_iou(d.box, [detection.box]).max() > TURNED_OVERLAP]
            if again:
                best = max(again, key=lambda d: d.score)
                # Found as taken: it keeps its own score and status, only its corners come from the turned look.
                out[index] = self.refiner(image, [replace(detection, box=best.box, corners=best.corners)])[0]
        return _add_apart([], out, SAME_PLATE) if passes else out

    def read_array(self, image: np.ndarray, source: str | None = None) -> ImageResult:
        timings: dict[str, float] = {}
        detections = self.locate(image, timings)
        started = time.perf_counter()
        crops = [rectify(image, d) for d in detections]
        timings["rectify"] = time.perf_counter() - started
        classes: list[PlateClass | None] = [None] * len(crops)
        if self.classifier is not None:
            started = time.perf_counter()
            aspects = [plate_aspect(d) for d in detections]  # the plate's shape, which the stretched crop hides
            classes = self.classifier.classify_batch(crops, aspects) if crops else []
            timings["classify"] = time.perf_counter() - started
        started = time.perf_counter()
        readings = self.read_crops(crops, classes)
        timings["recognize"] = time.perf_counter() - started
        plates = tuple(Plate(d, r, (c.shape[1], c.shape[0]), k)
                       for d, r, c, k in zip(detections, readings, crops, classes) if self._confirmed(d, r, k))
        return ImageResult(source, image.shape[1], image.shape[0], plates, timings)

    def _confirmed(self, detection, reading: TextReading | None, plate_class: PlateClass | None) -> bool:
        """A strong detection in the photo as taken always; a weak one, or one found in the turned photo (signs
        seen turned look like plates far more often than plates do), only as a readable plate whose text fits a format of the
        classified country (not of a next country: American formats fit most short strings of sign text),
        or whose text is read with CONFIDENT_READING or more. A format-fitting text read with less than
        FORMAT_READING confidence does not confirm: formats fit much sign text read as a guess."""
        if self.confirm_threshold is None or (detection.score >= self.threshold and not detection.turned
                                              and not detection.zoomed_out):
            return True
        if plate_class is None or plate_class.state != "readable" or reading is None or not reading.text:
            return False
        if reading.confidence >= CONFIDENT_READING:
            return True
        # The country read must be the one planned: not a next country's, nor one the classifier was unsure of.
        return (bool(reading.format_valid) and reading.confidence >= FORMAT_READING
                and reading.region == self.plan(plate_class)[0])

    def plan(self, plate_class: PlateClass | None) -> tuple[str | None, int] | None:
        """``(region to read it as, lines)`` for one crop; None = do not read it."""
        if plate_class is not None and plate_class.state in UNREADABLE_STATES:
            return None
        lines = plate_class.lines if plate_class is not None else 1
        country = self.region
        if country is None and plate_class is not None:
            confidence = (plate_class.region_confidence if plate_class.country_confidence is None
                          else plate_class.country_confidence)
            if confidence >= self.min_region_confidence:
                country = plate_class.country
        # A class learned from data only (hr, si...) keeps its name: no formats to fit, but read by the model its
        # route gives (see _recognizer).
        return country, lines

    def read_crops(self, crops: Sequence[np.ndarray], classes: Sequence[PlateClass | None]) -> list[TextReading | None]:
        """Read rectified crops, each as the region and line count its class says (batched per region)."""
        readings: list[TextReading | None] = [None] * len(crops)
        groups: dict[str | None, list[tuple[int, int]]] = {}
        for index, plate_class in enumerate(classes):
            planned = self.plan(plate_class)
            if planned is not None:
                country, lines = planned
                groups.setdefault(country, []).append((index, lines))
        for country, members in groups.items():
            recognizer = self._fixed_recognizer or self._recognizer(country)
            batch = recognizer.read_batch([crops[i] for i, _ in members], [n for _, n in members],
                                          types=[self._type_hint(classes[i], country) for i, _ in members])
            for (index, _), reading in zip(members, batch):
                readings[index] = reading
        if self.national_models and self.region is None and self._fixed_recognizer is None:
            for index, reading in enumerate(readings):
                if reading is not None and reading.region is None:
                    readings[index] = self._read_as_unsure_country(crops[index], classes[index], reading)
        if self.region is None and self._fixed_recognizer is None and (self.next_countries > 0 or self.national_models):
            for index, reading in enumerate(readings):
                if reading is not None and reading.format_valid is False:
                    readings[index] = self._read_as_next_country(crops[index], classes[index], reading)
        return readings

    @staticmethod
    def _type_hint(plate_class: PlateClass | None, country: str | None) -> str | None:
        """The classified plate type, when the crop is read as its country and the classifier holds it likelier
        than all others together: it decides between formats a reading fits only through O/0 look-alikes."""
        if plate_class is None or country is None or plate_class.country != country:
            return None
        return plate_class.region if plate_class.region_confidence >= TYPE_HINT_CONFIDENCE else None

    def _read_as_next_country(self, crop: np.ndarray, plate_class: PlateClass, reading: TextReading) -> TextReading:
        """The reading as the first of the classifier's next countries whose formats it fits; else (with
        ``national_models``) the crop's most confident reading by another country's own model that fits that
        country's formats; else unchanged.

        Only next countries read by the same OCR model are tried: the text is the same, only the formats differ.
        """
        country, lines = self.plan(plate_class)
        model = self._ocr_model_name(country, lines)
        for other, _ in plate_class.next_countries[:self.next_countries]:
            if other not in known_countries() or self._ocr_model_name(other, lines) != model:
                continue
            candidate = self._recognizer(other).read_batch([crop], [lines])[0]
            if candidate.format_valid:
                return candidate
        if not self.national_models:
            return reading
        best = None
        nationals = self._countries_with_own_routes()
        floor, over = (NATIONAL_READING_BETWEEN, NATIONAL_OVER_FIRST) if country in nationals else (NATIONAL_READING, 1.0)
        for other in nationals:
            if self._ocr_model_name(other, lines) == model:
                continue
            candidate = self._recognizer(other).read_batch([crop], [lines])[0]
            if (candidate.format_valid and candidate.confidence >= floor
                    and candidate.confidence > over * reading.confidence
                    and (best is None or candidate.confidence > best.confidence)):
                best = candidate
        return best or reading

    def _read_as_unsure_country(self, crop: np.ndarray, plate_class: PlateClass | None,
                                reading: TextReading) -> TextReading:
        """A plate whose country the classifier is unsure of (below ``min_region_confidence``) was read by the
        unknown plates' model without formats. If it named a country with its own model, that model's reading is
        kept when it fits the country's formats; else the first of its next countries with their own model whose
        fitting reading is also surer than the first (degraded specimens read right: UA squares 36.0 -> 61.7%,
        BY 47.3 -> 50.7%, with --region 70.7 / 55.0%; photos unchanged, synthetic scenes 61.3 -> 61.5%). Not for
        other countries: a guess at a Latin country fits some format far more often than it is right."""
        if plate_class is None:
            return reading
        nationals = self._countries_with_own_routes()
        named = [plate_class.country] + [country for country, _ in plate_class.next_countries]
        for rank, country in enumerate(named):
            if country not in nationals:
                continue
            candidate = self._recognizer(country).read_batch([crop], [plate_class.lines])[0]
            # A next country's reading must beat the first: the universal model read 0.54 right where the Russian
            # model read a digit wrong at 0.41 (a Russian photo under a classifier calling it French, RU third).
            if candidate.format_valid and (rank == 0 or candidate.confidence > reading.confidence):
                return candidate
        return reading

    def _countries_with_own_routes(self) -> list[str]:
        """Countries the routing table names (not by ``*`` or ``unknown``), in its order."""
        return list(dict.fromkeys(row.country for row in self.routes if row.country not in ("*", "unknown")))

    def _ocr_model_name(self, region: str | None, lines: int) -> str:
        """What reads a plate of ``region`` with ``lines`` lines: the given ``ocr_model``, else the routing table's."""
        return str(self.ocr_model) if self.ocr_model else default_ocr_model(region, lines, self.routes)

    def _recognizer(self, region: str | None) -> Recognizer:
        if region not in self._recognizers:
            self._recognizers[region] = country_recognizer(region, self.routes, model=self.ocr_model,
                                                           threads=self.threads, loaded_models=self._ocr_sessions)
        return self._recognizers[region]

    def read_many(self, images):
        """Yield one :class:`ImageResult` per photo; paths that cannot be read raise ``InputError``."""
        for image in images:
            yield self(image)


def _detect_turned(detector: Detector, image: np.ndarray, angle: float) -> list[Detection]:
    """Detections in the photo turned ``angle`` degrees about its centre (same canvas), turned back."""
    height, width = image.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    turned = cv2.warpAffine(image, turn, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=(114, 114, 114))
    back = cv2.invertAffineTransform(turn)
    found = []
    for detection in detector(turned):
        quad = turn_points(detection.corners, back)
        box = (*quad.min(axis=0), *quad.max(axis=0))
        moved = replace(detection, box=tuple(float(v) for v in box), corners=tuple(map(tuple, quad.tolist())),
                        turned=angle)
        found.append(clip_detection(moved, width, height))
    return found


def _may_be_crop(image: np.ndarray, detections: list[Detection]) -> bool:
    """Whether a photo may be a plate alone (see CROP_SIDE): users pass crops to the reader as often as scenes."""
    height, width = image.shape[:2]
    if any(d.score >= SCENE_PLATE and d.box[3] - d.box[1] < SCENE_HEIGHT * height for d in detections):
        return False
    return (max(height, width) <= CROP_SIDE or (height <= CROP_SIDE and width >= CROP_ASPECT * height)
            or any(d.box[2] - d.box[0] >= FILLED_WIDTH * width for d in detections))


def _detect_zoomed_out(detector: Detector, image: np.ndarray, factor: float = ZOOM_OUT) -> list[Detection]:
    """Detections in the photo set in the middle of a canvas ``factor`` times its size (at least 16:9 high, as the
    scenes the detector learnt), mapped back to the photo."""
    height, width = image.shape[:2]
    canvas_w = int(round(width * factor))
    canvas_h = max(int(round(height * factor)), int(round(canvas_w * 9 / 16)))
    left, top = (canvas_w - width) // 2, (canvas_h - height) // 2
    canvas = np.full((canvas_h, canvas_w, 3), 114, np.uint8)
    canvas[top:top + height, left:left + width] = image
    found = []
    for detection in detector(canvas):
        corners = tuple((x - left, y - top) for x, y in detection.corners)
        x1, y1, x2, y2 = detection.box
        moved = replace(detection, box=(x1 - left, y1 - top, x2 - left, y2 - top), corners=corners, zoomed_out=True)
        found.append(clip_detection(moved, width, height))
    return found


def _whole_plates(first: list[Detection], then: list[Detection]) -> list[Detection]:
    """``first`` then ``then``, each best first, each kept unless it is the same plate as one kept or a piece of one
    (PIECE of its box inside): a plate filling the frame is found in pieces as taken, whole when set small."""
    return _add_apart(_add_apart([], first, piece=PIECE), then, piece=PIECE)


def _add_apart(kept: list[Detection], more: list[Detection], overlap: float = TURNED_OVERLAP,
               piece: float | None = None) -> list[Detection]:
    """``kept`` and, best first, each of ``more`` that overlaps none of those kept by more than ``overlap`` (box
    IoU) nor, with ``piece``, lies that share of its box inside one of them: a plate found in the photo as taken
    keeps its own corners, however well it scores turned."""
    kept = list(kept)
    for detection in sorted(more, key=lambda d: -d.score):
        boxes = [k.box for k in kept]
        if not boxes or (box_iou(detection.box, boxes).max() <= overlap
                         and (piece is None or box_within(detection.box, boxes).max() < piece)):
            kept.append(detection)
    return kept


def read(image: np.ndarray | str | Path, region: str | None = None) -> ImageResult:
    """One-shot convenience: ``Reader(region)(image)`` (builds the models each call; keep a Reader for many)."""
    return Reader(region=region)(image)

