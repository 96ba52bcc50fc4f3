#!/bin/bash
# Seeds on a lent GPU: bench.py for each of MODELS (default: the default network) over SEEDS, JOBS at a time,
# until DEADLINE seconds (the first argument), packing every finished seed into $OUT/results.tgz each minute
# so that a call cut short still returns what finished. Run from the repository root with MNIST's four .gz
# files in .mn/ (an untracked folder travels with the working tree):
#   SEEDS="$(seq 401 440)" JOBS=16 bash experiments/every-seed/cuda_seeds.sh 480
# Each model's runs go to results/every-seed/$PREFIX-$model (PREFIX: cuda-r24 unless set); pick a PREFIX no
# earlier call used, or bench.py takes the earlier runs there as done. cuda_round12.sh is round 12's call.
# Round 51 (one H200) ran it twice: SEEDS="$(seq 401 440)" PREFIX=cuda-r51 ... 540, then
# SEEDS="$(seq 601 640)" PREFIX=cuda-r51b ... 380, both JOBS=16 (RESULTS.md, round 51).
set -u
deadline=${1:-480}
out=${OUT:-/tmp/cuda-seeds-out}
prefix=${PREFIX:-cuda-r24}
mkdir -p "$out" data/MNIST/raw
for f in .mn/*.gz; do gunzip -c "$f" > "data/MNIST/raw/$(basename "$f" .gz)"; done
{ nvidia-smi; lscpu | head -20; python3 -c "import torch, torchvision; print('torch', torch.__version__,
'torchvision', torchvision.__version__, torch.cuda.get_device_name())"; } > "$out/env.txt" 2>&1
export PYTHONUNBUFFERED=1 TORCHINDUCTOR_COMPILE_THREADS=1  # 16 processes compile at once: no worker pools
for model in ${MODELS:-default}; do
  python3 bench.py --model "$model" --seeds ${SEEDS:-$(seq 401 440)} --jobs "${JOBS:-16}" --threads 1 \
    --data-dir data --out "results/every-seed/$prefix-$model" > "$out/$model.log" 2>&1 &
done
pack() {  # finished seeds only (each seed-N.json is written whole); checkpoints stay behind
  tar czf "$out/.results.tgz" --exclude='*.pt' --exclude='ray-tune' results/every-seed/"$prefix"-* 2>/dev/null
  mv "$out/.results.tgz" "$out/results.tgz"
}
while [ "$SECONDS" -lt "$deadline" ] && [ -n "$(jobs -r)" ]; do
  sleep 10
  [ $((SECONDS % 60)) -lt 10 ] && pack
done
pack
echo "stopped after $SECONDS s; finished seeds:"
ls results/every-seed/"$prefix"-*/ | grep -c json
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
