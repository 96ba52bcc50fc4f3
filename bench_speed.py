"""Speed benchmark: this project's in-memory pipeline against the usual DataLoader pipeline, one process.

    python bench_speed.py --data-dir data

Times the same model and optimizer for the same number of training batches (after a warm-up) fed
1. the usual way: torchvision MNIST + Compose([RandomRotation(7), ToTensor(), Normalize]) +
   DataLoader(batch_size=128, shuffle=True, num_workers=2), eager fp32;
2. this project's way, as `fit` runs it with the default Config: uint8 tensors in memory, batched
   rotation and shift (utils.train_epoch), the model under torch.compile (Config.compile), in the
   precision Config.precision picks (bf16 autocast on a CPU with native bf16, else fp32);
and variants of 2 (eager, channels_last, the other precision, one thread, the first version's
element-wise dropout; evaluation eager and without BatchNorm). It prints images per second, the ratios,
seconds to evaluate the 10,000 test images, and the seconds of a full 15-epoch run (train, evaluation
and BatchNorm recalibration, extrapolated from the measured rates, plus the measured compile time) for
this project's default configuration and for the seed's model (6,842 parameters) trained the usual
way. Run it on an otherwise idle machine: a second busy process on 2 cores halves every figure.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

import utils
from data import load_data
from model import build_model, count_parameters


class SeedNet(nn.Module):
    """The seed notebook's model, as a baseline: 6,842 parameters, conv -> ReLU -> BN -> Dropout, no biases."""

    def __init__(self, dropout=0.05):
        super().__init__()

        def block(cin, cout, k=3):
            return nn.Sequential(nn.Conv2d(cin, cout, k, bias=False), nn.ReLU(), nn.BatchNorm2d(cout), nn.Dropout(dropout))
        self.net = nn.Sequential(block(1, 10), block(10, 16), nn.Conv2d(16, 10, 1, bias=False), nn.MaxPool2d(2),
                                 block(10, 10), block(10, 10), block(10, 13), block(13, 16),
                                 nn.AvgPool2d(4), nn.Conv2d(16, 10, 1, bias=False))

    def forward(self, x):
        return self.net(x).flatten(1)


