"""Result types passed between stages.

Conventions, once for the whole package:
  * images are ``np.ndarray`` of shape H x W x 3, dtype uint8, **RGB** order;
  * coordinates are pixels of the original image, x to the right, y down;
  * plate corners are listed clockwise from the top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TextReading:
    """What the recognizer read on one plate crop.

    Attributes:
        text: plate text in the internal alphabet (upper-case Latin letters and digits; Cyrillic
            look-alikes are stored as their Latin twins).
        confidence: probability that the whole text is right, the product of the per-character
            confidences (0..1).
        char_confidences: one probability per character of ``text``.
        region: region code of the model (or mask) that produced the reading, e.g. ``"ua"``.
        model: name of the model that produced the reading.
        format_valid: whether ``text`` fits a plate format of ``region`` (None when no region was known).
        plate_type: the plate type whose format the text fits (``"ua-2015"``), when it fits one.
        raw_text: what the model read before format correction, when the correction changed it.
    """

    text: str
    confidence: float
    char_confidences: tuple[float, ...] = field(default_factory=tuple)
    region: str | None = None
    model: str | None = None
    format_valid: bool | None = None
    plate_type: str | None = None
    raw_text: str | None = None

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "char_confidences": [round(c, 4) for c in self.char_confidences],
            "region": self.region,
            "model": self.model,
            "format_valid": self.format_valid,
            "plate_type": self.plate_type,
            "raw_text": self.raw_text,
        }


@dataclass(frozen=True)
class PlateClass:
    """What the classifier says about one rectified plate crop.

    Attributes:
        region: plate type code (``"ua-2015"``, ``"ru"``, ``"de"``...), a country code for countries the
            classifier learned from data without a spec (``"dk"``), or ``"unknown"``.
        region_confidence: probability of ``region`` (0..1).
        lines: text lines on the plate (1, 2 or 3).
        lines_confidence: probability of ``lines``.
        state: ``readable``, ``filled`` (painted over or covered), ``empty`` (blank) or ``garbage``
            (not a plate).
        state_confidence: probability of ``state``.
        country_confidence: probability of the plate's country, summed over its types (``ua-2015`` and
            ``ua-2004`` both count for ``ua``); None when the classifier does not give it.
        next_countries: the next most probable countries after the plate's own, with their probabilities,
            best first (the reader tries them when a reading fits no format of the first).
    """

    region: str
    region_confidence: float
    lines: int
    lines_confidence: float
    state: str
    state_confidence: float
    country_confidence: float | None = None
    next_countries: tuple[tuple[str, float], ...] = ()

    @property
    def country(self) -> str | None:
        """Country of the plate type (``"ua"`` for ``"ua-2015"``), None when unknown."""
        if self.region == "unknown":
            return None
        from numberplate.regions import country_of

        return country_of(self.region)

    def to_dict(self) -> dict:
        country_confidence = self.region_confidence if self.country_confidence is None else self.country_confidence
        return {"region": self.region, "country": self.country, "region_confidence": round(self.region_confidence, 4),
                "country_confidence": round(country_confidence, 4),
                "lines": self.lines, "lines_confidence": round(self.lines_confidence, 4),
                "state": self.state, "state_confidence": round(self.state_confidence, 4)}


Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x1, y1, x2, y2
Quad = tuple[Point, Point, Point, Point]  # clockwise from the top-left corner


@dataclass(frozen=True)
class Detection:
    """One object found by the detector.

    Attributes:
        box: ``(x1, y1, x2, y2)``, the bounding box of the corners.
        corners: the 4 corners, clockwise from the top-left.
        score: detector confidence (0..1).
        label: class name from the detector's card (``"numberplate"`` for the shipped model).
        turned: degrees the photo was turned when the object was found (the reader's ``turns``; 0 = as taken).
        zoomed_out: found in the photo set small on a larger canvas (the reader's look at photos that are
            themselves plate crops, where the plate fills the frame).
    """

    box: Box
    corners: Quad
    score: float
    label: str = "numberplate"
    turned: float = 0.0
    zoomed_out: bool = False


@dataclass(frozen=True)
class Plate:
    """One plate of a photo after every stage that ran on it.

    Attributes:
        detection: where the plate is.
        reading: what was read on it (None when OCR did not run or the plate was not read).
        rectified_size: ``(width, height)`` of the upright crop the reader saw.
        classification: what the classifier said (None when it did not run).
    """

    detection: Detection
    reading: TextReading | None = None
    rectified_size: tuple[int, int] | None = None
    classification: PlateClass | None = None

    @property
    def text(self) -> str:
        return self.reading.text if self.reading else ""

    @property
    def confidence(self) -> float:
        return self.reading.confidence if self.reading else 0.0

    @property
    def state(self) -> str | None:
        return self.classification.state if self.classification else None

    def to_dict(self) -> dict:
        reading = self.reading
        out = {
            "text": reading.text if reading else "",
            "confidence": round(reading.confidence, 4) if reading else 0.0,
            "char_confidences": [round(c, 4) for c in reading.char_confidences] if reading else [],
            # The region the plate was read as: forced by the user or given by the classifier.
            "region": reading.region if reading else None,
            "plate_type": reading.plate_type if reading else None,
            "format_valid": reading.format_valid if reading else None,
            "raw_text": reading.raw_text if reading else None,
            "model": reading.model if reading else None,
        }
        if self.classification is not None:
            classified = self.classification.to_dict()
            out.update({
                "classified_region": classified["region"],
                "classified_country": classified["country"],
                "region_confidence": classified["region_confidence"],
                "country_confidence": classified["country_confidence"],
                "lines": classified["lines"],
                "lines_confidence": classified["lines_confidence"],
                "state": classified["state"],
                "state_confidence": classified["state_confidence"],
            })
        out.update({
            "box": [round(v, 1) for v in self.detection.box],
            "corners": [[round(x, 1), round(y, 1)] for x, y in self.detection.corners],
            "detection_score": round(self.detection.score, 4),
            "label": self.detection.label,
        })
        if self.detection.turned:
            out["turned"] = self.detection.turned  # found in the photo turned this many degrees
        if self.detection.zoomed_out:
            out["zoomed_out"] = True  # found in the photo set small on a larger canvas (a photo of a plate alone)
        return out


@dataclass(frozen=True)
class ImageResult:
    """Every plate found in one image.

    Attributes:
        image: the source (path) or None for an in-memory array.
        width, height: image size in pixels.
        plates: plates in decreasing detection score.
        timings: seconds spent per stage on this image (``detect``, ``rectify``, ``recognize``).
    """

    image: str | None
    width: int
    height: int
    plates: tuple[Plate, ...] = ()
    timings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"image": self.image, "width": self.width, "height": self.height,
                "plates": [p.to_dict() for p in self.plates]}
