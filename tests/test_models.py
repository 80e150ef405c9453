"""Tests of course_utils.models: the package network is chapter 03's, and a saved model is
reused only when the mode and the split of digits match (so no test digit was trained on)."""

import json

import numpy as np
import pytest

from course_utils import models
from course_utils.data import Dataset

keras = pytest.importorskip("keras")


def tiny_digits(source="bundled", n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    return Dataset("mnist", x, y, x[:16], y[:16], source=source)


def test_network_is_chapter_03s_seed_cnn():
    model = models.build_mnist_cnn()
    assert model.count_params() == 93_322  # chapter 03 counts this by hand
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Rescaling", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D",
                     "Flatten", "Dense", "Dense"]
    with pytest.raises(ValueError, match="num_classes"):
        models.build_mnist_cnn(num_classes=1)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ch03")
    digits = tiny_digits()
    model, _ = models.train_mnist_cnn(digits, epochs=1, seed=1)
    path = models.save_mnist_cnn(model, digits, smoke=True, epochs=1, test_accuracy=0.5,
                                 path=folder / "mnist_cnn.keras")
    return path, model, digits


def test_saved_model_is_loaded_when_mode_and_split_match(saved):
    path, model, digits = saved
    note = json.loads(path.with_suffix(".json").read_text())
    assert note["smoke"] is True and note["data_family"] == "bundled" and note["parameters"] == 93_322
    loaded, origin = models.load_or_train_mnist_cnn(tiny_digits(seed=5), smoke=True, epochs=1, path=path)
    assert origin.loaded and "loaded chapter 03's model" in str(origin) and origin.run is None
    np.testing.assert_allclose(loaded.predict(digits.x_test[..., None], verbose=0),
                               model.predict(digits.x_test[..., None], verbose=0), atol=1e-6)


@pytest.mark.parametrize("smoke, source, reason", [
    (False, "bundled", "smoke mode"),
    (True, "cache", "real MNIST digits"),
])
def test_saved_model_is_not_reused_across_modes_or_splits(saved, smoke, source, reason):
    path, _, _ = saved
    model, origin = models.load_or_train_mnist_cnn(tiny_digits(source), smoke=smoke, epochs=1, path=path)
    assert not origin.loaded and origin.run is not None
    assert "retrained chapter 03's network" in str(origin) and reason in str(origin)
    assert model.count_params() == 93_322


@pytest.mark.slow
def test_missing_or_unnoted_file_retrains_and_says_why(tmp_path):
    _, origin = models.load_or_train_mnist_cnn(tiny_digits(), smoke=True, epochs=1, path=tmp_path / "mnist_cnn.keras")
    assert not origin.loaded and "run chapter 03 there first" in str(origin)
    (tmp_path / "mnist_cnn.keras").write_bytes(b"not a model")
    _, origin = models.load_or_train_mnist_cnn(tiny_digits(), smoke=True, epochs=1, path=tmp_path / "mnist_cnn.keras")
    assert not origin.loaded and "no mnist_cnn.json note" in str(origin)
    (tmp_path / "mnist_cnn.json").write_text(json.dumps({"smoke": True, "data_family": "bundled"}))
    _, origin = models.load_or_train_mnist_cnn(tiny_digits(), smoke=True, epochs=1, path=tmp_path / "mnist_cnn.keras")
    assert not origin.loaded and "could not be loaded" in str(origin)


def test_bad_arguments_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="epochs"):
        models.train_mnist_cnn(tiny_digits(), epochs=0)
    with pytest.raises(ValueError, match=".keras"):
        models.save_mnist_cnn(models.build_mnist_cnn(), tiny_digits(), smoke=True, epochs=1, test_accuracy=0.1,
                              path=tmp_path / "model.h5")
