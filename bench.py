"""Accuracy benchmark: train one configuration on several seeds, summarise mean, spread and consistency.

    python bench.py --model default --seeds 1 2 3 4 5 --epochs 15 --data-dir data --out results/default

For each seed it writes OUT/seed-N.json (config, parameter count, per-epoch history, seconds, torch
version, device); then OUT/summary.md and OUT/seeds.png (test accuracy per epoch, one line per seed).
A seed whose JSON is complete for this configuration is not trained again, and a seed cut short
continues from its checkpoint, so the benchmark can be stopped and rerun. Every other Config field
(--lr, --dropout, ...) can be set as in train.py.

    python bench.py --ray --seeds 1 2 3 4 --threads 1 --out results/default

trains each seed as a Ray Tune trial instead (a local Ray instance, or a running cluster with
`--ray auto`): the same files, and Ray's progress table (requirements-ray.txt; README, "Seeds on a
cluster").

    python bench.py --table results/tuning/*.json

prints one markdown row per run JSON instead: the settings that differ from the defaults, and the result.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import signal
import statistics
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import torch

import plots
import utils
from data import ensure_files
from model import build_model, count_parameters
from train import Parser, add_config_args, config_from_args
from utils import TARGET


def run_seed(cfg: utils.Config, out: Path, threads: int, log=None, on_epoch=None) -> dict:
    """Train one seed (in a worker process), resuming from its checkpoint; return its record."""
    torch.set_num_threads(threads)
    tag = f"[{cfg.model} seed {cfg.seed}]"
    ckpt = out / f"seed-{cfg.seed}.pt"
    history = utils.fit(cfg, checkpoint=ckpt, resume=True, progress=False, on_epoch=on_epoch,
                        log=log or (lambda line: print(f"{tag} {line}", flush=True)))
    if len(history["epochs"]) == cfg.epochs:  # history has the device, thread count, precision and CPU
        utils.save_json(history, out / f"seed-{cfg.seed}.json")
    return history


def ray_trial(params: dict) -> None:
    """One seed as a Ray Tune trial: each epoch's metrics go to Tune; the files go to params["out"]."""
    from ray import tune
    if Path(params["cwd"]).is_dir():  # relative paths (--data-dir) mean what they meant to the driver
        os.chdir(params["cwd"])
    cfg = utils.Config.from_dict(params["config"])
    run_seed(cfg, Path(params["out"]), params["threads"], log=lambda line: None,
             on_epoch=lambda row: tune.report({k: v for k, v in row.items() if v is not None}))


def run_with_ray(todo: list, out: Path, threads: int, address: str, cpus: float, gpus: float) -> list[int]:
    """Train the seeds in `todo` as Ray Tune trials, on a local Ray instance or a running cluster.

    Each trial writes OUT/seed-N.json (and its checkpoint) itself, so `out` must be a path every Ray
    worker can reach: on one machine any folder; on a cluster a shared one, with the code and the data
    folder at the same path on every machine (README, "Seeds on a cluster"). A rerun trains only the
    seeds whose JSON is missing; a seed cut short continues from its checkpoint. Returns the seeds whose
    trial failed, each named with its error.
    """
    try:
        import ray
        from ray import tune
    except ImportError:
        sys.exit("bench.py: error: --ray needs Ray, which is not installed: pip install -r requirements-ray.txt")
    # Workers import bench, utils and model from this checkout (the same path on every machine).
    path = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH")]))
    local = {"include_dashboard": False} if address == "local" else {}  # a web UI nobody asked for
    ray.init(address=None if address == "local" else address, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}}, **local)
    try:
        if gpus and not ray.cluster_resources().get("GPU"):
            sys.exit(f"bench.py: error: --gpus-per-seed {gpus} asked for, but this Ray cluster has no GPU")
        trainable = tune.with_resources(ray_trial, {"cpu": cpus, "gpu": gpus})
        space = {"config": tune.grid_search([c.to_dict() for c in todo]), "out": str(out.resolve()),
                 "threads": threads, "cwd": os.getcwd()}
        tuner = tune.Tuner(trainable, param_space=space, run_config=tune.RunConfig(
            name="bench", storage_path=str((out / "ray-tune").resolve()), verbose=1))
        failed = []
        for r in tuner.fit():
            if r.error:
                lines = [ln for ln in str(r.error).splitlines() if ln.strip()] or [type(r.error).__name__]
                failed.append(r.config["config"]["seed"])
                print(f"seed {failed[-1]}: failed under Ray: {lines[-1].strip()}")
        return failed
    finally:
        ray.shutdown()


