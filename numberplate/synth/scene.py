"""Synthetic detection scenes: rendered plates placed into real photos with exact corner labels.

A plate is posed in 3D (yaw, pitch, roll in front of a pinhole camera), projected, warped into the
photo, and matched to it: brightness and colour of the surroundings, the photo's blur, then noise and
JPEG for the whole frame. Plates already boxed in a photo can be replaced by rendered ones (they then
sit where real plates sit, at real sizes), and negatives (photos without plates) receive new ones.
This is how the detector learns true corners without hand-labelled corners.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from numberplate.data.records import PlateAnnotation
from numberplate.regions import RegionSpec
from numberplate.stages.detect import box_iou
from numberplate.synth.fonts import FontBook
from numberplate.synth.render import render_plate


@dataclass
class SceneConfig:
    """How plates are placed.

    Attributes:
        max_side: photos are first scaled down so their longer side is at most this.
        new_plates: (min, max) plates added at random places to each photo.
        replace_probability: chance that each plate already labelled in a photo is replaced by a
            rendered one (otherwise it stays, labelled by its box).
        min_width: narrowest placed plate in pixels.
        max_width_fraction: widest placed plate, as a fraction of the photo width.
        max_yaw, max_pitch, max_roll: pose ranges in degrees.
        crop_share: when real plate crops are given, the share of placed plates that are real crops
            instead of rendered ones.
    """

    max_side: int = 1280
    new_plates: tuple[int, int] = (0, 3)
    replace_probability: float = 0.6
    min_width: float = 24.0
    max_width_fraction: float = 0.55
    max_yaw: float = 50.0
    max_pitch: float = 25.0
    max_roll: float = 12.0
    crop_share: float = 0.5


@dataclass(frozen=True)
class PlateCrop:
    """A real plate photographed tight to its edges (an OCR crop), placed into scenes as it is."""

    image: np.ndarray  # RGB uint8
    text: str
    region: str


def _aspect(plate: RegionSpec | PlateCrop) -> float:
    """Width over height of a plate type (its size in mm) or of a real crop (its pixels)."""
    if isinstance(plate, PlateCrop):
        return plate.image.shape[1] / plate.image.shape[0]
    return plate.style.size_mm[0] / plate.style.size_mm[1]


def _close_in_shape(aspects: np.ndarray, aspect: float, tolerance: float) -> np.ndarray:
    """Which of ``aspects`` are within ``tolerance`` of ``aspect`` on a log scale."""
    return np.abs(np.log(aspects / max(aspect, 0.5))) < tolerance


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    r_pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return r_roll @ r_pitch @ r_yaw


def posed_corners(width_px: float, aspect: float, center: tuple[float, float], focal: float,
                  yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Project a plate of ``width_px`` (as seen face-on at its centre) turned in 3D; 4 x 2, clockwise."""
    half_w, half_h = 0.5, 0.5 / aspect
    plate = np.array([[-half_w, -half_h, 0], [half_w, -half_h, 0], [half_w, half_h, 0], [-half_w, half_h, 0]])
    turned = plate @ _rotation(*np.deg2rad([yaw_deg, pitch_deg, roll_deg])).T
    depth = focal / width_px  # the plate is 1 unit wide: at this depth it spans width_px pixels
    z = turned[:, 2] + depth
    xy = focal * turned[:, :2] / z[:, None]
    return (xy + np.asarray(center)).astype(np.float32)


