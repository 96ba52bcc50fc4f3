#!/bin/bash
# Round 33 (PLAN.md): do02 --dropout 0.02 on seeds 381-400 two at a time, paired with the default's fresh
# block there; its watcher stops it at a miss, once the default's mean + 0.02 is out of reach, or at $DEADLINE
# (HH:MM UTC; 07:30 unless set). Then the rule's clauses are checked on its seed files; nothing starts after it.
# Run again from the same worktree to continue: bench.py skips finished seeds and resumes stopped ones.
cd /work/r33  # a worktree pinned at the commit that adds this script (the default's block 381-400 is in it)
BASE=results/every-seed/fresh-381-400-amd OUT=results/every-seed/screen-r33-dropout0.02
BAR=$(.venv/bin/python -c "
import json, statistics; from pathlib import Path
f = [json.loads((Path('$BASE') / f'seed-{s}.json').read_text())['epochs'][-1]['test_acc'] for s in range(381, 401)]
print(f'{statistics.mean(f) + 0.02:.3f}')") || exit 1
echo "$(date -u +%H:%M) mean bar $BAR (the default's mean final over seeds 381-400, plus 0.02)"
.venv/bin/python experiments/every-seed/launch.py --name do02 -- \
  .venv/bin/python bench.py --dropout 0.02 --seeds $(seq -s ' ' 381 400) --jobs 2 --threads 1 --out $OUT
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w33-do02.log --bar 99.40 --mean-bar "$BAR" \
  --planned 20 --best 99.63 --deadline "${DEADLINE:-07:30}" --watch do02=logs/do02.log:logs/do02.pid:$OUT:0
while kill -0 -- -"$(cat logs/do02.pid)" 2>/dev/null; do sleep 10; done
.venv/bin/python - "$BASE" "$OUT" <<'PY'
import json, statistics, sys
from pathlib import Path
def runs(folder):
    recs = {int(p.stem[5:]): json.loads(p.read_text()) for p in Path(folder).glob("seed-*.json")}
    return {s: (r["epochs"][-1]["test_acc"], min(e["test_acc"] for e in r["epochs"][-3:])) for s, r in recs.items()}
base, cand = runs(sys.argv[1]), runs(sys.argv[2])
seeds = sorted(cand)
diff = [cand[s][0] - base[s][0] for s in seeds]
low_diff = [cand[s][1] - base[s][1] for s in seeds]
mean, se = (statistics.mean(diff), statistics.stdev(diff) / len(diff) ** 0.5) if len(diff) > 1 else (0, 0)
ok = (len(seeds) == 20 and min(cand[s][1] for s in seeds) >= 99.40 and round(mean, 3) >= 0.02
      and mean >= 2 * se and statistics.mean(low_diff) >= 0)
print(f"do02: {len(seeds)} seeds, lowest {min((cand[s][1] for s in seeds), default=0):.2f}, mean final difference "
      f"{mean:+.3f} (standard error {se:.3f}), each seed's lowest {statistics.mean(low_diff) if low_diff else 0:+.3f}: "
      f"{'qualifies' if ok else 'does not qualify'}")
PY
