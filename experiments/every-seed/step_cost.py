"""Cost of one compiled training step, and the parameter count, for network layouts given on the command line.

For choosing a cheaper candidate before screening it: real augmented batches of 128, 2 threads, the
layouts measured in turn, three rounds, so that the machine's drift shows as spread. Not the speed
limit's measure (that is a full `train.py` run alone).
Run from the repository root:
    python experiments/every-seed/step_cost.py 8,12,14,8,12,16,16:000000 8,12,14,16,32,40,48:000111
A separable flag k > 1 puts that block's 1x1 in k groups (model.conv_block). A layout may add the blocks'
activation (model.ACTIVATIONS), 1 for BatchNorm before it, and the six blocks' padding (1 keeps a block's map size):
    8,12,14,16,32,40,48:000111:gelu  8,12,14,16,32,40,48:000111:relu:1  8,12,14,16,32,40,48:000111:relu:0:000100
"""
import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for utils and model
import utils  # noqa: E402
from model import Net, count_parameters  # noqa: E402


def train_steps(model, run, opt, data, generator, a: int, b: int) -> None:
    """Training steps on batches a to b-1 of 128 (in order, augmented as the default recipe does); `run` is
    `model` or its compiled wrapper. profile_step.py uses it too."""
    model.train()
    for i in range(a, b):
        x = utils.augment(data.train_x[i * 128:(i + 1) * 128].unsqueeze(1).float().div(255), 7, 1.0, generator)
        loss = F.cross_entropy(run(utils.normalize(x, data.mean, data.std)), data.train_y[i * 128:(i + 1) * 128])
        opt.zero_grad()
        loss.backward()
        opt.step()


def main(layouts: list[str]) -> None:
    torch.set_num_threads(2)
    cfg = utils.Config(data_dir="data")
    data = utils.load_data(cfg, log=lambda *a: None)
    g = torch.Generator().manual_seed(0)
    nets, ms = {}, {spec: [] for spec in layouts}
    for spec in layouts:
        parts = spec.split(":")
        widths, flags, activation, bn_first, padding = parts + ["relu", "0", "000000"][len(parts) - 2:]
        model = Net(tuple(int(w) for w in widths.split(",")), cfg.dropout, padding=tuple(int(c) for c in padding),
                    separable=tuple(int(c) for c in flags), activation=activation, bn_first=int(bn_first))
        nets[spec] = (model, utils.compile_model(model, True), torch.optim.Adam(model.parameters(), lr=0.01))

    for spec in nets:
        train_steps(*nets[spec], data, g, 0, 30)  # compiling and warming up
    for r in range(3):
        for spec in nets:
            start = time.perf_counter()
            train_steps(*nets[spec], data, g, 30 + 50 * r, 80 + 50 * r)
            ms[spec].append((time.perf_counter() - start) / 50 * 1000)
    for spec, (model, _, _) in nets.items():
        print(f"{spec}: {count_parameters(model):,} parameters, {min(ms[spec]):.1f} ms/step "
              f"(rounds {', '.join(f'{m:.1f}' for m in ms[spec])})")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("layouts", nargs="+", help="WIDTHS:SEPARABLE[:ACTIVATION[:BN_FIRST[:PADDING]]], e.g. 8,12,14,16,32,40,48:000111")
    main(p.parse_args().layouts)
