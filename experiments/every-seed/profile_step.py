"""Profile 50 compiled training steps of a preset on real, augmented batches (2 threads): where a step's time goes.

Not a benchmark (one short run, no repeats); it says which operations a network's step spends its time in.
Run from the repository root: PYTHONPATH=. python experiments/every-seed/profile_step.py late-sep [--shapes]
(--shapes: one row per operation and input shape, which says which convolution a time belongs to).
"""
import sys

import torch
from torch.profiler import ProfilerActivity, profile

import utils
from step_cost import train_steps  # this script's folder is on sys.path when it runs


def main(name: str, shapes: bool = False) -> None:
    torch.set_num_threads(2)
    cfg = utils.Config(data_dir="data", model=name)
    data = utils.load_data(cfg, log=lambda *a: None)
    model = utils.build_model(cfg.model, cfg.dropout, num_classes=10)
    run = utils.compile_model(model, True)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(0)

    train_steps(model, run, opt, data, g, 0, 60)  # compiling and warming up
    with profile(activities=[ProfilerActivity.CPU], record_shapes=shapes) as p:
        train_steps(model, run, opt, data, g, 60, 110)
    print(p.key_averages(group_by_input_shape=shapes).table(sort_by="self_cpu_time_total", row_limit=14 + 11 * shapes,
                                                             max_name_column_width=30, max_shapes_column_width=90))


if __name__ == "__main__":
    main(sys.argv[1], "--shapes" in sys.argv[2:])
