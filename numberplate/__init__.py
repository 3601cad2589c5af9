"""numberplate: read vehicle licence plates; train every stage on your own data.

Public API (imports are lazy so ``import numberplate`` stays light)::

    from numberplate import Recognizer
    reading = Recognizer(region="ua")("crop.jpg")
    print(reading.text, reading.confidence)
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Recognizer", "TextReading", "__version__"]


def __getattr__(name: str):
    if name == "Recognizer":
        from numberplate.stages.recognize import Recognizer

        return Recognizer
    if name == "TextReading":
        from numberplate.types import TextReading

        return TextReading
    raise AttributeError(f"module 'numberplate' has no attribute {name!r}")
