#!/bin/bash
# Round 27: l1 --lr 0.02, then v1 --val-size 2500, each on seeds 288-297 two at a time,
# each with its watcher (no miss allowed, mean bar 99.552); then the default on fresh seeds 361-380 (its
# watcher only enforces the deadline). Everything stops at 11:45 UTC.
cd /work/r27
screen() {  # name, bench.py option, folder, [--after pid file]
  .venv/bin/python experiments/every-seed/launch.py --name $1 ${4:+--after $4} -- \
    .venv/bin/python bench.py $2 --seeds $(seq -s ' ' 288 297) --jobs 2 --threads 1 \
    --out results/every-seed/screen-r27-$3
  sleep 5
  .venv/bin/python experiments/every-seed/watch.py --log-file logs/w27-$1.log --bar 99.40 --mean-bar 99.552 \
    --planned 10 --best 99.63 --deadline 11:45 --watch $1=logs/$1.log:logs/$1.pid:results/every-seed/screen-r27-$3:0
}
screen l1 "--lr 0.02" lr0.02
screen v1 "--val-size 2500" val2500 logs/l1.pid
.venv/bin/python experiments/every-seed/launch.py --name f1 --after logs/v1.pid -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 361 380) --jobs 2 --threads 1 --out results/every-seed/fresh-361-380-amd
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w27-f1.log --bar 99.40 --deadline 11:45 \
  --watch f1=logs/f1.log:logs/f1.pid:results/every-seed/fresh-361-380-amd:any
