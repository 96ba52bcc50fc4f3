#!/bin/bash
# Round 36 (PLAN.md): round 35's qualified candidate (--dropout 0.02 --rotation 10 --scale 0.1, every other setting
# the default's) on fresh seeds 461-480, two at a time, one thread each. A miss is a result: its watcher stops it
# only at $DEADLINE (HH:MM UTC). Run again from the same worktree to continue: bench.py skips finished seeds and
# resumes stopped ones from their checkpoints.
cd /work/r36  # a worktree pinned at the commit that adds this script
OUT=results/every-seed/fresh-461-480-dra-amd
.venv/bin/python experiments/every-seed/launch.py --name f36 -- \
  .venv/bin/python bench.py --dropout 0.02 --rotation 10 --scale 0.1 --seeds $(seq -s ' ' 461 480) --jobs 2 --threads 1 --out $OUT
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w36-f36.log --deadline "${DEADLINE:?set DEADLINE=HH:MM}" \
  --watch f36=logs/f36.log:logs/f36.pid:$OUT:any
