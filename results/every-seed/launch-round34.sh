#!/bin/bash
# Round 34 (PLAN.md): the frozen default (batch 256, beta2 0.99; unchanged since 1c030e5) on fresh seeds 441-460,
# two at a time, one thread each. A miss is a result: its watcher stops it only at $DEADLINE (HH:MM UTC; 07:55
# unless set). Run again from the same worktree to continue: bench.py skips finished seeds and resumes stopped ones.
cd /work/r34  # a worktree pinned at the commit that adds this script
OUT=results/every-seed/fresh-441-460-amd
.venv/bin/python experiments/every-seed/launch.py --name f34 -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 441 460) --jobs 2 --threads 1 --out $OUT
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w34-f34.log --deadline "${DEADLINE:-07:55}" \
  --watch f34=logs/f34.log:logs/f34.pid:$OUT:any
