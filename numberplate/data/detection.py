"""Detection datasets (photos with plates labelled by 4 corners): format detection, reading, writing, checks.

Three formats are read and written, all through :class:`~numberplate.data.records.ImageRecord`:

* ``via``: VIA 2 ``via_region_data.json`` beside the photos, optionally in ``train/val/test`` subfolders
  (:mod:`numberplate.data.via`);
* ``yolo``: YOLO-pose ``images/`` + ``labels/`` + ``data.yaml`` (:mod:`numberplate.data.yolo`);
* ``coco``: COCO keypoints JSON (:mod:`numberplate.data.coco`).

This module also holds the small helpers the three share (JSON loading with clear errors, split names,
placing images into an output dataset). The format modules import them from here; this module imports
the format modules only inside its functions, so there is no import cycle.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from numberplate.data.atomic import atomic_write_bytes
from numberplate.data.check import CheckReport, Problem
from numberplate.data.geometry import quad_area
from numberplate.data.images import IMAGE_SUFFIXES, read_image
from numberplate.data.records import ImageRecord
from numberplate.errors import InputError

FORMATS = ("via", "yolo", "coco")
SPLITS = ("train", "val", "test")
_SPLIT_ALIASES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}

# Corners may sit a little outside the photo (a plate cut by the frame is labelled where it would be).
OUTSIDE_MARGIN = 0.02
MIN_QUAD_AREA = 4.0


# ---------------------------------------------------------------------------------------------- helpers


def split_name(name: str) -> str:
    """The split a folder or file name stands for: ``"train"``, ``"val"``, ``"test"`` or ``""``.

    ``valid`` and ``validation`` count as ``val``; for a file stem such as ``instances_train2017`` the
    first word that names a split is used.
    """
    for word in re.split(r"[^a-z]+", name.lower()):
        if word in _SPLIT_ALIASES:
            return _SPLIT_ALIASES[word]
    return ""


def folder_split(name: str) -> str:
    """The split a folder named exactly ``train``, ``val``/``valid``/``validation`` or ``test`` holds, else ``""``."""
    return _SPLIT_ALIASES.get(name.lower(), "")


def split_order(split: str) -> int:
    """Sort key putting ``""``, train, val, test in that order."""
    return (("",) + SPLITS).index(split) if split in ("",) + SPLITS else len(SPLITS) + 1


def load_json(path: str | Path):
    """Parse a JSON file, with an :class:`InputError` naming the file on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def report(errors: list[InputError] | None, error: InputError) -> None:
    """Raise ``error``, or append it to ``errors`` when the caller collects problems (checks)."""
    if errors is None:
        raise error
    errors.append(error)


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of an image, opened with OpenCV (EXIF orientation applied, like the readers).

    Raises:
        InputError: the file is missing, unreadable or truncated.
    """
    height, width = read_image(path).shape[:2]
    return width, height


def place_image(src: Path, dst: Path) -> bool:
    """Put the image ``src`` at ``dst``: a hard link when possible, else an atomic copy.

    Hard links are safe here because every writer in this package replaces files (write + rename) instead
    of changing them in place, so editing one name never changes the other.

    Returns:
        False when ``src`` does not exist (nothing is placed), True otherwise.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        return False
    if dst.exists() and os.path.samefile(src, dst):
        return True
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.link")
    try:
        tmp.unlink(missing_ok=True)
        os.link(src, tmp)
        os.replace(tmp, dst)
    except OSError:
        tmp.unlink(missing_ok=True)
        atomic_write_bytes(dst, src.read_bytes())
    return True


# ----------------------------------------------------------------------------------- format detection


def _sniff_json(data) -> str | None:
    if isinstance(data, dict):
        if "_via_img_metadata" in data:
            return "via"
        if isinstance(data.get("images"), list) and ("annotations" in data or "categories" in data):
            return "coco"
        values = list(data.values())[:5]
        if values and all(isinstance(v, dict) and "filename" in v for v in values):
            return "via"
    return None


