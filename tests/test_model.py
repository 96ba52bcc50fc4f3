import pytest
import torch
from torch import nn

from model import PRESETS, Net, build_model, count_parameters, receptive_field


def blocks(model):
    """The network's six conv_blocks, in order."""
    return [m for m in model.features if isinstance(m, nn.Sequential)]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_output_shape_and_finite(name):
    model = build_model(name).eval()
    out = model(torch.randn(4, 1, 28, 28))
    assert out.shape == (4, 10)
    assert torch.isfinite(out).all()


def test_parameter_budgets():
    assert count_parameters(build_model("default")) < 8000 and count_parameters(build_model("narrow-early")) < 8000
    assert count_parameters(build_model("small")) <= 5000 and count_parameters(build_model("small-full")) <= 5000
    assert count_parameters(build_model("tiny")) <= 3700 and count_parameters(build_model("tiny-full")) <= 3700


def test_early_sep_is_separable_from_c2_and_spends_the_budget_after_the_pool():
    # round 68: c2 and c3 become a 3x3 per channel and a 1x1; the parameters they free widen c4 to c6
    net, default = build_model("early-sep"), build_model("default")
    assert 7900 < count_parameters(net) < 8000
    depthwise = [b[0].groups == b[0].in_channels > 1 for b in blocks(net)]
    assert depthwise == [False, True, True, True, True, True]
    assert [b[-2].num_features for b in blocks(net)][3:] == [40, 48, 58]
    assert sum(p.numel() for b in blocks(net)[1:3] for p in b.parameters()) < 600 < \
        sum(p.numel() for b in blocks(default)[1:3] for p in b.parameters())


def test_wide_early_moves_parameters_before_the_pool_within_the_limit():
    wide, default = build_model("wide-early"), build_model("default")
    assert count_parameters(wide) < 8000 and wide.arch.separable == default.arch.separable
    assert wide.arch.widths[1:3] > default.arch.widths[1:3] and wide.arch.widths[5:] < default.arch.widths[5:]


def test_pad_c4_same_parameters_larger_maps():
    # padding changes no weight, only the maps after the pool: 11, 9, 7 instead of 9, 7, 5, receptive fields unchanged
    pad_net, default_net = build_model("pad-c4"), build_model("default")
    pad, default = receptive_field(pad_net), receptive_field(default_net)
    assert count_parameters(pad_net) == count_parameters(default_net)
    after_pool = [(r["out"], r["rf"]) for r in pad if r["kind"] == "conv3x3" and r["jump"] == 2]  # each block's 3x3
    assert after_pool == [(11, 12), (9, 16), (7, 20)]
    assert [r["rf"] for r in pad if r["layer"].startswith("features")] == \
        [r["rf"] for r in default if r["layer"].startswith("features")]


def test_separable_blocks_count_and_order():
    # by hand for widths (2, 4, 4, 2, 4, 4, 4): block 1 full (9*1*2 + BN 2*2); blocks 2-6 a 3x3 per
    # channel and a 1x1 (9*c_in + c_in*c_out + BN 2*c_out); squeeze 4*2; head 4*10
    by_hand = (18 + 4) + (18 + 8 + 8) + (36 + 16 + 8) + 8 + (18 + 8 + 8) + (36 + 16 + 8) + (36 + 16 + 8) + 40
    model = Net((2, 4, 4, 2, 4, 4, 4), separable=(0, 1, 1, 1, 1, 1))
    assert count_parameters(model) == by_hand
    first, second = model.features[0], model.features[1]
    assert [type(m) for m in first] == [nn.Conv2d, nn.ReLU, nn.BatchNorm2d, nn.Dropout2d]
    assert [type(m) for m in second] == [nn.Conv2d, nn.Conv2d, nn.ReLU, nn.BatchNorm2d, nn.Dropout2d]
    assert second[0].groups == 2 and second[0].kernel_size == (3, 3) and second[1].kernel_size == (1, 1)
    assert build_model("small").arch.separable == build_model("tiny").arch.separable == (0, 1, 1, 1, 1, 1)
    assert build_model("small-full").arch.separable == build_model("tiny-full").arch.separable == (0, 0, 0, 0, 0, 0)


def test_grouped_separable_blocks_count_shuffle_and_mix():
    # separable=2: the 1x1 in two groups (c_in*c_out/2 weights), then a channel shuffle. By hand for widths
    # (2, 4, 4, 4, 4, 4, 4), blocks 4 to 6 grouped: each 9*4 + 4*4/2 + BN 2*4 = 52; blocks 1-3 as above
    by_hand = (18 + 4) + (72 + 8) + (144 + 8) + 16 + 52 * 3 + 40
    model = Net((2, 4, 4, 4, 4, 4, 4), separable=(0, 0, 0, 2, 2, 2)).eval()
    assert count_parameters(model) == by_hand
    fourth = model.features[5]
    assert [type(m) for m in fourth] == [nn.Conv2d, nn.Conv2d, nn.ChannelShuffle, nn.ReLU, nn.BatchNorm2d, nn.Dropout2d]
    assert fourth[1].groups == 2 and fourth[1].kernel_size == (1, 1)
    # Without the shuffle, a channel entering block 4 would reach only its own group's half of block 5's outputs;
    # with it, every one of them.
    two = model.features[5:7]
    x = torch.randn(1, 4, 9, 9)
    for c in range(4):
        y = x.clone()
        y[:, c] += 1.0
        assert ((two(y) - two(x)).abs().sum((0, 2, 3)) > 0).all(), c
    with pytest.raises(ValueError, match="divisible by 3"):
        Net((8, 12, 14, 16, 32, 40, 48), separable=(0, 0, 0, 1, 3, 1))
    assert count_parameters(build_model("wide-grouped")) < 8000


