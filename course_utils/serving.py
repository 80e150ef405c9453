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

from __future__ import annotations

import http.client
import ipaddress
import json
import math
import socket
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections import Counter
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .validation import check_int, check_real

DEFAULT_HOST = "127.0.0.1"
PREDICT_PATH = "/predict"
#: A refused oversize body is read and dropped up to this many bytes (beyond it we just close).
_DISCARD_CAP_BYTES = 64 * 1024 * 1024

_LIVE_SERVERS: "weakref.WeakSet[PredictionServer]" = weakref.WeakSet()


# --------------------------------------------------------------------------- input contract
@dataclass(frozen=True)
class InputSpec:
    """What a valid request looks like.

    ``example_shape`` is the shape of one example (``(28, 28)`` for an MNIST digit); values must
    be finite numbers in ``[min_value, max_value]`` (and whole numbers if ``integers_only``); a
    request carries 1 to ``max_batch`` examples and at most ``max_body_bytes`` bytes of JSON.
    Validated batches reach the model as ``dtype`` arrays of shape ``(batch, *example_shape)``.

    Taught in: notebooks/06_deployment.ipynb

    >>> InputSpec(example_shape=(28, 28)).max_body_bytes
    2000000
    """

    example_shape: tuple[int, ...] = (28, 28)
    min_value: float = 0.0
    max_value: float = 255.0
    integers_only: bool = False
    max_batch: int = 256
    max_body_bytes: int = 2_000_000
    dtype: str = "float32"

    def __post_init__(self):
        shape = tuple(self.example_shape)
        if not shape:
            raise ValueError(f"example_shape={self.example_shape!r} must be a non-empty tuple of positive ints, e.g. (28, 28)")
        object.__setattr__(self, "example_shape", tuple(check_int("example_shape entry", d, low=1, hint="e.g. (28, 28)")
                                                        for d in shape))
        if not (math.isfinite(self.min_value) and math.isfinite(self.max_value)) or self.min_value > self.max_value:
            raise ValueError(f"min_value={self.min_value} and max_value={self.max_value} must be finite with min_value <= max_value")
        check_int("max_batch", self.max_batch, low=1)
        check_int("max_body_bytes", self.max_body_bytes, low=64)
        if np.dtype(self.dtype).kind not in "iuf":
            raise ValueError(f"dtype={self.dtype!r} must be a numeric NumPy dtype such as 'float32' or 'uint8'")

    def as_dict(self) -> dict:
        return asdict(self)


class RequestError(Exception):
    """A request the service refuses: an HTTP status (4xx), a short code and a readable message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def as_json(self) -> dict:
        return {"error": {"status": self.status, "code": self.code, "message": self.message}}


def _reject_constant(name: str):
    raise RequestError(400, "not_finite", f"the body contains {name}; only finite numbers are allowed")


def parse_json_body(body: bytes) -> Any:
    """Decode a request body as UTF-8 JSON, or raise :class:`RequestError` (400) saying where it breaks.

    ``NaN`` and ``Infinity`` (which Python's ``json`` would accept) are refused.

    Taught in: notebooks/06_deployment.ipynb

    >>> parse_json_body(b'{"instances": [1]}')
    {'instances': [1]}
    >>> parse_json_body(b'{"instances": [1 2]}')
    Traceback (most recent call last):
    ...
    course_utils.serving.RequestError: 400 malformed_json: body is not valid JSON: Expecting ',' delimiter at line 1, column 18
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RequestError(400, "malformed_json", f"body is not UTF-8 text (byte {err.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise RequestError(400, "malformed_json",
                           f"body is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except RecursionError:
        raise RequestError(400, "malformed_json", "body nests too deeply") from None


def validate_payload(payload: Any, spec: InputSpec) -> np.ndarray:
    """Check a decoded JSON payload against ``spec``; return the batch as an array for the model.

    Raises :class:`RequestError` (400, or 413 for too many examples) naming what is wrong.

    Taught in: notebooks/06_deployment.ipynb

    >>> spec = InputSpec(example_shape=(2,), max_value=1.0)
    >>> validate_payload({"instances": [[0, 0.5], [1, 1]]}, spec).shape
    (2, 2)
    >>> validate_payload({"instances": [[0, 2]]}, spec)
    Traceback (most recent call last):
    ...
    course_utils.serving.RequestError: 400 out_of_range: values must lie in [0.0, 1.0]; got 2 at index (0, 1)
    """
    expected = "(batch, " + ", ".join(str(d) for d in spec.example_shape) + ")"
    if not isinstance(payload, dict):
        raise RequestError(400, "wrong_structure",
                           f'body must be a JSON object like {{"instances": [...]}}, got a JSON {_json_type(payload)}')
    if "instances" not in payload:
        raise RequestError(400, "wrong_structure",
                           f"missing key 'instances'; got keys {sorted(payload)[:5]}")
    instances = payload["instances"]
    if not isinstance(instances, list):
        raise RequestError(400, "wrong_structure", f"'instances' must be a list of examples, got a JSON {_json_type(instances)}")
    if not instances:
        raise RequestError(400, "empty_batch", f"'instances' is empty; send 1 to {spec.max_batch} examples")
    if len(instances) > spec.max_batch:
        raise RequestError(413, "batch_too_large",
                           f"'instances' holds {len(instances)} examples; at most {spec.max_batch} per request")
    try:
        array = np.asarray(instances)
    except (ValueError, OverflowError):
        raise RequestError(400, "wrong_shape",
                           f"'instances' is ragged (examples or rows of different lengths); expected {expected}") from None
    if array.dtype.kind == "b":
        raise RequestError(400, "wrong_type", "'instances' holds true/false values; send numbers")
    if array.dtype.kind in "USO":
        what = "strings" if array.dtype.kind in "US" else "nulls, objects, mixed types or unequal lengths"
        raise RequestError(400, "wrong_type", f"'instances' must hold only numbers, found {what}; expected {expected}")
    if array.dtype.kind not in "iuf":
        raise RequestError(400, "wrong_type", f"'instances' must hold numbers, got NumPy kind {array.dtype.kind!r}")
    if array.shape[1:] != spec.example_shape:
        raise RequestError(400, "wrong_shape",
                           f"'instances' has shape {array.shape}; expected {expected} with 1 <= batch <= {spec.max_batch}")
    values = array.astype(np.float64, copy=False)
    if not np.isfinite(values).all():
        raise RequestError(400, "not_finite", "'instances' holds numbers too large to represent; send finite values")
    bad = (values < spec.min_value) | (values > spec.max_value)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise RequestError(400, "out_of_range",
                           f"values must lie in [{spec.min_value}, {spec.max_value}]; got {_plain(array[index])} at index {index}")
    if spec.integers_only and not np.array_equal(values, np.round(values)):
        index = tuple(int(i) for i in np.argwhere(values != np.round(values))[0])
        raise RequestError(400, "wrong_type", f"values must be whole numbers; got {_plain(array[index])} at index {index}")
    return values.astype(spec.dtype)


def _plain(value) -> str:
    value = value.item() if hasattr(value, "item") else value
    return repr(value)


def _json_type(value: Any) -> str:
    for kind, name in ((bool, "boolean"), (dict, "object"), (list, "array"), (str, "string"), ((int, float), "number")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__


# --------------------------------------------------------------------------- the server
class _Handler(BaseHTTPRequestHandler):
    server_version = "course-utils-serving/1"
    # HTTP/1.0: one request per connection, so stop() never waits on an idle keep-alive client.
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def setup(self):
        self.timeout = self.server.owner.request_timeout  # socket timeout: a stalled client cannot hold a thread
        super().setup()

    # ---- helpers
    def _send_json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode("utf-8")
        self.server.owner._count(status)  # before sending: a client that has its answer sees the count
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error(self, err: RequestError) -> None:
        self._send_json(err.status, err.as_json())

    def send_error(self, code, message=None, explain=None):
        """Errors raised by the HTTP parser itself (bad request line, unknown verb, huge headers):
        answer them in the same JSON form as ours, and never with a 5xx."""
        self.close_connection = True
        if code == 501:  # "unsupported method" is the client's mistake
            code, message = 405, f"{self.command} is not supported; use POST {PREDICT_PATH}"
        error_code = {400: "bad_request", 405: "method_not_allowed", 408: "timeout", 414: "uri_too_long",
                      431: "headers_too_large"}.get(code, "bad_request")
        try:
            self._send_json(code, {"error": {"status": code, "code": error_code,
                                             "message": message or "the HTTP request could not be parsed"}})
        except OSError:
            pass

    def _discard_unread_body(self) -> None:
        """Read and drop a refused body (up to a cap) so the client gets our 4xx, not a broken pipe.

        A client that sends its whole body before reading the answer (urllib, requests) would see
        a connection reset if we closed the socket with its data unread.
        """
        remaining = min(getattr(self, "_unread_bytes", 0), _DISCARD_CAP_BYTES)
        self._unread_bytes = 0
        try:
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:
            pass

    def _safely(self, handler: Callable[[], None]) -> None:
        try:
            self._unread_bytes = max(0, int(self.headers.get("Content-Length", "0")))
        except ValueError:
            self._unread_bytes = 0
        try:
            handler()
        except RequestError as err:
            self.close_connection = True
            self._send_error(err)
            self._discard_unread_body()
        except (socket.timeout, TimeoutError):
            self.close_connection = True
            try:
                self._send_error(RequestError(408, "timeout", "the request body did not arrive in time"))
            except OSError:
                pass
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as err:  # the model or our code failed: answer 500, keep serving
            self.close_connection = True
            try:
                self._send_json(500, {"error": {"status": 500, "code": "internal_error",
                                                "message": f"prediction failed ({type(err).__name__})"}})
            except OSError:
                pass

    # ---- verbs
    def do_GET(self):
        self._safely(self._get)

    def do_POST(self):
        self._safely(self._post)

    def do_PUT(self):
        self._safely(self._not_allowed)

    do_DELETE = do_PATCH = do_PUT

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def _not_allowed(self):
        raise RequestError(405, "method_not_allowed", f"{self.command} is not supported; use POST {PREDICT_PATH}")

    def _get(self):
        owner = self.server.owner
        path = self._path()
        if path == "/health":
            self._send_json(200, {"status": "ok", "model": owner.model_name})
        elif path == "/metadata":
            self._send_json(200, {"model": owner.model_name, "input": owner.spec.as_dict(),
                                  "request": {"method": "POST", "path": PREDICT_PATH,
                                              "body": {"instances": "list of examples"}}})
        elif path == PREDICT_PATH:
            raise RequestError(405, "method_not_allowed", f"use POST {PREDICT_PATH} with a JSON body")
        else:
            raise RequestError(404, "not_found", f"no such path {path!r}; try POST {PREDICT_PATH}, GET /health or GET /metadata")

    def _read_body(self) -> bytes:
        spec = self.server.owner.spec
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise RequestError(411, "length_required", "chunked bodies are not accepted; send a Content-Length header")
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            raise RequestError(411, "length_required", "send a Content-Length header with the JSON body")
        try:
            length = int(raw_length)
        except ValueError:
            raise RequestError(400, "bad_header", f"Content-Length {raw_length!r} is not a number") from None
        if length < 0:
            raise RequestError(400, "bad_header", f"Content-Length {length} is negative")
        if length > spec.max_body_bytes:
            # Refuse before reading: the body never enters memory.
            raise RequestError(413, "body_too_large",
                               f"body is {length:,} bytes; the limit is {spec.max_body_bytes:,} bytes")
        body = self.rfile.read(length)
        self._unread_bytes = 0
        if len(body) < length:
            raise RequestError(400, "incomplete_body", f"Content-Length says {length} bytes but only {len(body)} arrived")
        return body

    def _post(self):
        owner = self.server.owner
        path = self._path()
        if path != PREDICT_PATH:
            raise RequestError(404, "not_found", f"no such path {path!r}; POST to {PREDICT_PATH}")
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            raise RequestError(415, "unsupported_media_type",
                               f"Content-Type must be application/json, got {content_type or 'none'!r}")
        body = self._read_body()
        batch = validate_payload(parse_json_body(body), owner.spec)
        if owner.monitor is not None:
            owner.monitor(batch)
        if owner._predict_lock is not None:
            with owner._predict_lock:
                output = owner.predict_fn(batch)
        else:
            output = owner.predict_fn(batch)
        output = np.asarray(output)
        if output.ndim == 0 or output.shape[0] != batch.shape[0]:
            raise RuntimeError(f"predict_fn returned shape {output.shape} for a batch of {batch.shape[0]}")
        answer = {"model": owner.model_name, "batch_size": int(batch.shape[0]), "predictions": output.tolist()}
        if output.ndim == 2 and output.shape[1] > 1:
            answer["classes"] = output.argmax(axis=1).tolist()
        self._send_json(200, answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # handler threads never keep the interpreter alive
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, owner: "PredictionServer"):
        self.owner = owner
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address):  # an error outside our handler: count it, stay quiet
        self.owner._count("connection_error")


def _check_host(host: str, allow_remote: bool) -> str:
    if host == "localhost":
        return DEFAULT_HOST
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"host={host!r} must be an IP address such as '127.0.0.1'") from None
    if not address.is_loopback and not allow_remote:
        raise ValueError(f"host={host!r} is reachable from other machines; this teaching server has no authentication "
                         "or TLS. Use '127.0.0.1', or pass allow_remote=True if you really mean it")
    return host


class PredictionServer:
    """An HTTP prediction service running in a background thread of this process.

    Start and stop it explicitly (``server.start()`` ... ``server.stop()``) or use it as a
    context manager. ``port=0`` asks the operating system for a free port; ``server.url`` gives
    the address. The server binds ``127.0.0.1`` unless told otherwise.

    ``predict_fn`` receives a validated ``(batch, *spec.example_shape)`` array of ``spec.dtype``
    and returns one output row per example. Calls are serialised with a lock by default
    (``serialize=True``) because many model runtimes, the TFLite interpreter among them, are not
    safe to call from several threads at once. ``monitor``, if given, is called with every
    validated batch (for logging or drift checks) before prediction.

    Taught in: notebooks/06_deployment.ipynb

    >>> server = PredictionServer(lambda b: b.sum(axis=(1, 2)), spec=InputSpec((28, 28))).start()
    >>> server.host, server.running
    ('127.0.0.1', True)
    >>> server.stop(); server.running
    False
    """

    def __init__(self, predict_fn: Callable[[np.ndarray], Any], spec: InputSpec | None = None, *,
                 host: str = DEFAULT_HOST, port: int = 0, model_name: str = "model",
                 request_timeout: float = 10.0, serialize: bool = True,
                 monitor: Callable[[np.ndarray], None] | None = None, allow_remote: bool = False,
                 verbose: bool = False):
        if not callable(predict_fn):
            raise ValueError(f"predict_fn must be callable (batch -> outputs), got {type(predict_fn).__name__}")
        check_int("port", port, low=0, high=65535, hint="0 = pick a free port")
        if not (isinstance(request_timeout, (int, float)) and 0 < request_timeout <= 300):
            raise ValueError(f"request_timeout={request_timeout!r} must be a number of seconds in (0, 300]")
        if monitor is not None and not callable(monitor):
            raise ValueError(f"monitor must be callable or None, got {type(monitor).__name__}")
        self.predict_fn = predict_fn
        self.spec = spec if spec is not None else InputSpec()
        if not isinstance(self.spec, InputSpec):
            raise ValueError(f"spec must be an InputSpec, got {type(spec).__name__}")
        self.host = _check_host(host, allow_remote)
        self.requested_port = port
        self.model_name = str(model_name)
        self.request_timeout = float(request_timeout)
        self.monitor = monitor
        self.verbose = verbose
        self._predict_lock = threading.Lock() if serialize else None
        self._counts: Counter = Counter()
        self._counts_lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    # ---- lifecycle
    def start(self) -> "PredictionServer":
        """Bind the socket and serve in a daemon thread; returns ``self``. Starting twice is an error."""
        if self.running:
            raise RuntimeError(f"server already running at {self.url}; call stop() first")
        self._httpd = _Server((self.host, self.requested_port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"prediction-server-{self.port}", daemon=True)
        self._thread.start()
        _LIVE_SERVERS.add(self)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close the listening socket (the port is free again) and join the thread.

        Safe to call twice. Requests already being answered finish on their own threads.
        """
        httpd, thread = self._httpd, self._thread
        self._httpd, self._thread = None, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError(f"server thread on port {self.port} did not stop within {timeout} s")
        _LIVE_SERVERS.discard(self)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started; call start() first")
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "PredictionServer":
        return self if self.running else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.running else "stopped"
        return f"PredictionServer(model={self.model_name!r}, {state})"

    # ---- bookkeeping
    def _count(self, key) -> None:
        with self._counts_lock:
            self._counts[key] += 1

    @property
    def status_counts(self) -> dict:
        """How many answers of each HTTP status the server has sent, e.g. ``{200: 120, 400: 3}``."""
        with self._counts_lock:
            return dict(self._counts)


def serve(predict_fn: Callable[[np.ndarray], Any], spec: InputSpec | None = None, **kwargs) -> PredictionServer:
    """A started :class:`PredictionServer`; use it in a ``with`` block so it always stops.

    Taught in: notebooks/06_deployment.ipynb

    >>> with serve(lambda b: b[:, 0], spec=InputSpec((3,))) as server:
    ...     post_json(server.url + "/predict", {"instances": [[7, 8, 9]]})[1]["predictions"]
    [7.0]
    """
    return PredictionServer(predict_fn, spec, **kwargs).start()


def stop_all() -> int:
    """Stop every server this process started and has not stopped (e.g. after losing the handle).

    Returns how many were stopped.
    """
    servers = list(_LIVE_SERVERS)
    for server in servers:
        server.stop()
    return len(servers)


def port_is_free(port: int, host: str = DEFAULT_HOST) -> bool:
    """Whether a new socket can bind ``host:port`` right now (used to check a clean shutdown).

    Taught in: notebooks/06_deployment.ipynb
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------- a client
def post_bytes(url: str, body: bytes, content_type: str = "application/json", timeout: float = 10.0,
               headers: dict | None = None) -> tuple[int, dict]:
    """POST raw bytes; return ``(status, decoded JSON body)`` for any status, 2xx or not.

    Taught in: notebooks/06_deployment.ipynb
    """
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            raw = err.read()
        try:
            return err.code, json.loads(raw)
        except json.JSONDecodeError:
            return err.code, {"error": {"status": err.code, "message": raw.decode("utf-8", "replace")}}


def post_json(url: str, payload: Any, timeout: float = 10.0) -> tuple[int, dict]:
    """POST ``payload`` as JSON; return ``(status, decoded JSON body)``.

    NumPy arrays inside ``payload`` are sent as nested lists.

    Taught in: notebooks/06_deployment.ipynb
    """
    body = json.dumps(payload, default=_to_jsonable).encode("utf-8")
    return post_bytes(url, body, timeout=timeout)


def predict_over_http(url: str, instances, timeout: float = 10.0) -> np.ndarray:
    """Send ``instances`` to ``url`` (the server's base URL or its ``/predict``) and return the predictions.

    Raises ``RuntimeError`` with the server's message when the answer is not 200.

    Taught in: notebooks/06_deployment.ipynb
    """
    target = url if url.rstrip("/").endswith(PREDICT_PATH) else url.rstrip("/") + PREDICT_PATH
    status, body = post_json(target, {"instances": np.asarray(instances).tolist()}, timeout=timeout)
    if status != 200:
        raise RuntimeError(f"server answered {status}: {body.get('error', body)}")
    return np.asarray(body["predictions"])


def get_json(url: str, timeout: float = 10.0) -> tuple[int, dict]:
    """GET ``url``; return ``(status, decoded JSON body)``.

    Taught in: notebooks/06_deployment.ipynb
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def raw_http(host: str, port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None,
             timeout: float = 10.0) -> tuple[int, dict]:
    """Send a hand-made request (e.g. a lying ``Content-Length``); return ``(status, JSON body)``."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        if body:
            connection.send(body)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else {}
    finally:
        connection.close()


def _to_jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def time_requests(call: Callable[[], Any], n: int, warmup: int = 3) -> np.ndarray:
    """Run ``call()`` ``warmup`` times untimed, then ``n`` times; return the ``n`` durations in seconds.

    Taught in: notebooks/06_deployment.ipynb
    """
    check_int("n", n, low=1)
    check_int("warmup", warmup, low=0)
    for _ in range(warmup):
        call()
    durations = np.empty(n)
    for i in range(n):
        start = time.perf_counter()
        call()
        durations[i] = time.perf_counter() - start
    return durations


# --------------------------------------------------------------------------- measured throughput, for chapter 09

#: Chapter 06 writes its measured throughput here (beside chapter 03's saved model); chapter 09 reads it.
THROUGHPUT_NOTE_FILE = "serving_throughput.json"


def save_throughput_note(requests_per_s: float, *, usd_per_hour: float, price_source: str, smoke: bool,
                         clients: int, logical_cpus: int | None, path: str | Path = THROUGHPUT_NOTE_FILE) -> Path:
    """Write the measured single-image throughput and the instance price it was priced at.

    Chapter 09 reads it with :func:`read_throughput_note` to price its own model's requests on
    a measured figure instead of an assumed one.

    Taught in: notebooks/06_deployment.ipynb
    """
    check_real("requests_per_s", requests_per_s, low=0, include_boundaries="right", finite=True,
               hint="a measured throughput")
    if not math.isfinite(usd_per_hour) or usd_per_hour < 0:
        raise ValueError(f"usd_per_hour={usd_per_hour!r} must be a finite number >= 0")
    if not price_source or not str(price_source).strip():
        raise ValueError("price_source is empty: say where the hourly price comes from (a URL or document)")
    check_int("clients", clients, low=1)
    note = {"requests_per_s": float(requests_per_s), "usd_per_hour": float(usd_per_hour),
            "price_source": str(price_source), "smoke": bool(smoke), "clients": clients,
            "logical_cpus": logical_cpus, "measured_at": time.strftime("%Y-%m-%d %H:%M", time.localtime())}
    path = Path(path)
    path.write_text(json.dumps(note, indent=2), encoding="utf-8")
    return path


def read_throughput_note(path: str | Path = THROUGHPUT_NOTE_FILE) -> tuple[dict | None, str]:
    """``(note, description)`` from chapter 06's throughput note, or ``(None, why not)``.

    Never raises for a missing or damaged file: a worksheet falls back to its stated assumption
    and prints the reason.

    Taught in: notebooks/09_unit_economics.ipynb
    """
    path = Path(path)
    if not path.is_file():
        return None, f"no {path.name} in {path.parent.resolve()} (run chapter 06 in this folder to measure it)"
    try:
        note = json.loads(path.read_text(encoding="utf-8"))
        requests_per_s, usd_per_hour = float(note["requests_per_s"]), float(note["usd_per_hour"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, f"{path.name} could not be read ({type(error).__name__}: {error})"
    if not (math.isfinite(requests_per_s) and requests_per_s > 0 and math.isfinite(usd_per_hour) and usd_per_hour >= 0):
        return None, f"{path.name} holds an impossible measurement ({requests_per_s} requests/s, {usd_per_hour} USD/h)"
    cpus = note.get("logical_cpus")
    description = (f"measured by chapter 06 on {note.get('measured_at', 'an unknown date')}: {requests_per_s:,.0f} "
                   f"single-image requests/s from {note.get('clients')} clients on "
                   f"{cpus if cpus else 'an unknown number of'} logical CPUs "
                   f"({'smoke' if note.get('smoke') else 'full'} mode), priced at {usd_per_hour:g} USD/h "
                   f"({note.get('price_source', 'price source not recorded')})")
    return note, description
