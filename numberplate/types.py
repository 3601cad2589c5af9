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
    """

    text: str
    confidence: float
    char_confidences: tuple[float, ...] = field(default_factory=tuple)
    region: str | None = None
    model: str | None = None

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "char_confidences": [round(c, 4) for c in self.char_confidences],
            "region": self.region,
            "model": self.model,
        }
