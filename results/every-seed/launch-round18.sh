#!/bin/bash
# Round 18: wait for round 17's last seeds, then both candidates side by side, and the watcher.
cd /work/r18
while pgrep -f "fresh-261-280-amd" > /dev/null; do sleep 10; done
echo "round 17 done at $(date -u +%T)" >> logs/r18-launch.log
.venv/bin/python - <<'PY'
import subprocess
seeds = [str(s) for s in range(261, 271)]
for name, flags, out in (("h1", ["--plateau-factor", "0.7"], "screen-r18-factor0.7"), ("h2", ["--lr", "0.02"], "screen-r18-lr0.02")):
    cmd = [".venv/bin/python", "bench.py", *flags, "--seeds", *seeds, "--jobs", "1", "--threads", "1", "--out", f"results/every-seed/{out}"]
    with open(f"logs/{name}.log", "w") as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    open(f"logs/{name}.pid", "w").write(str(p.pid))
    open("logs/r18-launch.log", "a").write(" ".join(cmd) + f"  (pid {p.pid})\n")
PY
sleep 5
exec .venv/bin/python experiments/every-seed/watch.py --log-file logs/w18.log --bar 99.43 --mean-bar 99.56 --planned 10 --best 99.62 \
  --watch h1=logs/h1.log:logs/h1.pid:results/every-seed/screen-r18-factor0.7:0 \
  --watch h2=logs/h2.log:logs/h2.pid:results/every-seed/screen-r18-lr0.02:0
