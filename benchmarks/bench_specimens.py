"""The plate classifier on the clean specimens of ../shared/data/reference/plate-types (one per plate type).

Run from the repository root:  python benchmarks/bench_specimens.py [--model classifier-plates]

The specimens are the references the generator's plates are drawn after (Nomeroff Net's option-classifier
samples): a type we draw should be named as that type, at the specimen's tight framing and with the margins
the reader's rectification leaves. Types we do not draw (Georgia, Kyrgyzstan, Soviet plates, transit...) are
listed with what the classifier makes of them, not scored.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2

#: Specimen file -> the type we draw for it (None: a type the generator does not draw).
EXPECTED = {
    "eu-ua-2015": "ua-2015", "eu-ua-2004": "ua-2004", "eu-ua-1995": "ua-1995", "eu-ua-2015-2": "ua-2015-2",
    "eu-ua-2015-3": "ua-2015-3", "ru": "ru", "ru-military": "ru-military", "by": "by", "kz": "kz", "eu": "de",
}


def main() -> int:
    from numberplate.data.images import read_image
    from numberplate.stages.classify import Classifier
    from numberplate.stages.rectify import MARGIN_X, MARGIN_Y

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="classifier: shipped name or .onnx path")
    parser.add_argument("--data", default="../shared/data/reference/plate-types")
    args = parser.parse_args()
    paths = sorted(Path(args.data).glob("*.png"))
    if not paths:
        print(f"error: {args.data}: no specimen images (*.png)")
        return 2
    classifier = Classifier(model=args.model) if args.model else Classifier()
    images = [read_image(p) for p in paths]
    framings = {
        "tight": images,
        # The reader's rectified crops keep a margin around the plate (stages.rectify), here grey.
        "margin": [cv2.copyMakeBorder(im, int(im.shape[0] * MARGIN_Y), int(im.shape[0] * MARGIN_Y),
                                      int(im.shape[1] * MARGIN_X), int(im.shape[1] * MARGIN_X), cv2.BORDER_CONSTANT,
                                      value=(110, 110, 110)) for im in images],
    }
    results = {name: classifier.classify_batch(batch) for name, batch in framings.items()}
    scored = [i for i, p in enumerate(paths) if EXPECTED.get(p.stem)]
    print(f"{'specimen':<20} {'expected':<11} " + " ".join(f"{name:<22}" for name in framings))
    for i, path in enumerate(paths):
        cells = " ".join(f"{r[i].region} {r[i].lines}L {r[i].region_confidence:.2f}".ljust(22) for r in results.values())
        print(f"{path.stem:<20} {EXPECTED.get(path.stem) or '-':<11} {cells}")
    for name, res in results.items():
        right = sum(res[i].region == EXPECTED[paths[i].stem] for i in scored)
        print(f"{name}: {right} of {len(scored)} drawn types named right")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
