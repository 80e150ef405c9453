"""Gradient-based explanations (chapter 08): saliency maps and integrated gradients.

TensorFlow is imported inside the functions. A *score function* maps a batch of inputs
(a float32 tensor of shape (m, ...)) to one score per example, shape (m,); for a classifier it
is usually the pre-softmax logit of one class (:func:`class_logit_fn`), because softmax
probabilities saturate and their gradients vanish.

Integrated gradients (Sundararajan, Taly & Yan, ICML 2017) for input x and baseline x':

    IG_j(x) = (x_j - x'_j) * integral_0^1 d f(x' + a (x - x')) / d x_j  da

and satisfy *completeness*: sum_j IG_j(x) = f(x) - f(x'). With a Riemann (trapezoid) sum the
two sides differ by a discretisation error that shrinks as ``steps`` grows; :func:`completeness_gap`
measures it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .validation import check_int


def class_logit_fn(model, class_index: int) -> Callable:
    """Score function: the pre-softmax logit of ``class_index`` of a Keras classifier.

    The model's last layer must be a ``Dense`` layer (as in :func:`course_utils.models.build_mnist_cnn`,
    softmax or not): the logit is that layer's kernel and bias applied to its input, so the
    softmax is skipped. Any other last layer is refused with a ``ValueError``.

    Taught in: notebooks/08_trust_fairness_privacy.ipynb
    """
    import keras

    last = model.layers[-1]
    if not (hasattr(last, "kernel") and hasattr(last, "units")):
        raise ValueError(f"class_logit_fn needs a model whose last layer is Dense; {model.name}'s last layer is "
                         f"{type(last).__name__}. Pass your own score function (batch -> one score per example)")
    if not isinstance(class_index, (int, np.integer)) or not 0 <= class_index < last.units:
        raise ValueError(f"class_index must be an integer in 0..{last.units - 1}, got {class_index!r}")
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    features = keras.Model(inputs, last.input)

    def score(x):
        h = features(x, training=False)
        logits = keras.ops.matmul(h, last.kernel) + last.bias
        return logits[:, int(class_index)]

    return score


def gradients(score_fn: Callable, inputs) -> np.ndarray:
    """d score / d input for a batch ``inputs`` (shape (m, ...)), as a NumPy array of the same shape."""
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(inputs, dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = score_fn(x)
        total = tf.reduce_sum(scores)
    grad = tape.gradient(total, x)
    if grad is None:
        raise ValueError("score_fn does not depend on its input (gradient is None)")
    return grad.numpy()


def saliency_map(score_fn: Callable, inputs) -> np.ndarray:
    """Absolute gradient of the score with respect to each input value (Simonyan et al., 2014).

    ``inputs`` is a batch (m, ...); returns |d score / d x|, same shape.
    """
    return np.abs(gradients(score_fn, inputs))


def integrated_gradients(score_fn: Callable, x, baseline=None, steps: int = 64,
                         batch_size: int = 32) -> np.ndarray:
    """Integrated gradients of ``score_fn`` at one input ``x`` (no batch axis) from ``baseline``.

    ``baseline`` defaults to all zeros (a black image). The path integral is the trapezoid
    rule on ``steps`` intervals (``steps + 1`` gradient evaluations, in batches of ``batch_size``).
    Returns attributions with the shape of ``x``.

    Taught in: notebooks/08_trust_fairness_privacy.ipynb
    """
    steps = check_int("steps", steps, low=1, hint="64-128 is typical")
    x = np.asarray(x, dtype=np.float32)
    baseline = np.zeros_like(x) if baseline is None else np.asarray(baseline, dtype=np.float32)
    if baseline.shape != x.shape:
        raise ValueError(f"baseline must have the shape of x {x.shape}, got {baseline.shape}")
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    path = baseline[None] + alphas.reshape((-1,) + (1,) * x.ndim) * (x - baseline)[None]
    grads = np.concatenate([gradients(score_fn, path[i:i + batch_size])
                            for i in range(0, len(path), batch_size)])
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] = 0.5 / steps
    mean_grad = np.tensordot(weights, grads, axes=(0, 0))
    return (x - baseline) * mean_grad


def completeness_gap(score_fn: Callable, x, attributions, baseline=None) -> dict[str, float]:
    """How far sum(attributions) is from f(x) - f(baseline): absolute and relative error.

    >>> import numpy as np
    >>> f = lambda b: (b * 2.0).sum(axis=1)
    >>> completeness_gap(f, np.ones(3), np.full(3, 2.0))["abs_error"]
    0.0
    """
    x = np.asarray(x, dtype=np.float32)
    baseline = np.zeros_like(x) if baseline is None else np.asarray(baseline, dtype=np.float32)
    both = np.stack([x, baseline])
    fx, fb = (float(v) for v in np.asarray(score_fn(both)))
    total = float(np.sum(attributions))
    delta = fx - fb
    abs_error = abs(total - delta)
    return {"f_x": fx, "f_baseline": fb, "difference": delta, "sum_attributions": total,
            "abs_error": abs_error, "rel_error": abs_error / abs(delta) if delta != 0 else float("inf")}
