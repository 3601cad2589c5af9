"""Speed and memory of the whole pipeline (`numberplate read`) on 1280x720 photos with one plate.

The photos are drawn by our own scene code (examples/make_examples.py's street, plate moved around), so
this needs no external data:

    python benchmarks/bench_read.py                   # shipped detector + universal OCR
    python benchmarks/bench_read.py --photos 200 --threads 2

Prints the detector's latency alone, the whole pipeline's photos/second and the peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def photos(count: int) -> list[np.ndarray]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import cv2
    from make_examples import _paste, _street

    from numberplate.regions import get_spec
    from numberplate.synth.fonts import FontBook
    from numberplate.synth.render import render_plate
    from numberplate.synth.scene import posed_corners

    rng = np.random.default_rng(0)
    fonts, spec = FontBook(), get_spec("ua-2015")
    street = _street(rng)
    out = []
    for index in range(count):
        import random

        plate = render_plate(spec, spec.sample_text(random.Random(index)), rng, fonts, px_per_mm=1.0)
        dst = posed_corners(float(rng.uniform(120, 300)), 520 / 112, (float(rng.uniform(400, 880)), 555.0),
                            focal=1400, yaw_deg=float(rng.uniform(-20, 20)), pitch_deg=5, roll_deg=0)
        out.append(cv2.GaussianBlur(_paste(street, plate, dst), (0, 0), 0.6))
    return out


def main(argv: list[str] | None = None) -> int:
    from numberplate.reader import Reader

    parser = argparse.ArgumentParser(description="Speed of numberplate read on 1280x720 photos.")
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: all cores)")
    parser.add_argument("--region", default="ua")
    args = parser.parse_args(argv)

    images = photos(args.photos)
    started = time.perf_counter()
    reader = Reader(region=args.region, threads=args.threads)
    load = time.perf_counter() - started
    for image in images[:5]:
        reader.read_array(image)
    detect_ms, total_ms, found = [], [], 0
    for image in images:
        started = time.perf_counter()
        result = reader.read_array(image)
        total_ms.append((time.perf_counter() - started) * 1000)
        detect_ms.append(result.timings["detect"] * 1000)
        found += len(result.plates)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| photos | load (s) | detector median (ms) | pipeline median (ms) | photos/s | plates found | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {len(images)} x 1280x720 | {load:.2f} | {statistics.median(detect_ms):.1f} | "
          f"{statistics.median(total_ms):.1f} | {1000 * len(images) / sum(total_ms):.1f} | {found} | {peak_mb:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
