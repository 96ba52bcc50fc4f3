"""A candidate's block of seeds against a baseline's other seeds: the difference of their mean final accuracies
(and of each seed's lowest of its last three epochs) with its standard error from the two spreads.

    python experiments/every-seed/unpaired.py BASELINE CANDIDATE

Each is table.py's FOLDER[:COLUMN][+FOLDER...] of bench.py's seed-N.json. For a fresh block, whose seeds the
baseline never ran (paired.py compares seeds both ran, which is tighter when there are any).
"""
import argparse
import statistics
import sys

from paired import finals  # also puts the repository on sys.path


def versus(cand: list, base: list) -> str:
    """'C (n, sd) against B (n, sd): difference D, standard error SE'."""
    mean, sd = statistics.mean, statistics.stdev
    se = (sd(cand) ** 2 / len(cand) + sd(base) ** 2 / len(base)) ** 0.5
    return (f"{mean(cand):.3f} ({len(cand)} seeds, sd {sd(cand):.3f}) against {mean(base):.3f} ({len(base)} seeds, "
            f"sd {sd(base):.3f}): difference {mean(cand) - mean(base):+.3f}, standard error {se:.3f}")


def main(base_spec: str, cand_spec: str) -> None:
    base, cand = finals(base_spec), finals(cand_spec)
    if len(base) < 2 or len(cand) < 2:
        sys.exit("each side needs at least two finished seeds for a spread")
    print(f"mean final {versus([r[0] for r in cand.values()], [r[0] for r in base.values()])}")
    print(f"each seed's lowest of its last three epochs: mean "
          f"{versus([r[2] for r in cand.values()], [r[2] for r in base.values()])}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("baseline", help="FOLDER[:COLUMN][+FOLDER...] of seed-N.json: the runs compared against")
    p.add_argument("candidate", help="the same, for the block judged")
    args = p.parse_args()
    main(args.baseline, args.candidate)
