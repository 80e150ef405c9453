"""The data layer: cache hits, checksum failures, truncated files, fake networks, fallbacks."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
import urllib.error

import numpy as np
import pytest

from course_utils import data


def _mnist_npz_bytes(n_train=30, n_test=10, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    np.savez(buffer,
             x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
             x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, n_test, dtype=np.uint8))
    return buffer.getvalue()


def _cifar_tar_bytes(per_batch=4) -> bytes:
    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            entry = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                     b"labels": list(rng.integers(0, 10, per_batch))}
            raw = pickle.dumps(entry)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FakeNetwork:
    """Stands in for urllib.request.urlopen: serves bytes, fails, or cuts off mid-file."""

    def __init__(self, payload: bytes | None = None, error: Exception | None = None, cut_at: int | None = None):
        self.payload, self.error, self.cut_at = payload, error, cut_at
        self.calls = []

    def __call__(self, url, timeout):
        self.calls.append((url, timeout))
        if self.error is not None:
            raise self.error
        body = self.payload if self.cut_at is None else self.payload[: self.cut_at]
        return FakeResponse(body)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def fake_mnist(monkeypatch):
    """Register a small fake MNIST file under the real name, with its own checksum."""
    payload = _mnist_npz_bytes()
    spec = data.REGISTRY["mnist"]
    fake = data.DatasetSpec(**{**spec.__dict__, "sha256": hashlib.sha256(payload).hexdigest(),
                               "size_bytes": len(payload), "urls": ("https://example.invalid/mnist.npz",)})
    monkeypatch.setitem(data.REGISTRY, "mnist", fake)
    return payload


def test_download_verifies_and_caches(cache, fake_mnist):
    network = FakeNetwork(fake_mnist)
    ds = data.load_mnist(opener=network)
    assert ds.source == "download"
    assert ds.x_train.shape == (30, 28, 28) and ds.x_train.dtype == np.uint8
    assert (cache / "mnist.npz").read_bytes() == fake_mnist
    assert network.calls[0][1] == data.DEFAULT_TIMEOUT_S


def test_cache_hit_needs_no_network(cache, fake_mnist):
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(fake_mnist)
    network = FakeNetwork(error=AssertionError("the network must not be used on a cache hit"))
    ds = data.load_mnist(opener=network)
    assert ds.source == "cache" and network.calls == []


def test_keras_cache_file_is_reused(cache, fake_mnist, tmp_path):
    keras_dir = tmp_path / "keras" / "datasets"
    keras_dir.mkdir(parents=True)
    (keras_dir / "mnist.npz").write_bytes(fake_mnist)
    ds = data.load_mnist(opener=FakeNetwork(error=OSError("offline")))
    assert ds.source == "cache" and "Keras" in ds.note


def test_corrupt_cache_is_replaced_by_download(cache, fake_mnist):
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"garbage" * 10)
    ds = data.load_mnist(opener=FakeNetwork(fake_mnist))
    assert ds.source == "download"
    assert (cache / "mnist.npz").read_bytes() == fake_mnist
    assert (cache / "mnist.npz.corrupt").read_bytes() == b"garbage" * 10  # kept aside, never used
    assert "replaced the corrupt cache file" in ds.note


def test_truncated_cache_offline_falls_back_and_says_why(cache, fake_mnist):
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(fake_mnist[: len(fake_mnist) // 2])
    ds = data.load_mnist(offline=True)
    assert ds.source == "bundled"
    assert "failed its checksum" in ds.note
    assert len(ds.x_train) == 4000 and len(ds.x_test) == 1000


def test_truncated_download_leaves_no_partial_file(cache, fake_mnist):
    network = FakeNetwork(fake_mnist, cut_at=100)
    ds = data.load_mnist(opener=network)
    assert ds.source == "bundled"
    assert "checksum mismatch" in ds.note
    assert list(cache.iterdir()) == []  # no half file, no .part leftovers


def test_download_failure_falls_back(cache, fake_mnist):
    network = FakeNetwork(error=urllib.error.URLError("Name or service not known"))
    ds = data.load_mnist(opener=network)
    assert ds.source == "bundled" and "Name or service not known" in ds.note
    assert "OFFLINE SUBSET" in ds.banner()


def test_offline_env_var_skips_download(cache, fake_mnist, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    network = FakeNetwork(fake_mnist)
    assert data.load_mnist(opener=network).source == "bundled"
    assert network.calls == []


def test_bundled_mnist_is_real_balanced_and_reproducible():
    x_train, y_train, x_test, y_test = data.bundled_mnist(seed=0)
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert np.bincount(y_train).tolist() == [400] * 10 and np.bincount(y_test).tolist() == [100] * 10
    again = data.bundled_mnist(seed=0)
    assert np.array_equal(x_train, again[0]) and np.array_equal(y_test, again[3])
    # train and test are disjoint: no image index appears in both
    train_rows = {row.tobytes() for row in x_train}
    assert not any(row.tobytes() in train_rows for row in x_test)


def test_subset_sizes(cache):
    ds = data.load_mnist(n_train=100, n_test=30, offline=True, seed=3)
    assert (len(ds.x_train), len(ds.y_train), len(ds.x_test), len(ds.y_test)) == (100, 100, 30, 30)
    assert "subset" in ds.note and not ds.is_full


@pytest.mark.parametrize("bad", [0, -5, 2.5, "10", True])
def test_bad_subset_sizes_are_rejected(bad, cache):
    with pytest.raises(ValueError, match="n_train"):
        data.load_mnist(n_train=bad, offline=True)


def test_cifar_download_is_parsed(cache, monkeypatch):
    payload = _cifar_tar_bytes()
    spec = data.REGISTRY["cifar10"]
    monkeypatch.setitem(data.REGISTRY, "cifar10", data.DatasetSpec(
        **{**spec.__dict__, "sha256": hashlib.sha256(payload).hexdigest(), "size_bytes": len(payload)}))
    ds = data.load_cifar10(opener=FakeNetwork(payload))
    assert ds.source == "download"
    assert ds.x_train.shape == (20, 32, 32, 3) and ds.x_test.shape == (4, 32, 32, 3)
    assert ds.class_names[0] == "airplane" and len(ds.class_names) == 10


def test_cifar_offline_is_synthetic_and_labelled(cache):
    ds = data.load_cifar10(n_train=200, n_test=50, offline=True)
    assert ds.source == "synthetic" and not ds.is_real
    assert ds.x_train.shape == (200, 32, 32, 3) and ds.x_train.dtype == np.uint8
    assert "SYNTHETIC STAND-IN" in ds.banner()


@pytest.mark.slow
def test_synthetic_cifar_is_seeded_and_learnable():
    a = data.synthetic_cifar10(600, 200, seed=5)
    b = data.synthetic_cifar10(600, 200, seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=False))
    assert not np.array_equal(a[0], data.synthetic_cifar10(600, 200, seed=6)[0])
    # a linear model on raw pixels beats chance clearly: the classes carry signal
    from sklearn.linear_model import LogisticRegression
    x_train, y_train, x_test, y_test = a
    clf = LogisticRegression(max_iter=300).fit(x_train.reshape(600, -1) / 255.0, y_train)
    assert clf.score(x_test.reshape(200, -1) / 255.0, y_test) > 0.3


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; known: cifar10, mnist"):
        data.get_spec("imagenet")


def test_verify_reports_corrupt_file(cache, fake_mnist, capsys):
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"x")
    from course_utils.tools.cli import main

    assert main(["data", "verify"]) == 1
    assert "CORRUPT" in capsys.readouterr().out


def test_fetch_cli_offline_explains_fallback(cache, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    from course_utils.tools.cli import main

    assert main(["data", "fetch", "mnist"]) == 1
    out = capsys.readouterr().out
    assert "NOT AVAILABLE" in out and "offline fallback" in out


def test_unwritable_cache_falls_back_with_a_clear_note(tmp_path, monkeypatch, fake_mnist):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSE_DATA_DIR", str(blocker / "cache"))  # cannot be created
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    ds = data.load_mnist(opener=FakeNetwork(fake_mnist))
    assert ds.source == "bundled"
    assert "cannot write to the data cache" in ds.note and "COURSE_DATA_DIR" in ds.note
