"""``numberplate quantize``: an int8 copy of an exported OCR model, checked against the float one."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "quantize", help="int8 copy of an exported OCR model for faster CPU inference (needs [train])",
        description="Quantize an OCR model's convolutions to int8 with ONNX Runtime, calibrated on crops of the "
                    "given datasets (train split), and check on their val split that it reads what the float "
                    "model reads. Writes OUT and its card (with the measured agreement) beside it.",
        epilog="Example: numberplate quantize models/ocr-ua.onnx --data work/synth/ua --out models/ocr-ua-int8.onnx",
    )
    parser.add_argument("model", help="shipped model name or .onnx path (its .json card beside it)")
    parser.add_argument("--data", nargs="+", type=Path, required=True,
                        help="Nomeroff-layout datasets of the plates the model reads")
    parser.add_argument("--out", type=Path, required=True, help="target .onnx path (may be the model itself)")
    parser.add_argument("--name", help="model name in the card (default: file stem of --out)")
    parser.add_argument("--crops", type=int, default=512, help="calibration crops (default 512)")
    parser.add_argument("--min-agreement", type=float, default=0.98,
                        help="least share of val crops read as the float model reads them (default 0.98)")
    parser.add_argument("--full-range", action="store_true",
                        help="8-bit weights: only for CPUs with VNNI (AVX-512 VNNI, AVX-VNNI); the default 7-bit "
                             "weights read the same on every x86 CPU")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    from numberplate.train.quantize import quantize_ocr

    result = quantize_ocr(args.model, args.data, args.out, name=args.name, calibration_crops=args.crops,
                          min_agreement=args.min_agreement, seed=args.seed,
                          reduce_range=not args.full_range)
    print(f"wrote {result.out} ({result.size_before / 1e6:.2f} -> {result.size_after / 1e6:.2f} MB); calibrated on "
          f"{result.calibration_crops} crops; reads {result.agreement:.2%} of {result.agreement_crops} held-out crops "
          f"as the float model does")
    return 0
