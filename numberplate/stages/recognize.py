"""Text recognition on plate crops: preprocessing, the CRNN through ONNX Runtime, CTC decoding.

Training and inference resize, stretch and lay out crops with the same functions (:func:`resize_crop`,
:func:`lines_side_by_side`, :func:`stretch_contrast`, :func:`to_tensor_layout`), so they never drift apart.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from numberplate.data.images import read_image
from numberplate.errors import NumberplateError
from numberplate.runtime import LoadedModel, list_shipped_models, load_model
from numberplate.stages.postprocess import DEFAULT_MAX_COST, FormatCorrector
from numberplate.stages.routing import DEFAULT_ROUTES, Route, route
from numberplate.types import TextReading

BATCH_SIZE = 64
# Large batches run as chunks in parallel, each on one thread of a single-threaded session: on 2 cores that
# read 15-25% more plates per second than one session splitting every convolution over 2 threads (the
# convolutions of a plate-sized input are too small to split well). Small inputs (a photo's plates, one
# crop) keep the multi-threaded session, which has the lower latency.
PARALLEL_MIN_CROPS = 2 * BATCH_SIZE


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)


def resize_crop(image: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    """RGB crop (H x W x 3 uint8) -> ``height x width x channels`` uint8, grey-scale when channels == 1."""
    if channels == 1:
        image = _grey(image)[:, :, None]
    elif image.ndim == 2:
        image = image[:, :, None].repeat(3, axis=2)
    shrinking = image.shape[0] > height or image.shape[1] > width
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return resized.reshape(height, width, channels)


# A strip is a line's share of the crop height plus this much more (share of the crop height), so
# a line whose cut is a little off still fits whole, and the text keeps the scale the models learnt.
LINE_OVERLAP = 0.08

# Finding the lines (see find_line_bands). Stroke edges: column-to-column steps above this share of
# the crop's EDGE_PERCENTILE-th percentile step (and above EDGE_FLOOR grey levels), over the central columns.
EDGE_SHARE, EDGE_PERCENTILE, EDGE_FLOOR, SIDE_MARGIN = 0.4, 99, 6.0, 0.2
MIN_STROKES = 0.04  # a crop whose busiest row has fewer stroke edges (share of columns) has no text to go by
MIN_LINE_ROWS = 3
LINE_PEAK = 0.12  # every line reaches this share of the busiest row
GAP_DEPTH = 0.7  # a cut between lines sits on a row at most this share of the lower of the two lines' peaks
LINE_RATIO = 2.5  # the tallest line is at most this many times the lowest (in effective rows: mass / peak)
CUT_PENALTY = 2.0  # score = share of all strokes inside the lines - CUT_PENALTY * mean(cut row / line peak)
EDGE_OF_LINE = 0.15  # a line's band: its rows at or above this share of its peak
MAX_VALLEYS = 10  # candidate cuts kept (the lowest valleys), bounding the search
COLUMN_SHARE = 0.3  # text columns: see _text_columns
# Per line count, in line heights: the widest gap inside the text (wider ends it) and the margin kept around it.
# A three-line plate's text is a narrow column with the band's flag and "UA" close beside it; a two-line plate
# may have an emblem or a wide space between groups (Austria's "KW 528").
COLUMN_GAP = {2: 1.0, 3: 0.5}
COLUMN_MARGIN = {2: 0.5, 3: 0.2}


def _strokes(grey: np.ndarray, level_rows: np.ndarray | None = None) -> np.ndarray:
    """Boolean H x (W - 1) map of sharp column-to-column steps (character strokes, either polarity); the
    threshold follows the crop's own contrast (measured over ``level_rows`` when given)."""
    dx = cv2.absdiff(grey[:, 1:], grey[:, :-1])
    sample = dx if level_rows is None else dx[level_rows]
    if sample.dtype == np.uint8:  # a histogram is much quicker than np.percentile here
        counts = cv2.calcHist([sample], [0], None, [256], [0, 256]).ravel()
        high = int(np.searchsorted(np.cumsum(counts), EDGE_PERCENTILE / 100 * sample.size))
    else:
        high = float(np.percentile(sample, EDGE_PERCENTILE))
    return dx > max(EDGE_FLOOR, EDGE_SHARE * high)


