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