def stop_workers() -> None:
    """On SIGTERM (kill, timeout, a cluster's scheduler), stop as Ctrl-C does. Ctrl-C reaches the whole
    process group; SIGTERM only this process, and the workers would go on training, orphaned. So each
    worker (the pool's processes are this process's only multiprocessing children) gets the SIGINT that
    Ctrl-C would have sent it: the seed saves and stops after its last whole epoch. Then this process
    stops too."""
    for proc in multiprocessing.active_children():
        os.kill(proc.pid, signal.SIGINT)
    raise KeyboardInterrupt


def well_formed(record) -> bool:
    """Whether a parsed seed JSON has the shape train.py writes, so that reading it cannot raise."""
    if not isinstance(record, dict) or not isinstance(record.get("config", {}), dict):
        return False
    epochs = record.get("epochs")
    return (isinstance(record.get("params"), int) and isinstance(epochs, list)
            and all(isinstance(e, dict) and "test_acc" in e for e in epochs))


def whole_run(record: dict | None, cfg: utils.Config) -> dict | None:
    """The record, if it is a whole run of cfg (its settings, all its epochs); else None."""
    same = record and not utils.config_changes(record.get("config") or {}, cfg)
    return record if same and len(record.get("epochs", [])) == cfg.epochs else None


def done(path: Path, cfg: utils.Config) -> dict | None:
    return whole_run(json.loads(path.read_text()), cfg) if path.is_file() else None


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a rate of k in n: honest at 0 of n and n of n, where k/n +- z*se is not."""
    if n == 0:
        return 0.0, 1.0
    centre, half = (k + z * z / 2) / (n + z * z), z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return max(0.0, centre - half), min(1.0, centre + half)


def lowest_of_last(record: dict, last: int = utils.CLAIM_EPOCHS, key: str = "test_acc") -> float:
    """A seed's lowest accuracy over its last epochs: it holds when this is at least TARGET."""
    return min(r[key] for r in record["epochs"][-last:])


def consistency(records: dict, last: int = utils.CLAIM_EPOCHS, key: str = "test_acc") -> dict:
    """Over seeds: how many hold (each of the last epochs >= TARGET), the lowest of those epochs, the finals."""
    lows = {seed: lowest_of_last(rec, last, key) for seed, rec in records.items()}
    held = sum(low >= TARGET for low in lows.values())
    return {"held": held, "n": len(lows), "interval": wilson(held, len(lows)), "lows": list(lows.values()),
            "lowest": min(lows.values()), "finals": [rec["epochs"][-1][key] for rec in records.values()],
            "missed": sorted(seed for seed, low in lows.items() if low < TARGET)}


def consistency_line(c: dict, last: int) -> str:
    lo, hi = c["interval"]
    missed = f"; missed: seed {', '.join(map(str, c['missed']))}" if c["missed"] else ""
    return (f"**{c['held']} of {c['n']}** (95% Wilson interval for the hold rate {100 * lo:.0f}% to "
            f"{100 * hi:.0f}%); lowest of the last {last} epochs over all seeds {c['lowest']:.2f}%{missed}")


def summarize(records: dict, last: int = utils.CLAIM_EPOCHS) -> str:
    """Markdown: per seed the last epochs and the best; mean and spread of the final accuracy; how many
    seeds hold the target, with an interval; with averaged weights, the same for the trained weights."""
    any_rec = next(iter(records.values()))
    n_ep = len(any_rec["epochs"])
    last = min(last, n_ep)
    head = [f"ep {e}" for e in range(n_ep - last + 1, n_ep + 1)]
    lines = [f"| seed | {' | '.join(head)} | best (epoch) | all last {last} >= {TARGET}% | seconds |",
             "|---:|" + "---:|" * len(head) + "---:|:---:|---:|"]
    c = consistency(records, last)
    seconds = []
    for seed, rec in sorted(records.items()):
        accs = [r["test_acc"] for r in rec["epochs"]]
        tail = accs[-last:]
        seconds.append(rec["seconds"])
        best = max(range(len(accs)), key=accs.__getitem__)
        lines.append(f"| {seed} | " + " | ".join(f"{a:.2f}" for a in tail) +
                     f" | {accs[best]:.2f} ({best + 1}) | {'no' if seed in c['missed'] else 'yes'} | "
                     f"{rec['seconds']:.0f} |")
    finals = c["finals"]
    sd = statistics.stdev(finals) if len(finals) > 1 else 0.0
    cfg = any_rec["config"]
    lines += ["",
              f"- model `{cfg['model']}`, {any_rec['params']:,} parameters, {n_ep} epochs, {len(records)} seeds",
              f"- final-epoch test accuracy: mean **{statistics.mean(finals):.2f}%**, standard deviation "
              f"{sd:.3f}, min {min(finals):.2f}%, max {max(finals):.2f}%",
              f"- seeds with every one of the last {last} epochs >= {TARGET}%: " + consistency_line(c, last)]
    if all(r.get("raw_test_acc") is not None for rec in records.values() for r in rec["epochs"]):
        raw = consistency(records, last, "raw_test_acc")
        lines.append(f"- the trained weights, without the average (the same runs): mean final "
                     f"{statistics.mean(raw['finals']):.2f}%; holding: " + consistency_line(raw, last))
    lines.append(f"- wall time per run: mean {statistics.mean(seconds):.0f} s (train and evaluation), "
                 f"{any_rec['device']}, {any_rec.get('threads')} thread(s) per run, "
                 f"{any_rec.get('precision', 'fp32')}, {'torch.compile' if any_rec.get('compiled') else 'eager'}, "
                 f"torch {any_rec['torch']}; CPU: {', '.join(sorted({r.get('cpu', '?') for r in records.values()}))}")
    for seed, rec in sorted(records.items()):  # a resumed run that changed machine: other float rounding
        first = 1
        for m in rec.get("earlier_machines", []):
            lines.append(f"- seed {seed} ran epochs {first} to {m['until_epoch']} elsewhere: {m.get('device')}, "
                         f"{m.get('threads')} thread(s), {m.get('precision')}, torch {m.get('torch')}; CPU: {m.get('cpu')}")
            first = m["until_epoch"] + 1
    return "\n".join(lines) + "\n"


def attempts_table(paths: list[str]) -> str:
    """Markdown, one row per run JSON (bench or train.py): the settings that were tuned, and the result."""
    keys = ("model", "lr", "batch_size", "dropout", "rotation", "shift", "val_size", "plateau_patience",
            "plateau_factor", "plateau_threshold", "bn_recalibrate", "ema", "label_smoothing", "seed")
    defaults = utils.Config().to_dict()  # runs made before a field existed ran with its default
    lines = ["| run | params | " + " | ".join(keys) + " | epochs | last 3 test acc | best |",
             "|---|---:|" + "---:|" * len(keys) + "---:|---|---:|"]
    for path in paths:
        rec = json.loads(Path(path).read_text())
        cfg, accs = rec["config"], [r["test_acc"] for r in rec["epochs"]]
        name = Path(path).stem
        name = f"{Path(path).parent.name}/{name}" if name.startswith("seed-") else name  # bench's seed-N.json
        lines.append(f"| {name} | {rec['params']:,} | " + " | ".join(str(cfg.get(k, defaults[k])) for k in keys) +
                     f" | {len(accs)} | {', '.join(f'{a:.2f}' for a in accs[-3:])} | {max(accs):.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    if argv is None and sys.argv[1:2] == ["--table"]:
        print(attempts_table(sys.argv[2:]), end="")
        return 0
    p = Parser(description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5], help="seeds to train")
    p.add_argument("--out", required=True, help="folder for the per-seed JSON, summary.md and seeds.png")
    p.add_argument("--jobs", type=int, default=2,
                   help="seeds trained at once, in separate processes (without --ray; Ray places seeds by "
                        "the resources each asks for)")
    p.add_argument("--threads", type=int, default=0,
                   help="torch threads per job (0: the CPU cores divided among the jobs)")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="train each seed as a Ray Tune trial: alone, on a local Ray instance; 'auto' or "
                        "ray://HOST:PORT joins a running cluster (needs: pip install -r requirements-ray.txt)")
    p.add_argument("--cpus-per-seed", type=float, default=None,
                   help="with --ray: CPUs Ray reserves per seed (default: --threads, or 1)")
    p.add_argument("--gpus-per-seed", type=float, default=0.0,
                   help="with --ray: GPUs per seed; a fraction shares one (0.25: four seeds a GPU)")
    add_config_args(p, skip=("seed",))
    args = p.parse_args(argv)
    if args.jobs < 1 or args.threads < 0:
        p.error("--jobs must be >= 1 and --threads >= 0")
    if (args.cpus_per_seed is not None and args.cpus_per_seed <= 0) or args.gpus_per_seed < 0:
        p.error("--cpus-per-seed must be > 0 and --gpus-per-seed >= 0")
    if args.ray is None and (args.cpus_per_seed is not None or args.gpus_per_seed):
        p.error("--cpus-per-seed and --gpus-per-seed apply to --ray only")
    base = config_from_args(args, "bench.py", seed=0)
    configs = [config_from_args(args, "bench.py", seed=s) for s in args.seeds]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ensure_files(base.data_dir, base.dataset)  # once, before the workers start
    if args.ray is not None:  # Ray decides how many run at once, from the resources each asks for
        threads = args.threads or max(1, int(args.cpus_per_seed or 1))
    else:
        threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)

    def complete(rec: dict) -> bool:  # a record whose run reached its last epoch (not interrupted)
        return len(rec.get("epochs", [])) == base.epochs

    records, todo = {}, []
    params = count_parameters(build_model(base.model))  # every seed's network: configs differ only in seed
    for cfg in configs:
        ckpt = out / f"seed-{cfg.seed}.pt"
        if ckpt.is_file():
            try:
                changed = utils.config_changes(utils.load_checkpoint(ckpt)["config"], cfg)
            except ValueError as e:
                sys.exit(f"bench.py: error: {e} Deleting it trains seed {cfg.seed} from the start.")
            if changed:
                sys.exit(f"bench.py: error: {ckpt} is a run with other settings ({', '.join(changed)}); "
                         "move it away or choose another --out")
        path = out / f"seed-{cfg.seed}.json"
        try:
            record = json.loads(path.read_text()) if path.is_file() else None
            if record is not None and not well_formed(record):  # valid JSON, but not what train.py writes
                raise ValueError("not an object with 'config', 'params' and an 'epochs' list as train.py writes")
        except (ValueError, UnicodeDecodeError) as e:  # json.JSONDecodeError is a ValueError
            sys.exit(f"bench.py: error: {path} is not a readable seed record ({e}); move it away to train seed "
                     f"{cfg.seed} again")
        saved = {**utils.ADDED_LATER, **(record.get("config") or {})} if record else {}
        changed = utils.config_changes(saved, cfg) if saved else []
        if changed:  # training it again would write over a finished run of another recipe (a default changed since)
            was = ", ".join(f"{k} {saved.get(k)!r} there, {getattr(cfg, k)!r} now" for k in changed)
            sys.exit(f"bench.py: error: {path} is a run with other settings ({was}); pass its settings as "
                     "options to rerun that recipe, or choose another --out")
        rec = whole_run(record, cfg)
        if rec and rec["params"] != params:  # the JSON's config names a preset, and presets have changed
            sys.exit(f"bench.py: error: {path} was made by a network of {rec['params']:,} "
                     f"parameters, but the preset {cfg.model!r} has {params:,} now (see model.PRESETS); "
                     "choose another --out")
        if rec:
            print(f"seed {cfg.seed}: already done ({rec['epochs'][-1]['test_acc']:.2f}%), skipped")
            records[cfg.seed] = rec
        else:
            todo.append(cfg)
    if todo and args.ray is not None:
        print(f"training seeds {[c.seed for c in todo]} on Ray ({args.ray}), {threads} thread(s) each", flush=True)
        failed = run_with_ray(todo, out, threads, args.ray, args.cpus_per_seed or threads, args.gpus_per_seed)
        records.update({c.seed: rec for c in todo if (rec := done(out / f"seed-{c.seed}.json", c))})
        if failed:
            print(f"seeds {failed} failed (their errors are above); the seeds that finished are in {out}")
            return 1
    elif todo:
        print(f"training seeds {[c.seed for c in todo]}, {args.jobs} at a time, {threads} thread(s) each", flush=True)
        # Seeds are handed to the pool only as workers free up: an executor's queued work still runs
        # after Ctrl-C, so queueing them all made an interrupted benchmark go on to its next seeds.
        waiting, running = list(todo), {}
        # SIGINT stops bench.py too, even where it was started with SIGINT ignored (a script's `&`): else its
        # workers stopped their seeds on Ctrl-C or `kill -INT`, and bench.py handed the next seed to the pool.
        sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            # spawn, not fork: the parent has asked torch.cuda.is_available() (config_from_args), which
            # poisons fork (PyTorch's docs), so a forked worker could not use CUDA; spawned ones start clean.
            # They also start with SIGINT raising KeyboardInterrupt: a handler set above is reset by exec,
            # where an ignored SIGINT (nohup, `&`) would have been inherited.
            with ProcessPoolExecutor(max_workers=min(args.jobs, len(todo)),
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                signal.signal(signal.SIGTERM, lambda *_: stop_workers())
                while waiting or running:
                    while waiting and len(running) < args.jobs:
                        cfg = waiting.pop(0)
                        running[pool.submit(run_seed, cfg, out, threads)] = cfg.seed
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        seed = running.pop(fut)
                        records[seed] = fut.result()
                        if not complete(records[seed]) and waiting:
                            # a worker stopped alone (`kill -INT` to its pid): the user meant to stop, so
                            # no further seed starts; the running ones finish
                            print(f"seed {seed} was interrupted: no further seed starts", flush=True)
                            waiting.clear()
        except KeyboardInterrupt:
            pass  # the running seeds saved their checkpoints; finished ones are in `records` and on disk
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, sigint)
    unfinished = [c.seed for c in configs if not complete(records.get(c.seed, {}))]
    if unfinished:
        print(f"interrupted: seeds {unfinished} are not finished; their checkpoints are in {out}, "
              "and the same command continues them")
        return 130
    summary = summarize(records)
    (out / "summary.md").write_text(summary)
    import matplotlib
    matplotlib.use("Agg")
    plots.plot_seeds({f"seed {s}": r for s, r in sorted(records.items())}, TARGET).savefig(out / "seeds.png", dpi=100)
    print(summary)
    print(f"wrote {out}/summary.md, {out}/seeds.png and one seed-N.json per seed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
