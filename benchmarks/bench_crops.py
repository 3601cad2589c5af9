"""Plate crops given to `numberplate read` as photos: the whole pipeline on the real crop sets, next to the
recognizer alone on the same crops.

Run from the repository root:
    python benchmarks/bench_crops.py [--data ../shared/data/ocr/br-crops ...] [--split test] [--no-zoom-out]

Users often have crops already (from another detector, a parking camera, a dataset) and try `numberplate read`
on them first. Each crop of an OCR-layout set (``{split}/img`` + ``ann``) is read as a photo with the shipped
weights (detector, refiner, classifier, routed recognizer); a crop counts when one plate read in it has exactly
its labelled text. "any plate" = some plate reported. The last column is `numberplate eval ocr --region R` on the
same crops (the recognizer alone, told the country), the ceiling for the pipeline.
"""

from __future__ import annotations

import argparse
import sys
import time

DEFAULT_SETS = [f"../shared/data/ocr/{name}-crops" for name in ("br", "us", "ar", "eu")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=DEFAULT_SETS)
    parser.add_argument("--split", default="test")
    parser.add_argument("--no-zoom-out", action="store_true", help="the reader without its look at crops set small")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    from numberplate.cli.evaluate import evaluate_ocr
    from numberplate.data.nomeroff import load_split
    from numberplate.reader import Reader
    from numberplate.regions import to_internal
    from numberplate.stages.recognize import Recognizer

    reader = Reader(threads=args.threads, zoom_out=not args.no_zoom_out)
    print("| set | crops | read as photos | any plate | photos/s | recognizer alone, `--region` |")
    print("|---|---|---|---|---|---|")
    for root in args.data:
        records = [r for r in load_split(root, args.split) if r.text and r.state == "readable"]
        if not records:
            print(f"{root}: no labelled crops in its {args.split} split", file=sys.stderr)
            continue
        right = found = 0
        started = time.perf_counter()
        for record in records:
            result = reader(str(record.image_path))
            found += bool(result.plates)
            right += to_internal(record.text) in [p.text for p in result.plates]
        seconds = time.perf_counter() - started
        region = root.rstrip("/").split("/")[-1].split("-")[0]
        recognizer = Recognizer(region=region, threads=args.threads)
        alone = evaluate_ocr(lambda _record, chosen=recognizer: chosen, records)
        print(f"| {root} ({args.split}) | {len(records)} | {100 * right / len(records):.1f}% "
              f"| {100 * found / len(records):.1f}% | {len(records) / seconds:.1f} | {100 * alone['exact_accuracy']:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
