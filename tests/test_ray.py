"""bench.py --ray: seeds as Ray Tune trials give the local pool's files and histories, and resume."""
import json
import os

import pytest

from test_bench import py

# Two epochs on a small training subset, eager and single-threaded, so that a seed trains in seconds and
# the Ray trial and the local process compute the same floats.
SMALL = ["--epochs", 2, "--train-subset", 600, "--val-size", 300, "--clean-size", 300, "--ema", 0,
         "--compile", "off", "--device", "cpu", "--threads", 1]


def history(path):
    rec = json.loads(path.read_text())
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rec["epochs"]], rec


def test_ray_missing_says_what_to_install(tmp_path, data_dir):
    # sys.modules["ray"] = None makes `import ray` fail as if Ray were not installed.
    code = ("import sys; sys.modules['ray'] = None; sys.argv = ['bench.py']; import bench; "
            f"sys.exit(bench.main(['--ray', '--seeds', '1', '--out', {str(tmp_path)!r}, "
            f"'--data-dir', {str(data_dir)!r}]))")
    r = py("-c", code)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines()[-1] == \
        "bench.py: error: --ray needs Ray, which is not installed: pip install -r requirements-ray.txt"
    assert not list(tmp_path.glob("seed-*"))


def test_ray_options_need_ray(tmp_path):
    r = py("bench.py", "--seeds", 1, "--out", tmp_path, "--gpus-per-seed", 0.5)
    assert r.returncode == 2 and "apply to --ray only" in r.stderr


def test_ray_trials_match_the_local_pool_and_a_rerun_trains_only_what_is_missing(tmp_path, data_dir):
    pytest.importorskip("ray.tune")
    common = [*SMALL, "--data-dir", data_dir]
    local, ray_out, cut = tmp_path / "local", tmp_path / "ray", tmp_path / "cut"
    r = py("bench.py", "--seeds", 1, 2, 3, "--jobs", 2, "--out", local, *common)
    assert r.returncode == 0, r.stderr

    # An interrupted benchmark, rerun on Ray in the same folder: seed 1 finished, seed 2 stopped after
    # epoch 1 of 2 (its checkpoint on disk, its JSON not yet written), seed 3 never started. A checkpoint
    # after epoch 1 is what a 1-epoch run leaves (a run may be continued for more epochs). One Ray call
    # (each starts a cluster, the bulk of this test's time) checks a fresh trial, a resumed trial and a
    # skipped seed.
    r = py("bench.py", "--seeds", 2, "--jobs", 1, "--out", cut, *common, "--epochs", 1)
    assert r.returncode == 0, r.stderr
    epoch1 = json.loads((cut / "seed-2.json").read_text())["epochs"][0]
    ray_out.mkdir()
    seed1 = (local / "seed-1.json").read_bytes()
    (ray_out / "seed-1.json").write_bytes(seed1)
    os.replace(cut / "seed-2.pt", ray_out / "seed-2.pt")
    r = py("bench.py", "--ray", "--seeds", 1, 2, 3, "--out", ray_out, *common)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Trial status" in r.stdout  # Ray's progress table, not the local progress lines
    assert "[default seed" not in r.stdout
    assert "seed 1: already done" in r.stdout and "training seeds [2, 3] on Ray" in r.stdout
    assert (ray_out / "seed-1.json").read_bytes() == seed1  # not trained again
    rows, rec = history(ray_out / "seed-2.json")
    assert rec["epochs"][0]["seconds"] == epoch1["seconds"]  # epoch 1 continued from, not trained again
    # Bit for bit the local processes' histories: the resumed trial's as if trained in one go, and the
    # fresh trial's.
    assert rows == history(local / "seed-2.json")[0]
    assert history(ray_out / "seed-3.json")[0] == history(local / "seed-3.json")[0]
    assert "| 3 |" in (ray_out / "summary.md").read_text()
    assert (ray_out / "seeds.png").stat().st_size > 1000


def test_gpus_asked_for_where_there_are_none_is_named(tmp_path, data_dir):
    pytest.importorskip("ray.tune")
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = py("bench.py", "--ray", "--seeds", 1, *SMALL, "--data-dir", data_dir, "--out", tmp_path,
           "--gpus-per-seed", 0.5)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == \
        "bench.py: error: --gpus-per-seed 0.5 asked for, but this Ray cluster has no GPU"
    assert not list(tmp_path.glob("seed-*"))


def test_a_failed_trial_is_named_and_the_others_finish(tmp_path, data_dir):
    pytest.importorskip("ray.tune")
    # seed 1's checkpoint path is a folder: the driver sees no checkpoint to resume, and the trial fails when
    # it saves after its first epoch (as on a full or read-only disk); seed 2 is unaffected.
    (tmp_path / "seed-1.pt").mkdir()
    r = py("bench.py", "--ray", "--seeds", 1, 2, *SMALL, "--data-dir", data_dir, "--out", tmp_path)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    assert "seed 1: failed under Ray: IsADirectoryError" in r.stdout
    assert f"seeds [1] failed (their errors are above); the seeds that finished are in {tmp_path}" in r.stdout
    assert (tmp_path / "seed-2.json").is_file() and not (tmp_path / "seed-1.json").exists()
    assert not (tmp_path / "summary.md").exists()  # no summary over a block with a hole in it
