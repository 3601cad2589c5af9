"""Read and write YOLO-pose plate datasets (the Ultralytics layout).

Layout::

    DIR/data.yaml                 names, kpt_shape: [4, 3], flip_idx, train/val/test folders
    DIR/images/<split>/NAME.jpg   (or flat DIR/images/NAME.jpg; DIR/<split>/images is read too)
    DIR/labels/<split>/NAME.txt   one line per plate; no file or an empty file = no plate

Each label line is ``cls cx cy w h x1 y1 v1 x2 y2 v2 x3 y3 v3 x4 y4 v4``: the class id, the box centre and
size, then the 4 corners clockwise from the top-left, each with a visibility flag (0 = not labelled), all
coordinates divided by the image width or height. Lines of 5 numbers (box only) and of 13 numbers (corners
without flags) are read too. A box-only plate (``has_corners`` False) is written with its corners as
``0 0 0`` so every line has the same length and the corner loss skips it.

YOLO has no place for plate text, region or per-plate attributes: writing drops them (a VIA/COCO → YOLO →
VIA/COCO round trip keeps corners and class labels only). YOLO also cannot hold points outside the image:
corners are clipped to the image border when written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from numberplate.data.atomic import atomic_write_bytes
from numberplate.data.detection import folder_split, image_size, is_image_file, place_image, report, split_order
from numberplate.data.geometry import box_corners
from numberplate.data.records import ImageRecord, PlateAnnotation
from numberplate.errors import InputError

YAML_NAMES = ("data.yaml", "dataset.yaml", "data.yml", "dataset.yml")
FLIP_IDX = (1, 0, 3, 2)  # a horizontal flip swaps top-left/top-right and bottom-right/bottom-left


def is_yolo_folder(path: str | Path) -> bool:
    """Whether ``path`` holds ``images/`` + ``labels/`` or ``<split>/images`` + ``<split>/labels``."""
    path = Path(path)
    if (path / "images").is_dir() and (path / "labels").is_dir():
        return True
    return any(folder_split(p.name) and (p / "images").is_dir() and (p / "labels").is_dir()
               for p in path.iterdir() if p.is_dir())


def _root(path: str | Path) -> Path:
    path = Path(path)
    return path.parent if path.is_file() and path.suffix.lower() in (".yaml", ".yml") else path


def yolo_splits(path: str | Path) -> list[tuple[Path, Path, str]]:
    """The ``(images_dir, labels_dir, split)`` folders of a YOLO dataset.

    Raises:
        InputError: the folder does not exist or has no ``images`` folder.
    """
    root = _root(path)
    if not root.is_dir():
        raise InputError(root, "dataset folder not found")
    found = []
    images = root / "images"
    if images.is_dir():
        subs = sorted(p for p in images.iterdir() if p.is_dir() and folder_split(p.name))
        if not subs or any(is_image_file(p) for p in images.iterdir()):
            found.append((images, root / "labels", ""))
        found.extend((sub, root / "labels" / sub.name, folder_split(sub.name)) for sub in subs)
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and folder_split(p.name)):
        if (sub / "images").is_dir():
            found.append((sub / "images", sub / "labels", folder_split(sub.name)))
    if not found:
        raise InputError(root, "not a YOLO dataset: expected images/ and labels/ folders (with train/val/test "
                               "inside, or not)")
    return sorted(found, key=lambda item: split_order(item[2]))


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return json.loads(text) if text[0] == '"' else text[1:-1].replace("''", "'")
    return text


def _strip_comment(line: str) -> str:
    # A '#' starts a comment only outside quotes and after a space (YAML's rule).
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _split_flow(text: str) -> list[str]:
    items, current, quote = [], "", None
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            items.append(current)
            current = ""
            continue
        current += char
    items.append(current)
    return [item.strip() for item in items if item.strip()]


def parse_names(text: str, where: str | Path = "data.yaml") -> dict[int, str]:
    """The class names of a YOLO ``data.yaml``, by id, read with a tiny parser of its ``names:`` key.

    Accepts ``names: [a, b]``, ``names: {0: a, 1: b}``, and block lists (``- a``) or maps (``0: a``) on the
    following indented lines.

    Raises:
        InputError: a ``names`` entry that is not understood.
    """
    lines = [_strip_comment(line) for line in text.splitlines()]
    for index, line in enumerate(lines):
        match = re.match(r"names\s*:(.*)$", line)
        if not match:
            continue
        rest = match.group(1).strip()
        items: list[str] = []
        if rest:
            if rest[0] not in "[{" or rest[-1] != {"[": "]", "{": "}"}[rest[0]]:
                raise InputError(where, f"names: expected a [list] or {{map}}, got {rest!r}")
            items = _split_flow(rest[1:-1])
            block = False
        else:
            for following in lines[index + 1:]:
                if not following.strip():
                    continue
                if not following[:1].isspace():
                    break
                items.append(following.strip())
            block = True
        names: dict[int, str] = {}
        for position, item in enumerate(items):
            if block and item.startswith("-"):
                names[position] = _unquote(item[1:])
            elif ":" in item and _unquote(item.split(":", 1)[0]).strip().isdigit():
                key, value = item.split(":", 1)
                names[int(_unquote(key))] = _unquote(value)
            elif not block and rest.startswith("["):
                names[position] = _unquote(item)
            else:
                raise InputError(where, f"names: cannot read the entry {item!r}")
        return names
    return {}


def read_names(root: str | Path) -> dict[int, str] | None:
    """Class names from ``data.yaml`` (or ``dataset.yaml``, any ``*.yaml`` with ``names``, or ``classes.txt``).

    Returns:
        Names by class id, or None when the dataset has no names file.
    """
    root = _root(root)
    candidates = [root / name for name in YAML_NAMES]
    candidates += sorted(p for p in root.glob("*.y*ml") if p not in candidates)
    for candidate in candidates:
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(candidate, f"cannot read file ({exc})") from None
            names = parse_names(text, candidate)
            if names:
                return names
    for classes in (root / "classes.txt", root / "labels" / "classes.txt"):
        if classes.is_file():
            return dict(enumerate(line.strip() for line in classes.read_text(encoding="utf-8").splitlines()
                                  if line.strip()))
    return None


def _class_name(class_id: int, names: dict[int, str] | None) -> str:
    if names is None:
        return "numberplate" if class_id == 0 else f"class{class_id}"
    if class_id not in names:
        raise ValueError(f"class id {class_id} is not among the names of data.yaml ({len(names)} classes)")
    return names[class_id]


def parse_label_line(line: str, width: int, height: int, names: dict[int, str] | None) -> PlateAnnotation:
    """One label line as a plate in pixels of a ``width`` x ``height`` image.

    Raises:
        ValueError: not 5, 13 or 17 numbers, a bad class id, or a box of negative size.
    """
    try:
        values = [float(token) for token in line.split()]
    except ValueError:
        raise ValueError(f"not a list of numbers: {line.strip()!r}") from None
    if len(values) not in (5, 13, 17):
        raise ValueError(f"expected 5 (box), 13 or 17 (box + 4 corners) numbers, got {len(values)}")
    if not values[0].is_integer() or values[0] < 0:
        raise ValueError(f"class id must be a whole number >= 0, got {values[0]:g}")
    label = _class_name(int(values[0]), names)
    cx, cy, bw, bh = values[1:5]
    if bw < 0 or bh < 0:
        raise ValueError(f"box size must not be negative, got {bw:g} x {bh:g}")
    corners = box_corners((cx - bw / 2) * width, (cy - bh / 2) * height, (cx + bw / 2) * width,
                          (cy + bh / 2) * height)
    has_corners = False
    if len(values) > 5:
        step = 3 if len(values) == 17 else 2
        points = [values[5 + k * step: 5 + (k + 1) * step] for k in range(4)]
        if all(step == 2 or p[2] > 0 for p in points):
            corners = tuple((p[0] * width, p[1] * height) for p in points)  # type: ignore[assignment]
            has_corners = True
    return PlateAnnotation(corners=corners, label=label, has_corners=has_corners)


def read_yolo(path: str | Path, errors: list[InputError] | None = None) -> list[ImageRecord]:
    """Read a YOLO-pose (or plain YOLO box) dataset.

    Photos with label lines are opened to learn their size (the labels are fractions of it); photos
    without a label file, or with an empty one, are negatives.

    Args:
        path: the dataset folder (or its ``data.yaml``).
        errors: when given, bad label files and lines, label files without a photo and unreadable photos
            are appended here and skipped; otherwise the first raises.

    Returns:
        One record per photo, split by split, in file name order. Plates have no text or region.

    Raises:
        InputError: not a YOLO dataset, or (without ``errors``) the first bad file.
    """
    names = read_names(path)
    records: list[ImageRecord] = []
    for images_dir, labels_dir, split in yolo_splits(path):
        if not labels_dir.is_dir():
            report(errors, InputError(labels_dir, "labels folder not found"))
            continue
        images: dict[str, Path] = {}
        for image in sorted(p for p in images_dir.iterdir() if is_image_file(p)):
            if image.stem in images:
                report(errors, InputError(image, f"{images[image.stem].name} has the same stem; both would use "
                                                 f"{labels_dir / (image.stem + '.txt')}"))
                continue
            images[image.stem] = image
        for label in sorted(labels_dir.glob("*.txt")):
            if label.stem not in images and label.name != "classes.txt":
                report(errors, InputError(label, f"label file has no image in {images_dir}"))
        for stem, image in images.items():
            label = labels_dir / f"{stem}.txt"
            record = ImageRecord(image_path=image, split=split)
            try:
                lines = label.read_text(encoding="utf-8").splitlines() if label.is_file() else []
            except (OSError, UnicodeDecodeError) as exc:
                report(errors, InputError(label, f"cannot read file ({exc})"))
                continue
            lines = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
            if lines:
                try:
                    record.width, record.height = image_size(image)
                except InputError as exc:
                    report(errors, exc)
                    continue
            for number, line in lines:
                try:
                    record.plates.append(parse_label_line(line, record.width, record.height, names))
                except ValueError as exc:
                    report(errors, InputError(label, f"line {number}: {exc}"))
            records.append(record)
    return records


def _yaml_name(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name) else json.dumps(name, ensure_ascii=False)


def data_yaml(classes: Sequence[str], splits: Sequence[str]) -> str:
    """The text of ``data.yaml`` for the given class names and splits (``""`` = flat ``images/``)."""
    folders = {split: f"images/{split}" if split else "images" for split in splits}
    train = folders.get("train") or folders.get("") or next(iter(folders.values()), "images")
    val = folders.get("val") or train
    lines = ["# YOLO-pose plate dataset: 4 keypoints per plate, clockwise from the top-left corner.",
             "# No 'path' key: Ultralytics uses this file's folder (pass it this file's absolute path).",
             f"train: {train}", f"val: {val}"]
    if "test" in folders:
        lines.append(f"test: {folders['test']}")
    lines += ["kpt_shape: [4, 3]", f"flip_idx: [{', '.join(str(i) for i in FLIP_IDX)}]",
              f"nc: {len(classes)}", "names:"]
    lines += [f"  {index}: {_yaml_name(name)}" for index, name in enumerate(classes)]
    return "\n".join(lines) + "\n"


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def plate_to_line(plate: PlateAnnotation, class_id: int, width: int, height: int) -> str:
    """One label line for a plate of a ``width`` x ``height`` image (corners clipped to the image)."""
    points = [(_clip(x / width), _clip(y / height)) for x, y in plate.corners]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    box = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys))
    values = [f"{v:.6f}" for v in box]
    for x, y in points:
        values += [f"{x:.6f}", f"{y:.6f}", "2"] if plate.has_corners else ["0", "0", "0"]
    return " ".join([str(class_id)] + values)


def write_yolo(records: Sequence[ImageRecord], path: str | Path, classes: Sequence[str] | None = None) -> Path:
    """Write records as a YOLO-pose dataset; photos are hard-linked or copied into ``images/``.

    Plate text, region and attributes are dropped: YOLO label lines have no place for them. Photos whose
    size the record does not know are opened with OpenCV.

    Args:
        records: photos and plates; ``split`` picks ``images/<split>`` (flat ``images/`` when empty).
        path: output folder.
        classes: class names in id order; default: the labels in order of first appearance
            (``["numberplate"]`` when there are no plates).

    Returns:
        The ``data.yaml`` written.

    Raises:
        InputError: a label not among ``classes``, two photos of one split with the same stem, or a photo
            whose size is unknown and that cannot be opened.
    """
    root = Path(path)
    if classes is None:
        classes = list(dict.fromkeys(p.label for r in records for p in r.plates)) or ["numberplate"]
    class_ids = {name: index for index, name in enumerate(classes)}
    seen: dict[tuple[str, str], Path] = {}
    for record in records:
        key = (record.split, record.image_path.stem)
        if key in seen and seen[key].resolve() != record.image_path.resolve():
            raise InputError(record.image_path, f"{seen[key]} has the same stem in split "
                                                f"{record.split or '(none)'}; YOLO names label files by stem")
        seen[key] = record.image_path
        for plate in record.plates:
            if plate.label not in class_ids:
                raise InputError(record.image_path, f"plate label {plate.label!r} is not among the classes "
                                                    f"{list(classes)}")
    for record in records:
        images_dir = root / "images" / record.split if record.split else root / "images"
        labels_dir = root / "labels" / record.split if record.split else root / "labels"
        lines = []
        if record.plates:
            width, height = record.width, record.height
            if not (width and height):
                width, height = image_size(record.image_path)
            lines = [plate_to_line(p, class_ids[p.label], width, height) for p in record.plates]
        place_image(record.image_path, images_dir / record.image_path.name)
        atomic_write_bytes(labels_dir / f"{record.image_path.stem}.txt",
                           "".join(line + "\n" for line in lines).encode("utf-8"))
    yaml_path = root / "data.yaml"
    splits = sorted({r.split for r in records}, key=split_order)
    atomic_write_bytes(yaml_path, data_yaml(classes, splits).encode("utf-8"))
    return yaml_path
