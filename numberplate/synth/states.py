"""Synthetic crops for the plate classifier, in every state, in the Nomeroff layout ``{train,val,test}/{img,ann}``.

* ``readable``: a rendered plate through the camera effects (as ``numberplate synth ocr`` makes them);
* ``filled``: the same plate with its text hidden: painted over, taped, covered by a sheet, or mud/snow;
* ``empty``: a blank plate (band, border, decorations, no characters);
* ``garbage``: not a plate: random crops of background photos (``--backgrounds``, photos without plates)
  and procedural look-alikes (textures, grilles, lights, signs, stickers with words).

Every crop, plate or not, goes through the same :func:`numberplate.synth.augment.capture`, so the margins,
blur and compression never tell the classes apart. As in :mod:`numberplate.synth.ocr_dataset`, every item
has its own generator seeded by ``(seed, index)``: the dataset is a pure function of the seed, whatever
``--jobs`` is.
"""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from numberplate.data.images import IMAGE_SUFFIXES
from numberplate.errors import InputError
from numberplate.synth.jobs import chunk_starts, run_chunks, split_boundaries, split_of, split_sizes

#: Default share of each state in a generated set.
STATE_MIX = (("readable", 0.5), ("filled", 0.16), ("empty", 0.14), ("garbage", 0.2))
#: Region label of crops that show no plate.
UNKNOWN = "unknown"
#: Share of garbage taken from background photos when some are given (the rest is procedural).
PHOTO_GARBAGE = 0.65
#: A photo patch with less detail than this is a blank surface, not garbage (see ``is_featureless``); a few
#: tries find a patch with something in it, else the crop is drawn instead.
FEATURELESS = 2.5
PATCH_TRIES = 5
#: Types that stand for a family rather than a design no real plate has (the generic "EU" band): ``all`` leaves
#: them out of classifier data, where they would be a class no crop can be told apart from its neighbours.
STAND_IN_COUNTRIES = ("eu",)
WORDS = ("service", "auto", "taxi", "garage", "parking", "stop", "sale", "rent", "motors", "welcome", "dealer",
         "shop", "car wash", "exit", "hotel", "pizza", "open", "keep clear", "school", "bus", "police",
         "speed", "zone", "km/h", "tel", "www", "info", "city", "centre", "sport", "baby on board")


@dataclass(frozen=True)
class _Job:
    out_dir: str
    spec_codes: tuple[str, ...]
    start: int
    stop: int
    seed: int
    font_dirs: tuple[str, ...]
    photos: tuple[tuple[str, str], ...]  # (path, split) of background photos
    splits: tuple[tuple[str, int], ...]  # (split, first index of the next split)
    mix: tuple[tuple[str, float], ...]


def find_photos(dirs: tuple[str | Path, ...], val_fraction: float, test_fraction: float) -> list[tuple[str, str]]:
    """Background photos under ``dirs`` with the split each belongs to.

    A photo's split comes from a hash of its name, so val and test garbage are cut from photos that
    training never saw, and adding photos does not move the others.

    Raises:
        InputError: a folder does not exist or holds no image.
    """
    photos = []
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(folder, "background folder not found")
        found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not found:
            raise InputError(folder, "no images in this background folder")
        for path in found:
            bucket = zlib.crc32(str(path.relative_to(folder)).encode()) % 1000 / 1000
            split = "val" if bucket < val_fraction else "test" if bucket < val_fraction + test_fraction else "train"
            photos.append((str(path), split))
    return photos


