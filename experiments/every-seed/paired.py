"""A candidate against a baseline on the seeds both ran: final accuracy, each seed's lowest of its last three
epochs (what "every seed holds" depends on) and training accuracy, seed by seed.

    python experiments/every-seed/paired.py BASELINE_FOLDER CANDIDATE_FOLDER

Both folders hold bench.py's seed-N.json files (each may be table.py's FOLDER[:COLUMN][+FOLDER...], read by
its `load`); only seeds finished in both count. Same seed, same machine
kind: the two runs share the initial weights only while the candidate draws the same random numbers.
"""
import statistics
import sys

from table import load  # also puts the repository on sys.path, for bench

from bench import lowest_of_last  # noqa: E402


def finals(spec: str) -> dict:
    """{seed: (final test accuracy, final training accuracy under augmentation, lowest of the last three epochs)}"""
    return {seed: (rec["epochs"][-1]["test_acc"], rec["epochs"][-1]["train_acc"], lowest_of_last(rec))
            for seed, rec in load(spec).items()}


def versus(cand: list, base: list) -> str:
    """'C against B, difference D (higher on h, lower on l, standard error e)': means of paired values, seed by seed."""
    diff = [c - b for c, b in zip(cand, base)]
    mean = statistics.mean
    # the paired difference's standard error: the spread of the seeds' differences over the root of their count
    se = f", standard error {statistics.stdev(diff) / len(diff) ** 0.5:.3f}" if len(diff) > 1 else ""
    return (f"{mean(cand):.3f} against {mean(base):.3f}, difference {mean(diff):+.3f} (higher on "
            f"{sum(d > 0 for d in diff)}, lower on {sum(d < 0 for d in diff)}{se})")


def main(base_dir: str, cand_dir: str) -> None:
    base, cand = finals(base_dir), finals(cand_dir)
    seeds = sorted(base.keys() & cand.keys())
    if not seeds:
        sys.exit(f"no seed finished in both {base_dir} and {cand_dir}")
    print("| seed | baseline final | candidate final | difference | baseline lowest | candidate lowest | difference |\n"
          "|---:|---:|---:|---:|---:|---:|---:|")
    for s in seeds:
        (bf, _, bl), (cf, _, cl) = base[s], cand[s]
        print(f"| {s} | {bf:.2f} | {cf:.2f} | {cf - bf:+.2f} | {bl:.2f} | {cl:.2f} | {cl - bl:+.2f} |")

    def column(runs: dict, i: int) -> list:
        return [runs[s][i] for s in seeds]

    mean = statistics.mean
    print(f"\nseeds {', '.join(map(str, seeds))}: mean final {versus(column(cand, 0), column(base, 0))}; training accuracy "
          f"under augmentation at the last epoch {mean(column(cand, 1)):.2f} against {mean(column(base, 1)):.2f}")
    print(f"each seed's lowest of its last three epochs: mean {versus(column(cand, 2), column(base, 2))}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip().join(["usage: ", ""]))
    main(*sys.argv[1:])
