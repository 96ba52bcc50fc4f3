#!/bin/bash
# Round 23's close, continued in a new session: the unchanged default on the rest of fresh block 201-220
# (bench.py skips 201-212, already done; 213 and 214 restart, their checkpoints were not kept), two at a time,
# beside one .ci/run; watched only for the 21:40 UTC deadline.
cd /work/r23c
.venv/bin/python experiments/every-seed/launch.py --name d2 -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 201 220) --jobs 2 --threads 1 --out results/every-seed/fresh-201-220-amd
sleep 5
exec .venv/bin/python experiments/every-seed/watch.py --log-file logs/w23c.log --deadline 21:40 \
  --watch d2=logs/d2.log:logs/d2.pid:results/every-seed/fresh-201-220-amd:any
