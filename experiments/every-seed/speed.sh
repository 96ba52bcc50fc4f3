#!/bin/bash
# Issue 14's speed limit for a candidate: a full run no more than 1.2 times the first default's, both
# `train.py --epochs 15 --seed 1` alone on the machine (its 2 threads), in the order A X X A, timed by history.json's
# `seconds` (training and evaluation). A is the first default, every setting changed since pinned back.
#   bash experiments/every-seed/speed.sh OUT_PREFIX -- TRAIN_OPTIONS...
# writes OUT_PREFIX-A1, -X1, -X2, -A2 and prints each run's seconds and the ratio of the means. Nothing else may
# run on the machine meanwhile: a second busy process on 2 cores doubles every figure.
[ $# -ge 2 ] && [ "$2" = "--" ] || { sed -n 2,7p "$0" >&2; exit 2; }
PREFIX=$1
shift 2
PY=.venv/bin/python
A="--model plain --bn-recalibrate off --shift 2 --adam-beta2 0.999 --batch-size 128 --dropout 0.05 --rotation 7 --scale 0"
for run in A1 X1 X2 A2; do
  if [ "${run:0:1}" = A ]; then opts=($A); else opts=("$@"); fi
  cmd=($PY train.py --epochs 15 --seed 1 --data-dir data --quiet "${opts[@]}" --out "$PREFIX-$run")
  echo "$(date -u +%H:%M:%S) start $run: ${cmd[*]}"
  "${cmd[@]}" || exit 1
done
$PY - "$PREFIX" <<'EOF'
import json, statistics, sys
s = {r: json.load(open(f"{sys.argv[1]}-{r}/history.json"))["seconds"] for r in ("A1", "X1", "X2", "A2")}
a, x = statistics.mean([s["A1"], s["A2"]]), statistics.mean([s["X1"], s["X2"]])
print(" ".join(f"{r} {v:.1f} s" for r, v in s.items()) + f"; X takes {x / a:.2f} times A ({x:.1f} against {a:.1f} s)")
EOF
