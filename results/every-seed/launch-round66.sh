#!/bin/bash
# Round 66 (PLAN.md): part A, the default on fresh seeds 701-720; part B, --late-lr 6.25e-4 on the seeds where the
# cap binds (part A's with a rate above 6.25e-4 at epoch 13, and 698 from round 65); part C, the default on fresh
# seeds 721-740; everything stops at 16:30 UTC. Run from the repository root of a worktree pinned at its commit.
PY=.venv/bin/python EX=experiments/every-seed R=results/every-seed DEADLINE=16:30
early() { [ "$(date -u +%H%M)" -lt 1630 ]; }  # watch.py would take 16:30 as the next day's once it has passed
bash $EX/fresh.sh d66 $R/fresh-701-720-bf16-amx 701 720 $DEADLINE
early || exit 0
SEEDS=$($PY -c "
import json, pathlib
recs = [pathlib.Path('$R/fresh-681-700-bf16-amx/seed-698.json')]
recs += sorted(pathlib.Path('$R/fresh-701-720-bf16-amx').glob('seed-*.json'))
print(' '.join(str(json.loads(p.read_text())['config']['seed']) for p in recs
               if json.loads(p.read_text())['epochs'][12]['lr'] > 6.25e-4))")
echo "$(date -u +%H:%M) part B seeds: $SEEDS"
$PY $EX/launch.py --name b66 -- $PY bench.py --late-lr 6.25e-4 --seeds $SEEDS --jobs 2 --threads 1 \
  --out $R/bind-r66-late-lr-6.25e-4 || exit 1
sleep 5
$PY $EX/watch.py --log-file logs/w-b66.log --deadline $DEADLINE --watch "b66=logs/b66.log:logs/b66.pid:$R/bind-r66-late-lr-6.25e-4:any"
while kill -0 -- -"$(cat logs/b66.pid)" 2>/dev/null; do sleep 10; done
$PY $EX/paired.py $R/fresh-681-700-bf16-amx+$R/fresh-701-720-bf16-amx $R/bind-r66-late-lr-6.25e-4
early && bash $EX/fresh.sh d66c $R/fresh-721-740-bf16-amx 721 740 $DEADLINE