def detect_format(path: str | Path) -> str:
    """Tell which detection format a file or folder holds.

    A folder is ``via`` when it (or a train/val/test subfolder) holds ``via_region_data.json``, ``yolo``
    when it holds ``images/`` and ``labels/`` (or ``<split>/images`` and ``<split>/labels``), ``coco``
    when it (or its ``annotations/`` subfolder) holds a JSON file with ``images`` and ``annotations``.
    A JSON file is recognised by its content; a ``.yaml`` file stands for its YOLO folder.

    Returns:
        ``"via"``, ``"yolo"`` or ``"coco"``.

    Raises:
        InputError: nothing recognisable. The error names the folder, or the JSON file that could have been
            a dataset but is broken or of another kind.
    """
    from numberplate.data.via import VIA_FILE
    from numberplate.data.yolo import is_yolo_folder

    path = Path(path)
    if not path.exists():
        raise InputError(path, "not found")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return "yolo"
        if suffix != ".json":
            raise InputError(path, "not a detection dataset: expected a folder, a VIA or COCO JSON file or a "
                                   "YOLO data.yaml")
        fmt = _sniff_json(load_json(path))
        if fmt is None:
            raise InputError(path, "JSON is neither VIA region data (an object keyed by file name, or a VIA "
                                   "project with _via_img_metadata) nor COCO (with images and annotations)")
        return fmt
    entries = sorted(path.iterdir())
    if not entries:
        raise InputError(path, "folder is empty")
    if (path / VIA_FILE).is_file() or any((p / VIA_FILE).is_file() for p in entries if folder_split(p.name)):
        return "via"
    if is_yolo_folder(path):
        return "yolo"
    broken: InputError | None = None
    for folder in (path, path / "annotations"):
        if not folder.is_dir():
            continue
        for candidate in sorted(folder.glob("*.json")):
            try:
                fmt = _sniff_json(load_json(candidate))
            except InputError as exc:
                broken = broken or exc
                continue
            if fmt == "coco":
                return "coco"
    if broken is not None:
        raise broken
    raise InputError(path, "no detection dataset here: expected via_region_data.json (VIA), images/ and "
                           "labels/ folders (YOLO) or a COCO JSON file with images and annotations")


# ------------------------------------------------------------------------------------ read / write


def read_detection(path: str | Path, fmt: str | None = None,
                   errors: list[InputError] | None = None) -> list[ImageRecord]:
    """Read a detection dataset in any supported format.

    Args:
        path: dataset folder or annotation file.
        fmt: ``"via"``, ``"yolo"`` or ``"coco"``; detected with :func:`detect_format` when None.
        errors: when given, bad files and entries are appended here and skipped; otherwise the first raises.

    Returns:
        One record per photo, in file order.

    Raises:
        InputError: unknown format, or (without ``errors``) the first bad file or entry.
    """
    fmt = fmt or detect_format(path)
    if fmt == "via":
        from numberplate.data.via import read_via

        return read_via(path, errors=errors)
    if fmt == "yolo":
        from numberplate.data.yolo import read_yolo

        return read_yolo(path, errors=errors)
    if fmt == "coco":
        from numberplate.data.coco import read_coco

        return read_coco(path, errors=errors)
    raise InputError(None, f"unknown detection format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write_detection(records: Sequence[ImageRecord], path: str | Path, fmt: str,
                    classes: Sequence[str] | None = None) -> list[Path]:
    """Write records as a self-contained dataset folder in ``fmt``; images are hard-linked or copied in.

    Args:
        records: the photos and their plates.
        path: output folder (a ``.json`` path for VIA/COCO writes one annotation file instead).
        fmt: ``"via"``, ``"yolo"`` or ``"coco"``. YOLO keeps no plate text, region or attributes.
        classes: YOLO class names in id order (default: labels in order of first appearance).

    Returns:
        The annotation files written (VIA/COCO JSON files, or YOLO's ``data.yaml``).
    """
    if fmt == "via":
        from numberplate.data.via import write_via

        return write_via(records, path)
    if fmt == "yolo":
        from numberplate.data.yolo import write_yolo

        return [write_yolo(records, path, classes=classes)]
    if fmt == "coco":
        from numberplate.data.coco import write_coco

        return write_coco(records, path)
    raise InputError(None, f"unknown detection format {fmt!r}; expected one of {', '.join(FORMATS)}")


# ------------------------------------------------------------------------------------------- checks


def _fmt_point(point) -> str:
    return f"({point[0]:g}, {point[1]:g})"


