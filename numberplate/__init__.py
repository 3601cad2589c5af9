"""numberplate: read vehicle licence plates; train every stage on your own data.

Public API (imports are lazy so ``import numberplate`` stays light)::

    from numberplate import Reader, Recognizer
    result = Reader(region="ua")("car.jpg")       # every plate of a photo: box, corners, text
    reading = Recognizer(region="ua")("crop.jpg")  # the text of one plate crop
    print(reading.text, reading.confidence)
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Reader", "Recognizer", "TextReading", "read", "__version__"]


def __getattr__(name: str):
    if name in ("Reader", "read"):
        from numberplate import reader

        return getattr(reader, name)
    if name == "Recognizer":
        from numberplate.stages.recognize import Recognizer

        return Recognizer
    if name == "TextReading":
        from numberplate.types import TextReading

        return TextReading
    raise AttributeError(f"module 'numberplate' has no attribute {name!r}")
