"""Issue 14, round 54: seconds for one pass over the 10,000 test images with one, three and five views (utils.VIEWS-like
sets), the default network compiled, in the default precision, at THREADS threads; three passes each (the first
compiles). The figure round 54's eligibility rested on, before speed.sh measured a whole run (round 56).

    python experiments/every-seed/view_cost.py [THREADS]
"""
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import utils  # noqa: E402
from model import build_model  # noqa: E402

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
cfg = utils.Config()
data = utils.load_data(cfg, log=lambda *a: None)
precision = utils.pick_precision(cfg.precision, torch.device("cpu"))
run = utils.compile_model(build_model(cfg.model, cfg.dropout), True)
for views in (None, [(0, 0, 0), (0, 1, 0), (0, -1, 0)], [(0, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]):
    for _ in range(3):
        t = time.perf_counter()
        utils.predict_logits(run, data.test_x, data.mean, data.std, 500, precision, views)
        print(f"{precision}, {torch.get_num_threads()} threads, {len(views or [1])} view(s): "
              f"{time.perf_counter() - t:.2f} s", flush=True)
