"""One record type for plate crops, shared by the readers/writers, trainers, checker and annotator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Nomeroff Net's options classifier numbers its classes; ``region_id``/``state_id`` in its ann files are
# indexes into these lists (the first six region names are Nomeroff's original RegionDetector classes).
NOMEROFF_REGION_NAMES = (
    "xx-unknown", "eu-ua-2015", "eu-ua-2004", "eu-ua-1995", "eu", "xx-transit", "ru", "kz",
    "eu-ua-ordlo-dpr", "eu-ua-ordlo-lpr", "ge", "by", "su", "kg", "am", "ua-military", "ru-military",
    "md", "eu-ua-custom",
)
NOMEROFF_STATE_NAMES = ("garbage", "filled", "readable", "empty")

STATES = ("readable", "filled", "empty", "garbage")


@dataclass
class OcrRecord:
    """One plate crop with its labels (Nomeroff ``ann/*.json`` + ``img/*``).

    Attributes:
        name: file stem shared by the image and the annotation.
        image_path: path of the crop image.
        text: plate text (``description``), upper case, no separators; "" when unlabelled.
        region: region/country code, e.g. ``"ua"``, ``"de"``, ``"eu-ua-2015"``; "" when unknown.
        count_lines: number of text lines on the plate (1, 2 or 3).
        state: one of :data:`STATES`.
        moderated: whether a person checked the labels (``moderation.isModerated``).
        ann_path: path of the annotation JSON, when read from disk.
        extra: every field of the JSON this record does not model, kept so writing back loses nothing.
    """

    name: str
    image_path: Path
    text: str = ""
    region: str = ""
    count_lines: int = 1
    state: str = "readable"
    moderated: bool = False
    ann_path: Path | None = None
    extra: dict = field(default_factory=dict)


Point = tuple[float, float]


@dataclass
class PlateAnnotation:
    """One labelled object (usually a plate) in a photo.

    Attributes:
        corners: 4 points ``(x, y)`` in image pixels, clockwise from the top-left corner of the plate.
            A box-only label is stored as its 4 box corners and has ``has_corners`` False.
        label: object class (VIA ``class``; "numberplate" unless the data says otherwise).
        text: plate text (VIA ``np``), "" when not labelled.
        region: country/region code (VIA ``country``), "" when unknown.
        has_corners: whether the corners are true plate corners (polygon) rather than a box.
        attributes: every other per-object attribute, kept so writing back loses nothing.
    """

    corners: tuple[Point, Point, Point, Point]
    label: str = "numberplate"
    text: str = ""
    region: str = ""
    has_corners: bool = True
    attributes: dict = field(default_factory=dict)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Axis-aligned box ``(x1, y1, x2, y2)`` around the corners."""
        xs = [p[0] for p in self.corners]
        ys = [p[1] for p in self.corners]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass
class ImageRecord:
    """One photo with every labelled object in it (VIA, YOLO-pose and COCO all read into this).

    Attributes:
        image_path: path of the photo.
        plates: the labelled objects; empty for a negative (no plate) photo.
        width: image width in pixels when known (COCO and YOLO need it), else None.
        height: image height in pixels when known, else None.
        split: "train", "val", "test" or "" when the set has no split.
        extra: per-image fields this record does not model (VIA ``file_attributes`` ...), kept.
    """

    image_path: Path
    plates: list[PlateAnnotation] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    split: str = ""
    extra: dict = field(default_factory=dict)
