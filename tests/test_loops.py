import copy
import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import plots
import utils
from model import PRESETS, Net, build_model, count_parameters


def small_cfg(data_dir, **kw):
    # Eager fp32 keeps these tests quick and exact; test_compiled_bf16_run covers the default path.
    # ema 0.9 (on, though the default is off): 0.999 averages over about 1,000 steps, and these runs take 10 to 30
    base = dict(data_dir=str(data_dir), train_subset=1000, val_size=500, epochs=3, device="cpu",
                plateau_patience=0, batch_size=100, compile="off", precision="fp32", ema=0.9)
    return utils.Config(**{**base, **kw})


def run(cfg, data, **kw):
    return utils.fit(cfg, data=data, progress=False, log=lambda *_: None, **kw)


def stop_in_epoch(monkeypatch, n):
    """Patch utils.train_epoch to raise KeyboardInterrupt (Ctrl-C) on its n-th call; return the real one."""
    real, calls = utils.train_epoch, []

    def train_epoch(*a, **k):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(utils, "train_epoch", train_epoch)
    return real


def strip_seconds(history):
    h = copy.deepcopy(history)
    h.pop("seconds")
    for row in h["epochs"]:
        row.pop("seconds")
    return h


def test_a_few_steps_lower_the_loss(small_data):
    torch.manual_seed(0)
    model = build_model()
    x = utils.normalize(small_data.train_x[:256], small_data.mean, small_data.std)
    y = small_data.train_y[:256]
    before = F.cross_entropy(model.eval()(x), y).item()
    cfg = utils.Config(batch_size=64)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        stats = utils.train_epoch(model, small_data, opt, cfg, torch.Generator().manual_seed(0), progress=False)
    after = F.cross_entropy(model.eval()(x), y).item()
    assert after < before * 0.7
    assert set(stats) == {"loss", "acc"} and 0 <= stats["acc"] <= 100


class Fixed(nn.Module):
    """Predicts the class stored in the first pixel of each image; a known case for evaluate."""
    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return F.one_hot(x[:, 0, 0, 0].round().long(), 10).float() + self.dummy


def test_evaluate_counts_correctly_on_a_known_case():
    x = torch.zeros(10, 28, 28, dtype=torch.uint8)
    x[:, 0, 0] = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 0, 0, 0])  # the last three are wrong
    out = utils.evaluate(Fixed(), x, y, mean=0.0, std=1 / 255, batch_size=4)
    assert out["correct"] == 7 and out["n"] == 10 and out["acc"] == pytest.approx(70.0)
    assert out["pred"].tolist() == list(range(10))
    cm = plots.confusion_matrix(y, out["pred"], 10)
    assert cm.sum() == 10 and cm.diag().sum() == 7 and cm[0, 7] == 1
    assert plots.per_class_accuracy(cm)[0] == pytest.approx(25.0)


def test_accuracy_plot_zoom_shows_every_line():
    rows = [{"epoch": e, "train_loss": 0.1, "train_acc": 99.0, "val_loss": 0.1, "val_acc": 99.2,
             "test_loss": 0.1, "test_acc": 99.4, "raw_test_acc": 96.0 if e == 3 else 99.3} for e in range(1, 4)]
    fig = plots.plot_history({"epochs": rows, "config": {"dataset": "mnist"}})
    low, high = fig.axes[1].get_ylim()
    assert low <= 96.0 and high >= 99.4  # the trained weights' dip stays in view


