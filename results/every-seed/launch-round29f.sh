#!/bin/bash
# Round 29: the frozen default (batch 256, the commit that freezes it) on fresh seeds 381-400, two at a time; its
# watcher only enforces the 17:40 UTC stop (a miss is a result). .ci/run runs beside its first seeds (PLAN.md).
cd /work/r29f  # a worktree pinned at the freezing commit
.venv/bin/python experiments/every-seed/launch.py --name f3 -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 381 400) --jobs 2 --threads 1 --out results/every-seed/fresh-381-400-amd
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w29-f3.log --bar 99.40 --deadline 17:40 \
  --watch f3=logs/f3.log:logs/f3.pid:results/every-seed/fresh-381-400-amd:any
