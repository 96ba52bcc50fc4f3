#!/bin/bash
# Round 29, the rest of the frozen default's fresh block: seeds 395-400 (381-394 were finished on 2026-12-02 and
# are skipped by bench.py; 395 and 396 start again from epoch 1, their checkpoints were not kept). No watcher:
# nothing is stopped, a miss is a result. Its log is appended to the block's bench.log when it ends.
cd /work/block  # a worktree pinned at the freezing commit 1c030e5, with seed-381..394.json copied in
.venv/bin/python experiments/every-seed/launch.py --name f4 -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 381 400) --jobs 2 --threads 1 --out results/every-seed/fresh-381-400-amd
