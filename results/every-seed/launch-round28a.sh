#!/bin/bash
# Seeds 379 and 380 of the eighth fresh block (the default, from 7ae7ecb as the block began); 361-378 are skipped.
cd /work/r28a  # a worktree pinned at 7ae7ecb, where the block began
.venv/bin/python experiments/every-seed/launch.py --name f1 -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 361 380) --jobs 2 --threads 1 --out results/every-seed/fresh-361-380-amd
