"""Multi-line reading: exact-plate accuracy per plate type, each read with its country given, in canonical order.

Usage (after `bash configs/build_ocr_models.sh`, which writes the synthetic multi-line set):
    python benchmarks/bench_multiline.py [--data work/synth/multi] [--split test]
          [--one-line work/synth/ua work/synth/ru]

The one-line sets are read the same way for comparison (issue 4 asks two-line plates to read as well).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict


def accuracy_by_type(records, lines_of) -> dict[str, tuple[int, int]]:
    from numberplate.regions import country_of
    from numberplate.stages.recognize import Recognizer

    recognizers: dict[str, Recognizer] = {}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_country: dict[str, list] = defaultdict(list)
    for record in records:
        by_country[country_of(record.region)].append(record)
    for country, group in by_country.items():
        recognizer = recognizers.setdefault(country, Recognizer(region=country))
        readings = recognizer.read_batch([r.image_path for r in group], [lines_of(r) for r in group])
        for record, reading in zip(group, readings):
            counts[record.region][0] += reading.text == record.text
            counts[record.region][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(counts.items())}


def main() -> int:
    from numberplate.data.nomeroff import load_split

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="work/synth/multi")
    parser.add_argument("--split", default="test")
    parser.add_argument("--one-line", nargs="*", default=["work/synth/ua", "work/synth/ru"])
    parser.add_argument("--limit", type=int, default=600, help="crops per one-line set")
    args = parser.parse_args()
    print("| set | plate type | exact | crops |\n|---|---|---|---|")
    for root, limit in [(args.data, None), *((r, args.limit) for r in args.one_line)]:
        try:
            records = [r for r in load_split(root, args.split) if r.text and r.state == "readable"][:limit]
        except Exception as exc:  # a missing set: say so and go on with the others
            print(f"error: {root}: {exc}", file=sys.stderr)
            continue
        for plate_type, (right, total) in accuracy_by_type(records, lambda r: r.count_lines).items():
            print(f"| {root} | {plate_type} | {100 * right / total:.1f}% | {total} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