def _valleys(profile: np.ndarray) -> np.ndarray:
    """Rows of the local minima of ``profile`` (the middle row of a flat minimum)."""
    change = np.flatnonzero(np.diff(profile)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(profile)]]) - 1
    values = profile[starts]
    before = np.concatenate([[np.inf], values[:-1]])
    after = np.concatenate([values[1:], [np.inf]])
    lowest = (values < before) & (values < after)
    return (starts[lowest] + ends[lowest]) // 2


@functools.lru_cache(maxsize=32)
def _choices(count: int, size: int) -> np.ndarray:
    return np.array(list(itertools.combinations(range(count), size)), np.intp).reshape(-1, size)


def _line_bands(grey: np.ndarray, lines: int) -> list[tuple[int, int]] | None:
    """The text rows of each line (top, bottom exclusive), or None when the image gives no sound answer."""
    height, width = grey.shape
    if height < lines * MIN_LINE_ROWS or width < 8:
        return None
    side = int(width * SIDE_MARGIN)
    strokes = _strokes(grey[:, side:width - side])
    profile = np.count_nonzero(strokes, axis=1).astype(np.float32) / strokes.shape[1]
    size = 2 * max(1, round(height / 40)) + 1
    profile = cv2.GaussianBlur(profile[:, None], (1, size), 0).ravel()
    peak = float(profile.max())
    if peak < MIN_STROKES:
        return None
    profile = np.round(profile / peak, 3)  # flat stretches stay flat, so their middle row is the valley
    valleys = _valleys(profile)
    valleys = valleys[profile[valleys] <= GAP_DEPTH]
    if len(valleys) > MAX_VALLEYS:
        valleys = np.sort(valleys[np.argsort(profile[valleys], kind="stable")[:MAX_VALLEYS]])
    # Candidate cuts: the valleys and the crop's top and bottom (worth the profile's first or last row).
    cuts_at = np.concatenate([[0], valleys[valleys > 0], [height]])
    if len(cuts_at) < lines + 1:
        return None
    cut_value = profile[np.minimum(cuts_at, height - 1)]
    cumulative = np.concatenate([[0.0], np.cumsum(profile, dtype=np.float64)])
    count = len(cuts_at)
    # peak_between[a, b]: the profile's maximum between candidates a < b, from the maxima between neighbours.
    neighbours = np.maximum.reduceat(profile, cuts_at[:-1])
    later = np.arange(count - 1)[None, :] >= np.arange(count)[:, None]
    peak_between = np.zeros((count, count), np.float32)
    peak_between[:, 1:] = np.maximum.accumulate(np.where(later, neighbours[None, :], 0.0), axis=1)
    choice = _choices(count, lines + 1)  # every way to pick lines + 1 cuts, as candidate indices
    cuts = cuts_at[choice]
    peaks = peak_between[choice[:, :-1], choice[:, 1:]]
    mass = cumulative[cuts[:, 1:]] - cumulative[cuts[:, :-1]]
    rows = mass / np.maximum(peaks, 1e-6)  # a line's effective height
    values = cut_value[choice]
    sound = (peaks >= LINE_PEAK).all(axis=1) & (np.diff(cuts, axis=1) >= MIN_LINE_ROWS).all(axis=1)
    sound &= rows.max(axis=1) <= LINE_RATIO * rows.min(axis=1)
    sound &= (values[:, 1:-1] <= GAP_DEPTH * np.minimum(peaks[:, :-1], peaks[:, 1:])).all(axis=1)
    if not sound.any():
        return None
    beside = np.concatenate([peaks[:, :1], np.minimum(peaks[:, :-1], peaks[:, 1:]), peaks[:, -1:]], axis=1)
    score = mass.sum(axis=1) / cumulative[-1] - CUT_PENALTY * (values / np.maximum(beside, 1e-6)).mean(axis=1)
    best = cuts[int(np.argmax(np.where(sound, score, -np.inf)))]
    bands = []
    for top, bottom in zip(best[:-1], best[1:]):
        segment = profile[top:bottom]
        inked = np.flatnonzero(segment >= EDGE_OF_LINE * segment.max())
        bands.append((int(top + inked[0]), int(top + inked[-1] + 1)))
    return bands