def _paste(photo: np.ndarray, plate_image: np.ndarray, plate_mask: np.ndarray, src: np.ndarray, dst: np.ndarray,
           rng: np.random.Generator) -> None:
    """Warp the plate onto ``photo`` (float32, in place) inside the bounding box of ``dst``."""
    h, w = photo.shape[:2]
    x0, y0 = np.floor(dst.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(dst.max(axis=0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    matrix = cv2.getPerspectiveTransform(src.astype(np.float32), (dst - [x0, y0]).astype(np.float32))
    size = (x1 - x0, y1 - y0)
    # Render at most ~2x the target size before warping: INTER_AREA-like smoothness for small plates.
    warped = cv2.warpPerspective(plate_image, matrix, size, flags=cv2.INTER_LINEAR).astype(np.float32)
    alpha = cv2.warpPerspective(plate_mask, matrix, size, flags=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    region = photo[y0:y1, x0:x1]
    inside = alpha > 0.5
    if not inside.any():
        return
    # Light: pull the plate towards the brightness and colour cast of its surroundings.
    surround = region[~inside] if (~inside).any() else region.reshape(-1, 3)
    scene_mean = surround.mean(axis=0)
    plate_mean = warped[inside].mean(axis=0)
    gain = np.clip((scene_mean.mean() + 60.0) / (plate_mean.mean() + 60.0), 0.35, 1.3) ** rng.uniform(0.4, 0.9)
    cast = np.clip(scene_mean / max(scene_mean.mean(), 1.0), 0.8, 1.2) ** 0.5
    warped = warped * gain * cast
    if rng.random() < 0.5:  # a shadow or light gradient across the plate
        ramp = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.9, 1.15), warped.shape[1], dtype=np.float32)
        warped = warped * (ramp[None, :, None] if rng.random() < 0.5 else ramp[::-1][None, :, None])
    # Optics: plates are rarely sharper than the photo around them.
    sigma = rng.uniform(0.0, 1.2) * max(1.0, (x1 - x0) / 300.0)
    if sigma > 0.3:
        warped = cv2.GaussianBlur(warped, (0, 0), sigma)
        alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.3, sigma * 0.5))
    alpha = alpha[:, :, None]
    photo[y0:y1, x0:x1] = region * (1 - alpha) + warped * alpha


