#!/bin/bash
# Round 23, k1: --no-aug-epochs 3 on seeds 271-280, two at a time; its watcher (no miss allowed, mean bar 99.518).
cd /work/r23
.venv/bin/python - <<'PY'
import subprocess, time
cmd = [".venv/bin/python", "bench.py", "--no-aug-epochs", "3", "--seeds", *[str(s) for s in range(271, 281)],
       "--jobs", "2", "--threads", "1", "--out", "results/every-seed/screen-r23-no-aug3"]
with open("logs/k1.log", "w") as log:
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
open("logs/k1.pid", "w").write(str(p.pid))
open("logs/r23-launch.log", "a").write(" ".join(cmd) + f"  (pid {p.pid}, started {time.strftime('%H:%M:%S', time.gmtime())} UTC)\n")
PY
sleep 5
exec .venv/bin/python experiments/every-seed/watch.py --log-file logs/w23.log --bar 99.40 --mean-bar 99.518 \
  --planned 10 --best 99.63 --deadline 19:00 \
  --watch k1=logs/k1.log:logs/k1.pid:results/every-seed/screen-r23-no-aug3:0
