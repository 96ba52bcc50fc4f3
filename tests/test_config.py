import inspect
import json
import subprocess
import sys

import pytest

from conftest import ROOT
from model import Net, build_model
from utils import Config, config_changes, pick_device

BAD = [
    ("epochs", 0), ("epochs", -3), ("epochs", 1.5), ("batch_size", 0), ("lr", 0.0), ("lr", float("nan")),
    ("dropout", 1.0), ("dropout", -0.1), ("device", "tpu"), ("device", "cuda:x"), ("model", "huge"),
    ("dataset", "cifar10"), ("val_size", -1), ("plateau_factor", 1.0), ("plateau_patience", -1),
    ("train_subset", 0), ("rotation", -1.0), ("shift", float("inf")), ("scale", 1.0), ("scale", -0.1), ("seed", -1), ("data_dir", ""),
    ("weight_decay", -1e-4), ("min_lr", -1.0), ("eval_batch_size", 0), ("precision", "fp16"),
    ("compile", True), ("compile", "yes"), ("bn_recalibrate", "yes"), ("bn_recalibrate", True),
    ("label_smoothing", 1.0), ("label_smoothing", -0.1), ("clean_size", -1),
    ("ema", 1.0), ("ema", -0.5), ("no_aug_epochs", -1), ("no_aug_epochs", 16), ("no_aug_epochs", 1.0),
    ("adam_beta1", 1.0), ("adam_beta2", -0.1), ("adam_beta2", float("nan")), ("elastic", -0.5), ("elastic", float("nan")),
    ("tta", "flip"), ("tta", None), ("late_lr", -1e-3), ("late_lr", float("inf")), ("late_lr", "0.001"),
    ("shear", -0.1), ("shear", float("inf")),
]


@pytest.mark.parametrize("field,value", BAD)
def test_bad_value_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"'{field}'"):
        Config(**{field: value})


def test_clean_size_zero_only_when_nothing_needs_the_clean_images():
    Config(clean_size=0, val_size=5000, bn_recalibrate="off", ema=0.0)
    for kw in ({"val_size": 0, "bn_recalibrate": "off", "ema": 0.0}, {"val_size": 5000, "bn_recalibrate": "on"}):
        with pytest.raises(ValueError, match="'clean_size'"):
            Config(clean_size=0, **kw)


def test_averaged_weights_need_their_own_batchnorm_statistics():
    Config(ema=0.99, bn_recalibrate="on")
    with pytest.raises(ValueError, match="'ema'.*bn_recalibrate"):
        Config(ema=0.99, bn_recalibrate="off")


def test_defaults_are_valid_and_round_trip():
    cfg = Config()
    assert Config.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown config field"):
        Config.from_dict({**cfg.to_dict(), "lerning_rate": 1})


def test_the_default_is_the_recipe_of_the_fresh_block_the_readme_leads_with():
    # The README's headline is this folder's result: a default changed without a new fresh block would turn it
    # into a claim about another recipe. Every run there differs from Config() in its seed alone.
    folder = "results/every-seed/fresh-461-480-dra-amd"
    records = [json.loads(p.read_text()) for p in sorted((ROOT / folder).glob("seed-*.json"))]
    assert [r["config"]["seed"] for r in records] == list(range(461, 481))
    assert all(config_changes(r["config"], Config(seed=r["config"]["seed"])) == [] for r in records)
    assert folder in (ROOT / "README.md").read_text().split("\n## ")[0]


def test_the_network_dropout_default_is_the_config_default():
    # model.py keeps its own default so that it imports nothing of ours; a network built without a Config
    # (`build_model()`) must still be the default network, so the two defaults may not drift apart.
    defaults = [inspect.signature(f).parameters["dropout"].default for f in (Net, Net.from_arch, build_model)]
    assert defaults == [Config().dropout] * 3


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    import torch
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            pick_device("cuda")


def test_cpu_name_says_the_model_on_linux_and_macos(monkeypatch):
    import types

    import torch

    import utils
    vector = f"({torch.backends.cpu.get_cpu_capability()})"
    assert utils.cpu_name().endswith(vector)
    # macOS has no /proc/cpuinfo and platform.processor() says only "arm": the model comes from sysctl
    monkeypatch.setattr(utils.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(utils.platform, "processor", lambda: "arm")
    monkeypatch.setattr(utils.Path, "read_text", lambda self: (_ for _ in ()).throw(FileNotFoundError(self)))
    calls = []
    monkeypatch.setattr(utils.subprocess, "run",
                        lambda cmd, **kw: calls.append(cmd) or types.SimpleNamespace(stdout="Apple M2\n"))
    assert utils.cpu_name() == f"Apple M2 {vector}"
    assert calls == [["sysctl", "-n", "machdep.cpu.brand_string"]]

    def no_sysctl(cmd, **kw):
        raise FileNotFoundError(cmd[0])
    monkeypatch.setattr(utils.subprocess, "run", no_sysctl)
    assert utils.cpu_name() == f"arm {vector}"  # without sysctl, what platform knows


def run_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "train.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_cli_help_documents_every_option():
    out = run_cli("--help")
    assert out.returncode == 0
    for f in Config().to_dict():
        assert "--" + f.replace("_", "-") in out.stdout


@pytest.mark.parametrize("args,needle", [
    (["--epochs", "0"], "'epochs'"), (["--dropout", "2"], "'dropout'"), (["--epochs", "ten"], "--epochs"),
    (["--device", "tpu"], "'device'"), (["--model", "huge"], "'model'"),
])
def test_cli_bad_value_is_one_line_and_nonzero(tmp_path, args, needle):
    out = run_cli("--out", str(tmp_path / "run"), *args)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr


def test_importing_does_nothing(tmp_path):
    code = "import sys; sys.path.insert(0, sys.argv[1]); import model, utils, train, bench, bench_speed"
    r = subprocess.run([sys.executable, "-c", code, str(ROOT)], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and list(tmp_path.iterdir()) == []
