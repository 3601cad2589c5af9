"""``numberplate read``: the whole pipeline on photos (files, folders, globs)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from numberplate.errors import InputError


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "read", help="find and read every plate in photos",
        description="Detect plates (box + 4 corners), flatten each one and read its text with the shipped "
                    "models. Prints, per image, every plate with text, confidence, box and corners in "
                    "original-image pixels.",
        epilog="Example: numberplate read examples/car-ua.jpg --region ua --format jsonl --draw out/",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files, folders or glob patterns")
    parser.add_argument("--region", help="force this region for every plate (ua, ru, kz, de, eu, us, br...): its "
                        "OCR model and plate formats; default: the classifier decides per plate")
    parser.add_argument("--no-classifier", action="store_true",
                        help="do not classify plates (region/lines/state); read every plate as one line")
    parser.add_argument("--format", choices=("text", "jsonl", "csv"), default="text")
    parser.add_argument("--draw", type=Path, metavar="OUTDIR", help="write copies of the images with plates drawn")
    parser.add_argument("--threshold", type=float, default=0.35, help="minimum detection score (default 0.35)")
    parser.add_argument("--max-side", type=int, help="detector input size, longer side in pixels (default: the "
                        "model's, 640); larger finds smaller plates, slower")
    parser.add_argument("--detector", default=None, help="detector: shipped name or .onnx path")
    parser.add_argument("--ocr-model", default=None, help="recognizer: shipped name or .onnx path")
    parser.add_argument("--threads", type=int, help="ONNX Runtime threads (default: all cores)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=run)
    return parser


CSV_COLUMNS = ("image", "plate", "text", "confidence", "detection_score", "x1", "y1", "x2", "y2",
               "corners", "region", "plate_type", "format_valid", "lines", "state", "model")


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal and there are several images)."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done = total, 0
        self.enabled = enabled and total > 1 and sys.stderr.isatty()

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = int(width * self.done / self.total)
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}", end="", file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def emit(result, fmt: str, writer=None) -> None:
    if fmt == "jsonl":
        print(json.dumps({"image": result.image, "plates": [p.to_dict() for p in result.plates]},
                         ensure_ascii=False), flush=True)
    elif fmt == "csv":
        for index, plate in enumerate(result.plates):
            d = plate.to_dict()
            writer.writerow([result.image, index, d["text"], d["confidence"], d["detection_score"], *d["box"],
                             json.dumps(d["corners"]), d["region"] or "", d["plate_type"] or "",
                             "" if d["format_valid"] is None else int(d["format_valid"]), d.get("lines", ""),
                             d.get("state", ""), d["model"] or ""])
        sys.stdout.flush()
    else:
        if not result.plates:
            print(f"{result.image}\t(no plates)", flush=True)
        for plate in result.plates:
            box = ",".join(f"{v:.0f}" for v in plate.detection.box)
            text = plate.text if plate.reading else f"({plate.state})"
            extra = "".join(f"\t{key}={value}" for key, value in (
                ("region", plate.reading.region if plate.reading else None),
                ("state", plate.state if plate.state not in (None, "readable") else None)) if value)
            print(f"{result.image}\t{text}\t{plate.confidence:.3f}\tbox={box}{extra}", flush=True)


def run(args) -> int:
    from numberplate.cli.inputs import expand_image_args
    from numberplate.data.images import read_image
    from numberplate.reader import Reader
    from numberplate.stages.detect import DEFAULT_DETECTOR

    paths, errors = expand_image_args(args.images)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    reader = Reader(region=args.region, detector_model=args.detector or DEFAULT_DETECTOR, ocr_model=args.ocr_model,
                    use_classifier=not args.no_classifier, threshold=args.threshold, max_side=args.max_side,
                    threads=args.threads)
    writer = None
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
    progress = Progress(len(paths), not args.no_progress)
    done, failed = 0, len(errors)
    for path in paths:
        try:
            image = read_image(path)
        except InputError as exc:
            failed += 1
            progress.step()
            print(f"\nerror: {exc}" if progress.enabled else f"error: {exc}", file=sys.stderr)
            continue
        result = reader.read_array(image, str(path))
        emit(result, args.format, writer)
        if args.draw:
            from numberplate.draw import draw_result, write_drawing

            write_drawing(draw_result(image, result), args.draw, path)
        done += 1
        progress.step()
    progress.close()
    if failed:
        print(f"{done} images read, {failed} failed", file=sys.stderr)
    return 0 if done else 1
