"""Read and write COCO keypoints JSON for plates: 4 keypoints per plate, clockwise from the top-left corner.

::

    {"images": [{"id": 1, "file_name": "images/train/car.jpg", "width": 1280, "height": 720}],
     "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [x, y, w, h],
                      "keypoints": [x1, y1, 2, x2, y2, 2, x3, y3, 2, x4, y4, 2], "num_keypoints": 4,
                      "segmentation": [[x1, y1, x2, y2, x3, y3, x4, y4]], "area": 1234.5, "iscrowd": 0,
                      "attributes": {"text": "AB1234CE", "region": "ua"}}],
     "categories": [{"id": 1, "name": "numberplate", "supercategory": "plate",
                     "keypoints": ["top_left", "top_right", "bottom_right", "bottom_left"],
                     "skeleton": [[1, 2], [2, 3], [3, 4], [4, 1]]}]}

Reading takes the corners from ``keypoints`` (all 4 labelled), else from a 4-point ``segmentation`` polygon,
else from ``bbox`` (a box label, ``has_corners`` False). ``attributes.text``/``region`` are modelled, other
attributes and unknown annotation fields are kept in :attr:`PlateAnnotation.attributes`; unknown image fields
in :attr:`ImageRecord.extra`. A box-only plate is written with keypoints all 0 (``num_keypoints`` 0).

A dataset folder holds one JSON per split (``train.json``, ``instances_val2017.json`` ..., also under
``annotations/``); the split is the first split word of the file name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from numberplate.data.atomic import atomic_write_json
from numberplate.data.detection import image_size, load_json, place_image, report, split_name, split_order
from numberplate.data.geometry import box_corners, is_axis_aligned_box, quad_area, quad_from_polygon
from numberplate.data.records import ImageRecord, PlateAnnotation
from numberplate.errors import InputError

KEYPOINT_NAMES = ("top_left", "top_right", "bottom_right", "bottom_left")
SKELETON = ((1, 2), (2, 3), (3, 4), (4, 1))
_ANNOTATION_FIELDS = {"id", "image_id", "category_id", "bbox", "keypoints", "num_keypoints", "segmentation", "area",
                      "iscrowd", "attributes"}
_IMAGE_FIELDS = {"id", "file_name", "width", "height"}


def _is_coco(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("images"), list) and (
        "annotations" in data or "categories" in data)


def coco_files(path: str | Path) -> list[tuple[Path, str]]:
    """The COCO JSON files of a dataset with their split: ``(json_path, split)``.

    Raises:
        InputError: the path does not exist, or the folder (and its ``annotations/``) has no COCO JSON.
    """
    path = Path(path)
    if path.is_file():
        return [(path, split_name(path.stem))]
    if not path.is_dir():
        raise InputError(path, "not found")
    found = []
    for folder in (path, path / "annotations"):
        for candidate in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                if _is_coco(load_json(candidate)):
                    found.append((candidate, split_name(candidate.stem)))
            except InputError:
                continue
    if not found:
        raise InputError(path, "no COCO JSON file (with images and annotations) here or in annotations/")
    return sorted(found, key=lambda item: split_order(item[1]))


def _resolve_image(file_name: str, json_path: Path, image_root: Path | None, split: str) -> Path:
    if image_root is not None:
        return image_root / file_name
    folder = json_path.parent
    candidates = [folder / file_name, folder.parent / file_name, folder / "images" / file_name,
                  folder.parent / "images" / file_name]
    if split:
        candidates += [folder / "images" / split / file_name, folder.parent / "images" / split / file_name]
    return next((c for c in candidates if c.is_file()), candidates[0])


def _numbers(value, name: str) -> list[float]:
    if not isinstance(value, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{name} must be a list of numbers")
    return [float(v) for v in value]


def _size(value, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 or not float(value).is_integer():
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def parse_annotation(ann: dict, label: str) -> PlateAnnotation:
    """One COCO annotation as a plate.

    Raises:
        ValueError: no usable keypoints, 4-point segmentation or bbox, or malformed values.
    """
    corners = None
    has_corners = False
    keypoints = ann.get("keypoints")
    if keypoints:
        values = _numbers(keypoints, "keypoints")
        if len(values) != 12:
            raise ValueError(f"keypoints must hold 12 numbers (4 corners x, y, v), got {len(values)}")
        if all(values[k * 3 + 2] > 0 for k in range(4)):
            corners = tuple((values[k * 3], values[k * 3 + 1]) for k in range(4))
            has_corners = True
    segmentation = ann.get("segmentation")
    if corners is None and isinstance(segmentation, list) and len(segmentation) == 1:
        polygon = _numbers(segmentation[0], "segmentation")
        if len(polygon) == 8:
            corners = quad_from_polygon(polygon[0::2], polygon[1::2])
            has_corners = not is_axis_aligned_box(corners)
    if corners is None:
        bbox = ann.get("bbox")
        if bbox is None:
            raise ValueError("has no keypoints, 4-point segmentation or bbox")
        values = _numbers(bbox, "bbox")
        if len(values) != 4 or values[2] < 0 or values[3] < 0:
            raise ValueError(f"bbox must be [x, y, width, height] with a size >= 0, got {bbox}")
        x, y, w, h = values
        corners = box_corners(x, y, x + w, y + h)
    attributes = ann.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ValueError("attributes must be an object")
    kept = {k: v for k, v in attributes.items() if k not in ("text", "region")}
    kept.update({k: v for k, v in ann.items() if k not in _ANNOTATION_FIELDS})
    return PlateAnnotation(
        corners=corners,  # type: ignore[arg-type]
        label=label,
        text="" if attributes.get("text") is None else str(attributes["text"]).strip(),
        region="" if attributes.get("region") is None else str(attributes["region"]).strip().lower(),
        has_corners=has_corners,
        attributes=kept,
    )


def _read_file(json_path: Path, split: str, image_root: Path | None,
               errors: list[InputError] | None) -> list[ImageRecord]:
    try:
        data = load_json(json_path)
        if not _is_coco(data):
            raise InputError(json_path, "not a COCO file: expected an object with an images list and "
                                        "annotations/categories")
    except InputError as exc:
        report(errors, exc)
        return []
    categories: dict = {}
    for category in data.get("categories") or []:
        if not isinstance(category, dict) or "id" not in category:
            report(errors, InputError(json_path, f"category without an id: {category!r}"))
            continue
        categories[category["id"]] = str(category.get("name") or category["id"])
    records: dict = {}
    for index, image in enumerate(data["images"]):
        try:
            if not isinstance(image, dict) or "id" not in image:
                raise ValueError("has no id")
            file_name = image.get("file_name")
            if not isinstance(file_name, str) or not file_name:
                raise ValueError("has no file_name")
            if image["id"] in records:
                raise ValueError(f"id {image['id']!r} is used twice")
            width, height = _size(image.get("width"), "width"), _size(image.get("height"), "height")
        except ValueError as exc:
            report(errors, InputError(json_path, f"images[{index}] {exc}"))
            continue
        records[image["id"]] = ImageRecord(
            image_path=_resolve_image(file_name, json_path, image_root, split), width=width, height=height,
            split=split, extra={k: v for k, v in image.items() if k not in _IMAGE_FIELDS})
    annotations = data.get("annotations") or []
    if not isinstance(annotations, list):
        report(errors, InputError(json_path, "annotations must be a list"))
        annotations = []
    for index, ann in enumerate(annotations):
        where = f"annotation {ann.get('id', index)}" if isinstance(ann, dict) else f"annotations[{index}]"
        try:
            if not isinstance(ann, dict):
                raise ValueError("must be an object")
            if ann.get("image_id") not in records:
                raise ValueError(f"image_id {ann.get('image_id')!r} is not among the images")
            if categories and ann.get("category_id") not in categories:
                raise ValueError(f"category_id {ann.get('category_id')!r} is not among the categories")
            label = categories.get(ann.get("category_id"), "numberplate")
            records[ann["image_id"]].plates.append(parse_annotation(ann, label))
        except ValueError as exc:
            report(errors, InputError(json_path, f"{where}: {exc}"))
    return list(records.values())


def read_coco(json_path: str | Path, image_root: str | Path | None = None,
              errors: list[InputError] | None = None) -> list[ImageRecord]:
    """Read COCO keypoints annotations.

    Args:
        json_path: a COCO JSON file, or a folder holding one per split (also under ``annotations/``).
        image_root: folder the ``file_name`` values are relative to; by default the JSON's folder, its parent,
            or an ``images/`` (``images/<split>/``) folder in either, whichever holds the photo.
        errors: when given, bad files and entries are appended here and skipped; otherwise the first raises.

    Returns:
        One record per image entry (with width and height when the file gives them).

    Raises:
        InputError: no COCO file, invalid JSON, or (without ``errors``) the first bad entry.
    """
    root = Path(image_root) if image_root is not None else None
    records: list[ImageRecord] = []
    for path, split in coco_files(json_path):
        records.extend(_read_file(path, split, root, errors))
    return records


def _num(value: float) -> float | int:
    value = round(float(value), 3)
    return int(value) if value.is_integer() else value


def _categories(records: Sequence[ImageRecord]) -> list[str]:
    return list(dict.fromkeys(p.label for r in records for p in r.plates)) or ["numberplate"]


def to_coco(records: Sequence[ImageRecord], json_folder: Path, categories: Sequence[str]) -> dict:
    """The COCO object for records; ``file_name`` is each photo's path relative to ``json_folder``."""
    category_ids = {name: index for index, name in enumerate(categories, 1)}
    images, annotations = [], []
    for image_id, record in enumerate(records, 1):
        width, height = record.width, record.height
        if not (width and height) and record.image_path.is_file():
            width, height = image_size(record.image_path)
        images.append({**record.extra, "id": image_id,
                       "file_name": Path(os.path.relpath(record.image_path, json_folder)).as_posix(),
                       "width": width, "height": height})
        for plate in record.plates:
            x1, y1, x2, y2 = plate.box
            polygon = [_num(v) for point in plate.corners for v in point]
            keypoints = [v for point in plate.corners for v in (_num(point[0]), _num(point[1]), 2)]
            annotations.append({
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": category_ids[plate.label],
                "bbox": [_num(x1), _num(y1), _num(x2 - x1), _num(y2 - y1)],
                "area": _num(quad_area(plate.corners)),
                "iscrowd": 0,
                "segmentation": [polygon],
                "keypoints": keypoints if plate.has_corners else [0] * 12,
                "num_keypoints": 4 if plate.has_corners else 0,
                "attributes": {"text": plate.text, "region": plate.region,
                               **{k: v for k, v in plate.attributes.items() if k not in ("text", "region")}},
            })
    return {
        "info": {"description": "licence plates, 4 corner keypoints clockwise from the top-left"},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": category_ids[name], "name": name, "supercategory": "plate",
                        "keypoints": list(KEYPOINT_NAMES), "skeleton": [list(edge) for edge in SKELETON]}
                       for name in categories],
    }


