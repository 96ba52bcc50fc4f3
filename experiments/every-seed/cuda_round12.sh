#!/bin/bash
# Round 12 on a lent GPU (results/every-seed/PLAN.md): the default and late-sep-sq8 side by side on CUDA,
# each bench.py over the same seeds in the same order, JOBS (8) seeds at a time each, until DEADLINE seconds.
# Run from the repository root with MNIST's four .gz files in .mn/ and an $OUT folder to fill:
#   bash experiments/every-seed/cuda_round12.sh 480
# Its first call ran at commit 5e49fc4, its second at a7b38d1 (then the whole script; since round 24 the same
# settings passed to cuda_seeds.sh). Since the freeze that followed, late-sep-sq8's network is `default` and
# the name late-sep-sq8 is gone. Do not rerun it at a later commit as it stands: results/every-seed/cuda-default
# holds the old default's runs under the name default, and bench.py would take them as done. Use
# cuda_seeds.sh with a new PREFIX instead.
# The first call used these defaults; the second: MODELS=late-sep-sq8 JOBS=16 SEEDS="177 ... 312"
OUT=${OUT:-/tmp/round12-out} PREFIX=cuda MODELS=${MODELS:-default late-sep-sq8} JOBS=${JOBS:-8} \
  SEEDS=${SEEDS:-"$(seq 161 180) $(seq 301 320)"} exec bash "$(dirname "$0")/cuda_seeds.sh" "$@"
