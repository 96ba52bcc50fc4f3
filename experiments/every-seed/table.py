"""One markdown table of screen candidates: seeds run, held, mean final accuracy, lowest epoch, seconds.

    python experiments/every-seed/table.py NAME=FOLDER[:COLUMN] ...

FOLDER holds bench.py's seed-N.json files; COLUMN is the per-epoch accuracy to judge (test_acc unless
given; raw_test_acc reads the trained weights of a run with averaged weights). Only finished seeds count.
"""
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for bench's helpers
from bench import TARGET, consistency  # noqa: E402


def row(name: str, folder: str, column: str = "test_acc") -> str:
    records = {}
    for p in Path(folder).glob("seed-*.json"):
        rec = json.loads(p.read_text())
        records[rec["config"]["seed"]] = rec
    if not records:
        return f"| {name} | 0 | | | | | |"
    c = consistency(records, 3, column)
    lo, hi = c["interval"]
    seconds = statistics.mean(r["seconds"] for r in records.values())
    seeds = sorted(records)
    missed = ", ".join(map(str, c["missed"])) or "none"
    return (f"| {name} | {', '.join(map(str, seeds))} | {c['held']} of {c['n']} ({100 * lo:.0f}-{100 * hi:.0f}%) "
            f"| {missed} | {statistics.mean(c['finals']):.2f} | {c['lowest']:.2f} | {seconds:.0f} |")


if __name__ == "__main__":
    print(f"| candidate | seeds run | held (each of last 3 >= {TARGET}; 95% Wilson) | missed | mean final | "
          "lowest of last 3 | seconds per run |")
    print("|---|---|---|---|---:|---:|---:|")
    for arg in sys.argv[1:]:
        name, _, spec = arg.partition("=")
        folder, _, column = spec.partition(":")
        print(row(name, folder, column or "test_acc"))
