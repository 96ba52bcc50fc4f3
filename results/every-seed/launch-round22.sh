#!/bin/bash
# Round 22, i1: rotation 10 on seeds 251-260, two at a time, once round 20's last seeds are done; its watcher (no miss allowed).
cd /work/r22
while pgrep -g "$(cat /work/r20b/logs/r20b.pid)" > /dev/null; do sleep 10; done
.venv/bin/python - <<'PY'
import subprocess, time
cmd = [".venv/bin/python", "bench.py", "--rotation", "10", "--seeds", *[str(s) for s in range(251, 261)],
       "--jobs", "2", "--threads", "1", "--out", "results/every-seed/screen-r22-rotation10"]
with open("logs/i1.log", "w") as log:
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
open("logs/i1.pid", "w").write(str(p.pid))
open("logs/r22-launch.log", "a").write(" ".join(cmd) + f"  (pid {p.pid}, started {time.strftime('%H:%M:%S', time.gmtime())} UTC)\n")
PY
sleep 5
exec .venv/bin/python experiments/every-seed/watch.py --log-file logs/w22.log --bar 99.40 --deadline 16:48 \
  --watch i1=logs/i1.log:logs/i1.pid:results/every-seed/screen-r22-rotation10:0