def _finish(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Whole-frame sensor and encoder effects."""
    if rng.random() < 0.5:
        photo = (photo - 128.0) * rng.uniform(0.8, 1.15) + 128.0 + rng.uniform(-20, 20)
    if rng.random() < 0.6:
        photo = photo + rng.normal(0, rng.uniform(1, 6), photo.shape).astype(np.float32)
    out = np.clip(photo, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(45, 96))])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else out


def make_scene(photo: np.ndarray, existing: list[PlateAnnotation], specs: list[RegionSpec],
               weights: np.ndarray, fonts: FontBook, rng: np.random.Generator,
               config: SceneConfig | None = None,
               crops: list[PlateCrop] | None = None) -> tuple[np.ndarray, list[PlateAnnotation]]:
    """Place rendered plates into ``photo`` (RGB uint8).

    Args:
        photo: the background photo.
        existing: objects already labelled in it (replaced or kept, see :class:`SceneConfig`).
        specs, weights: plate types to draw from and their probabilities.
        fonts: font lookup for the renderer.
        rng: randomness; a scene is a pure function of the generator's state.
        crops: real plate crops; ``config.crop_share`` of the placed plates are drawn from them. Their
            corners are the crop's, only as exact as the crop is tight, so they are labelled box-only
            (``has_corners`` False): they teach what real plates look like, the rendered ones the corners.

    Returns:
        The new photo (RGB uint8, possibly scaled down) and every object in it, with exact corners for
        the rendered plates.
    """
    config = config or SceneConfig()
    scale = min(1.0, config.max_side / max(photo.shape[:2]))
    if scale < 1.0:
        photo = cv2.resize(photo, (int(photo.shape[1] * scale), int(photo.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
    h, w = photo.shape[:2]
    canvas = photo.astype(np.float32)
    labels: list[PlateAnnotation] = []
    # Target corners of the plates to place, and what goes there: a type to render or a real crop.
    jobs: list[tuple[np.ndarray, RegionSpec | PlateCrop]] = []
    aspects = np.array([_aspect(s) for s in specs])
    crops = crops or []
    crop_aspects = np.array([_aspect(c) for c in crops])

    def pick(aspect: float | None) -> RegionSpec | PlateCrop:
        if crops and rng.random() < config.crop_share:
            close = np.ones(len(crops), bool) if aspect is None else _close_in_shape(crop_aspects, aspect, 0.3)
            if close.any():
                return crops[int(rng.choice(np.flatnonzero(close)))]
        p = np.asarray(weights, np.float64)
        if aspect is not None:
            # A boxed real plate fixes the outline: draw a type of about that shape (no squeezed squares).
            close = _close_in_shape(aspects, aspect, 0.45)
            if close.any():
                p = np.where(close, p, 0.0)
        return specs[int(rng.choice(len(specs), p=p / p.sum()))]

    for plate in existing:
        corners = np.asarray(plate.corners, np.float32) * scale
        if rng.random() < config.replace_probability:
            side = np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[3] - corners[0])
            jobs.append((corners, pick(side[0] / max(side[1], 1.0))))
        else:
            labels.append(PlateAnnotation(tuple(map(tuple, corners.tolist())), plate.label, plate.text,
                                          plate.region, plate.has_corners, dict(plate.attributes)))
    boxes = [(*c.min(axis=0), *c.max(axis=0)) for c, _ in jobs] + [p.box for p in labels]
    wanted = int(rng.integers(config.new_plates[0], config.new_plates[1] + 1))
    focal = w * rng.uniform(0.6, 1.6)
    added = 0
    for _ in range(wanted * 6):  # a few tries per plate to find a free spot
        if added >= wanted:
            break
        spec = pick(None)
        max_width = max(config.min_width + 1, w * config.max_width_fraction)
        width = float(np.exp(rng.uniform(np.log(config.min_width), np.log(max_width))))
        center = (rng.uniform(0.05, 0.95) * w, rng.uniform(0.1, 0.95) * h)
        corners = posed_corners(width, _aspect(spec), center, focal,
                                rng.uniform(-1, 1) * config.max_yaw, rng.uniform(-1, 1) * config.max_pitch,
                                rng.normal(0, config.max_roll / 2))
        box = (*corners.min(axis=0), *corners.max(axis=0))
        if box[0] < 0 or box[1] < 0 or box[2] > w - 1 or box[3] > h - 1:
            continue
        if boxes and box_iou(box, boxes).max() > 0.0:
            continue
        boxes.append(box)
        jobs.append((corners, spec))
        added += 1

    for dst, spec in jobs:
        if isinstance(spec, PlateCrop):
            ch, cw = spec.image.shape[:2]
            src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
            _paste(canvas, spec.image, np.full((ch, cw), 255, np.uint8), src, dst, rng)
            (x1, y1), (x2, y2) = dst.min(axis=0).round(1), dst.max(axis=0).round(1)
            box = ((x1, y1), (x2, y1), (x2, y2), (x1, y2))  # labelled by its box: a rectangle in VIA
            labels.append(PlateAnnotation(tuple((float(x), float(y)) for x, y in box), "numberplate", spec.text,
                                          spec.region, False, {"synthetic": True, "real_crop": True}))
            continue
        text = spec.sample_text(random.Random(int(rng.integers(1 << 62))))
        target_w = float(np.linalg.norm(dst[1] - dst[0]))
        px_per_mm = float(np.clip(2.0 * target_w / spec.style.size_mm[0], 0.25, 1.0))
        rendered = render_plate(spec, text, rng, fonts, px_per_mm=px_per_mm)
        _paste(canvas, rendered.image, rendered.mask, rendered.corners, dst, rng)
        labels.append(PlateAnnotation(tuple(map(tuple, dst.round(1).tolist())), "numberplate", text, spec.code, True,
                                      {"synthetic": True}))
    return _finish(canvas, rng), labels


# -- datasets of scenes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _SceneJob:
    out_dir: str
    # Per scene: its index, the background photo, the objects labelled in it, and the split it goes to.
    scenes: tuple[tuple[int, str, tuple[PlateAnnotation, ...], str], ...]
    spec_codes: tuple[str, ...]
    weights: tuple[float, ...]
    seed: int
    font_dirs: tuple[str, ...]
    crops: tuple[tuple[str, str, str], ...] = ()  # real plate crops: (image path, text, region)


def _background_split(name: str, val_fraction: float, test_fraction: float) -> str:
    """Split by background photo (a stable hash of its name), so val scenes show unseen streets."""
    import zlib

    u = (zlib.crc32(name.encode()) % 10_000) / 10_000
    return "val" if u < val_fraction else "test" if u < val_fraction + test_fraction else "train"


def _generate_scenes(job: _SceneJob) -> list[tuple[str, str, list[PlateAnnotation], int, int]]:
    from numberplate.data.images import read_image
    from numberplate.regions import get_spec

    fonts = FontBook(job.font_dirs)
    specs = [get_spec(c) for c in job.spec_codes]
    weights = np.array(job.weights) / sum(job.weights)
    crops = [PlateCrop(read_image(path), text, region) for path, text, region in job.crops]
    out = []
    for index, photo_path, plates, split in job.scenes:
        rng = np.random.default_rng([job.seed, index])
        image, labels = make_scene(read_image(photo_path), list(plates), specs, weights, fonts, rng, crops=crops)
        file_name = f"scene-{index:06d}.jpg"
        target = Path(job.out_dir) / split / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        target.write_bytes(buf.tobytes())
        out.append((split, str(target), labels, image.shape[1], image.shape[0]))
    return out


def generate_scenes(backgrounds: list[str | Path], count: int, out_dir: str | Path, regions: list[str],
                    seed: int = 0, font_dirs: tuple[str | Path, ...] = (), jobs: int = 1,
                    val_fraction: float = 0.1, test_fraction: float = 0.0,
                    plate_crops: list[str | Path] = ()) -> dict[str, int]:
    """Write ``count`` synthetic scenes as a VIA dataset ``out_dir/{train,val,test}``.

    Args:
        backgrounds: VIA photo sets (labelled plates in them are replaced or kept; photos without
            plates receive new ones). Never pass evaluation sets here.
        count: scenes to write (backgrounds are drawn with replacement).
        out_dir: output folder.
        regions: plate types to render (country codes, type codes or ``all``).
        seed: the dataset is a pure function of the seed, the backgrounds and the fonts found.
        font_dirs: extra font folders.
        jobs: worker processes.
        val_fraction, test_fraction: shares of background photos held out for val and test.
        plate_crops: Nomeroff-layout crop sets of real plates photographed tight to their edges; the
            readable crops of their ``train`` split are placed as they are, beside rendered plates (see
            :func:`make_scene`). Never pass evaluation sets here.

    Returns:
        Scenes written per split.
    """
    import sys
    import time

    from numberplate.data.detection import read_detection, write_detection
    from numberplate.data.nomeroff import load_split
    from numberplate.data.records import ImageRecord
    from numberplate.errors import InputError
    from numberplate.synth.jobs import chunk_starts, run_chunks
    from numberplate.synth.ocr_dataset import specs_for

    if count <= 0:
        raise InputError(None, f"--count must be positive, got {count}")
    pool: list[ImageRecord] = []
    for folder in backgrounds:
        records = read_detection(folder)
        if not records:
            raise InputError(str(folder), "no photos to use as backgrounds")
        pool.extend(records)
    specs = specs_for(regions)
    crops: list[tuple[str, str, str]] = []
    for folder in plate_crops:
        chosen = [r for r in load_split(folder, "train") if r.state == "readable" and r.count_lines == 1]
        if not chosen:
            raise InputError(str(folder), "no readable one-line plate crops in its train split")
        crops.extend((str(r.image_path), r.text, r.region) for r in chosen)
    rng = np.random.default_rng(seed)
    scenes = []
    for index, pick in enumerate(rng.integers(0, len(pool), count)):
        background = pool[int(pick)]
        split = _background_split(background.image_path.name, val_fraction, test_fraction)
        scenes.append((index, str(background.image_path), tuple(background.plates), split))
    chunk, starts = chunk_starts(count, jobs)
    work = [_SceneJob(str(out_dir), tuple(scenes[start:start + chunk]), tuple(s.code for s in specs),
                      tuple(s.weight for s in specs), seed, tuple(str(d) for d in font_dirs), tuple(crops))
            for start in starts]
    started = time.perf_counter()
    results, _ = run_chunks(work, _generate_scenes, jobs)
    by_split: dict[str, list[ImageRecord]] = {}
    for split, path, labels, width, height in (item for chunk_items in results for item in chunk_items):
        by_split.setdefault(split, []).append(ImageRecord(Path(path), labels, width, height, split))
    write_detection([r for records in by_split.values() for r in records], out_dir, "via")
    seconds = time.perf_counter() - started
    counts = {s: len(r) for s, r in by_split.items()}
    print(f"wrote {count} synthetic scenes to {out_dir} ({counts}) in {seconds:.1f}s", file=sys.stderr)
    return counts
