#!/bin/sh
# bf16 against fp32 on digit scenes (README: "Quality: finetune --train all, 5 epochs, bf16 vs fp32"): per target
# and seed, the same fine-tune in both precisions, then a table of the final and best-epoch validation mIoU.
#   sh scripts/bf16-quality.sh OUT_DIR ; SEEDS (default "0 1 2 3 4 5 6 7 8 9"), TARGETS (default "speckle newdigits").
# Runs already in OUT_DIR are kept (the script continues where it stopped). Needs a CPU with AVX512-BF16 or AMX.
set -eu
E=${1:?usage: bf16-quality.sh OUT_DIR}
SEEDS=${SEEDS:-"0 1 2 3 4 5 6 7 8 9"}
TARGETS=${TARGETS:-"speckle newdigits"}
U="node bin/unet-transfer.js"
. "$(dirname "$0")/digit-targets.sh"
mkdir -p "$E"
for T in $TARGETS; do
  ARGS=$(target_args "$T") || exit 2
  [ -f "$E/$T/classes.json" ] || $U data digits --out "$E/$T" --size 64 --count 400 --val-count 100 $ARGS --quiet
done
for S in $SEEDS; do
  for T in $TARGETS; do
    for P in fp32 bf16; do
      [ -f "$E/runs/$T-$P-$S/model/model.json" ] && continue
      $U finetune --model models/digits04 --data "$E/$T" --train all --epochs 5 --batch 8 --lr 1e-3 --seed "$S" \
        --precision "$P" --out "$E/runs/$T-$P-$S" --quiet
    done
  done
done
E="$E" SEEDS="$SEEDS" TARGETS="$TARGETS" node -e '
const fs = require("fs");
const { E, SEEDS, TARGETS } = process.env;
const seeds = SEEDS.split(" ").filter(Boolean);
const epochs = (t, p, s) => fs.readFileSync(`${E}/runs/${t}-${p}-${s}/metrics.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
const f4 = (x) => x.toFixed(4);
console.log("| target | precision | final val mIoU, seeds " + seeds.join(",") + " | final mean | best-epoch mean |");
console.log("|---|---|---|---:|---:|");
const diffs = {};
for (const t of TARGETS.split(" ").filter(Boolean)) {
  const m = {};
  for (const p of ["fp32", "bf16"]) {
    const runs = seeds.map((s) => epochs(t, p, s));
    const final = runs.map((r) => r[r.length - 1].val_miou);
    const best = runs.map((r) => Math.max(...r.map((e) => e.val_miou)));
    m[p] = { final, best };
    console.log(`| ${t} | ${p} | ${final.map(f4).join(", ")} | ${f4(mean(final))} | ${f4(mean(best))} |`);
  }
  const d = m.bf16.final.map((v, i) => v - m.fp32.final[i]);
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean(d)) ** 2, 0) / (d.length - 1));
  diffs[t] = `${t}: bf16 - fp32 final mean ${f4(mean(d))} (per seed ${f4(Math.min(...d))} to ${f4(Math.max(...d))}, sd ${f4(sd)}, standard error ${f4(sd / Math.sqrt(d.length))}); best-epoch mean ${f4(mean(m.bf16.best) - mean(m.fp32.best))}`;
}
console.log("");
for (const line of Object.values(diffs)) console.log(line);
'
