"""Give the one-line European crops of ../shared/data/ocr/eu-unlabelled their countries, as a labelled crop set.

    python configs/build_eu_one_line.py [--source DIR] [--labels FILE] [--out DIR] [--unlabel CODES]

The source set has no labels; `configs/labels/eu-unlabelled-countries.json` holds the country of each crop as we
read it off its band letters (or design), "?" where we could not tell and "x" for crops that are not plates
(work of 2026-11-30). This writes a Nomeroff-layout copy (default work/real/eu-one-line) with `country` set
("" for "?", state `garbage` for "x"), split 70 / 15 / 15 per country. Near-copies (the same plate cropped twice,
or one text rendered with several bands) stay in one split: crops whose 64 x 16 grey thumbnails correlate above
0.85 are grouped. `--unlabel bg,...` writes those countries' crops without a country (configs/build_classifier.sh
says why the shipped classifier learnt no Bulgarian crop's). The images are copied as they are (never into the
repository).
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np

from numberplate.data.images import read_image
from numberplate.data.nomeroff import load_split
from numberplate.data.records import OcrRecord
from numberplate.data.tools import ensure_empty_output, write_ocr_item
from numberplate.errors import InputError

HERE = Path(__file__).resolve().parent
SAME_PLATE = 0.85
# Split of each country's groups in turn: 14 train, 3 val, 3 test of 20; a country with one group trains.
SLOTS = ("train", "test", "train", "val", "train", "train", "train", "test", "train", "val",
         "train", "train", "train", "train", "test", "train", "val", "train", "train", "train")


def near_copy_groups(paths: list[Path]) -> list[int]:
    """A group id per crop: crops whose thumbnails correlate above SAME_PLATE share one (transitively)."""
    thumbs = []
    for path in paths:
        grey = cv2.cvtColor(read_image(path), cv2.COLOR_RGB2GRAY)
        thumb = cv2.resize(grey, (64, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
        thumb -= thumb.mean()
        thumbs.append(thumb / (np.linalg.norm(thumb) + 1e-6))
    similar = np.stack(thumbs) @ np.stack(thumbs).T
    parent = list(range(len(paths)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in np.argwhere(np.triu(similar, 1) > SAME_PLATE):
        parent[root(int(a))] = root(int(b))
    return [root(i) for i in range(len(paths))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(HERE.parent.parent / "shared/data/ocr/eu-unlabelled"))
    parser.add_argument("--labels", default=str(HERE / "labels/eu-unlabelled-countries.json"))
    parser.add_argument("--out", default="work/real/eu-one-line")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unlabel", default="", help="countries written without a country label (comma-separated)")
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    args = parser.parse_args(argv)

    try:
        build(args)
    except (InputError, OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def build(args: argparse.Namespace) -> None:
    unlabelled = set(filter(None, args.unlabel.split(",")))
    labels = {name: "?" if code in unlabelled else code
              for name, code in json.loads(Path(args.labels).read_text()).items()}
    records = [r for r in load_split(args.source, "train") if r.image_path.name in labels]
    if not records:
        raise InputError(args.source, f"no crop of its train split has a label in {args.labels}")
    out = ensure_empty_output(args.out, args.force)  # a second run into old splits would leave a crop in two of them
    groups = near_copy_groups([r.image_path for r in records])
    members: dict[int, list[int]] = defaultdict(list)
    for index, group in enumerate(groups):
        members[group].append(index)
    by_country: dict[str, list[int]] = defaultdict(list)
    for group, indices in members.items():
        country = Counter(labels[records[i].image_path.name] for i in indices).most_common(1)[0][0]
        by_country[country].append(group)
    split_of: dict[int, str] = {}
    for country in sorted(by_country):
        # Each country its own draw: relabelling one country leaves the others' splits as they were.
        rng = np.random.default_rng([args.seed, zlib.crc32(country.encode())])
        order = rng.permutation(sorted(by_country[country]))
        for position, group in enumerate(order):
            split_of[int(group)] = SLOTS[position % len(SLOTS)]
    counts: Counter = Counter()
    for index, record in enumerate(records):
        label = labels[record.image_path.name]
        split = split_of[groups[index]]
        labelled = OcrRecord(record.name, record.image_path, "", "" if label in ("?", "x") else label,
                             1, "garbage" if label == "x" else "readable", label != "?",
                             extra={"_region_style": "country"})
        write_ocr_item(out, split, labelled)
        counts[split] += 1
    print(f"{out}: {dict(counts)} crops, {len(members)} groups of near-copies, "
          f"{len(by_country) - len({'?', 'x'} & set(by_country))} countries")


if __name__ == "__main__":
    sys.exit(main())
