"""Read and write the Nomeroff Net OCR layout: ``<root>/{train,val,test}/{img,ann}``.

An annotation ``ann/NAME.json`` describes ``img/NAME.{png,jpg,...}``::

    {"name": "ak721", "description": "FHG521", "region_id": 2, "count_lines": 1, "state_id": 2,
     "moderation": {"isModerated": 1}}

Values may be strings or ints; ``country`` or ``region`` may stand instead of ``region_id``. Unknown fields
are kept in :attr:`OcrRecord.extra` and written back unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from numberplate.data.atomic import atomic_write_json
from numberplate.data.images import IMAGE_SUFFIXES
from numberplate.data.records import NOMEROFF_REGION_NAMES, NOMEROFF_STATE_NAMES, STATES, OcrRecord
from numberplate.errors import InputError

SPLITS = ("train", "val", "test")
_MODELLED = {"name", "description", "region_id", "country", "region", "count_lines", "state_id", "state_name",
             "moderation"}


def _as_int(value, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"expected an integer, got {value!r}")


def _region_of(ann: dict) -> str:
    for key in ("region", "country"):
        if isinstance(ann.get(key), str) and ann[key]:
            return ann[key].strip().lower()
    region_id = ann.get("region_id")
    if region_id in (None, ""):
        return ""
    if isinstance(region_id, str) and not region_id.strip().isdigit():
        return region_id.strip().lower()  # some exports write the class name itself
    index = _as_int(region_id)
    if not 0 <= index < len(NOMEROFF_REGION_NAMES):
        raise ValueError(f"region_id {index} is outside Nomeroff's {len(NOMEROFF_REGION_NAMES)} classes")
    return NOMEROFF_REGION_NAMES[index]


def _state_of(ann: dict) -> str:
    if isinstance(ann.get("state_name"), str) and ann["state_name"] in STATES:
        return ann["state_name"]
    state_id = ann.get("state_id")
    if state_id in (None, ""):
        return "readable"
    index = _as_int(state_id)
    if not 0 <= index < len(NOMEROFF_STATE_NAMES):
        raise ValueError(f"state_id {index} is outside 0..{len(NOMEROFF_STATE_NAMES) - 1}")
    return NOMEROFF_STATE_NAMES[index]


def find_image(img_dir: Path, name: str) -> Path | None:
    for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
        candidate = img_dir / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def parse_annotation(ann: dict, ann_path: Path, image_path: Path) -> OcrRecord:
    """Turn one annotation dict into an :class:`OcrRecord`.

    Raises:
        InputError: a field has the wrong type or an impossible value.
    """
    if not isinstance(ann, dict):
        raise InputError(ann_path, f"annotation must be a JSON object, got {type(ann).__name__}")
    try:
        description = ann.get("description", "")
        if description is None:
            description = ""
        if not isinstance(description, str | int):
            raise ValueError(f"description must be a string, got {type(description).__name__}")
        count_lines = _as_int(ann.get("count_lines"), 1)
        if count_lines not in (1, 2, 3):
            raise ValueError(f"count_lines must be 1, 2 or 3, got {count_lines}")
        moderation = ann.get("moderation") or {}
        if not isinstance(moderation, dict):
            raise ValueError("moderation must be an object")
        moderated = bool(_as_int(moderation.get("isModerated"), 0))
        region = _region_of(ann)
        state = _state_of(ann)
    except ValueError as exc:
        raise InputError(ann_path, str(exc)) from None
    extra = {k: v for k, v in ann.items() if k not in _MODELLED}
    extra_moderation = {k: v for k, v in moderation.items() if k != "isModerated"}
    if extra_moderation:
        extra["_moderation"] = extra_moderation
    if "region_id" in ann:
        extra["_region_style"] = "region_id"
    elif "country" in ann and "region" not in ann:
        extra["_region_style"] = "country"
    return OcrRecord(
        name=str(ann.get("name") or ann_path.stem),
        image_path=image_path,
        text=str(description).strip().upper(),
        region=region,
        count_lines=count_lines,
        state=state,
        moderated=moderated,
        ann_path=ann_path,
        extra=extra,
    )


def read_annotation(ann_path: Path) -> dict:
    try:
        return json.loads(ann_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(ann_path, "annotation is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(ann_path, f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except OSError as exc:
        raise InputError(ann_path, f"cannot read file ({exc.strerror})") from None


def split_dirs(root: str | Path) -> list[Path]:
    """The split folders (``train``/``val``/``test``) of a dataset, or ``root`` itself if it holds ann/img.

    Raises:
        InputError: the folder does not exist or holds no Nomeroff-layout split.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "dataset folder not found")
    if (root / "ann").is_dir():
        return [root]
    found = [root / s for s in SPLITS if (root / s / "ann").is_dir()]
    if not found:
        raise InputError(root, "not a Nomeroff OCR dataset: expected {train,val,test}/ann and /img folders")
    return found


