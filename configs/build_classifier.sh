#!/usr/bin/env bash
# Reproduces the shipped plate classifier (type, text lines, state): synthetic crops of every plate type and
# state, training on them and on the real crop sets' train splits, export into numberplate/weights, evaluation.
# Run from the repository root with ../shared beside it:  bash configs/build_classifier.sh
# Stages can be picked: STAGES="train export" bash configs/build_classifier.sh
set -euo pipefail
JOBS=${JOBS:-2}
FONTS=${FONTS:-../shared/fonts}
STAGES=${STAGES:-"synth train export eval"}
has() { [[ " $STAGES " == *" $1 "* ]]; }
D=../shared/data

if has synth; then
  # Garbage crops are cut from photos without plates (negatives); never from evaluation sets.
  rm -rf work/synth/classify
  numberplate synth classify --count 60000 --out work/synth/classify --backgrounds "$D/negatives" \
    --fonts "$FONTS" --jobs "$JOBS" --seed 21
fi

if has train; then
  # Real sets join through configs/classifier.toml (their train splits; val for model choice, test untouched).
  numberplate train classifier --config configs/classifier.toml --out work/runs/classifier-plates
fi

if has export; then
  # The card records the run's validation and test metrics (result.json).
  numberplate export work/runs/classifier-plates/best.pt --out numberplate/weights/classifier-plates.onnx \
    --name classifier-plates --metrics work/runs/classifier-plates/result.json
fi

if has eval; then
  numberplate eval classify --data work/synth/classify --split val
  numberplate eval classify --data work/synth/classify "$D/ocr/eu-crops" "$D/ocr/us-crops" "$D/ocr/br-crops" \
    "$D/ocr/ar-crops" --split test
  python benchmarks/bench_classify.py
fi
