#!/usr/bin/env bash
# Reproduces models/digits04/, the pretrained U-Net that `unet-transfer demo` ships with: the course U-Net
# (F=8, input 64x64x1, 6 classes: background + digits 0-4, about 540k float32 parameters, ~2.2 MB) trained
# from scratch by the project's own `pretrain` on 2000 MNIST digit scenes of digits 0-4.
# Only the model folder and its run record are kept (no checkpoints or optimizer state).
# Usage: scripts/make-demo-model.sh            (about 5-10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/setup.mjs --quiet
EPOCHS="${EPOCHS:-15}"
WORK=tmp/make-demo-model
rm -rf "$WORK"
mkdir -p "$WORK"
cli() { node bin/unet-transfer.js "$@"; }

# The source domain: digits 0-4 on a 64x64 canvas, 1-3 per scene (val scenes use MNIST's test digits).
cli data digits --out "$WORK/source" --digits 0-4 --size 64 --count 2000 --val-count 500 --seed 0
cli pretrain --data "$WORK/source" --arch course --filters 8 --input 64x64x1 --epochs "$EPOCHS" --batch 8 --lr 1e-3 --seed 0 \
  --out "$WORK/digits04" --log-every 125
cli evaluate --model "$WORK/digits04" --data "$WORK/source" --split val --json > "$WORK/evaluation.json"
cli evaluate --model "$WORK/digits04" --data "$WORK/source" --split val

# Ship the model folder, its run record and the evaluation; replace models/digits04 in one rename.
NEW=models/.digits04.new
rm -rf "$NEW"
mkdir -p "$NEW/training"
cp "$WORK/digits04/model.json" "$WORK/digits04/unet.json" "$WORK"/digits04/weights.*.bin "$NEW/"
cp "$WORK/digits04/training/run.json" "$WORK/digits04/training/metrics.jsonl" "$NEW/training/"
cp "$WORK/evaluation.json" "$NEW/evaluation.json"
rm -rf models/digits04
mv "$NEW" models/digits04
cli model summary models/digits04 | tail -3
du -sh models/digits04
