"""``course bench``: argument checks in-process, one tiny end-to-end run in a subprocess."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from course_utils.tools import bench


def _parse(argv):
    import argparse

    parser = argparse.ArgumentParser()
    bench.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["bench", *argv])


def test_parser_defaults_and_options(tmp_path):
    args = _parse(["mnist"])
    assert (args.task, args.offline, args.test_file, args.epochs, args.seed, args.json) == ("mnist", False, None, None, 0, False)
    args = _parse(["cifar10", "--offline", "--epochs", "2", "--seed", "3", "--json", "--test-file", "t.npz"])
    assert (args.task, args.offline, args.epochs, args.seed, args.json, args.test_file) == ("cifar10", True, 2, 3, True, "t.npz")


@pytest.mark.parametrize("argv", [["svhn"], ["mnist", "--epochs", "0"], ["mnist", "--seed", "-1"], ["mnist", "--epochs", "x"]])
def test_parser_rejects_bad_values(argv):
    with pytest.raises(SystemExit):
        _parse(argv)


def _npz(tmp_path, **arrays):
    path = tmp_path / "test.npz"
    np.savez(path, **arrays)
    return path


def test_load_test_file_accepts_good_file(tmp_path):
    path = _npz(tmp_path, x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.arange(5))
    x, y = bench.load_test_file(path, "mnist")
    assert x.shape == (5, 28, 28) and y.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "arrays, task, message",
    [
        (dict(x_test=np.zeros((2, 28, 28), np.uint8)), "mnist", "lacks y_test"),
        (dict(x_test=np.zeros((2, 28, 28), np.float32), y_test=[0, 1]), "mnist", "uint8"),
        (dict(x_test=np.zeros((2, 28, 28), np.uint8), y_test=[0, 1]), "cifar10", "N x 32 x 32 x 3"),
        (dict(x_test=np.zeros((2, 28, 28), np.uint8), y_test=[0, 12]), "mnist", "0-9"),
        (dict(x_test=np.zeros((2, 28, 28), np.uint8), y_test=[0]), "mnist", "2 images but y_test has 1"),
        (dict(x_test=np.zeros((2, 28, 28), np.uint8), y_test=[0.5, 1.0]), "mnist", "integer labels"),
    ],
)
def test_load_test_file_rejects_bad_files(tmp_path, arrays, task, message):
    path = _npz(tmp_path, **arrays)
    with pytest.raises(ValueError, match=message):
        bench.load_test_file(path, task)


def test_load_test_file_missing_and_not_npz(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        bench.load_test_file(tmp_path / "nope.npz", "mnist")
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    with pytest.raises(ValueError, match="readable .npz"):
        bench.load_test_file(bad, "mnist")


def _run_cli(argv):
    env = {**os.environ, "COURSE_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "course_utils.tools.bench", *argv], capture_output=True, text=True,
                          env=env, timeout=900)


def test_bad_test_file_exits_2_before_training(tmp_path):
    path = _npz(tmp_path, x_test=np.zeros((2, 32, 32, 3), np.uint8), y_test=[0, 1])
    proc = _run_cli(["mnist", "--offline", "--test-file", str(path), "--json"])
    assert proc.returncode == 2
    assert "N x 28 x 28" in proc.stderr
    assert "training" not in proc.stdout


@pytest.mark.slow
def test_tiny_mnist_bench_with_test_file_reports_json(tmp_path):
    """One epoch on 128 bundled digits, evaluated on a file whose labels are all 7: the file, and
    only the file, is what gets evaluated."""
    from course_utils.data import bundled_mnist

    _, _, x_test, y_test = bundled_mnist()
    sevens = x_test[y_test == 7][:20]
    path = _npz(tmp_path, x_test=sevens, y_test=np.full(len(sevens), 7))
    proc = _run_cli(["mnist", "--offline", "--epochs", "1", "--n-train", "128", "--seed", "4",
                     "--test-file", str(path), "--json"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("test_accuracy", "train_seconds", "n_train", "n_test", "data_source", "device", "backend", "seed"):
        assert key in report, key
    assert report["n_train"] == 128 and report["n_test"] == len(sevens) and report["seed"] == 4
    assert report["data_source"] == "bundled" and report["test_source"] == "file test.npz"
    assert report["epochs"] == 1 and report["train_seconds"] > 0
    assert report["device"] in ("cpu", "gpu", "tpu") and report["backend"] == "tensorflow"
    assert report["dtype_policy"] == "float32" and report["jit_compile"] is False  # measured CPU settings
    assert round(report["test_accuracy"] * len(sevens)) == round(report["test_accuracy"] * len(sevens), 6)


@pytest.mark.slow
def test_offline_mnist_with_test_file_trains_on_all_5000_bundled_digits(tmp_path):
    import argparse

    path = _npz(tmp_path, x_test=np.zeros((3, 28, 28), np.uint8), y_test=[1, 2, 3])
    args = argparse.Namespace(task="mnist", offline=True, n_train=None, n_test=None, test_file=str(path))
    ds, x_train, y_train, x_test, y_test, source = bench._load_data(args)
    assert ds.source == "bundled" and len(x_train) == len(y_train) == 5000
    assert len(x_test) == 3 and y_test.tolist() == [1, 2, 3] and source == "file test.npz"
    args.test_file = None
    _, x_train, _, x_test, _, source = bench._load_data(args)
    assert (len(x_train), len(x_test), source) == (4000, 1000, "bundled held-out split")