def time_usual(model, root, batches, warmup, batch_size=128):
    """Images/s training `model` from the usual torchvision DataLoader pipeline."""
    tf = transforms.Compose([transforms.RandomRotation(7), transforms.ToTensor(),
                             transforms.Normalize((0.1307,), (0.3081,))])
    loader = DataLoader(datasets.MNIST(root, train=True, transform=tf), batch_size=batch_size, shuffle=True,
                        num_workers=2, persistent_workers=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    it = iter(loader)
    for i, (x, y) in enumerate(itertools.islice(it, warmup + batches)):
        if i == warmup:
            start, seen = time.perf_counter(), 0
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= warmup:
            seen += len(y)
    ips = seen / (time.perf_counter() - start)
    test = DataLoader(datasets.MNIST(root, train=False, transform=transforms.Compose(tf.transforms[1:])),
                      batch_size=1000, num_workers=2)
    start = time.perf_counter()
    model.eval()
    with torch.no_grad():
        for x, _ in test:
            model(x)
    return ips, time.perf_counter() - start


def time_ours(model, data, cfg, batches, warmup, precision="fp32"):
    """(images/s of utils.train_epoch over exactly `batches` batches after `warmup` batches,
    seconds the warm-up took beyond those batches at that rate: torch.compile's one-off cost)."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(0)
    n = cfg.batch_size

    def part(k):
        return dataclasses.replace(data, train_x=data.train_x[:k * n], train_y=data.train_y[:k * n])
    start = time.perf_counter()
    utils.train_epoch(model, part(warmup), opt, cfg, gen, progress=False, precision=precision)
    warm = time.perf_counter() - start
    start = time.perf_counter()
    utils.train_epoch(model, part(batches), opt, cfg, gen, progress=False, precision=precision)
    ips = batches * n / (time.perf_counter() - start)
    return ips, max(0.0, warm - warmup * n / ips)


def time_eval(model, x, y, data, batch_size, precision="fp32"):
    """(seconds to evaluate x, seconds the first batch took: compile's one-off cost when compiled)."""
    start = time.perf_counter()
    utils.evaluate(model, x[:batch_size], y[:batch_size], data.mean, data.std, batch_size, precision)
    first = time.perf_counter() - start
    start = time.perf_counter()
    utils.evaluate(model, x, y, data.mean, data.std, batch_size, precision)
    return time.perf_counter() - start, first


def time_recalibration(model, data, cfg, precision="fp32"):
    """Seconds `fit` spends per epoch recomputing BatchNorm statistics (bn_recalibrate; 0 when off): one
    pass over the clean training images, eager on the plain model as `fit` runs it. Its running
    statistics are put back afterwards, so the timing leaves the model as it found it."""
    if cfg.bn_recalibrate != "on":
        return 0.0
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    start = time.perf_counter()
    utils.recalibrate_bn(model, data.train_x[:cfg.clean_size], data.mean, data.std, cfg.eval_batch_size, precision)
    seconds = time.perf_counter() - start
    model.load_state_dict(saved)
    return seconds


def profile(run, data, cfg, batches, warmup, precision):
    """Operator table of `batches` training steps after the warm-up, sorted by own CPU time."""
    time_ours(run, data, cfg, 1, warmup, precision)
    with torch.autograd.profiler.profile() as prof:
        start = time.perf_counter()
        time_ours(run, data, cfg, batches, 1, precision)
    print(f"{batches + 1} training steps, {1000 * (time.perf_counter() - start) / (batches + 1):.1f} ms each "
          "under the profiler")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


def replace_modules(model, kind, make):
    """`model` with every submodule of type `kind` replaced by make(that submodule)."""
    for block in model.modules():
        for name, child in block.named_children():
            if isinstance(child, kind):
                setattr(block, name, make(child))
    return model


def elementwise_dropout(model):
    """The same network with the element-wise Dropout this project used before Dropout2d."""
    return replace_modules(model, nn.Dropout2d, lambda d: nn.Dropout(d.p))


def fresh_compile():
    """Forget every compiled graph, so that the next variant compiles its own as a new process would.
    Without this the variants (other shapes, precisions and thread counts of one `Net.forward`) would
    reach dynamo's recompile limit, past which it quietly runs the model eagerly."""
    torch._dynamo.reset()


def without_batchnorm(model):
    """The network with every BatchNorm2d replaced by Identity. Folding an inference BatchNorm into the
    next convolution (exact here: ReLU sits between a conv and its BatchNorm, and the next conv has no
    padding) would leave this much work, so its evaluation time bounds what folding could save."""
    return replace_modules(model, nn.BatchNorm2d, lambda _: nn.Identity())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default="data")
    p.add_argument("--batches", type=int, default=429,
                   help="timed training batches per pipeline (429: one epoch of the default run)")
    p.add_argument("--warmup", type=int, default=20, help="untimed batches first (they include compiling)")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--no-variants", action="store_true", help="skip the variants of this project's pipeline")
    p.add_argument("--profile", action="store_true",
                   help="only profile this project's training steps: where the time goes, by operator")
    args = p.parse_args()
    cfg = utils.Config(data_dir=args.data_dir, device="cpu")
    cpu = torch.device("cpu")
    precision, compiled = utils.pick_precision(cfg.precision, cpu), utils.pick_compile(cfg.compile, cpu)

    def ours_run(model, compile_it=compiled, channels_last=False):
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        return utils.compile_model(model, compile_it)

    data = load_data(cfg)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.batches} batches of "
          f"{cfg.batch_size} after {args.warmup} warm-up batches; this project: "
          f"{'torch.compile' if compiled else 'eager'}, {precision}")

    torch.manual_seed(0)
    ours_model = build_model(cfg.model, cfg.dropout)
    if args.profile:
        return profile(ours_run(ours_model), data, cfg, args.batches, args.warmup, precision)
    usual_same, _ = time_usual(build_model(cfg.model, cfg.dropout), args.data_dir, args.batches, args.warmup)
    run = ours_run(ours_model)
    ours, compile_train = time_ours(run, data, cfg, args.batches, args.warmup, precision)
    seed_model = SeedNet()
    usual_seed, seed_eval = time_usual(seed_model, args.data_dir, args.batches, args.warmup)
    print(f"\nsame model ({count_parameters(ours_model):,} params), same optimizer:")
    print(f"  usual DataLoader pipeline : {usual_same:8.0f} images/s")
    print(f"  this project's pipeline   : {ours:8.0f} images/s   ratio {ours / usual_same:.2f}x")

    evals = {bs: time_eval(run, data.test_x, data.test_y, data, bs, precision) for bs in (250, 500, 1000, 2000)}
    print("\nevaluation of the 10,000 test images: " +
          ", ".join(f"batch {bs}: {s:.2f} s" for bs, (s, _) in evals.items()))

    n_train = sum(map(len, utils.batches(len(data.train_y), cfg.batch_size, drop_last=True)))  # as train_epoch
    n_val = len(data.val_y)
    ev, ev_first = evals[cfg.eval_batch_size]
    compile_s = compile_train + max(0.0, ev_first - ev * cfg.eval_batch_size / len(data.test_y))
    recal = time_recalibration(ours_model, data, cfg, precision)
    ours_full = args.epochs * (n_train / ours + ev * (1 + n_val / len(data.test_y)) + recal) + compile_s
    seed_full = args.epochs * (60000 / usual_seed + seed_eval)
    print(f"\nfull {args.epochs}-epoch run, extrapolated from the rates above (train + evaluation):")
    print(f"  this project, default config ({n_train} train images, val + test each epoch, BatchNorm "
          f"recalibration {recal:.2f} s each epoch, {compile_s:.0f} s compiling): {ours_full:6.0f} s")
    print(f"  seed model ({count_parameters(seed_model):,} params), usual pipeline, 60000 images + test each "
          f"epoch: {seed_full:6.0f} s ({usual_seed:.0f} images/s)")
    print(f"  ratio {seed_full / ours_full:.2f}x")

    if args.no_variants:
        return
    print("\nvariants of this project's pipeline (same batches):")
    threads = torch.get_num_threads()
    other = "fp32" if precision == "bf16" else "bf16"
    variants = {  # name: (model, precision, torch threads)
        "eager, no torch.compile": lambda: (ours_run(build_model(), compile_it=False), precision, threads),
        "element-wise Dropout, eager fp32 (v1)": lambda: (elementwise_dropout(build_model()), "fp32", threads),
        "compiled + channels_last": lambda: (ours_run(build_model(), True, channels_last=True), precision, threads),
        f"compiled, {other}": lambda: (ours_run(build_model(), True), other, threads),
        "compiled, 1 thread": lambda: (ours_run(build_model(), True), precision, 1),
    }
    for name, make in variants.items():
        try:
            fresh_compile()
            torch.manual_seed(0)
            m, prec, n_threads = make()
            torch.set_num_threads(n_threads)
            v, _ = time_ours(m, data, cfg, args.batches, args.warmup, prec)
            print(f"  {name:<38}: {v:8.0f} images/s ({v / ours:.2f}x the default pipeline)")
        except Exception as e:  # a variant this machine cannot run is reported, not fatal
            print(f"  {name:<38}: failed: {str(e).splitlines()[0][:120]}")
    torch.set_num_threads(threads)
    eval_variants = {"evaluation, eager": build_model(),
                     "evaluation, BatchNorm removed": ours_run(without_batchnorm(build_model()))}
    for name, m in eval_variants.items():
        fresh_compile()
        t, _ = time_eval(m, data.test_x, data.test_y, data, cfg.eval_batch_size, precision)
        print(f"  {name:<38}: {t:8.2f} s for the 10,000 test images in batches of {cfg.eval_batch_size} "
              f"({ev / t:.2f}x the default evaluation)")


if __name__ == "__main__":
    main()
