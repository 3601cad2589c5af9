#!/usr/bin/env bash
# Reproduces the shipped detector and corner refiner: synthetic scenes, training, export into
# numberplate/weights, evaluation.
# Run from the repository root with ../shared beside it:  bash configs/build_detector.sh
# Stages can be picked: STAGES="scenes train" bash configs/build_detector.sh
set -euo pipefail
JOBS=${JOBS:-2}
FONTS=${FONTS:-../shared/fonts}
STAGES=${STAGES:-"scenes train refiner export eval"}
has() { [[ " $STAGES " == *" $1 "* ]]; }
D=../shared/data

if has scenes; then
  # Backgrounds: photos without plates, and training photos whose boxed plates get replaced.
  # Never the evaluation sets (endtoend/*) nor the ro-dashcam val video.
  rm -rf work/scenes
  numberplate synth scenes --backgrounds "$D/negatives" "$D/detection/ro-dashcam/train" "$D/detection/ru-cars/train" \
    --count 4000 --out work/scenes --fonts "$FONTS" --jobs "$JOBS" --seed 11
  # American plate designs only: among 60+ plate types they would otherwise be rare.
  rm -rf work/scenes-americas
  numberplate synth scenes --backgrounds "$D/negatives" "$D/detection/ro-dashcam/train" "$D/detection/ru-cars/train" \
    --region us --region br --region ar --count 2000 --out work/scenes-americas --fonts "$FONTS" --jobs "$JOBS" --seed 12
  # American photos again, half of their plates real US/BR/AR crops (train splits only) placed as they are.
  rm -rf work/scenes-americas-real
  numberplate synth scenes --backgrounds "$D/negatives" "$D/detection/ro-dashcam/train" "$D/detection/ru-cars/train" \
    --region us --region br --region ar --plate-crops "$D/ocr/us-crops" "$D/ocr/br-crops" "$D/ocr/ar-crops" \
    --count 2500 --out work/scenes-americas-real --fonts "$FONTS" --jobs "$JOBS" --seed 13
fi

if has train; then
  # First round from scratch, then a fine-tune with the American scenes (the shipped model; the first
  # round of the shipped model was trained before work/scenes-americas existed, on the other sources).
  numberplate train detector --config configs/detector.toml --out work/runs/detector-base
  numberplate train detector --config configs/detector.toml --out work/runs/detector-plates \
    --init-from work/runs/detector-base/best.pt --epochs 20 --lr 0.0015
  # Third round: real plate crops in the scenes.
  numberplate train detector --config configs/detector-real-crops.toml --out work/runs/detector-plates-real
  # Fourth round (the shipped detector): the same recipe once more, from the third round, after the
  # generator learnt what US plates carry (state names, slogans, stickers, scenery); the American scenes
  # above are drawn with it. 6 epochs at a lower rate.
  numberplate train detector --config configs/detector-real-crops.toml --out work/runs/detector-plates-us \
    --init-from work/runs/detector-plates-real/best.pt --epochs 6 --lr 0.0006
fi

if has refiner; then
  # The corner refiner learns from the same scenes (their corners are exact).
  numberplate train refiner --config configs/refiner.toml --out work/runs/refiner-plates
fi

if has export; then
  numberplate export work/runs/detector-plates-us/best.pt --out numberplate/weights/detector-plates.onnx \
    --name detector-plates --metrics work/runs/detector-plates-us/result.json
  numberplate export work/runs/refiner-plates/best.pt --out numberplate/weights/refiner-plates.onnx \
    --name refiner-plates
fi

if has eval; then
  numberplate eval read --data "$D/endtoend/us" --region us
  numberplate eval read --data "$D/endtoend/br" --region br
  numberplate eval read --data "$D/detection/ro-dashcam/val"
  python benchmarks/bench_tilt.py --data "$D/endtoend/br" "$D/endtoend/us"
fi
