#!/bin/bash
# A fresh block of issue 14: a frozen recipe (bench.py options; none for the default) on seeds FIRST..LAST that no
# recipe has run, two at a time on one thread each (JOBS and THREADS change that). A miss is a result, so its
# watcher never stops it on misses, only at DEADLINE (HH:MM UTC; the running seeds save their checkpoints); then
# table.py prints the block's row.
#   bash experiments/every-seed/fresh.sh NAME OUT FIRST LAST DEADLINE [-- BENCH_OPTIONS...]
# Run it from the repository root of a worktree pinned at the commit whose PLAN.md section names the block; run it
# again to continue: bench.py skips finished seeds and resumes stopped ones. (launch-round34.sh and
# launch-round36.sh in results/every-seed/ are this script written out for their blocks.)
[ $# -eq 5 ] || { [ $# -ge 6 ] && [ "$6" = "--" ]; } || { sed -n 2,9p "$0" >&2; exit 2; }
NAME=$1 OUT=$2 FIRST=$3 LAST=$4 DEADLINE=$5
shift 5 && shift $(( $# > 0 ))
PY=.venv/bin/python EX=experiments/every-seed
$PY $EX/launch.py --name "$NAME" -- \
  $PY bench.py "$@" --seeds $(seq -s ' ' "$FIRST" "$LAST") --jobs "${JOBS:-2}" --threads "${THREADS:-1}" --out "$OUT" || exit 1
sleep 5
$PY $EX/watch.py --log-file "logs/w-$NAME.log" --deadline "$DEADLINE" --watch "$NAME=logs/$NAME.log:logs/$NAME.pid:$OUT:any"
while kill -0 -- -"$(cat "logs/$NAME.pid")" 2>/dev/null; do sleep 10; done
$PY $EX/table.py "$NAME=$OUT"
