#!/bin/bash
# Round 28: the frozen default (beta2 0.99, commit 515c232) on fresh seeds 301-320, two at a time; its watcher only
# enforces the 14:45 UTC stop (a miss is a result).
cd /work/r28f  # a worktree pinned at 515c232
.venv/bin/python experiments/every-seed/launch.py --name f2 -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 301 320) --jobs 2 --threads 1 --out results/every-seed/fresh-301-320-amd
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w28-f2.log --bar 99.40 --deadline 14:45 \
  --watch f2=logs/f2.log:logs/f2.pid:results/every-seed/fresh-301-320-amd:any