# -- filled: hide the text ---------------------------------------------------------------------------------
def _text_box(spec, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Where the characters are on a rendered plate of ``spec``: everything right of the band, below the
    top decorations."""
    from numberplate.synth.render import BANDED, band_mm, top_share

    h, w = shape[:2]
    ppm = w / spec.style.size_mm[0]
    left = int(band_mm(spec) * ppm) if spec.style.band in BANDED else 0
    return left, int(h * top_share(spec)), w, h


def _noise(h: int, w: int, rng: np.random.Generator, cells: int = 8) -> np.ndarray:
    """Smooth noise in [0, 1], ``h x w`` float32."""
    small = rng.random((max(2, cells * h // max(w, 1) + 1), cells)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _cover_colour(rng: np.random.Generator, plate_colour: np.ndarray) -> np.ndarray:
    # Never close to the plate's own colour: a plate painted or taped in its background colour is, to
    # anyone looking, an empty plate.
    choices = [c for c in ((20, 20, 22), (235, 235, 230), (140, 140, 145), (200, 40, 40), (30, 60, 140),
                           (190, 175, 140), (60, 110, 60), (230, 200, 40))
               if np.abs(np.array(c, np.float32) - plate_colour).sum() > 150]
    base = np.array(choices[int(rng.integers(len(choices)))], np.float32)
    return np.clip(base + rng.normal(0, 12, 3), 0, 255)


def cover_text(image: np.ndarray, spec, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Hide the characters of a rendered plate; the band and the plate's edges stay in sight.

    Returns:
        The covered image and the kind of cover (``paint``, ``tape``, ``sheet``, ``mud``).
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = _text_box(spec, image.shape)
    # The cover stays inside the plate: a rim of the plate's own paint shows around it. A plate covered edge
    # to edge is, to anyone looking, a blank plate of the cover's colour (the old covers taught "filled" and
    # "empty" from the same pictures: 22 of 873 synthetic val crops of the two were swapped).
    x0 += int(w * rng.uniform(0.0, 0.02))
    x1 -= int(w * rng.uniform(0.02, 0.03))
    y0 += int(h * rng.uniform(0.04, 0.1))
    y1 -= int(h * rng.uniform(0.04, 0.1))
    out = image.astype(np.float32)
    alpha = np.zeros((h, w), np.float32)
    kind = ("paint", "tape", "sheet", "mud")[int(rng.choice(4, p=(0.3, 0.2, 0.25, 0.25)))]
    plate_colour = np.median(image[y0:y1, x0:x1].reshape(-1, 3), axis=0).astype(np.float32)
    colour = _cover_colour(rng, plate_colour)
    if kind == "paint":
        # Brush strokes: a rough-edged band over the text, its soft edge kept off the rim.
        sigma = max(1.0, h * 0.05)
        pad = int(sigma * 1.5)
        cv2.rectangle(alpha, (x0 + pad // 2, y0 + pad), (x1 - pad, y1 - pad), 1.0, -1)
        edge = _noise(h, w, rng, 24)
        alpha = np.clip(cv2.GaussianBlur(alpha, (0, 0), sigma) * 1.6 - edge * 0.5, 0, 1)
        streaks = cv2.resize(rng.normal(0, 1, (max(2, h // 3), 3)).astype(np.float32), (w, h))
        layer = colour[None, None, :] * (1 + 0.08 * streaks[:, :, None])
        alpha *= rng.uniform(0.98, 1.0)
    elif kind == "tape":
        count = int(rng.integers(2, 5))
        step = (y1 - y0) / count
        for k in range(count):
            top = y0 + k * step - step * rng.uniform(0.05, 0.2)
            bottom = y0 + (k + 1) * step + step * rng.uniform(0.05, 0.25)
            tilt = rng.uniform(-0.06, 0.06) * h
            quad = np.array([[x0 - 3, top + tilt], [x1 + 3, top - tilt], [x1 + 3, bottom - tilt], [x0 - 3, bottom + tilt]])
            cv2.fillPoly(alpha, [np.round(quad).astype(np.int32)], 1.0)
        sheen = _noise(h, w, rng, 6)[:, :, None]
        layer = colour[None, None, :] * (0.85 + 0.3 * sheen)
        for k in range(1, count):  # the strips' overlapping edges
            y = int(y0 + k * step)
            cv2.line(layer, (x0, y), (x1, y), (colour * 0.7).tolist(), max(1, h // 40))
        alpha *= rng.uniform(0.98, 1.0)
    elif kind == "sheet":
        bx0, by0, bx1, by1 = x0, y0, x1, y1
        jitter = rng.uniform(-0.01, 0.02, (4, 2)) * np.array([w, h])  # a loose sheet, inside the rim
        quad = np.array([[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]], np.float32) + jitter * [[-1, -1], [1, -1],
                                                                                               [1, 1], [-1, 1]]
        cv2.fillPoly(alpha, [np.round(quad).astype(np.int32)], 1.0)
        folds = np.sin(np.linspace(0, rng.uniform(2, 9), w, dtype=np.float32) + rng.uniform(0, 6))[None, :, None]
        layer = colour[None, None, :] * (0.85 + 0.12 * folds) + rng.normal(0, 4, (h, w, 3)).astype(np.float32)
        if rng.random() < 0.3:  # newsprint: rows of small grey marks
            for row in range(int(h * 0.1), h, max(3, h // 12)):
                cv2.line(layer, (int(w * 0.05), row), (int(w * rng.uniform(0.5, 0.95)), row), (110, 110, 110), 1)
    else:  # mud or snow: a thick uneven layer, darker or lighter in patches
        # Snow on a white plate would hide the text in the plate's own colour: a blank plate, not a covered one.
        snow = rng.random() < 0.3 and np.abs(plate_colour - (235, 238, 242)).sum() > 150
        colour = np.array((235, 238, 242) if snow else (95, 75, 50), np.float32) + rng.normal(0, 10, 3)
        thickness = _noise(h, w, rng, 10)
        inside = np.zeros((h, w), np.float32)
        cv2.rectangle(inside, (x0, y0), (x1, y1), 1.0, -1)
        alpha = np.clip(inside * (0.92 + 0.3 * thickness) + _noise(h, w, rng, 5) * 0.5 - 0.2, 0, 1)
        alpha = np.maximum(alpha, inside * 0.98)
        layer = colour[None, None, :] * (0.75 + 0.5 * _noise(h, w, rng, 16))[:, :, None]
    # Nearly opaque: after the camera's contrast stretch, text under a 90% cover can be read again.
    alpha = alpha[:, :, None]
    out = out * (1 - alpha) + layer * alpha
    return np.clip(out, 0, 255).astype(np.uint8), kind


# -- garbage: things that are not plates ---------------------------------------------------------------------
def _photo_patch(path: str, rng: np.random.Generator) -> np.ndarray | None:
    from numberplate.data.images import read_image

    try:
        photo = read_image(path)
    except InputError as exc:
        print(f"warning: skipped background {exc}", file=sys.stderr)
        return None
    h, w = photo.shape[:2]
    for _ in range(PATCH_TRIES):
        ph = int(np.clip(h * np.exp(rng.uniform(np.log(0.04), np.log(0.5))), 8, h))
        pw = int(np.clip(ph * np.exp(rng.uniform(np.log(0.8), np.log(5.5))), 8, w))
        y, x = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
        patch = photo[y:y + ph, x:x + pw]
        if not is_featureless(patch):
            return patch
    return None


def is_featureless(image: np.ndarray) -> bool:
    """Whether a picture is a plain surface (sky, wall, car paint, a dark corner): mean absolute Laplacian
    at 96 x 32 below FEATURELESS. Framed like a plate such a patch *is* a blank plate to any eye, so as a
    "garbage" example it only teaches the classifier to contradict its "empty" examples."""
    grey = cv2.cvtColor(cv2.resize(image, (96, 32), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    return float(np.abs(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F)).mean()) < FEATURELESS


def _procedural_patch(rng: np.random.Generator, fonts) -> tuple[np.ndarray, str]:
    """A plate-sized image of something else; returns it and its kind."""
    from PIL import Image, ImageDraw

    h = int(rng.integers(40, 140))
    w = int(h * np.exp(rng.uniform(np.log(0.9), np.log(5.0))))
    kind = ("texture", "grille", "light", "sign", "words", "bricks")[int(rng.integers(6))]
    base = rng.uniform(20, 230, 3).astype(np.float32)
    image = np.empty((h, w, 3), np.float32)
    image[:] = base
    if kind == "texture":
        for cells, amount in ((4, 80), (16, 40), (48, 20)):
            image += (_noise(h, w, rng, cells)[:, :, None] - 0.5) * amount * rng.uniform(0.5, 1.5, 3)
    elif kind == "grille":
        period = int(rng.integers(4, max(5, h // 3)))
        dark = base * rng.uniform(0.1, 0.5)
        if rng.random() < 0.3:  # honeycomb
            for cy in range(0, h + period, period):
                for cx in range((cy // period % 2) * period // 2, w + period, period):
                    cv2.circle(image, (cx, cy), max(1, int(period * 0.38)), dark.tolist(), -1)
        else:
            vertical = rng.random() < 0.3
            for k in range(0, w if vertical else h, period):
                p0, p1 = ((k, 0), (k, h)) if vertical else ((0, k), (w, k))
                cv2.line(image, p0, p1, dark.tolist(), max(1, int(period * rng.uniform(0.3, 0.7))))
        image *= np.linspace(rng.uniform(0.6, 1.2), rng.uniform(0.6, 1.2), h, dtype=np.float32)[:, None, None]
    elif kind == "light":
        image[:] = base * 0.3
        for _ in range(int(rng.integers(1, 4))):
            glow = np.zeros((h, w), np.float32)
            cv2.ellipse(glow, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                        (int(w * rng.uniform(0.1, 0.4)), int(h * rng.uniform(0.2, 0.5))), float(rng.uniform(0, 180)),
                        0, 360, 1.0, -1)
            glow = cv2.GaussianBlur(glow, (0, 0), max(1.0, h * 0.1))[:, :, None]
            tint = np.array(((255, 250, 235), (230, 40, 30), (250, 160, 40))[int(rng.integers(3))], np.float32)
            image = image * (1 - glow) + tint * glow
    elif kind == "bricks":
        mortar = np.clip(base + 60, 0, 255)
        image[:] = mortar
        rows = int(rng.integers(2, 7))
        bh = h / rows
        for r in range(rows):
            bw = bh * rng.uniform(1.8, 3.0)
            offset = (r % 2) * bw / 2
            x = -offset
            while x < w:
                tone = np.clip(base * rng.uniform(0.8, 1.2), 0, 255)
                cv2.rectangle(image, (int(x) + 1, int(r * bh) + 1), (int(x + bw) - 1, int((r + 1) * bh) - 1),
                              tone.tolist(), -1)
                x += bw
    else:  # sign or sticker: a coloured board with a symbol and/or words in non-plate fonts
        canvas = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(canvas)
        ink = tuple(int(v) for v in (255 - base if rng.random() < 0.7 else rng.uniform(0, 255, 3)))
        if kind == "sign" or rng.random() < 0.3:
            cx, cy, r = w * rng.uniform(0.2, 0.8), h / 2, h * rng.uniform(0.25, 0.45)
            if rng.random() < 0.5:
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ink, width=max(2, int(r * 0.2)))
            else:
                draw.polygon([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)], outline=ink,
                             width=max(2, int(r * 0.2)))
        if kind == "words" or rng.random() < 0.5:
            names = ("barlow-condensed-latin-600-normal.woff2", "oswald-latin-500-normal.woff2",
                     "pt-sans-narrow-latin-700-normal.woff2")
            font_path = fonts.available((names[int(rng.integers(3))],))[0]
            lines = int(rng.integers(1, 4))
            size = max(8, int(h / (lines + 1) * rng.uniform(0.7, 1.1)))
            font = fonts.load(font_path, size)
            for k in range(lines):
                word = " ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), int(rng.integers(1, 3))))
                word = word.upper() if rng.random() < 0.3 else word.title() if rng.random() < 0.5 else word
                draw.text((w * rng.uniform(0.02, 0.3), h * (k + 0.5) / (lines + 0.3)), word, font=font, fill=ink,
                          anchor="lm")
        image = np.asarray(canvas).astype(np.float32)
    image += rng.normal(0, rng.uniform(1, 8), image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8), kind


def _as_plate(image: np.ndarray):
    """Wrap any flat picture as a rendered 'plate' so capture() treats it exactly like one."""
    from numberplate.synth.render import RenderedPlate

    h, w = image.shape[:2]
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    return RenderedPlate(np.ascontiguousarray(image), np.full((h, w), 255, np.uint8), corners, [""])


# -- the dataset -------------------------------------------------------------------------------------------
def _generate_range(job: _Job) -> int:
    import random

    from numberplate.data.nomeroff import write_record
    from numberplate.data.records import OcrRecord
    from numberplate.regions import get_spec
    from numberplate.synth.augment import capture
    from numberplate.synth.fonts import FontBook
    from numberplate.synth.render import render_plate

    fonts = FontBook(job.font_dirs)
    specs = [get_spec(c) for c in job.spec_codes]
    states = [s for s, _ in job.mix]
    probabilities = np.array([p for _, p in job.mix]) / sum(p for _, p in job.mix)
    photos_by_split: dict[str, list[str]] = {}
    for path, split in job.photos:
        photos_by_split.setdefault(split, []).append(path)
    all_photos = [p for p, _ in job.photos]
    for index in range(job.start, job.stop):
        rng = np.random.default_rng([job.seed, index])
        split = split_of(index, job.splits)
        state = states[int(rng.choice(len(states), p=probabilities))]
        extra: dict = {"synthetic": True}
        text, region, count_lines = "", UNKNOWN, 1
        if state == "garbage":
            patch, kind = None, ""
            pool = photos_by_split.get(split) or all_photos
            if pool and rng.random() < PHOTO_GARBAGE:
                path = pool[int(rng.integers(len(pool)))]
                patch, kind = _photo_patch(path, rng), "photo"
                extra["background"] = Path(path).name
            if patch is None:
                patch, kind = _procedural_patch(rng, fonts)
            extra["garbage"] = kind
            crop = capture(_as_plate(patch), rng)
            label = kind
        else:
            # Every type equally often: rare types must be learned as well as common ones.
            spec = specs[int(rng.integers(len(specs)))]
            region, count_lines, label = spec.code, spec.count_lines, spec.code
            plate_text = spec.sample_text(random.Random(int(rng.integers(1 << 62))))
            plate = render_plate(spec, "" if state == "empty" else plate_text, rng, fonts)
            if state == "readable":
                text = plate_text
                extra["visual_lines"] = plate.lines
            elif state == "filled":
                image, kind = cover_text(plate.image, plate.design, rng)  # the design drawn: where its band is
                plate = replace(plate, image=image)
                extra["cover"] = kind
            crop = capture(plate, rng)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        record = OcrRecord(name=f"{state}-{label}-{index:07d}", image_path=Path(), text=text, region=region,
                           count_lines=count_lines, state=state, moderated=True, extra=extra)
        write_record(Path(job.out_dir) / split, record, image_bytes=buf.tobytes(), image_suffix=".jpg")
    return job.stop - job.start


def generate_states(count: int, out_dir: str | Path, seed: int = 0, font_dirs: tuple[str | Path, ...] = (),
                    backgrounds: tuple[str | Path, ...] = (), jobs: int = 1, regions: tuple[str, ...] = ("all",),
                    val_fraction: float = 0.05, test_fraction: float = 0.05,
                    mix: tuple[tuple[str, float], ...] = STATE_MIX) -> dict[str, int]:
    """Write ``count`` synthetic classifier crops (every state) into ``out_dir``.

    Args:
        count: number of crops.
        out_dir: dataset folder (``train``/``val``/``test`` are created).
        seed: the dataset is a pure function of the seed (and the fonts and backgrounds found).
        font_dirs: extra font folders searched first.
        backgrounds: folders of photos without plates, cut into garbage crops (split by photo).
        jobs: worker processes.
        regions: plate types to render: country codes, type codes or ``all``.
        val_fraction, test_fraction: shares of the val and test splits (also of the background photos).
        mix: ``(state, share)`` pairs.

    Returns:
        Items written per split.
    """
    from numberplate.data.records import STATES
    from numberplate.synth.ocr_dataset import specs_for

    if count <= 0:
        raise InputError(None, f"--count must be positive, got {count}")
    unknown = [s for s, _ in mix if s not in STATES]
    if unknown or not any(p > 0 for _, p in mix):
        raise InputError(None, f"state mix {mix}: states must be among {STATES} with a positive share")
    specs = specs_for(list(regions))
    if any(code.lower() == "all" for code in regions):
        specs = [s for s in specs if s.country not in STAND_IN_COUNTRIES] or specs
    photos = find_photos(tuple(backgrounds), val_fraction, test_fraction) if backgrounds else []
    splits = split_boundaries(count, val_fraction, test_fraction)
    chunk, starts = chunk_starts(count, jobs)
    work = [_Job(str(out_dir), tuple(s.code for s in specs), start, min(count, start + chunk), seed,
                 tuple(str(d) for d in font_dirs), tuple(photos), splits, tuple(mix))
            for start in starts]
    written, seconds = run_chunks(work, _generate_range, jobs)
    done, sizes = sum(written), split_sizes(splits)
    print(f"wrote {done} classifier crops ({', '.join(f'{s} {p:g}' for s, p in mix)}) of {len(specs)} plate types "
          f"and {len(photos)} background photos to {out_dir} (train {sizes['train']}, val {sizes['val']}, "
          f"test {sizes['test']}) in {seconds:.1f}s ({done / max(seconds, 1e-9):.0f}/s)", file=sys.stderr)
    return sizes
