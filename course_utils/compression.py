"""TFLite conversion with post-training quantisation, and a small interpreter wrapper (chapter 06).

Four variants of a Keras model, as in the LiteRT post-training quantisation guide:

- ``"float32"``: plain conversion, weights stay 32-bit floats;
- ``"dynamic"``: dynamic-range quantisation, weights stored as 8-bit integers;
- ``"float16"``: weights stored as 16-bit floats;
- ``"int8"``: full-integer quantisation, weights *and* activations 8-bit; needs a
  representative set of inputs to calibrate activation ranges; inputs and outputs are ``uint8``
  (the :class:`TFLiteModel` wrapper quantises and de-quantises for you).

TensorFlow is imported inside the functions. The interpreter comes from ``ai_edge_litert``
(LiteRT, the maintained successor) when installed, otherwise from ``tf.lite`` (deprecated).

>>> QUANTIZATION_MODES
('float32', 'dynamic', 'float16', 'int8')
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
import warnings

import numpy as np

from .validation import check_int

QUANTIZATION_MODES = ("float32", "dynamic", "float16", "int8")


def interpreter_backend() -> str:
    """``"ai_edge_litert"`` when the LiteRT package is installed, else ``"tf.lite"``.

    Taught in: notebooks/06_deployment.ipynb
    """
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return "tf.lite"
    return "ai_edge_litert"


def _interpreter_class():
    if interpreter_backend() == "ai_edge_litert":
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter
    import tensorflow as tf

    return tf.lite.Interpreter


def convert_to_tflite(model, mode: str = "float32", representative_inputs=None, max_representative: int = 200) -> bytes:
    """Convert a Keras model to a TFLite flatbuffer (bytes) with the quantisation ``mode``.

    ``representative_inputs`` (required for ``"int8"``) is an array of typical model inputs,
    shaped like a batch for ``model``; at most ``max_representative`` of them are used, one at
    a time, to calibrate activation ranges. Use training data, never the test set.

    Taught in: notebooks/06_deployment.ipynb
    """
    if mode not in QUANTIZATION_MODES:
        raise ValueError(f"mode={mode!r} is not one of {QUANTIZATION_MODES}")
    if mode == "int8":
        if representative_inputs is None or len(representative_inputs) == 0:
            raise ValueError("mode='int8' needs representative_inputs: a few hundred typical training inputs")
        check_int("max_representative", max_representative, low=1)
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode == "int8":
        samples = np.asarray(representative_inputs, dtype=np.float32)[:max_representative]
        expected_rank = len(model.input_shape)
        if samples.ndim == expected_rank - 1:
            samples = samples[..., None]
        if samples.shape[1:] != tuple(model.input_shape[1:]):
            raise ValueError(f"representative_inputs have example shape {samples.shape[1:]}; "
                             f"the model expects {tuple(model.input_shape[1:])}")

        def representative_dataset():
            for sample in samples:
                yield [sample[None, ...]]

        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    # The converter exports a SavedModel first and prints about it; keep the notebook readable.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return converter.convert()
    finally:
        logger.setLevel(level)


class TFLiteModel:
    """A converted model you can call like a function: ``TFLiteModel(tflite_bytes)(batch)``.

    Takes a batch of any size (the interpreter is resized when the batch size changes), adds a
    trailing channel axis if the model wants one, quantises inputs for integer models and
    de-quantises their outputs, so every variant returns float scores. Calls are serialised with
    a lock: one interpreter must not run on two threads at once.

    Taught in: notebooks/06_deployment.ipynb
    """

    def __init__(self, model_content: bytes, num_threads: int | None = None):
        if not isinstance(model_content, (bytes, bytearray)) or len(model_content) == 0:
            raise ValueError("model_content must be the non-empty bytes returned by convert_to_tflite")
        if num_threads is not None:
            check_int("num_threads", num_threads, low=1, hint="or None for the runtime's default")
        self.size_bytes = len(model_content)
        self.backend = interpreter_backend()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
            self._interpreter = _interpreter_class()(model_content=bytes(model_content), num_threads=num_threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._batch_size = int(self._input["shape"][0])
        self._lock = threading.Lock()

    @property
    def input_dtype(self) -> np.dtype:
        return np.dtype(self._input["dtype"])

    @property
    def example_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self._input["shape"][1:])

    def _prepare(self, batch) -> np.ndarray:
        batch = np.asarray(batch)
        if batch.ndim == len(self.example_shape):  # (28, 28) for a model that wants (28, 28, 1)
            batch = batch[..., None]
        if batch.shape[1:] != self.example_shape:
            raise ValueError(f"batch has example shape {batch.shape[1:]}; the model expects {self.example_shape}")
        scale, zero_point = self._input["quantization"]
        if self.input_dtype.kind in "iu":
            if scale:
                batch = np.round(batch.astype(np.float32) / scale + zero_point)
            info = np.iinfo(self.input_dtype)
            batch = np.clip(batch, info.min, info.max)
        return batch.astype(self.input_dtype)

    def predict(self, batch) -> np.ndarray:
        """Scores for ``batch`` (shape ``(n, *example_shape)``, or without the channel axis)."""
        data = self._prepare(batch)
        with self._lock:
            if data.shape[0] != self._batch_size:
                self._interpreter.resize_tensor_input(self._input["index"], list(data.shape))
                self._interpreter.allocate_tensors()
                self._batch_size = data.shape[0]
            self._interpreter.set_tensor(self._input["index"], data)
            self._interpreter.invoke()
            out = self._interpreter.get_tensor(self._output["index"]).copy()
        scale, zero_point = self._output["quantization"]
        if out.dtype.kind in "iu" and scale:
            out = (out.astype(np.float32) - zero_point) * scale
        return out.astype(np.float32)

    __call__ = predict

    def __repr__(self) -> str:
        return (f"TFLiteModel({self.size_bytes:,} bytes, input {self.input_dtype.name}{list(self.example_shape)}, "
                f"backend={self.backend})")


def keras_model_size_bytes(model, include_optimizer: bool = False) -> int:
    """Size in bytes of ``model`` saved in the native ``.keras`` format.

    By default the optimizer state (Adam keeps two extra numbers per weight) is left out, so the
    size is what inference needs and compares fairly with a TFLite file.

    Taught in: notebooks/06_deployment.ipynb
    """
    import keras

    if not include_optimizer and getattr(model, "optimizer", None) is not None:
        bare = keras.models.clone_model(model)
        bare.set_weights(model.get_weights())
        model = bare
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        return os.path.getsize(path)
