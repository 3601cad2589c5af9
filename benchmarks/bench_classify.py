"""Speed of the plate classifier through ONNX Runtime: milliseconds per plate, batched and one by one.

Run from the repository root:  python benchmarks/bench_classify.py [--model classifier-plates] [--threads 2]
Crops are real ones when ../shared/data/ocr/eu-crops is there (tiny two-line plates), else random.
The timed part is what Classifier.classify_batch does: resize, layout, the network, argmax.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np


def load_crops(count: int) -> tuple[list[np.ndarray], str]:
    from numberplate.data.images import read_image

    folder = Path("../shared/data/ocr/eu-crops/test/img")
    if folder.is_dir():
        paths = sorted(folder.iterdir())
        crops = [read_image(p) for p in paths]
        return [crops[i % len(crops)] for i in range(count)], f"{folder} (cycled)"
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (int(rng.integers(30, 90)), int(rng.integers(60, 300)), 3), dtype=np.uint8)
            for _ in range(count)], "random crops"


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="classifier-plates")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--count", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from numberplate.stages.classify import Classifier, resize_crop, to_input

    classifier = Classifier(args.model, threads=args.threads)
    crops, source = load_crops(args.count)
    classifier.classify_batch(crops[:64])  # warm-up
    batched = best_of(lambda: classifier.classify_batch(crops), args.repeats)
    single = best_of(lambda: [classifier(c) for c in crops[:64]], args.repeats)
    batch = to_input(np.stack([resize_crop(c, classifier.height, classifier.width) for c in crops[:64]]))
    network = best_of(lambda: classifier.model.run_all(batch), args.repeats)
    print(f"model {classifier.model.name} ({classifier.model.path.stat().st_size / 1024:.0f} KiB, input "
          f"{classifier.height}x{classifier.width}), {args.threads} threads, {len(crops)} crops from {source}")
    print("| mode | ms per plate | plates/s |")
    print("|---|---:|---:|")
    for name, seconds, n in (("batched (classify_batch, 64 per run)", batched, len(crops)),
                             ("network only, batch of 64", network, 64),
                             ("one by one (classifier(crop))", single, 64)):
        print(f"| {name} | {1000 * seconds / n:.3f} | {n / seconds:.0f} |")


if __name__ == "__main__":
    main()
