"""A candidate against a baseline on the seeds both ran: final accuracy, each seed's lowest of its last three
epochs (what "every seed holds" depends on) and training accuracy, seed by seed.

    python experiments/every-seed/paired.py BASELINE_FOLDER CANDIDATE_FOLDER

Both folders hold bench.py's seed-N.json files (each may be table.py's FOLDER[:COLUMN][+FOLDER...], read by
its `load`); only seeds finished in both count. Same seed, same machine
kind: the two runs share the initial weights only while the candidate draws the same random numbers.
"""
import statistics
import sys

from table import load


def finals(spec: str, last: int = 3) -> dict:
    """{seed: (final test accuracy, final training accuracy under augmentation, lowest of the last `last` epochs)}"""
    return {seed: (rec["epochs"][-1]["test_acc"], rec["epochs"][-1]["train_acc"],
                   min(e["test_acc"] for e in rec["epochs"][-last:])) for seed, rec in load(spec).items()}


def main(base_dir: str, cand_dir: str) -> None:
    base, cand = finals(base_dir), finals(cand_dir)
    seeds = sorted(base.keys() & cand.keys())
    if not seeds:
        sys.exit(f"no seed finished in both {base_dir} and {cand_dir}")
    diff = [cand[s][0] - base[s][0] for s in seeds]
    low = [cand[s][2] - base[s][2] for s in seeds]
    print("| seed | baseline final | candidate final | difference | baseline lowest | candidate lowest | difference |\n"
          "|---:|---:|---:|---:|---:|---:|---:|")
    for s, d, dl in zip(seeds, diff, low):
        print(f"| {s} | {base[s][0]:.2f} | {cand[s][0]:.2f} | {d:+.2f} | {base[s][2]:.2f} | {cand[s][2]:.2f} | {dl:+.2f} |")
    mean = statistics.mean
    print(f"\nseeds {', '.join(map(str, seeds))}: mean final {mean(cand[s][0] for s in seeds):.3f} against "
          f"{mean(base[s][0] for s in seeds):.3f}, difference {mean(diff):+.3f} (higher on "
          f"{sum(d > 0 for d in diff)}, lower on {sum(d < 0 for d in diff)}); training accuracy under "
          f"augmentation at the last epoch {mean(cand[s][1] for s in seeds):.2f} against "
          f"{mean(base[s][1] for s in seeds):.2f}")
    print(f"each seed's lowest of its last three epochs: mean {mean(cand[s][2] for s in seeds):.3f} against "
          f"{mean(base[s][2] for s in seeds):.3f}, difference {mean(low):+.3f} (higher on "
          f"{sum(d > 0 for d in low)}, lower on {sum(d < 0 for d in low)})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip().join(["usage: ", ""]))
    main(*sys.argv[1:])
