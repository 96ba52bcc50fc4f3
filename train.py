"""Train from the command line: the notebook's pipeline without the notebook.

    python train.py --epochs 15 --seed 1 --data-dir data --out runs/NAME

writes into --out: history.json, curves.png, confusion.png and checkpoint.pt (the final weights, with
the optimizer, scheduler and RNG states that --resume continues from).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import plots
import utils
from data import DataError, load_data
from model import PRESETS, build_model

HELP = {
    "model": "network preset: default (7,964 parameters; also named late-sep), "
             "late-sep-sq8 (7,524; the default in issue 14's twelfth and thirteenth rounds), "
             "late-sep2 (7,532; the default from the eighth round to the twelfth), plain (7,772; the default until the eighth), "
             "small (4,952; held with --rotation 4) or tiny (3,668); the screens' layouts: "
             + ", ".join(n for n in PRESETS if n not in ("default", "late-sep", "late-sep-sq8", "late-sep2", "plain", "small", "tiny"))
             + " (model.PRESETS)",
    "dataset": "mnist or fashion-mnist",
    "epochs": "number of epochs",
    "batch_size": "training batch size",
    "lr": "Adam's initial learning rate",
    "weight_decay": "Adam weight decay",
    "adam_beta1": "Adam's beta1, the decay of its running mean of gradients, in [0, 1)",
    "adam_beta2": "Adam's beta2, the decay of its running mean of squared gradients, in [0, 1)",
    "dropout": "channel dropout (Dropout2d) after every 3x3 block, in [0, 1)",
    "rotation": "max random rotation in degrees (0: none)",
    "shift": "max random shift in pixels (0: none)",
    "scale": "max random resize as a fraction, in [0, 1): 0.1 draws each image's size from 0.9 to 1.1 (0: none)",
    "shear": "max random horizontal shear, a fraction: each row moves sideways by up to this times its distance from the centre (0: none)",
    "elastic": "elastic distortion: each image's pixels moved by a smooth random field of this root mean square, in pixels (0: none)",
    "no_aug_epochs": ("the last this many epochs train on un-augmented images (no rotation, shift, resize, distortion or shear; 0: none); "
                      "counted back from --epochs, so extending a resumed run moves them to its new end"),
    "val_size": "training images held out as the validation set the LR scheduler watches (0: train on all "
                "of them; the scheduler watches the clean training images instead)",
    "clean_size": "fixed training images evaluated un-augmented in eval mode: the scheduler's signal when "
                  "val_size is 0, and what BatchNorm is recalibrated on",
    "bn_recalibrate": "on: recompute BatchNorm statistics on the clean training images, dropout off, before "
                      "each evaluation",
    "label_smoothing": "label smoothing of the training loss, in [0, 1); the LR scheduler then watches the KL divergence to the smoothed targets",
    "ema": "per-step decay of an exponential moving average of the weights, which is evaluated and saved "
           "(0: off; needs --bn-recalibrate on)",
    "tta": "average each test prediction over fixed views of the image: off (the image alone) or rot5-3 (it and "
           "its rotations by +-5 degrees; utils.VIEWS); training is unchanged",
    "plateau_factor": "ReduceLROnPlateau: factor the LR is multiplied by on a plateau",
    "plateau_patience": "ReduceLROnPlateau: epochs without progress before the LR drops",
    "late_lr": "the most the LR may be in the last three epochs (the scheduler goes on from it); 0: no cap",
    "plateau_threshold": "ReduceLROnPlateau: relative improvement that counts as progress",
    "min_lr": "ReduceLROnPlateau: lowest LR",
    "seed": "random seed (split, initialisation, shuffling, augmentation, dropout)",
    "device": "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps",
    "data_dir": "data folder; the files are looked for in DATA_DIR/MNIST/raw (or FashionMNIST/raw)",
    "train_subset": "train on only this many images ('none': all)",
    "eval_batch_size": "batch size for evaluation",
    "precision": "auto (bf16 on a CPU that does it natively, else fp32), fp32 or bf16",
    "compile": "torch.compile the model: auto (on CPU and CUDA), on or off",
}


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not the usage block
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def optional_int(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'none', got {text!r}") from None


def add_config_args(p: argparse.ArgumentParser, skip=()) -> None:
    """One option per Config field, typed and defaulted from the dataclass."""
    for f in dataclasses.fields(utils.Config):
        if f.name not in skip:
            kind = optional_int if f.name == "train_subset" else type(f.default)
            p.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default, help=HELP[f.name])


def config_from_args(args, prog: str, **fixed) -> utils.Config:
    """A validated Config, or exit with a one-line message naming the bad field."""
    values = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(utils.Config)}
    try:
        cfg = utils.Config(**{**values, **fixed})
        utils.pick_device(cfg.device)
    except ValueError as e:
        sys.exit(f"{prog}: error: {e}")
    return cfg


def build_parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True, help="output folder for history.json, plots and checkpoint")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_args(p)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    cfg = config_from_args(args, "train.py")
    out = Path(args.out)
    ckpt = out / "checkpoint.pt"
    if ckpt.exists() and not args.resume:
        sys.exit(f"train.py: error: {out} already holds a run; pass --resume to continue it, or choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        data = load_data(cfg)
        history = utils.fit(cfg, data=data, checkpoint=ckpt, resume=args.resume, progress=not args.quiet)
    except (DataError, utils.CompileError, ValueError, OSError) as e:
        sys.exit(f"train.py: error: {e}")
    utils.save_json(history, out / "history.json")
    if not history["epochs"]:
        return 130
    state = utils.load_checkpoint(ckpt)
    import matplotlib
    matplotlib.use("Agg")
    model = build_model(cfg.model, cfg.dropout, num_classes=len(data.classes))
    model.load_state_dict(state["model"])
    test = utils.evaluate(model, data.test_x, data.test_y, data.mean, data.std, precision=history["precision"],
                          views=utils.VIEWS[cfg.tta])
    cm = plots.confusion_matrix(data.test_y, test["pred"], len(data.classes))
    utils.save_json({"classes": data.classes, "matrix": cm.tolist(),
                     "per_class_acc": plots.per_class_accuracy(cm)}, out / "confusion.json")
    plots.plot_history(history).savefig(out / "curves.png", dpi=100)
    plots.plot_confusion(cm, data.classes).savefig(out / "confusion.png", dpi=100)
    done = len(history["epochs"]) == cfg.epochs
    last = history["epochs"][-1]
    print(f"{'done' if done else 'stopped'}: {len(history['epochs'])} epochs, test acc {last['test_acc']:.2f}%, "
          f"{history['seconds']:.0f}s; wrote {out}/history.json, curves.png, confusion.png, checkpoint.pt")
    return 0 if done else 130


if __name__ == "__main__":
    sys.exit(main())
