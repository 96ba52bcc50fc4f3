import dataclasses
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import utils  # noqa: E402


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """A data folder holding MNIST in torchvision's layout (S7_DATA_DIR, default ./data).

    .ci/run lays it out from ../shared/mnist; the README says how to do it by hand.
    """
    d = Path(os.environ.get("S7_DATA_DIR", ROOT / "data"))
    problems = utils.check_files(d / "MNIST" / "raw", utils.DATASETS["mnist"].sha256)
    if problems:
        pytest.fail(f"MNIST is not laid out in {d}/MNIST/raw ({problems}); run .ci/run or follow the README")
    return d


@pytest.fixture(scope="session")
def small_data(data_dir):
    """1,000 training, 500 validation, 2,000 test images: enough for loops to learn something in seconds."""
    d = utils.load_data(utils.Config(data_dir=str(data_dir), train_subset=1000, val_size=500))
    return dataclasses.replace(d, test_x=d.test_x[:2000], test_y=d.test_y[:2000])
