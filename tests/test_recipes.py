"""Recipes: numpy helpers in-process; one tiny training epoch per installed Keras backend, each in
its own subprocess (the backend is fixed when Keras is first imported)."""

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from course_utils.tools import recipes

BACKENDS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def test_import_does_not_load_keras():
    code = "import sys, course_utils.tools.recipes, course_utils.tools.bench; print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_shift_image_moves_pixels_and_fills_zeros():
    img = np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)
    down = recipes.shift_image(img, 1, 0)
    assert down[0, 0].tolist() == [0, 0, 0]
    assert down[0, 1].tolist() == [1, 2, 3]
    left = recipes.shift_image(img, 0, -1)
    assert left[0, :, 2].tolist() == [0, 0, 0]
    assert left[0, :, 0].tolist() == [2, 5, 8]


def test_test_time_views_count():
    x = np.zeros((2, 4, 4), np.uint8)
    assert len(recipes.test_time_views(x)) == 1
    assert len(recipes.test_time_views(x, flip=True)) == 2
    assert len(recipes.test_time_views(x, flip=True, shift=1)) == 6


def test_whitening_filters_decorrelate_patches():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(200, 9, 9, 1))
    images = np.clip(128 + 40 * (base + np.roll(base, 1, axis=2)), 0, 255).astype(np.uint8)  # correlated pixels
    images = np.repeat(images, 3, axis=3)
    kernel = recipes.whitening_filters(images, eps=1e-6)
    assert kernel.shape == (2, 2, 3, 24)
    x = images.astype(np.float64) / 255
    patches = np.stack([x[:, i:8 + i, j:8 + j, :] for i in range(2) for j in range(2)], axis=3).reshape(-1, 12)
    out = (patches - patches.mean(0)) @ kernel.reshape(12, 24)[:, :12]
    cov = np.cov(out, rowvar=False)
    strong = np.diag(cov) > 0.5  # directions with real variance come out with unit variance, uncorrelated
    assert np.allclose(np.diag(cov)[strong], 1, atol=0.05)
    off = cov[np.ix_(strong, strong)] - np.diag(np.diag(cov)[strong])
    assert np.abs(off).max() < 0.05


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="max_shift"):
        recipes.shift_grid(-1)
    with pytest.raises(ValueError, match="task"):
        recipes.recipe_for("imagenet")
    with pytest.raises(ValueError, match="epochs"):
        recipes.recipe_for("mnist", epochs=0)
    with pytest.raises(ValueError, match="images must have shape"):
        recipes.whitening_filters(np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="x must have shape"):
        recipes.train_mnist(np.zeros((4, 32, 32, 3), np.uint8), np.zeros(4))


def test_recipe_for_overrides_epochs_only():
    r = recipes.recipe_for("mnist", epochs=3)
    assert r.epochs == 3 and replace(r, epochs=recipes.MNIST_RECIPE.epochs) == recipes.MNIST_RECIPE


TINY_RUN = r"""
import json, os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from dataclasses import replace
import numpy as np
from course_utils.tools import recipes
from course_utils.data import load_mnist, synthetic_cifar10
out = {}
ds = load_mnist(n_train=64, n_test=32, offline=True)
r = recipes.train_mnist(ds.x_train, ds.y_train, replace(recipes.MNIST_RECIPE, epochs=1, batch_size=32), seed=1)
p = r.predict_proba(ds.x_test)
out["mnist"] = dict(shape=list(p.shape), rowsum=float(np.abs(p.sum(1) - 1).max()), acc=r.accuracy(ds.x_test, ds.y_test),
                    backend=r.settings.backend, seconds=r.train_seconds)
x, y, xt, yt = synthetic_cifar10(64, 16, seed=0)
r = recipes.train_cifar10(x, y, replace(recipes.CIFAR10_RECIPE, epochs=1, batch_size=32, width=8), seed=1)
p = r.predict_proba(xt)
out["cifar10"] = dict(shape=list(p.shape), rowsum=float(np.abs(p.sum(1) - 1).max()), acc=r.accuracy(xt, yt),
                      backend=r.settings.backend, seconds=r.train_seconds)
# the augmentation layer: identity at inference, a whole-pixel shift of the same image in training
import keras
layer = recipes.RandomShift(max_shift=2, seed=0)
img = np.zeros((4, 8, 8, 1), "float32"); img[:, 3:5, 3:5] = 1
same = keras.ops.convert_to_numpy(layer(img, training=False))
moved = keras.ops.convert_to_numpy(layer(img, training=True))
out["shift"] = dict(identity=bool(np.array_equal(same, img)), mass=[float(m) for m in moved.sum(axis=(1, 2, 3))])
print("RESULT " + json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_one_tiny_epoch_under_each_backend(backend):
    if importlib.util.find_spec(BACKENDS[backend]) is None:
        pytest.skip(f"Keras backend {backend!r} is not installed here (pip install {BACKENDS[backend]} to test it)")
    env = {**os.environ, "KERAS_BACKEND": backend, "COURSE_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", TINY_RUN], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    out = json.loads(line[len("RESULT "):])
    for task, n_test in (("mnist", 32), ("cifar10", 16)):
        res = out[task]
        assert res["backend"] == backend
        assert res["shape"] == [n_test, 10]
        assert res["rowsum"] < 1e-4, "probabilities must sum to 1"
        assert 0.0 <= res["acc"] <= 1.0 and res["seconds"] > 0
    assert out["shift"]["identity"], "RandomShift must not change images at inference"
    assert all(m == 4.0 for m in out["shift"]["mass"]), "a 2x2 blob shifted by <=2 px inside 8x8 keeps all 4 pixels"


def test_step_matched_epochs_keeps_the_tuned_step_count():
    from course_utils.tools import recipes

    assert recipes.step_matched_epochs("mnist", 14, 5000) == 11  # 14 x 4000 / 5000 = 11.2
    assert recipes.step_matched_epochs("mnist", 14, 4000) == 14
    assert recipes.step_matched_epochs("mnist", 14, 1200) == 14  # never adds compute
    assert recipes.step_matched_epochs("cifar10", 10, 50000) == 10  # no tuned size recorded
