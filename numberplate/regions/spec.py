"""The plate-type specification record."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from numberplate.regions.alphabet import DIGITS

# Template language for plate texts: "L" = one letter of the spec's letters, "#" = one digit,
# any other character is literal. Templates describe the canonical (reading-order) text.
_TEMPLATE_LETTER = "L"
_TEMPLATE_DIGIT = "#"


@dataclass(frozen=True)
class PlateStyle:
    """How a plate type looks, for the synthetic renderer."""

    size_mm: tuple[int, int] = (520, 112)
    background: tuple[int, int, int] = (245, 245, 240)
    foreground: tuple[int, int, int] = (20, 20, 20)
    band: str | None = None  # "eu", "ua-2004", "ua-2015", "ru-region", "by", "kz" ...
    band_text: str = ""  # country letters on the band, e.g. "UA", "D"
    fonts: tuple[str, ...] = ()  # font file names, looked up in the font folders
    # Per-type extras the renderer understands (e.g. "region_box": True for RU; "separator", "top_text",
    # "top_share", "margin", "shade", "marks", "square_glyphs": see numberplate/synth/render.py); kept open
    # on purpose.
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RegionSpec:
    """One plate type of one country.

    Attributes:
        code: unique type code, lower case, e.g. ``"ua-2015"``, ``"ru"``, ``"de"``.
        country: the country (or family) code a user types, e.g. ``"ua"``, ``"de"``, ``"us"``.
        description: human-readable name.
        letters: letters that may appear (internal Latin alphabet).
        templates: canonical text templates ("L" letter, "#" digit, others literal), with weights.
        count_lines: text lines on the plate (1, 2 or 3).
        line_slices: for multi-line plates, how the canonical text maps to visual lines: one tuple of
            ``(start, end)`` slices of the canonical text per line, in visual order. Negative/None ends
            follow Python slicing. Empty for one-line plates.
        style: rendering style.
        weight: relative sampling weight inside its country when generating data.
        twins: ``letter + digit`` pairs drawn with one glyph on this plate (``("O0",)`` on Brazil's grey
            plates): a reading of one where the format wants the other is taken as that other.
    """

    code: str
    country: str
    description: str
    letters: str
    templates: tuple[str, ...]
    count_lines: int = 1
    line_slices: tuple[tuple[tuple[int, int | None], ...], ...] = ()
    style: PlateStyle = field(default_factory=PlateStyle)
    weight: float = 1.0
    template_weights: tuple[float, ...] = ()
    prefixes: tuple[tuple[str, float], ...] = ()  # (prefix, weight): real first letters, e.g. UA regions
    twins: tuple[str, ...] = ()

    @property
    def alphabet(self) -> str:
        """Every character a text of this type may contain."""
        literals = {c for t in self.templates for c in t if c not in (_TEMPLATE_LETTER, _TEMPLATE_DIGIT)}
        return "".join(sorted(set(DIGITS) | set(self.letters) | literals))

    @property
    def pattern(self) -> re.Pattern:
        """A regex that matches exactly the canonical texts of this type."""
        letter_class = "[" + re.escape("".join(sorted(set(self.letters)))) + "]"
        parts = []
        for template in self.templates:
            regex = "".join(
                letter_class if c == _TEMPLATE_LETTER else "[0-9]" if c == _TEMPLATE_DIGIT else re.escape(c)
                for c in template
            )
            parts.append(f"(?:{regex})")
        return re.compile("^(?:" + "|".join(parts) + ")$")

    def matches(self, text: str) -> bool:
        return bool(self.pattern.match(text))

    def sample_text(self, rng: random.Random) -> str:
        """A random canonical text of this type."""
        weights = self.template_weights or None
        template = rng.choices(self.templates, weights=weights)[0]
        letters = self.letters
        text = "".join(
            rng.choice(letters) if c == _TEMPLATE_LETTER else rng.choice(DIGITS) if c == _TEMPLATE_DIGIT else c
            for c in template
        )
        if self.prefixes:
            prefix = rng.choices([p for p, _ in self.prefixes], weights=[w for _, w in self.prefixes])[0]
            if self.matches(prefix + text[len(prefix):]):
                text = prefix + text[len(prefix):]
        return text

    def visual_lines(self, text: str, slice_gap: str = "") -> list[str]:
        """Split a canonical text into the lines as they appear on the plate, top to bottom.

        Types without ``line_slices`` read top line then bottom line; a two-line one breaks the text
        at the letter/digit group boundary nearest the middle (``WBMZ150`` -> ``WBMZ`` / ``150``).
        ``slice_gap`` joins two slices that share a line (the renderer's space in UA square plates' `BH CE`).
        """
        if self.line_slices:
            return [slice_gap.join(text[a:b] for a, b in line) for line in self.line_slices]
        if self.count_lines == 2 and len(text) > 1:
            boundaries = [i for i in range(1, len(text)) if text[i - 1].isdigit() != text[i].isdigit()]
            cut = min(boundaries or [len(text) // 2], key=lambda i: (abs(i - len(text) / 2), i))
            return [text[:cut], text[cut:]]
        return [text]

    def canonical_order(self, length: int) -> list[int]:
        """For each position of a canonical text of ``length`` characters, the index of that character in
        the text as read line after line (identity when the lines do not reorder it)."""
        if not self.line_slices:
            return list(range(length))
        # Where each canonical position lands when the lines are laid out: mark positions, split, read back.
        marks = "".join(self.visual_lines("".join(chr(0xE000 + i) for i in range(length))))
        if len(marks) != length:
            return list(range(length))  # a text of another length than this type's: nothing sound to reorder
        order = [0] * length
        for visual_index, mark in enumerate(marks):
            order[ord(mark) - 0xE000] = visual_index
        return order

    def canonical_text(self, visual_text: str) -> str:
        """Inverse of :meth:`visual_lines` joined: the lines as read top to bottom -> canonical order.

        Only types whose lines reorder the text (``line_slices``) change it, e.g. UA square plates
        read ``AABC`` + ``1234`` -> ``AA1234BC``.
        """
        return "".join(visual_text[i] for i in self.canonical_order(len(visual_text)))
