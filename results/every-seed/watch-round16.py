# Round 16's stop rule (PLAN.md), applied every 30 s: an epoch of the last three under 99.43, or finals too low to reach a 99.56 mean.
import json, sys, time
from pathlib import Path
sys.path.insert(0, "/work/screen16/experiments/every-seed"); sys.path.insert(0, "/work/screen16")
import watch
R = Path("/work/screen16")
C = {"g1": "results/every-seed/screen-r16-shift0", "g2": "results/every-seed/screen-r16-shift0.5"}
live = set(C)
def say(m):
    with open(R / "logs/w16.log", "a") as f: f.write(time.strftime("%H:%M:%S ") + m + "\n")
say("watching " + str(C))
while live:
    for g in sorted(live):
        missed = watch.seeds_missed(R / f"logs/{g}.log", target=99.43)
        out = R / C[g]
        finals = [json.loads(p.read_text())["epochs"][-1]["test_acc"] for p in out.glob("seed-*.json")]
        left = 10 - len(finals)
        futile = left > 0 and (995.6 - sum(finals)) / left > 99.62 or left == 0 and sum(finals) < 995.6 - 1e-9
        if missed or futile:
            say(f"{g}: stop, misses under 99.43 {missed}, finals {finals}")
            watch.stop(R / f"logs/{g}.pid", out, say)
            live.discard(g)
        elif left == 0:
            say(f"{g}: all 10 seeds done, finals {finals}"); live.discard(g)
    time.sleep(30)
say("done")
