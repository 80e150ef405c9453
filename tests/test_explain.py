"""Integrated gradients and saliency on functions whose answers are known in closed form."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")
import tensorflow as tf  # noqa: E402

from course_utils.explain import completeness_gap, integrated_gradients, saliency_map  # noqa: E402

W = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)


def linear(batch):
    return tf.reduce_sum(tf.reshape(batch, (tf.shape(batch)[0], -1)) * W.reshape(1, -1), axis=1)


def squares(batch):
    return tf.reduce_sum(tf.reshape(batch, (tf.shape(batch)[0], -1)) ** 2, axis=1)


def test_linear_ig_is_input_times_weight():
    x = np.array([[2.0, 1.0], [-1.0, 4.0]], dtype=np.float32)
    ig = integrated_gradients(linear, x, steps=4)
    assert np.allclose(ig, x * W)
    b = np.ones_like(x)
    assert np.allclose(integrated_gradients(linear, x, baseline=b, steps=1), (x - b) * W)


def test_quadratic_ig_closed_form_and_completeness():
    # f = sum x^2: IG_j = (x_j - b_j)(x_j + b_j) = x_j^2 - b_j^2, exact for the trapezoid rule
    x = np.array([[3.0, -1.0], [0.5, 2.0]], dtype=np.float32)
    b = np.array([[1.0, 1.0], [0.0, -1.0]], dtype=np.float32)
    ig = integrated_gradients(squares, x, baseline=b, steps=8)
    assert np.allclose(ig, x ** 2 - b ** 2, atol=1e-5)
    gap = completeness_gap(squares, x, ig, baseline=b)
    assert gap["difference"] == pytest.approx(float((x ** 2 - b ** 2).sum()))
    assert gap["abs_error"] < 1e-4


def test_ig_on_nonlinear_function_converges_with_steps():
    def soft(batch):
        flat = tf.reshape(batch, (tf.shape(batch)[0], -1))
        return tf.reduce_sum(tf.sigmoid(3.0 * flat), axis=1)

    x = np.array([1.5, -0.7, 2.0], dtype=np.float32)
    coarse = completeness_gap(soft, x, integrated_gradients(soft, x, steps=2))["abs_error"]
    fine = completeness_gap(soft, x, integrated_gradients(soft, x, steps=128))["abs_error"]
    assert fine < coarse / 50
    assert fine < 1e-3


def test_saliency_is_absolute_gradient():
    x = np.zeros((3, 2, 2), dtype=np.float32)
    s = saliency_map(linear, x)
    assert s.shape == x.shape
    assert np.allclose(s, np.abs(W)[None])


def test_bad_steps_and_baseline():
    x = np.zeros((2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="steps"):
        integrated_gradients(linear, x, steps=0)
    with pytest.raises(ValueError, match="baseline"):
        integrated_gradients(linear, x, baseline=np.zeros(3))


def test_class_logit_fn_matches_softmax_inputs():
    keras = pytest.importorskip("keras")
    from course_utils.explain import class_logit_fn

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    l0 = np.asarray(class_logit_fn(model, 0)(x))
    l1 = np.asarray(class_logit_fn(model, 1)(x))
    probs = model.predict(x, verbose=0)
    # softmax of the two logits reproduces the model's probabilities
    assert np.allclose(1 / (1 + np.exp(l0 - l1)), probs[:, 1], atol=1e-5)
    with pytest.raises(ValueError, match="class_index"):
        class_logit_fn(model, 2)
