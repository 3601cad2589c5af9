"""What the annotation tool reads and writes, with no web framework in sight (tested on its own).

* :class:`OcrStore`: a Nomeroff-layout crop set; one item per ``ann/*.json``; id ``<split>/<stem>``.
* :class:`ViaStore`: a VIA photo set; one item per photo of a ``via_region_data.json`` folder (listed or
  not yet listed); id ``<split>/<file name>``.

Every item carries a revision (see :mod:`numberplate.data.revision`); a save names the revision it was
based on and is refused with :class:`~numberplate.data.revision.StaleRevision` when the item changed.
Every path comes from an id checked to stay inside the dataset folder: no ``..``, no absolute paths,
no symlinks that lead out.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from pathlib import Path

from numberplate.data.records import NOMEROFF_REGION_NAMES, STATES
from numberplate.data.revision import ABSENT, StaleRevision, json_bytes, read_bytes, replace_if_unchanged, revision_of
from numberplate.errors import InputError

ROOT_SPLIT = "root"  # id prefix of a set that keeps ann/img (or its VIA file) right in the dataset folder
MAX_TEXT = 32
_SPLIT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REGION_RE = re.compile(r"^[a-z0-9_-]{0,32}$")


class NotFound(InputError):
    """The item (or its file) does not exist."""


class Forbidden(InputError):
    """The request names a path outside the dataset folder."""


def inside(root: Path, path: Path) -> Path:
    """``path`` resolved (symlinks followed), if it stays inside ``root``; else :class:`Forbidden`."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise Forbidden(path.name, "path leads outside the dataset folder")
    return resolved


def split_id(item_id: str) -> tuple[str, str]:
    """``"train/name"`` -> ``("train", "name")``, refusing anything that could name another folder."""
    if not isinstance(item_id, str) or "\x00" in item_id or "\\" in item_id:
        raise Forbidden(None, "bad item id")
    split, sep, rest = item_id.partition("/")
    if not sep or not _SPLIT_RE.match(split) or not rest:
        raise Forbidden(None, f"bad item id {item_id!r}: expected <split>/<name>")
    parts = rest.split("/")
    if rest.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise Forbidden(None, f"bad item id {item_id!r}: relative or absolute paths are not allowed")
    return split, rest


def clean_text(value) -> str:
    if not isinstance(value, str):
        raise InputError(None, "text must be a string")
    text = "".join(value.split()).upper()
    if len(text) > MAX_TEXT:
        raise InputError(None, f"text is longer than {MAX_TEXT} characters")
    if any(not c.isprintable() for c in text):
        raise InputError(None, "text holds control characters")
    return text


