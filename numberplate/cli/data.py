"""``numberplate data``: dataset tools (check; more come with the annotation workbench)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("data", help="check and manage datasets",
                                   description="Dataset tools.",
                                   epilog="Example: numberplate data check ../shared/data/ocr/br-crops")
    tools = parser.add_subparsers(dest="tool", metavar="TOOL", required=True)
    check = tools.add_parser(
        "check", help="report every problem in a Nomeroff-layout OCR dataset",
        description="Report missing or unreadable images, bad JSON, empty texts and characters outside the "
                    "alphabet, one line per problem with the file name. Exit code 1 when anything is wrong.",
        epilog="Example: numberplate data check ../shared/data/ocr/br-crops --region br")
    check.add_argument("dirs", nargs="+", metavar="DIR")
    check.add_argument("--region", help="check texts against this region's alphabet (default: digits + A-Z)")
    check.add_argument("--allow-unlabelled", action="store_true", help="empty texts are not problems")
    check.add_argument("--no-images", action="store_true", help="do not open the images (faster)")
    check.set_defaults(func=run_check)
    return parser


def run_check(args) -> int:
    from numberplate.data.check import check_ocr_dataset
    from numberplate.errors import InputError
    from numberplate.regions import LATIN_ALPHABET, resolve

    alphabet = LATIN_ALPHABET
    if args.region:
        try:
            alphabet = "".join(sorted(set().union(*(s.alphabet for s in resolve(args.region)))))
        except KeyError as exc:
            raise InputError(None, exc.args[0]) from None
    status = 0
    for root in args.dirs:
        report = check_ocr_dataset(root, alphabet, args.allow_unlabelled, open_images=not args.no_images)
        for problem in report.problems:
            print(problem)
        summary = f"{root}: {report.items} items, {len(report.problems)} problems"
        print(summary, file=sys.stderr)
        status = status or (0 if report.ok else 1)
    return status
