"""``numberplate export``: checkpoint -> ONNX + JSON card, with a PyTorch/ONNX parity check."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export", help="export a trained checkpoint to ONNX + card",
        description="Write NAME.onnx and NAME.json (alphabet, input size, metrics, recipe, sha256) and check "
                    "that ONNX Runtime gives the same probabilities as PyTorch.",
        epilog="Example: numberplate export logs/ocr-ua-20261124-101500/best.pt --out models/ocr-ua.onnx",
    )
    parser.add_argument("checkpoint", type=Path, help="best.pt from a training run")
    parser.add_argument("--out", type=Path, required=True, help="target .onnx path (card written beside it)")
    parser.add_argument("--name", help="model name in the card (default: file stem)")
    parser.add_argument("--metrics", type=Path, help="JSON file of measured metrics to put in the card")
    parser.add_argument("--regions", nargs="*", default=None, help="region codes this model is meant for")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    from numberplate.errors import ConfigError
    from numberplate.train.export import export_checkpoint

    metrics = None
    if args.metrics:
        try:
            metrics = json.loads(args.metrics.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{args.metrics}: cannot read metrics JSON ({exc})") from None
    extra = {"regions": args.regions} if args.regions is not None else None
    card = export_checkpoint(args.checkpoint, args.out, name=args.name, metrics=metrics, extra_card=extra)
    print(f"wrote {args.out} and {args.out.with_suffix('.json')} (sha256 {card['sha256'][:12]}..., parity ok)")
    return 0