def test_history_schema_and_determinism(data_dir, small_data, tmp_path):
    cfg = small_cfg(data_dir, epochs=1)
    h1 = run(cfg, small_data, checkpoint=tmp_path / "1.pt")
    h2 = run(cfg, small_data, checkpoint=tmp_path / "2.pt")
    assert set(h1) >= {"params", "config", "seconds", "epochs"} and h1["params"] == count_parameters(build_model("default")) == 7964
    assert set(h1["epochs"][0]) >= {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds"}
    assert strip_seconds(h1) == strip_seconds(h2)
    w1, w2 = (utils.load_checkpoint(tmp_path / f"{i}.pt")["model"] for i in (1, 2))
    for k in w1:
        assert torch.equal(w1[k], w2[k]), k
    h3 = run(small_cfg(data_dir, epochs=1, seed=2), small_data)
    assert h3["epochs"][0]["train_loss"] != h1["epochs"][0]["train_loss"]


def test_scheduler_never_sees_the_test_set(data_dir, small_data):
    cfg = small_cfg(data_dir, epochs=3, plateau_threshold=0.5)  # every epoch short of -50% counts as a plateau
    scrambled = copy.copy(small_data)
    scrambled.test_y = small_data.test_y[torch.randperm(len(small_data.test_y))]
    a, b = run(cfg, small_data), run(cfg, scrambled)
    assert [r["lr"] for r in a["epochs"]] == [r["lr"] for r in b["epochs"]]
    assert [r["train_loss"] for r in a["epochs"]] == [r["train_loss"] for r in b["epochs"]]
    assert a["epochs"][-1]["test_acc"] > b["epochs"][-1]["test_acc"]
    assert len({r["lr"] for r in a["epochs"]}) > 1, "patience 0 on a tiny set should lower the LR"


def test_smoothed_kl_is_the_distance_to_the_smoothed_targets():
    # cross_entropy with smoothing = the targets' own entropy + the KL divergence to them, so the KL is 0
    # when the predictions are the smoothed targets, where the plain loss is not.
    eps, k = 0.1, 10
    y = torch.arange(20) % k
    target = torch.full((20, k), eps / k) + (1 - eps) * F.one_hot(y, k)
    entropy = -(target * target.log()).sum(1).mean()

    class Fixed(nn.Module):
        def __init__(self, logits):
            super().__init__()
            self.logits, self.unused = logits, nn.Parameter(torch.zeros(1))  # predict_logits reads its device

        def forward(self, x):
            return self.logits[:len(x)]

    images = torch.zeros(20, 28, 28, dtype=torch.uint8)
    exact = utils.evaluate(Fixed(target.log()), images, y, 0.0, 1.0, label_smoothing=eps)
    assert exact["smoothed_kl"] == pytest.approx(0.0, abs=1e-6) and exact["loss"] > 0.05
    logits = torch.randn(20, k, generator=torch.Generator().manual_seed(0))
    out = utils.evaluate(Fixed(logits), images, y, 0.0, 1.0, label_smoothing=eps)
    assert out["smoothed_kl"] == pytest.approx(F.cross_entropy(logits, y, label_smoothing=eps).item() - entropy.item(), rel=1e-5)
    assert "smoothed_kl" not in utils.evaluate(Fixed(logits), images, y, 0.0, 1.0)


@pytest.mark.parametrize("extra", [{}, dict(val_size=0, clean_size=300)], ids=["val", "clean"])
def test_label_smoothing_steps_the_scheduler_on_the_kl_to_its_targets(data_dir, small_data, monkeypatch, extra):
    seen, stepped = [], []
    evaluate, step = utils.evaluate, torch.optim.lr_scheduler.ReduceLROnPlateau.step

    def spy_evaluate(model, x, *args, **kw):
        out = evaluate(model, x, *args, **kw)
        seen.append((x, out))
        return out

    def spy_step(self, metric, *args, **kw):
        stepped.append(metric)
        return step(self, metric, *args, **kw)

    monkeypatch.setattr(utils, "evaluate", spy_evaluate)
    monkeypatch.setattr(torch.optim.lr_scheduler.ReduceLROnPlateau, "step", spy_step)
    data = no_val(small_data) if extra else small_data
    for smoothing in (0.1, 0.0):
        seen.clear(), stepped.clear()
        run(small_cfg(data_dir, epochs=1, label_smoothing=smoothing, **extra), data)
        watched = next(out for x, out in seen if x is not data.test_x)  # the validation or clean images
        assert stepped == [watched["smoothed_kl"] if smoothing else watched["loss"]]
        assert not smoothing or watched["smoothed_kl"] != watched["loss"]


def no_val(data):
    """The same data with every non-test image trained on, as with val_size=0."""
    return dataclasses.replace(data, val_x=data.val_x[:0], val_y=data.val_y[:0])


CLEAN = dict(val_size=0, clean_size=300, bn_recalibrate="on", ema=0.0)
EMA = dict(clean_size=300, bn_recalibrate="on", ema=0.9)


@pytest.mark.parametrize("extra", [CLEAN, {**CLEAN, "ema": 0.9}], ids=["recalibrated", "averaged"])
def test_recalibration_and_clean_signal_never_read_the_test_set(data_dir, small_data, tmp_path, extra):
    cfg = small_cfg(data_dir, epochs=3, plateau_threshold=0.9, **extra)  # any loss short of a 90% drop halves the rate
    data = no_val(small_data)
    noise = dataclasses.replace(data, test_x=torch.randint(0, 256, data.test_x.shape, dtype=torch.uint8),
                                test_y=data.test_y[torch.randperm(len(data.test_y))])
    a = run(cfg, data, checkpoint=tmp_path / "a.pt")
    b = run(cfg, noise, checkpoint=tmp_path / "b.pt")
    for key in ("lr", "train_loss", "clean_loss", "clean_acc"):
        assert [r[key] for r in a["epochs"]] == [r[key] for r in b["epochs"]], key
    assert a["epochs"][-1]["test_acc"] > b["epochs"][-1]["test_acc"]
    assert len({r["lr"] for r in a["epochs"]}) > 1, "the clean loss should drive the scheduler"
    for part in ("model", "trained"):
        wa, wb = (utils.load_checkpoint(tmp_path / f"{k}.pt")[part] or {} for k in "ab")
        assert all(torch.equal(wa[k], wb[k]) for k in wa), "weights and BatchNorm statistics must not see the test set"


def test_recalibration_sets_exact_clean_statistics_with_dropout_off(small_data):
    torch.manual_seed(0)
    model = build_model(dropout=0.5)
    model.train()(utils.normalize(small_data.train_x[:64], small_data.mean, small_data.std))  # stats drift
    x = small_data.train_x[:300]
    utils.recalibrate_bn(model, x, small_data.mean, small_data.std, batch_size=100)
    assert not model.training and all(m.p == 0.5 for m in model.modules() if isinstance(m, nn.Dropout2d))
    with torch.no_grad():
        act = model.features[0][:2](utils.normalize(x, small_data.mean, small_data.std))  # conv, ReLU
        bn = model.features[0][2]
        assert torch.allclose(bn.running_mean, act.mean((0, 2, 3)), atol=1e-5)
        assert torch.allclose(bn.running_var, act.var((0, 2, 3)), rtol=1e-3)
        # deeper layers: dropout off means the second block sees the first block's output without dropout
        # (normalised there by each batch's own statistics, hence the looser tolerance)
        act2 = model.features[1][:2](model.features[0](utils.normalize(x, small_data.mean, small_data.std)))
        assert torch.allclose(model.features[1][2].running_mean, act2.mean((0, 2, 3)), atol=1e-3)
        model.features[0][3].p = 0.5
        dropped = model.features[1][:2](model.train().features[0](utils.normalize(x, small_data.mean,
                                                                                    small_data.std)))
        assert not torch.allclose(model.features[1][2].running_mean, dropped.mean((0, 2, 3)), atol=1e-3)


def test_checkpoint_holds_recalibrated_statistics_and_predict_uses_them(data_dir, small_data, tmp_path):
    cfg = small_cfg(data_dir, epochs=2, **CLEAN)
    data = no_val(small_data)
    h = run(cfg, data, checkpoint=tmp_path / "c.pt")
    state = utils.load_checkpoint(tmp_path / "c.pt")
    model = build_model()
    model.load_state_dict(state["model"])
    again = copy.deepcopy(model)
    utils.recalibrate_bn(again, data.train_x[:300], data.mean, data.std)
    for (k, v), w in zip(model.state_dict().items(), again.state_dict().values()):
        if "running" in k:
            assert torch.allclose(v, w, atol=1e-6), k
    out = utils.evaluate(model, data.test_x, data.test_y, data.mean, data.std)
    assert out["acc"] == pytest.approx(h["epochs"][-1]["test_acc"])
    assert torch.equal(utils.predict(tmp_path / "c.pt", data.test_x)[0], out["pred"])


def test_averaged_weights_are_reported_saved_and_predicted_and_leave_training_alone(data_dir, small_data, tmp_path):
    plain = run(small_cfg(data_dir, epochs=3, **{**EMA, "ema": 0.0}), small_data)
    averaged = run(small_cfg(data_dir, epochs=3, **EMA), small_data, checkpoint=tmp_path / "c.pt")
    for key in ("lr", "train_loss", "val_loss"):
        assert [r[key] for r in plain["epochs"]] == [r[key] for r in averaged["epochs"]], key
    assert [r["test_acc"] for r in plain["epochs"]] == [r["raw_test_acc"] for r in averaged["epochs"]]
    state = utils.load_checkpoint(tmp_path / "c.pt")
    assert state["ema_steps"] == 3 * 10  # 1,000 images in batches of 100, three epochs
    assert any(not torch.equal(state["model"][k], state["trained"][k]) for k in state["trained"])
    model = build_model()
    model.load_state_dict(state["model"])
    out = utils.evaluate(model, small_data.test_x, small_data.test_y, small_data.mean, small_data.std)
    assert out["acc"] == pytest.approx(averaged["epochs"][-1]["test_acc"])
    assert torch.equal(utils.predict(tmp_path / "c.pt", small_data.test_x)[0], out["pred"])


TTA = next(k for k in utils.VIEWS if k != "off")  # the view set a run may average its predictions over


def test_views_move_and_turn_the_image_and_every_set_starts_with_it():
    x = torch.rand(3, 1, 28, 28)
    assert utils.view(x, 0, 0, 0) is x
    right = torch.zeros_like(x)
    right[..., 1:] = x[..., :-1]  # content one pixel right (dx=1), zeros coming in at the left
    assert torch.allclose(utils.view(x, 0, 1, 0), right, atol=1e-5)
    up = torch.zeros_like(x)
    up[..., :-1, :] = x[..., 1:, :]  # one pixel up (dy=-1)
    assert torch.allclose(utils.view(x, 0, 0, -1), up, atol=1e-5)
    assert torch.allclose(utils.view(x, 90, 0, 0), x.rot90(1, (2, 3)), atol=1e-5)
    assert utils.VIEWS["off"] is None
    for name, views in utils.VIEWS.items():
        assert views is None or (views[0] == (0, 0, 0) and len(set(views)) == len(views) > 1), name


def test_view_averaged_logits_are_the_mean_of_each_views_logits(small_data):
    torch.manual_seed(0)
    model = build_model().eval()
    x, views = small_data.test_x[:30], utils.VIEWS[TTA]
    each = utils.predict_logits(model, x, small_data.mean, small_data.std, 7, views=views, per_view=True)
    assert each.shape == (len(views), 30, 10)
    one = [utils.predict_logits(model, x, small_data.mean, small_data.std, 7, views=[v]) for v in views]
    assert torch.allclose(each, torch.stack(one), atol=1e-6)
    assert torch.equal(each[0], utils.predict_logits(model, x, small_data.mean, small_data.std, 7))
    assert torch.allclose(utils.predict_logits(model, x, small_data.mean, small_data.std, 7, views=views),
                          each.mean(0))


def test_averaged_views_are_reported_saved_and_predicted_and_leave_training_alone(data_dir, small_data, tmp_path):
    base = dict(epochs=2, ema=0.0)
    plain = run(small_cfg(data_dir, **base), small_data)
    tta = run(small_cfg(data_dir, tta=TTA, **base), small_data, checkpoint=tmp_path / "c.pt")
    for key in ("lr", "train_loss", "val_loss"):
        assert [r[key] for r in plain["epochs"]] == [r[key] for r in tta["epochs"]], key
    assert [r["test_acc"] for r in plain["epochs"]] == [r["plain_test_acc"] for r in tta["epochs"]]
    assert all(r["plain_test_acc"] is None for r in plain["epochs"])
    model = build_model()
    model.load_state_dict(utils.load_checkpoint(tmp_path / "c.pt")["model"])
    views = utils.VIEWS[TTA]
    out = utils.evaluate(model, small_data.test_x, small_data.test_y, small_data.mean, small_data.std, views=views)
    assert out["acc"] == pytest.approx(tta["epochs"][-1]["test_acc"])
    assert out["first_view_acc"] == pytest.approx(tta["epochs"][-1]["plain_test_acc"])
    one = utils.evaluate(model, small_data.test_x, small_data.test_y, small_data.mean, small_data.std)
    assert (one["pred"] != out["pred"]).any(), "the views should change some prediction of a barely trained network"
    assert torch.equal(utils.predict(tmp_path / "c.pt", small_data.test_x)[0], out["pred"])
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    state["config"]["tta"] = "a-later-set"
    torch.save(state, tmp_path / "later.pt")
    with pytest.raises(ValueError, match="tta='a-later-set'"):
        utils.predict(tmp_path / "later.pt", small_data.test_x[:2])


def test_label_smoothing_reaches_the_training_loss(data_dir, small_data):
    plain = run(small_cfg(data_dir, epochs=1), small_data)
    smooth = run(small_cfg(data_dir, epochs=1, label_smoothing=0.2), small_data)
    assert smooth["epochs"][0]["train_loss"] > plain["epochs"][0]["train_loss"]


def test_adams_betas_reach_the_optimizer_and_its_checkpoint(data_dir, small_data, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    plain = run(small_cfg(data_dir, epochs=1), small_data)
    betas = run(small_cfg(data_dir, epochs=1, adam_beta1=0.8, adam_beta2=0.99), small_data, checkpoint=ckpt)
    assert utils.load_checkpoint(ckpt)["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.99)
    assert betas["epochs"][0]["train_loss"] != plain["epochs"][0]["train_loss"]


def test_late_lr_caps_only_the_last_three_epochs_and_the_scheduler_goes_on_from_it(data_dir, small_data, tmp_path,
                                                                                    monkeypatch):
    # plateau_threshold 1: no epoch counts as progress, so the rate halves after every epoch, a known schedule.
    cfg = small_cfg(data_dir, epochs=4, lr=0.01, plateau_threshold=1.0)
    base = run(cfg, small_data)
    capped_cfg = dataclasses.replace(cfg, late_lr=0.004)
    capped = run(capped_cfg, small_data, checkpoint=tmp_path / "whole.pt")
    assert [r["lr"] for r in base["epochs"]] == pytest.approx([0.01, 0.005, 0.0025, 0.00125])
    assert [r["lr"] for r in capped["epochs"]] == pytest.approx([0.01, 0.004, 0.002, 0.001])
    assert strip_seconds(capped)["epochs"][0] == strip_seconds(base)["epochs"][0]
    assert capped["epochs"][1]["train_loss"] != base["epochs"][1]["train_loss"]
    # A cap above every rate never binds: the same run, step for step.
    loose = run(dataclasses.replace(cfg, late_lr=0.02), small_data)
    assert strip_seconds(loose)["epochs"] == strip_seconds(base)["epochs"]
    # Stopped inside the window and resumed: the same epochs as the whole run; another cap is another run.
    real = stop_in_epoch(monkeypatch, 3)
    ckpt = tmp_path / "cut.pt"
    assert len(run(capped_cfg, small_data, checkpoint=ckpt)["epochs"]) == 2
    monkeypatch.setattr(utils, "train_epoch", real)
    resumed = run(capped_cfg, small_data, checkpoint=ckpt, resume=True)
    assert strip_seconds(resumed) == strip_seconds(capped)
    with pytest.raises(ValueError, match="late_lr"):
        run(cfg, small_data, checkpoint=ckpt, resume=True)


def test_a_run_stopped_in_its_first_epoch_says_nothing_was_saved(data_dir, small_data, tmp_path, monkeypatch):
    # It used to name a checkpoint file that "holds" the epochs, though none had been written.
    stop_in_epoch(monkeypatch, 1)
    lines = []
    history = utils.fit(small_cfg(data_dir, epochs=2), data=small_data, checkpoint=tmp_path / "c.pt", progress=False,
                        log=lines.append)
    assert history["epochs"] == [] and not (tmp_path / "c.pt").exists()
    assert lines[-1] == "interrupted: stopped after 0 complete epoch(s); nothing was saved"


def test_the_last_no_aug_epochs_train_on_unaugmented_images_and_change_nothing_before(data_dir, small_data,
                                                                                     monkeypatch):
    base = run(small_cfg(data_dir, epochs=3), small_data)
    real_epoch, real_augment, calls = utils.train_epoch, utils.augment, []

    def epoch_spy(*a, **k):
        calls.append(0)
        return real_epoch(*a, **k)

    def augment_spy(*a, **k):
        calls[-1] += 1
        return real_augment(*a, **k)
    monkeypatch.setattr(utils, "train_epoch", epoch_spy)
    monkeypatch.setattr(utils, "augment", augment_spy)
    late = run(small_cfg(data_dir, epochs=3, no_aug_epochs=2), small_data)
    assert calls[0] > 0 and calls[1:] == [0, 0]  # every batch of epoch 1 augmented, none of epochs 2 and 3
    assert strip_seconds(late)["epochs"][0] == strip_seconds(base)["epochs"][0]
    assert late["epochs"][1]["train_loss"] != base["epochs"][1]["train_loss"]


def test_shear_reaches_every_training_batch_and_changes_the_run(data_dir, small_data, monkeypatch):
    base = run(small_cfg(data_dir, epochs=1), small_data)
    real_augment, shears = utils.augment, []

    def augment_spy(*a, **k):
        shears.append(a[6])
        return real_augment(*a, **k)
    monkeypatch.setattr(utils, "augment", augment_spy)
    slanted = run(small_cfg(data_dir, epochs=1, shear=0.15), small_data)
    assert shears and set(shears) == {0.15}
    assert slanted["epochs"][0]["train_loss"] != base["epochs"][0]["train_loss"]


@pytest.mark.parametrize("extra", [{}, CLEAN, EMA, {"no_aug_epochs": 2}, {"tta": TTA}],
                         ids=["val-split", "all-images-recalibrated", "averaged", "unaugmented-last-epochs", "views"])
def test_interrupted_run_resumes_to_the_same_history(data_dir, small_data, tmp_path, monkeypatch, extra):
    cfg = small_cfg(data_dir, epochs=3, **extra)
    if extra.get("val_size") == 0:
        small_data = no_val(small_data)
    whole = run(cfg, small_data, checkpoint=tmp_path / "whole.pt")
    real = stop_in_epoch(monkeypatch, 2)
    ckpt = tmp_path / "cut.pt"
    partial = run(cfg, small_data, checkpoint=ckpt)
    assert len(partial["epochs"]) == 1 and len(utils.load_checkpoint(ckpt)["history"]["epochs"]) == 1
    monkeypatch.setattr(utils, "train_epoch", real)
    resumed = run(cfg, small_data, checkpoint=ckpt, resume=True)
    assert strip_seconds(resumed) == strip_seconds(whole)
    for part in ("model", "trained"):
        a, b = (utils.load_checkpoint(p)[part] or {} for p in (ckpt, tmp_path / "whole.pt"))
        assert all(torch.equal(a[k], b[k]) for k in a) and a.keys() == b.keys()
    with pytest.raises(ValueError, match="lr"):
        run(small_cfg(data_dir, epochs=3, lr=0.5), small_data, checkpoint=ckpt, resume=True)


def test_a_run_resumed_on_another_machine_names_both(data_dir, small_data, tmp_path, monkeypatch):
    # Float rounding differs between CPUs, so a record must not claim one machine for epochs another ran.
    import bench
    cfg, ckpt = small_cfg(data_dir, epochs=2, ema=0.0), tmp_path / "c.pt"
    first = run(dataclasses.replace(cfg, epochs=1), small_data, checkpoint=ckpt)
    monkeypatch.setattr(utils, "cpu_name", lambda: "Other CPU (AVX512)")
    resumed = run(cfg, small_data, checkpoint=ckpt, resume=True)
    machine = ("device", "precision", "compiled", "threads", "cpu", "torch")
    assert resumed["cpu"] == "Other CPU (AVX512)" and first["cpu"] != resumed["cpu"]
    assert resumed["earlier_machines"] == [{"until_epoch": 1, **{k: first[k] for k in machine}}]
    assert f"- seed 1 ran epochs 1 to 1 elsewhere: cpu, {first['threads']} thread(s), fp32" in \
        bench.summarize({1: resumed})
    again = run(dataclasses.replace(cfg, epochs=3), small_data, checkpoint=ckpt, resume=True)  # same machine
    assert again["earlier_machines"] == resumed["earlier_machines"] and len(again["epochs"]) == 3


def test_on_epoch_sees_each_saved_epoch_once(data_dir, small_data, tmp_path):
    ckpt, seen = tmp_path / "c.pt", []

    def on_epoch(row):  # called after the epoch's checkpoint is written, as a Ray trial reports
        seen.append((row, len(utils.load_checkpoint(ckpt)["history"]["epochs"])))
    history = run(small_cfg(data_dir, epochs=2), small_data, checkpoint=ckpt, on_epoch=on_epoch)
    assert [row for row, _ in seen] == history["epochs"] and [n for _, n in seen] == [1, 2]


def test_crash_while_saving_keeps_the_previous_checkpoint(data_dir, small_data, tmp_path, monkeypatch):
    ckpt = tmp_path / "c.pt"
    run(small_cfg(data_dir, epochs=1), small_data, checkpoint=ckpt)
    before = ckpt.read_bytes()

    def dies_half_way(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")
    monkeypatch.setattr(utils.torch, "save", dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        utils.save_checkpoint(ckpt, build_model(), small_cfg(data_dir), small_data, {"epochs": []})
    assert ckpt.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["c.pt"]


class Evil:
    def __reduce__(self):
        import os
        return (os.system, ("touch pwned",))


def test_checkpoint_that_would_run_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"format": utils.CHECKPOINT_FORMAT, "x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="refused"):
        utils.load_checkpoint(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="junk.pt is not a checkpoint: it is truncated, corrupt or in another"):
        utils.load_checkpoint(tmp_path / "junk.pt")
    (tmp_path / "random.pt").write_bytes(torch.randint(0, 256, (3000,), generator=torch.Generator().manual_seed(0),
                                                       dtype=torch.uint8).numpy().tobytes())
    with pytest.raises(ValueError, match="truncated, corrupt") as err:
        utils.load_checkpoint(tmp_path / "random.pt")
    assert "weights_only" not in str(err.value) and "refused" not in str(err.value)
    good = tmp_path / "good.pt"
    torch.save({"format": utils.CHECKPOINT_FORMAT}, good)
    (tmp_path / "cut.pt").write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="cut.pt is not a checkpoint: it is truncated"):
        utils.load_checkpoint(tmp_path / "cut.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a mnist-s7-checkpoint"):
        utils.load_checkpoint(tmp_path / "other.pt")


@pytest.mark.parametrize("then, differs", [("plain", r"widths \[8, 12, 14, 8, 12, 16, 16\] in the checkpoint"),
                                           ("late-sep2", r"widths \[8, 12, 14, 8, 16, 40, 48\] in the checkpoint"),
                                           ("late-sep-sq8", r"widths \[8, 12, 14, 8, 32, 40, 48\] in the checkpoint"),
                                           ("leaky", r"activation 'leaky-relu' in the checkpoint, 'relu' here"),
                                           ("bn-first", r"bn_first 1 in the checkpoint, 0 here")])
def test_checkpoint_of_a_preset_that_changed_since_still_predicts_and_names_its_preset(data_dir, small_data, tmp_path,
                                                                                       then, differs):
    # Made when "default" meant another network: before issue 14's round 8 what is now "plain", from round 8
    # to round 12 what is now "late-sep2", in rounds 12 and 13 what is now "late-sep-sq8". The config names
    # "default", the weights are the old network's. (leaky and bn-first: the same check for a network whose
    # parameters are the default's, computed another way.)
    ckpt = tmp_path / "old.pt"
    old = build_model(then).eval()
    utils.save_checkpoint(ckpt, old, small_cfg(data_dir, model="default"), small_data, {"epochs": []})
    want = utils.evaluate(old, small_data.test_x, small_data.test_y, small_data.mean, small_data.std)["pred"]
    assert torch.equal(utils.predict(ckpt, small_data.test_x)[0], want)
    with pytest.raises(ValueError, match=differs + f".*preset '{then}'"):
        utils.fit(small_cfg(data_dir, model="default"), data=small_data, checkpoint=ckpt, resume=True,
                  progress=False, log=lambda *_: None)


def test_checkpoint_for_another_network_or_dataset_says_what_differs(data_dir, small_data, tmp_path):
    ckpt = tmp_path / "c.pt"
    utils.save_checkpoint(ckpt, build_model("plain"), small_cfg(data_dir), small_data, {"epochs": []})
    state = utils.load_checkpoint(ckpt)
    with pytest.raises(ValueError, match=r"widths \[8, 12, 14, 8, 12, 16, 16\] in the checkpoint, \[6"):
        utils.check_compatible(state, build_model("tiny-full"))
    with pytest.raises(ValueError, match=r"padding \[0, 0, 0, 0, 0, 0\] in the checkpoint, \[1, 0, 0, 0, 0, 0\]"):
        utils.check_compatible(state, build_model("pad-first"))
    del state["arch"]["padding"]  # a checkpoint from before padding was a choice: no padding
    utils.check_compatible(state, build_model("plain"))
    assert state["arch"]["separable"] == [0, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match=r"separable \[0, 0, 0, 0, 0, 0\] in the checkpoint, \[0, 0, 0, 1, 1, 1\]"):
        utils.check_compatible(state, Net(PRESETS["plain"].widths, separable=(0, 0, 0, 1, 1, 1)))
    state["arch"]["separable"] = True  # a checkpoint from when one flag made blocks 2 to 6 separable
    utils.check_compatible(state | {"model": Net(PRESETS["plain"].widths, separable=(0, 1, 1, 1, 1, 1)).state_dict()},
                           Net(PRESETS["plain"].widths, separable=(0, 1, 1, 1, 1, 1)))
    state["arch"]["separable"] = [0, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="dataset 'mnist' in the checkpoint, 'fashion-mnist' here"):
        utils.check_compatible(state, build_model("plain"), "fashion-mnist")
    with pytest.raises(ValueError, match="widths"):
        utils.fit(small_cfg(data_dir, model="tiny"), data=small_data, checkpoint=ckpt, resume=True,
                  progress=False, log=lambda *_: None)
    utils.save_checkpoint(ckpt, build_model("default"), small_cfg(data_dir), small_data, {"epochs": []})
    with pytest.raises(ValueError, match=r"network is the preset 'default' \(also named 'late-sep'\): model='default'"):
        utils.check_compatible(utils.load_checkpoint(ckpt), build_model("plain"))
    # the same parameters computed another way: the names and shapes alone would let it load
    state = utils.load_checkpoint(ckpt)
    with pytest.raises(ValueError, match=r"activation 'relu' in the checkpoint, 'gelu' here.*preset 'default'"):
        utils.check_compatible(state, Net(PRESETS["default"].widths, separable=(0, 0, 0, 1, 1, 1), activation="gelu"))
    with pytest.raises(ValueError, match=r"bn_first 0 in the checkpoint, 1 here"):
        utils.check_compatible(state, build_model("bn-first"))
    del state["arch"]["activation"], state["arch"]["bn_first"]  # from before they were choices: ReLU, then BatchNorm
    utils.check_compatible(state, build_model("default"))
    utils.save_checkpoint(ckpt, build_model("leaky"), small_cfg(data_dir), small_data, {"epochs": []})
    with pytest.raises(ValueError, match=r"activation 'leaky-relu' in the checkpoint, 'relu' here.*preset 'leaky'"):
        utils.check_compatible(utils.load_checkpoint(ckpt), build_model("default"))
    # a 1x1 in groups (separable=k) is recorded, restored and told apart from a whole 1x1 of the same widths
    utils.save_checkpoint(ckpt, build_model("wide-grouped"), small_cfg(data_dir), small_data, {"epochs": []})
    state = utils.load_checkpoint(ckpt)
    assert utils.saved_arch(state) == PRESETS["wide-grouped"]
    utils.check_compatible(state, build_model("wide-grouped"))
    with pytest.raises(ValueError, match=r"separable \[0, 0, 0, 2, 3, 3\] in the checkpoint, \[0, 0, 0, 1, 1, 1\] here.*"
                                         r"preset 'wide-grouped'"):
        utils.check_compatible(state, Net(PRESETS["wide-grouped"].widths, separable=(0, 0, 0, 1, 1, 1)))


def test_predict_from_tensors_and_files(data_dir, small_data, tmp_path):
    ckpt = tmp_path / "c.pt"
    run(small_cfg(data_dir, epochs=2), small_data, checkpoint=ckpt)
    x = small_data.test_x[:20]
    cls, prob = utils.predict(ckpt, x)
    assert cls.shape == (20,) and ((prob > 0) & (prob <= 1)).all()
    assert (cls == small_data.test_y[:20]).float().mean() > 0.5
    assert torch.equal(utils.predict(ckpt, x.unsqueeze(1).float() / 255)[0], cls)
    from PIL import Image
    paths = []
    for i in range(3):
        Image.fromarray(x[i].numpy()).save(tmp_path / f"{i}.png")
        paths.append(tmp_path / f"{i}.png")
    assert torch.equal(utils.predict(ckpt, paths)[0], cls[:3])
    for bad, needle in [(torch.zeros(2, 32, 32), "shape"), (torch.zeros(2, 28, 28, dtype=torch.int32), "uint8"),
                        (torch.full((1, 28, 28), 3.0), r"\[0, 1\]"), ("img.png", "list of image paths")]:
        with pytest.raises((ValueError, TypeError), match=needle):
            utils.predict(ckpt, bad)
    Image.fromarray(torch.zeros(20, 20, dtype=torch.uint8).numpy()).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match="20x20, expected 28x28"):
        utils.predict(ckpt, [tmp_path / "small.png"])


def test_fit_trains_any_module(data_dir, small_data, tmp_path):
    torch.manual_seed(0)
    logreg = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    h = run(small_cfg(data_dir, epochs=2), small_data, model=logreg, checkpoint=tmp_path / "c.pt")
    assert h["params"] == 7850 and h["epochs"][-1]["test_acc"] > 50
    state = utils.load_checkpoint(tmp_path / "c.pt")
    utils.check_compatible(state, nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))
    with pytest.raises(ValueError, match="parameters differ"):
        utils.check_compatible(state, nn.Sequential(nn.Flatten(), nn.Linear(784, 5)))


def test_compiled_bf16_run_learns_and_saves_a_plain_model(data_dir, small_data, tmp_path):
    ckpt = tmp_path / "c.pt"
    h = run(small_cfg(data_dir, epochs=2, compile="on", precision="bf16"), small_data, checkpoint=ckpt)
    assert h["compiled"] is True and h["precision"] == "bf16"
    assert h["epochs"][-1]["test_acc"] > 60 and all(r["train_loss"] == r["train_loss"] for r in h["epochs"])
    state = utils.load_checkpoint(ckpt)
    assert not [k for k in state["model"] if k.startswith("_orig_mod")]
    model = build_model()
    model.load_state_dict(state["model"])  # a plain, uncompiled network takes the weights as they are
    out = utils.evaluate(model, small_data.test_x, small_data.test_y, small_data.mean, small_data.std,
                         precision="bf16")
    assert out["acc"] == pytest.approx(h["epochs"][-1]["test_acc"], abs=0.5)


def test_training_drops_only_a_short_last_batch():
    sizes = [len(i) for i in utils.batches(250, 100, torch.Generator().manual_seed(0), drop_last=True)]
    assert sizes == [100, 100]
    assert [len(i) for i in utils.batches(250, 100)] == [100, 100, 50]
    assert [len(i) for i in utils.batches(60, 100, drop_last=True)] == [60]  # the only batch stays
    seen = torch.cat(list(utils.batches(250, 100, torch.Generator().manual_seed(0))))
    assert sorted(seen.tolist()) == list(range(250))


def test_auto_precision_and_compile_follow_the_hardware(monkeypatch):
    cpu = torch.device("cpu")
    assert utils.pick_precision("fp32", cpu) == "fp32" and utils.pick_precision("bf16", cpu) == "bf16"
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    assert utils.pick_precision("auto", cpu) == "fp32"  # emulated bf16 would be slower
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert utils.pick_precision("auto", cpu) == "bf16"
    assert utils.pick_precision("auto", torch.device("mps")) == "fp32"
    assert utils.pick_precision("auto", torch.device("cuda")) == "fp32"  # bf16 held on fewer GPU seeds
    assert utils.pick_precision("bf16", torch.device("cuda")) == "bf16"
    assert utils.Config().precision == "auto"
    assert utils.pick_compile("auto", cpu) and not utils.pick_compile("auto", torch.device("mps"))
    assert not utils.pick_compile("off", cpu) and utils.pick_compile("on", torch.device("mps"))


def test_a_failing_compile_says_how_to_train_without_it(data_dir, small_data, monkeypatch):
    import torch._dynamo.exc as dynamo_exc

    class Broken(nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            raise dynamo_exc.BackendCompilerFailed(None, RuntimeError("no working C++ compiler"), None)

    monkeypatch.setattr(torch, "compile", lambda model, **kw: Broken(model))
    with pytest.raises(utils.CompileError, match="compile='off'.*--compile off"):
        run(small_cfg(data_dir, epochs=1, compile="on"), small_data)
