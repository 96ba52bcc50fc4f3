#!/bin/bash
# round 53: wait for the CI check to end, then the PLAN's two commands, then table.py
while ! grep -q '^rc ' /work/ci52.log; do sleep 10; done
OUT=results/every-seed/fresh-541-560-2threads-zen4
.venv/bin/python experiments/every-seed/launch.py --name t2 -- .venv/bin/python bench.py \
  --seeds $(seq -s ' ' 541 560) --jobs 1 --threads 2 --out $OUT || exit 1
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w-t2.log --deadline 15:52 \
  --watch "t2=logs/t2.log:logs/t2.pid:$OUT:any"
while kill -0 -- -"$(cat logs/t2.pid)" 2>/dev/null; do sleep 10; done
.venv/bin/python experiments/every-seed/table.py "t2=$OUT"
