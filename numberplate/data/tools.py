"""Dataset tools behind ``numberplate data split|merge|dedupe|crop|stats``.

Every tool reads through the record types (:class:`OcrRecord` for Nomeroff-layout crop sets,
:class:`ImageRecord` for VIA / YOLO-pose / COCO photo sets) and writes a new dataset folder: sources are
never changed, except by ``dedupe --delete``, which removes the duplicate files themselves. Images are
hard-linked into outputs when possible (every writer here replaces files instead of editing them, so a
shared inode is safe) and annotations are written atomically.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from numberplate.data.records import ImageRecord, OcrRecord
from numberplate.errors import InputError

SPLITS = ("train", "val", "test")

#: Annotation fields that name the photo a crop was cut from (the first one present is used).
SOURCE_FIELDS = ("source", "source_photo", "photo", "source_image")


# ------------------------------------------------------------------------------------------- datasets


def dataset_kind(path: str | Path) -> str:
    """``"ocr"`` for a Nomeroff-layout crop set, else the detection format (``"via"``, ``"yolo"``, ``"coco"``).

    Raises:
        InputError: the folder holds neither.
    """
    from numberplate.data.detection import detect_format
    from numberplate.data.nomeroff import split_dirs

    path = Path(path)
    if not path.exists():
        raise InputError(path, "not found")
    if path.is_dir():
        try:
            split_dirs(path)
            return "ocr"
        except InputError:
            pass
    try:
        return detect_format(path)
    except InputError as exc:
        if exc.path and Path(exc.path) != path:
            raise
        raise InputError(path, "neither a Nomeroff OCR dataset ({train,val,test}/{ann,img}) nor a detection "
                               "dataset (VIA via_region_data.json, YOLO images/+labels/, COCO JSON)") from None


def split_of_dir(split_dir: Path) -> str:
    """The split a Nomeroff split folder holds; a bare ``ann``/``img`` root counts as ``train``."""
    return split_dir.name if split_dir.name in SPLITS else "train"


def load_ocr(root: str | Path) -> list[tuple[str, OcrRecord]]:
    """Every record of a Nomeroff-layout dataset with its split, in split then name order.

    Raises:
        InputError: not a dataset, or the first bad annotation (naming its file).
    """
    from numberplate.data.nomeroff import iter_records, split_dirs

    return [(split_of_dir(d), r) for d in split_dirs(root) for r in iter_records(d)]


def ensure_empty_output(out: str | Path, force: bool = False) -> Path:
    """Check an output folder is absent or empty (or ``force``), so a tool never mixes two datasets."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(out, "output folder is not empty (use --force to write into it)")
    return out


def write_ocr_item(out: Path, split: str, record: OcrRecord, name: str | None = None) -> OcrRecord:
    """Copy one crop (image hard-linked or copied, annotation written atomically) into ``out/split``."""
    from numberplate.data.detection import place_image
    from numberplate.data.nomeroff import write_record

    name = name or record.name
    image_dst = out / split / "img" / f"{name}{record.image_path.suffix.lower() or '.png'}"
    if not place_image(record.image_path, image_dst):
        raise InputError(record.image_path, "image file not found")
    return write_record(out / split, replace(record, name=name, image_path=image_dst))


def file_hash(path: str | Path) -> str:
    """sha256 of a file's bytes: the identity of an image for ``dedupe``."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror})") from None
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- split


def parse_ratios(text: str) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` (or ``"80,10,10"``) -> train/val/test shares that sum to 1.

    Raises:
        InputError: not three non-negative numbers with a positive sum.
    """
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 3 or any(v < 0 for v in values) or sum(values) <= 0:
        raise InputError(None, f"--ratios must be three non-negative numbers train,val,test, got {text!r}")
    total = sum(values)
    return values[0] / total, values[1] / total, values[2] / total