def clean_region(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or not _REGION_RE.match(value.strip().lower()):
        raise InputError(None, f"region must be a short code such as 'ua' or 'eu-ua-2015', got {value!r}")
    return value.strip().lower()


def predicted_of(ann: dict) -> dict | None:
    from numberplate.data.tools import predicted_of as stored

    return stored(ann)


# --------------------------------------------------------------------------------------------- OCR


class OcrStore:
    """A Nomeroff-layout set: list, read and save crop labels.

    Args:
        root: the dataset folder.
        user: written as ``moderation.moderatedBy`` on every save.
        before_replace: test hook run between writing a temp file and renaming it (crash tests).
    """

    mode = "moderation"

    def __init__(self, root: str | Path, user: str = "", before_replace: Callable[[], None] | None = None):
        from numberplate.data.nomeroff import split_dirs

        self.root = Path(root).resolve()
        self.splits: dict[str, Path] = {}
        for folder in split_dirs(self.root):
            self.splits[ROOT_SPLIT if folder == self.root else folder.name] = folder
        self.user = user
        self.before_replace = before_replace

    # -- paths
    def ann_path(self, item_id: str) -> Path:
        split, stem = split_id(item_id)
        if split not in self.splits or "/" in stem:
            raise NotFound(item_id, "no such item")
        path = self.splits[split] / "ann" / f"{stem}.json"
        if not path.is_file() and not path.is_symlink():
            raise NotFound(item_id, "no such item")
        return inside(self.root, path)

    def image_path(self, item_id: str) -> Path:
        from numberplate.data.nomeroff import find_image

        self.ann_path(item_id)
        split, stem = split_id(item_id)
        folder = self.splits[split] / "img"
        image = find_image(folder, stem)
        if image is None:
            ann = self._read(item_id)[0]
            name = ann.get("name") if isinstance(ann, dict) else None
            image = find_image(folder, str(name)) if isinstance(name, str) and "/" not in name and name != ".." else None
        if image is None:
            raise NotFound(item_id, "item has no image")
        return inside(self.root, image)

    # -- reading
    def ids(self) -> list[str]:
        return [f"{split}/{p.stem}" for split, folder in self.splits.items()
                for p in sorted((folder / "ann").glob("*.json")) if not p.name.startswith(".")]

    def _read(self, item_id: str) -> tuple[dict | None, str, str]:
        """``(annotation or None when broken, revision, error message)``."""
        path = self.ann_path(item_id)
        data = read_bytes(path)
        if data is None:
            raise NotFound(item_id, "no such item")
        try:
            ann = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return None, revision_of(data), f"invalid JSON ({exc})"
        return ann, revision_of(data), ""

    def item(self, item_id: str, with_ann: bool = False) -> dict:
        from numberplate.data.nomeroff import parse_annotation

        ann, revision, error = self._read(item_id)
        split, stem = split_id(item_id)
        out = {"id": item_id, "split": split, "name": stem, "revision": revision}
        if ann is not None:
            try:
                record = parse_annotation(ann, self.ann_path(item_id), Path())
            except InputError as exc:
                error = exc.problem
            else:
                moderation = ann.get("moderation") if isinstance(ann.get("moderation"), dict) else {}
                out.update(text=record.text, region=record.region, lines=record.count_lines, state=record.state,
                           moderated=record.moderated, moderated_by=moderation.get("moderatedBy", ""),
                           predicted=predicted_of(ann))
        if error:
            out.update(error=error, text="", region="", lines=1, state="readable", moderated=False,
                       moderated_by="", predicted=None)
        if with_ann:
            out["ann"] = ann
        return out

    def items(self) -> list[dict]:
        out = []
        for item_id in self.ids():
            try:
                out.append(self.item(item_id))
            except NotFound:
                continue  # removed while listing
            except InputError as exc:  # e.g. a symlink leading out: listed as broken, never read
                split, stem = split_id(item_id)
                out.append({"id": item_id, "split": split, "name": stem, "revision": "", "error": exc.problem,
                            "text": "", "region": "", "lines": 1, "state": "readable", "moderated": False,
                            "moderated_by": "", "predicted": None})
        return out

    # -- writing
    def save(self, item_id: str, revision: str, text, region, lines, state, moderated: bool = True,
             predicted: dict | None = None) -> dict:
        """Save a person's labels: text, region, lines, state; mark moderated by :attr:`user`.

        ``predicted`` (a reading the tool made live) is stored when the file has none, so the model's
        guess stays beside the label. Everything else in the annotation is kept.

        Raises:
            StaleRevision: the annotation changed since ``revision``.
            InputError: a label value is invalid.
        """
        from numberplate.data.nomeroff import parse_annotation, record_to_annotation

        text, region = clean_text(text), clean_region(region)
        if lines not in (1, 2, 3):
            raise InputError(None, f"lines must be 1, 2 or 3, got {lines!r}")
        if state not in STATES:
            raise InputError(None, f"state must be one of {', '.join(STATES)}, got {state!r}")
        path = self.ann_path(item_id)
        ann, current, error = self._read(item_id)
        if current != revision:
            raise StaleRevision(path, revision, current)
        if ann is None:
            ann = {"name": split_id(item_id)[1]}  # a broken file is replaced by the person's labels
        record = parse_annotation(ann, path, Path())
        record.text, record.count_lines, record.state, record.moderated = text, lines, state, bool(moderated)
        if record.extra.get("_region_style") == "region_id" and region not in NOMEROFF_REGION_NAMES:
            record.extra.pop("_region_style")  # region_id cannot hold this region: write "region"
        record.region = region
        moderation = dict(record.extra.get("_moderation", {}))
        if moderated:
            moderation.update(moderatedBy=self.user, moderatedAt=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        record.extra["_moderation"] = moderation
        if predicted is not None and "predicted" not in record.extra:
            record.extra["predicted"] = _clean_predicted(predicted)
        new = record_to_annotation(record)
        replace_if_unchanged(path, revision, json_bytes(new), self.before_replace)
        return self.item(item_id)

    def restore(self, item_id: str, revision: str, ann) -> dict:
        """Put back an earlier annotation (undo), if the item is still at ``revision``."""
        from numberplate.data.nomeroff import parse_annotation

        path = self.ann_path(item_id)
        if not isinstance(ann, dict):
            raise InputError(None, "restore needs the earlier annotation object")
        parse_annotation(ann, path, Path())  # refuse anything the readers would not accept
        replace_if_unchanged(path, revision, json_bytes(ann), self.before_replace)
        return self.item(item_id)

    def crop(self, item_id: str):
        from numberplate.data.images import read_image

        return read_image(self.image_path(item_id))

    def summary(self) -> dict:
        items = self.items()
        return {"items": len(items), "moderated": sum(1 for i in items if i["moderated"])}


def _clean_predicted(predicted: dict) -> dict:
    if not isinstance(predicted, dict) or not isinstance(predicted.get("text"), str):
        raise InputError(None, "predicted must be an object with a text")
    out = {"text": clean_text(predicted["text"])}
    confidence = predicted.get("confidence")
    if isinstance(confidence, int | float) and not isinstance(confidence, bool) and 0 <= confidence <= 1:
        out["confidence"] = round(float(confidence), 4)
    for key in ("engine", "model", "region"):
        if isinstance(predicted.get(key), str) and len(predicted[key]) <= 64:
            out[key] = predicted[key]
    return out


# --------------------------------------------------------------------------------------------- VIA


class ViaStore:
    """A VIA photo set: list photos, read and save their plates (4 corners, text, region).

    Photos in a VIA folder that its ``via_region_data.json`` does not list yet are items too; saving one
    adds its entry. Each entry has its own revision, so two people on two photos never conflict.
    """

    mode = "detection"

    def __init__(self, root: str | Path, user: str = "", before_replace: Callable[[], None] | None = None):
        from numberplate.data.via import VIA_FILE, via_files

        self.root = Path(root).resolve()
        self.files: dict[str, Path] = {}
        try:
            found = via_files(self.root)
        except InputError:
            found = [(self.root / VIA_FILE, "")]  # a folder of photos: the first save creates the file
        for json_path, split in found:
            self.files[split or ROOT_SPLIT] = json_path
        self.via_name = VIA_FILE
        self.user = user
        self.before_replace = before_replace

    def _load(self, split: str) -> tuple[dict, dict, bytes | None]:
        """``(whole JSON, the entries object inside it, raw bytes)`` of one split's VIA file."""
        from numberplate.data.detection import load_json

        path = self.files[split]
        data = read_bytes(path)
        obj = load_json(path) if data is not None and data.strip() else {}
        entries = obj.get("_via_img_metadata", obj) if isinstance(obj, dict) else None
        if not isinstance(entries, dict):
            raise InputError(path, "not VIA region data: expected a JSON object keyed by file name + size")
        return obj, entries, data

    @staticmethod
    def _find(entries: dict, filename: str) -> tuple[str | None, dict | None]:
        for key, entry in entries.items():
            if isinstance(entry, dict) and entry.get("filename") == filename:
                return key, entry
        return None, None

    def photo_path(self, item_id: str) -> Path:
        split, filename = split_id(item_id)
        if split not in self.files:
            raise NotFound(item_id, "no such photo")
        path = self.files[split].parent / filename
        resolved = inside(self.root, path)
        if not resolved.is_file():
            raise NotFound(item_id, "photo file not found")
        return resolved

    def items(self) -> list[dict]:
        from numberplate.data.detection import is_image_file

        out = []
        for split, json_path in self.files.items():
            _, entries, _ = self._load(split)
            listed = set()
            for entry in entries.values():
                if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
                    continue
                listed.add(entry["filename"])
                regions = entry.get("regions") or []
                texts = [r.get("region_attributes", {}).get("np", "") for r in
                         (regions.values() if isinstance(regions, dict) else regions) if isinstance(r, dict)]
                out.append({"id": f"{split}/{entry['filename']}", "split": split, "name": entry["filename"],
                            "listed": True, "plates": len(texts), "texts": [t for t in texts if isinstance(t, str)],
                            "revision": revision_of_entry(entry)})
            for image in sorted(json_path.parent.iterdir()):
                if is_image_file(image) and image.name not in listed:
                    out.append({"id": f"{split}/{image.name}", "split": split, "name": image.name, "listed": False,
                                "plates": 0, "texts": [], "revision": ABSENT})
        return out

    def item(self, item_id: str) -> dict:
        from numberplate.data.via import parse_region

        split, filename = split_id(item_id)
        if split not in self.files:
            raise NotFound(item_id, "no such photo")
        _, entries, _ = self._load(split)
        _, entry = self._find(entries, filename)
        if entry is None:
            self.photo_path(item_id)  # an unlisted photo must exist
            return {"id": item_id, "split": split, "name": filename, "listed": False, "plates": [],
                    "revision": ABSENT, "file_attributes": {}}
        regions = entry.get("regions") or []
        if isinstance(regions, dict):
            regions = [regions[k] for k in sorted(regions, key=lambda k: (0, int(k)) if k.isdigit() else (1, k))]
        plates, problems = [], []
        for number, region in enumerate(regions, 1):
            try:
                plate = parse_region(region)
            except ValueError as exc:
                problems.append(f"region {number}: {exc}")
                continue
            plates.append(plate_to_json(plate))
        return {"id": item_id, "split": split, "name": filename, "listed": True, "plates": plates,
                "revision": revision_of_entry(entry), "problems": problems,
                "file_attributes": entry.get("file_attributes") or {}}

    def save(self, item_id: str, revision: str, plates) -> dict:
        """Replace one photo's plates, if its entry is still at ``revision``; other entries stay as they are.

        Raises:
            StaleRevision: the photo's entry changed (or was added) since ``revision``.
            InputError: bad plate values.
        """
        from numberplate.data.revision import folder_lock, write_atomic
        from numberplate.data.via import region_to_via

        split, filename = split_id(item_id)
        if not isinstance(plates, list):
            raise InputError(None, "plates must be a list")
        annotations = [plate_from_json(p, n) for n, p in enumerate(plates, 1)]
        photo = self.photo_path(item_id)
        json_path = self.files[split]
        with folder_lock(json_path.parent):
            obj, entries, raw = self._load(split)
            key, entry = self._find(entries, filename)
            current = revision_of_entry(entry) if entry is not None else ABSENT
            if current != revision:
                raise StaleRevision(f"{json_path} ({filename})", revision, current)
            if entry is None:
                size = photo.stat().st_size
                key, entry = f"{filename}{size}", {"filename": filename, "size": size, "regions": [],
                                                   "file_attributes": {}}
                entries[key] = entry
            entry["regions"] = [region_to_via(a) for a in annotations]
            indent = 1 if raw and raw.lstrip()[:2] == b"{\n" else None  # keep the file's own layout
            write_atomic(json_path, json_bytes(obj, indent), self.before_replace)
        return self.item(item_id)

    def photo(self, item_id: str):
        from numberplate.data.images import read_image

        return read_image(self.photo_path(item_id))

    def summary(self) -> dict:
        items = self.items()
        return {"items": len(items), "moderated": sum(1 for i in items if i["listed"])}


def revision_of_entry(entry) -> str:
    from numberplate.data.revision import revision_of_json

    return revision_of_json(entry)


def plate_to_json(plate) -> dict:
    return {"corners": [[round(x, 2), round(y, 2)] for x, y in plate.corners], "text": plate.text,
            "region": plate.region, "label": plate.label, "has_corners": plate.has_corners,
            "attributes": plate.attributes}


def plate_from_json(value, number: int):
    """A plate sent by the page -> :class:`PlateAnnotation` (corners put in clockwise order)."""
    from numberplate.data.geometry import order_corners
    from numberplate.data.records import PlateAnnotation

    where = f"plate {number}"
    if not isinstance(value, dict):
        raise InputError(None, f"{where} must be an object")
    corners = value.get("corners")
    if (not isinstance(corners, list) or len(corners) != 4
            or not all(isinstance(p, list) and len(p) == 2 for p in corners)
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e6
                       for p in corners for v in p)):
        raise InputError(None, f"{where}: corners must be 4 [x, y] pairs of finite numbers")
    label = value.get("label") or "numberplate"
    if not isinstance(label, str) or len(label) > 64:
        raise InputError(None, f"{where}: label must be a short string")
    attributes = value.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise InputError(None, f"{where}: attributes must be an object")
    return PlateAnnotation(corners=order_corners(corners), label=label, text=clean_text(value.get("text") or ""),
                           region=clean_region(value.get("region")), has_corners=bool(value.get("has_corners", True)),
                           attributes=attributes)


def open_store(root: str | Path, user: str = "", before_replace: Callable[[], None] | None = None):
    """The store for a folder: :class:`OcrStore` for the Nomeroff layout, :class:`ViaStore` for VIA.

    Raises:
        InputError: the folder is neither (YOLO and COCO sets are named, with the command that converts them).
    """
    from numberplate.data.detection import detect_format, is_image_file
    from numberplate.data.nomeroff import split_dirs

    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "dataset folder not found")
    try:
        split_dirs(root)
        return OcrStore(root, user, before_replace)
    except InputError:
        pass
    try:
        fmt = detect_format(root)
    except InputError:
        fmt = None
    if fmt == "via" or (fmt is None and any(is_image_file(p) for p in root.iterdir())):
        return ViaStore(root, user, before_replace)
    if fmt in ("yolo", "coco"):
        raise InputError(root, f"is a {fmt.upper()} set; the annotation tool edits VIA sets: convert it with "
                               f"numberplate data convert {root} --to via --out NEW_DIR")
    raise InputError(root, "not a dataset the annotation tool knows: expected a Nomeroff OCR set "
                           "({train,val,test}/{ann,img}) or a VIA set (via_region_data.json beside the photos)")
