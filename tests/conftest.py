"""Fixtures: small datasets generated on the fly (tests never need ../shared)."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from numberplate.data.nomeroff import write_record
from numberplate.data.records import OcrRecord


def draw_text_crop(text: str, height: int = 40, width: int = 160, seed: int = 0) -> np.ndarray:
    """A plain black-on-white crop with ``text`` drawn by OpenCV (RGB uint8)."""
    rng = np.random.default_rng(seed)
    image = np.full((height, width, 3), 235 + int(rng.integers(0, 20)), np.uint8)
    cv2.putText(image, text, (6, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (15, 15, 15), 2, cv2.LINE_AA)
    return image


def make_ocr_dataset(root: Path, counts=(24, 6, 6), region: str = "br", seed: int = 0) -> Path:
    """A Nomeroff-layout dataset with ``counts`` items in train/val/test."""
    rng = random.Random(seed)
    for split, count in zip(("train", "val", "test"), counts):
        for index in range(count):
            text = "".join(rng.choice("ABCDEFGH") for _ in range(3)) + "".join(rng.choice("0123456789") for _ in range(4))
            record = OcrRecord(name=f"{split}{index:03d}", image_path=Path(), text=text, region=region,
                               moderated=True)
            write_record(root / split, record, image=draw_text_crop(text, seed=index), image_suffix=".png")
    return root


class CountingDetector:
    """A detector that keeps the shape of every image it is shown: how many looks a reader took at a photo."""

    def __init__(self, detector):
        self.detector = detector
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self, image: np.ndarray):
        self.shapes.append(image.shape)
        return self.detector(image)


@pytest.fixture
def ocr_dataset(tmp_path: Path) -> Path:
    return make_ocr_dataset(tmp_path / "ds")
