"""The whole pipeline: detect -> rectify -> read, composed from stage objects that can be passed in.

Example:
    >>> from numberplate import Reader
    >>> result = Reader(region="ua")("car.jpg")  # doctest: +SKIP
    >>> [(p.text, p.confidence, p.detection.corners) for p in result.plates]  # doctest: +SKIP
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from numberplate.data.images import read_image
from numberplate.stages.detect import DEFAULT_DETECTOR, Detector
from numberplate.stages.recognize import Recognizer
from numberplate.stages.rectify import rectify
from numberplate.types import ImageResult, Plate


class Reader:
    """Finds and reads every plate in photos.

    Args:
        region: region code for the OCR model and alphabet (until the classifier picks it per plate);
            None uses the universal recognizer.
        detector: a :class:`Detector` to use, or None for the shipped one.
        recognizer: a :class:`Recognizer` to use, or None for the region's shipped one.
        detector_model: shipped name or ``.onnx`` path of the detector (when ``detector`` is None).
        ocr_model: shipped name or ``.onnx`` path of the recognizer (when ``recognizer`` is None).
        threshold: minimum detection score.
        max_side: detector input size (longer side in pixels); None = the model card's.
        threads: ONNX Runtime threads per model (None = all cores).
    """

    def __init__(self, region: str | None = None, detector: Detector | None = None,
                 recognizer: Recognizer | None = None, detector_model: str | Path = DEFAULT_DETECTOR,
                 ocr_model: str | Path | None = None, threshold: float = 0.35, max_side: int | None = None,
                 threads: int | None = None):
        self.detector = detector or Detector(str(detector_model), threshold, max_side, threads)
        self.recognizer = recognizer or Recognizer(region=region, model=ocr_model, threads=threads)

    def __call__(self, image: np.ndarray | str | Path) -> ImageResult:
        """All plates of one photo (RGB uint8 array or path), best detection first."""
        source = None
        if isinstance(image, str | Path):
            source, image = str(image), read_image(image)
        return self.read_array(image, source)

    def read_array(self, image: np.ndarray, source: str | None = None) -> ImageResult:
        timings = {}
        started = time.perf_counter()
        detections = self.detector(image)
        timings["detect"] = time.perf_counter() - started
        started = time.perf_counter()
        crops = [rectify(image, d) for d in detections]
        timings["rectify"] = time.perf_counter() - started
        started = time.perf_counter()
        readings = self.recognizer.read_batch(crops) if crops else []
        timings["recognize"] = time.perf_counter() - started
        plates = tuple(Plate(d, r, (c.shape[1], c.shape[0])) for d, r, c in zip(detections, readings, crops))
        return ImageResult(source, image.shape[1], image.shape[0], plates, timings)

    def read_many(self, images):
        """Yield one :class:`ImageResult` per photo; paths that cannot be read raise ``InputError``."""
        for image in images:
            yield self(image)


def read(image: np.ndarray | str | Path, region: str | None = None) -> ImageResult:
    """One-shot convenience: ``Reader(region)(image)`` (builds the models each call; keep a Reader for many)."""
    return Reader(region=region)(image)

