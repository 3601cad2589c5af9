"""Which OCR model reads which plate: a small declarative table, first matching row wins.

A row matches on the plate's country (``"*"`` = any known country, ``"unknown"`` = the classifier
could not tell) and its number of text lines (None = any). Family models are fine-tuned on one-line
plates of their alphabet; the universal model also reads two- and three-line plates, and a copy of it
fine-tuned on Ukrainian square and moto plates and Kazakh square plates reads those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """One row of the routing table."""

    country: str  # country code, "*" for any known country, "unknown" for plates of unknown region
    lines: int | None  # text lines, None for any
    model: str  # shipped OCR model name or .onnx path

    def matches(self, country: str | None, lines: int) -> bool:
        if self.lines is not None and self.lines != lines:
            return False
        if self.country == "*":
            return country is not None
        if self.country == "unknown":
            return country is None
        return self.country == country


#: When a reading fits no plate format of the classified country, this many of the classifier's next countries
#: read by the same OCR model are tried (see ``Reader``).
DEFAULT_NEXT_COUNTRIES = 2

DEFAULT_ROUTES: tuple[Route, ...] = (
    Route("ua", 1, "ocr-ua"),
    Route("ua", None, "ocr-ua-multi"),
    Route("ru", 1, "ocr-ru"),
    Route("by", 1, "ocr-ru"),
    Route("kz", 1, "ocr-kz"),
    Route("kz", None, "ocr-ua-multi"),  # Kazakh square plates: trained on them since 2026-11-30
    Route("*", 1, "ocr-latin"),
    Route("*", None, "ocr-universal"),
    Route("unknown", None, "ocr-universal"),
)


def route(country: str | None, lines: int, routes: Sequence[Route] = DEFAULT_ROUTES) -> str:
    """The OCR model for a plate of ``country`` (None = unknown) with ``lines`` text lines.

    Raises:
        LookupError: no row matches (a user table without a catch-all row).
    """
    for row in routes:
        if row.matches(country, lines):
            return row.model
    raise LookupError(f"no OCR route for country {country or 'unknown'!r} with {lines} line(s); "
                      "add a catch-all row such as Route('unknown', None, 'ocr-universal')")
