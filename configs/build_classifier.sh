#!/usr/bin/env bash
# Reproduces the shipped plate classifier (type, text lines, state): synthetic crops of every plate type and
# state, training on them and on the real crop sets' train splits, export into numberplate/weights, evaluation.
# Run from the repository root with ../shared beside it:  bash configs/build_classifier.sh
# Stages can be picked: STAGES="train export" bash configs/build_classifier.sh
set -euo pipefail
JOBS=${JOBS:-2}
FONTS=${FONTS:-../shared/fonts}
STAGES=${STAGES:-"synth real train finetune export eval"}
has() { [[ " $STAGES " == *" $1 "* ]]; }
D=../shared/data

if has synth; then
  # Garbage crops are cut from photos without plates (negatives); never from evaluation sets.
  rm -rf work/synth/classify
  numberplate synth classify --count 60000 --out work/synth/classify --backgrounds "$D/negatives" \
    --fonts "$FONTS" --jobs "$JOBS" --seed 21
  # A second set for training only (its 1% val split joins model choice; the test split above stays the judge).
  rm -rf work/synth/classify-more
  numberplate synth classify --count 150000 --out work/synth/classify-more --backgrounds "$D/negatives" \
    --fonts "$FONTS" --jobs "$JOBS" --seed 22 --val-fraction 0.01 --test-fraction 0
fi

if has real; then
  # Real photo plates of two countries no real crop set had, cut as the reader cuts them (the shipped detector
  # and refiner find the corners): Romanian from ro-dashcam (train photos -> train, val photos -> val) and
  # Russian from ru-cars (split by photo 0.6 / 0.1 / 0.3; its test part judges Russian photos).
  rm -rf work/real/ro-photos work/real/ru-photos work/real/tmp-ro-train work/real/tmp-ro-val work/real/tmp-ru
  numberplate data crop "$D/detection/ro-dashcam/train" --out work/real/tmp-ro-train --as-read --format jpg
  numberplate data crop "$D/detection/ro-dashcam/val" --out work/real/tmp-ro-val --as-read --format jpg
  mkdir -p work/real/ro-photos
  mv work/real/tmp-ro-train/train work/real/ro-photos/train  # sets without splits are cut into train/
  mv work/real/tmp-ro-val/train work/real/ro-photos/val
  numberplate data crop "$D/detection/ru-cars" --out work/real/tmp-ru --as-read --format jpg
  numberplate data split work/real/tmp-ru --out work/real/ru-photos --ratios 0.6,0.1,0.3 --seed 0
  rm -rf work/real/tmp-ro-train work/real/tmp-ro-val work/real/tmp-ru
  # One-line European crops of eu-unlabelled with the countries we read off their bands
  # (configs/labels/eu-unlabelled-countries.json), split 70 / 15 / 15 per country. The Bulgarian ones keep no
  # country: Bulgarian plates are Ukrainian 2015 ones but for the band (same layout, lettering and format), and
  # with real Bulgarian crops beside only drawn Ukrainian ones, degraded copies of the UA 2015 specimen were
  # called Bulgarian 170-175 times in 300 (README, "Real one-line European plates").
  rm -rf work/real/eu-one-line
  python configs/build_eu_one_line.py --source "$D/ocr/eu-unlabelled" --out work/real/eu-one-line --unlabel bg
fi

if has train; then
  # Real sets join through configs/classifier.toml (their train splits; val for model choice, test untouched).
  numberplate train classifier --config configs/classifier.toml --out work/runs/classifier-plates
fi

