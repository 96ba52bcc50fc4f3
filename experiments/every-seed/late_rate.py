"""Whether a seed that still trains at a high rate late in its run is the one that misses (issue 14's idea 3).

    python experiments/every-seed/late_rate.py [--epoch 13] [--rate 2.4e-3] FOLDER[+FOLDER...]

FOLDER holds bench.py's seed-N.json files (only finished seeds count). The seeds are split by the learning rate
their record gives for --epoch (1-based; ReduceLROnPlateau has halved 0.01 twice at 2.5e-3): at or above --rate,
and below. For each group: seeds, how many held (each of the last three epochs >= 99.40%), the mean of each seed's
lowest of its last three, and its seeds at or under 99.45%. A look at finished runs, not a screen: a candidate
built on it must still pass one.
"""
import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for bench's helpers
from bench import lowest_of_last  # noqa: E402
from utils import TARGET  # noqa: E402
from table import load  # noqa: E402  (the same folder+folder reading as table.py)


def split(records: dict, epoch: int, rate: float) -> dict[str, dict]:
    """{"high": {seed: record}, "low": {...}} by each record's rate at epoch (1-based). The records are
    finished runs (table.load reads only seed-N.json), so an epoch past a run's last is a wrong --epoch."""
    groups = {"high": {}, "low": {}}
    for seed, rec in sorted(records.items()):
        if not 1 <= epoch <= len(rec["epochs"]):
            raise SystemExit(f"--epoch {epoch} is outside seed {seed}'s run of {len(rec['epochs'])} epochs; "
                             "give an epoch from 1 to its last")
        groups["high" if rec["epochs"][epoch - 1]["lr"] >= rate else "low"][seed] = rec
    return groups


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folders", help="FOLDER[+FOLDER...] of seed-N.json files, pooled")
    p.add_argument("--epoch", type=int, default=13, help="the epoch whose rate splits the seeds (1-based)")
    p.add_argument("--rate", type=float, default=2.4e-3, help="the split: a rate at or above this is high")
    args = p.parse_args(argv)
    groups = split(load(args.folders), args.epoch, args.rate)
    print(f"| rate at epoch {args.epoch} | seeds | held | each seed's lowest of the last three, mean | seeds at or under 99.45 |")
    print("|---|---:|---:|---:|---|")
    for name, label in (("high", f">= {args.rate:g}"), ("low", f"< {args.rate:g}")):
        lows = {seed: lowest_of_last(rec) for seed, rec in sorted(groups[name].items())}
        mean = f"{statistics.mean(lows.values()):.3f}" if lows else ""
        close = ", ".join(f"{s} ({v:.2f})" for s, v in lows.items() if v <= 99.45) or "none"
        print(f"| {label} | {len(lows)} | {sum(v >= TARGET for v in lows.values())} | {mean} | {close} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
