"""Small synthetic datasets for trying the annotation tool, its tests and the README screenshots.

Everything is drawn here (synthetic plates from :mod:`numberplate.synth` when Pillow is installed, plain
OpenCV text otherwise): no photo of anyone's car is needed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from numberplate.data.nomeroff import write_record
from numberplate.data.records import OcrRecord

DEMO_TYPES = ("ua-2015", "de", "pl", "fr", "br-mercosur", "us-ca", "ru", "kz")
_CONFUSIONS = {"0": "O", "O": "0", "1": "I", "I": "1", "8": "B", "B": "8", "5": "S", "S": "5", "2": "Z", "Z": "2",
               "6": "G", "G": "6", "D": "0", "Q": "0", "7": "T", "A": "4", "4": "A", "E": "F", "H": "M", "M": "H"}


@dataclass(frozen=True)
class DemoItem:
    """One generated crop: its id in the tool (``train/<name>``), the true text and the stored reading."""

    id: str
    name: str
    truth: str
    predicted: str
    confidence: float


def _specs():
    from numberplate.regions import all_specs

    by_code = {s.code: s for s in all_specs()}
    specs = [by_code[c] for c in DEMO_TYPES if c in by_code]
    return specs or [s for s in all_specs() if s.count_lines == 1][:6]


def _plate_image(spec, text: str, rng: np.random.Generator, fonts) -> np.ndarray:
    """A flat plate (RGB): the synthetic renderer when Pillow is there, else OpenCV text on white."""
    if fonts is not None:
        from numberplate.synth.render import render_plate

        return render_plate(spec, text, rng, fonts, px_per_mm=1.0).image
    image = np.full((110, 520, 3), 245, np.uint8)
    cv2.rectangle(image, (3, 3), (516, 106), (20, 20, 20), 3)
    cv2.putText(image, text, (24, 84), cv2.FONT_HERSHEY_SIMPLEX, 2.4, (15, 15, 15), 6, cv2.LINE_AA)
    return image


def _fonts():
    try:
        from numberplate.synth.fonts import FontBook
        from numberplate.synth.render import render_plate  # noqa: F401  (needs Pillow)
    except ImportError:
        return None
    return FontBook()


def _misread(text: str, rng: random.Random) -> str:
    chars = list(text)
    spots = [i for i, c in enumerate(chars) if c in _CONFUSIONS] or list(range(len(chars)))
    i = rng.choice(spots)
    chars[i] = _CONFUSIONS.get(chars[i], "X")
    return "".join(chars)


def make_demo_ocr(root: str | Path, count: int = 12, seed: int = 0, wrong_every: int = 3) -> list[DemoItem]:
    """A Nomeroff-layout set ``root/train/{ann,img}`` of unmoderated crops with stored model readings.

    Every ``wrong_every``-th reading has one character confused (with a low confidence), the others are
    right (with a high one), so sorting by confidence brings the wrong ones first. Two crops share each
    source photo (``source`` field), as crops cut from one photo do.
    """
    from numberplate.data.prelabel import Prediction

    root = Path(root)
    rng, text_rng = np.random.default_rng(seed), random.Random(seed)
    fonts, specs = _fonts(), _specs()
    items = []
    for index in range(count):
        spec = specs[index % len(specs)]
        truth = spec.sample_text(text_rng)
        plate = _plate_image(spec, truth, rng, fonts)
        crop = cv2.resize(plate, (int(plate.shape[1] * 64 / plate.shape[0]), 64), interpolation=cv2.INTER_AREA)
        crop = cv2.copyMakeBorder(crop, 6, 6, 10, 10, cv2.BORDER_CONSTANT, value=(90, 92, 96))
        wrong = wrong_every > 0 and index % wrong_every == wrong_every - 1
        predicted = _misread(truth, text_rng) if wrong else truth
        confidence = round(text_rng.uniform(0.15, 0.55) if wrong else text_rng.uniform(0.8, 0.995), 3)
        name = f"photo{index // 2:03d}_{index % 2}"
        record = OcrRecord(name=name, image_path=Path(), text="", region="", count_lines=spec.count_lines,
                           state="readable", moderated=False,
                           extra={"source": f"photo{index // 2:03d}.jpg",
                                  "predicted": Prediction(predicted, confidence, "numberplate", "ocr-demo").to_dict()})
        write_record(root / "train", record, image=crop, image_suffix=".png")
        items.append(DemoItem(f"train/{name}", name, truth, predicted, confidence))
    return items


def _street(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Sky, a wall, a road and a car from behind, drawn with OpenCV (RGB)."""
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = (np.linspace(205, 160, height // 2)[:, None, None] * np.array([0.8, 0.9, 1.0])).astype(np.uint8)
    for x in range(0, width, 130):
        top = int(rng.integers(40, height // 3))
        cv2.rectangle(image, (x, top), (x + 120, height // 2 + 30), tuple(int(c) for c in rng.integers(100, 170, 3)), -1)
    image[height // 2 + 30:] = (80, 82, 86)
    cx, base = width // 2, int(height * 0.86)
    cv2.ellipse(image, (cx, base + 8), (int(width * 0.27), 20), 0, 0, 360, (35, 35, 35), -1)
    body = tuple(int(c) for c in rng.integers(40, 200, 3))
    cv2.rectangle(image, (cx - int(width * 0.25), int(height * 0.48)), (cx + int(width * 0.25), base), body, -1)
    cv2.rectangle(image, (cx - int(width * 0.19), int(height * 0.50)), (cx + int(width * 0.19), int(height * 0.62)),
                  (60, 70, 80), -1)
    for side in (-1, 1):
        x = cx + side * int(width * 0.2)
        cv2.rectangle(image, (x - 30, int(height * 0.66)), (x + 30, int(height * 0.7)), (200, 30, 30), -1)
    return image


def make_demo_via(root: str | Path, photos: int = 2, labelled: int = 1, seed: int = 0,
                  size: tuple[int, int] = (960, 540)) -> list[tuple[str, str, list[list[float]]]]:
    """A VIA set: ``photos`` drawn street photos with one plate each; the first ``labelled`` are in
    ``via_region_data.json`` (corners and text), the rest wait for annotation (not listed).

    Returns:
        ``(file name, plate text, true corners)`` per photo.
    """
    from numberplate.data.records import ImageRecord, PlateAnnotation
    from numberplate.data.via import write_via

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng, text_rng = np.random.default_rng(seed), random.Random(seed)
    fonts, specs = _fonts(), _specs()
    out, records = [], []
    width, height = size
    for index in range(photos):
        spec = specs[index % len(specs)]
        text = spec.sample_text(text_rng)
        plate = _plate_image(spec, text, rng, fonts)
        photo = _street(rng, width, height)
        cx, cy = width * (0.5 + rng.uniform(-0.03, 0.03)), height * (0.76 + rng.uniform(-0.02, 0.02))
        plate_w = width * 0.2
        plate_h = plate_w * plate.shape[0] / plate.shape[1]
        skew = rng.uniform(-0.06, 0.06) * plate_h
        half_w, half_h = plate_w / 2, plate_h / 2
        corners = np.array([[cx - half_w, cy - half_h + skew], [cx + half_w, cy - half_h - skew],
                            [cx + half_w + 2, cy + half_h - skew], [cx - half_w - 2, cy + half_h + skew]], np.float32)
        src = np.array([[0, 0], [plate.shape[1], 0], [plate.shape[1], plate.shape[0]], [0, plate.shape[0]]], np.float32)
        matrix = cv2.getPerspectiveTransform(src, corners)
        warped = cv2.warpPerspective(plate, matrix, (width, height), flags=cv2.INTER_AREA)
        mask = cv2.warpPerspective(np.full(plate.shape[:2], 255, np.uint8), matrix, (width, height))[:, :, None] / 255.0
        photo = (photo * (1 - mask) + warped * mask).astype(np.uint8)
        name = f"street{index:02d}.jpg"
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        (root / name).write_bytes(buf.tobytes())
        quad = [[round(float(x), 1), round(float(y), 1)] for x, y in corners]
        out.append((name, text, quad))
        if index < labelled:
            records.append(ImageRecord(root / name, [PlateAnnotation(tuple(map(tuple, quad)), text=text,
                                                                     region=spec.country)]))
    if records:
        write_via(records, root, copy_images=False)
    else:
        from numberplate.data.atomic import atomic_write_json
        from numberplate.data.via import VIA_FILE

        atomic_write_json(root / VIA_FILE, {})
    return out
