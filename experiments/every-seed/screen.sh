#!/bin/bash
# One screen by issue 14's rule of rounds 30 on: a candidate (bench.py options) on seeds FIRST..LAST, two at a
# time on one thread each, paired with a baseline folder that ran the same seeds on the same kind of machine.
#   bash experiments/every-seed/screen.sh NAME BASELINE OUT FIRST LAST DEADLINE -- BENCH_OPTIONS...
# Its watcher stops it at a miss, once the baseline's mean final plus 0.02 is out of reach (a remaining seed is
# granted 99.63%, the best final of this network's runs), or at DEADLINE (HH:MM UTC); then paired.py --rule
# prints the verdict. Run it from the repository root of a worktree pinned at the commit whose PLAN.md section
# names the round; run it again to continue: bench.py skips finished seeds and resumes stopped ones.
[ $# -ge 7 ] && [ "$7" = "--" ] || { sed -n 2,8p "$0" >&2; exit 2; }
NAME=$1 BASE=$2 OUT=$3 FIRST=$4 LAST=$5 DEADLINE=$6
shift 7
PY=.venv/bin/python EX=experiments/every-seed
BAR=$($PY -c "
import statistics, sys; sys.path.insert(0, '$EX'); from paired import finals
base, seeds = finals('$BASE'), range($FIRST, $LAST + 1)
missing = [s for s in seeds if s not in base]
sys.exit(f'the baseline $BASE has no finished seed {missing}') if missing else None
print(f'{statistics.mean(base[s][0] for s in seeds) + 0.02:.3f}')") || exit 1
echo "$(date -u +%H:%M) $NAME: mean bar $BAR (the baseline's mean final over seeds $FIRST-$LAST, plus 0.02)"
$PY $EX/launch.py --name "$NAME" -- \
  $PY bench.py "$@" --seeds $(seq -s ' ' "$FIRST" "$LAST") --jobs 2 --threads 1 --out "$OUT" || exit 1
sleep 5
$PY $EX/watch.py --log-file "logs/w-$NAME.log" --bar 99.40 --mean-bar "$BAR" --planned $((LAST - FIRST + 1)) \
  --best 99.63 --deadline "$DEADLINE" --watch "$NAME=logs/$NAME.log:logs/$NAME.pid:$OUT:0"
while kill -0 -- -"$(cat "logs/$NAME.pid")" 2>/dev/null; do sleep 10; done
$PY $EX/paired.py "$BASE" "$OUT" --rule $((LAST - FIRST + 1)) | tail -1