def write_coco(records: Sequence[ImageRecord], json_path: str | Path) -> list[Path]:
    """Write records as COCO keypoints JSON.

    Args:
        records: photos and plates.
        json_path: a ``.json`` file (one file, photos stay where they are and ``file_name`` is relative to the
            file's folder; splits are not kept), or a folder: photos are hard-linked or copied to
            ``images/<split>/`` and each split gets ``<split>.json`` (``annotations.json`` without a split).

    Returns:
        The JSON files written.

    Raises:
        InputError: (folder output) two different photos of one split share a file name.
    """
    path = Path(json_path)
    categories = _categories(records)
    if path.suffix.lower() == ".json":
        atomic_write_json(path, to_coco(records, path.parent, categories))
        return [path]
    groups: dict[str, list[ImageRecord]] = {}
    for record in records:
        groups.setdefault(record.split, []).append(record)
    written = []
    for split in sorted(groups, key=split_order):
        images_dir = path / "images" / split if split else path / "images"
        placed: list[ImageRecord] = []
        sources: dict[str, Path] = {}
        for record in groups[split]:
            name = record.image_path.name
            if name in sources and sources[name].resolve() != record.image_path.resolve():
                raise InputError(record.image_path, f"{sources[name]} has the same file name in split "
                                                    f"{split or '(none)'}")
            sources[name] = record.image_path
        for record in groups[split]:
            target = images_dir / record.image_path.name
            place_image(record.image_path, target)  # a missing photo keeps its entry; `data check` reports it
            placed.append(ImageRecord(target, record.plates, record.width, record.height, record.split,
                                      record.extra))
        out = path / (f"{split}.json" if split else "annotations.json")
        atomic_write_json(out, to_coco(placed, path, categories))
        written.append(out)
    return written