@dataclass(frozen=True)
class Grouping:
    """How items are grouped by source photo, so one photo never spans splits.

    Attributes:
        fields: annotation fields naming the source photo; the first present one is the group.
        pattern: a regex searched in the item name; its first group (or whole match) is the group.
            Items with neither are their own group.
    """

    fields: tuple[str, ...] = SOURCE_FIELDS
    pattern: re.Pattern | None = None

    @classmethod
    def build(cls, field_name: str | None = None, regex: str | None = None) -> Grouping:
        pattern = None
        if regex:
            try:
                pattern = re.compile(regex)
            except re.error as exc:
                raise InputError(None, f"--group-regex {regex!r} is not a valid regular expression ({exc})") from None
        return cls((field_name,) if field_name else SOURCE_FIELDS, pattern)

    def key(self, name: str, extra: dict | None = None) -> str:
        for key in self.fields:
            value = (extra or {}).get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
                return f"{key}:{value}"
        if self.pattern is not None:
            match = self.pattern.search(name)
            if match:
                return "name:" + (match.group(1) if match.groups() and match.group(1) is not None else match.group(0))
        return f"item:{name}"


def assign_splits(group_sizes: dict[str, int], ratios: tuple[float, float, float], seed: int = 0) -> dict[str, str]:
    """Give each group a split, whole groups only, close to ``ratios`` of the items.

    Groups are shuffled by ``seed`` and laid end to end; a group goes to the split its middle item falls in,
    so the split sizes miss the ratios by at most half a group each.
    """
    keys = sorted(group_sizes)
    random.Random(seed).shuffle(keys)
    total = sum(group_sizes.values())
    bounds = (ratios[0] * total, (ratios[0] + ratios[1]) * total)
    out, position = {}, 0
    for key in keys:
        middle = position + group_sizes[key] / 2
        out[key] = "train" if middle < bounds[0] else "val" if middle < bounds[1] else "test"
        position += group_sizes[key]
    return out


@dataclass
class SplitSummary:
    items: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)


def split_dataset(src: str | Path, out: str | Path, ratios: tuple[float, float, float], seed: int = 0,
                  grouping: Grouping = Grouping(), force: bool = False) -> SplitSummary:
    """Write ``src`` to ``out`` split into train/val/test by source photo (the old split is ignored).

    OCR crops are grouped by :class:`Grouping`; detection photos are items themselves (``grouping.pattern``
    applies to their file stems, e.g. frames of one video). The output has the input's format.
    """
    kind = dataset_kind(src)
    out = ensure_empty_output(out, force)
    summary = SplitSummary({s: 0 for s in SPLITS}, {s: 0 for s in SPLITS})
    if kind == "ocr":
        items = load_ocr(src)
        if not items:
            raise InputError(src, "dataset has no annotations")
        keys = [grouping.key(r.name, r.extra) for _, r in items]
    else:
        from numberplate.data.detection import read_detection

        records = read_detection(src, kind)
        if not records:
            raise InputError(src, "dataset has no images")
        keys = [grouping.key(r.image_path.stem, r.extra) for r in records]
    sizes = Counter(keys)
    splits = assign_splits(dict(sizes), ratios, seed)
    for key, split in splits.items():
        summary.groups[split] += 1
        summary.items[split] += sizes[key]
    if kind == "ocr":
        taken: dict[tuple[str, str], Path] = {}
        for (_, record), key in zip(items, keys):
            split = splits[key]
            if (split, record.name) in taken:
                raise InputError(record.ann_path, f"two items are named {record.name!r} (the other is "
                                                  f"{taken[(split, record.name)]}); rename one before splitting")
            taken[(split, record.name)] = record.ann_path
            write_ocr_item(out, split, record)
    else:
        from numberplate.data.detection import write_detection

        write_detection([replace(r, split=splits[k]) for r, k in zip(records, keys)], out, kind)
    return summary


# ---------------------------------------------------------------------------------------------- merge


