"""Render one flat licence plate from its spec: background, band, border, region box, embossed text,
screws, dirt, glare and shadows. The camera effects come after, in :mod:`numberplate.synth.augment`.

The renderer draws at a low resolution (about 0.6-1.0 px per mm) because every crop is degraded to
small character heights anyway; it keeps generation at hundreds of plates per second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageDraw

from numberplate.regions.alphabet import DIGITS
from numberplate.regions.spec import RegionSpec
from numberplate.regions.specs import LATIN_LETTERS
from numberplate.synth.fonts import FontBook

EU_BLUE, EU_YELLOW = (0, 51, 153), (255, 204, 0)
UA_BLUE, UA_YELLOW = (0, 87, 183), (255, 215, 0)
US_STATES = ("CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "OHIO", "ARIZONA", "ALASKA", "NEVADA", "ILLINOIS",
             "GEORGIA", "VIRGINIA", "COLORADO", "OREGON", "MICHIGAN", "UTAH", "NEW JERSEY", "MARYLAND")
# (field, cross edge, cross) of the flags non-EU Nordic plates carry on their band.
NORDIC_FLAGS = {"no": ((186, 12, 47), (245, 245, 245), (0, 32, 91)), "is": ((2, 82, 156), (245, 245, 245), (220, 30, 53))}
# Colours of German registration seals (the inspection sticker's colour changes with the year).
SEAL_COLOURS = ((230, 120, 170), (60, 160, 80), (240, 140, 40), (60, 110, 200), (240, 210, 40), (150, 100, 60))
CREST_COLOURS = ((200, 30, 40), (40, 120, 60), (230, 190, 40), (30, 70, 160))
US_INKS = ((30, 60, 150), (170, 30, 30), (25, 25, 25), (20, 100, 50), (120, 30, 80))
US_SLOGANS = ("FAMOUS POTATOES", "Constitution State", "SUNSHINE STATE", "Wild, Wonderful", "Vacationland",
              "America's Dairyland", "LAND OF LINCOLN", "dmv.ca.gov", "Empire State", "The Lone Star State",
              "Grand Canyon State", "PEACH STATE", "COUNTY", "DOUGLAS", "SCOTT", "HINDS", "Great Lakes")
STICKER_COLOURS = ((250, 220, 40), (240, 120, 30), (60, 170, 90), (230, 80, 140), (80, 150, 230), (235, 235, 235))
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Bands drawn at the plate's left edge (the text starts right of them).
BANDED = ("eu", "ua-2004", "ua-2015", "by", "kz")
LABEL_FONT = "barlow-condensed-latin-600-normal.woff2"
GENERIC_TEXT_FONTS = (LABEL_FONT, "oswald-latin-500-normal.woff2",
                      "pt-sans-narrow-latin-700-normal.woff2", "barlow-condensed-latin-500-normal.woff2")
# Grey Brazilian plates name their state and town above the number, "UF-TOWN".
BR_CITIES = ("BA-SALVADOR", "SP-SAO PAULO", "PR-CURITIBA", "RJ-RIO DE JANEIRO", "RS-PORTO ALEGRE", "MG-BELO HORIZONTE",
             "BA-FEIRA DE SANTANA", "BA-LAURO DE FREITAS", "BA-CAMACARI", "ES-VITORIA", "ES-CARIACICA",
             "PR-PARANAGUA", "MG-MONTES CLAROS", "SP-CAMPINAS", "GO-GOIANIA", "PE-RECIFE", "SC-JOINVILLE")


@dataclass
class RenderedPlate:
    """A flat plate image.

    Attributes:
        image: H x W x 3 uint8 RGB.
        mask: H x W uint8, 255 on the plate (rounded corners are 0).
        corners: 4 x 2 float32 plate corners in ``image``, clockwise from the top-left.
        lines: the text lines as printed (visual order, with separators).
        design: the type as drawn, an older design of it when one was picked (see :func:`period_design`); None
            for pictures that are not rendered plates.
        ink: H x W uint8, 255 where the plate's text characters are printed (not the band, marks or
            wear); None for pictures that are not rendered plates. It lets the capture judge whether the
            text is still legible after the camera effects.
    """

    image: np.ndarray
    mask: np.ndarray
    corners: np.ndarray
    lines: list[str]
    design: RegionSpec | None = None
    ink: np.ndarray | None = None


def _pick(choices, rng: np.random.Generator):
    """One of ``choices``, uniformly."""
    return choices[int(rng.integers(len(choices)))]


def _label_font(fonts: FontBook, size: int):
    """The condensed sans of the small printing on plates (band letters, department numbers, "RUS")."""
    return fonts.load(fonts.available((LABEL_FONT,))[0], size)


def _jitter(color, rng: np.random.Generator, amount: int = 12) -> tuple[int, int, int]:
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in color)


def display_line(line: str, spec: RegionSpec, rng: np.random.Generator | None = None) -> str:
    """Insert the plate's visual separators between letter and digit groups of one line.

    A spec's ``separator`` may be a tuple of choices (picked with ``rng``; the first without one).
    """
    if not line:
        return ""  # a blank plate (classifier's "empty" state) shows no separators either
    options = spec.style.options
    groups = options.get("groups")
    if groups and spec.count_lines == 1:
        separators = options.get("group_separators", " " * len(groups))
        out, start = [], 0
        for index, size in enumerate(groups):
            out.append(line[start:start + size])
            start += size
            if index < len(groups) - 1:
                out.append(separators[index] if index < len(separators) else " ")
        return "".join(out)
    separator = options.get("separator", " ")
    if isinstance(separator, tuple):
        separator = _pick(separator, rng) if rng is not None else separator[0]
    out = []
    for index, char in enumerate(line):
        if index and (char in DIGITS) != (line[index - 1] in DIGITS):
            out.append(separator)
        out.append(char)
    return "".join(out)


def _text_mask(text: str, font_path, height_px: int, fonts: FontBook, stretch: float,
               square: str = "", corner: float = 0.4) -> np.ndarray:
    """A tight grey-scale mask of ``text`` whose digit height is ``height_px``; the characters in ``square``
    are drawn as rounded rectangles (corner radius ``corner`` of their width) instead of the font's ovals."""
    size = max(8, int(height_px * 1.45))
    font = fonts.load(font_path, size)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    canvas = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    draw = ImageDraw.Draw(canvas)
    draw.text((2 - left, 2 - top), text, font=font, fill=255, anchor="ls")
    if any(c in square for c in text):
        _square_glyphs(draw, text, font, (2 - left, 2 - top), square, corner)
    mask = np.asarray(canvas)
    rows, cols = np.where(mask > 40)
    if rows.size == 0:
        return np.zeros((height_px, max(1, height_px // 2)), np.uint8)
    # Scale by the digits' ink height so letters that are smaller by design (RU GOST) stay smaller.
    digit_box = font.getbbox("0", anchor="ls")
    ink = mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = height_px / max(1, digit_box[3] - digit_box[1])
    width = max(1, int(ink.shape[1] * scale * stretch))
    return cv2.resize(ink, (width, max(1, int(ink.shape[0] * scale))), interpolation=cv2.INTER_AREA)


def _mixed_height_mask(text: str, font_path, height_px: int, fonts: FontBook, stretch: float,
                       letter_scale: float, **glyphs) -> np.ndarray:
    """A mask of ``text`` whose letters stand ``letter_scale`` as tall as its digits, on one baseline
    (Kazakh plates: `005 AAA` with small letters). Runs of letters and of digits are drawn apart and joined;
    spaces become gaps. Full-height letters, or a blank plate, are drawn as one string by ``_text_mask``."""
    if letter_scale >= 1 or not text.strip():
        return _text_mask(text, font_path, height_px, fonts, stretch, **glyphs)
    parts: list[np.ndarray] = []
    for run in (m.group() for m in re.finditer(r"[0-9]+|[^0-9 ]+| +", text)):
        if run.isspace():
            parts.append(np.zeros((1, max(1, int(height_px * 0.3 * len(run)))), np.uint8))
            continue
        scale = 1.0 if run[0].isdigit() else letter_scale
        parts.append(_text_mask(run, font_path, max(4, int(height_px * scale)), fonts, stretch, **glyphs))
    height = max(p.shape[0] for p in parts)
    gap = max(1, int(height_px * 0.06))  # the spacing the font would have put between the two runs
    out = np.zeros((height, sum(p.shape[1] for p in parts) + gap * (len(parts) - 1)), np.uint8)
    x = 0
    for part in parts:
        out[height - part.shape[0]:, x:x + part.shape[1]] = part
        x += part.shape[1] + gap
    return out


def _square_glyphs(draw, text: str, font, origin: tuple[int, int], square: str, corner: float) -> None:
    """Redraw the ``square`` characters of ``text`` (drawn at ``origin``, anchor "ls") as rounded rectangles
    in their own ink box (a Q gets a tail). Brazil's grey plates use such an O, Q and 0 ("Mandatory"
    typeface): next to the oval O of our fonts a real one has the straight sides of a D."""
    stem_left, _, stem_right, _ = font.getbbox("I", anchor="ls")
    stem = max(1, int(round(stem_right - stem_left)))
    for index, char in enumerate(text):
        if char not in square:
            continue
        # Where the character starts: the advance of everything before it, kerning with it included.
        x = origin[0] + font.getlength(text[:index + 1]) - font.getlength(char)
        x0, y0, x1, y1 = font.getbbox(char, anchor="ls")
        draw.rectangle((x + x0 - 1, origin[1] + y0 - 1, x + x1, origin[1] + y1), fill=0)
        if char == "Q":  # the ring of an O, and a short tail across its bottom-right corner
            x0, y0, x1, y1 = font.getbbox("O", anchor="ls")
        box = (x + x0, origin[1] + y0, x + x1 - 1, origin[1] + y1 - 1)
        width = min(stem, int((x1 - x0) // 3) or 1)
        draw.rounded_rectangle(box, radius=max(1, int(corner * (x1 - x0))), outline=255, width=width)
        if char == "Q":
            w, h = box[2] - box[0], box[3] - box[1]
            draw.line((box[0] + 0.55 * w, box[1] + 0.68 * h, box[2] + 0.04 * w, box[3] + 0.06 * h), fill=255, width=width)


def _paste_text(plate: np.ndarray, mask: np.ndarray, x: int, y_bottom: int, color, rng, emboss: bool,
                ink: np.ndarray | None = None) -> None:
    h, w = mask.shape
    y = max(0, y_bottom - h)
    x = max(0, x)
    h = min(h, plate.shape[0] - y)
    w = min(w, plate.shape[1] - x)
    if h <= 0 or w <= 0:
        return
    alpha = mask[:h, :w].astype(np.float32)[:, :, None] / 255.0
    region = plate[y:y + h, x:x + w].astype(np.float32)
    if emboss:
        # Raised characters: a light edge up-left and a shadow down-right.
        shift = max(1, int(round(h * 0.04)))
        light = np.roll(alpha, (-shift, -shift), axis=(0, 1)) * 0.35
        dark = np.roll(alpha, (shift, shift), axis=(0, 1)) * 0.45
        region = region * (1 - dark) + region * dark * 0.35
        region = region * (1 - light) + 255 * light
    region = region * (1 - alpha) + np.array(color, np.float32) * alpha
    plate[y:y + h, x:x + w] = np.clip(region, 0, 255).astype(np.uint8)
    if ink is not None:
        np.maximum(ink[y:y + h, x:x + w], mask[:h, :w], out=ink[y:y + h, x:x + w])


def _fit_line(mask: np.ndarray, max_width: int) -> np.ndarray:
    if mask.shape[1] <= max_width:
        return mask
    return cv2.resize(mask, (max_width, mask.shape[0]), interpolation=cv2.INTER_AREA)


def _draw_band(draw: ImageDraw.ImageDraw, spec: RegionSpec, box, fonts: FontBook, rng) -> None:
    x0, y0, x1, y1 = box
    band = spec.style.band
    w, h = x1 - x0, y1 - y0
    # Sized by the band's height on one-line plates; on taller ones (square, three-line) by its width.
    small_font = _label_font(fonts, max(8, int(min(h * 0.28, w * 0.7))))
    if band == "eu":
        draw.rectangle(box, fill=_jitter(EU_BLUE, rng, 15))
        cx, cy, r = x0 + w / 2, y0 + h * 0.32, min(w, h) * 0.22
        flag = NORDIC_FLAGS.get(spec.country) if "flag" in spec.style.options.get("marks", ()) else None
        if flag:  # not an EU member: the national flag stands where the stars are
            field_colour, edge, cross = flag
            fx0, fy0, fx1, fy1 = x0 + w * 0.15, y0 + h * 0.14, x1 - w * 0.15, y0 + h * 0.48
            draw.rectangle((fx0, fy0, fx1, fy1), fill=field_colour)
            vx, hy, t = fx0 + (fx1 - fx0) * 0.38, (fy0 + fy1) / 2, max(1.0, (fy1 - fy0) * 0.12)
            draw.rectangle((vx - 2 * t, fy0, vx + 2 * t, fy1), fill=edge)
            draw.rectangle((fx0, hy - 2 * t, fx1, hy + 2 * t), fill=edge)
            draw.rectangle((vx - t, fy0, vx + t, fy1), fill=cross)
            draw.rectangle((fx0, hy - t, fx1, hy + t), fill=cross)
        else:
            for k in range(12):
                a = 2 * np.pi * k / 12
                px, py = cx + r * np.cos(a), cy + r * np.sin(a)
                draw.ellipse((px - 1.3, py - 1.3, px + 1.3, py + 1.3), fill=EU_YELLOW)
        draw.text((x0 + w / 2, y0 + h * 0.82), spec.style.band_text, font=small_font, fill=(245, 245, 245),
                  anchor="mm")
    elif band == "ua-2004":
        draw.rectangle((x0, y0, x1, y0 + h / 2), fill=_jitter(UA_BLUE, rng))
        draw.rectangle((x0, y0 + h / 2, x1, y1), fill=_jitter(UA_YELLOW, rng))
        draw.text((x0 + w / 2, y0 + h * 0.76), "UA", font=small_font, fill=(20, 40, 120), anchor="mm")
    elif band == "ua-2015":
        draw.rectangle(box, fill=_jitter(EU_BLUE, rng, 15))
        fw, fh = w * 0.55, h * 0.26
        fx, fy = x0 + (w - fw) / 2, y0 + h * 0.14
        draw.rectangle((fx, fy, fx + fw, fy + fh / 2), fill=UA_BLUE)
        draw.rectangle((fx, fy + fh / 2, fx + fw, fy + fh), fill=UA_YELLOW)
        draw.text((x0 + w / 2, y0 + h * 0.75), "UA", font=small_font, fill=(245, 245, 245), anchor="mm")
    elif band == "by":
        draw.rectangle((x0, y0 + h * 0.1, x1, y0 + h * 0.35), fill=(200, 30, 40))
        draw.rectangle((x0, y0 + h * 0.35, x1, y0 + h * 0.5), fill=(40, 140, 60))
        draw.text((x0 + w / 2, y0 + h * 0.76), "BY", font=small_font, fill=(30, 110, 50), anchor="mm")
    elif band == "kz":
        draw.rectangle((x0, y0 + h * 0.08, x1, y0 + h * 0.45), fill=(0, 175, 202))
        draw.ellipse((x0 + w * 0.35, y0 + h * 0.17, x0 + w * 0.65, y0 + h * 0.36), fill=(254, 197, 0))
        draw.text((x0 + w / 2, y0 + h * 0.76), "KZ", font=small_font, fill=(20, 20, 20), anchor="mm")


GAP_MARKS = ("seals", "crest")
YELLOW_PLATE = (246, 205, 40)


def _shield(draw: ImageDraw.ImageDraw, cx: float, cy: float, w: float, h: float, fill, cross=None) -> None:
    """A small heraldic shield (pointed bottom), optionally with a white cross (Switzerland)."""
    draw.polygon([(cx - w / 2, cy - h / 2), (cx + w / 2, cy - h / 2), (cx + w / 2, cy + h * 0.15), (cx, cy + h / 2),
                  (cx - w / 2, cy + h * 0.15)], fill=fill)
    if cross:
        arm, t = w * 0.3, max(1.0, w * 0.1)
        draw.rectangle((cx - arm, cy - t, cx + arm, cy + t), fill=cross)
        draw.rectangle((cx - t, cy - arm, cx + t, cy + arm), fill=cross)


def _draw_edge_marks(draw, spec: RegionSpec, span: tuple[int, int], plate_w: int, plate_h: int, band_w: int,
                     fonts: FontBook, rng) -> tuple[int, int]:
    """Marks along the plate's edges (AT stripes, FR/IT right band, CH shields); returns the span left for text."""
    left, right = span
    marks = spec.style.options.get("marks", ())
    if "stripes" in marks:  # Austria: red-white-red, the plate's top and bottom edges are red
        red, bar = _jitter((200, 30, 40), rng, 15), max(1, int(plate_h * 0.06))
        draw.rectangle((left, 0, plate_w, bar), fill=red)
        draw.rectangle((left, plate_h - 1 - bar, plate_w, plate_h), fill=red)
    if "right-band" in marks:  # France (department number and logo), Italy (year and province)
        right = plate_w - band_w
        draw.rectangle((right, 0, plate_w, plate_h - 1), fill=_jitter(EU_BLUE, rng, 15))
        font = _label_font(fonts, max(8, int(plate_h * 0.28)))
        cx = right + band_w / 2
        if spec.country == "fr":
            draw.rectangle((right + band_w * 0.2, plate_h * 0.15, plate_w - band_w * 0.2, plate_h * 0.45),
                           fill=_jitter(_pick(CREST_COLOURS, rng), rng, 20))
            number = f"{int(rng.integers(1, 96)):02d}"
        else:
            r = min(band_w, plate_h) * 0.14
            draw.ellipse((cx - r, plate_h * 0.3 - r, cx + r, plate_h * 0.3 + r), outline=EU_YELLOW, width=2)
            number = f"{int(rng.integers(0, 100)):02d}"
        draw.text((cx, plate_h * 0.75), number, font=font, fill=(245, 245, 245), anchor="mm")
    if "shields" in marks:  # Switzerland: the national shield left, the canton's right
        w, h = plate_h * 0.45, plate_h * 0.55
        _shield(draw, left + plate_h * 0.4, plate_h / 2, w, h, _jitter((210, 30, 40), rng, 15), cross=(245, 245, 245))
        colour = _pick(CREST_COLOURS, rng)
        _shield(draw, right - plate_h * 0.4, plate_h / 2, w, h, _jitter(colour, rng, 20))
        left, right = int(left + plate_h * 0.7), int(right - plate_h * 0.7)
    return left, right


def _mark_position(shown: str, mark: str, rng) -> int:
    """Where the gap for a seal or crest goes in a printed line (0: the line has no place for it).
    German seals sit after the district (1-3 letters, the canonical text does not say which: drawn at
    random among the letter positions that leave a letter after it); AT/SK crests after the first group."""
    letters = len(shown) - len(shown.lstrip(LATIN_LETTERS))
    if mark == "seals":
        return int(rng.integers(1, min(3, letters - 1) + 1)) if letters >= 2 else 0
    if mark == "emblem":  # at the letter/digit boundary nearest the middle, or the middle itself
        kinds = [c.isdigit() for c in shown]
        cuts = [i for i in range(1, len(shown)) if kinds[i] != kinds[i - 1]] or [len(shown) // 2]
        return min(cuts, key=lambda i: abs(i - len(shown) / 2)) if len(shown) > 1 else 0
    return letters if 0 < letters < len(shown) else 0


def _draw_gap_mark(plate: np.ndarray, mark: str, centre: tuple[float, float], char_h: int, rng) -> None:
    """German seals (inspection sticker over the state seal), a district crest or a US state emblem, centred
    in the text gap."""
    cx, cy = centre
    if mark == "emblem" and rng.random() < 0.6:
        colour = _jitter(_pick(STICKER_COLOURS[:-1], rng), rng, 30)
        if rng.random() < 0.5:
            r = max(1, int(round(char_h * rng.uniform(0.12, 0.3))))
            cv2.circle(plate, (int(round(cx)), int(round(cy))), r, colour, -1, cv2.LINE_AA)
            return
        # Missouri's registration tab between the groups: a small square sticker, sometimes with a dark rim.
        half = max(1, int(round(char_h * rng.uniform(0.15, 0.28))))
        top_left, bottom_right = (int(cx) - half, int(cy) - half), (int(cx) + half, int(cy) + half)
        cv2.rectangle(plate, top_left, bottom_right, colour, -1)
        if rng.random() < 0.5:
            cv2.rectangle(plate, top_left, bottom_right, _jitter((50, 50, 50), rng, 20), max(1, half // 4))
        return
    if mark == "seals":
        r = max(1, int(round(char_h * 0.19)))
        colour = _jitter(_pick(SEAL_COLOURS, rng), rng, 15)
        upper, lower = (int(round(cx)), int(round(cy - char_h * 0.23))), (int(round(cx)), int(round(cy + char_h * 0.23)))
        cv2.circle(plate, upper, r, colour, -1, cv2.LINE_AA)
        cv2.circle(plate, lower, r, _jitter((205, 205, 200), rng, 15), -1, cv2.LINE_AA)
        cv2.circle(plate, lower, max(1, r // 2), _jitter((60, 60, 60), rng, 30), -1, cv2.LINE_AA)
        return
    image = Image.fromarray(plate)
    draw = ImageDraw.Draw(image)
    colour = _pick(CREST_COLOURS, rng)
    _shield(draw, cx, cy, char_h * 0.4, char_h * 0.55, _jitter(colour, rng, 20),
            cross=(245, 245, 245) if rng.random() < 0.5 else None)
    plate[:] = np.asarray(image)


def band_mm(spec: RegionSpec) -> int:
    """Width of a left-edge band (see BANDED) in millimetres: narrower on square two-line plates."""
    return 45 if spec.count_lines == 1 else 40


def top_share(spec: RegionSpec) -> float:
    """Share of the plate's height above the text: the Mercosur band, or the state/town line of plates with
    ``top_text`` (US plates draw theirs 18-28% high; this is their nominal share)."""
    if spec.style.band == "mercosur":
        return 0.24
    return float(spec.style.options.get("top_share", 0.2)) if spec.style.options.get("top_text") else 0.0


def _draw_top(draw, spec: RegionSpec, plate_w: int, plate_h: int, fonts: FontBook, rng) -> int:
    """Top decorations (Mercosur band, state or city names); returns the height they take."""
    band = spec.style.band
    font_path = fonts.available((LABEL_FONT,))[0]
    if band == "mercosur":
        top = int(plate_h * top_share(spec))
        draw.rectangle((0, 0, plate_w, top), fill=_jitter((0, 50, 160), rng, 15))
        font = fonts.load(font_path, max(7, int(top * 0.7)))
        draw.text((plate_w / 2, top / 2), spec.style.band_text, font=font, fill=(240, 240, 240), anchor="mm")
        return top
    if spec.style.options.get("top_text"):
        us = spec.country == "us"
        # US state names are big and in any lettering (script, serif, caps): a large share of the plate.
        top = int(plate_h * (rng.uniform(0.18, 0.28) if us else top_share(spec)))
        names = {"us": US_STATES, "br": BR_CITIES}.get(spec.country, ("REPUBLICA ARGENTINA",))
        name = _pick(names, rng)
        if us and rng.random() < 0.4:
            name = name.title()
        color = _jitter(_pick(US_INKS, rng) if us else spec.style.foreground, rng, 30)
        if us:
            font_path = _pick(fonts.available(GENERIC_TEXT_FONTS), rng)
            if rng.random() < 0.25:  # a coloured bar behind the name (Pennsylvania, New Jersey...)
                draw.rectangle((0, 0, plate_w, top), fill=_jitter(_pick(US_INKS, rng), rng, 20))
                color = (245, 245, 240)
        share = 0.95 if us else 0.7
        if not us and "top_font" in spec.style.options:  # Brazil: the town line in DIN caps, as tall as the strip
            font_path, share = fonts.available((spec.style.options["top_font"], LABEL_FONT))[0], 0.85
        font = fonts.load(font_path, max(7, int(top * share)))
        draw.text((plate_w / 2, top * 0.6), name, font=font, fill=color, anchor="mm")
        return top
    return 0


def _draw_us_extras(draw: ImageDraw.ImageDraw, plate_w: int, plate_h: int, background, fonts: FontBook, rng) -> int:
    """What real US plates carry besides the number, for the reader to learn to ignore: scenery behind the
    text, a slogan or county along the bottom, registration stickers in the corners. Returns the height
    the bottom text takes."""
    ink = _pick(US_INKS, rng)
    if rng.random() < 0.5:  # scenery: a pale mountain range or sun behind the characters
        paint = np.array(_jitter((150, 170, 200), rng, 60), np.float32)
        tone = tuple(int(c) for c in 0.5 * paint + 0.5 * np.array(background, np.float32))  # pale, behind the ink
        if rng.random() < 0.6:
            xs = np.linspace(0, plate_w, int(rng.integers(4, 9)))
            ys = plate_h * rng.uniform(0.45, 0.85, xs.size)
            draw.polygon([(0, plate_h)] + list(zip(xs.tolist(), ys.tolist())) + [(plate_w, plate_h)], fill=tone)
        else:
            r = plate_h * rng.uniform(0.2, 0.4)
            cx, cy = plate_w * rng.uniform(0.2, 0.8), plate_h * rng.uniform(0.3, 0.7)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tone)
    bottom = 0
    font_paths = fonts.available(GENERIC_TEXT_FONTS)
    if rng.random() < 0.6:
        bottom = int(plate_h * rng.uniform(0.1, 0.16))
        slogan = _pick(US_SLOGANS, rng)
        font = fonts.load(_pick(font_paths, rng), max(6, int(bottom * 0.95)))
        draw.text((plate_w / 2, plate_h - bottom * 0.75), slogan, font=font, fill=_jitter(ink, rng, 30), anchor="mm")
    small = fonts.load(font_paths[0], max(6, int(plate_h * 0.11)))
    for _ in range(int(rng.choice(3, p=(0.3, 0.45, 0.25)))):  # month and year stickers
        sw, sh = plate_w * rng.uniform(0.08, 0.13), plate_h * rng.uniform(0.14, 0.22)
        x0 = plate_w * 0.03 if rng.random() < 0.5 else plate_w * 0.97 - sw
        y0 = plate_h * 0.05 if rng.random() < 0.5 else plate_h * 0.95 - sh
        draw.rectangle((x0, y0, x0 + sw, y0 + sh), fill=_jitter(_pick(STICKER_COLOURS, rng), rng, 20))
        label = _pick(MONTHS, rng) if rng.random() < 0.5 else f"{int(rng.integers(0, 100)):02d}"
        draw.text((x0 + sw / 2, y0 + sh / 2), label, font=small, fill=(25, 25, 25), anchor="mm")
    return bottom


#: Share of US plates with a mark beside the number that is not part of it (a county code or plate class in small
#: stacked characters, a badge of a sponsor or cause): real ones are read as extra characters otherwise.
US_SIDE_MARK_SHARE = 0.3


def _draw_us_side_mark(draw: ImageDraw.ImageDraw, plate_w: int, plate_h: int, band: tuple[int, int],
                       span: tuple[int, int], ink, fonts: FontBook, rng) -> tuple[int, int]:
    """A mark at one end of the number's row (``band``: its top and bottom, ``span``: the free columns): two
    small characters stacked (Wyoming's county number, New Jersey's "RM", a "DV" class) or a coloured badge
    with a short word or number (a sponsor's "56", an "USA"). Returns ``span`` less the columns it took."""
    top, bottom = band
    left, right = span
    height = bottom - top
    font_paths = fonts.available(GENERIC_TEXT_FONTS)
    stacked = rng.random() < 0.55
    width = int(plate_w * (rng.uniform(0.07, 0.11) if stacked else rng.uniform(0.13, 0.2)))
    on_left = rng.random() < 0.6
    x0 = left + int(plate_w * 0.01) if on_left else right - int(plate_w * 0.01) - width
    chars = LATIN_LETTERS + DIGITS
    if stacked:
        size = max(6, int(height * rng.uniform(0.3, 0.4)))
        font = fonts.load(_pick(font_paths, rng), size)
        colour = _jitter(ink, rng, 30)
        for k in range(2):
            cy = top + height * (0.3 + 0.4 * k)
            draw.text((x0 + width / 2, cy), chars[int(rng.integers(len(chars)))], font=font, fill=colour, anchor="mm")
    else:
        y0, y1 = top + height * rng.uniform(0.0, 0.15), bottom - height * rng.uniform(0.0, 0.15)
        fill = _jitter(_pick(US_INKS + STICKER_COLOURS[:-1], rng), rng, 30)
        draw.rounded_rectangle((x0, y0, x0 + width, y1), radius=int(width * 0.15), fill=fill)
        word = "".join(chars[int(rng.integers(len(chars)))] for _ in range(int(rng.integers(1, 4))))
        font = fonts.load(_pick(font_paths, rng), max(6, int((y1 - y0) * rng.uniform(0.35, 0.55))))
        draw.text((x0 + width / 2, (y0 + y1) / 2), word, font=font, fill=_jitter((245, 245, 245), rng, 10),
                  anchor="mm")
    gap = int(plate_w * 0.02)
    return (x0 + width + gap, right) if on_left else (left, x0 - gap)


#: Share of US plates drawn inside a dealer's frame: most American cars carry one, and its words (a dealer, a
#: town, a phone number) sit right above and below the number, in letters as bold as the plate's own.
US_FRAME_SHARE = 0.35
FRAME_BRANDS = ("TOYOTA", "HONDA", "FORD", "CHEVROLET", "NISSAN", "HYUNDAI", "SUBARU", "MAZDA", "DODGE", "JEEP",
                "LEXUS", "ACURA", "BUICK", "CADILLAC", "AUDI", "MOTORS", "AUTO GROUP", "AUTO SALES", "AUTO CENTER")
FRAME_NAMES = ("VALLEY", "RIVERSIDE", "LAKEWOOD", "HILLTOP", "BAYSIDE", "MAIN STREET", "SUNSET", "PARKWAY", "HARBOR",
               "COUNTY LINE", "MILLER", "JOHNSON", "GARCIA", "PETERSON", "WILSON", "MARTIN", "CAPITOL", "PACIFIC")


def _frame_words(rng: np.random.Generator) -> str:
    """What a dealer's frame says: a dealer (town or family name and a make), a phone number or a web address."""
    kind = rng.random()
    if kind < 0.6:
        return f"{_pick(FRAME_NAMES, rng)} {_pick(FRAME_BRANDS, rng)}"
    if kind < 0.8:
        return f"{int(rng.integers(200, 1000))}-{int(rng.integers(200, 1000))}-{int(rng.integers(0, 10000)):04d}"
    return f"{_pick(FRAME_NAMES, rng).replace(' ', '').lower()}{_pick(FRAME_BRANDS, rng).split()[0].lower()}.com"


def _draw_us_frame(plate: np.ndarray, text_rows: tuple[int, int], fonts: FontBook, rng) -> None:
    """A dealer's frame over the plate's edges, in place: thin sides, a bar over the state name and a wider one
    over the slogan, with words in them; it stops short of the number's row (``text_rows``: its top and bottom)."""
    h, w = plate.shape[:2]
    top_row, bottom_row = text_rows
    image = Image.fromarray(plate)
    draw = ImageDraw.Draw(image)
    chrome = rng.random() < 0.3
    colour = _jitter((185, 188, 192) if chrome else _pick(((18, 18, 20), (40, 40, 45), (20, 30, 70)), rng), rng, 12)
    words_colour = _jitter((20, 20, 25) if chrome else (240, 240, 240), rng, 12)
    side = max(1, int(w * rng.uniform(0.012, 0.028)))
    top = int(top_row * rng.uniform(0.25, 0.85))
    bottom = int((h - bottom_row) * rng.uniform(0.6, 1.0))
    draw.rectangle((0, 0, side, h), fill=colour)
    draw.rectangle((w - 1 - side, 0, w, h), fill=colour)
    draw.rectangle((0, 0, w, top), fill=colour)
    draw.rectangle((0, h - bottom, w, h), fill=colour)
    font_paths = fonts.available(GENERIC_TEXT_FONTS)
    for bar, y_centre, share in ((bottom, h - bottom / 2, 0.85), (top, top / 2, 0.8)):
        if bar >= 6 and rng.random() < 0.8:
            font = fonts.load(_pick(font_paths, rng), max(6, int(bar * share)))
            words = _frame_words(rng)
            box = draw.textbbox((0, 0), words, font=font)
            if box[2] - box[0] > w * 0.9:  # too long for the bar: a make alone
                words = _pick(FRAME_BRANDS, rng)
            draw.text((w / 2, y_centre), words, font=font, fill=words_colour, anchor="mm")
    plate[:] = np.asarray(image)


#: Share of British plates drawn in the pre-1973 look (silver on black, no band), still on classic cars.
OLD_BLACK_SHARE = 0.15


def period_design(spec: RegionSpec, text: str, rng: np.random.Generator) -> RegionSpec:
    """The older design of a type a plate is drawn in, when its marks ask for one (else ``spec`` itself).

    ``fni``: French plates of the pre-2009 system (`123 AB 45`, known by the digit they start with) carry no
    blue bands and are yellow at the rear; ``old-black``: British plates before 1973, silver on black, no band.
    """
    style = spec.style
    marks = style.options.get("marks", ())
    if "fni" in marks and text[:1].isdigit():
        options = {k: v for k, v in style.options.items() if k not in ("separator", "marks")}
        style = replace(style, band=None if rng.random() < 0.7 else style.band, options=options,
                        background=YELLOW_PLATE if rng.random() < 0.5 else style.background)
    elif "old-black" in marks and rng.random() < OLD_BLACK_SHARE:
        options = dict(style.options, marks=tuple(m for m in marks if m not in ("rear-yellow", "old-black")))
        style = replace(style, band=None, background=(22, 22, 24), foreground=(205, 205, 200), options=options)
    else:
        return spec
    return replace(spec, style=style)


def render_plate(spec: RegionSpec, text: str, rng: np.random.Generator, fonts: FontBook,
                 px_per_mm: float | None = None) -> RenderedPlate:
    """Draw the flat plate of ``spec`` showing canonical ``text``.

    Args:
        spec: plate type.
        text: canonical text (``spec.matches(text)`` should hold).
        rng: randomness for colours, fonts, wear and layout jitter.
        fonts: font lookup.
        px_per_mm: drawing resolution (default: random 0.6-1.0).
    """
    spec = period_design(spec, text, rng)
    style = spec.style
    ppm = px_per_mm or float(rng.uniform(0.6, 1.0))
    plate_w, plate_h = int(style.size_mm[0] * ppm), int(style.size_mm[1] * ppm)
    background = _jitter(style.background, rng, 10)
    shade = int(style.options.get("shade", 0))  # the same plate paint, new or faded: lighter or darker as a whole
    if shade:
        offset = int(rng.integers(-shade, shade + 1))
        background = tuple(int(np.clip(c + offset, 0, 255)) for c in background)
    foreground = _jitter(style.foreground, rng, 12)
    us_tint = spec.country == "us"
    if us_tint:
        foreground = _jitter(((20, 40, 120), (120, 20, 20), (20, 20, 20), (20, 90, 40))[int(rng.integers(4))], rng, 20)
    image = Image.new("RGB", (plate_w, plate_h), background)
    draw = ImageDraw.Draw(image)
    if us_tint and rng.random() < 0.7:  # US plates carry graphics: a soft colour gradient stands in for them
        grad = np.linspace(0, 1, plate_h)[:, None, None]
        tint = np.array(_jitter((120, 160, 220), rng, 80), np.float32)
        arr = np.asarray(image).astype(np.float32)
        arr = arr * (1 - 0.35 * grad) + tint * 0.35 * grad
        image = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)

    marks = style.options.get("marks", ())
    if "rear-yellow" in marks and rng.random() < 0.5:
        draw.rectangle((0, 0, plate_w, plate_h), fill=_jitter(YELLOW_PLATE, rng, 10))
    bottom = _draw_us_extras(draw, plate_w, plate_h, background, fonts, rng) if us_tint else 0
    top = _draw_top(draw, spec, plate_w, plate_h, fonts, rng)
    if "lacre" in marks and rng.random() < 0.6:  # Brazil: the red wire seal at the top-left screw
        r = max(2, plate_h * 0.05)
        cx, cy = plate_w * rng.uniform(0.08, 0.16), top * 0.5
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_jitter((190, 30, 35), rng, 20))
    left, right = 0, plate_w
    margin = float(style.options.get("margin", 0.1))  # above and below the text, share of the plate height
    area_y0, area_y1 = top + int(plate_h * margin), plate_h - max(bottom, int(plate_h * margin))
    band_w = int(band_mm(spec) * ppm)
    # The band beside the top line only, the lines below it running the plate's whole width (UA motorcycle plates).
    band_block = bool(style.options.get("band_block"))
    if band_block and style.band in BANDED:
        _draw_band(draw, spec, (0, 0, band_w, int(area_y0 + (area_y1 - area_y0) / spec.count_lines)), fonts, rng)
    elif style.band in BANDED and not ("no-band" in marks and rng.random() < 0.35):
        _draw_band(draw, spec, (0, 0, band_w, plate_h - 1), fonts, rng)
        left = band_w
    border = max(1, int(round(ppm * rng.uniform(1.0, 2.5))))
    inset = max(1, int(2 * ppm))
    red_border = "red-border" in marks  # Denmark: always, red and thicker
    if red_border or rng.random() < 0.85:
        draw.rounded_rectangle((inset, inset, plate_w - 1 - inset, plate_h - 1 - inset), radius=int(6 * ppm),
                               outline=_jitter((200, 30, 40), rng, 15) if red_border else foreground,
                               width=border + max(1, int(ppm * 2)) if red_border else border)
    left, right = _draw_edge_marks(draw, spec, (left, right), plate_w, plate_h, band_w, fonts, rng)
    if us_tint and rng.random() < US_SIDE_MARK_SHARE:
        left, right = _draw_us_side_mark(draw, plate_w, plate_h, (area_y0, area_y1), (left, right), foreground,
                                         fonts, rng)

    plate = np.array(image)
    ink = np.zeros((plate_h, plate_w), np.uint8)
    fonts_for_spec = fonts.available(style.fonts)
    font_path = _pick(fonts_for_spec, rng) if rng.random() < 0.3 else fonts_for_spec[0]
    stretch = float(style.options.get("stretch", 1.0)) if "OSP-DIN" in font_path.name else 1.0
    stretch *= float(rng.uniform(0.92, 1.08))
    emboss = rng.random() < 0.7
    square = str(style.options.get("square_glyphs", ""))
    glyphs = {"square": square, "corner": float(rng.uniform(0.3, 0.45)) if square else 0.4}
    # Letters smaller than the digits (Kazakh plates), on some plates only when the type says so.
    letter_range = style.options.get("letter_scale")
    letter_scale = 1.0
    if letter_range and rng.random() < float(style.options.get("letter_scale_share", 1.0)):
        letter_scale = float(rng.uniform(*letter_range))

    # Two parts of the text on one line may stand apart (UA square plates: region `BH`, gap, series `CE`).
    lines = spec.visual_lines(text, " " if style.options.get("slice_gap") else "")
    printed: list[str] = []
    if style.options.get("region_digits") and spec.count_lines == 1:
        digits = len(text) - len(text.rstrip(DIGITS))
        # Where the number and the region's digits meet, when both are digits (RU taxi `MM 000 55`, trailer
        # `MM 0000 55`): the type says how long its number is; otherwise the region is the trailing 2-3.
        main_digits = style.options.get("main_digits")
        digits = max(0, digits - int(main_digits)) if main_digits is not None else min(digits, 3)
        main_text, region = text[:len(text) - digits], text[len(text) - digits:]
        box_w = int(plate_w * 0.22)
        right = plate_w - box_w
        draw = ImageDraw.Draw(image := Image.fromarray(plate))
        draw.line((right, 3, right, plate_h - 4), fill=foreground, width=border)
        if spec.country == "ru":
            small = _label_font(fonts, max(7, int(plate_h * 0.2)))
            draw.text((right + box_w * 0.38, plate_h * 0.82), "RUS", font=small, fill=foreground, anchor="mm")
            fx, fy, fw, fh = right + box_w * 0.68, plate_h * 0.74, box_w * 0.22, plate_h * 0.16
            if style.options.get("rus_flag", True):  # military plates: "RUS" alone
                for k, c in enumerate(((245, 245, 245), (0, 57, 166), (213, 43, 30))):
                    draw.rectangle((fx, fy + k * fh / 3, fx + fw, fy + (k + 1) * fh / 3), fill=c)
        plate = np.array(image)
        # Russian region digits sit high in their box, above "RUS" and the flag; others fill it when the type
        # says how tall (Kazakh ones are as tall as the number), else half the plate, low.
        region_range = style.options.get("region_height")
        region_h = float(rng.uniform(*region_range)) if region_range else 0.5
        region_bottom = 0.62 if spec.country == "ru" else (0.5 + region_h / 2 if region_range else 0.78)
        region_mask = _text_mask(region, font_path, int(plate_h * region_h), fonts, stretch * 0.95)
        region_mask = _fit_line(region_mask, int(box_w * 0.85))
        _paste_text(plate, region_mask, right + (box_w - region_mask.shape[1]) // 2, int(plate_h * region_bottom),
                    foreground, rng, emboss, ink)
        lines = [main_text]
        printed.append(region)

    area_x0 = left + int(plate_w * 0.03)
    area_x1 = right - int(plate_w * 0.03)
    line_h = (area_y1 - area_y0) / len(lines)
    char_frac = float(rng.uniform(0.74, 0.84)) if len(lines) == 1 else float(rng.uniform(0.7, 0.8))
    first_line_mark = next((m for m in marks if m in GAP_MARKS), None)  # seals and crests sit on the top line
    for index, line in enumerate(lines):
        shown = display_line(line, spec, rng)
        printed.insert(index, shown)
        char_h = int(line_h * char_frac)
        y_bottom = int(area_y0 + line_h * (index + 1) - (line_h - char_h) / 2)
        gap_mark = first_line_mark if index == 0 else None
        if us_tint and rng.random() < 0.25:
            gap_mark = "emblem"  # a state emblem between the groups (Connecticut's dot, Georgia's peach)
        cut = _mark_position(shown, gap_mark, rng) if gap_mark else 0
        if not cut:
            line_x0 = max(area_x0, band_w + int(plate_w * 0.03)) if band_block and index == 0 else area_x0
            mask = _fit_line(_mixed_height_mask(shown, font_path, char_h, fonts, stretch, letter_scale, **glyphs),
                             area_x1 - line_x0)
            x = line_x0 + (area_x1 - line_x0 - mask.shape[1]) // 2 + int(rng.integers(-2, 3))
            _paste_text(plate, mask, x, y_bottom, foreground, rng, emboss, ink)
            continue
        # The district, then the seals or crest in a gap, then the rest of the line.
        head = _text_mask(shown[:cut].rstrip(" -"), font_path, char_h, fonts, stretch, **glyphs)
        tail = _text_mask(shown[cut:].lstrip(" -"), font_path, char_h, fonts, stretch, **glyphs)
        gap = int(char_h * 0.55)
        scale = min(1.0, (area_x1 - area_x0) / (head.shape[1] + gap + tail.shape[1]))
        head, tail = _fit_line(head, int(head.shape[1] * scale)), _fit_line(tail, int(tail.shape[1] * scale))
        gap = int(gap * scale)
        x = area_x0 + (area_x1 - area_x0 - head.shape[1] - gap - tail.shape[1]) // 2 + int(rng.integers(-2, 3))
        _paste_text(plate, head, x, y_bottom, foreground, rng, emboss, ink)
        _paste_text(plate, tail, x + head.shape[1] + gap, y_bottom, foreground, rng, emboss, ink)
        _draw_gap_mark(plate, gap_mark, (x + head.shape[1] + gap / 2, y_bottom - char_h / 2), char_h, rng)

    if us_tint and rng.random() < US_FRAME_SHARE:
        _draw_us_frame(plate, (area_y0, area_y1), fonts, rng)
    _wear(plate, rng, ppm)
    mask = np.zeros((plate_h, plate_w), np.uint8)
    cv2.rectangle(mask, (0, 0), (plate_w - 1, plate_h - 1), 255, -1)
    radius = int(5 * ppm)
    if radius > 1:
        for cx, cy in ((0, 0), (plate_w - 1, 0), (0, plate_h - 1), (plate_w - 1, plate_h - 1)):
            cv2.rectangle(mask, (max(0, cx - radius), max(0, cy - radius)), (cx + radius, cy + radius), 0, -1)
            cv2.circle(mask, (min(max(cx, radius), plate_w - 1 - radius), min(max(cy, radius), plate_h - 1 - radius)),
                       radius, 255, -1)
    corners = np.array([[0, 0], [plate_w - 1, 0], [plate_w - 1, plate_h - 1], [0, plate_h - 1]], np.float32)
    return RenderedPlate(plate, mask, corners, printed, spec, ink)


def _wear(plate: np.ndarray, rng: np.random.Generator, ppm: float) -> None:
    """Screws, dirt, glare and shadow, each with its own probability, in place."""
    h, w = plate.shape[:2]
    if rng.random() < 0.4 and w > 2 * h:
        r = max(2, int(4 * ppm))
        for cx in (int(w * 0.12), int(w * 0.88)):
            cy = int(h * rng.uniform(0.15, 0.5)) if rng.random() < 0.5 else h // 2
            tone = int(rng.integers(120, 200))
            cv2.circle(plate, (cx, cy), r, (tone, tone, tone - 10), -1, cv2.LINE_AA)
            cv2.circle(plate, (cx, cy), r, (tone // 2,) * 3, 1, cv2.LINE_AA)
    out = plate.astype(np.float32)
    if rng.random() < 0.35:  # dirt: low-frequency dark blotches, heavier at the bottom
        noise = cv2.resize(rng.random((6, 12)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        ramp = np.linspace(0.4, 1.0, h, dtype=np.float32)[:, None]
        dirt = np.clip(noise * ramp - rng.uniform(0.3, 0.6), 0, 1)[:, :, None] * rng.uniform(0.4, 1.0)
        out = out * (1 - dirt) + np.array([90, 75, 55], np.float32) * dirt
    if rng.random() < 0.25:  # glare: a soft bright ellipse
        glare = np.zeros((h, w), np.float32)
        cv2.ellipse(glare, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                    (int(w * rng.uniform(0.1, 0.4)), int(h * rng.uniform(0.2, 0.6))), float(rng.uniform(0, 180)),
                    0, 360, 1.0, -1)
        glare = cv2.GaussianBlur(glare, (0, 0), max(1.0, h * 0.15))[:, :, None] * rng.uniform(0.3, 0.8)
        out = out * (1 - glare) + 255 * glare
    if rng.random() < 0.3:  # shadow of something in front: a soft half-plane
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        d = (xx - w * rng.uniform(0.2, 0.8)) * np.cos(angle) + (yy - h * rng.uniform(0.2, 0.8)) * np.sin(angle)
        shade = 1 / (1 + np.exp(-d / max(1.0, h * 0.08)))
        out = out * (1 - shade[:, :, None] * rng.uniform(0.25, 0.6))
    plate[:] = np.clip(out, 0, 255).astype(np.uint8)
