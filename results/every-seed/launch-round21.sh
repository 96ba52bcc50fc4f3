#!/bin/bash
# Round 21, j1: rotation 10 and resize 0.1 on seeds 251-260, two at a time, and its watcher (no miss allowed).
cd /work/r21
.venv/bin/python - <<'PY'
import subprocess, time
cmd = [".venv/bin/python", "bench.py", "--rotation", "10", "--scale", "0.1", "--seeds", *[str(s) for s in range(251, 261)],
       "--jobs", "2", "--threads", "1", "--out", "results/every-seed/screen-r21-rot10-scale0.1"]
with open("logs/j1.log", "w") as log:
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
open("logs/j1.pid", "w").write(str(p.pid))
open("logs/r21-launch.log", "a").write(" ".join(cmd) + f"  (pid {p.pid}, started {time.strftime('%H:%M:%S', time.gmtime())} UTC)\n")
PY
sleep 5
exec .venv/bin/python experiments/every-seed/watch.py --log-file logs/w21.log --bar 99.40 --deadline 15:30 \
  --watch j1=logs/j1.log:logs/j1.pid:results/every-seed/screen-r21-rot10-scale0.1:0
