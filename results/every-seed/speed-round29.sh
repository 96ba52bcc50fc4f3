#!/bin/bash
# Round 29 step 3 (PLAN.md): b256's speed alone, 2 threads, seed 1, order A X X A, A the first default
# (plain network, no BatchNorm recalibration, shifts of 2, Adam's beta2 0.999). Run only if b256 qualifies.
cd /work/r29
A="--model plain --bn-recalibrate off --shift 2 --adam-beta2 0.999"
X="--batch-size 256"
for run in A1 X1 X2 A2; do
  opts=$A; [ "${run:0:1}" = X ] && opts=$X
  cmd=".venv/bin/python train.py --epochs 15 --seed 1 --data-dir data --quiet $opts --out results/every-seed/speed-r29-$run"
  echo "$(date -u +%H:%M:%S) start $run: $cmd"
  $cmd
  echo "$(date -u +%H:%M:%S) end $run rc=$?"
done
