"""Tests of course_utils.compression on a small Keras model (needs TensorFlow, a few seconds)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from course_utils import compression

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_and_data():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(256, 8, 8)).astype("uint8")
    y = (x[:, :4].mean(axis=(1, 2)) > x[:, 4:].mean(axis=(1, 2))).astype("int64")
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x[..., None], y, epochs=3, verbose=0)
    return model, x


@pytest.fixture(scope="module")
def converted(model_and_data):
    model, x = model_and_data
    return {mode: compression.convert_to_tflite(model, mode, representative_inputs=x[:100])
            for mode in compression.QUANTIZATION_MODES}


def test_float32_tflite_matches_keras(model_and_data, converted):
    model, x = model_and_data
    tfl = compression.TFLiteModel(converted["float32"])
    expected = model.predict_on_batch(x[:32, ..., None].astype("float32"))
    np.testing.assert_allclose(tfl(x[:32]), expected, atol=1e-5)


@pytest.mark.parametrize("mode, atol", [("dynamic", 0.05), ("float16", 0.01), ("int8", 0.08)])
def test_quantised_variants_stay_close(model_and_data, converted, mode, atol):
    model, x = model_and_data
    reference = model.predict_on_batch(x[:64, ..., None].astype("float32"))
    got = compression.TFLiteModel(converted[mode])(x[:64])
    assert got.dtype == np.float32 and got.shape == reference.shape
    assert np.abs(got - reference).max() < atol
    assert (got.argmax(1) == reference.argmax(1)).mean() > 0.9


def test_sizes_shrink_as_expected(model_and_data, converted):
    sizes = {mode: len(blob) for mode, blob in converted.items()}
    # 16.5k weights dominate: 8-bit weights shrink the file 3-4x (biases and overhead stay), 16-bit about 2x.
    assert 2.5 < sizes["float32"] / sizes["dynamic"] < 4.5, sizes
    assert 1.6 < sizes["float32"] / sizes["float16"] < 2.2, sizes
    assert 2.5 < sizes["float32"] / sizes["int8"] < 4.5, sizes
    model, _ = model_and_data
    keras_size = compression.keras_model_size_bytes(model)
    with_optimizer = compression.keras_model_size_bytes(model, include_optimizer=True)
    assert with_optimizer > keras_size > sizes["float32"] * 0.9


def test_int8_model_has_integer_io(converted):
    tfl = compression.TFLiteModel(converted["int8"])
    assert tfl.input_dtype == np.uint8
    assert tfl.example_shape == (8, 8, 1)
    assert "uint8" in repr(tfl)


def test_batch_size_changes_and_channel_axis(model_and_data, converted):
    _, x = model_and_data
    tfl = compression.TFLiteModel(converted["float32"])
    one = tfl(x[:1])
    many = tfl(x[:17, ..., None])
    again = tfl(x[:1])
    assert one.shape == (1, 2) and many.shape == (17, 2)
    np.testing.assert_allclose(one, many[:1], atol=1e-6)
    np.testing.assert_allclose(one, again, atol=0)


def test_thread_safe_calls(model_and_data, converted):
    _, x = model_and_data
    tfl = compression.TFLiteModel(converted["int8"])
    expected = [tfl(x[i:i + 1 + i % 4]) for i in range(40)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda i: tfl(x[i:i + 1 + i % 4]), range(40)))
    for a, b in zip(expected, got, strict=False):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments(model_and_data, converted):
    model, x = model_and_data
    with pytest.raises(ValueError, match="mode='int4'"):
        compression.convert_to_tflite(model, "int4")
    with pytest.raises(ValueError, match="representative_inputs"):
        compression.convert_to_tflite(model, "int8")
    with pytest.raises(ValueError, match=r"example shape \(9, 9, 1\)"):
        compression.convert_to_tflite(model, "int8", representative_inputs=np.zeros((4, 9, 9)))
    with pytest.raises(ValueError, match="model_content"):
        compression.TFLiteModel(b"")
    with pytest.raises(ValueError, match="num_threads=0"):
        compression.TFLiteModel(converted["float32"], num_threads=0)
    with pytest.raises(ValueError, match=r"example shape \(7, 7, 1\)"):
        compression.TFLiteModel(converted["float32"])(np.zeros((2, 7, 7)))


def test_backend_is_reported():
    assert compression.interpreter_backend() in {"ai_edge_litert", "tf.lite"}


def test_import_does_not_pull_in_tensorflow():
    code = "import sys, course_utils.compression; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
