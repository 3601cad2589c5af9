"""Synthetic OCR datasets in the Nomeroff layout: ``{train,val,test}/{img,ann}``."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numberplate.data.nomeroff import write_record
from numberplate.data.records import OcrRecord
from numberplate.errors import InputError
from numberplate.regions import RegionSpec, all_specs, resolve
from numberplate.synth.jobs import chunk_starts, run_chunks, split_boundaries, split_of, split_sizes

# Draws per item before a crop whose text stayed legible is given up on (and the last one is kept).
LEGIBLE_ATTEMPTS = 10


def specs_for(regions: list[str]) -> list[RegionSpec]:
    """The plate types behind region arguments (country codes, type codes or ``all``)."""
    specs: list[RegionSpec] = []
    for code in regions:
        if code.lower() == "all":
            specs.extend(all_specs())
            continue
        try:
            specs.extend(resolve(code))
        except KeyError as exc:
            raise InputError(None, exc.args[0]) from None
    return list({s.code: s for s in specs}.values())


@dataclass(frozen=True)
class _Job:
    out_dir: str
    spec_codes: tuple[str, ...]
    weights: tuple[float, ...]
    start: int
    stop: int
    seed: int
    font_dirs: tuple[str, ...]
    splits: tuple[tuple[str, int], ...]  # (split, first index of the next split) boundaries
    max_lines: int


def _generate_range(job: _Job) -> int:
    import random

    import cv2

    from numberplate.regions import get_spec
    from numberplate.synth.augment import capture_measured
    from numberplate.synth.fonts import FontBook
    from numberplate.synth.render import render_plate

    fonts = FontBook(job.font_dirs)
    specs = [get_spec(c) for c in job.spec_codes]
    probabilities = np.array(job.weights) / sum(job.weights)
    for index in range(job.start, job.stop):
        # One generator per item and draw: the same seed gives the same dataset whatever --jobs is. A crop
        # no person could read (characters blurred or shrunk to a few pixels, lost in glare, cut off) would
        # teach the recognizer to guess and count against it on val: the item is drawn again.
        for attempt in range(LEGIBLE_ATTEMPTS):
            rng = np.random.default_rng([job.seed, index] + ([attempt] if attempt else []))
            spec = specs[int(rng.choice(len(specs), p=probabilities))]
            text = spec.sample_text(random.Random(int(rng.integers(1 << 62))))
            plate = render_plate(spec, text, rng, fonts)
            crop, legibility = capture_measured(plate, rng)
            if legibility is None or legibility.readable():
                break
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        record = OcrRecord(name=f"{spec.code}-{index:07d}", image_path=Path(), text=text, region=spec.code,
                           count_lines=spec.count_lines, state="readable", moderated=True,
                           extra={"visual_lines": plate.lines, "synthetic": True, **_legibility_fields(legibility)})
        write_record(Path(job.out_dir) / split_of(index, job.splits), record, image_bytes=buf.tobytes(),
                     image_suffix=".jpg")
    return job.stop - job.start


def _legibility_fields(legibility) -> dict:
    """The worst character's contrast and height, kept in the annotation for anyone filtering the set."""
    if legibility is None:
        return {}
    return {"legibility": {"contrast": round(float(legibility.contrast), 1),
                           "char_height": round(float(legibility.height), 1),
                           "inside": bool(legibility.inside)}}


def generate(regions: list[str], count: int, out_dir: str | Path, seed: int = 0,
             font_dirs: tuple[str | Path, ...] = (), jobs: int = 1, val_fraction: float = 0.05,
             test_fraction: float = 0.05, max_lines: int = 3) -> dict[str, int]:
    """Write ``count`` synthetic plate crops of ``regions`` into ``out_dir``.

    Args:
        regions: country codes (``ua``), type codes (``ua-2015``) or ``all``.
        count: number of crops.
        out_dir: dataset folder (``train``/``val``/``test`` are created).
        seed: the dataset is a pure function of the seed (and the fonts found).
        font_dirs: extra font folders searched first (e.g. ``../shared/fonts``).
        jobs: worker processes.
        val_fraction, test_fraction: shares of the val and test splits.
        max_lines: leave out plate types with more text lines.

    Returns:
        Items written per split.
    """
    if count <= 0:
        raise InputError(None, f"--count must be positive, got {count}")
    specs = [s for s in specs_for(regions) if s.count_lines <= max_lines]
    if not specs:
        raise InputError(None, f"no plate types with at most {max_lines} lines in {', '.join(regions)}")
    splits = split_boundaries(count, val_fraction, test_fraction)
    chunk, starts = chunk_starts(count, jobs)
    work = [_Job(str(out_dir), tuple(s.code for s in specs), tuple(s.weight for s in specs), start,
                 min(count, start + chunk), seed, tuple(str(d) for d in font_dirs), splits, max_lines)
            for start in starts]
    written, seconds = run_chunks(work, _generate_range, jobs)
    done, sizes = sum(written), split_sizes(splits)
    print(f"wrote {done} synthetic crops of {len(specs)} plate types to {out_dir} "
          f"(train {sizes['train']}, val {sizes['val']}, test {sizes['test']}) in {seconds:.1f}s "
          f"({done / max(seconds, 1e-9):.0f}/s)", file=sys.stderr)
    return sizes


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 1))
