"""The one internal alphabet: digits + A-Z; Cyrillic look-alikes map to their Latin twins."""

from __future__ import annotations

DIGITS = "0123456789"
LATIN_ALPHABET = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Cyrillic letters that look like Latin ones on plates (upper and lower case) -> Latin.
_CYRILLIC_TO_LATIN = {
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Т": "T", "Х": "X", "У": "Y", "Ї": "I",
}
_CYRILLIC_TO_LATIN.update({k.lower(): v for k, v in list(_CYRILLIC_TO_LATIN.items())})
_SEPARATORS = " -_.·|/"


def to_internal(text: str) -> str:
    """Normalise a plate text to the internal alphabet: upper case, look-alikes to Latin, no separators."""
    out = []
    for char in text:
        if char in _SEPARATORS:
            continue
        out.append(_CYRILLIC_TO_LATIN.get(char, char.upper()))
    return "".join(out)
