"""The plate classifier on the clean specimens of ../shared/data/reference/plate-types (one per plate type).

Run from the repository root:  python benchmarks/bench_specimens.py [--model classifier-plates]

The specimens are the references the generator's plates are drawn after (Nomeroff Net's option-classifier
samples): a type we draw should be named as that type, at the specimen's tight framing and with the margins
the reader's rectification leaves. Types we do not draw (Georgia, Kyrgyzstan, Soviet plates, transit...) are
listed with what the classifier makes of them, not scored.

With ``--degraded N`` each drawn type's specimen is also shown N times as a camera far away might show it (a
margin of some car colour, set 12-50% of its size, sometimes blurred, brighter or darker, noisy, JPEG quality
30-90; seed 0) and the share named as the right *country* is printed: the specimens are what real plates of
countries we have no real photos of (Ukraine) look like, and a classifier that has learnt "a real camera's plate"
as some other country's trait shows it here first.

With ``--read`` the degraded copies are also read through the reader's crop path (classifier, routing, formats,
national models) and with their country forced (``--region``), and the share read exactly as the specimen's text
is printed: a stand-in for the target that reading with the classifier must not fall below forcing the country,
on plates (Ukrainian, Kazakh) we have no photos of.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

#: Specimen file -> the type we draw for it (None: a type the generator does not draw).
EXPECTED = {
    "eu-ua-2015": "ua-2015", "eu-ua-2004": "ua-2004", "eu-ua-1995": "ua-1995", "eu-ua-2015-2": "ua-2015-2",
    "eu-ua-2015-3": "ua-2015-3", "ru": "ru", "ru-military": "ru-military", "by": "by", "kz": "kz", "eu": "de",
}
#: The specimens' texts, canonical (reading order, Cyrillic look-alikes as Latin letters).
TEXTS = {
    "eu-ua-2015": "AC8029EM", "eu-ua-2004": "AA0112PB", "eu-ua-1995": "84022PE", "eu-ua-2015-2": "BH3978CE",
    "eu-ua-2015-3": "BI7996AA", "ru": "E300EY763", "ru-military": "8658AT50", "by": "1111II1", "kz": "005AAA01",
    "eu": "MNAE1209",
}


def main() -> int:
    from numberplate.data.images import read_image
    from numberplate.stages.classify import Classifier
    from numberplate.stages.rectify import MARGIN_X, MARGIN_Y

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="classifier: shipped name or .onnx path")
    parser.add_argument("--data", default="../shared/data/reference/plate-types")
    parser.add_argument("--degraded", type=int, default=0, help="also classify N degraded copies of each drawn type")
    parser.add_argument("--read", action="store_true",
                        help="also read the degraded copies with the classifier and with the country forced")
    args = parser.parse_args()
    if args.read and args.degraded <= 0:
        parser.error("--read reads the degraded copies: give --degraded N too")
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
    if args.degraded > 0:
        print(f"\n{'specimen':<20} {'country':<8} named right of {args.degraded} degraded copies (most named instead)")
        for i in scored:
            country = EXPECTED[paths[i].stem].split("-")[0]
            named = [r.country for r in classifier.classify_batch(degraded_copies(images[i], args.degraded))]
            others = sorted({c for c in named if c != country}, key=lambda c: -named.count(c))[:3]
            print(f"{paths[i].stem:<20} {country:<8} {named.count(country) / len(named):6.1%}  "
                  + ", ".join(f"{c} {named.count(c)}" for c in others))
    if args.read:
        read_degraded(paths, images, scored, args.degraded, args.model)
    return 0


def read_degraded(paths, images, scored, count: int, model: str | None) -> None:
    """Share of each specimen's degraded copies read exactly as its text, by the reader's crop path with the
    classifier deciding the country and with the country forced."""
    from numberplate.reader import Reader

    options = {"classifier_model": model} if model else {}
    auto = Reader(**options)
    # The forced readers share the first one's models: only the region differs (no detector runs here anyway).
    shared = {"detector": auto.detector, "classifier": auto.classifier, "refiner": auto.refiner}
    print(f"\n{'specimen':<20} {'country':<8} read right of {count} degraded copies: classifier / --region")
    for i in scored:
        country = EXPECTED[paths[i].stem].split("-")[0]
        copies = degraded_copies(images[i], count)
        shares = []
        for reader in (auto, Reader(region=country, **shared)):
            readings = reader.read_crops(copies, reader.classifier.classify_batch(copies))
            shares.append(sum(r is not None and r.text == TEXTS[paths[i].stem] for r in readings) / count)
        print(f"{paths[i].stem:<20} {country:<8} {shares[0]:6.1%} / {shares[1]:6.1%}")


def degraded_copies(image: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` copies of a specimen as a far camera might show them (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    copies = []
    for _ in range(count):
        h, w = image.shape[:2]
        margin = rng.uniform(0.02, 0.10)
        car = [int(c) for c in rng.integers(20, 200, 3)]
        framed = cv2.copyMakeBorder(image, int(h * margin * 2), int(h * margin * 2), int(w * margin),
                                    int(w * margin), cv2.BORDER_CONSTANT, value=car)
        scale = rng.uniform(0.12, 0.5)
        small = cv2.resize(framed, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            small = cv2.GaussianBlur(small, (3, 3), rng.uniform(0.3, 1.2))
        light = small.astype(np.float32) * rng.uniform(0.6, 1.2) + rng.uniform(-30, 30)
        small = np.clip(light + rng.normal(0, 4, small.shape), 0, 255).astype(np.uint8)
        _, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        copies.append(cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED))
    return copies


if __name__ == "__main__":
    raise SystemExit(main())