def _source_problems(root: Path, fmt: str, records: list[ImageRecord], errors: list[InputError]) -> list[Problem]:
    """Empty annotation files/folders, and (VIA) photos the annotation file does not list.

    Annotation files that could not be read at all (already in ``errors``) are skipped here.
    """
    problems: list[Problem] = []
    broken = {Path(e.path).resolve() for e in errors if e.path}
    by_folder: dict[Path, set[Path]] = {}
    for record in records:
        by_folder.setdefault(record.image_path.parent.resolve(), set()).add(record.image_path.resolve())
    if fmt == "via":
        from numberplate.data.via import via_files

        for json_path, _split in via_files(root):
            listed = by_folder.get(json_path.parent.resolve(), set())
            if not listed and json_path.resolve() in broken:
                continue
            if not listed:
                problems.append(Problem(str(json_path), "lists no images"))
            for image in sorted(json_path.parent.iterdir()):
                if is_image_file(image) and image.resolve() not in listed:
                    problems.append(Problem(str(image), f"image is not listed in {json_path.name}"))
    elif fmt == "yolo":
        from numberplate.data.yolo import yolo_splits

        for images_dir, _labels_dir, _split in yolo_splits(root):
            if not any(is_image_file(p) for p in images_dir.iterdir()):
                problems.append(Problem(str(images_dir), "folder holds no images"))
    elif fmt == "coco":
        from numberplate.data.coco import coco_files

        for json_path, _split in coco_files(root):
            if json_path.resolve() in broken:
                continue
            try:
                data = load_json(json_path)
            except InputError:
                continue
            if isinstance(data, dict) and not data.get("images"):
                problems.append(Problem(str(json_path), "lists no images"))
    return problems


def check_detection_dataset(path: str | Path, open_images: bool = True, fmt: str | None = None) -> CheckReport:
    """Check a detection dataset and list every problem with the file it is in.

    Looks for: empty folders and annotation files, broken or wrong-format JSON, bad entries and label
    lines, missing photos, unreadable or truncated photos (when ``open_images``), photos listed twice,
    photos whose size differs from the annotation's, corners more than 2% of the image size outside the
    photo, and degenerate quads (area under 4 px²). VIA photos that ``via_region_data.json`` does not
    list are reported too (YOLO photos without labels are negatives, as in YOLO itself).

    Args:
        path: dataset folder or annotation file.
        open_images: decode every photo (slower; finds truncated files and gives sizes for VIA).
        fmt: the format, or None to detect it.

    Returns:
        A report; ``items`` counts the photos read.
    """
    root = Path(path)
    problems: list[Problem] = []
    if root.is_dir() and not any(root.iterdir()):
        return CheckReport(root, 0, [Problem(str(root), "folder is empty")])
    errors: list[InputError] = []
    try:
        fmt = fmt or detect_format(root)
        records = read_detection(root, fmt, errors=errors)
        problems.extend(Problem(e.path or str(root), e.problem) for e in errors)
        problems.extend(_source_problems(root, fmt, records, errors))
    except InputError as exc:
        return CheckReport(root, 0, [Problem(exc.path or str(root), exc.problem)])
    if not records and not errors:
        problems.append(Problem(str(root), "dataset has no images"))

    counts = Counter(r.image_path.resolve() for r in records)
    reported_twice: set[Path] = set()
    for record in records:
        where = str(record.image_path)
        key = record.image_path.resolve()
        if counts[key] > 1 and key not in reported_twice:
            reported_twice.add(key)
            problems.append(Problem(where, f"image is listed {counts[key]} times"))
        size: tuple[int, int] | None = None
        if record.width and record.height:
            size = (record.width, record.height)
        if open_images:
            try:
                actual = image_size(record.image_path)
            except InputError as exc:
                problems.append(Problem(exc.path or where, exc.problem))
                continue
            if size is not None and size != actual:
                problems.append(Problem(where, f"image is {actual[0]}x{actual[1]} but the annotation says "
                                               f"{size[0]}x{size[1]}"))
            size = actual
        elif not record.image_path.is_file():
            problems.append(Problem(where, "image file not found"))
        for number, plate in enumerate(record.plates, 1):
            area = quad_area(plate.corners)
            if area < MIN_QUAD_AREA:
                problems.append(Problem(where, f"plate {number} is degenerate (area {area:.1f} px², corners "
                                               + " ".join(_fmt_point(p) for p in plate.corners) + ")"))
            if size is None:
                continue
            width, height = size
            mx, my = OUTSIDE_MARGIN * width, OUTSIDE_MARGIN * height
            outside = [p for p in plate.corners if not (-mx <= p[0] <= width + mx and -my <= p[1] <= height + my)]
            if outside:
                problems.append(Problem(where, f"plate {number} has corners outside the {width}x{height} image: "
                                               + ", ".join(_fmt_point(p) for p in outside)))
    return CheckReport(root, len(records), problems)
