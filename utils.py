"""Configuration, batched transforms, train and test loops, the whole run, checkpoints and prediction.

Importing this module does nothing: no download, no training, no global state.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import platform
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from data import DATASETS, Data, load_data
from model import PRESETS, Arch, Net, build_model, count_parameters


# ----------------------------------------------------------------------------------------------
# Configuration

# Fixed views of each image, (degrees, dx pixels, dy pixels) for view(), whose logits are averaged at prediction
# time (Config.tta). Each set starts with the image itself, so a run also reports the plain prediction of the same
# weights at no extra cost. rot5-3 was the best three-view set of issue 14's round 54, and lifted the final
# accuracy too little to become the default (+0.013, standard error 0.007); a run with it took 1.26 times the
# first default's (round 56), over the speed limit.
VIEWS = {"off": None, "rot5-3": [(0, 0, 0), (5, 0, 0), (-5, 0, 0)]}

# The claim: a run holds when each of its last CLAIM_EPOCHS epochs reaches TARGET, test accuracy in %.
CLAIM_EPOCHS = 3
TARGET = 99.4


@dataclass
class Config:
    """Every hyperparameter of a run, in one place. Invalid values raise ValueError naming the field."""
    model: str = "default"            # a preset of model.PRESETS
    dataset: str = "mnist"            # a key of DATASETS
    epochs: int = 15
    batch_size: int = 256             # 128 until issue 14's round 29
    lr: float = 0.01                  # Adam's initial learning rate
    weight_decay: float = 0.0
    adam_beta1: float = 0.9           # Adam's decay of its running mean of gradients (torch's default)
    adam_beta2: float = 0.99          # of its mean of squared gradients (torch's 0.999 until issue 14's round 28)
    dropout: float = 0.02             # channel dropout after every 3x3 block (0.05 until issue 14's round 36)
    rotation: float = 10.0            # max random rotation, degrees, drawn per training image (7 until round 36)
    shift: float = 1.0                # max random shift, pixels, drawn per training image and axis
    scale: float = 0.1                # max random resize, a fraction: sizes from 0.9 to 1.1 (0, off, until round 36)
    shear: float = 0.0                # max random horizontal shear, a fraction: a row y pixels from the centre moves up to shear*y
    elastic: float = 0.0              # smooth random distortion, RMS pixels per axis (see elastic_field); 0: off
    no_aug_epochs: int = 0            # the last this many epochs train on un-augmented images; 0: none
    val_size: int = 5000              # training images held out for ReduceLROnPlateau; 0: it watches clean_size
    clean_size: int = 5000            # fixed training images seen un-augmented in eval mode (see fit)
    bn_recalibrate: str = "on"        # on: recompute BatchNorm statistics on the clean images, dropout off
    label_smoothing: float = 0.0      # of the training loss; reported losses stay plain, the scheduler watches KL (fit)
    ema: float = 0.0                  # per-step decay of an average of the weights (0.999, say), reported and saved; 0: off
    tta: str = "off"                  # predictions averaged over the fixed views VIEWS[tta] of each image; off: one view
    plateau_factor: float = 0.5
    plateau_patience: int = 0
    plateau_threshold: float = 0.02   # relative improvement of the val loss that counts as progress
    min_lr: float = 1e-5
    late_lr: float = 0.0              # the last three epochs (the claim's window) train at this rate or lower; 0: off
    seed: int = 1
    device: str = "auto"              # auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps
    data_dir: str = "data"
    train_subset: int | None = None   # use only this many training images (None: all)
    eval_batch_size: int = 500
    precision: str = "auto"           # auto (bf16 on a CPU that does it natively, else fp32), fp32 or bf16
    compile: str = "auto"             # torch.compile the model: auto (on CPU and CUDA), on or off

    def __post_init__(self):
        def bad(name, why):
            raise ValueError(f"config field {name!r}: {why}, got {getattr(self, name)!r}")

        def is_int(v):
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        if self.model not in PRESETS:
            bad("model", f"must be one of {sorted(PRESETS)}")
        if self.dataset not in DATASETS:
            bad("dataset", f"must be one of {sorted(DATASETS)}")
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if not is_int(getattr(self, name)) or getattr(self, name) < 1:
                bad(name, "must be a positive integer")
        for name in ("val_size", "clean_size", "plateau_patience", "seed"):
            if not is_int(getattr(self, name)) or getattr(self, name) < 0:
                bad(name, "must be an integer >= 0")
        for name in ("lr", "min_lr", "plateau_threshold"):
            if not is_num(getattr(self, name)) or getattr(self, name) < 0 or (name == "lr" and self.lr == 0):
                bad(name, "must be a finite number > 0" if name == "lr" else "must be a finite number >= 0")
        for name in ("weight_decay", "rotation", "shift", "elastic", "late_lr", "shear"):
            if not is_num(getattr(self, name)) or getattr(self, name) < 0:
                bad(name, "must be a finite number >= 0")
        if not is_num(self.scale) or not 0 <= self.scale < 1:
            bad("scale", "must be in [0, 1) (0.1: sizes from 0.9 to 1.1)")
        if not is_int(self.no_aug_epochs) or not 0 <= self.no_aug_epochs <= self.epochs:
            bad("no_aug_epochs", f"must be an integer from 0 to epochs ({self.epochs})")
        if not is_num(self.dropout) or not 0 <= self.dropout < 1:
            bad("dropout", "must be in [0, 1)")
        for name in ("adam_beta1", "adam_beta2"):
            if not is_num(getattr(self, name)) or not 0 <= getattr(self, name) < 1:
                bad(name, "must be in [0, 1)")
        if not is_num(self.label_smoothing) or not 0 <= self.label_smoothing < 1:
            bad("label_smoothing", "must be in [0, 1)")
        if self.bn_recalibrate not in ("on", "off"):
            bad("bn_recalibrate", "must be on or off")
        if not is_num(self.ema) or not 0 <= self.ema < 1:
            bad("ema", "must be in [0, 1) (0: no averaged weights)")
        if self.tta not in VIEWS:
            bad("tta", f"must be one of {sorted(VIEWS)}")
        if self.ema and self.bn_recalibrate != "on":
            bad("ema", "needs bn_recalibrate='on': averaged weights need BatchNorm statistics of their own")
        if self.clean_size == 0 and (self.val_size == 0 or self.bn_recalibrate == "on"):
            bad("clean_size", "must be > 0 when val_size is 0 (the scheduler watches these images) "
                              "or bn_recalibrate is on")
        if not is_num(self.plateau_factor) or not 0 < self.plateau_factor < 1:
            bad("plateau_factor", "must be in (0, 1)")
        if self.train_subset is not None and (not is_int(self.train_subset) or self.train_subset < 1):
            bad("train_subset", "must be None or a positive integer")
        if not isinstance(self.device, str) or not (
                self.device in ("auto", "cpu", "cuda", "mps")
                or (self.device.startswith("cuda:") and self.device[5:].isdigit())):
            bad("device", "must be auto, cpu, cuda, cuda:N or mps")
        if not isinstance(self.data_dir, str) or not self.data_dir:
            bad("data_dir", "must be a non-empty path")
        if self.precision not in ("auto", "fp32", "bf16"):
            bad("precision", "must be auto, fp32 or bf16")
        if self.compile not in ("auto", "on", "off"):
            bad("compile", "must be auto, on or off")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown config field(s): {sorted(unknown)}")
        return cls(**d)


# Fields added after runs were saved, each with the value that computes what those runs computed: a saved
# config without the field ran with it (scale: round 19 of issue 14, its draws at 0 are the old ones;
# no_aug_epochs: round 23; Adam's betas: round 28, torch's defaults; elastic: round 31, drawn after
# everything else and only when on; late_lr: round 65, no cap; shear: round 71, drawn last and only when on).
ADDED_LATER = {"scale": 0.0, "no_aug_epochs": 0, "adam_beta1": 0.9, "adam_beta2": 0.999, "elastic": 0.0,
               "tta": "off", "late_lr": 0.0, "shear": 0.0}


def config_changes(saved: dict, cfg: Config) -> list[str]:
    """Fields in which `cfg` differs from a saved run's config; the epoch count may differ (to extend a run)."""
    saved = {**ADDED_LATER, **saved}
    return sorted(k for k, v in cfg.to_dict().items() if saved.get(k) != v and k != "epochs")


