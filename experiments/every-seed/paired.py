"""A candidate against a baseline on the seeds both ran: final accuracy, each seed's lowest of its last three
epochs (what "every seed holds" depends on) and training accuracy, seed by seed.

    python experiments/every-seed/paired.py BASELINE_FOLDER CANDIDATE_FOLDER [--rule PLANNED] [--bind-rule LEAST]

Both folders hold bench.py's seed-N.json files (each may be table.py's FOLDER[:COLUMN][+FOLDER...], read by
its `load`); only seeds finished in both count. Same seed, same machine
kind: the two runs share the initial weights only while the candidate draws the same random numbers.
With --rule, a last line says whether the candidate qualifies by the rule of issue 14's rounds 30 on (`verdict`);
with --bind-rule, by round 66's rule for a change run only on the seeds where it acts (`bind_verdict`).
"""
import argparse
import statistics
import sys

from table import load  # also puts the repository on sys.path, for bench

from bench import lowest_of_last  # noqa: E402
from utils import TARGET  # noqa: E402


def finals(spec: str) -> dict:
    """{seed: (final test accuracy, final training accuracy under augmentation, lowest of the last three epochs)}"""
    return {seed: (rec["epochs"][-1]["test_acc"], rec["epochs"][-1]["train_acc"], lowest_of_last(rec))
            for seed, rec in load(spec).items()}


def standard_error(diff: list) -> float:
    """The paired difference's standard error: the spread of the seeds' differences over the root of their count."""
    return statistics.stdev(diff) / len(diff) ** 0.5


def versus(cand: list, base: list) -> str:
    """'C against B, difference D (higher on h, lower on l, standard error e)': means of paired values, seed by seed."""
    diff = [c - b for c, b in zip(cand, base)]
    mean = statistics.mean
    se = f", standard error {standard_error(diff):.3f}" if len(diff) > 1 else ""
    return (f"{mean(cand):.3f} against {mean(base):.3f}, difference {mean(diff):+.3f} (higher on "
            f"{sum(d > 0 for d in diff)}, lower on {sum(d < 0 for d in diff)}{se})")


def verdict(base_dir: str, cand_dir: str, planned: int, margin: float = 0.02, target: float = TARGET) -> tuple:
    """(qualifies, one line): the rule of rounds 30 on. All `planned` seeds finished, each of every seed's last
    three epochs at `target` or more, a mean final at least `margin` and two standard errors of the seeds'
    differences above the baseline's on the same seeds, and each seed's lowest not below the baseline's on average."""
    base, cand = finals(base_dir), finals(cand_dir)
    seeds = sorted(base.keys() & cand.keys())
    diff = [cand[s][0] - base[s][0] for s in seeds]
    low_diff = [cand[s][2] - base[s][2] for s in seeds]
    mean, se = (statistics.mean(diff), standard_error(diff)) if len(diff) > 1 else (0.0, 0.0)
    lowest = min((cand[s][2] for s in seeds), default=0.0)
    clauses = {f"{len(seeds)} of {planned} seeds finished": len(seeds) >= planned,
               f"lowest epoch {lowest:.2f}": lowest >= target,
               f"mean final difference {mean:+.3f}": round(mean, 3) >= margin,
               f"standard error {se:.3f}": len(diff) > 1 and mean >= 2 * se,
               f"each seed's lowest {statistics.mean(low_diff) if low_diff else 0:+.3f}": bool(low_diff)
               and statistics.mean(low_diff) >= 0}
    return judged(clauses)


def bind_verdict(base_dir: str, cand_dir: str, least: int = 10, margin: float = 0.02, target: float = TARGET) -> tuple:
    """(qualifies, one line): round 66's rule for a change that acts only on some seeds (late_lr binds where the
    rate is still high at epoch 13) and runs only on those. At least `least` seeds finished in both; no seed that
    held in the baseline misses in the candidate; each seed's lowest of the last three at least `margin` and two
    standard errors above the baseline's on average; the final not lower on average."""
    base, cand = finals(base_dir), finals(cand_dir)
    seeds = sorted(base.keys() & cand.keys())
    low_diff = [cand[s][2] - base[s][2] for s in seeds]
    final_diff = [cand[s][0] - base[s][0] for s in seeds]
    lost = [s for s in seeds if base[s][2] >= target > cand[s][2]]
    mean, se = (statistics.mean(low_diff), standard_error(low_diff)) if len(seeds) > 1 else (0.0, 0.0)
    final = statistics.mean(final_diff) if seeds else 0.0
    return judged({f"{len(seeds)} seeds finished, at least {least} asked": len(seeds) >= least,
                   f"held by the baseline and missed: {', '.join(map(str, lost)) or 'none'}": not lost,
                   f"each seed's lowest {mean:+.3f}": round(mean, 3) >= margin,
                   f"standard error {se:.3f}": len(seeds) > 1 and mean >= 2 * se,
                   f"final {final:+.3f}": bool(seeds) and round(final, 3) >= 0})


def judged(clauses: dict) -> tuple:
    """(every clause true, "clause, clause: qualifies" or "...: does not qualify (the false ones)")."""
    ok = all(clauses.values())
    failed = [k for k, v in clauses.items() if not v]
    return ok, (f"{', '.join(clauses)}: " + ("qualifies" if ok else f"does not qualify ({'; '.join(failed)})"))


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

    mean, base_final, cand_final = statistics.mean, column(base, 0), column(cand, 0)
    print(f"\nseeds {', '.join(map(str, seeds))}: mean final {versus(cand_final, base_final)}; training accuracy "
          f"under augmentation at the last epoch {mean(column(cand, 1)):.2f} against {mean(column(base, 1)):.2f}")
    print(f"each seed's lowest of its last three epochs: mean {versus(column(cand, 2), column(base, 2))}")
    # How much the seed fixes where a run ends: near 1, the two folders' runs of a seed are nearly the same run (the
    # same machine kind and precision); near 0, each is a new draw (round 50: a run on another CPU, 0.30).
    if len(seeds) > 2 and len(set(base_final)) > 1 and len(set(cand_final)) > 1:
        print(f"a seed's two finals correlate {statistics.correlation(base_final, cand_final):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("baseline")
    parser.add_argument("candidate")
    parser.add_argument("--rule", type=int, metavar="PLANNED", help="seeds the rule asks; prints its verdict")
    parser.add_argument("--bind-rule", type=int, metavar="LEAST",
                        help="round 66's rule on the seeds where a change binds, at least LEAST of them; its verdict")
    args = parser.parse_args()
    main(args.baseline, args.candidate)
    if args.rule:
        print(verdict(args.baseline, args.candidate, args.rule)[1])
    if args.bind_rule:
        print(bind_verdict(args.baseline, args.candidate, args.bind_rule)[1])
