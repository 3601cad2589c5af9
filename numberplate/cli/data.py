"""``numberplate data``: dataset tools (check, convert, prelabel, split, merge, dedupe, crop, stats)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("data", help="check and manage datasets",
                                   description="Dataset tools.",
                                   epilog="Example: numberplate data check ../shared/data/ocr/br-crops")
    tools = parser.add_subparsers(dest="tool", metavar="TOOL", required=True)
    check = tools.add_parser(
        "check", help="report every problem in an OCR (Nomeroff) or detection (VIA, YOLO, COCO) dataset",
        description="Report problems one line per problem, with the file name; exit code 1 when anything is "
                    "wrong. The layout is detected: a Nomeroff OCR dataset ({train,val,test}/{ann,img}) gets "
                    "missing or unreadable images, bad JSON, empty texts and characters outside the alphabet; a "
                    "detection dataset (VIA via_region_data.json, YOLO images/+labels/, COCO JSON) gets missing "
                    "or unreadable photos, broken or wrong-format files, corners outside the photo and "
                    "degenerate quads.",
        epilog="Examples: numberplate data check ../shared/data/ocr/br-crops --region br; "
               "numberplate data check ../shared/data/detection/ro-dashcam")
    check.add_argument("dirs", nargs="+", metavar="DIR")
    check.add_argument("--format", choices=("auto", "ocr", "via", "yolo", "coco"), default="auto",
                       help="dataset layout (default: detect it)")
    check.add_argument("--region", help="OCR datasets: check texts against this region's alphabet "
                                        "(default: digits + A-Z)")
    check.add_argument("--allow-unlabelled", action="store_true", help="OCR datasets: empty texts are not problems")
    check.add_argument("--no-images", action="store_true", help="do not open the images (faster)")
    check.set_defaults(func=run_check)

    convert = tools.add_parser(
        "convert", help="convert a detection dataset between VIA, YOLO-pose and COCO keypoints",
        description="Read a detection dataset (photos with plates labelled by 4 corners) and write it in another "
                    "format as a self-contained folder: photos are hard-linked (or copied) in, train/val/test "
                    "splits are kept. YOLO labels hold no plate text or region: converting to YOLO drops them.",
        epilog="Example: numberplate data convert ../shared/data/detection/ro-dashcam --to yolo --out work/ro-yolo")
    convert.add_argument("src", metavar="SRC", help="dataset folder or annotation file")
    convert.add_argument("--to", required=True, choices=("via", "yolo", "coco"), help="output format")
    convert.add_argument("--out", required=True, metavar="DST", help="output folder")
    convert.add_argument("--from", dest="from_format", choices=("via", "yolo", "coco"),
                         help="input format (default: detect it)")
    convert.add_argument("--classes", help="YOLO class names in id order, comma-separated "
                                           "(default: labels in order of first appearance)")
    convert.add_argument("--force", action="store_true", help="write into DST even if it is not empty")
    convert.set_defaults(func=run_convert)
    _register_tools(tools)
    return parser


def _register_tools(tools) -> None:
    prelabel = tools.add_parser(
        "prelabel", help="store model readings (predicted) in unmoderated crops of an OCR set",
        description="Read every unmoderated crop of a Nomeroff OCR set and store the reading beside its labels as "
                    "\"predicted\": {text, confidence, engine, ...}. Labels (description, region, state, moderation) "
                    "are not touched. The annotation tool pre-fills its text field from this reading and can sort "
                    "the queue by its confidence. Each annotation is rewritten atomically, and only if nobody "
                    "changed it meanwhile (the annotation tool may be open on the same set).",
        epilog="Example: numberplate data prelabel ../shared/data/ocr/eu-unlabelled --engine numberplate")
    prelabel.add_argument("dir", metavar="DIR", help="Nomeroff OCR dataset")
    prelabel.add_argument("--engine", choices=("numberplate", "tesseract"), default="numberplate",
                          help="numberplate (the shipped models, default) or tesseract (needs tesseract-ocr)")
    prelabel.add_argument("--region", help="read every crop as this region (default: the classifier decides)")
    prelabel.add_argument("--all", action="store_true", help="read moderated crops too")
    prelabel.add_argument("--keep-existing", action="store_true", help="skip crops that already have a reading")
    prelabel.add_argument("--threads", type=int, help="ONNX Runtime threads (default: all cores)")
    prelabel.set_defaults(func=run_prelabel)

    split = tools.add_parser(
        "split", help="split a dataset into train/val/test by source photo",
        description="Write DIR to --out split into train/val/test. Crops cut from one photo stay together: items "
                    "are grouped by an annotation field naming the photo (source, source_photo, photo, "
                    "source_image; or --group-field) or by a part of their name (--group-regex), so one photo "
                    "never spans two splits. Whole groups are assigned at random (--seed) close to --ratios. "
                    "Works on OCR sets and on VIA/YOLO/COCO photo sets (each photo its own group, or grouped by "
                    "--group-regex on its file name, e.g. frames of one video). Images are hard-linked.",
        epilog="Example: numberplate data split work/crops --out work/crops-split --ratios 0.8,0.1,0.1 "
               "--group-regex '^(.+)_\\d+$'")
    split.add_argument("dir", metavar="DIR")
    split.add_argument("--out", required=True, metavar="DST", help="output folder (new or empty)")
    split.add_argument("--ratios", default="0.8,0.1,0.1", help="train,val,test shares (default 0.8,0.1,0.1)")
    split.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    split.add_argument("--group-field", help="annotation field naming the source photo (default: source, "
                                             "source_photo, photo, source_image)")
    split.add_argument("--group-regex", help="regex on the item name; its first group (or match) names the source "
                                             "photo, e.g. '^(.+)_\\d+$' for photo_0, photo_1")
    split.add_argument("--force", action="store_true", help="write into DST even if it is not empty")
    split.set_defaults(func=run_split)

    merge = tools.add_parser(
        "merge", help="merge datasets of one kind into a new one",
        description="Merge OCR sets (or detection sets) into --out, keeping each item's split. Two items of one "
                    "split with the same name are both kept: the later is renamed <its dataset folder>-<name>. "
                    "Detection sets are written in --to (default: the first one's format).",
        epilog="Example: numberplate data merge work/crops-a work/crops-b --out work/crops-ab")
    merge.add_argument("dirs", nargs="+", metavar="DIR")
    merge.add_argument("--out", required=True, metavar="DST", help="output folder (new or empty)")
    merge.add_argument("--to", choices=("via", "yolo", "coco"), help="detection sets: output format")
    merge.add_argument("--force", action="store_true", help="write into DST even if it is not empty")
    merge.set_defaults(func=run_merge)

    dedupe = tools.add_parser(
        "dedupe", help="find images with identical content (and drop the copies)",
        description="Group items whose image files have the same bytes (sha256). Without options, list the "
                    "groups (a dry run). --out writes the dataset without the copies; --delete (OCR sets) "
                    "removes each copy's annotation and image in place. The kept item is the moderated, "
                    "labelled one of the earliest split (train, val, test); groups whose labels differ are "
                    "flagged for a look.",
        epilog="Example: numberplate data dedupe ../shared/data/ocr/br-crops")
    dedupe.add_argument("dir", metavar="DIR")
    what = dedupe.add_mutually_exclusive_group()
    what.add_argument("--out", metavar="DST", help="write the dataset without duplicates here")
    what.add_argument("--delete", action="store_true", help="OCR sets: delete the duplicates in place")
    dedupe.add_argument("--force", action="store_true", help="write into DST even if it is not empty")
    dedupe.set_defaults(func=run_dedupe)

    crop = tools.add_parser(
        "crop", help="cut the plates of a detection set into an OCR crop set",
        description="Cut every plate of a VIA (or YOLO/COCO) photo set out by its 4 corners, rectified upright "
                    "as the reader does it, into a Nomeroff OCR set: one crop per plate, named <photo>_<n>, in the "
                    "photo's split (train when the set has none). Each annotation keeps the plate text and region, "
                    "the photo it came from (source, which split groups by) and the corners. Plates with a text "
                    "count as moderated; the others wait for prelabel and annotate.",
        epilog="Example: numberplate data crop ../shared/data/endtoend/br --out work/br-crops")
    crop.add_argument("dir", metavar="DIR", help="detection dataset folder or annotation file")
    crop.add_argument("--out", required=True, metavar="DST", help="output folder (new or empty)")
    crop.add_argument("--height", type=int, help="crop height in pixels (default: the plate's own, at least 16)")
    crop.add_argument("--label", action="append", default=[], help="only objects of this class (repeatable)")
    crop.add_argument("--format", choices=("png", "jpg"), default="png", help="crop image format (default png)")
    crop.add_argument("--force", action="store_true", help="write into DST even if it is not empty")
    crop.add_argument("--as-read", action="store_true",
                      help="cut each plate by the corners the detector (and corner refiner) find for it, as the reader "
                           "cuts it; plates it misses are left out and counted")
    crop.add_argument("--min-height", type=int, default=0, metavar="PX",
                      help="leave out plates whose crop would be lower than this (in the photo's pixels): too small to read")
    crop.add_argument("--detector", help="with --as-read: detector, shipped name or .onnx path (default: shipped)")
    crop.set_defaults(func=run_crop)

    stats = tools.add_parser(
        "stats", help="count items, labels, moderation, regions per split",
        description="Print per split: OCR sets: items, moderated, labelled, with a model reading, states and line "
                    "counts, then regions and text lengths; detection sets: photos, plates, negatives, true corners "
                    "vs boxes, texts, then regions and labels.",
        epilog="Example: numberplate data stats ../shared/data/ocr/us-crops --json")
    stats.add_argument("dirs", nargs="+", metavar="DIR")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--hashes", action="store_true", help="also count images with identical bytes")
    stats.set_defaults(func=run_stats)


def _layout(root: str) -> str:
    """The layout of ``root``: ``"ocr"``, a detection format, or ``"detection"`` when a would-be detection
    file is broken (so the detection check reports it). Unrecognised folders get ``"ocr"``, whose check says
    what layout is expected, as before detection datasets existed."""
    from numberplate.data.detection import detect_format
    from numberplate.data.nomeroff import split_dirs
    from numberplate.errors import InputError

    try:
        split_dirs(root)
        return "ocr"
    except InputError:
        pass
    try:
        return detect_format(root)
    except InputError as exc:
        # An error about a file inside (bad JSON ...) is a detection problem worth showing as such.
        return "detection" if exc.path and Path(exc.path) != Path(root) else "ocr"


def run_check(args) -> int:
    from numberplate.data.check import check_ocr_dataset
    from numberplate.data.detection import check_detection_dataset
    from numberplate.errors import InputError
    from numberplate.regions import LATIN_ALPHABET, resolve

    alphabet = LATIN_ALPHABET
    if args.region:
        try:
            alphabet = "".join(sorted(set().union(*(s.alphabet for s in resolve(args.region)))))
        except KeyError as exc:
            raise InputError(None, exc.args[0]) from None
    status = 0
    for root in args.dirs:
        layout = _layout(root) if args.format == "auto" else args.format
        if layout == "ocr":
            report = check_ocr_dataset(root, alphabet, args.allow_unlabelled, open_images=not args.no_images)
            kind = "OCR dataset"
        else:
            fmt = None if layout == "detection" else layout
            report = check_detection_dataset(root, open_images=not args.no_images, fmt=fmt)
            kind = f"{fmt or 'detection'} dataset"
        for problem in report.problems:
            print(problem)
        summary = f"{root}: {kind}, {report.items} items, {len(report.problems)} problems"
        print(summary, file=sys.stderr)
        status = status or (0 if report.ok else 1)
    return status


def run_convert(args) -> int:
    from numberplate.data.detection import detect_format, read_detection, write_detection
    from numberplate.errors import InputError

    src, out = Path(args.src), Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise InputError(out, "output folder is not empty (use --force to write into it)")
    fmt = args.from_format or detect_format(src)
    records = read_detection(src, fmt)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    write_detection(records, out, args.to, classes=classes)
    plates = [p for r in records for p in r.plates]
    print(f"{src} ({fmt}) -> {out} ({args.to}): {len(records)} images, {len(plates)} plates", file=sys.stderr)
    if args.to == "yolo":
        dropped = sum(1 for p in plates if p.text or p.region or p.attributes)
        if dropped:
            print(f"note: YOLO labels hold no plate text, region or attributes; dropped them on {dropped} plates",
                  file=sys.stderr)
    return 0


def run_prelabel(args) -> int:
    from numberplate.data.prelabel import make_engine, prelabel
    from numberplate.errors import InputError

    if args.threads is not None and args.threads < 1:
        raise InputError(None, "--threads must be at least 1")
    engine = make_engine(args.engine, args.region, args.threads)
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    summary = prelabel(args.dir, engine, include_moderated=args.all, keep_existing=args.keep_existing,
                       progress=progress)
    if show:
        print(file=sys.stderr)
    parts = [f"{summary.read} crops read by {args.engine}", f"{summary.skipped_moderated} moderated skipped"]
    if summary.skipped_existing:
        parts.append(f"{summary.skipped_existing} with a reading kept")
    if summary.changed_meanwhile:
        parts.append(f"{summary.changed_meanwhile} changed by someone else meanwhile (left as they are)")
    if summary.failed:
        parts.append(f"{summary.failed} unreadable (see numberplate data check)")
    print(f"{args.dir}: " + ", ".join(parts), file=sys.stderr)
    return 1 if summary.failed else 0


def run_split(args) -> int:
    from numberplate.data.tools import Grouping, parse_ratios, split_dataset

    ratios = parse_ratios(args.ratios)
    grouping = Grouping.build(args.group_field, args.group_regex)
    summary = split_dataset(args.dir, args.out, ratios, args.seed, grouping, args.force)
    parts = [f"{s} {summary.items[s]} items ({summary.groups[s]} groups)" for s in ("train", "val", "test")]
    print(f"{args.dir} -> {args.out}: " + ", ".join(parts), file=sys.stderr)
    return 0


def run_merge(args) -> int:
    from numberplate.data.tools import merge_datasets

    written, renamed = merge_datasets(args.dirs, args.out, args.to, args.force)
    note = f", {renamed} renamed to keep names unique" if renamed else ""
    print(f"{len(args.dirs)} datasets -> {args.out}: {written} items{note}", file=sys.stderr)
    return 0


def run_dedupe(args) -> int:
    from numberplate.data.tools import dedupe_dataset

    groups = dedupe_dataset(args.dir, args.out, args.delete, args.force)
    for group in groups:
        for dropped in group.drop:
            print(f"{dropped}: same image as {group.keep}" + (f" ({group.conflict})" if group.conflict else ""))
    copies = sum(len(g.drop) for g in groups)
    done = (f"; wrote {args.out} without them" if args.out else "; deleted them" if args.delete
            else " (dry run: --out DST or --delete to drop them)")
    conflicts = sum(1 for g in groups if g.conflict)
    print(f"{args.dir}: {len(groups)} groups of identical images, {copies} copies{done}"
          + (f"; {conflicts} groups with different labels" if conflicts else ""), file=sys.stderr)
    return 0


def run_crop(args) -> int:
    from numberplate.data.tools import crop_dataset
    from numberplate.errors import InputError

    if args.height is not None and not 8 <= args.height <= 1024:
        raise InputError(None, f"--height must be 8..1024, got {args.height}")
    if args.detector and not args.as_read:
        raise InputError(None, "--detector goes with --as-read")
    if args.min_height < 0:
        raise InputError(None, f"--min-height must be 0 or more, got {args.min_height}")
    locate = None
    if args.as_read:
        from numberplate.reader import Reader
        from numberplate.stages.detect import DEFAULT_DETECTOR

        locate = Reader(detector_model=args.detector or DEFAULT_DETECTOR, use_classifier=False).locate
    counts = crop_dataset(args.dir, args.out, args.height, args.label, args.force, f".{args.format}", locate,
                          args.min_height)
    missed, small = counts.pop("missed", 0), counts.pop("small", 0)
    print(f"{args.dir} -> {args.out}: " + ", ".join(f"{s} {n} crops" for s, n in sorted(counts.items()))
          + (f"; {missed} labelled plates not detected, left out" if missed else "")
          + (f"; {small} lower than {args.min_height} px, left out" if small else ""), file=sys.stderr)
    return 0


def run_stats(args) -> int:
    import json

    from numberplate.data.tools import dataset_stats, format_stats

    results = {}
    for path in args.dirs:
        results[path] = dataset_stats(path, hashes=args.hashes)
        if not args.json:
            print(f"{path} ({results[path]['kind']})")
            print(format_stats(results[path]))
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[args.dirs[0]], indent=1))
    return 0
