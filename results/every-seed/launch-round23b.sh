#!/bin/bash
# Round 23's close: the unchanged default on fresh seeds 201-220, two at a time, once the notebook's rerun is
# done (its process group in logs/notebook.pid); watched only for the 19:45 UTC deadline.
cd /work/r23b
.venv/bin/python experiments/every-seed/launch.py --name d1 --after logs/notebook.pid -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 201 220) --jobs 2 --threads 1 --out results/every-seed/fresh-201-220-amd
sleep 5
exec .venv/bin/python experiments/every-seed/watch.py --log-file logs/w23b.log --deadline 19:45 \
  --watch d1=logs/d1.log:logs/d1.pid:results/every-seed/fresh-201-220-amd:any
