#!/bin/bash
# Round 12 on a lent GPU (results/every-seed/PLAN.md): the default and late-sep-sq8 side by side on CUDA,
# each bench.py over the same seeds in the same order, JOBS (8) seeds at a time each, until DEADLINE seconds.
# Run from the repository root with MNIST's four .gz files in .mn/ and an $OUT folder to fill:
#   bash experiments/every-seed/cuda_round12.sh 480
# Its first call ran at commit 5e49fc4, its second at a7b38d1. Since the freeze that followed, late-sep-sq8's
# network is `default` and the name late-sep-sq8 is gone. Do not rerun it at a later commit as it stands:
# results/every-seed/cuda-default holds the old default's runs under the name default, and bench.py would
# take them as done. Copy it with new --out folders instead.
set -u
deadline=${1:-480}
out=${OUT:-/tmp/round12-out}
mkdir -p "$out" data/MNIST/raw
for f in .mn/*.gz; do gunzip -c "$f" > "data/MNIST/raw/$(basename "$f" .gz)"; done
{ nvidia-smi; lscpu | head -20; python3 -c "import torch, torchvision; print('torch', torch.__version__,
'torchvision', torchvision.__version__, torch.cuda.get_device_name())"; } > "$out/env.txt" 2>&1
export PYTHONUNBUFFERED=1 TORCHINDUCTOR_COMPILE_THREADS=1  # 16 processes compile at once: no worker pools
# The first call used these defaults; the second: MODELS=late-sep-sq8 JOBS=16 SEEDS="177 ... 312"
seeds=${SEEDS:-"$(seq 161 180) $(seq 301 320)"}
for model in ${MODELS:-default late-sep-sq8}; do
  python3 bench.py --model "$model" --seeds $seeds --jobs "${JOBS:-8}" --threads 1 --data-dir data \
    --out "results/every-seed/cuda-$model" > "$out/$model.log" 2>&1 &
done
pack() {  # finished seeds only (each seed-N.json is written whole); checkpoints stay behind
  tar czf "$out/.results.tgz" --exclude='*.pt' --exclude='ray-tune' results/every-seed/cuda-* 2>/dev/null
  mv "$out/.results.tgz" "$out/results.tgz"
}
while [ "$SECONDS" -lt "$deadline" ] && [ -n "$(jobs -r)" ]; do
  sleep 10
  [ $((SECONDS % 60)) -lt 10 ] && pack
done
pack
echo "stopped after $SECONDS s; finished seeds:"
ls results/every-seed/cuda-*/ | grep -c json
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
