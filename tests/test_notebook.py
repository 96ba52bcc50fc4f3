import dataclasses
import json

import papermill as pm

import utils
from conftest import ROOT


def test_notebook_runs_top_to_bottom_small(data_dir, tmp_path):
    out = tmp_path / "s7.out.ipynb"
    # Over seeds shows the runs of this configuration (seed 2), not those of the default before round 28 (torch's
    # beta2, 0.999: seed 1), another recipe
    this = utils.Config(epochs=1, train_subset=1000, data_dir=str(data_dir), device="cpu", seed=2)
    (tmp_path / "bench").mkdir()
    for seed, cfg in ((1, dataclasses.replace(this, seed=1, adam_beta2=0.999)), (2, this)):
        rec = {"config": cfg.to_dict(), "epochs": [{"epoch": 1, "test_acc": 99.0 + seed / 10}]}
        (tmp_path / "bench" / f"seed-{seed}.json").write_text(json.dumps(rec))
    pm.execute_notebook(str(ROOT / "s7.ipynb"), str(out), cwd=str(ROOT), kernel_name="python3", progress_bar=False,
                        parameters={"epochs": 1, "train_subset": 1000, "data_dir": str(data_dir),
                                    "device": "cpu", "bench_dir": str(tmp_path / "bench"),
                                    "checkpoint": str(tmp_path / "run" / "checkpoint.pt")})
    nb = json.loads(out.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    outputs = [o for c in code for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    pngs = sum("image/png" in o.get("data", {}) for o in outputs)
    assert pngs >= 4  # curves, misclassified digits, confusion matrix, seeds
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert "Total params" in text and "RF" in text and "test accuracy, last epochs" in text
    seeds = next(c for c in code if "plot_seeds" in "".join(c["source"]))
    plotted = [o for o in seeds["outputs"] if "image/png" in o.get("data", {})]
    assert len(plotted) == 1 and f"seeds 2 of this configuration in {tmp_path / 'bench'}" in text
