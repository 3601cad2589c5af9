"""``numberplate synth ocr|scenes|classify``: synthetic plate crops (recognizer), photos (detector) and
crops in every state (classifier)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("synth", help="generate synthetic training data",
                                   description="Generate synthetic training data.",
                                   epilog="Example: numberplate synth ocr --region ua --count 1000 --out work/synth/ua")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    ocr = kinds.add_parser(
        "ocr", help="plate crops in the Nomeroff layout {train,val,test}/{img,ann}",
        description="Render plates of the given regions, put them through camera effects and write crops "
                    "with their labels.",
        epilog="Example: numberplate synth ocr --region ua --region ru --count 20000 --out work/synth/cyr "
               "--fonts ../shared/fonts --jobs 2")
    ocr.add_argument("--region", action="append", required=True,
                     help="country (ua), plate type (ua-2015) or 'all'; repeatable")
    ocr.add_argument("--count", type=int, required=True)
    ocr.add_argument("--out", type=Path, required=True)
    ocr.add_argument("--fonts", action="append", default=[], metavar="DIR",
                     help="extra font folder searched first; repeatable (also $NUMBERPLATE_FONTS)")
    ocr.add_argument("--seed", type=int, default=0)
    ocr.add_argument("--jobs", type=int, default=1, help="worker processes")
    ocr.add_argument("--val-fraction", type=float, default=0.05)
    ocr.add_argument("--test-fraction", type=float, default=0.05)
    ocr.add_argument("--max-lines", type=int, default=3, help="leave out plate types with more text lines")
    ocr.set_defaults(func=run_ocr)

    scenes = kinds.add_parser(
        "scenes", help="photos with rendered plates placed in 3D, as a VIA dataset with exact corners",
        description="Place rendered plates into real photos (replacing plates already boxed there, or on "
                    "negatives) with 3D perspective, matched lighting, blur and compression. Writes "
                    "OUT/{train,val}/ with via_region_data.json; val holds the scenes of held-out photos.",
        epilog="Example: numberplate synth scenes --backgrounds ../shared/data/negatives "
               "../shared/data/detection/ro-dashcam --count 3000 --out work/scenes --fonts ../shared/fonts --jobs 2")
    scenes.add_argument("--backgrounds", nargs="+", required=True, metavar="DIR",
                        help="VIA photo sets used as backgrounds (never evaluation sets)")
    scenes.add_argument("--count", type=int, required=True)
    scenes.add_argument("--out", type=Path, required=True)
    scenes.add_argument("--region", action="append", default=None,
                        help="plate types to render (default: all); repeatable")
    scenes.add_argument("--fonts", action="append", default=[], metavar="DIR")
    scenes.add_argument("--seed", type=int, default=0)
    scenes.add_argument("--jobs", type=int, default=1, help="worker processes")
    scenes.add_argument("--val-fraction", type=float, default=0.1, help="share of background photos held out")
    scenes.add_argument("--plate-crops", nargs="+", default=[], metavar="DIR",
                        help="crop sets of real plates (Nomeroff layout, their train split): half the placed "
                             "plates are these real crops, labelled by their box")
    scenes.set_defaults(func=run_scenes)

    classify = kinds.add_parser(
        "classify", help="crops of every plate type and state for the classifier, in the Nomeroff layout",
        description="Write readable plates, plates painted over or covered (filled), blank plates (empty) and "
                    "crops that are not plates (garbage: cut from --backgrounds photos, else drawn) with their "
                    "type, line count and state labels.",
        epilog="Example: numberplate synth classify --count 30000 --out work/synth/classify "
               "--backgrounds ../shared/data/negatives --fonts ../shared/fonts --jobs 2")
    classify.add_argument("--count", type=int, required=True)
    classify.add_argument("--out", type=Path, required=True)
    classify.add_argument("--region", action="append", default=None,
                          help="plate types to render: country, type or 'all' (default); repeatable")
    classify.add_argument("--backgrounds", nargs="+", default=[], metavar="DIR",
                          help="folders of photos without plates, cut into garbage crops")
    classify.add_argument("--fonts", action="append", default=[], metavar="DIR")
    classify.add_argument("--seed", type=int, default=0)
    classify.add_argument("--jobs", type=int, default=1, help="worker processes")
    classify.add_argument("--val-fraction", type=float, default=0.05)
    classify.add_argument("--test-fraction", type=float, default=0.05)
    classify.set_defaults(func=run_classify)
    return parser


def run_classify(args) -> int:
    _need_pillow()
    from numberplate.synth.states import generate_states

    _warn_if_not_empty(args.out)
    generate_states(args.count, args.out, seed=args.seed, font_dirs=tuple(args.fonts),
                    backgrounds=tuple(args.backgrounds), jobs=args.jobs, regions=tuple(args.region or ["all"]),
                    val_fraction=args.val_fraction, test_fraction=args.test_fraction)
    return 0


def run_scenes(args) -> int:
    _need_pillow()
    from numberplate.synth.scene import generate_scenes

    generate_scenes(args.backgrounds, args.count, args.out, args.region or ["all"], seed=args.seed,
                    font_dirs=tuple(args.fonts), jobs=args.jobs, val_fraction=args.val_fraction,
                    plate_crops=args.plate_crops)
    return 0


def _need_pillow() -> None:
    try:
        import PIL  # noqa: F401
    except ImportError:
        from numberplate.errors import ConfigError

        raise ConfigError("the generator needs Pillow: pip install -e .[synth]") from None


def _warn_if_not_empty(out) -> None:
    """Items are named by type and number: drawing into a folder that holds a set replaces only the items of
    the same names, so a set drawn with other settings would keep some of the old one's."""
    from numberplate.data.nomeroff import SPLITS

    held = sum(1 for split in SPLITS for _ in (Path(out) / split / "ann").glob("*.json"))
    if held:
        print(f"warning: {out} already holds {held} annotated items; those with the names drawn now are "
              "replaced, the others stay (remove the folder first to redraw the set)", file=sys.stderr)


def run_ocr(args) -> int:
    _need_pillow()
    from numberplate.synth.ocr_dataset import generate

    _warn_if_not_empty(args.out)
    generate(args.region, args.count, args.out, seed=args.seed, font_dirs=tuple(args.fonts), jobs=args.jobs,
             val_fraction=args.val_fraction, test_fraction=args.test_fraction, max_lines=args.max_lines)
    return 0
