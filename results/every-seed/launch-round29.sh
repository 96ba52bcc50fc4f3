#!/bin/bash
# Round 29 (PLAN.md): b256 --batch-size 256 on seeds 311-320 two at a time, its watcher stopping it at a miss or
# once mean 99.509 is out of reach; then, only if b256 did not qualify (step 2's clauses, checked on its seed
# files), the default on fresh seeds 381-400 (its watcher only enforces the deadline). Everything stops at 17:35 UTC.
cd /work/r29  # a worktree pinned at the commit that adds round 29 to PLAN.md
.venv/bin/python experiments/every-seed/launch.py --name b256 -- \
  .venv/bin/python bench.py --batch-size 256 --seeds $(seq -s ' ' 311 320) --jobs 2 --threads 1 \
  --out results/every-seed/screen-r29-batch256
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w29-b256.log --bar 99.40 --mean-bar 99.509 \
  --planned 10 --best 99.63 --deadline 17:35 \
  --watch b256=logs/b256.log:logs/b256.pid:results/every-seed/screen-r29-batch256:0
while kill -0 -- -"$(cat logs/b256.pid)" 2>/dev/null; do sleep 10; done
if .venv/bin/python - <<'PY'
import json, statistics, sys
from pathlib import Path
recs = [json.loads(p.read_text()) for p in Path("results/every-seed/screen-r29-batch256").glob("seed-*.json")]
lows = [min(e["test_acc"] for e in r["epochs"][-3:]) for r in recs]
finals = [r["epochs"][-1]["test_acc"] for r in recs]
ok = (len(recs) == 10 and min(lows) >= 99.40 and round(statistics.mean(finals), 3) >= 99.509
      and round(statistics.mean(lows), 3) >= 99.474)
print(f"b256: {len(recs)} seeds, lowest {min(lows, default=0):.2f}, mean final "
      f"{statistics.mean(finals) if finals else 0:.3f}, mean lowest {statistics.mean(lows) if lows else 0:.3f}: "
      f"{'qualifies' if ok else 'does not qualify'}")
sys.exit(0 if ok else 1)
PY
then echo "$(date -u +%H:%M) b256 qualifies: nothing starts (speed check by hand, PLAN round 29 step 3)"; exit 0; fi
.venv/bin/python experiments/every-seed/launch.py --name f3 -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 381 400) --jobs 2 --threads 1 --out results/every-seed/fresh-381-400-amd
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w29-f3.log --bar 99.40 --deadline 17:35 \
  --watch f3=logs/f3.log:logs/f3.pid:results/every-seed/fresh-381-400-amd:any
