"""The client side: requests to the service, with one request helper behind every call, and timing."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import numpy as np

from ..validation import check_int
from .contract import PREDICT_PATH


def _request(request: urllib.request.Request | str, timeout: float) -> tuple[int, dict]:
    """Send one request; ``(status, decoded JSON body)`` for any status, 2xx or not.

    The one place the client reads answers: an error answer whose body is not JSON (a proxy's
    HTML page, a server killed mid-answer) becomes ``{"error": {"status": ..., "message": ...}}``
    instead of a ``JSONDecodeError`` that would hide the status.
    """
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


def post_bytes(url: str, body: bytes, content_type: str = "application/json", timeout: float = 10.0,
               headers: dict | None = None) -> tuple[int, dict]:
    """POST raw bytes; return ``(status, decoded JSON body)`` for any status, 2xx or not.

    Taught in: notebooks/06_deployment.ipynb
    """
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
    return _request(request, timeout)


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
    """GET ``url``; return ``(status, decoded JSON body)`` for any status, 2xx or not.

    Taught in: notebooks/06_deployment.ipynb
    """
    return _request(url, timeout)


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