if has finetune; then
  # Low-rate epochs more on the same set; the shipped model is the last epoch (the run's own "best" is picked
  # by a score that the 38 eu-crops val crops swing by points). The shipped one was these four fine-tunes
  # started from the previously shipped classifier (the train stage above on the set of 2026-11-27); the first
  # ran with us-crops weight 0.5 and br-crops daylight 0.5, the second and third with today's 0.3 and 0.7; the
  # first two on the set drawn before the Brazilian change below (synth seed 21 then drew the old look).
  numberplate train classifier --config configs/classifier.toml --init-from work/runs/classifier-plates/best.pt \
    --epochs 15 --lr 0.001 --out work/runs/classifier-plates-ft
  numberplate train classifier --config configs/classifier.toml --init-from work/runs/classifier-plates-ft/last.pt \
    --epochs 10 --lr 0.0005 --out work/runs/classifier-plates-ft2
  # Third: the same once more after the generator drew grey Brazilian plates as they are (DIN lettering, the
  # town line in big caps): the set above was regenerated with them.
  numberplate train classifier --config configs/classifier.toml --init-from work/runs/classifier-plates-ft2/last.pt \
    --epochs 10 --lr 0.0005 --out work/runs/classifier-plates-ft3
  # Fourth (last epoch): the set redrawn once more after the generator's covers kept a rim of the
  # plate's own paint, RU taxi/trailer region boxes were split by type, and French FNI / British silver-on-black
  # plates were drawn as older designs of their types (2026-11-29).
  numberplate train classifier --config configs/classifier.toml --init-from work/runs/classifier-plates-ft3/last.pt \
    --epochs 12 --lr 0.001 --out work/runs/classifier-plates-ft4
  # Fifth (last epoch; 2026-11-29): 10 low-rate epochs more with 40% of the real US crops shown
  # as a night infra-red camera shows them (`infrared` in configs/classifier.toml): only the Brazilian crops had
  # that look. The same 10 epochs without it (a control) did not give its gains (README "Measured results").
  numberplate train classifier --config configs/classifier.toml --init-from work/runs/classifier-plates-ft4/last.pt \
    --epochs 10 --lr 0.0005 --out work/runs/classifier-plates-ft5
  # Sixth (the shipped one, last epoch; 2026-11-29): 30 epochs at lr 0.001 with the second synthetic set
  # (work/synth/classify-more, 3.8x the crops). The five stages above ran without that source in the recipe.
  numberplate train classifier --config configs/classifier.toml --init-from work/runs/classifier-plates-ft5/last.pt \
    --epochs 30 --lr 0.001 --out work/runs/classifier-plates-ft6
  # Seventh (last epoch; 2026-11-30): 12 epochs with the real Romanian and Russian
  # photo plates cut above (configs/classifier-photos.toml), both synthetic sets redrawn with Romanian plates
  # and the UA square / three-line plates as issued. Until then real plates of those countries were called
  # Brazilian, American, French or British.
  numberplate train classifier --config configs/classifier-photos.toml \
    --init-from work/runs/classifier-plates-ft6/last.pt --epochs 12 --lr 0.001 --out work/runs/classifier-plates-ft7
  # Eighth (the shipped one, last epoch; 2026-11-30, fourth session): 12 epochs with the one-line European crops
  # given their countries (configs/classifier-eu-one-line.toml): the seventh named 29.8% of their test split.
  numberplate train classifier --config configs/classifier-eu-one-line.toml \
    --init-from work/runs/classifier-plates-ft7/last.pt --epochs 12 --lr 0.001 --out work/runs/classifier-plates-ft8-eu
  # Ninth (shipped until 2026-11-30, ninth session; last epoch; seventh session): 3 epochs at lr 3e-4 with the UA three-line
  # plates as the specimen shows them (configs/classifier-ua3.toml): the eighth named 14% of degraded copies of the
  # specimen Ukrainian. (Shipped from run work/runs/classifier-plates-ft9-ua3b.)
  rm -rf work/synth/classify-ua3
  numberplate synth classify --region ua-2015-3 --count 4000 --seed 31 --out work/synth/classify-ua3 \
    --backgrounds "$D/negatives" --fonts "$FONTS" --jobs "$JOBS"
  numberplate train classifier --config configs/classifier-ua3.toml \
    --init-from work/runs/classifier-plates-ft8-eu/last.pt --epochs 3 --lr 0.0003 --out work/runs/classifier-plates-ft9-ua3
  # Tenth (the shipped one; 2026-11-30, ninth session): the ninth's recipe run five times from the eighth with
  # seeds 1-5, with Russian military plates drawn without the flag beside "RUS" as the specimen shows them
  # (configs/classifier-rumil.toml), and in seeds 4-5 US plates in dealer frames too
  # (configs/classifier-rumil-us.toml); the five last epochs averaged into one model (`numberplate train average`).
  rm -rf work/synth/classify-rumil work/synth/classify-usframes
  numberplate synth classify --region ru-military --count 3000 --seed 33 --out work/synth/classify-rumil \
    --backgrounds "$D/negatives" --fonts "$FONTS" --jobs "$JOBS"
  numberplate synth classify --region us --count 3000 --seed 34 --out work/synth/classify-usframes \
    --backgrounds "$D/negatives" --fonts "$FONTS" --jobs "$JOBS"
  for seed in 1 2 3; do
    numberplate train classifier --config configs/classifier-rumil.toml --init-from work/runs/classifier-plates-ft8-eu/last.pt \
      --epochs 3 --lr 0.0003 --seed $seed --out work/runs/classifier-plates-rumil-s$seed
  done
  for seed in 4 5; do
    numberplate train classifier --config configs/classifier-rumil-us.toml \
      --init-from work/runs/classifier-plates-ft8-eu/last.pt --epochs 3 --lr 0.0003 --seed $seed \
      --out work/runs/classifier-plates-rumil-us-s$seed
  done
  # --measure: the average is scored on the recipe's val splits, as a training epoch is (the card states it).
  numberplate train average work/runs/classifier-plates-rumil-s{1,2,3}/last.pt \
    work/runs/classifier-plates-rumil-us-s{4,5}/last.pt --out work/runs/classifier-plates-tenth.pt --measure
fi

if has export; then
  numberplate export work/runs/classifier-plates-tenth.pt --out numberplate/weights/classifier-plates.onnx \
    --name classifier-plates
fi

if has eval; then
  numberplate eval classify --data work/synth/classify --split val
  numberplate eval classify --data work/synth/classify "$D/ocr/eu-crops" "$D/ocr/us-crops" "$D/ocr/br-crops" \
    "$D/ocr/ar-crops" work/real/ru-photos work/real/eu-one-line --split test
  numberplate eval read --data "$D/detection/ro-dashcam/val" "$D/endtoend/us" "$D/endtoend/br"
  python benchmarks/bench_classify.py
fi
