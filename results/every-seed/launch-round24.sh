#!/bin/bash
# Round 24: w1 --weight-decay 1e-3, then w2 --weight-decay 1e-4, each on seeds 278-287 two at a time, each with
# its watcher (no miss allowed, mean bar 99.542, deadline 22:40 UTC). w1 waits for round 23c's block.
cd /work/r24
screen() {  # name, weight decay, wait for this pid file
  .venv/bin/python experiments/every-seed/launch.py --name $1 --after $3 -- \
    .venv/bin/python bench.py --weight-decay $2 --seeds $(seq -s ' ' 278 287) --jobs 2 --threads 1 \
    --out results/every-seed/screen-r24-wd$2
  sleep 5
  .venv/bin/python experiments/every-seed/watch.py --log-file logs/w24-$1.log --bar 99.40 --mean-bar 99.542 \
    --planned 10 --best 99.63 --deadline 22:40 --watch $1=logs/$1.log:logs/$1.pid:results/every-seed/screen-r24-wd$2:0
}
screen w1 1e-3 /work/r23c/logs/d2.pid
screen w2 1e-4 logs/w1.pid
