"""The network: a compact, fully convolutional MNIST classifier, and its receptive-field table.

Importing this module builds nothing and touches no data.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import torch
from torch import nn


@dataclass(frozen=True)
class Arch:
    """A network's shape: the channel widths of its seven convolutions, in order
    (c1, c2, c3, squeeze, c4, c5, c6; the 1x1 head that maps c6 to the classes comes after them), the
    padding of its six 3x3 blocks (1 keeps a block's map size, 0 shrinks it by 2 pixels), which of the six
    are depthwise-separable (1, or k > 1 for a 1x1 in k groups; see conv_block), the blocks' activation (a key
    of ACTIVATIONS) and whether their BatchNorm comes before it (1) or after it (0, the default's order)."""
    widths: tuple[int, ...]
    padding: tuple[int, ...] = (0, 0, 0, 0, 0, 0)
    separable: tuple[int, ...] = (0, 0, 0, 0, 0, 0)
    activation: str = "relu"
    bn_first: int = 0


# The blocks' activations (issue 14's twenty-fifth round). The smooth ones (GELU, as airbench's blocks use;
# SiLU) made a compiled training step on a 2-core CPU 1.3 to 1.4 times slower than ReLU, over the speed
# limit (RESULTS.md); LeakyReLU (a slope of 0.1 for negative inputs) and Hardswish cost about what ReLU does.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "leaky-relu": lambda: nn.LeakyReLU(0.1), "gelu": nn.GELU, "silu": nn.SiLU, "hardswish": nn.Hardswish}


# 7,964 parameters: plain 3x3 blocks before the pool, a squeeze to 16 channels, then three
# depthwise-separable blocks of 32, 40 and 48 channels: the default since issue 14's fourteenth round
# (RESULTS.md), "late-sep" from its fifth round until then, and the shape of the presets that vary its block.
_LATE_SEP = Arch((8, 12, 14, 16, 32, 40, 48), separable=(0, 0, 0, 1, 1, 1))

PRESETS: dict[str, Arch] = {
    "default": _LATE_SEP,
    # 7,524 parameters, a squeeze to 8: the default in issue 14's twelfth and thirteenth rounds
    "late-sep-sq8": Arch((8, 12, 14, 8, 32, 40, 48), separable=(0, 0, 0, 1, 1, 1)),
    # 7,532 parameters, c4 plain: the default from issue 14's eighth round to its twelfth
    "late-sep2": Arch((8, 12, 14, 8, 16, 40, 48), separable=(0, 0, 0, 0, 1, 1)),
    "plain": Arch((8, 12, 14, 8, 12, 16, 16)),  # 7,772 parameters, plain 3x3 blocks: the default until round 8
    # 4,952 parameters, depthwise-separable blocks after the first, two to three times the channels for
    # the budget: held 4 of 5 seeds with rotations of at most 4 degrees (`--rotation 4`; issue 17's third
    # screen, RESULTS.md), 2 of 4 with the default's 7; until then it was "small-sep"
    "small": Arch((8, 16, 24, 16, 24, 32, 40), separable=(0, 1, 1, 1, 1, 1)),
    "small-full": Arch((6, 8, 10, 8, 10, 12, 14)),  # 4,858 parameters: plain's shape, narrower
    # 3,668 parameters, depthwise-separable blocks after the first (see conv_block): held 3 of 5 seeds
    # (issue 17's second screen, RESULTS.md); until then "tiny" was what is now "tiny-full"
    "tiny": Arch((8, 14, 18, 12, 22, 28, 30), separable=(0, 1, 1, 1, 1, 1)),
    "tiny-full": Arch((6, 8, 10, 6, 8, 10, 11)),  # 3,624 parameters, plain 3x3 convolutions
    # The same budgets with more of the channels after the pool, where the maps are small (issue 17's
    # screen, RESULTS.md): 4,908 and 3,668 parameters.
    "small-late": Arch((4, 6, 8, 8, 12, 13, 14)),
    "tiny-late": Arch((4, 6, 8, 8, 10, 10, 12)),
    # Larger maps for the same parameters (the every-seed screen, RESULTS.md): padding in the first
    # block (28x28 maps there, 6x6 before the pooling at the end), or in the first two after the pool.
    "pad-first": Arch((8, 12, 14, 8, 12, 16, 16), (1, 0, 0, 0, 0, 0)),  # both: plain's widths
    "pad-late": Arch((8, 12, 14, 8, 12, 16, 16), (0, 0, 0, 1, 1, 0)),
    # Parameters moved from the blocks at 24 and 22 pixels to the squeeze and the last block (7,724).
    "late-wide": Arch((8, 10, 12, 10, 12, 16, 18)),
    # The default's network under the name it had from issue 14's fifth round to its fourteenth, so that
    # the commands of those rounds still run it.
    "late-sep": _LATE_SEP,
    # late-sep with two channels fewer in c2 and c3, the costliest convolutions of a step (24x24 and
    # 22x22 maps), everything after the pool unchanged: 7,348 parameters (issue 14's ninth round).
    "late-sep-narrow": Arch((8, 10, 12, 16, 32, 40, 48), separable=(0, 0, 0, 1, 1, 1)),
    # late-sep with a separable c4 of 16 (6,892; 1.13x the first default's time; issue 14's eleventh
    # round): missed its first screen seed (thirteenth round, RESULTS.md).
    "late-sep-c16": Arch((8, 12, 14, 16, 16, 40, 48), separable=(0, 0, 0, 1, 1, 1)),
    # The default's network with each BatchNorm before its ReLU, and with LeakyReLU (issue 14's twenty-fifth
    # round): the same 7,964 parameters.
    "bn-first": replace(_LATE_SEP, bn_first=1),
    "leaky": replace(_LATE_SEP, activation="leaky-relu"),
    # The same network with Hardswish (MobileNetV3's cheap stand-in for SiLU), after and before its BatchNorm
    # (issue 14's twenty-sixth round): a compiled CPU step costs what ReLU's does, where SiLU's costs 1.3 times.
    "hardswish": replace(_LATE_SEP, activation="hardswish"),
    "bn-first-hardswish": replace(_LATE_SEP, activation="hardswish", bn_first=1),
    # The widths of late-x1.5 (below) after the pool, 48, 60 and 72, for 7,720 parameters: their 1x1s in 2, 3 and
    # 3 groups, each followed by a channel shuffle (see conv_block). Not screened: its step cost 1.48 to 1.90 times
    # the first default's (issue 14's rounds 47 and 48).
    "wide-grouped": replace(_LATE_SEP, widths=(8, 12, 14, 16, 48, 60, 72), separable=(0, 0, 0, 2, 3, 3)),
    # The default's widths times 1.5: 16,680 parameters, over the 8,000 limit on purpose. Not a candidate: it
    # measures whether the parameter budget is what holds the default's level down (issue 14's round 43).
    "default-x1.5": replace(_LATE_SEP, widths=(12, 18, 21, 24, 48, 60, 72)),
    # Only the three blocks after the pool times 1.5: 12,904 parameters, also a measurement (round 44).
    "late-x1.5": replace(_LATE_SEP, widths=(8, 12, 14, 16, 48, 60, 72)),
    # Round 44's finding under the limit: c2 and c3 two channels narrower (the costliest convolutions of a step,
    # 24x24 and 22x22 maps), their parameters moved after the pool, c5 and c6 four wider: 7,936. Screened in
    # round 52: -0.002 (standard error 0.011) against the default on 16 paired seeds, not qualified.
    "narrow-early": replace(_LATE_SEP, widths=(8, 10, 12, 16, 32, 44, 52)),
    # The default's network with padding in its first block after the pool (issue 14's round 59): the same 7,964
    # parameters see larger maps (c4 11x11, c5 9x9, c6 7x7 instead of 9, 7 and 5; the same receptive fields), more
    # compute for the same budget; a compiled step costs 1.09 times the default's. Screened: -0.019 (standard error
    # 0.020) on 14 paired seeds, not qualified (RESULTS.md).
    "pad-c4": replace(_LATE_SEP, padding=(0, 0, 0, 1, 0, 0)),
    # c2 and c3 separable too (issue 14's round 68): they held 2,376 of the default's parameters as plain 3x3s and
    # hold 444 so; the rest widens the blocks after the pool, where widths lifted the level (rounds 43 and 44):
    # 40, 48 and 58 instead of 32, 40 and 48, 7,960 parameters. A compiled float32 step of the same form (7,840) costs 1.2 times the default's.
    # Screened: -0.037 (standard error 0.015) on 12 paired seeds, stopped, not qualified (RESULTS.md).
    "early-sep": replace(_LATE_SEP, widths=(8, 12, 14, 16, 40, 48, 58), separable=(0, 1, 1, 1, 1, 1)),
    # The opposite trade (round 70): c2 and c3 wider (14 and 16, plain), c5 and c6 narrower (36 and 40): 7,904. A
    # compiled float32 step costs 1.18 times the default's. Screened: -0.033 (standard error 0.020) on 11 paired seeds,
    # stopped, not qualified (RESULTS.md).
    "wide-early": replace(_LATE_SEP, widths=(8, 14, 16, 16, 32, 36, 40)),
}


def conv_block(c_in: int, c_out: int, dropout: float, padding: int = 0, separable: int = 0,
               activation: str = "relu", bn_first: int = 0) -> nn.Sequential:
    """3x3 conv -> ReLU -> BatchNorm -> Dropout2d: the only building block of the network.

    No conv bias: the BatchNorm after the ReLU has its own shift, so a bias would only cost parameters.
    Dropout2d drops whole channels of an image: one random number per (image, channel) instead of one
    per pixel. Drawing those per-pixel numbers made an eager CPU training step 1.5x to 1.7x slower, and
    channel dropout held the accuracy target on at least as many seeds (README, "Speed" and "On a GPU").

    separable: the 3x3 conv is a 3x3 per input channel followed by a 1x1 across channels, with nothing
    between them (as in Xception): 9*c_in + c_in*c_out weights instead of 9*c_in*c_out, so the same
    budget buys two to three times the channels (issue 17). separable=k > 1 splits that 1x1 into k groups
    (c_in*c_out/k weights) and shuffles the channels after it, so that the next block's groups each see
    every group of this one (ShuffleNet's channel shuffle): after the pool, where most of the parameters are,
    the same budget buys wider blocks. It costs time instead: on a 2-core CPU such layouts made a compiled step
    1.5 to 1.9 times the first default's, over the speed limit (issue 14's rounds 47 and 48, RESULTS.md).

    activation: ReLU's replacement (ACTIVATIONS); bn_first: BatchNorm before the activation instead of after.
    """
    if separable:
        conv = [nn.Conv2d(c_in, c_in, 3, padding=padding, groups=c_in, bias=False),
                nn.Conv2d(c_in, c_out, 1, groups=separable, bias=False)]
        conv += [nn.ChannelShuffle(separable)] if separable > 1 else []
    else:
        conv = [nn.Conv2d(c_in, c_out, 3, padding=padding, bias=False)]
    act, bn = ACTIVATIONS[activation](), nn.BatchNorm2d(c_out)
    return nn.Sequential(*conv, *((bn, act) if bn_first else (act, bn)), nn.Dropout2d(dropout))


class Net(nn.Module):
    """Three 3x3 blocks, a squeeze-and-pool transition, three more 3x3 blocks, GAP, 1x1 head.

    Shapes and receptive field (RF) for a 28x28 input, default widths:
        c1   1 -> 8    26x26  RF 3
        c2   8 -> 12   24x24  RF 5
        c3  12 -> 14   22x22  RF 7
        1x1 14 -> 16   22x22  RF 7    squeeze: mixes c3's channels before the pool
        max-pool 2     11x11  RF 8    jump 2 from here on
        c4  16 -> 32    9x9   RF 12   separable: a 3x3 per channel, then a 1x1 (see conv_block)
        c5  32 -> 40    7x7   RF 16   separable
        c6  40 -> 48    5x5   RF 20   separable; a digit's strokes span most of the 20x20 box MNIST centres them in
        GAP             1x1
        1x1 48 -> 10    logits
    """

    def __init__(self, widths: tuple[int, ...] = PRESETS["default"].widths, dropout: float = 0.02,
                 in_channels: int = 1, num_classes: int = 10, padding: tuple[int, ...] = PRESETS["default"].padding,
                 separable: tuple[int, ...] = PRESETS["default"].separable,
                 activation: str = "relu", bn_first: int = 0):
        super().__init__()
        if len(widths) != 7 or any(int(w) < 1 for w in widths):
            raise ValueError(f"widths must be 7 positive channel counts, got {widths!r}")
        if len(padding) != 6 or any(int(p) not in (0, 1) for p in padding):
            raise ValueError(f"padding must be 6 values of 0 or 1 (one per 3x3 block), got {padding!r}")
        if len(separable) != 6 or any(int(v) < 0 for v in separable):
            raise ValueError(f"separable must be 6 values of 0, 1 or a group count (one per 3x3 block), got {separable!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if int(bn_first) not in (0, 1):
            raise ValueError(f"bn_first must be 0 or 1, got {bn_first!r}")
        c1, c2, c3, sq, c4, c5, c6 = (int(w) for w in widths)
        p1, p2, p3, p4, p5, p6 = (int(p) for p in padding)
        s1, s2, s3, s4, s5, s6 = (int(v) for v in separable)  # s1 pointless: one input channel
        for i, (k, c_in, c_out) in enumerate(zip((s1, s2, s3, s4, s5, s6), (in_channels, c1, c2, sq, c4, c5),
                                                 (c1, c2, c3, c4, c5, c6))):
            if k > 1 and (c_in % k or c_out % k):
                raise ValueError(f"block {i + 1}'s 1x1 in {k} groups needs its widths ({c_in} in, {c_out} out) "
                                 f"divisible by {k}: change separable or the widths")
        # what checkpoints record and compare (utils.save_checkpoint, check_compatible)
        self.arch = Arch((c1, c2, c3, sq, c4, c5, c6), (p1, p2, p3, p4, p5, p6), (s1, s2, s3, s4, s5, s6),
                         activation, int(bn_first))
        kind = dict(activation=self.arch.activation, bn_first=self.arch.bn_first)
        self.features = nn.Sequential(
            conv_block(in_channels, c1, dropout, p1, s1, **kind),
            conv_block(c1, c2, dropout, p2, s2, **kind),
            conv_block(c2, c3, dropout, p3, s3, **kind),
            nn.Conv2d(c3, sq, 1, bias=False),
            nn.MaxPool2d(2),
            conv_block(sq, c4, dropout, p4, s4, **kind),
            conv_block(c4, c5, dropout, p5, s5, **kind),
            conv_block(c5, c6, dropout, p6, s6, **kind),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Conv2d(c6, num_classes, 1, bias=False)

    @classmethod
    def from_arch(cls, arch: Arch, dropout: float = 0.02, in_channels: int = 1, num_classes: int = 10) -> Net:
        return cls(arch.widths, dropout, in_channels, num_classes, arch.padding, arch.separable, arch.activation,
                   arch.bn_first)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.features(x))  # (B, c6, 1, 1)
        return self.head(x).flatten(1)  # (B, num_classes) logits


def build_model(name: str = "default", dropout: float = 0.02, in_channels: int = 1,
                num_classes: int = 10) -> Net:
    """A `Net` with the shape of a named preset."""
    if name not in PRESETS:
        raise ValueError(f"model must be one of {sorted(PRESETS)}, got {name!r}")
    return Net.from_arch(PRESETS[name], dropout, in_channels, num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def receptive_field(model: nn.Module, input_size: int = 28) -> list[dict]:
    """Per spatial layer, in forward order: output size, receptive field and jump.

    Follows the textbook recurrence, for kernel k, stride s, padding p:
        out = (in + 2p - k) // s + 1;  rf = rf + (k - 1) * jump;  jump = jump * s.
    Global average pooling sees the whole map, so its RF is the RF of a pixel plus the map's span.
    Only modules that change the spatial grid are listed (1x1 convs too, with RF unchanged).
    """
    size, rf, jump, rows = input_size, 1, 1, []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d)):
            k, s, p = (_pair(getattr(m, a)) for a in ("kernel_size", "stride", "padding"))
            size = (size + 2 * p - k) // s + 1
            rf += (k - 1) * jump
            jump *= s
            kind = f"conv{k}x{k}" if isinstance(m, nn.Conv2d) else f"maxpool{k}"
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            rf += (size - 1) * jump
            size, kind = 1, "gap"
        else:
            continue
        rows.append({"layer": name, "kind": kind, "out": size, "rf": rf, "jump": jump})
    return rows


def _pair(v) -> int:
    # Square kernels only: the network uses nothing else.
    return v[0] if isinstance(v, tuple) else int(v)
