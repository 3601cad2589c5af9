"""Read and write VIA 2 (VGG Image Annotator) plate annotations: ``via_region_data.json`` beside the photos.

The region-data export is a JSON object keyed by file name + file size::

    {"car.jpg40804": {"filename": "car.jpg", "size": 40804, "file_attributes": {},
                      "regions": [{"shape_attributes": {"name": "polygon", "all_points_x": [151.9, 213.5, 210, 146.9],
                                                        "all_points_y": [272.8, 272.8, 305.8, 305.5]},
                                   "region_attributes": {"class": "numberplate", "np": "AB1234CE", "country": "ua"}}]}}

``regions`` may also be an object ``{"0": {...}, "1": {...}}`` (VIA 1), and a VIA 2 project file holds the
same object under ``_via_img_metadata``. A dataset folder holds ``via_region_data.json``, or
``train/``, ``val/``, ``test/`` subfolders with one each.

Shapes: a 4-point ``polygon``/``polyline`` gives the plate corners (put in order; a polygon that is an
axis-aligned rectangle is a box label, ``has_corners`` False); more points are reduced to 4 corners; a
``rect`` is a box label. Region attributes ``np`` (text), ``class`` (label), ``country``/``region`` are
modelled, every other one is kept in :attr:`PlateAnnotation.attributes`; ``file_attributes`` are kept in
:attr:`ImageRecord.extra`. Writing gives 4-point polygons, so a polygon of more points comes back as its 4
corners, and a true-corner quad that is exactly axis-aligned comes back as a box label.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from numberplate.data.atomic import atomic_write_json
from numberplate.data.detection import folder_split, load_json, place_image, report, split_order
from numberplate.data.geometry import box_corners, is_axis_aligned_box, quad_from_polygon
from numberplate.data.records import ImageRecord, PlateAnnotation
from numberplate.errors import InputError

VIA_FILE = "via_region_data.json"
_MODELLED = ("class", "np", "country", "region")


def via_files(path: str | Path) -> list[tuple[Path, str]]:
    """The VIA files of a dataset with their split: ``(json_path, split)``.

    ``path`` may be a JSON file (its split is its folder's name when that names a split), or a folder with
    ``via_region_data.json`` and/or ``train``/``val``/``test`` subfolders holding one each.

    Raises:
        InputError: the path does not exist or holds no VIA file.
    """
    path = Path(path)
    if path.is_file():
        return [(path, folder_split(path.parent.name))]
    if not path.is_dir():
        raise InputError(path, "not found")
    found = [(path / VIA_FILE, "")] if (path / VIA_FILE).is_file() else []
    for sub in sorted(p for p in path.iterdir() if p.is_dir()):
        split = folder_split(sub.name)
        if split and (sub / VIA_FILE).is_file():
            found.append((sub / VIA_FILE, split))
    if not found:
        raise InputError(path, f"no {VIA_FILE} here or in train/val/test subfolders")
    return sorted(found, key=lambda item: split_order(item[1]))


def _entries(data, json_path: Path) -> dict:
    if isinstance(data, dict) and "_via_img_metadata" in data:
        data = data["_via_img_metadata"]
    elif isinstance(data, dict) and {"project", "file", "metadata"} <= data.keys():
        raise InputError(json_path, "VIA 3 project files are not supported; export the annotations from VIA 2 "
                                    "(Annotation > Export Annotations (as json))")
    if isinstance(data, dict) and isinstance(data.get("images"), list) and "annotations" in data:
        raise InputError(json_path, "this is a COCO file, not VIA region data (read it with --from coco)")
    if not isinstance(data, dict):
        raise InputError(json_path, "not VIA region data: expected a JSON object keyed by file name + size, "
                                    f"got {type(data).__name__}")
    return data


def _numbers(value, name: str) -> list[float]:
    if not isinstance(value, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{name} must be a list of numbers")
    return [float(v) for v in value]


def _number(shape: dict, name: str) -> float:
    value = shape.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"rect needs a number {name!r}, got {value!r}")
    return float(value)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


#: Region attribute marking an axis-aligned polygon as true plate corners (not a box).
EXACT_CORNERS = "exact_corners"


def parse_region(region) -> PlateAnnotation:
    """One VIA region (``shape_attributes`` + ``region_attributes``) as a :class:`PlateAnnotation`.

    Raises:
        ValueError: unsupported shape or malformed values (the caller names the file and the entry).
    """
    if not isinstance(region, dict):
        raise ValueError(f"region must be an object, got {type(region).__name__}")
    shape = region.get("shape_attributes")
    if not isinstance(shape, dict):
        raise ValueError("region has no shape_attributes object")
    name = shape.get("name")
    if name in ("polygon", "polyline"):
        xs = _numbers(shape.get("all_points_x"), "all_points_x")
        ys = _numbers(shape.get("all_points_y"), "all_points_y")
        if len(xs) == len(ys) and len(xs) > 4 and (xs[0], ys[0]) == (xs[-1], ys[-1]):
            xs, ys = xs[:-1], ys[:-1]  # a closed outline repeats its first point
        corners = quad_from_polygon(xs, ys)
        has_corners = len(xs) >= 4 and not is_axis_aligned_box(corners)
    elif name == "rect":
        x, y, width, height = (_number(shape, k) for k in ("x", "y", "width", "height"))
        if width < 0 or height < 0:
            raise ValueError(f"rect has a negative size {width:g}x{height:g}")
        corners, has_corners = box_corners(x, y, x + width, y + height), False
    else:
        raise ValueError(f"shape {name!r} is not supported (expected polygon, polyline or rect)")
    attrs = region.get("region_attributes") or {}
    if not isinstance(attrs, dict):
        raise ValueError("region_attributes must be an object")
    region_key = "country" if _text(attrs.get("country")) or "region" not in attrs else "region"
    kept = {k: v for k, v in attrs.items() if k not in ("class", "np", region_key)}
    if region_key == "region":
        kept.pop("country", None)  # an empty "country" next to a filled "region"
    # An axis-aligned quad is taken for a box unless the writer said its corners are exact.
    if name != "rect" and str(kept.pop(EXACT_CORNERS, "")).lower() in ("1", "true", "yes"):
        has_corners = True
    return PlateAnnotation(
        corners=corners,
        label=_text(attrs.get("class")) or "numberplate",
        text=_text(attrs.get("np")),
        region=_text(attrs.get(region_key)).lower(),
        has_corners=has_corners,
        attributes=kept,
    )


def _read_file(json_path: Path, split: str, errors: list[InputError] | None) -> list[ImageRecord]:
    try:
        entries = _entries(load_json(json_path), json_path)
    except InputError as exc:
        report(errors, exc)
        return []
    folder = json_path.parent
    records = []
    for key, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str) or not entry["filename"]:
            report(errors, InputError(json_path, f"entry {key!r} has no filename"))
            continue
        filename = entry["filename"]
        regions = entry.get("regions") or []
        if isinstance(regions, dict):
            regions = [regions[k] for k in sorted(regions, key=lambda k: (0, int(k)) if k.isdigit() else (1, k))]
        if not isinstance(regions, list):
            report(errors, InputError(json_path, f"{filename}: regions must be a list or an object"))
            continue
        plates = []
        for number, region in enumerate(regions, 1):
            try:
                plates.append(parse_region(region))
            except ValueError as exc:
                report(errors, InputError(json_path, f"{filename}: region {number}: {exc}"))
        file_attributes = entry.get("file_attributes") or {}
        if not isinstance(file_attributes, dict):
            report(errors, InputError(json_path, f"{filename}: file_attributes must be an object"))
            file_attributes = {}
        records.append(ImageRecord(image_path=folder / filename, plates=plates, split=split,
                                   extra=dict(file_attributes)))
    return records


def read_via(path: str | Path, errors: list[InputError] | None = None) -> list[ImageRecord]:
    """Read a VIA dataset: a folder with ``via_region_data.json`` (or split subfolders), or the JSON itself.

    Args:
        path: dataset folder or VIA JSON file (region-data export or VIA 2 project).
        errors: when given, bad files, entries and regions are appended here and skipped; otherwise the
            first raises.

    Returns:
        One record per listed photo (``image_path`` = the JSON's folder / ``filename``; width and height
        unknown), with ``split`` set from the subfolder.

    Raises:
        InputError: no VIA file, invalid JSON, a file of another kind, or (without ``errors``) a bad entry.
    """
    records: list[ImageRecord] = []
    for json_path, split in via_files(path):
        records.extend(_read_file(json_path, split, errors))
    return records


def _num(value: float) -> float | int:
    value = round(float(value), 3)
    return int(value) if value.is_integer() else value


def region_to_via(plate: PlateAnnotation) -> dict:
    """A plate as a VIA region: a 4-point polygon with ``class``, ``np``, ``country`` and kept attributes."""
    attributes = {"class": plate.label, "np": plate.text, "country": plate.region}
    attributes.update({k: v for k, v in plate.attributes.items() if k not in attributes})
    attributes.pop(EXACT_CORNERS, None)
    if plate.has_corners and is_axis_aligned_box(plate.corners):
        attributes[EXACT_CORNERS] = True  # else it would read back as a mere box
    return {
        "shape_attributes": {
            "name": "polygon",
            "all_points_x": [_num(p[0]) for p in plate.corners],
            "all_points_y": [_num(p[1]) for p in plate.corners],
        },
        "region_attributes": attributes,
    }


def write_via(records: Sequence[ImageRecord], path: str | Path, copy_images: bool = True) -> list[Path]:
    """Write records as VIA 2 region data (the format VIA's "Export Annotations (as json)" gives).

    Args:
        records: photos and plates.
        path: a folder (``via_region_data.json`` in it, or in ``train/val/test`` subfolders for records with a
            split), or a ``.json`` file (one file; splits are not kept).
        copy_images: hard-link or copy each photo beside its JSON file, so ``filename`` is a bare name as
            VIA expects. When False, ``filename`` is the photo's path relative to the JSON's folder.

    Returns:
        The JSON files written.

    Raises:
        InputError: two different photos of one output folder share a file name.
    """
    path = Path(path)
    groups: dict[Path, list[ImageRecord]] = {}
    for record in records:
        if path.suffix.lower() == ".json":
            json_path = path
        else:
            json_path = path / record.split / VIA_FILE if record.split else path / VIA_FILE
        groups.setdefault(json_path, []).append(record)
    written = []
    for json_path, group in groups.items():
        folder = json_path.parent
        if copy_images:
            sources: dict[str, Path] = {}
            for record in group:
                name = record.image_path.name
                if name in sources and sources[name].resolve() != record.image_path.resolve():
                    raise InputError(record.image_path, f"another photo for {folder} is also named {name} "
                                                        f"({sources[name]}); VIA lists photos by file name")
                sources[name] = record.image_path
        data: dict[str, dict] = {}
        for record in group:
            if copy_images:
                image_file = folder / record.image_path.name
                place_image(record.image_path, image_file)
                filename = record.image_path.name
            else:
                image_file = record.image_path
                filename = Path(os.path.relpath(record.image_path, folder)).as_posix()
            size = image_file.stat().st_size if image_file.is_file() else -1
            entry = data.setdefault(f"{filename}{size}", {"filename": filename, "size": size, "regions": [],
                                                          "file_attributes": {}})
            entry["regions"].extend(region_to_via(plate) for plate in record.plates)
            entry["file_attributes"].update(record.extra)
        atomic_write_json(json_path, data)
        written.append(json_path)
    return written
