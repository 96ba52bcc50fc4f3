#!/bin/bash
# Round 25: b1 --model bn-first, then b2 --model leaky, each on seeds 288-297 two at a time, each with its
# watcher (no miss allowed, mean bar 99.552, deadline 05:35 UTC). b2 waits for b1's block to end.
cd /work/r25
screen() {  # name, preset, [--after pid file]
  .venv/bin/python experiments/every-seed/launch.py --name $1 ${3:+--after $3} -- \
    .venv/bin/python bench.py --model $2 --seeds $(seq -s ' ' 288 297) --jobs 2 --threads 1 \
    --out results/every-seed/screen-r25-$2
  sleep 5
  .venv/bin/python experiments/every-seed/watch.py --log-file logs/w25-$1.log --bar 99.40 --mean-bar 99.552 \
    --planned 10 --best 99.63 --deadline 05:35 --watch $1=logs/$1.log:logs/$1.pid:results/every-seed/screen-r25-$2:0
}
screen b1 bn-first
screen b2 leaky logs/b1.pid
