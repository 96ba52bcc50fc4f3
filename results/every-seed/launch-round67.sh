#!/bin/bash
# Round 67 (PLAN.md): part A, --late-lr 6.25e-4 on the seeds of 721-740 where it binds, then the bind rule's verdict
# over the 16 binding seeds of rounds 66 and 67; part B, the default on fresh seeds 741-760; part C, if part A
# qualified, the cap on part B's binding seeds (the confirmation), else the default on fresh seeds 761-780.
# Everything stops at 19:15 UTC. Run from the repository root of a worktree pinned at its commit.
PY=.venv/bin/python EX=experiments/every-seed R=results/every-seed DEADLINE=19:15
early() { [ "$(date -u +%H%M)" -lt 1915 ]; }  # watch.py would take 19:15 as the next day's once it has passed
binding() {  # the seeds of a folder whose default rate at epoch 13 is above 6.25e-4 (1.25e-3 or more)
  $PY -c "import sys; sys.path.insert(0, '$EX')
from late_rate import split; from table import load
print(' '.join(map(str, split(load('$1'), 13, 1.2e-3)['high'])))"; }
capped() {  # NAME OUT SEEDS...: the cap on those seeds, watched to the deadline
  local name=$1 out=$2; shift 2
  $PY $EX/launch.py --name "$name" -- $PY bench.py --late-lr 6.25e-4 --seeds "$@" --jobs 2 --threads 1 --out "$out" || exit 1
  sleep 5
  $PY $EX/watch.py --log-file "logs/w-$name.log" --deadline $DEADLINE --watch "$name=logs/$name.log:logs/$name.pid:$out:any"
  while kill -0 -- -"$(cat "logs/$name.pid")" 2>/dev/null; do sleep 10; done; }
SEEDS_A=$(binding $R/fresh-721-740-bf16-amx)
echo "$(date -u +%H:%M) part A seeds: $SEEDS_A"
capped b67 $R/bind-r67-late-lr-6.25e-4 $SEEDS_A
BASE=$R/fresh-681-700-bf16-amx+$R/fresh-701-720-bf16-amx+$R/fresh-721-740-bf16-amx
$PY $EX/paired.py $BASE $R/bind-r66-late-lr-6.25e-4+$R/bind-r67-late-lr-6.25e-4 --bind-rule 10 | tee logs/verdict-a.txt
early || exit 0
bash $EX/fresh.sh d67 $R/fresh-741-760-bf16-amx 741 760 $DEADLINE
early || exit 0
if grep -q ": qualifies" logs/verdict-a.txt; then
  SEEDS_C=$(binding $R/fresh-741-760-bf16-amx)
  echo "$(date -u +%H:%M) part C seeds: $SEEDS_C"
  [ -n "$SEEDS_C" ] && capped c67 $R/bind-r67c-late-lr-6.25e-4 $SEEDS_C
  $PY $EX/paired.py $R/fresh-741-760-bf16-amx $R/bind-r67c-late-lr-6.25e-4
else
  bash $EX/fresh.sh d67c $R/fresh-761-780-bf16-amx 761 780 $DEADLINE
fi
