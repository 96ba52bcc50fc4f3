#!/bin/bash
# Round 28: b2 --adam-beta2 0.99, then b256 --batch-size 256, each on seeds 321-330 two at a time, each with
# its watcher (no miss allowed, mean bar 99.512); b2 waits for the eighth block's seeds 379-380 (worktree r28a);
# then the default on fresh seeds 381-400 (its watcher only enforces the deadline). Everything stops at 14:45 UTC.
# The queue after b2 was stopped at 13:06 UTC, before b2 ended (PLAN.md, "what runs after b2"); b2 qualified and
# was frozen, and the frozen default ran on fresh seeds 301-320 instead (launch-round28f.sh). b256 did not run.
cd /work/r28
screen() {  # name, bench.py option, folder, [--after pid file]
  .venv/bin/python experiments/every-seed/launch.py --name $1 ${4:+--after $4} -- \
    .venv/bin/python bench.py $2 --seeds $(seq -s ' ' 321 330) --jobs 2 --threads 1 \
    --out results/every-seed/screen-r28-$3
  sleep 5
  .venv/bin/python experiments/every-seed/watch.py --log-file logs/w28-$1.log --bar 99.40 --mean-bar 99.512 \
    --planned 10 --best 99.63 --deadline 14:45 --watch $1=logs/$1.log:logs/$1.pid:results/every-seed/screen-r28-$3:0
}
screen b2 "--adam-beta2 0.99" beta2-0.99 /work/r28a/logs/f1.pid
screen b256 "--batch-size 256" batch256 logs/b2.pid
.venv/bin/python experiments/every-seed/launch.py --name f1 --after logs/b256.pid -- \
  .venv/bin/python bench.py --seeds $(seq -s ' ' 381 400) --jobs 2 --threads 1 --out results/every-seed/fresh-381-400-amd
sleep 5
.venv/bin/python experiments/every-seed/watch.py --log-file logs/w28-f1.log --bar 99.40 --deadline 14:45 \
  --watch f1=logs/f1.log:logs/f1.pid:results/every-seed/fresh-381-400-amd:any