def iter_records(split_dir: str | Path, errors: list[InputError] | None = None) -> Iterator[OcrRecord]:
    """Yield the records of one split folder (holding ``ann/`` and ``img/``), in name order.

    Args:
        split_dir: a folder with ``ann`` and ``img`` subfolders.
        errors: when given, bad annotations are appended here and skipped; otherwise the first raises.
    """
    split_dir = Path(split_dir)
    ann_dir, img_dir = split_dir / "ann", split_dir / "img"
    if not ann_dir.is_dir():
        raise InputError(split_dir, "has no ann/ folder")
    for ann_path in sorted(ann_dir.glob("*.json")):
        try:
            ann = read_annotation(ann_path)
            name = str(ann.get("name") or ann_path.stem) if isinstance(ann, dict) else ann_path.stem
            image_path = find_image(img_dir, ann_path.stem) or find_image(img_dir, name)
            if image_path is None:
                raise InputError(ann_path, f"no image named {ann_path.stem}.* in {img_dir}")
            yield parse_annotation(ann, ann_path, image_path)
        except InputError as exc:
            if errors is None:
                raise
            errors.append(exc)


def load_split(root: str | Path, split: str, errors: list[InputError] | None = None) -> list[OcrRecord]:
    """All records of one split (``train``/``val``/``test``) of a dataset; [] if the split is absent."""
    split_dir = Path(root) / split
    if not (split_dir / "ann").is_dir():
        return []
    return list(iter_records(split_dir, errors))


def record_to_annotation(record: OcrRecord) -> dict:
    """The JSON object for a record, keeping unknown fields and the file's original region style."""
    extra = dict(record.extra)
    style = extra.pop("_region_style", "region")
    moderation = {"isModerated": int(record.moderated), **extra.pop("_moderation", {})}
    ann: dict = {"name": record.name, "description": record.text}
    if style == "region_id" and record.region in NOMEROFF_REGION_NAMES:
        ann["region_id"] = NOMEROFF_REGION_NAMES.index(record.region)
    elif style == "country":
        ann["country"] = record.region
    else:
        ann["region"] = record.region
    ann["count_lines"] = record.count_lines
    ann["state_id"] = NOMEROFF_STATE_NAMES.index(record.state)
    ann["moderation"] = moderation
    ann.update(extra)
    return ann


def write_record(split_dir: str | Path, record: OcrRecord, image=None, image_bytes: bytes | None = None,
                 image_suffix: str = ".png") -> OcrRecord:
    """Write a record's annotation (and optionally its image) into ``split_dir/{ann,img}`` atomically.

    Args:
        split_dir: target split folder.
        record: the labels; ``record.name`` names both files.
        image: an RGB array to encode, or None to keep ``record.image_path`` as it is.
        image_bytes: already-encoded image bytes (written as they are), instead of ``image``.
        image_suffix: file suffix when writing a new image.

    Returns:
        The record with ``image_path`` and ``ann_path`` pointing at the written files.
    """
    from dataclasses import replace

    from numberplate.data.atomic import atomic_write_bytes
    from numberplate.data.images import write_image

    split_dir = Path(split_dir)
    image_path = record.image_path
    if image is not None or image_bytes is not None:
        image_path = split_dir / "img" / f"{record.name}{image_suffix}"
        if image_bytes is not None:
            atomic_write_bytes(image_path, image_bytes)
        else:
            write_image(image_path, image)
    ann_path = split_dir / "ann" / f"{record.name}.json"
    atomic_write_json(ann_path, record_to_annotation(record))
    return replace(record, image_path=image_path, ann_path=ann_path)
