"""``numberplate models``: the shipped models, what they read and how well they measured."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("models", help="list the shipped models and their measured metrics",
                                   epilog="Example: numberplate models --json")
    parser.add_argument("--json", action="store_true", help="print the full cards as JSON lines")
    parser.set_defaults(func=run)
    return parser


# The validation metric each task's training selects on (see the Task's ``monitor``).
_MONITOR = {"ocr": "acc", "detect": "f1", "classify": "score", "refine": "window_error"}


def _headline(card: dict) -> str:
    """``val acc 0.915``: the card's validation value of the metric its training chose the model by."""
    key = _MONITOR.get(card.get("task"), "")
    value = (card.get("metrics") or {}).get("val", {}).get(key)
    return f"val {key} {value:.3f}" if isinstance(value, int | float) else "val -"


def run(args) -> int:
    from numberplate.runtime import list_shipped_models

    cards = list_shipped_models()
    for card in cards:
        if args.json:
            print(json.dumps(card))
        else:
            regions = ",".join(card.get("regions") or []) or "all"
            quantized = card.get("quantization")
            # The headline metric is the float model's; an int8 copy says how closely it reads the same.
            precision = f"int8 (reads {quantized['agreement']:.1%} as float)" if quantized else "float"
            print(f"{card['name']}\t{card['task']}\tregions {regions}\t{_headline(card)}\t{precision}\t"
                  f"sha256 {card['sha256'][:12]}")
    if not cards:
        print("no shipped models found")
    return 0
