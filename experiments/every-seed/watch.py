"""Stops screen candidates at their rule's miss count or mean bar, and can hand the freed cores to a next candidate.

A helper for the screens in results/*/PLAN.md, run beside them (it trains nothing itself):

    python experiments/every-seed/watch.py --log-file logs/watch.log \
        --watch f1=logs/f1.log:logs/f1.pid:results/every-seed/f1-rotation4:0 \
        --watch f2=logs/f2.log:logs/f2.pid:results/every-seed/f2-late-sep:0 \
        --next "python bench.py --model small --rotation 4 --seeds 1 2 3 4 5 --threads 1 --out results/small/r3" \
        --next-log logs/next.log --next-allow 1 --deadline 11:35

Each watched candidate is `name=bench log:pid file:out folder:misses allowed before it is stopped`; `any` for
the misses allowed never stops it on misses (a block of fresh seeds, watched only for --deadline).
A seed misses once one of its last three epochs is under --bar (99.40% unless a rule asks a margin, as
rounds 10 to 13 did with 99.43%; read from bench.py's epoch lines, so a seed is stopped as soon as its miss
shows). Stopping sends SIGINT to the run's process group, so the
running seed saves its checkpoint, and writes that seed's history to stopped-seed-N-after-epoch-E.json.
Each freed core starts `--next` (with --jobs 1, then --jobs 2 on the seeds it has not finished), if given.

With --mean-bar, a candidate is also stopped once the final accuracies of its finished seeds (seed-N.json in
its out folder) cannot reach that mean over --planned seeds even if every remaining seed ended at --best
(rounds 16 and 18 of issue 14: 99.56 over 10 seeds, with 99.62 granted to each seed still to run).
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import utils  # noqa: E402
from utils import TARGET  # noqa: E402
from launch import group_alive, start  # noqa: E402  (this folder; the script's own on sys.path)
from table import load  # noqa: E402

LINE = re.compile(r"\[(\S+) seed (\d+)\] epoch +(\d+) \|.*\| test loss [\d.]+ acc ([\d.]+)%")


def seeds_missed(log: Path, epochs: int = 15, last: int = 3, target: float = TARGET) -> dict[int, int]:
    """{seed: epoch of its first miss} from a bench log's epoch lines."""
    missed = {}
    for m in LINE.finditer(log.read_text() if log.exists() else ""):
        seed, epoch, acc = int(m[2]), int(m[3]), float(m[4])
        if epoch > epochs - last and acc < target and seed not in missed:
            missed[seed] = epoch
    return missed


def cannot_reach(finals: list[float], planned: int, mean_bar: float, best: float) -> bool:
    """True once the finished seeds' final accuracies rule out a mean of mean_bar over `planned` seeds, the
    remaining seeds ending at `best` at most. Sums carry a small tolerance for float rounding (finals have
    two decimals)."""
    left = planned - len(finals)
    return sum(finals) + max(left, 0) * best < mean_bar * planned - 1e-6


def finals_in(out: Path) -> list[float]:
    """The final test accuracies of the seeds finished in `out` (read by table.py's `load`), in seed order."""
    return [rec["epochs"][-1]["test_acc"] for _, rec in sorted(load(str(out)).items())]


