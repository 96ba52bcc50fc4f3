"""The screens of one default against it, seed by seed on the seeds both finished: one markdown row each.

    python experiments/every-seed/screens.py BASELINE FOLDER ...

BASELINE is table.py's FOLDER[+FOLDER...] of the default's runs on the screen seeds; each FOLDER holds one
candidate's bench.py runs, named by the options in which its config differs from the baseline's (a field a run
predates counts as the value it ran with, utils.ADDED_LATER), so a screen keeps its name after a default changes. Per
candidate: the seeds it finished, how many held, its misses (a finished seed whose last three epochs dip under
99.40%, or a seed its watcher stopped once an epoch from 13 on had), and its mean final accuracy and mean of
each seed's lowest epoch of the last three minus the default's on the same finished seeds (paired.py's figures);
then how far a mean over ten paired seeds moves by chance, and on how many degrees of freedom that rests.
"""
import argparse
import dataclasses
import json
import statistics
from pathlib import Path

from paired import finals  # also puts the repository on sys.path, for utils

import utils  # noqa: E402
from utils import TARGET  # noqa: E402


def settings(folder: Path) -> dict:
    """The config of the folder's runs, with the fields added since filled in as they ran."""
    config = json.loads(sorted(folder.glob("*seed-*.json"))[0].read_text())["config"]
    return {**config, **{k: v for k, v in utils.ADDED_LATER.items() if k not in config}}  # the run's order first


def options(folder: Path, baseline: dict) -> str:
    """'--lr 0.02': the bench.py options that make the folder's runs differ from the baseline's (seed aside)."""
    default = {**{f.name: f.default for f in dataclasses.fields(utils.Config)}, **baseline}
    return " ".join(f"--{k.replace('_', '-')} {f'{v:g}' if isinstance(v, float) else v}"
                    for k, v in settings(folder).items() if k != "seed" and default.get(k) != v) or "(the baseline)"


def stopped_misses(folder: Path, last: int = 3) -> list[str]:
    """'S (epoch E: A)' for each seed its watcher stopped after an epoch of the last `last` fell under TARGET."""
    out = []
    for p in sorted(folder.glob("stopped-seed-*.json")):
        rec = json.loads(p.read_text())
        epochs = rec["config"].get("epochs", utils.Config.epochs)  # the run's planned epochs, not how many it made
        dips = [e for e in rec["epochs"] if e["epoch"] > epochs - last and e["test_acc"] < TARGET]
        if dips:
            out.append(f"{rec['config']['seed']} (epoch {dips[0]['epoch']}: {dips[0]['test_acc']:.2f})")
    return out


def paired_noise(diffs: list[list[float]], n: int = 10) -> tuple[float, float, int] | None:
    """The spread of a seed's final-accuracy difference around its screen's mean (pooled over screens, each
    screen's mean taken out), the standard error of a mean over n paired seeds, and the degrees of freedom the
    spread rests on (a few say little); None when no screen finished two paired seeds (a screen stopped at its
    first seed, say), since then there is no spread to take."""
    dev = [d - statistics.mean(ds) for ds in diffs if len(ds) > 1 for d in ds]
    dof = sum(len(ds) - 1 for ds in diffs if len(ds) > 1)
    if not dof:
        return None
    sd = (sum(x * x for x in dev) / dof) ** 0.5
    return sd, sd / n ** 0.5, dof


def row(base: dict, cand: dict, folder: Path, baseline: dict) -> str:
    """One candidate's row; base and cand are paired.finals of the baseline's and the candidate's folders,
    baseline the baseline's settings."""
    seeds = sorted(base.keys() & cand.keys())
    missed = [f"{s} ({cand[s][2]:.2f})" for s in seeds if cand[s][2] < TARGET] + stopped_misses(folder)
    head = f"| `{options(folder, baseline)}` | {folder.name} |"
    if not seeds:
        return f"{head} none | | {', '.join(missed) or 'none'} | | |"

    def diff(i: int) -> float:
        return statistics.mean(cand[s][i] - base[s][i] for s in seeds)
    held = sum(cand[s][2] >= TARGET for s in seeds)
    return (f"{head} {seeds[0]}-{seeds[-1]} ({len(seeds)}) | {held} of {len(seeds)} | {', '.join(missed) or 'none'} "
            f"| {diff(0):+.3f} | {diff(2):+.3f} |")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("baseline", help="the default's runs: FOLDER[+FOLDER...] of seed-N.json")
    p.add_argument("folders", nargs="+", type=Path, help="one candidate's runs per folder")
    args = p.parse_args()
    base, baseline = finals(args.baseline), settings(Path(args.baseline.split("+")[0]))
    print("| candidate | folder | seeds finished | held | missed (lowest of the last three, or the epoch that "
          "stopped it) | mean final minus the default's | each seed's lowest minus the default's |")
    print("|---|---|---|---:|---|---:|---:|")
    diffs = []
    for folder in args.folders:
        cand = finals(str(folder))
        print(row(base, cand, folder, baseline))
        diffs.append([cand[s][0] - base[s][0] for s in sorted(base.keys() & cand.keys())])
    noise = paired_noise(diffs)
    if noise is None:
        print("\nNo screen here finished two seeds paired with the baseline, so there is no spread to report.")
    else:
        print(f"\nA seed's final-accuracy difference spreads by {noise[0]:.3f} around its screen's mean (pooled), so a "
              f"mean over 10 paired seeds is good to about {noise[1]:.3f} (one standard error); from {noise[2]} "
              f"degree{'s' if noise[2] != 1 else ''} of freedom{', too few to lean on' if noise[2] < 10 else ''}.")
