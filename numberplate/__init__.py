"""numberplate: read vehicle licence plates; train every stage on your own data.

Public API (imports are lazy so ``import numberplate`` stays light)::

    from numberplate import Classifier, Detector, Reader, Recognizer, Route
    result = Reader()("car.jpg")                  # every plate of a photo: box, corners, class, text
    reading = Recognizer(region="ua")("crop.jpg")  # the text of one plate crop
    print(reading.text, reading.confidence)
"""

from __future__ import annotations

__version__ = "0.3.0"

__all__ = ["Classifier", "Detector", "Plate", "PlateClass", "Reader", "Recognizer", "Route", "TextReading", "read",
           "__version__"]

# Public name -> module that defines it (imported on first use).
_LAZY = {
    "Reader": "numberplate.reader",
    "read": "numberplate.reader",
    "Recognizer": "numberplate.stages.recognize",
    "Classifier": "numberplate.stages.classify",
    "Detector": "numberplate.stages.detect",
    "Route": "numberplate.stages.routing",
    "TextReading": "numberplate.types",
    "Plate": "numberplate.types",
    "PlateClass": "numberplate.types",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'numberplate' has no attribute {name!r}")
