#!/usr/bin/env bash
# Reproduces the shipped OCR models from scratch: synthetic data, the universal model, the per-family
# fine-tunes, export into numberplate/weights, and the evaluation on the real test splits.
# Run from the repository root with ../shared beside it:  bash configs/build_ocr_models.sh
# Stages can be picked: STAGES="synth universal" bash configs/build_ocr_models.sh
set -euo pipefail
JOBS=${JOBS:-2}
FONTS=${FONTS:-../shared/fonts}
STAGES=${STAGES:-"synth universal finetune export"}
has() { [[ " $STAGES " == *" $1 "* ]]; }

if has synth; then
  numberplate synth ocr --region ua --count 30000 --max-lines 1 --seed 1 --fonts "$FONTS" --jobs "$JOBS" --out work/synth/ua
  numberplate synth ocr --region ru --region by --count 30000 --max-lines 1 --seed 2 --fonts "$FONTS" --jobs "$JOBS" --out work/synth/ru
  numberplate synth ocr --region kz --count 12000 --max-lines 1 --seed 3 --fonts "$FONTS" --jobs "$JOBS" --out work/synth/kz
  numberplate synth ocr --region de --region pl --region sk --region cz --region fr --region nl --region it \
    --region es --region lt --region lv --region ee --region at --region eu \
    --count 30000 --max-lines 1 --seed 4 --fonts "$FONTS" --jobs "$JOBS" --out work/synth/eu
  numberplate synth ocr --region us --region br --region ar --count 24000 --max-lines 1 --seed 5 --fonts "$FONTS" \
    --jobs "$JOBS" --out work/synth/other
fi

if has universal; then
  numberplate train ocr --config configs/ocr-universal.toml --out work/runs/ocr-universal
fi

if has finetune; then
  for family in ua ru kz latin; do
    numberplate train ocr --config "configs/ocr-$family.toml" --out "work/runs/ocr-$family"
  done
fi

if has export; then
  for name in universal ua ru kz latin; do
    numberplate export "work/runs/ocr-$name/best.pt" --out "numberplate/weights/ocr-$name.onnx" --name "ocr-$name"
  done
fi
