"""``numberplate ocr``: read the text of plate crops (already cut out and roughly upright)."""

from __future__ import annotations

import argparse
import json
import sys

from numberplate.data.images import read_image
from numberplate.errors import InputError

CHUNK = 64


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "ocr", help="read the text of plate crops",
        description="Read the text of plate crops with the shipped CRNN models. Prints one line per crop: "
                    "path, text, confidence (or JSON lines with --format jsonl).",
        epilog="Example: numberplate ocr --region ua crops/*.jpg --format jsonl",
    )
    parser.add_argument("images", nargs="+", metavar="CROP", help="image files, folders or glob patterns")
    parser.add_argument("--region", help="region code (ua, ru, by, kz, de, pl, eu, us, br, ar...); "
                        "default: the universal model")
    parser.add_argument("--model", help="shipped model name or path to an .onnx file (overrides --region's)")
    parser.add_argument("--lines", type=int, choices=(1, 2, 3), default=1,
                        help="text lines on the plates (two- and three-line plates are read line after line)")
    parser.add_argument("--format", choices=("text", "jsonl"), default="text")
    parser.add_argument("--threads", type=int, help="ONNX Runtime threads (default: all cores)")
    parser.set_defaults(func=run)
    return parser


def _emit(path, reading, fmt: str) -> None:
    if fmt == "jsonl":
        print(json.dumps({"image": str(path), **reading.to_dict()}, ensure_ascii=False), flush=True)
    else:
        print(f"{path}\t{reading.text}\t{reading.confidence:.3f}", flush=True)


def run(args) -> int:
    from numberplate.cli.inputs import expand_image_args
    from numberplate.stages.recognize import Recognizer

    paths, errors = expand_image_args(args.images)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    recognizer = Recognizer(region=args.region, model=args.model, threads=args.threads)
    read, failed = 0, len(errors)
    for start in range(0, len(paths), CHUNK):
        good = []
        for path in paths[start:start + CHUNK]:
            try:
                good.append((path, read_image(path)))
            except InputError as exc:
                failed += 1
                print(f"error: {exc}", file=sys.stderr)
        if not good:
            continue
        for (path, _), reading in zip(good, recognizer.read_batch([image for _, image in good], args.lines)):
            _emit(path, reading, args.format)
            read += 1
    if failed:
        print(f"{read} crops read, {failed} failed", file=sys.stderr)
    return 0 if read else 1
