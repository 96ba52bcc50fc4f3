#!/bin/bash
# Round 20, finished (seeds 293-300): the default on fresh seeds 281-300, two at a time.
cd /work/r20b
.venv/bin/python - <<'PY'
import subprocess, time
cmd = [".venv/bin/python", "bench.py", "--seeds", *[str(s) for s in range(281, 301)], "--jobs", "2", "--threads", "1", "--out", "results/every-seed/fresh-281-300-amd"]
with open("logs/r20b.log", "w") as log:
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
open("logs/r20b.pid", "w").write(str(p.pid))
open("logs/r20b-launch.log", "a").write(" ".join(cmd) + f"  (pid {p.pid}, started {time.strftime('%H:%M:%S', time.gmtime())} UTC)\n")
PY
sleep 5
exec .venv/bin/python experiments/every-seed/watch.py --log-file logs/w20b.log --bar 0 --deadline 16:40 \
  --watch r20=logs/r20b.log:logs/r20b.pid:results/every-seed/fresh-281-300-amd:99
