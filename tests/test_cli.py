import json
import subprocess
import sys

from conftest import ROOT

SMALL = ["--train-subset", "300", "--val-size", "200", "--device", "cpu", "--quiet", "--batch-size", "100"]


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "train.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_train_writes_its_outputs_and_resumes(tmp_path, data_dir):
    out = tmp_path / "run"
    r = cli("--epochs", "1", "--seed", "3", "--data-dir", str(data_dir), "--out", str(out), *SMALL)
    assert r.returncode == 0, r.stderr
    for name in ("history.json", "curves.png", "confusion.png", "confusion.json", "checkpoint.pt"):
        assert (out / name).is_file(), name
    h = json.loads((out / "history.json").read_text())
    assert set(h) >= {"params", "config", "seconds", "epochs"} and h["config"]["seed"] == 3
    assert [set(e) >= {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds"}
            for e in h["epochs"]] == [True]
    assert 0 <= h["epochs"][0]["test_acc"] <= 100
    cm = json.loads((out / "confusion.json").read_text())
    assert sum(map(sum, cm["matrix"])) == 10000 and len(cm["per_class_acc"]) == 10

    again = cli("--epochs", "1", "--seed", "3", "--data-dir", str(data_dir), "--out", str(out), *SMALL)
    assert again.returncode != 0 and "--resume" in again.stderr and len(again.stderr.strip().splitlines()) == 1

    more = cli("--epochs", "2", "--seed", "3", "--data-dir", str(data_dir), "--out", str(out), "--resume", *SMALL)
    assert more.returncode == 0, more.stderr
    h2 = json.loads((out / "history.json").read_text())
    assert [e["epoch"] for e in h2["epochs"]] == [1, 2] and h2["epochs"][0] == h["epochs"][0]

    other = cli("--epochs", "3", "--seed", "4", "--data-dir", str(data_dir), "--out", str(out), "--resume", *SMALL)
    assert other.returncode != 0 and "seed" in other.stderr


def test_model_help_names_every_preset_and_the_main_ones_counts():
    import train  # conftest puts the repository on sys.path
    from model import PRESETS, build_model, count_parameters

    text = train.HELP["model"]
    assert all(name in text for name in PRESETS)
    for name in ("default", "late-sep-sq8", "late-sep2", "plain", "small", "tiny"):
        assert f"{name} ({count_parameters(build_model(name)):,}" in text
    assert PRESETS["late-sep"] == PRESETS["default"] and "also named late-sep" in text
