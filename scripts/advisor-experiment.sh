#!/bin/sh
# The advisor's reduced acceptance run (README: "Measured: the advisor against fixed rules"): per target, the advice for each budget
# (default strategy: halving, its trials in E/T-adv-B/halving/), then the full sweep with the named
# policies, deep:3 and the picks, then the comparison with the fixed rules.
#   sh scripts/advisor-experiment.sh E [TARGETS] ; defaults: 200 training / 64 validation scenes, 3 seeds, 3 epochs.
set -eu
E=${1:?usage: advisor-experiment.sh OUT_DIR [TARGETS]}
TARGETS=${2:-"speckle newdigits"}
COUNT=${COUNT:-200}; VAL=${VAL:-64}; SEEDS=${SEEDS:-3}; EPOCHS=${EPOCHS:-3}; BUDGETS=${BUDGETS:-"0.5time 0.8time"}
MODEL=${MODEL:-models/digits04}
# ADV names the advice folders (E/T-ADV-B): another name advises again beside an earlier run, the sweep is shared.
ADV=${ADV:-adv}
U="node bin/unet-transfer.js"
. "$(dirname "$0")/digit-targets.sh"
mkdir -p "$E"
for T in $TARGETS; do
  ARGS=$(target_args "$T") || exit 2
  [ -f "$E/data/$T/classes.json" ] || $U data digits --out "$E/data/$T" --count "$COUNT" --val-count "$VAL" $ARGS --quiet
  PICKS=""
  for B in $BUDGETS; do
    $U advise --model "$MODEL" --data "$E/data/$T" --budget "$B" --seeds "$SEEDS" --epochs "$EPOCHS" --step-times "$E/step-times.json" --out "$E/$T-$ADV-$B" > "$E/$T-$ADV-$B.txt"
    PICKS="$PICKS,$(node -e "console.log(JSON.parse(require('fs').readFileSync('$E/$T-$ADV-$B/advice.json','utf8')).spec)")"
  done
  # The named policies, the fixed rule deep:3, the picks, and whatever an earlier run of this script swept there.
  POLICIES=$(node -e "const fs=require('fs');const f='$E/$T-sweep/plan.json';const old=fs.existsSync(f)?JSON.parse(fs.readFileSync(f,'utf8')).policies:[];const p=['full','scratch','encoder','decoder','bottleneck','head','decoder+head','encoder+bottleneck','shallow:2','deep:2','deep:3',...old,...'$PICKS'.split(',').filter(Boolean)];console.log([...new Set(p)].join(','))")
  $U sweep --model "$MODEL" --data "$E/data/$T" --policies "$POLICIES" --seeds "$SEEDS" --epochs "$EPOCHS" --out "$E/$T-sweep" > "$E/$T-sweep.txt"
  node scripts/advisor-compare.mjs "$E/$T-sweep" $(for B in $BUDGETS; do printf '%s ' "$E/$T-$ADV-$B"; done) > "$E/$T-$ADV-compare.md"
done
