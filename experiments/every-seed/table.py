"""One markdown table of screen candidates: seeds run, held, mean final accuracy, lowest epoch, seconds.

    python experiments/every-seed/table.py NAME=FOLDER[:COLUMN][+FOLDER[:COLUMN]...] ...

FOLDER holds bench.py's seed-N.json files; COLUMN is the per-epoch accuracy to judge (test_acc unless
given; raw_test_acc reads the trained weights of a run with averaged weights). Folders joined by + are
pooled into one row (a seed in two of them is an error). Only finished seeds count. "each seed's lowest"
is the mean (and standard deviation) over seeds of the lowest of its last three epochs: where the
hold count moves by whole seeds, this moves by hundredths.
"""
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for bench's helpers
from bench import consistency, lowest_of_last  # noqa: E402
from utils import CLAIM_EPOCHS, TARGET  # noqa: E402


def load(spec: str) -> dict:
    """{seed: record} from FOLDER[:COLUMN]+..., each record's epochs judged on its folder's COLUMN
    (copied to test_acc, so that one column serves every folder)."""
    records = {}
    for part in spec.split("+"):
        folder, _, column = part.partition(":")
        for p in Path(folder).glob("seed-*.json"):
            rec = json.loads(p.read_text())
            seed = rec["config"]["seed"]
            if seed in records:
                raise SystemExit(f"seed {seed} is in two of the pooled folders ({spec}); pool disjoint seeds")
            rec["epochs"] = [{**e, "test_acc": e[column or "test_acc"]} for e in rec["epochs"]]
            records[seed] = rec
    return records


def misses_or_closest(records: dict, last: int = CLAIM_EPOCHS, missed: list | None = None) -> str:
    """"533 missed: 99.43, 99.42, 99.39" for each missed seed (its last epochs), or, where every seed held,
    "closest 464: 99.44, 99.43, 99.43": the seed whose lowest of its last epochs is the lowest (the first of a tie).
    missed: the missed seeds where the caller has them (consistency's "missed"); else they are worked out here."""
    def tail(seed):
        return ", ".join(f"{e['test_acc']:.2f}" for e in records[seed]["epochs"][-last:])

    missed = consistency(records, last)["missed"] if missed is None else missed
    if missed:
        return "; ".join(f"{seed} missed: {tail(seed)}" for seed in missed)
    closest = min(sorted(records), key=lambda seed: lowest_of_last(records[seed], last))
    return f"closest {closest}: {tail(closest)}"


def row(name: str, spec: str) -> str:
    records = load(spec)
    if not records:
        return f"| {name} | 0 | | | | | | |"
    c = consistency(records)
    lo, hi = c["interval"]
    lows = c["lows"]
    sd = statistics.stdev(lows) if len(lows) > 1 else 0.0
    seconds = statistics.mean(r["seconds"] for r in records.values())
    seeds = sorted(records)
    missed = misses_or_closest(records, missed=c["missed"])
    return (f"| {name} | {', '.join(map(str, seeds))} | {c['held']} of {c['n']} ({100 * lo:.0f}-{100 * hi:.0f}%) "
            f"| {missed} | {statistics.mean(c['finals']):.3f} | {c['lowest']:.2f} | {statistics.mean(lows):.3f} "
            f"({sd:.3f}) | {seconds:.0f} |")


if __name__ == "__main__":
    print(f"| candidate | seeds run | held (each of last 3 >= {TARGET}; 95% Wilson) | missed, or the closest seed "
          "| mean final | lowest of last 3 | each seed's lowest, mean (sd) | seconds per run |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    for arg in sys.argv[1:]:
        name, _, spec = arg.partition("=")
        print(row(name, spec))
