#!/bin/bash
# The default's sixth fresh block: seeds 321-340, two at a time, once CI (its pid file) has finished; no watcher.
cd /work/f321
.venv/bin/python experiments/every-seed/launch.py --name f1 --after /tmp/ci.pid -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 321 340) --jobs 2 --threads 1 --out results/every-seed/fresh-321-340-amd
