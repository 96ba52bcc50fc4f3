#!/bin/bash
# Round 20: the default on fresh seeds 281-300, two at a time; stopped at 13:40 UTC if unfinished.
cd /work/r20
.venv/bin/python - <<'PY'
import subprocess, time
cmd = [".venv/bin/python", "bench.py", "--seeds", *[str(s) for s in range(281, 301)], "--jobs", "2", "--threads", "1", "--out", "results/every-seed/fresh-281-300-amd"]
with open("logs/r20.log", "w") as log:
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
open("logs/r20.pid", "w").write(str(p.pid))
open("logs/r20-launch.log", "a").write(" ".join(cmd) + f"  (pid {p.pid}, started {time.strftime('%H:%M:%S', time.gmtime())} UTC)\n")
PY
sleep 5
exec .venv/bin/python experiments/every-seed/watch.py --log-file logs/w20.log --bar 0 --deadline 13:40 \
  --watch r20=logs/r20.log:logs/r20.pid:results/every-seed/fresh-281-300-amd:99