def cpu_name() -> str:
    """The CPU's model and the vector instructions torch uses on it ("AMD EPYC (AVX2)"): float rounding, and
    so the accuracy of a seed, differs between them, so every record says which it ran on."""
    name = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):  # Linux names the model here
        name = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name")), name)
    if platform.system() == "Darwin":  # macOS names it through sysctl ("Apple M2"); platform only says "arm"
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            brand = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                   timeout=5).stdout.strip()
            name = brand or name
    return f"{name} ({torch.backends.cpu.get_cpu_capability()})"


def pick_device(name: str = "auto") -> torch.device:
    """CUDA, then Apple MPS, then CPU; a named device wins, but only if this machine has it."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"config field 'device': {name!r} asked for, but this machine has no CUDA device; "
                         "use 'auto' or 'cpu'")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("config field 'device': 'mps' asked for, but MPS is not available here; use 'auto' or 'cpu'")
    return torch.device(name)


def pick_precision(name: str, device: torch.device) -> str:
    """'fp32' or 'bf16'. auto picks bf16 only on a CPU with native bf16 instructions (AVX512-BF16 or
    AMX), where it was measured faster and held the accuracy target on as many seeds as fp32 (README,
    "Ten seeds, the default on this CPU"); emulated bf16 would be slower than fp32. On CUDA auto stays
    fp32: there bf16 held on 3 of 8 seeds against fp32's 5 of 7 (README, "On a GPU"); ask for "bf16" to
    use it anyway."""
    if name != "auto":
        return name
    if device.type == "cpu":
        native = [getattr(torch.cpu, f, lambda: False) for f in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
        return "bf16" if any(f() for f in native) else "fp32"
    return "fp32"


def autocast(device: torch.device, precision: str):
    """The autocast context for `precision`: bf16 matmuls and convs, fp32 weights, BatchNorm and loss."""
    if precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def pick_compile(name: str, device: torch.device) -> bool:
    """torch.compile pays off on CPU (it fuses ReLU, BatchNorm and dropout around each conv) and CUDA;
    on MPS it is not mature enough to be the default."""
    return name == "on" or (name == "auto" and device.type in ("cpu", "cuda"))


def compile_model(model: nn.Module, on: bool) -> nn.Module:
    """`model` under torch.compile (sharing its parameters), or `model` itself when `on` is false.

    Static shapes: every training batch has one size (train_epoch drops the short last one), so one
    graph serves training and one each evaluation batch size.
    """
    if not on:
        return model
    # Compiling looks up the C++ toolchain; on a CUDA build of torch without a GPU that logs "No CUDA
    # runtime is found, using CUDA_HOME=..." once per process: true, harmless, and not ours to print.
    cpp = logging.getLogger("torch.utils.cpp_extension")
    if _no_cuda_note not in cpp.filters:
        cpp.addFilter(_no_cuda_note)
    return torch.compile(model, dynamic=False)


def _no_cuda_note(record: logging.LogRecord) -> bool:
    return "No CUDA runtime is found" not in record.getMessage()


class CompileError(RuntimeError):
    """torch.compile failed on this machine; the message says how to train without it."""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS




# ----------------------------------------------------------------------------------------------
# Transforms on whole batches

def normalize(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """uint8 (B, H, W) or float [0, 1] (B, 1, H, W) -> normalised float (B, 1, H, W)."""
    if x.dtype == torch.uint8:
        x = x.unsqueeze(1).float().div_(255)
    return (x - mean) / std


# The smoothing of the elastic distortion's field, in pixels: Simard et al.'s 4 for 28x28 digits.
ELASTIC_SIGMA = 4.0


def _blur_matrix(n: int, sigma: float) -> torch.Tensor:
    """(n, n) matrix B such that B @ v is v Gaussian-blurred (4 sigma each side, reflected at the ends,
    as torchvision's gaussian_blur): blurring an image's columns and rows is B @ img @ B.T, two small
    matrix products. For a batch of 256 fields on one CPU thread: about 5 ms with the noise drawn, where
    augment with gaussian_blur's 33x33 kernel took 79 ms (3 ms without a distortion), most of a training
    step (an epoch's 27 s over its 234 batches is 115 ms a batch, evaluation included)."""
    r = min(int(4 * sigma), n - 1)  # reflect padding must stay inside the image
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return F.conv1d(F.pad(torch.eye(n).unsqueeze(1), (r, r), mode="reflect"), (k / k.sum()).view(1, 1, -1))[:, 0].T


def elastic_field(b: int, h: int, w: int, rms: float, generator: torch.Generator) -> torch.Tensor:
    """Displacements (B, 2, H, W) in pixels, x then y, for Simard et al.'s elastic distortion (2003): uniform
    noise per pixel and axis, Gaussian-smoothed (ELASTIC_SIGMA pixels), scaled per image to the root mean
    square `rms` (over both axes and every pixel)."""
    noise = torch.rand(b, 2, h, w, generator=generator).mul_(2).sub_(1)
    field = _blur_matrix(h, ELASTIC_SIGMA) @ noise @ _blur_matrix(w, ELASTIC_SIGMA).T
    return field * (rms / field.square().mean((1, 2, 3), keepdim=True).sqrt())


def augment(x: torch.Tensor, rotation: float, shift: float, generator: torch.Generator,
            scale: float = 0.0, elastic: float = 0.0, shear: float = 0.0) -> torch.Tensor:
    """Random rotation (+-rotation degrees), shift (+-shift pixels), resize (a size from 1 - scale to
    1 + scale), elastic distortion and horizontal shear, each image its own, in one pass.

    x: float (B, 1, H, W) in [0, 1], so the zeros that grid_sample pads with are the black background.
    The random numbers come from `generator` (on the CPU) so runs repeat exactly. The sizes, then the
    distortions, then the shears are drawn after the rotations and shifts, and only when their option is
    on, so runs without them draw what they drew before the options existed.

    elastic: every pixel moved by a smooth random field (elastic_field), its own for each image, of root
    mean square `elastic` pixels per axis (a random shift of at most 1 pixel has 0.58).
    shear: a slant, as handwriting leans: each row moves sideways by up to shear times its distance from the
    centre (0.15: the top and bottom rows of a 20-pixel digit by up to 1.5 pixels, about 8.5 degrees of lean).
    """
    b, _, h, w = x.shape
    u = torch.rand(b, 3, generator=generator).mul_(2).sub_(1).to(x.device)  # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(rotation)
    cos, sin = angle.cos(), angle.sin()
    if scale:
        # theta maps output coordinates to input ones, so a digit drawn at size s samples 1/s as far.
        size = 1 + scale * torch.rand(b, generator=generator).mul_(2).sub_(1).to(x.device)
        cos, sin = cos / size, sin / size
    # affine_grid works in [-1, 1] coordinates: one pixel is 2 / size.
    tx, ty = u[:, 1] * (2 * shift / w), u[:, 2] * (2 * shift / h)
    offset = None
    if elastic:
        field = elastic_field(b, h, w, elastic, generator).to(x.device)
        # pixels to grid_sample's [-1, 1] coordinates, (B, H, W, 2) as the grid
        offset = (field * torch.tensor([2 / w, 2 / h], device=x.device).view(1, 2, 1, 1)).permute(0, 2, 3, 1)
    k = shear * torch.rand(b, generator=generator).mul_(2).sub_(1).to(x.device) if shear else 0
    # [[cos, -sin], [sin, cos]] times the shear [[1, k], [0, 1]] (square images: [-1, 1] is the same pixel
    # scale on both axes); k = 0 leaves the default's matrix as it was.
    theta = torch.stack([torch.stack([cos, cos * k - sin, tx], 1), torch.stack([sin, sin * k + cos, ty], 1)], 1)
    return warp(x, theta, offset)


def warp(x: torch.Tensor, theta: torch.Tensor, offset: torch.Tensor | None = None) -> torch.Tensor:
    """x (B, 1, H, W) resampled through the affine maps theta (B, 2, 3), from output to input coordinates in
    [-1, 1], moved further by offset (B, H, W, 2) in those coordinates when given; bilinear, with zeros outside
    (the black background of images in [0, 1]). augment and view both sample through it, so that a fixed view
    is drawn exactly as training draws its random ones."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    if offset is not None:
        grid = grid + offset
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def batches(n: int, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = False):
    """Index tensors covering range(n) in batches; shuffled by `generator` when given.

    drop_last leaves out a final short batch (unless it is the only one): a training batch of a new size
    would make torch.compile build and run another graph, and the images left out differ every epoch.
    """
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    end = n - n % batch_size if drop_last and n >= batch_size else n
    for i in range(0, end, batch_size):
        yield order[i:i + batch_size]


# ----------------------------------------------------------------------------------------------
# Loops

def train_epoch(model: nn.Module, data: Data, optimizer, cfg: Config, generator: torch.Generator,
                progress: bool = True, desc: str = "train", precision: str = "fp32", ema=None,
                augmented: bool = True) -> dict:
    """One pass over data.train_x with fresh augmentation (none when not `augmented`), the last short
    batch left out; returns {'loss', 'acc'} (acc in percent, over the images seen). `ema`, a
    torch.optim.swa_utils.AveragedModel, takes the weights after every step."""
    model.train()
    n = len(data.train_y)
    device = data.train_x.device
    total_loss, correct, seen = 0.0, 0, 0
    todo = list(batches(n, cfg.batch_size, generator, drop_last=True))
    bar = tqdm(total=sum(map(len, todo)), desc=desc, unit="img", disable=not progress, leave=False,
               dynamic_ncols=True)
    for idx in todo:
        idx = idx.to(device)
        x = data.train_x[idx].unsqueeze(1).float().div_(255)
        if augmented and (cfg.rotation or cfg.shift or cfg.scale or cfg.elastic or cfg.shear):
            x = augment(x, cfg.rotation, cfg.shift, generator, cfg.scale, cfg.elastic, cfg.shear)
        x, y = normalize(x, data.mean, data.std), data.train_y[idx]
        with autocast(device, precision):
            logits = model(x).float()
        loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if ema is not None:
            ema.update_parameters(model)
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        seen += len(y)
        bar.update(len(y))
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{100 * correct / seen:.2f}", refresh=False)
    bar.close()
    return {"loss": total_loss / seen, "acc": 100 * correct / seen}


def view(x: torch.Tensor, degrees: float, dx: float, dy: float) -> torch.Tensor:
    """x (B, 1, H, W) in [0, 1] rotated by `degrees` and moved by dx, dy pixels (bilinear, zeros outside):
    one fixed view of every image, for averaging predictions over views (predict_logits)."""
    if not (degrees or dx or dy):
        return x
    b, _, h, w = x.shape
    a = math.radians(degrees)
    theta = torch.tensor([[math.cos(a), -math.sin(a), -2 * dx / w], [math.sin(a), math.cos(a), -2 * dy / h]],
                         dtype=x.dtype, device=x.device).expand(b, 2, 3)
    return warp(x, theta)


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, mean: float, std: float, batch_size: int = 500,
                   precision: str = "fp32", views=None, per_view: bool = False):
    """Float32 logits (N, classes) for uint8 images (N, H, W), in eval mode, batch by batch. With `views`, a
    list of (degrees, dx, dy) for view(), the mean of the logits over those views of each image; with
    per_view, each view's logits instead, (len(views), N, classes)."""
    model.eval()
    device = next(model.parameters()).device

    def logits(xb):
        if not views:
            return model(normalize(xb, mean, std)).float()
        xb = xb.unsqueeze(1).float().div_(255)
        each = torch.stack([model(normalize(view(xb, *v), mean, std)).float() for v in views])
        return each if per_view else each.mean(0)

    with autocast(device, precision):
        return torch.cat([logits(x[i:i + batch_size].to(device)) for i in range(0, len(x), batch_size)],
                         dim=1 if views and per_view else 0)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, mean: float, std: float,
             batch_size: int = 500, precision: str = "fp32", label_smoothing: float = 0.0, views=None) -> dict:
    """{'loss', 'acc' (percent), 'correct', 'n', 'pred'} for uint8 images x and labels y; with
    label_smoothing > 0 also 'smoothed_kl': the KL divergence from the smoothed targets the training loss
    aims at to the predictions, which goes to 0 as the network reaches them (the plain loss levels off
    above 0 instead, since a network trained on smoothed targets is never sure). With `views` (a VIEWS set)
    the predictions are averaged over them, and 'first_view_acc' is the accuracy of the first view alone."""
    logits = predict_logits(model, x, mean, std, batch_size, precision, views, per_view=True)
    y = y.to(logits.device)
    first = {"first_view_acc": 100 * int((logits[0].argmax(1) == y).sum()) / len(y)} if views else {}
    logits = logits.mean(0) if views else logits
    pred = logits.argmax(1)
    correct = int((pred == y).sum())
    out = {"loss": F.cross_entropy(logits, y).item(), "acc": 100 * correct / len(y),
           "correct": correct, "n": len(y), "pred": pred, **first}
    if label_smoothing:
        k = logits.shape[1]
        target = F.one_hot(y, k).float() * (1 - label_smoothing) + label_smoothing / k  # as cross_entropy smooths
        out["smoothed_kl"] = F.kl_div(logits.log_softmax(1), target, reduction="batchmean").item()
    return out


@torch.no_grad()
def recalibrate_bn(model: nn.Module, x: torch.Tensor, mean: float, std: float, batch_size: int = 500,
                   precision: str = "fp32") -> None:
    """Recompute every BatchNorm's running mean and variance on uint8 images x, with dropout off.

    During training BatchNorm averages statistics of augmented (rotated, shifted, so resampled and
    slightly blurred) images with channels dropped; evaluation sees clean images and no dropout. Fed
    clean training images with dropout off, BatchNorm's statistics match what it meets at test time.
    torch.optim.swa_utils.update_bn does the work (an exact average over x); it puts the model in
    training mode, so dropout is switched off by its rate for the duration. Pass the plain model, not
    its compiled wrapper (the wrapper shares these modules, and would compile a graph for this pass).
    """
    from torch.optim.swa_utils import update_bn
    dropouts = [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
    rates = [m.p for m in dropouts]
    device = next(model.parameters()).device
    try:
        for m in dropouts:
            m.p = 0.0
        with autocast(device, precision):
            update_bn((normalize(x[i:i + batch_size].to(device), mean, std) for i in range(0, len(x), batch_size)),
                      model)
    finally:
        for m, p in zip(dropouts, rates):
            m.p = p
    model.eval()


# ----------------------------------------------------------------------------------------------
# Checkpoints

CHECKPOINT_FORMAT = "mnist-s7-checkpoint/1"


def _atomic_save(obj, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half of one
    except BaseException:
        os.unlink(tmp)
        raise


def save_checkpoint(path, model, cfg: Config, data: Data, history: dict, optimizer=None, scheduler=None,
                    generator: torch.Generator | None = None, ema=None) -> None:
    """Everything needed to predict, or to continue the run exactly where it stopped.

    With `ema` (an AveragedModel of `model`), "model" holds the averaged weights, the ones evaluated and
    the ones predict uses; "trained" holds the weights the optimizer trains, for resuming.
    """
    state = {
        "format": CHECKPOINT_FORMAT,
        "config": cfg.to_dict(),
        "arch": {**{k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(model_arch(model)).items()},
                 "classes": data.classes, "dataset": data.name},
        "normalization": {"mean": data.mean, "std": data.std},
        "model": (ema.module if ema is not None else model).state_dict(),
        "trained": model.state_dict() if ema is not None else None,
        "ema_steps": int(ema.n_averaged) if ema is not None else None,
        "history": history,
        "optimizer": optimizer.state_dict() if optimizer else None,
        "scheduler": scheduler.state_dict() if scheduler else None,
        "rng": {"torch": torch.get_rng_state(), "generator": generator.get_state() if generator else None,
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
    }
    _atomic_save(state, path)


def load_checkpoint(path) -> dict:
    """The one loader: weights_only, so a file that would run code on loading is refused."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()] or [type(e).__name__]
        code = next((ln for ln in lines if "unsupported global" in ln.lower()), None)
        if code:  # a real pickle that names a function or class to call on loading
            raise ValueError(f"{path} is not a checkpoint this project can load safely: {code} (it is refused "
                             "rather than unpickled, since arbitrary pickles can run code)") from None
        # anything else (random bytes, a cut-off download, another format): torch's advice to retry with
        # weights_only=False would be wrong here, so say what the file is not
        detail = next((ln for ln in lines if ln.startswith("Unsupported")), lines[0].split(". ")[0])
        raise ValueError(f"{path} is not a checkpoint: it is truncated, corrupt or in another format "
                         f"({detail}). Train again, or copy the file again from where it was made.") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    return state


def model_arch(model: nn.Module) -> Arch:
    """A Net's Arch; for any other module (fit trains any), an empty one, so that its checkpoints still compare."""
    return getattr(model, "arch", Arch((), (), ()))


def saved_arch(state: dict) -> Arch:
    """The checkpoint's network, as a model.Arch (so it compares equal to the preset it was built from)."""
    arch = state["arch"]
    n = len(arch["widths"]) - 1
    padding = arch.get("padding", [0] * n)  # checkpoints made before padding was a choice: none
    separable = arch.get("separable", [0] * n)
    if isinstance(separable, bool):  # made while separable was one flag for blocks 2 to 6
        separable = [0] + [int(separable)] * (n - 1)
    # checkpoints made before activation and bn_first were choices: ReLU, then BatchNorm
    return Arch(*(tuple(int(v) for v in values) for values in (arch["widths"], padding, separable)),
                arch.get("activation", "relu"), int(arch.get("bn_first", 0)))


def check_compatible(state: dict, model: nn.Module, dataset: str | None = None) -> None:
    """Raise ValueError saying what differs if the checkpoint was made for another network or dataset,
    and which preset, if any, has the checkpoint's network (presets have changed: see model.PRESETS)."""
    diffs = []
    if dataset is not None and state["arch"]["dataset"] != dataset:
        diffs.append(f"dataset {state['arch']['dataset']!r} in the checkpoint, {dataset!r} here")
    saved, mine = saved_arch(state), model_arch(model)
    for field in dataclasses.fields(Arch):  # activation and bn_first: the same parameters, another computation
        in_checkpoint, here = getattr(saved, field.name), getattr(mine, field.name)
        if in_checkpoint != here:
            show = list if isinstance(in_checkpoint, tuple) else repr
            diffs.append(f"{field.name} {show(in_checkpoint)} in the checkpoint, {show(here)} here")
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in state["model"].items()}
    if not diffs and own != theirs:
        names = sorted(set(own) ^ set(theirs)) + sorted(k for k in set(own) & set(theirs) if own[k] != theirs[k])
        diffs.append(f"parameters differ: {names[:5]}")
    if diffs:
        match = [name for name, a in PRESETS.items() if a == saved]
        also = f" (also named {', '.join(map(repr, match[1:]))})" if len(match) > 1 else ""  # default is late-sep
        hint = f" (the checkpoint's network is the preset {match[0]!r}{also}: model={match[0]!r})" if match else ""
        raise ValueError("checkpoint does not fit this model: " + "; ".join(diffs) + hint)


# ----------------------------------------------------------------------------------------------
# The whole run

def fit(cfg: Config, model: nn.Module | None = None, data: Data | None = None,
        checkpoint: str | Path | None = None, resume: bool = False, progress: bool = True,
        log=print, on_epoch=None) -> dict:
    """Train with Adam and ReduceLROnPlateau; return the history (the schema of history.json).

    The scheduler steps on the validation loss, never on the test set, which is only reported. With
    val_size=0 all training images are trained on, and the scheduler steps instead on the loss of the
    first clean_size of them (a seeded random subset) seen un-augmented in eval mode. With label_smoothing,
    that loss is the KL divergence to the smoothed targets (evaluate's 'smoothed_kl').

    With bn_recalibrate on, BatchNorm statistics are recomputed on those clean training images, dropout
    off, before every evaluation, so the checkpoint holds them too. With ema > 0, an exponential moving
    average of the weights (swa_utils.AveragedModel) follows every step, gets BatchNorm statistics of its
    own the same way, and is what the test accuracy reports and the checkpoint's "model" holds; the
    scheduler still watches the trained weights, so the training is step for step the run without ema
    (row["raw_test_acc"] reports the trained weights). With tta on, the test predictions (and the checkpoint's,
    in predict) are averaged over the views VIEWS[tta]; row["plain_test_acc"] reports the image alone, and the
    scheduler's signal stays one view, so training is step for step the run without tta.

    With `checkpoint`, a checkpoint is written after every epoch; with `resume`, the run continues from
    it. Ctrl-C stops after the last completed epoch, whose checkpoint is on disk, and returns the history
    so far. `on_epoch`, if given, is called with each epoch's row once that epoch is saved (bench.py's
    Ray trials report to Ray Tune through it).
    """
    device = pick_device(cfg.device)
    precision = pick_precision(cfg.precision, device)
    seed_everything(cfg.seed)
    data = (data or load_data(cfg, log=log)).to(device)
    if model is None:
        model = build_model(cfg.model, cfg.dropout, num_classes=len(data.classes))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.adam_beta1, cfg.adam_beta2),
                                 weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience,
        threshold=cfg.plateau_threshold, min_lr=cfg.min_lr)
    generator = torch.Generator().manual_seed(cfg.seed)  # shuffling and augmentation
    # The compiled wrapper shares the model's parameters; checkpoints save the plain model.
    run = compile_model(model, pick_compile(cfg.compile, device))
    ema = None
    if cfg.ema:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema))
    run_ema = compile_model(ema.module, run is not model) if ema is not None else None
    how = {"device": str(device), "precision": precision, "compiled": run is not model,
           "threads": torch.get_num_threads(), "cpu": cpu_name(), "torch": str(torch.__version__)}
    history = {"params": count_parameters(model), "config": cfg.to_dict(), "seconds": 0.0, **how, "epochs": []}
    if resume and checkpoint and Path(checkpoint).is_file():
        state = load_checkpoint(checkpoint)
        check_compatible(state, model, cfg.dataset)
        changed = config_changes(state["config"], cfg)
        if changed:  # more (or fewer) epochs is fine: the rest must match for the run to be the same run
            raise ValueError(f"{checkpoint} was made with other settings ({', '.join(changed)}); "
                             "resume with the same configuration")
        model.load_state_dict(state["trained"] if ema is not None else state["model"])
        if ema is not None:
            ema.module.load_state_dict(state["model"])
            ema.n_averaged.fill_(state["ema_steps"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"]["torch"])
        generator.set_state(state["rng"]["generator"])
        if state["rng"]["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        history = {**state["history"], "config": cfg.to_dict(), **how}
        # The record names the machine that finishes the run; one that ran its earlier epochs elsewhere (other
        # CPU, threads, precision or torch: other rounding) is listed, with the epoch it stopped after.
        before = {k: state["history"].get(k) for k in how}
        if before != how:
            history["earlier_machines"] = [*history.get("earlier_machines", []),
                                           {"until_epoch": len(history["epochs"]), **before}]
        log(f"resumed from {checkpoint} after epoch {len(history['epochs'])}")
    elif resume:
        log(f"no checkpoint at {checkpoint} yet: starting from epoch 1")
    saved = len(history["epochs"])  # epochs the checkpoint holds
    views = VIEWS[cfg.tta]  # for the test set only: the scheduler's signal stays one view
    try:
        for epoch in range(len(history["epochs"]) + 1, cfg.epochs + 1):
            start = time.perf_counter()
            # A seed that ReduceLROnPlateau has rarely halved still trains fast in the claim's window, where
            # one noisy epoch is a miss (issue 14's round 64); the cap only ever lowers the rate, and the
            # scheduler goes on halving from it. Set before the epoch, so a resumed run caps the same epochs.
            if cfg.late_lr and epoch > cfg.epochs - CLAIM_EPOCHS:
                for group in optimizer.param_groups:
                    if group["lr"] > cfg.late_lr:
                        group["lr"] = cfg.late_lr
            lr = optimizer.param_groups[0]["lr"]
            # The last no_aug_epochs epochs see the training images as the test images come: centred, upright.
            train = train_epoch(run, data, optimizer, cfg, generator, progress, f"epoch {epoch}/{cfg.epochs}",
                                precision, ema, augmented=epoch <= cfg.epochs - cfg.no_aug_epochs)
            clean_x, clean_y = data.train_x[:cfg.clean_size], data.train_y[:cfg.clean_size]
            if cfg.bn_recalibrate == "on":
                recalibrate_bn(model, clean_x, data.mean, data.std, cfg.eval_batch_size, precision)
            val = evaluate(run, data.val_x, data.val_y, data.mean, data.std, cfg.eval_batch_size, precision,
                           cfg.label_smoothing) if len(data.val_y) else None
            clean = None if val else evaluate(run, clean_x, clean_y, data.mean, data.std, cfg.eval_batch_size,
                                              precision, cfg.label_smoothing)
            test = evaluate(run, data.test_x, data.test_y, data.mean, data.std, cfg.eval_batch_size, precision,
                            views=views)
            raw_test = None
            if ema is not None:
                recalibrate_bn(ema.module, clean_x, data.mean, data.std, cfg.eval_batch_size, precision)
                raw_test = test
                test = evaluate(run_ema, data.test_x, data.test_y, data.mean, data.std, cfg.eval_batch_size,
                                precision, views=views)
            # With smoothed targets the plain loss levels off within a few epochs and the rate halves every
            # epoch after (issue 14's first screen, RESULTS.md); the distance to those targets does not.
            signal = val or clean
            scheduler.step(signal["smoothed_kl"] if cfg.label_smoothing else signal["loss"])
            row = {"epoch": epoch, "train_loss": train["loss"], "train_acc": train["acc"],
                   "val_loss": val["loss"] if val else None, "val_acc": val["acc"] if val else None,
                   "clean_loss": clean["loss"] if clean else None, "clean_acc": clean["acc"] if clean else None,
                   "test_loss": test["loss"], "test_acc": test["acc"],
                   "raw_test_acc": raw_test["acc"] if raw_test else None,
                   "plain_test_acc": test.get("first_view_acc"), "lr": lr,
                   "seconds": time.perf_counter() - start}
            history["epochs"].append(row)
            history["seconds"] = sum(r["seconds"] for r in history["epochs"])
            if checkpoint:  # before the epoch is reported, so that a reported epoch is never lost
                save_checkpoint(checkpoint, model, cfg, data, history, optimizer, scheduler, generator, ema)
                saved = len(history["epochs"])
            log(format_epoch(row))
            if on_epoch is not None:
                on_epoch(row)
    except Exception as e:
        if run is not model and type(e).__module__.startswith(("torch._dynamo", "torch._inductor")):
            raise CompileError(f"torch.compile failed on {device} ({type(e).__name__}: {str(e).splitlines()[0]}); "
                               "train without it: config compile='off' (train.py --compile off)") from e
        raise
    except KeyboardInterrupt:
        held = f"holds {'them' if saved == len(history['epochs']) else f'the first {saved}'}, continue with resume"
        log(f"interrupted: stopped after {len(history['epochs'])} complete epoch(s)"
            + (f"; {checkpoint} {held}" if checkpoint and saved else "; nothing was saved" if checkpoint else ""))
    return history


def format_epoch(row: dict) -> str:
    val = f"val loss {row['val_loss']:.4f} acc {row['val_acc']:.2f}% | " if row.get("val_loss") is not None else ""
    raw = f" (trained weights {row['raw_test_acc']:.2f}%)" if row.get("raw_test_acc") is not None else ""
    if row.get("plain_test_acc") is not None:
        raw += f" (one view {row['plain_test_acc']:.2f}%)"
    if row.get("clean_loss") is not None:
        val = f"clean train loss {row['clean_loss']:.4f} acc {row['clean_acc']:.2f}% | "
    return (f"epoch {row['epoch']:2d} | lr {row['lr']:.2e} | train loss {row['train_loss']:.4f} acc "
            f"{row['train_acc']:.2f}% | {val}test loss {row['test_loss']:.4f} acc {row['test_acc']:.2f}%{raw} | "
            f"{row['seconds']:.1f}s")


def save_json(obj, path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------------------
# Prediction

def predict(checkpoint, images, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Classes and their probabilities for images, preprocessed exactly as in training.

    images: a uint8 tensor (N, 28, 28) or (N, 1, 28, 28) of 0-255 pixels, a float tensor of the same
    shape in [0, 1], or a list of paths to 28x28 grayscale image files (white digit on black, as MNIST).
    The probabilities are averaged over the views the run was reported with (its config's tta).
    """
    state = load_checkpoint(checkpoint)
    tta = {**ADDED_LATER, **(state.get("config") or {})}["tta"]
    if tta not in VIEWS:
        raise ValueError(f"{checkpoint} was made with tta={tta!r}, which this version does not know "
                         f"({sorted(VIEWS)}); use the version of this project that made it")
    x = _as_image_batch(images)
    arch = saved_arch(state)  # not the preset's name: a preset may have changed since the checkpoint was made
    model = Net.from_arch(arch, 0.0, num_classes=len(state["arch"]["classes"]))
    check_compatible(state, model)
    model.load_state_dict(state["model"])
    model.to(device)
    norm = state["normalization"]
    probs = predict_logits(model, x.to(device), norm["mean"], norm["std"], views=VIEWS[tta]).softmax(1).cpu()
    conf, cls = probs.max(1)
    return cls, conf


def _as_image_batch(images) -> torch.Tensor:
    """-> uint8 (N, 28, 28), or a clear error about what was passed."""
    if isinstance(images, (list, tuple)) and all(isinstance(p, (str, Path)) for p in images):
        from PIL import Image
        arrays = []
        for p in images:
            with Image.open(p) as im:
                if im.size != (28, 28):
                    raise ValueError(f"{p}: image is {im.size[0]}x{im.size[1]}, expected 28x28")
                arrays.append(np.asarray(im.convert("L"), dtype=np.uint8))
        return torch.from_numpy(np.stack(arrays))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a tensor or a list of image paths, got {type(images).__name__}")
    x = images
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 3 or tuple(x.shape[1:]) != (28, 28):
        raise ValueError(f"images must have shape (N, 28, 28) or (N, 1, 28, 28), got {tuple(images.shape)}")
    if x.dtype == torch.uint8:
        return x
    if not x.is_floating_point():
        raise ValueError(f"images must be uint8 (0-255) or float (0-1), got {x.dtype}")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError("float images must lie in [0, 1]; pass uint8 for 0-255 pixels")
    return x.mul(255).round().to(torch.uint8)


