#!/bin/bash
# Round 19, i2: scale 0.1 on seeds 241-250, one job, and its watcher.
cd /work/r19b
.venv/bin/python - <<'PY'
import subprocess
seeds = [str(s) for s in range(241, 251)]
cmd = [".venv/bin/python", "bench.py", "--scale", "0.1", "--seeds", *seeds, "--jobs", "1", "--threads", "1", "--out", "results/every-seed/screen-r19-scale0.1"]
with open("logs/i2.log", "w") as log:
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
open("logs/i2.pid", "w").write(str(p.pid))
open("logs/r19-launch.log", "a").write(" ".join(cmd) + f"  (pid {p.pid}, started {__import__('time').strftime('%H:%M:%S', __import__('time').gmtime())} UTC)\n")
PY
sleep 5
exec .venv/bin/python experiments/every-seed/watch.py --log-file logs/w19-i2.log --bar 99.43 --mean-bar 99.56 --planned 10 --best 99.63 --deadline 13:20 \
  --watch i2=logs/i2.log:logs/i2.pid:results/every-seed/screen-r19-scale0.1:0
