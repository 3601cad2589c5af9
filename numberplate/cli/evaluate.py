"""``numberplate eval ocr``: exact-plate accuracy, character error rate and speed on a labelled set."""

from __future__ import annotations

import argparse
import json
import sys
import time


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "eval", help="measure accuracy and speed on a labelled dataset",
        description="Evaluate a stage on a labelled dataset.",
        epilog="Example: numberplate eval ocr --data ../shared/data/ocr/br-crops --region br",
    )
    stages = parser.add_subparsers(dest="stage", metavar="STAGE", required=True)
    ocr = stages.add_parser("ocr", help="evaluate the text recognizer on Nomeroff-layout crops",
                            epilog="Example: numberplate eval ocr --data ../shared/data/ocr/br-crops --region br")
    ocr.add_argument("--data", nargs="+", required=True, metavar="DIR", help="dataset folders")
    ocr.add_argument("--split", default="test", help="split to evaluate (train, val, test; default test)")
    ocr.add_argument("--region", help="region code (default: the universal model, unrestricted)")
    ocr.add_argument("--model", help="shipped model name or .onnx path")
    ocr.add_argument("--threads", type=int)
    ocr.add_argument("--max-lines", type=int, default=1, help="only plates with at most this many lines")
    ocr.add_argument("--show-errors", type=int, default=0, metavar="N", help="print up to N misread plates")
    ocr.add_argument("--json", action="store_true", help="print the metrics as one JSON object per set")
    ocr.set_defaults(func=run_ocr)
    return parser


def evaluate_ocr(recognizer, records) -> dict:
    """Read every record's crop; return accuracy metrics, timing and the misreads."""
    from numberplate.data.images import read_image
    from numberplate.errors import InputError
    from numberplate.regions import to_internal
    from numberplate.train.metrics import char_error_rate, exact_accuracy, merge_o0

    images, truths, names, unreadable = [], [], [], []
    for record in records:
        try:
            images.append(read_image(record.image_path))
        except InputError as exc:
            unreadable.append(str(exc))
            continue
        truths.append(to_internal(record.text))
        names.append(str(record.image_path))
    recognizer.read_batch(images[:8])  # warm-up: first run allocates
    started = time.perf_counter()
    readings = recognizer.read_batch(images)
    seconds = time.perf_counter() - started
    preds = [r.text for r in readings]
    return {
        "plates": len(truths),
        "exact_accuracy": exact_accuracy(preds, truths),
        "exact_accuracy_o0_merged": exact_accuracy([merge_o0(p) for p in preds], [merge_o0(t) for t in truths]),
        "cer": char_error_rate(preds, truths),
        "plates_per_second": len(images) / seconds if seconds > 0 else 0.0,
        "unreadable": unreadable,
        "errors": [(n, t, p) for n, t, p in zip(names, truths, preds) if t != p],
    }


def run_ocr(args) -> int:
    from numberplate.data.nomeroff import load_split, split_dirs
    from numberplate.errors import InputError
    from numberplate.stages.recognize import Recognizer

    recognizer = Recognizer(region=args.region, model=args.model, threads=args.threads)
    status = 0
    for root in args.data:
        try:
            split_dirs(root)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        errors: list[InputError] = []
        records = [r for r in load_split(root, args.split, errors)
                   if r.text and r.state == "readable" and r.count_lines <= args.max_lines]
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        if not records:
            print(f"error: {root}: no labelled plates in split {args.split!r}", file=sys.stderr)
            status = 2
            continue
        result = evaluate_ocr(recognizer, records)
        for problem in result["unreadable"]:
            print(f"error: {problem}", file=sys.stderr)
        if args.json:
            print(json.dumps({"data": root, "split": args.split, "model": recognizer.model.name,
                              "region": args.region, **{k: v for k, v in result.items() if k != "errors"}}))
        else:
            print(f"{root} [{args.split}] model {recognizer.model.name} region {args.region or '-'}: "
                  f"{result['plates']} plates, exact {100 * result['exact_accuracy']:.2f}% "
                  f"(O/0 merged {100 * result['exact_accuracy_o0_merged']:.2f}%), "
                  f"CER {100 * result['cer']:.2f}%, {result['plates_per_second']:.0f} plates/s")
        for name, truth, pred in result["errors"][: args.show_errors]:
            print(f"  {name}: truth {truth} read {pred or '-'}")
    return status