def _free_name(name: str, prefix: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    candidate, number = f"{prefix}-{name}", 2
    while candidate in taken:
        candidate, number = f"{prefix}-{name}-{number}", number + 1
    return candidate


def merge_datasets(sources: Sequence[str | Path], out: str | Path, fmt: str | None = None,
                   force: bool = False) -> tuple[int, int]:
    """Merge datasets of one kind into ``out``, keeping each item's split.

    Two items with the same name in one split are both kept: the later one is renamed
    ``<source folder>-<name>``. Detection datasets are written in ``fmt`` (default: the first one's).

    Returns:
        ``(items written, items renamed)``.
    """
    if len(sources) < 2:
        raise InputError(None, "merge needs at least two datasets")
    kinds = [dataset_kind(s) for s in sources]
    if "ocr" in kinds and set(kinds) != {"ocr"}:
        mixed = ", ".join(f"{s} ({k})" for s, k in zip(sources, kinds))
        raise InputError(None, f"cannot merge OCR crop sets with detection sets: {mixed}")
    out = ensure_empty_output(out, force)
    written = renamed = 0
    if kinds[0] == "ocr":
        taken: dict[str, set[str]] = {s: set() for s in SPLITS}
        for src in sources:
            prefix = Path(src).resolve().name
            for split, record in load_ocr(src):
                name = _free_name(record.name, prefix, taken[split])
                taken[split].add(name)
                renamed += name != record.name
                write_ocr_item(out, split, record, name)
                written += 1
        return written, renamed
    return _merge_detection(sources, kinds, out, fmt or kinds[0])


def _merge_detection(sources, kinds, out: Path, fmt: str) -> tuple[int, int]:
    import shutil

    from numberplate.data.detection import place_image, read_detection, write_detection

    staging = out / ".merge-staging"
    records: list[ImageRecord] = []
    taken: dict[str, set[str]] = {}
    renamed = 0
    try:
        for src, kind in zip(sources, kinds):
            prefix = Path(src).resolve().name
            for record in read_detection(src, kind):
                names = taken.setdefault(record.split, set())
                name = _free_name(record.image_path.name, prefix, names)
                names.add(name)
                if name != record.image_path.name:
                    # Writers name photos by file name: give the renamed one a link under its new name.
                    staged = staging / str(len(records)) / name
                    if not place_image(record.image_path, staged):
                        raise InputError(record.image_path, "image file not found")
                    record = replace(record, image_path=staged)
                    renamed += 1
                records.append(record)
        write_detection(records, out, fmt)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(records), renamed


# --------------------------------------------------------------------------------------------- dedupe


@dataclass
class DuplicateGroup:
    """Items whose images have the same bytes: ``keep`` stays, ``drop`` go."""

    digest: str
    keep: str
    drop: list[str]
    conflict: str = ""  # the labels differ: worth a look by a person


def _ocr_preference(item: tuple[str, OcrRecord]) -> tuple:
    split, record = item
    return (not record.moderated, not record.text, SPLITS.index(split), record.name)


def find_duplicates_ocr(items: Sequence[tuple[str, OcrRecord]],
                        hasher: Callable[[Path], str] = file_hash) -> list[DuplicateGroup]:
    """Duplicate crops by image content; the kept one is moderated, labelled, earliest split, first name."""
    by_hash: dict[str, list[tuple[str, OcrRecord]]] = {}
    for item in items:
        by_hash.setdefault(hasher(item[1].image_path), []).append(item)
    groups = []
    for digest, members in by_hash.items():
        if len(members) < 2:
            continue
        members = sorted(members, key=_ocr_preference)
        labels = {(r.text, r.state) for _, r in members if r.text or r.moderated}
        conflict = "different labels: " + ", ".join(sorted(t or f"({s})" for t, s in labels)) if len(labels) > 1 else ""
        groups.append(DuplicateGroup(digest, str(members[0][1].ann_path), [str(r.ann_path) for _, r in members[1:]],
                                     conflict))
    return sorted(groups, key=lambda g: g.keep)


def dedupe_dataset(src: str | Path, out: str | Path | None = None, delete: bool = False,
                   force: bool = False) -> list[DuplicateGroup]:
    """Find images with identical bytes; optionally write a copy without them or delete them in place.

    Args:
        src: OCR or detection dataset.
        out: write the dataset without duplicates here (same format).
        delete: OCR sets only: remove each duplicate's annotation, then its image, from ``src``.

    Returns:
        The duplicate groups (also when nothing is written: a dry run).
    """
    if out is not None and delete:
        raise InputError(None, "use either --out or --delete, not both")
    kind = dataset_kind(src)
    if kind == "ocr":
        items = load_ocr(src)
        groups = find_duplicates_ocr(items)
        dropped = {p for g in groups for p in g.drop}
        if out is not None:
            out = ensure_empty_output(out, force)
            for split, record in items:
                if str(record.ann_path) not in dropped:
                    write_ocr_item(out, split, record)
        elif delete:
            for _, record in items:
                if str(record.ann_path) in dropped:
                    # Annotation first: a crash in between leaves an unlabelled image, never a label without one.
                    record.ann_path.unlink(missing_ok=True)
                    record.image_path.unlink(missing_ok=True)
        return groups
    from numberplate.data.detection import read_detection, write_detection

    if delete:
        raise InputError(src, "--delete works on OCR crop sets; write a detection set without duplicates with --out")
    records = read_detection(src, kind)
    by_hash: dict[str, list[ImageRecord]] = {}
    for record in records:
        if not record.image_path.is_file():
            raise InputError(record.image_path, "image file not found")
        by_hash.setdefault(file_hash(record.image_path), []).append(record)
    groups = []
    for digest, members in by_hash.items():
        if len(members) > 1:
            members = sorted(members, key=lambda r: (-len(r.plates), SPLITS.index(r.split) if r.split in SPLITS else 0,
                                                     str(r.image_path)))
            plates = {len(r.plates) for r in members}
            conflict = f"different plate counts: {sorted(plates)}" if len(plates) > 1 else ""
            groups.append(DuplicateGroup(digest, str(members[0].image_path), [str(r.image_path) for r in members[1:]],
                                         conflict))
    if out is not None:
        out = ensure_empty_output(out, force)
        dropped = {p for g in groups for p in g.drop}
        write_detection([r for r in records if str(r.image_path) not in dropped], out, kind)
    return sorted(groups, key=lambda g: g.keep)


# ----------------------------------------------------------------------------------------------- crop


def crop_dataset(src: str | Path, out: str | Path, out_height: int | None = None, labels: Iterable[str] = (),
                 force: bool = False, image_suffix: str = ".png", locate=None, min_height: int = 0) -> dict[str, int]:
    """Cut every labelled plate out of a detection set into a Nomeroff OCR set, rectified by its corners.

    One crop per plate, named ``<photo stem>_<plate number>`` (from 0), in the photo's split (``train``
    when the set has none). The annotation keeps the plate's text and region, the photo it came from
    (``source``, which ``split`` groups by) and the corners. Plates with a text count as moderated (a
    person typed it); plates without one are left for moderation.

    Args:
        locate: ``image -> detections`` (such as :meth:`numberplate.reader.Reader.locate`): each plate is then
            cut by the corners of the detection that matches its label (IoU >= 0.5), as the reader would
            cut it (the detector's margins and corner errors included: training crops for the OCR of a
            pipeline). Labelled plates it misses are left out and counted under ``"missed"``.

        min_height: plates whose crop would be lower than this many pixels (the plate's own height in the
            photo, margins included) are left out and counted under ``"small"``: too small to read.

    Returns:
        Crops written per split (and ``"missed"`` plates, with ``locate``; ``"small"`` ones, with ``min_height``).
    """
    from numberplate.data.detection import read_detection
    from numberplate.data.images import read_image
    from numberplate.data.nomeroff import write_record
    from numberplate.stages.rectify import rectify
    from numberplate.train.detect import match_detections
    from numberplate.types import Detection

    kind = dataset_kind(src)
    if kind == "ocr":
        raise InputError(src, "is already an OCR crop set; crop reads a detection set (VIA, YOLO, COCO)")
    out = ensure_empty_output(out, force)
    wanted = set(labels)
    root = Path(src) if Path(src).is_dir() else Path(src).parent
    counts: Counter = Counter()
    seen: set[tuple[str, str]] = set()
    for record in read_detection(src, kind):
        plates = [p for p in record.plates if not wanted or p.label in wanted]
        if not plates:
            continue
        image = read_image(record.image_path)
        split = record.split or "train"
        stem = record.image_path.stem
        if (split, stem) in seen:
            raise InputError(record.image_path, f"another photo of the {split} split is also named {stem}.*; crop "
                                                "names crops after their photo")
        seen.add((split, stem))
        try:
            source = record.image_path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            source = record.image_path.name
        found = {}
        if locate is not None:
            detections = locate(image)
            pairs = match_detections([d.box for d in detections], [p.box for p in plates])
            found = {label: detections[index] for index, label in pairs}
        for number, plate in enumerate(plates):
            if locate is not None and number not in found:
                counts["missed"] += 1
                continue
            detection = found.get(number) or Detection(plate.box, plate.corners, 1.0, plate.label)
            if min_height or not out_height:  # else the crop at out_height below is the only one needed
                crop = rectify(image, detection)  # at the plate's own size, which min_height is about
                if crop.shape[0] < min_height:
                    counts["small"] += 1
                    continue
            if out_height:
                crop = rectify(image, detection, out_height)
            lines = plate.attributes.get("count_lines", plate.attributes.get("lines", 1))
            try:
                lines = int(lines)
            except (TypeError, ValueError):
                lines = 1
            extra = {"source": source, "corners": [[round(x, 1), round(y, 1)] for x, y in plate.corners],
                     "size": {"width": int(crop.shape[1]), "height": int(crop.shape[0])}}
            if not plate.has_corners:
                extra["box_only"] = True
            if locate is not None:  # cut where the detector put the plate, not by the labelled corners
                extra["cut_by"] = {"corners": [[round(float(x), 1), round(float(y), 1)] for x, y in detection.corners],
                                   "score": round(float(detection.score), 3)}
            record_out = OcrRecord(name=f"{stem}_{number}", image_path=Path(), text=plate.text.upper(),
                                   region=plate.region, count_lines=lines if lines in (1, 2, 3) else 1,
                                   state="readable", moderated=bool(plate.text), extra=extra)
            write_record(out / split, record_out, image=crop, image_suffix=image_suffix)
            counts[split] += 1
    if not set(counts) - {"missed", "small"}:
        raise InputError(src, "no plates to crop" + (f" with label {', '.join(sorted(wanted))}" if wanted else ""))
    return dict(counts)


# ---------------------------------------------------------------------------------------------- stats


def predicted_of(extra: dict) -> dict | None:
    """A record's stored model reading as ``{"text", "confidence", ...}``; Nomeroff writes a bare string."""
    value = extra.get("predicted")
    if isinstance(value, str):
        return {"text": value, "confidence": None}
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        confidence = value.get("confidence")
        ok = isinstance(confidence, int | float) and not isinstance(confidence, bool)
        return {**value, "confidence": float(confidence) if ok else None}
    return None


def ocr_stats(items: Sequence[tuple[str, OcrRecord]]) -> dict:
    """Counts per split: items, moderated, labelled, predicted, states, lines; regions and text lengths."""
    splits: dict[str, Counter] = {}
    regions: Counter = Counter()
    lengths: Counter = Counter()
    for split, record in items:
        counts = splits.setdefault(split, Counter())
        counts["items"] += 1
        counts["moderated"] += record.moderated
        counts["labelled"] += bool(record.text)
        counts["predicted"] += predicted_of(record.extra) is not None
        counts[record.state] += 1
        counts[f"{record.count_lines}-line"] += 1
        regions[record.region or "(none)"] += 1
        if record.text:
            lengths[len(record.text)] += 1
    total: Counter = Counter()
    for counts in splits.values():
        total.update(counts)
    return {"kind": "ocr", "splits": {k: dict(v) for k, v in splits.items()}, "total": dict(total),
            "regions": dict(regions.most_common()), "text_lengths": dict(sorted(lengths.items()))}


def detection_stats(records: Sequence[ImageRecord]) -> dict:
    """Counts per split: photos, plates, negatives, true corners vs boxes, texts; regions and labels."""
    splits: dict[str, Counter] = {}
    regions: Counter = Counter()
    labels: Counter = Counter()
    for record in records:
        counts = splits.setdefault(record.split or "(none)", Counter())
        counts["photos"] += 1
        counts["negatives"] += not record.plates
        for plate in record.plates:
            counts["plates"] += 1
            counts["corners" if plate.has_corners else "boxes"] += 1
            counts["with_text"] += bool(plate.text)
            regions[plate.region or "(none)"] += 1
            labels[plate.label] += 1
    total: Counter = Counter()
    for counts in splits.values():
        total.update(counts)
    return {"splits": {k: dict(v) for k, v in splits.items()}, "total": dict(total),
            "regions": dict(regions.most_common()), "labels": dict(labels.most_common())}


def dataset_stats(src: str | Path, hashes: bool = False) -> dict:
    """Statistics of an OCR or detection dataset (see :func:`ocr_stats`, :func:`detection_stats`).

    Args:
        hashes: also count images whose bytes are identical (reads every image).
    """
    kind = dataset_kind(src)
    if kind == "ocr":
        items = load_ocr(src)
        stats = ocr_stats(items)
        if hashes:
            groups = find_duplicates_ocr(items)
            stats["duplicates"] = {"groups": len(groups), "extra_items": sum(len(g.drop) for g in groups)}
        return stats
    from numberplate.data.detection import read_detection

    records = read_detection(src, kind)
    stats = {"kind": kind, **detection_stats(records)}
    if hashes:
        digests = Counter(file_hash(r.image_path) for r in records if r.image_path.is_file())
        stats["duplicates"] = {"groups": sum(1 for n in digests.values() if n > 1),
                               "extra_items": sum(n - 1 for n in digests.values() if n > 1)}
    return stats


def format_stats(stats: dict) -> str:
    """A plain-text table of :func:`dataset_stats`."""
    if stats["kind"] == "ocr":
        columns = ["items", "moderated", "labelled", "predicted", "readable", "filled", "empty", "garbage",
                   "1-line", "2-line", "3-line"]
    else:
        columns = ["photos", "plates", "negatives", "corners", "boxes", "with_text"]
    rows = [["split", *columns]]
    for split, counts in stats["splits"].items():
        rows.append([split, *(str(counts.get(c, 0)) for c in columns)])
    rows.append(["total", *(str(stats["total"].get(c, 0)) for c in columns)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.append("regions: " + (", ".join(f"{k} {v}" for k, v in stats["regions"].items()) or "-"))
    if stats.get("labels"):
        lines.append("labels: " + ", ".join(f"{k} {v}" for k, v in stats["labels"].items()))
    if stats.get("text_lengths"):
        lines.append("text lengths: " + ", ".join(f"{k}: {v}" for k, v in stats["text_lengths"].items()))
    if "duplicates" in stats:
        d = stats["duplicates"]
        lines.append(f"duplicate images: {d['groups']} groups, {d['extra_items']} extra copies")
    return "\n".join(lines)
