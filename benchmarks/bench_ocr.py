"""Our OCR next to Tesseract 5 and RapidOCR on the same real plate crops: accuracy and speed.

Run from the repository root (the real crop sets are read from ../shared/data/ocr by default):

    python benchmarks/bench_ocr.py                      # all engines, test splits
    python benchmarks/bench_ocr.py --engines ours --limit 50
    python benchmarks/bench_ocr.py --json results.json

Tesseract: Debian's ``tesseract-ocr`` (``--psm 7``, LSTM engine, whitelist A-Z0-9), one process per crop
as pytesseract does. RapidOCR: PyPI ``rapidocr`` + ``onnxruntime`` (its PP-OCR models ship inside the
package). Every engine runs single-threaded for the per-crop column; ours is also timed batched on all
cores. Accuracy is exact-plate (letters and digits only, upper case).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from numberplate.data.images import read_image
from numberplate.data.nomeroff import load_split
from numberplate.errors import InputError, NumberplateError
from numberplate.regions import to_internal
from numberplate.train.metrics import char_error_rate, exact_accuracy, merge_o0

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETS = [ROOT.parent / "shared" / "data" / "ocr" / f"{name}-crops" for name in ("br", "us", "ar")]
SET_REGION = {"br-crops": "br", "us-crops": "us", "ar-crops": "ar", "eu-crops": "eu"}


def normalise(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", to_internal(text).upper())


def tesseract_engine() -> Callable[[np.ndarray], str] | None:
    if not shutil.which("tesseract"):
        print("tesseract not found (apt-get install tesseract-ocr): skipped", file=sys.stderr)
        return None
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def read(image: np.ndarray) -> str:
        ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        result = subprocess.run(
            ["tesseract", "stdin", "stdout", "--psm", "7", "--oem", "1", "-c",
             "tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"],
            input=buf.tobytes(), capture_output=True, env=env, check=False)
        return normalise(result.stdout.decode("utf-8", "replace"))

    return read


def rapidocr_engine() -> Callable[[np.ndarray], str] | None:
    try:
        from rapidocr import RapidOCR
    except ImportError:
        print("rapidocr not installed (pip install rapidocr onnxruntime): skipped", file=sys.stderr)
        return None
    import logging

    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    engine = RapidOCR(params={"EngineConfig.onnxruntime.intra_op_num_threads": 1,
                              "EngineConfig.onnxruntime.inter_op_num_threads": 1})

    def read(image: np.ndarray) -> str:
        # The crop is one plate: recognition only, the whole crop read as one line (as the reference numbers
        # in ../shared/README.md do). Its text detector would also find state names and slogans.
        result = engine(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), use_det=False, use_cls=False)
        return normalise("".join(result.txts or ()))

    return read


def ours_engine(region: str | None, threads: int = 1):
    from numberplate.stages.recognize import Recognizer

    try:
        recognizer = Recognizer(region=region, threads=threads)
    except NumberplateError as exc:
        print(f"our recognizer unavailable: {exc}", file=sys.stderr)
        return None
    return recognizer


def run_single(read: Callable[[np.ndarray], str], images: list[np.ndarray]) -> tuple[list[str], float]:
    read(images[0])  # warm-up
    texts, times = [], []
    for image in images:
        started = time.perf_counter()
        texts.append(read(image))
        times.append(time.perf_counter() - started)
    return texts, 1.0 / statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Example: python benchmarks/bench_ocr.py --engines ours,tesseract")
    parser.add_argument("--data", nargs="+", type=Path, default=DEFAULT_SETS, help="Nomeroff-layout crop sets")
    parser.add_argument("--split", default="test")
    parser.add_argument("--engines", default="ours,ours-region,tesseract,rapidocr")
    parser.add_argument("--limit", type=int, default=0, help="only the first N crops of each set")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    engines = args.engines.split(",")
    rows = []
    for root in args.data:
        records = [r for r in load_split(root, args.split) if r.text and r.count_lines == 1]
        if args.limit:
            records = records[: args.limit]
        images, truths = [], []
        for record in records:
            try:
                images.append(read_image(record.image_path))
                truths.append(normalise(record.text))
            except InputError as exc:
                print(f"error: {exc}", file=sys.stderr)
        if not images:
            print(f"error: {root}: no labelled one-line crops in {args.split}", file=sys.stderr)
            continue
        region = SET_REGION.get(root.name)
        for name in engines:
            batched = None
            if name in ("ours", "ours-region"):
                recognizer = ours_engine(region if name == "ours-region" else None, threads=1)
                if recognizer is None:
                    continue
                texts, per_second = run_single(lambda im, r=recognizer: r(im).text, images)
                fast = ours_engine(region if name == "ours-region" else None, threads=os.cpu_count())
                fast.read_batch(images[:16])
                started = time.perf_counter()
                fast.read_batch(images)
                batched = len(images) / (time.perf_counter() - started)
                label = f"numberplate ({recognizer.model.name}{', region ' + region if name == 'ours-region' else ''})"
            else:
                read = {"tesseract": tesseract_engine, "rapidocr": rapidocr_engine}[name]()
                if read is None:
                    continue
                texts, per_second = run_single(read, images)
                label = {"tesseract": "Tesseract 5 (psm 7)", "rapidocr": "RapidOCR (PP-OCR)"}[name]
            rows.append({
                "set": root.name, "split": args.split, "engine": label, "crops": len(images),
                "exact": exact_accuracy(texts, truths),
                "exact_o0": exact_accuracy([merge_o0(t) for t in texts], [merge_o0(t) for t in truths]),
                "cer": char_error_rate(texts, truths), "crops_per_s_1thread": per_second,
                "plates_per_s_batched": batched,
            })
            print(f"{root.name}: {label}: {100 * rows[-1]['exact']:.1f}% ({per_second:.0f} crops/s)", file=sys.stderr)

    print("| set | engine | crops | exact | exact (O=0) | CER | crops/s, 1 thread | plates/s, batched |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        batched = f"{r['plates_per_s_batched']:.0f}" if r["plates_per_s_batched"] else "-"
        print(f"| {r['set']} | {r['engine']} | {r['crops']} | {100 * r['exact']:.1f}% | {100 * r['exact_o0']:.1f}% | "
              f"{100 * r['cer']:.1f}% | {r['crops_per_s_1thread']:.0f} | {batched} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
