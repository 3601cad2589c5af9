"""Photos turned in-plane: the whole pipeline on labelled photos turned 25-35 degrees, next to the photos as taken.

Run from the repository root:
    python benchmarks/bench_tilt.py [--data ../shared/data/endtoend/br ../shared/data/endtoend/us]
          [--angles 30,-30,35,-35,25,-25] [--keep DIR]

Phone photos of parked cars hold plates 30-40 degrees off level; the labelled sets here are dashcam and street
shots, nearly level. Each photo is turned about its centre by the next angle of the list (cycled) on a canvas
that holds it whole (edges mirrored), its labelled corners with it, and read with the shipped weights;
``numberplate eval read`` judges both the photos as taken and the turned ones. ``--keep DIR`` writes the turned
sets there (VIA JSON beside the photos) for ``numberplate eval read --data DIR/NAME --report ...``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np


def turned_set(source: str, out: Path, angles: list[float]) -> Path:
    """Write the VIA set ``source`` turned by ``angles`` (cycled over its photos) into ``out``."""
    from numberplate.data.detection import read_detection, write_detection
    from numberplate.data.images import read_image
    from numberplate.data.records import ImageRecord, PlateAnnotation
    from numberplate.stages.rectify import turn_points

    out.mkdir(parents=True, exist_ok=True)
    records = []
    for record, angle in zip(read_detection(source), itertools.cycle(angles)):
        image = read_image(record.image_path)
        h, w = image.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
        size = (int(h * sin + w * cos), int(h * cos + w * sin))
        matrix[:, 2] += np.array(size) / 2 - np.array([w, h]) / 2
        turned = cv2.warpAffine(image, matrix, size, borderMode=cv2.BORDER_REFLECT)
        path = out / record.image_path.name
        cv2.imwrite(str(path), cv2.cvtColor(turned, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        plates = [PlateAnnotation(tuple(map(tuple, turn_points(p.corners, matrix).tolist())),
                                  p.label, p.text, p.region, p.has_corners, dict(p.attributes))
                  for p in record.plates]
        records.append(ImageRecord(path, plates, split=record.split))
    write_detection(records, out / "via_region_data.json", "via")
    return out


def main() -> int:
    from numberplate.cli.evaluate import evaluate_read
    from numberplate.data.detection import read_detection
    from numberplate.reader import Reader

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["../shared/data/endtoend/br", "../shared/data/endtoend/us"])
    parser.add_argument("--angles", default="30,-30,35,-35,25,-25")
    parser.add_argument("--keep", help="write the turned sets here instead of a temporary folder")
    args = parser.parse_args()
    angles = [float(a) for a in args.angles.split(",")]
    reader = Reader()
    print("| set | photos | end to end, as taken | turned | detection recall, as taken | turned |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(args.keep or temporary)
        for source in args.data:
            if not Path(source).exists():
                print(f"skipped {source}: not found", file=sys.stderr)
                continue
            level = evaluate_read(reader, read_detection(source))
            turned = evaluate_read(reader, read_detection(turned_set(source, root / Path(source).name, angles)))
            pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
            print(f"| {source} | {level['photos']} | {pct(level['end_to_end_accuracy'])} | "
                  f"{pct(turned['end_to_end_accuracy'])} | {pct(level['detection_recall'])} | "
                  f"{pct(turned['detection_recall'])} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
