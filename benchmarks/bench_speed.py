"""Speed of the shipped recognizers on this machine: model load time, single-plate latency, batched throughput.

Uses crops rendered by our own generator, so it needs no external data:

    python benchmarks/bench_speed.py                 # every shipped OCR model
    python benchmarks/bench_speed.py --threads 2 --plates 2000
    python benchmarks/bench_speed.py --model ocr-latin --model models/my-latin.onnx   # these models only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


def synthetic_crops(count: int, seed: int = 0) -> list[np.ndarray]:
    import random

    from numberplate.regions import all_specs
    from numberplate.synth.augment import capture
    from numberplate.synth.fonts import FontBook
    from numberplate.synth.render import render_plate

    rng = np.random.default_rng(seed)
    fonts = FontBook()
    specs = [s for s in all_specs() if s.count_lines == 1]
    crops = []
    for index in range(count):
        spec = specs[index % len(specs)]
        crops.append(capture(render_plate(spec, spec.sample_text(random.Random(index)), rng, fonts), rng))
    return crops


def main(argv: list[str] | None = None) -> int:
    from numberplate.runtime import list_shipped_models
    from numberplate.stages.recognize import Recognizer

    parser = argparse.ArgumentParser(description="Speed of the shipped OCR models.")
    parser.add_argument("--plates", type=int, default=1024, help="crops for the batched measurement")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: all cores)")
    parser.add_argument("--model", action="append", help="shipped model name or .onnx path (repeatable; "
                                                             "default: every shipped OCR model)")
    args = parser.parse_args(argv)
    models = args.model or [card["name"] for card in list_shipped_models("ocr")]

    crops = synthetic_crops(256)
    batch = (crops * (args.plates // len(crops) + 1))[: args.plates]
    print("| model | load (s) | single plate, median (ms) | single plate, p95 (ms) | batched (plates/s) |")
    print("|---|---|---|---|---|")
    for model in models:
        started = time.perf_counter()
        recognizer = Recognizer(model=model, threads=args.threads)
        load = time.perf_counter() - started
        for crop in crops[:20]:
            recognizer(crop)
        latencies = []
        for crop in crops:
            started = time.perf_counter()
            recognizer(crop)
            latencies.append((time.perf_counter() - started) * 1000)
        recognizer.read_batch(batch[:256])  # loads what large batches use (see PARALLEL_MIN_CROPS)
        started = time.perf_counter()
        recognizer.read_batch(batch)
        throughput = len(batch) / (time.perf_counter() - started)
        p95 = statistics.quantiles(latencies, n=20)[-1]
        print(f"| {model} | {load:.3f} | {statistics.median(latencies):.2f} | {p95:.2f} | {throughput:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