def test_separable_only_after_the_pool():
    model = build_model("late-sep")
    assert [sum(isinstance(c, nn.Conv2d) for c in b) for b in blocks(model)] == [1, 1, 1, 2, 2, 2]
    assert count_parameters(model) < 8000
    with pytest.raises(ValueError, match="separable"):
        Net(PRESETS["default"].widths, separable=(0, 1, 1))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_parameter_gets_a_gradient(name):
    model = build_model(name)
    loss = nn.functional.cross_entropy(model(torch.randn(8, 1, 28, 28)), torch.arange(8))
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


def test_every_3x3_conv_is_followed_by_relu_bn_dropout_and_there_is_no_linear():
    model = build_model("default")
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    blocks = [m for m in model.modules()
              if isinstance(m, nn.Sequential) and len(m) and isinstance(m[0], nn.Conv2d)]
    convs3 = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(blocks) == len(convs3) == 6
    for b, separable in zip(blocks, model.arch.separable):
        assert [type(m) for m in b] == [nn.Conv2d] * (1 + separable) + [nn.ReLU, nn.BatchNorm2d, nn.Dropout2d]
    assert model.arch.separable == (0, 0, 0, 1, 1, 1)
    assert isinstance(model.pool, nn.AdaptiveAvgPool2d) and model.head.kernel_size == (1, 1)


def test_widths_and_dropout_are_arguments():
    model = Net((4, 4, 4, 4, 4, 4, 4), dropout=0.3)
    assert model.features[0][0].out_channels == 4
    assert all(m.p == 0.3 for m in model.modules() if isinstance(m, nn.Dropout2d))
    with pytest.raises(ValueError, match="widths"):
        Net((4, 4))
    with pytest.raises(ValueError, match="dropout"):
        Net(dropout=1.0)
    with pytest.raises(ValueError, match="model must be one of"):
        build_model("huge")


def test_every_preset_builds_the_network_it_names():
    # model.arch is what checkpoints record and compare, so it must be the preset's exact shape
    for name, arch in PRESETS.items():
        assert build_model(name).arch == arch == Net.from_arch(arch).arch, name


def test_activation_and_batchnorm_order_are_arguments():
    for model, want in ((Net(activation="gelu"), [nn.GELU, nn.BatchNorm2d]), (Net(bn_first=1), [nn.BatchNorm2d, nn.ReLU]),
                        (build_model("leaky"), [nn.LeakyReLU, nn.BatchNorm2d]), (build_model("bn-first"), [nn.BatchNorm2d, nn.ReLU]),
                        (build_model("hardswish"), [nn.Hardswish, nn.BatchNorm2d]),
                        (build_model("bn-first-hardswish"), [nn.BatchNorm2d, nn.Hardswish])):
        assert len(blocks(model)) == 6 and all([type(m) for m in b[-3:-1]] == want for b in blocks(model))
        assert count_parameters(model) == count_parameters(build_model("default"))
    relu = build_model("default")
    assert (relu.arch.activation, relu.arch.bn_first) == ("relu", 0)
    with pytest.raises(ValueError, match="activation must be one of"):
        Net(activation="tanh")
    with pytest.raises(ValueError, match="bn_first must be 0 or 1"):
        Net(bn_first=2)


def test_padding_is_an_argument_and_keeps_map_sizes():
    sizes = [r["out"] for r in receptive_field(Net(padding=(1, 0, 0, 1, 1, 0))) if r["kind"] == "conv3x3"]
    assert sizes == [28, 26, 24, 12, 12, 10]  # the pool halves 24 to 12
    assert count_parameters(Net(padding=(1, 1, 1, 1, 1, 1))) == count_parameters(Net())  # maps, not weights
    assert build_model("pad-first").arch.padding == (1, 0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="padding"):
        Net(padding=(2, 0, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="padding"):
        Net(padding=(1,))


def test_receptive_field_matches_hand_computation():
    # conv3 -> conv3 -> maxpool2 -> conv3 -> GAP on 28x28, by hand:
    # sizes 26, 24, 12, 10, 1; RF 3, 5, 6, 10 (jump 2 after the pool), GAP adds 9 * 2 -> 28.
    seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3),
                        nn.AdaptiveAvgPool2d(1))
    rows = receptive_field(seq)
    assert [(r["out"], r["rf"], r["jump"]) for r in rows] == [(26, 3, 1), (24, 5, 1), (12, 6, 2), (10, 10, 2), (1, 28, 2)]
    padded = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, stride=2)))
    assert [(r["out"], r["rf"], r["jump"]) for r in padded] == [(28, 3, 1), (13, 5, 2)]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_last_3x3_conv_sees_at_least_20_pixels(name):
    rows = receptive_field(build_model(name))
    last3 = [r for r in rows if r["kind"] == "conv3x3"][-1]
    assert last3["rf"] >= 20
    assert rows[-1]["out"] == 1
