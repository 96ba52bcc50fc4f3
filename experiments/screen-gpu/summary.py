"""Markdown summary of a screen's JSON lines: per candidate, seeds holding >= 99.40 in the last 3 epochs.

    python experiments/screen-gpu/summary.py results/screen-gpu/architectures.jsonl
"""
import collections
import json
import statistics
import sys

runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[r["name"]].append(r)
print("| candidate | params | seeds | last 3 >= 99.40 | final acc, mean | lowest of last 3, per seed |")
print("|---|---:|---:|---:|---:|---|")
for name, rs in runs.items():
    rs.sort(key=lambda r: r["seed"])
    ok = sum(min(r["test"][-3:]) >= 99.4 for r in rs)
    seeds = ", ".join(str(r["seed"]) for r in rs)
    lows = ", ".join(f"{min(r['test'][-3:]):.2f}" for r in rs)
    mean = statistics.mean(r["final"] for r in rs)
    print(f"| {name} | {rs[0]['params']:,} | {seeds} | {ok} of {len(rs)} | {mean:.2f} | {lows} |")
