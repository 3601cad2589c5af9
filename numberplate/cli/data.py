"""``numberplate data``: dataset tools (check, convert; more come with the annotation workbench)."""

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
    return parser


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
