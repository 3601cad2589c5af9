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


def run(args) -> int:
    from numberplate.runtime import list_shipped_models

    cards = list_shipped_models()
    for card in cards:
        if args.json:
            print(json.dumps(card))
        else:
            regions = ",".join(card.get("regions") or []) or "all"
            print(f"{card['name']}\t{card['task']}\tregions {regions}\tsha256 {card['sha256'][:12]}")
    if not cards:
        print("no shipped models found")
    return 0
