import json

import papermill as pm

from conftest import ROOT


def test_notebook_runs_top_to_bottom_small(data_dir, tmp_path):
    out = tmp_path / "s7.out.ipynb"
    pm.execute_notebook(str(ROOT / "s7.ipynb"), str(out), cwd=str(ROOT), kernel_name="python3", progress_bar=False,
                        parameters={"epochs": 1, "train_subset": 1000, "data_dir": str(data_dir),
                                    "device": "cpu", "bench_dir": str(tmp_path / "no-bench"),
                                    "checkpoint": str(tmp_path / "run" / "checkpoint.pt")})
    nb = json.loads(out.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    outputs = [o for c in code for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    pngs = sum("image/png" in o.get("data", {}) for o in outputs)
    assert pngs >= 3  # curves, misclassified digits, confusion matrix
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert "Total params" in text and "RF" in text and "test accuracy, last epochs" in text