def find_line_bands(image: np.ndarray, lines: int) -> list[tuple[int, int]]:
    """The rows of each text line of a multi-line plate crop: ``(top, bottom)`` per line, top line first,
    ``image[top:bottom]`` holding the line's characters.

    Lines are found from the image rather than assumed to split the crop evenly: a plate seldom fills
    its crop's height (detector margins, tilt) and its lines differ in height, so even cuts go through
    characters, most on small three-line plates. Character strokes make sharp steps from column to
    column (|d/dx|, either polarity, light or dark plates alike); the share of such steps per row over
    the central columns, smoothed, is high on text rows and low in the gaps, the plate's margins and
    plain background. The cuts are the profile's valleys (or the crop's edges) that best frame
    ``lines`` lines: each line with a clear peak, lines of similar height, cuts low next to the lines
    they divide, as much of the strokes inside as possible, as little at the cuts. Each band is then
    trimmed to its line's rows. Without a sound answer (a blank crop, no valleys between lines, a line
    too thin) the crop is split into equal strips, as before. NumPy/OpenCV only, a fraction of a
    millisecond per crop.
    """
    height = image.shape[0]
    if lines <= 1:
        return [(0, height)]
    bands = _line_bands(_grey(image), lines)
    if bands is None:
        return [(index * height // lines, (index + 1) * height // lines) for index in range(lines)]
    return bands


# Per line count: whether text columns are found on the crop with its contrast evened out locally (a window a
# line high). A shadow across a square plate leaves the characters in it with steps far weaker than the lit
# ones, below the crop-wide stroke threshold, and the first characters were cut off (UA two-line 94.0 -> 94.7%,
# all of synthetic multi val 92.7 -> 95.1%). Not on three-line plates: it raises the band's white "UA"
# to the strength of the text beside it (82.4 -> 71.8%).
EVEN_CONTRAST = {2: True, 3: False}
EVEN_CONTRAST_FLOOR = 24.0  # grey levels: flat areas are not stretched into strokes


def _even_contrast(grey: np.ndarray, size: int) -> np.ndarray:
    """``grey`` stretched so that each pixel's neighbourhood (``size`` square) spans the full range."""
    kernel = np.ones((max(3, size | 1),) * 2, np.uint8)
    low, high = cv2.erode(grey, kernel), cv2.dilate(grey, kernel)
    span = np.maximum(high.astype(np.float32) - low, EVEN_CONTRAST_FLOOR)
    return np.clip((grey.astype(np.float32) - low) * (255.0 / span), 0, 255).astype(np.uint8)


def _text_columns(grey: np.ndarray, bands: list[tuple[int, int]]) -> tuple[int, int]:
    """The columns holding the text (first, last exclusive), with a margin (``COLUMN_MARGIN``).

    Strokes are counted per column on the lines' rows, less the count on the rows between and around
    them: characters are on the line rows only, while the plate's sides, flag edges and background
    texture run through the gaps as well. A three-line plate's text is a narrow column in the middle:
    keeping the whole width would leave the strips mostly empty and the characters a few pixels wide
    once the strips are side by side.
    """
    height, width = grey.shape
    line_rows = max(bottom - top for top, bottom in bands)
    inside = np.zeros(height, bool)
    for top, bottom in bands:
        inside[top:bottom] = True
    reach = round(0.5 * line_rows)
    outside = np.zeros(height, bool)
    outside[max(0, bands[0][0] - reach):min(height, bands[-1][1] + reach)] = True
    outside &= ~inside
    lines = min(len(bands), max(COLUMN_GAP))
    evened = _even_contrast(grey, line_rows) if EVEN_CONTRAST[lines] else grey
    strokes = _strokes(evened, inside).astype(np.float32)
    weights = inside / inside.sum() - (outside / outside.sum() if outside.any() else 0.0)
    score = weights.astype(np.float32) @ strokes
    size = 2 * max(1, round(0.25 * line_rows)) + 1
    score = np.convolve(score, np.full(size, 1.0 / size), mode="same")
    if score.max() <= 0:
        return 0, width
    text = np.flatnonzero(score >= COLUMN_SHARE * score.max())
    # The text is one cluster of columns: a plate edge or a flag farther from it than COLUMN_GAP is another,
    # and would leave the characters small in a strip mostly empty.
    clusters = np.split(text, np.flatnonzero(np.diff(text) > COLUMN_GAP[lines] * line_rows) + 1)
    text = max(clusters, key=lambda columns: float(score[columns].sum()))
    margin = round(COLUMN_MARGIN[lines] * line_rows)
    first, last = max(0, int(text[0]) - margin), min(width, int(text[-1]) + 2 + margin)
    return (first, last) if last - first >= line_rows else (0, width)


def lines_side_by_side(image: np.ndarray, lines: int) -> np.ndarray:
    """A multi-line plate crop -> one-line image: the text lines cut apart and put side by side.

    The recognizer reads one line of characters; a two-line square plate (``AB`` over ``1234``)
    becomes ``AB | 1234`` read left to right, top line first. One-line crops pass through unchanged.

    The lines come from :func:`find_line_bands`. Every strip is ``1 / lines + LINE_OVERLAP`` of the crop
    high (more if a line is taller), centred on its line; rows past the middle of the gap to a
    neighbouring line repeat the gap's row, so no strip shows pieces of another line. The strips keep
    only the text's columns (:func:`_text_columns`). When no lines are found, the strips are the
    crop's equal shares, each reaching into its neighbours.
    """
    if lines <= 1:
        return image
    height = image.shape[0]
    strip = max(1, min(height, round(height * (1 / lines + LINE_OVERLAP))))
    grey = _grey(image)
    bands = _line_bands(grey, lines)
    if bands is None:
        tops = [min(max(0, round((index + 0.5) * height / lines - strip / 2)), height - strip)
                for index in range(lines)]
        return np.hstack([image[top:top + strip] for top in tops])
    strip = max(strip, max(bottom - top for top, bottom in bands) + 2)
    first, last = _text_columns(grey, bands)
    strips = []
    for index, (top, bottom) in enumerate(bands):
        above = 0 if index == 0 else (bands[index - 1][1] + top) // 2
        below = height if index == lines - 1 else (bottom + bands[index + 1][0] + 1) // 2
        start = round((top + bottom - strip) / 2)
        real_top, real_bottom = max(start, above), min(start + strip, below)
        strips.append(cv2.copyMakeBorder(image[real_top:real_bottom, first:last], real_top - start,
                                         start + strip - real_bottom, 0, 0, cv2.BORDER_REPLICATE))
    return np.hstack(strips)


def _cumulative_histograms(rows: np.ndarray) -> np.ndarray:
    """N x 256: per row of an N x M uint8 array, how many of its values are <= each grey level."""
    offsets = (np.arange(len(rows)) * 256)[:, None]
    return np.bincount((rows + offsets).ravel(), minlength=256 * len(rows)).reshape(len(rows), 256).cumsum(axis=1)


def _percentiles_u8(cumulative: np.ndarray, size: int, q: float) -> np.ndarray:
    """Per row, the q-th percentile of its ``size`` values exactly as ``np.percentile`` (linear
    interpolation) gives it, read from the row's cumulative histogram instead of sorting the row."""
    position = q / 100 * (size - 1)
    below = int(np.floor(position))
    # The k-th smallest value (0-based) is the first grey level whose cumulative count exceeds k.
    first = (cumulative > below).argmax(axis=1)
    second = (cumulative > min(below + 1, size - 1)).argmax(axis=1)
    return first + (position - below) * (second - first)


def stretch_dim_crops(batch: np.ndarray, min_span: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stretch_contrast`, and the indices of the crops it stretched (``batch`` itself when none)."""
    if min_span <= 0 or not len(batch):
        return batch, np.zeros(0, np.int64)
    flat = batch.reshape(len(batch), -1)
    cumulative = _cumulative_histograms(flat)
    low, high = (_percentiles_u8(cumulative, flat.shape[1], q) for q in (1, 99))
    span = high - low
    dim = np.flatnonzero(span < min_span)
    if not len(dim):
        return batch, dim
    # One 256-entry look-up table per dim crop: the same arithmetic per grey level instead of per pixel.
    levels = np.arange(256, dtype=np.float64)[None, :]
    tables = np.clip((levels - low[dim, None]) * (min_span / np.maximum(span[dim], 1.0))[:, None]
                     + (128 - min_span / 2), 0, 255).astype(np.uint8)
    out = flat.copy()
    out[dim] = tables.ravel()[flat[dim] + (np.arange(len(dim)) * 256)[:, None]]
    return out.reshape(batch.shape), dim


def stretch_contrast(batch: np.ndarray, min_span: int) -> np.ndarray:
    """Stretch the dim crops of an N x H x W x C uint8 batch: a crop whose grey levels (1st to 99th
    percentile) span fewer than ``min_span`` levels is stretched to span that many, centred on mid-grey;
    the others are returned as they are. Night shots and hazy small plates then look like the well-lit
    crops most training samples are. ``min_span`` 0 = off (a model card's ``input.min_contrast``)."""
    return stretch_dim_crops(batch, min_span)[0]


def to_tensor_layout(batch: np.ndarray) -> np.ndarray:
    """N x H x W x C uint8 -> N x C x H x W float32 in [0, 1] (the model's input)."""
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def model_batch(crops: Sequence[np.ndarray], line_counts: Sequence[int], height: int, width: int, channels: int,
                min_contrast: int = 0) -> np.ndarray:
    """RGB crops and their text line counts -> the N x C x H x W float32 batch an OCR model reads: the lines of
    each crop side by side, resized, dim crops stretched (what the recognizer and int8 calibration feed)."""
    batch = np.stack([resize_crop(lines_side_by_side(crop, lines), height, width, channels)
                      for crop, lines in zip(crops, line_counts)])
    return to_tensor_layout(stretch_contrast(batch, min_contrast))


def mask_classes(probs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Keep only the allowed classes (blank always allowed) and renormalise: a region's characters."""
    probs = probs * allowed[None, None, :]
    return probs / np.maximum(probs.sum(axis=2, keepdims=True), 1e-12)


def ctc_greedy_decode(probs: np.ndarray, alphabet: str,
                      allowed: np.ndarray | None = None) -> list[tuple[str, tuple[float, ...]]]:
    """Best-path CTC decoding with per-character confidence.

    Args:
        probs: N x T x (1 + len(alphabet)) softmax outputs; class 0 is the blank.
        alphabet: characters of classes 1..
        allowed: optional boolean mask over classes (blank always allowed): the region's characters.
            Probabilities are renormalised over the allowed classes before decoding.

    Returns:
        For each item, the text and one confidence per character (the highest probability the
        character reached over the time steps it spans).
    """
    if allowed is not None:
        probs = mask_classes(probs, allowed)
    best = probs.argmax(axis=2)  # N x T
    best_p = probs.max(axis=2)
    results = []
    for labels, scores in zip(best, best_p):
        chars, confs, previous = [], [], 0
        for label, score in zip(labels, scores):
            if label != 0 and label == previous:
                confs[-1] = max(confs[-1], float(score))
            elif label != 0:
                chars.append(alphabet[label - 1])
                confs.append(float(score))
            previous = label
        results.append(("".join(chars), tuple(confs)))
    return results


@functools.cache
def _shipped_ocr_names() -> frozenset[str]:
    """Names of the OCR models in the package (read once: listing parses every card from disk, and routing
    asks for every plate read; the package's weights do not change while it runs)."""
    return frozenset(card["name"] for card in list_shipped_models("ocr"))


def default_ocr_model(region: str | None, lines: int = 1, routes: Sequence[Route] = DEFAULT_ROUTES) -> str:
    """Shipped model for plates of a region with ``lines`` text lines: the routing table's choice when
    that model is shipped, else the universal one."""
    names = _shipped_ocr_names()
    country = None
    if region:
        from numberplate.regions import resolve

        country = resolve(region)[0].country
    chosen = route(country, lines, routes)
    if chosen in names or Path(chosen).suffix == ".onnx":
        return chosen
    if "ocr-universal" not in names:
        raise NumberplateError("no shipped OCR model found in the package (numberplate/weights is empty); "
                               "reinstall the package or pass --model PATH.onnx")
    return "ocr-universal"


@dataclass
class _OcrModel:
    """One loaded recognizer and what decoding needs to know about it."""

    loaded: LoadedModel
    alphabet: str
    height: int
    width: int
    channels: int
    min_contrast: int  # see stretch_contrast; 0 for models trained without it
    allowed: np.ndarray | None  # the region's characters among the model's classes
    corrector: FormatCorrector | None


class Recognizer:
    """Reads the text of plate crops.

    Args:
        region: region code (``ua``, ``de``, ``us``...) to pick the region's models, restrict the
            output to the region's alphabet and fit its plate formats; None reads unrestricted.
        model: a shipped model name or an ``.onnx`` path for every crop, overriding the routing table.
        threads: CPU threads (None = all cores): ONNX Runtime's intra-op threads for a few crops; for
            batches of PARALLEL_MIN_CROPS or more, that many chunks read at once, one thread each.
        correct_format: with a region, fit each reading to the region's plate formats using the
            per-character probabilities (see :mod:`numberplate.stages.postprocess`).
        max_format_cost: how much less probable (nats) a format-fitting reading may be than the free one.
        routes: which model reads plates of a region with 1, 2 or 3 lines (see ``stages/routing.py``).
        loaded_models: models already loaded, by name, shared with other recognizers (a reader keeps one
            recognizer per country, and most countries share one OCR model: one ONNX session, not 30).

    Example:
        >>> Recognizer(region="ua")("crop.jpg").text  # doctest: +SKIP
        'AA1234BB'
    """

    def __init__(self, region: str | None = None, model: str | Path | None = None, threads: int | None = None,
                 correct_format: bool = True, max_format_cost: float = DEFAULT_MAX_COST,
                 routes: Sequence[Route] = DEFAULT_ROUTES, loaded_models: dict[str, LoadedModel] | None = None):
        self.region = region.lower() if region else None
        self.specs = []
        if self.region:
            from numberplate.regions import resolve

            try:
                self.specs = resolve(self.region)
            except KeyError as exc:
                raise NumberplateError(str(exc.args[0])) from None
        self.fixed_model = model
        self.threads = threads
        self.correct_format = correct_format
        self.max_format_cost = max_format_cost
        self.routes = tuple(routes)
        self._models: dict[str, _OcrModel] = {}
        self._loaded = {} if loaded_models is None else loaded_models
        primary = self._model_for(1)  # load now: a missing or corrupt model fails here, not mid-run
        self.model: LoadedModel = primary.loaded
        self.alphabet, self.height, self.width, self.channels = (primary.alphabet, primary.height, primary.width,
                                                                 primary.channels)

    def model_name(self, lines: int) -> str:
        return str(self.fixed_model) if self.fixed_model else default_ocr_model(self.region, lines, self.routes)

    def _model_for(self, lines: int) -> _OcrModel:
        name = self.model_name(lines)
        if name not in self._models:
            if name not in self._loaded:
                self._loaded[name] = load_model(name, task="ocr", threads=self.threads)
            loaded = self._loaded[name]
            card = loaded.card
            alphabet = card["alphabet"]
            allowed = corrector = None
            if self.specs:
                region_chars = set().union(*(spec.alphabet for spec in self.specs))
                allowed = np.array([True] + [c in region_chars for c in alphabet])
                if self.correct_format:
                    corrector = FormatCorrector(self.specs, alphabet, self.max_format_cost)
            shape = card["input"]
            self._models[name] = _OcrModel(loaded, alphabet, shape["height"], shape["width"], shape["channels"],
                                           int(shape.get("min_contrast", 0)), allowed, corrector)
        return self._models[name]

    def read_batch(self, images: Sequence[np.ndarray | str | Path], lines: int | Sequence[int] = 1,
                   types: Sequence[str | None] | None = None) -> list[TextReading]:
        """Read many crops (RGB arrays or file paths); batched through the model(s).

        Args:
            images: the crops.
            lines: text lines per crop (one number for all, or one per crop): multi-line plates are
                cut into lines read top to bottom, then put in the canonical order of their format.
            types: the plate type each crop was classified as (``"ru"``), or None: a reading that fits one
                type's format as read and the classified type's only through a look-alike (Russian `0296BB97`,
                military as read, `O296BB97` civil) is taken as the classified type's.
        """
        arrays = [read_image(i) if isinstance(i, str | Path) else i for i in images]
        line_counts = [lines] * len(arrays) if isinstance(lines, int) else list(lines)
        if len(line_counts) != len(arrays):
            raise ValueError(f"{len(arrays)} crops but {len(line_counts)} line counts")
        type_hints = list(types) if types is not None else [None] * len(arrays)
        if len(type_hints) != len(arrays):
            raise ValueError(f"{len(arrays)} crops but {len(type_hints)} plate types")
        groups: dict[str, list[int]] = {}
        for index, count in enumerate(line_counts):
            groups.setdefault(self.model_name(count), []).append(index)
        readings: list[TextReading | None] = [None] * len(arrays)
        workers = self.threads or os.cpu_count() or 1
        for indices in groups.values():
            ocr = self._model_for(line_counts[indices[0]])
            chunks = [indices[start:start + BATCH_SIZE] for start in range(0, len(indices), BATCH_SIZE)]
            if workers > 1 and len(indices) >= PARALLEL_MIN_CROPS:
                session = self._single_threaded(ocr)
                with ThreadPoolExecutor(workers, thread_name_prefix="numberplate-ocr") as pool:
                    read = functools.partial(self._read_chunk, ocr, session, arrays=arrays, line_counts=line_counts,
                                             type_hints=type_hints)
                    done = list(pool.map(read, chunks))
            else:
                done = [self._read_chunk(ocr, ocr.loaded, chunk, arrays, line_counts, type_hints) for chunk in chunks]
            for chunk, chunk_readings in zip(chunks, done):
                for i, reading in zip(chunk, chunk_readings):
                    readings[i] = reading
        return readings

    def _single_threaded(self, ocr: _OcrModel) -> LoadedModel:
        """A one-thread session of ``ocr``'s model (for parallel chunks), loaded once and shared like the rest."""
        key = f"{ocr.loaded.path}#single-threaded"
        if key not in self._loaded:
            self._loaded[key] = load_model(ocr.loaded.path, task="ocr", threads=1)
        return self._loaded[key]

    def _read_chunk(self, ocr: _OcrModel, session: LoadedModel, chunk: list[int], arrays: list[np.ndarray],
                    line_counts: list[int], type_hints: list[str | None]) -> list[TextReading]:
        probs = session.run(model_batch([arrays[i] for i in chunk], [line_counts[i] for i in chunk],
                                        ocr.height, ocr.width, ocr.channels, ocr.min_contrast))
        if ocr.allowed is not None:
            probs = mask_classes(probs, ocr.allowed)
        return [self._finish(ocr, item_probs, text, confs, line_counts[i], type_hints[i])
                for i, item_probs, (text, confs) in zip(chunk, probs, ctc_greedy_decode(probs, ocr.alphabet))]

    def _finish(self, ocr: _OcrModel, probs: np.ndarray, text: str, confs: tuple[float, ...],
                lines: int, type_hint: str | None = None) -> TextReading:
        """The reading of one crop, fitted to the region's formats when there is a region."""
        format_valid = plate_type = raw_text = None
        if ocr.corrector is not None:
            fit, accepted = ocr.corrector.correct(probs, lines, (text, confs), prefer_type=type_hint)
            format_valid = accepted
            if accepted:
                plate_type = fit.spec.code
                order = fit.spec.canonical_order(len(fit.text))
                canonical = "".join(fit.text[i] for i in order)
                if canonical != text:
                    raw_text, text = text, canonical
                    confs = tuple(fit.char_confidences[i] for i in order)
        confidence = float(np.prod(confs)) if confs else 0.0
        return TextReading(text, confidence, confs, self.region, ocr.loaded.name, format_valid, plate_type, raw_text)

    def __call__(self, image: np.ndarray | str | Path, lines: int = 1) -> TextReading:
        return self.read_batch([image], lines)[0]


@functools.cache
def known_countries() -> frozenset[str]:
    """Countries with a plate spec (formats and alphabet to fit readings to)."""
    from numberplate.regions import all_specs

    return frozenset(s.country for s in all_specs())


def country_recognizer(country: str | None, routes: Sequence[Route] = DEFAULT_ROUTES, **options) -> Recognizer:
    """The recognizer for plates of ``country`` (None = unknown), as the reader and ``eval ocr --region labelled``
    read them.

    A country with a spec is read by its route's model and fitted to its formats. A country without one (a class
    a classifier learnt from data only: ``hr``, ``si``...) has no formats or alphabet to fit; it is read
    unrestricted by the model its route gives, as any country of its script (``ocr-latin`` for a one-line plate:
    on the real US crops it reads 90.7% unrestricted, the universal model 88.0%), not by the unknown plates' model.

    Args:
        options: passed to :class:`Recognizer` (``model``, ``threads``, ``loaded_models``...).
    """
    if country is None or country in known_countries():
        return Recognizer(region=country, routes=routes, **options)
    as_unknown = tuple(Route("unknown", row.lines, row.model) for row in routes if row.country in (country, "*"))
    return Recognizer(region=None, routes=as_unknown + tuple(routes), **options)
