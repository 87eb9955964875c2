#!/usr/bin/env bash
# Reproduces models/town16/: the course U-Net (F=16, input 96x128x3, 23 classes: CARLA's semantic tags,
# about 2.1M float32 parameters, ~8.3 MB) trained from scratch by the project's own `pretrain` on 1,500
# rendered `town` frames by day (1,200 train, 300 val; `data world --world town --seed 0`).
# Only the model folder, its run record and its evaluation are kept (no checkpoints or optimizer state).
# Usage: scripts/make-town-model.sh     (about 10-30 minutes on 2 cores: ~45 s an epoch on an idle machine)
# The run can be stopped with Ctrl-C and continued where it stopped with RESUME=1 scripts/make-town-model.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/setup.mjs --quiet
EPOCHS="${EPOCHS:-12}"
WORK=tmp/make-town-model
cli() { node bin/unet-transfer.js "$@"; }

if [ "${RESUME:-0}" = 1 ]; then
  cli pretrain --out "$WORK/town16" --resume --log-every 150
else
  rm -rf "$WORK"
  mkdir -p "$WORK"
  # The source domain: town streets by day, 96x128, CARLA's 23 classes.
  cli data world --world town --style day --count 1500 --size 96x128 --val-fraction 0.2 --seed 0 --out "$WORK/town"
  cli pretrain --data "$WORK/town" --arch course --filters 16 --input 96x128x3 --epochs "$EPOCHS" --batch 8 --lr 1e-3 --seed 0 \
    --out "$WORK/town16" --log-every 150
fi
cli evaluate --model "$WORK/town16" --data "$WORK/town" --split val --json > "$WORK/evaluation.json"
cli evaluate --model "$WORK/town16" --data "$WORK/town" --split val

# Ship the model folder, its run record and the evaluation; replace models/town16 in one rename.
NEW=models/.town16.new
rm -rf "$NEW"
mkdir -p "$NEW/training"
cp "$WORK/town16/model.json" "$WORK/town16/unet.json" "$WORK"/town16/weights.*.bin "$NEW/"
cp "$WORK/town16/training/run.json" "$WORK/town16/training/metrics.jsonl" "$NEW/training/"
cp "$WORK/evaluation.json" "$NEW/evaluation.json"
rm -rf models/town16
mv "$NEW" models/town16
cli model summary models/town16 | tail -3
du -sh models/town16
