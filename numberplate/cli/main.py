"""The ``numberplate`` command. Each subcommand lives in its own module with ``register(subparsers)``.

Subcommand modules are imported lazily by name so ``numberplate ocr`` never imports torch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from numberplate import __version__
from numberplate.errors import NumberplateError

# subcommand -> (module, one-line help). Modules define register(subparsers) -> ArgumentParser.
SUBCOMMANDS = {
    "read": ("numberplate.cli.read", "find and read every plate in photos"),
    "ocr": ("numberplate.cli.ocr", "read the text of plate crops"),
    "train": ("numberplate.cli.train", "train a model (needs the [train] extra)"),
    "export": ("numberplate.cli.export", "export a trained checkpoint to ONNX + card"),
    "quantize": ("numberplate.cli.quantize", "int8 copy of an exported OCR model for faster CPU inference"),
    "eval": ("numberplate.cli.evaluate", "measure accuracy and speed on a labelled dataset"),
    "synth": ("numberplate.cli.synth", "generate synthetic training data"),
    "data": ("numberplate.cli.data", "check and manage datasets"),
    "annotate": ("numberplate.cli.annotate", "moderate OCR crops or draw plate corners in the browser"),
    "models": ("numberplate.cli.models", "list the shipped models and their measured metrics"),
    "serve": ("numberplate.cli.serve", "serve plate reading over HTTP (needs the [web] extra)"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="numberplate",
        description="Read vehicle licence plates; train every stage on your own data.",
        epilog="Example: numberplate read car.jpg",
    )
    parser.add_argument("--version", action="version", version=f"numberplate {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Only import the module of the subcommand being run; list the rest by their help line.
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        if name == wanted:
            importlib.import_module(module_name).register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except NumberplateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`numberplate eval ... | head -1`): stop quietly, as `cat` does.
        # Python would complain again while flushing stdout at exit; point stdout at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
