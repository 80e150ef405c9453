"""A small local prediction service for chapter 06: JSON over HTTP, strict input checks.

The HTTP layer uses only the standard library (``http.server.ThreadingHTTPServer`` in a
background thread), so it starts inside a notebook or on Colab without extra packages, and it
never imports TensorFlow: the model is any ``predict_fn(batch: np.ndarray) -> np.ndarray``
(a Keras model's ``predict_on_batch``, a TFLite interpreter wrapper, or a NumPy function in
tests). ``docs/ARCHITECTURE.md`` (section *Serving*) explains the choice.

Protocol (in the style of TensorFlow Serving's REST API):

- ``POST /predict`` with ``Content-Type: application/json`` and a body
  ``{"instances": [example, example, ...]}``; each example is a nested list of numbers with the
  shape of :attr:`InputSpec.example_shape`. The answer is ``200`` with
  ``{"predictions": [...], "classes": [...], "batch_size": n, "model": name}`` (``classes`` only
  when the model returns one score row per example).
- ``GET /health`` -> ``{"status": "ok"}``; ``GET /metadata`` -> the input contract.
- Anything wrong with a request gets a 4xx answer whose JSON body says what is wrong:
  ``{"error": {"code": "wrong_shape", "message": "...", "status": 400}}``. A failure inside the
  model gets a 500 with the exception's type, never a traceback.

Example, with a NumPy "model" (the mean pixel of each image):

>>> import numpy as np
>>> spec = InputSpec(example_shape=(2, 2), min_value=0, max_value=255)
>>> with serve(lambda batch: batch.mean(axis=(1, 2)), spec=spec) as server:
...     status, body = post_json(server.url + "/predict", {"instances": [[[0, 255], [255, 0]]]})
>>> status, body["predictions"]
(200, [127.5])
>>> validate_payload({"instances": [[1, 2]]}, spec)
Traceback (most recent call last):
...
course_utils.serving.RequestError: 400 wrong_shape: 'instances' has shape (1, 2); expected (batch, 2, 2) with 1 <= batch <= 256
"""

from .client import get_json, post_bytes, post_json, predict_over_http, raw_http, time_requests
from .contract import PREDICT_PATH, InputSpec, RequestError, parse_json_body, validate_payload
from .server import DEFAULT_HOST, PredictionServer, port_is_free, serve, stop_all
from .throughput import THROUGHPUT_NOTE_FILE, read_throughput_note, save_throughput_note

# error messages and tracebacks name the class where learners import it from
RequestError.__module__ = __name__

__all__ = [
    "DEFAULT_HOST", "PREDICT_PATH", "THROUGHPUT_NOTE_FILE", "InputSpec", "PredictionServer", "RequestError",
    "get_json", "parse_json_body", "port_is_free", "post_bytes", "post_json", "predict_over_http", "raw_http",
    "read_throughput_note", "save_throughput_note", "serve", "stop_all", "time_requests", "validate_payload",
]