def stop(pidfile: Path, out: Path, say, record: bool = True) -> None:
    """SIGINT first, so the running seed says where it stopped, then SIGKILL: bench.py (until this was fixed)
    went on to its next seed after an interrupted one. Checkpoints are written whole after every epoch,
    so killing loses at most the epoch in progress."""
    pgid = int(pidfile.read_text())
    for sig, wait in ((signal.SIGINT, 15), (signal.SIGKILL, 30)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        for _ in range(wait):
            if not group_alive(pgid):
                break
            time.sleep(1)
    for ckpt in sorted(out.glob("seed-*.pt")) if record else []:
        if not ckpt.with_suffix(".json").exists():
            history = utils.load_checkpoint(ckpt)["history"]
            name = f"stopped-{ckpt.stem}-after-epoch-{len(history['epochs'])}.json"
            utils.save_json(history, out / name)
            say(f"wrote {out / name}")


def seconds_until(hhmm: str, now: float) -> float:
    """Seconds from `now` (epoch seconds) to the next HH:MM UTC, within a day: a deadline of 00:30 set at 23:16
    is 74 minutes away (compared as strings, as it was until round 40, it read as past and stopped the screen
    at once). 24:00 is the coming midnight."""
    m = re.fullmatch(r"(\d\d):(\d\d)", hhmm)
    if not m or int(m[1]) > 24 or int(m[2]) > 59 or (int(m[1]) == 24 and int(m[2])):
        raise ValueError(f"deadline {hhmm!r} is not HH:MM (UTC, 00:00 to 24:00)")
    target = int(m[1]) * 3600 + int(m[2]) * 60
    return (target - now % 86400) % 86400 or 86400.0


def misses_allowed(text: str) -> float:
    """The last field of a --watch: a count, or `any` (never stopped on misses)."""
    if text == "any":
        return float("inf")
    if not text.isdigit():
        raise SystemExit(f"misses allowed must be a count or 'any', not {text!r}")
    return int(text)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--watch", action="append", default=[], help="name=log:pidfile:out:allowed (a count, or any)")
    p.add_argument("--next", help="bench.py command for the freed cores, without --jobs (default: none)")
    p.add_argument("--next-log", help="its log (needed with --next)")
    p.add_argument("--next-allow", type=int, default=0, help="misses allowed before --next is stopped")
    p.add_argument("--deadline", help="HH:MM UTC, its next occurrence (past midnight too): stop everything "
                                        "(default: none)")
    p.add_argument("--log-file", required=True)
    p.add_argument("--bar", type=float, default=TARGET,
                   help=f"an epoch of the last three under this accuracy, %%, is a miss (default {TARGET})")
    p.add_argument("--mean-bar", type=float, help="stop a candidate that can no longer reach this mean final accuracy")
    p.add_argument("--planned", type=int, default=10, help="seeds each candidate runs, for --mean-bar (default 10)")
    p.add_argument("--best", type=float, default=99.62, help="the highest final a remaining seed is granted (default 99.62)")
    p.add_argument("--freed", type=int, default=0,
                   help="cores already handed on by an earlier watcher (then --next runs, its pid in NEXT_LOG.pid)")
    args = p.parse_args()
    if args.next and not args.next_log:
        p.error("--next needs --next-log")
    if args.freed and not args.next:
        p.error("--freed hands cores to --next: give --next")
    if not args.watch:
        p.error("nothing to watch: give at least one --watch")
    try:
        stop_at = time.time() + seconds_until(args.deadline, time.time()) if args.deadline else float("inf")
    except ValueError as e:
        p.error(str(e))

    def say(msg: str) -> None:
        with open(args.log_file, "a") as f:
            f.write(f"{time.strftime('%H:%M:%S', time.gmtime())} {msg}\n")

    running = {}
    for w in args.watch:
        name, rest = w.split("=", 1)
        log, pid, out, allowed = rest.split(":")
        running[name] = (Path(log), Path(pid), Path(out), misses_allowed(allowed))
    if args.next:
        nxt_log, nxt_pid = Path(args.next_log), Path(args.next_log).with_suffix(".pid")
        nxt_cmd = shlex.split(args.next)
        nxt_out = Path(nxt_cmd[nxt_cmd.index("--out") + 1])
    freed, next_over = args.freed, not args.next
    if freed:
        running["next"] = (nxt_log, nxt_pid, nxt_out, args.next_allow)
    say(f"watching {sorted(running)}; next: {args.next}")
    while True:
        for name, (log, pid, out, allowed) in list(running.items()):
            missed = seeds_missed(log, target=args.bar)
            alive = group_alive(int(pid.read_text()))
            finals = finals_in(out) if args.mean_bar is not None and name != "next" else []
            short = bool(finals) and cannot_reach(finals, args.planned, args.mean_bar, args.best)
            if len(missed) > allowed or short or not alive:
                why = f", finals {finals} cannot reach a mean of {args.mean_bar}" if short else ""
                say(f"{name}: misses {missed}{why}" + (", stopping" if alive else ", finished"))
                if alive:
                    stop(pid, out, say)
                del running[name]
                if name == "next":
                    next_over = True
                    continue
                freed += 1
                if "next" in running:  # restart it on both cores; its running seed resumes exactly
                    stop(nxt_pid, nxt_out, say, record=False)
                if freed <= 2 and not next_over:
                    say(f"starting next with --jobs {freed}")
                    start(shlex.split(args.next) + ["--jobs", str(freed)], nxt_log, nxt_pid)
                    running["next"] = (nxt_log, nxt_pid, nxt_out, args.next_allow)
        if time.time() >= stop_at:
            for name, (log, pid, out, allowed) in running.items():
                say(f"deadline: stopping {name}")
                stop(pid, out, say)
            break
        if not running:
            break
        time.sleep(20)
    say("watcher done")


if __name__ == "__main__":
    main()
