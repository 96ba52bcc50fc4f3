"""Issue 14, round 54: the default trained as bench.py trains it, and its last three epochs also scored with the
predictions averaged over fixed views of each test image (utils.view): every view set of COMBOS on the same weights.

    python experiments/every-seed/tta_screen.py OUT SEED...     (one thread; skips seeds with a JSON in OUT)
    python experiments/every-seed/tta_screen.py --summary OUT   (per view set: held, mean final, paired with plain)

Training is bench.py's run of the seed (the same draws, so its test_acc repeats a bench.py run of that seed on
the same machine kind); the views only read the weights after each epoch, in eval mode, as the test set is read.
"""
import json
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import utils  # noqa: E402
from paired import standard_error  # noqa: E402  (this folder is on sys.path when run as a script)

I = (0, 0, 0)
COMBOS = {  # view sets, each (degrees, dx, dy); written before the runs (results/every-seed/PLAN.md, round 54)
    "plain": [I],
    "shift1-x3": [I, (0, 1, 0), (0, -1, 0)],
    "shift1-y3": [I, (0, 0, 1), (0, 0, -1)],
    "shift1-diag3": [I, (0, 1, 1), (0, -1, -1)],
    "half-x3": [I, (0, .5, 0), (0, -.5, 0)],
    "half-diag3": [I, (0, .5, .5), (0, -.5, -.5)],
    "rot3-3": [I, (3, 0, 0), (-3, 0, 0)],
    "rot5-3": [I, (5, 0, 0), (-5, 0, 0)],
    "rot10-3": [I, (10, 0, 0), (-10, 0, 0)],
    "shift1-5": [I, (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)],
    "half-5": [I, (0, .5, 0), (0, -.5, 0), (0, 0, .5), (0, 0, -.5)],
    "half-rot5-7": [I, (0, .5, 0), (0, -.5, 0), (0, 0, .5), (0, 0, -.5), (5, 0, 0), (-5, 0, 0)],
}
LAST = 3


def run(out: Path, seeds: list[int]) -> None:
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    views = sorted({v for vs in COMBOS.values() for v in vs})
    for seed in seeds:
        if (out / f"seed-{seed}.json").is_file():
            continue
        cfg = utils.Config(seed=seed)
        built, scores = [], {}
        build = utils.build_model
        utils.build_model = lambda *a, **k: built.append(build(*a, **k)) or built[-1]  # keep the plain model
        data = utils.load_data(cfg, log=lambda *a: None)
        precision = utils.pick_precision(cfg.precision, torch.device("cpu"))

        def score(row):
            if row["epoch"] <= cfg.epochs - LAST:
                return
            model = built[0]  # after fit's evaluation: eval mode, BatchNorm recalibrated
            logits = {v: utils.predict_logits(model, data.test_x, data.mean, data.std, 500, precision, [v])
                      for v in views}
            y = data.test_y
            for name, vs in COMBOS.items():
                mean = torch.stack([logits[v] for v in vs]).mean(0)
                scores.setdefault(name, []).append(100 * (mean.argmax(1) == y).sum().item() / len(y))
            print(f"seed {seed} epoch {row['epoch']}: test {row['test_acc']:.2f} | "
                  + " ".join(f"{k} {v[-1]:.2f}" for k, v in scores.items()), flush=True)

        history = utils.fit(cfg, data=data, progress=False, log=lambda line: print(f"[seed {seed}] {line}",
                                                                                    flush=True), on_epoch=score)
        utils.build_model = build
        history["tta"] = scores
        utils.save_json(history, out / f"seed-{seed}.json")


def summary(out: Path) -> None:
    recs = {int(p.stem.split("-")[1]): json.loads(p.read_text()) for p in sorted(out.glob("seed-*.json"))}
    seeds = sorted(recs)
    same = sum(recs[s]["tta"]["plain"] == [r["test_acc"] for r in recs[s]["epochs"][-LAST:]] for s in seeds)
    print(f"{len(seeds)} seeds {seeds[0]}-{seeds[-1]}; plain view = fit's test_acc (compiled) on {same} of them")
    print("| views | n | held | mean final | lowest epoch | final vs plain (SE) | lowest vs plain (SE) |")
    print("|---|---:|---:|---:|---:|---:|---:|")

    def paired(d):
        return statistics.mean(d), standard_error(d) if len(d) > 1 else float("nan")
    for name, vs in COMBOS.items():
        acc = {s: recs[s]["tta"][name] for s in seeds}
        held = sum(min(a) >= 99.40 for a in acc.values())
        fin = paired([acc[s][-1] - recs[s]["tta"]["plain"][-1] for s in seeds])
        low = paired([min(acc[s]) - min(recs[s]["tta"]["plain"]) for s in seeds])
        print(f"| {name} ({len(vs)}) | {len(seeds)} | {held} | {statistics.mean(a[-1] for a in acc.values()):.3f} | "
              f"{min(min(a) for a in acc.values()):.2f} | {fin[0]:+.3f} ({fin[1]:.3f}) | {low[0]:+.3f} ({low[1]:.3f}) |")


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", help="folder of the per-seed JSONs")
    p.add_argument("seeds", type=int, nargs="*", help="seeds to train, one after another at one thread")
    p.add_argument("--summary", action="store_true", help="print the table of the seeds in OUT instead")
    args = p.parse_args()
    if args.summary == bool(args.seeds):
        p.error("give seeds to train, or --summary alone")
    summary(Path(args.out)) if args.summary else run(Path(args.out), args.seeds)
