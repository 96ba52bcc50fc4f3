#!/bin/bash
# Round 26: h1 --model hardswish, then h2 --model bn-first-hardswish, each on seeds 288-297 two at a time,
# each with its watcher (no miss allowed, mean bar 99.552); then the default on fresh seeds 341-360 (its
# watcher only enforces the deadline). Everything stops at 08:35 UTC.
cd /work/r26
screen() {  # name, preset, [--after pid file]
  .venv/bin/python experiments/every-seed/launch.py --name $1 ${3:+--after $3} -- \
    .venv/bin/python bench.py --model $2 --seeds $(seq -s ' ' 288 297) --jobs 2 --threads 1 \
    --out results/every-seed/screen-r26-$2
  sleep 5
  .venv/bin/python experiments/every-seed/watch.py --log-file logs/w26-$1.log --bar 99.40 --mean-bar 99.552 \
    --planned 10 --best 99.63 --deadline 08:35 --watch $1=logs/$1.log:logs/$1.pid:results/every-seed/screen-r26-$2:0
}
screen h1 hardswish
screen h2 bn-first-hardswish logs/h1.pid
.venv/bin/python experiments/every-seed/launch.py --name f1 --after logs/h2.pid -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 341 360) --jobs 2 --threads 1 --out results/every-seed/fresh-341-360-amd
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w26-f1.log --bar 99.40 --deadline 08:35 \
  --watch f1=logs/f1.log:logs/f1.pid:results/every-seed/fresh-341-360-amd:any
