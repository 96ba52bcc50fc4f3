"""Reporting: tables and figures of a model, a run and a benchmark.

matplotlib and torchsummary are imported only when a table or plot is made.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def model_summary(model: nn.Module, input_size=(1, 28, 28)) -> None:
    """torchsummary's table, run on a CPU copy: torchsummary only knows 'cuda' and 'cpu'."""
    import copy
    from torchsummary import summary
    summary(copy.deepcopy(model).cpu(), input_size, device="cpu")


def format_rf_table(rows: list[dict]) -> str:
    lines = [f"{'layer':<14}{'kind':<10}{'out':>5}{'RF':>5}{'jump':>6}"]
    lines += [f"{r['layer']:<14}{r['kind']:<10}{r['out']:>5}{r['rf']:>5}{r['jump']:>6}" for r in rows]
    return "\n".join(lines)


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(true, predicted) counts."""
    idx = y_true.cpu() * num_classes + y_pred.cpu()
    return torch.bincount(idx, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def per_class_accuracy(cm: torch.Tensor) -> list[float]:
    return (100 * cm.diag().double() / cm.sum(1).clamp(min=1)).tolist()


def plot_history(history: dict):
    import matplotlib.pyplot as plt
    ep = [r["epoch"] for r in history["epochs"]]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
    for split in ("train", "val", "clean", "test"):
        if history["epochs"] and history["epochs"][0].get(f"{split}_loss") is not None:
            a1.plot(ep, [r[f"{split}_loss"] for r in history["epochs"]], marker=".", label=split)
            a2.plot(ep, [r[f"{split}_acc"] for r in history["epochs"]], marker=".", label=split)
    if history["epochs"] and history["epochs"][0].get("raw_test_acc") is not None:  # test is the average then
        a2.plot(ep, [r["raw_test_acc"] for r in history["epochs"]], marker=".", ls=":", label="test, trained weights")
    a1.set(title="loss", xlabel="epoch", yscale="log")
    a2.set(title="accuracy (%)", xlabel="epoch")
    if history.get("config", {}).get("dataset", "mnist") == "mnist":
        a2.axhline(99.4, color="grey", ls="--", lw=1, label="99.4%")
    late = [r[k] for r in history["epochs"][len(ep) // 3:] for k in ("train_acc", "val_acc", "test_acc", "raw_test_acc")
            if r.get(k) is not None] or [90, 100]
    a2.set_ylim(max(min(late) - 1, 0), min(max(late) + 0.5, 100))  # zoom on the part worth reading
    for a in (a1, a2):
        a.grid(alpha=0.3)
        a.legend()
    fig.tight_layout()
    return fig


def plot_misclassified(x: torch.Tensor, y: torch.Tensor, pred: torch.Tensor, classes, n: int = 32):
    """A grid of the first `n` test images the model gets wrong, with predicted and true labels."""
    import matplotlib.pyplot as plt
    wrong = (pred.cpu() != y.cpu()).nonzero().flatten()[:n]
    cols = 8
    rows = max(1, math.ceil(len(wrong) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong.tolist()):
        ax.imshow(x[i].cpu(), cmap="gray")
        ax.set_title(f"pred {classes[pred[i]]}\ntrue {classes[y[i]]}", fontsize=8)
    fig.suptitle(f"{int((pred.cpu() != y.cpu()).sum())} misclassified test images (first {len(wrong)} shown)")
    fig.tight_layout()
    return fig


def plot_confusion(cm: torch.Tensor, classes):
    import matplotlib.pyplot as plt
    k = len(classes)
    fig, ax = plt.subplots(figsize=(7, 6))
    # log scale, so the few errors off the diagonal are visible next to thousands of hits
    im = ax.imshow(cm.double().add(1).log10(), cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if i == j else "black")
    acc = per_class_accuracy(cm)
    ax.set_xticks(range(k), [str(c) for c in classes], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), [f"{c} ({a:.1f}%)" for c, a in zip(classes, acc)], fontsize=8)
    ax.set(xlabel="predicted", ylabel="true (per-class accuracy)", title="test confusion matrix")
    fig.colorbar(im, ax=ax, label="log10(count + 1)")
    fig.tight_layout()
    return fig


def plot_seeds(runs: dict, target: float = 99.4):
    """Test accuracy per epoch, one line per seed. runs: {label: history}."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, h in runs.items():
        ax.plot([r["epoch"] for r in h["epochs"]], [r["test_acc"] for r in h["epochs"]], marker=".", label=label)
    ax.axhline(target, color="red", ls="--", lw=1, label=f"{target}%")
    ax.set(xlabel="epoch", ylabel="test accuracy (%)", ylim=(98.8, 99.8), title="test accuracy per seed")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig
