"""The HTTP server: ``ThreadingHTTPServer`` in a background thread, one per :class:`PredictionServer`."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import weakref
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from ..validation import check_int
from .contract import PREDICT_PATH, InputSpec, RequestError, parse_json_body, validate_payload

DEFAULT_HOST = "127.0.0.1"
#: A refused oversize body is read and dropped up to this many bytes (beyond it we just close).
_DISCARD_CAP_BYTES = 64 * 1024 * 1024

_LIVE_SERVERS: weakref.WeakSet[PredictionServer] = weakref.WeakSet()


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
        except TimeoutError:
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

    def __init__(self, address, owner: PredictionServer):
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
    def start(self) -> PredictionServer:
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

    def __enter__(self) -> PredictionServer:
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

    >>> from course_utils.serving import post_json
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
