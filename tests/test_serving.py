"""Tests of course_utils.serving: a real server on 127.0.0.1, a tiny NumPy model, real HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_utils import serving
from course_utils.serving import InputSpec, RequestError

SPEC = InputSpec(example_shape=(4, 4), min_value=0, max_value=255, max_batch=8, max_body_bytes=10_000)


def linear_model(batch: np.ndarray) -> np.ndarray:
    """A fixed NumPy 'classifier': 3 scores per example, deterministic in the input."""
    flat = batch.reshape(len(batch), -1)
    weights = np.stack([np.linspace(-1, 1, flat.shape[1]), np.ones(flat.shape[1]), np.linspace(1, -1, flat.shape[1])], axis=1)
    return flat @ weights


def image(value: float = 10.0) -> list:
    return np.full((4, 4), value).tolist()


@pytest.fixture(scope="module")
def server():
    with serving.serve(linear_model, spec=SPEC, model_name="linear", request_timeout=2.0) as running:
        yield running


def predict_url(server) -> str:
    return server.url + "/predict"


# --------------------------------------------------------------------------- happy path
def test_health_and_metadata(server):
    assert serving.get_json(server.url + "/health") == (200, {"status": "ok", "model": "linear"})
    status, body = serving.get_json(server.url + "/metadata")
    assert status == 200
    assert body["input"]["example_shape"] == [4, 4]
    assert body["input"]["max_batch"] == 8


def test_prediction_matches_the_model(server):
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(3, 4, 4))
    status, body = serving.post_json(predict_url(server), {"instances": batch.tolist()})
    assert status == 200
    expected = linear_model(batch.astype("float32"))
    np.testing.assert_allclose(body["predictions"], expected, rtol=1e-5)
    assert body["classes"] == expected.argmax(axis=1).tolist()
    assert body["batch_size"] == 3 and body["model"] == "linear"


def test_predict_over_http_accepts_base_url_and_numpy(server):
    batch = np.full((2, 4, 4), 3, dtype=np.uint8)
    out = serving.predict_over_http(server.url, batch)
    np.testing.assert_allclose(out, linear_model(batch.astype("float32")), rtol=1e-6)


def test_binds_loopback_by_default(server):
    assert server.host == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")
    assert server.port > 0  # port 0 asked the OS for a free port


# --------------------------------------------------------------------------- bad input
def assert_error(status_body, status: int, code: str, *words: str):
    status_got, body = status_body
    assert status_got == status, body
    error = body["error"]
    assert error["code"] == code, error
    assert error["status"] == status
    for word in words:
        assert word in error["message"], error["message"]


def json_error_position(body: bytes) -> str:
    """Where this interpreter's ``json`` says the body breaks (its wording and columns change
    between Python versions: 3.13 reports a trailing comma as such, one column earlier)."""
    try:
        json.loads(body)
    except json.JSONDecodeError as err:
        return f"{err.msg} at line {err.lineno}, column {err.colno}"
    raise AssertionError(f"{body!r} is valid JSON")


@pytest.mark.parametrize("body, where", [
    (b"{", "line 1, column 2"),
    (b'{"instances": [1 2]}', "Expecting ',' delimiter at line 1, column 18"),
    (b"", "Expecting value at line 1, column 1"),
    (b"instances=1", "Expecting value at line 1, column 1"),
    (b'{"instances": [[1, 2]]', "line 1, column 23"),
])
def test_malformed_json_is_400_with_position(server, body, where):
    assert_error(serving.post_bytes(predict_url(server), body), 400, "malformed_json", where)


def test_trailing_comma_is_400_with_the_interpreters_position(server):
    body = b'{"instances": [1,]}'
    assert_error(serving.post_bytes(predict_url(server), body), 400, "malformed_json", json_error_position(body))


def test_invalid_utf8_is_400(server):
    assert_error(serving.post_bytes(predict_url(server), b'{"instances": "\xff"}'), 400, "malformed_json", "UTF-8")


@pytest.mark.parametrize("payload, code, words", [
    ({"instances": [[1, 2, 3]]}, "wrong_shape", ["(1, 3)", "(batch, 4, 4)"]),
    ({"instances": [image(), image()[:3]]}, "wrong_shape", ["ragged"]),
    ({"instances": [[[1] * 4] * 4, [[1] * 4] * 4 + [[1] * 4]]}, "wrong_shape", ["ragged"]),
    ({"instances": [1, 2]}, "wrong_shape", ["(2,)"]),
    ({"instances": [[image()]]}, "wrong_shape", ["(1, 1, 4, 4)"]),
    ({"instances": []}, "empty_batch", ["empty"]),
    ({"instances": "pixels"}, "wrong_structure", ["string"]),
    ({"inputs": [image()]}, "wrong_structure", ["missing key 'instances'", "inputs"]),
    ([image()], "wrong_structure", ["JSON array"]),
    (None, "wrong_structure", ["null"]),
])
def test_wrong_shapes_and_structures_are_400(server, payload, code, words):
    assert_error(serving.post_json(predict_url(server), payload), 400, code, *words)


@pytest.mark.parametrize("bad_value, code, words", [
    ("7", "wrong_type", ["strings"]),
    (None, "wrong_type", ["nulls"]),
    ({"v": 1}, "wrong_type", ["numbers"]),
    (-1, "out_of_range", ["[0, 255]", "-1", "index (0, 2, 1)"]),
    (256, "out_of_range", ["256"]),
    (1e400, "not_finite", ["finite"]),
    (10 ** 40, "wrong_type", ["numbers"]),
])
def test_wrong_types_and_values_are_400(server, bad_value, code, words):
    pixels = image()
    pixels[2][1] = bad_value
    payload = json.dumps({"instances": [pixels]}).replace("Infinity", "1e400").encode()
    assert_error(serving.post_bytes(predict_url(server), payload), 400, code, *words)


def test_booleans_are_refused(server):
    pixels = [[True] * 4] * 4
    assert_error(serving.post_json(predict_url(server), {"instances": [pixels]}), 400, "wrong_type", "true/false")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_400(server, constant):
    body = json.dumps({"instances": [image()]}).replace("10.0", constant, 1).encode()
    assert_error(serving.post_bytes(predict_url(server), body), 400, "not_finite", constant)


def test_batch_too_large_is_413(server):
    payload = {"instances": [image()] * 9}
    assert_error(serving.post_json(predict_url(server), payload), 413, "batch_too_large", "9", "at most 8")


@pytest.mark.parametrize("size", [10_001, 1_000_000, 20_000_000])
def test_huge_body_is_413_and_the_client_reads_it(server, size):
    body = b" " * size  # whitespace: would be valid JSON padding, refused on size alone
    assert_error(serving.post_bytes(predict_url(server), body), 413, "body_too_large", f"{size:,}", "10,000")


def test_huge_body_by_header_is_refused_without_reading(server):
    started = time.perf_counter()
    status = serving.raw_http(server.host, server.port, "POST", "/predict",
                              headers={"Content-Type": "application/json", "Content-Length": str(10 ** 12)})
    assert_error(status, 413, "body_too_large", "1,000,000,000,000")
    assert time.perf_counter() - started < 1.9, "server waited for a body it should have refused"


def test_missing_content_length_is_411(server):
    status = serving.raw_http(server.host, server.port, "POST", "/predict", headers={"Content-Type": "application/json"})
    assert_error(status, 411, "length_required", "Content-Length")


def test_chunked_body_is_411(server):
    status = serving.raw_http(server.host, server.port, "POST", "/predict", body=b"0\r\n\r\n",
                              headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert_error(status, 411, "length_required", "chunked")


def test_bad_content_length_header_is_400(server):
    status = serving.raw_http(server.host, server.port, "POST", "/predict",
                              headers={"Content-Type": "application/json", "Content-Length": "ten"})
    assert_error(status, 400, "bad_header", "'ten'")


def test_lying_content_length_times_out_with_408(server):
    started = time.perf_counter()
    status = serving.raw_http(server.host, server.port, "POST", "/predict", body=b'{"instances": [',
                              headers={"Content-Type": "application/json", "Content-Length": "500"})
    assert_error(status, 408, "timeout", "in time")
    assert 1.5 < time.perf_counter() - started < 5, "the request timeout (2 s) should decide"


def test_wrong_content_type_is_415(server):
    body = json.dumps({"instances": [image()]}).encode()
    assert_error(serving.post_bytes(predict_url(server), body, content_type="text/plain"), 415,
                 "unsupported_media_type", "text/plain")


def test_unknown_path_and_method(server):
    assert_error(serving.get_json(server.url + "/nope"), 404, "not_found", "/nope")
    assert_error(serving.post_json(server.url + "/nope", {}), 404, "not_found")
    assert_error(serving.get_json(server.url + "/predict"), 405, "method_not_allowed", "POST")
    assert_error(serving.raw_http(server.host, server.port, "DELETE", "/predict"), 405, "method_not_allowed", "DELETE")


def test_the_server_survives_bad_input_and_counts_it(server):
    before = server.status_counts.get(400, 0)
    for _ in range(3):
        serving.post_bytes(predict_url(server), b"{oops")
    assert server.status_counts.get(400, 0) == before + 3
    assert serving.predict_over_http(server.url, [image(1.0)]).shape == (1, 3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300))
def test_random_bytes_never_cause_a_server_error(server, body):
    status, payload = serving.post_bytes(predict_url(server), body)
    assert 400 <= status < 500, (status, payload)
    assert payload["error"]["message"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-300, 300) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(instances=json_values)
def test_random_json_gets_200_or_a_clear_4xx(server, instances):
    status, payload = serving.post_json(predict_url(server), {"instances": instances})
    assert status in (200, 400, 413), (status, payload)
    if status != 200:
        assert payload["error"]["message"]


# --------------------------------------------------------------------------- the model side
def test_model_failure_is_500_without_traceback_and_server_keeps_serving():
    calls = {"n": 0}

    def flaky(batch):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ZeroDivisionError("secret internal detail")
        return batch.sum(axis=(1, 2))

    with serving.serve(flaky, spec=SPEC) as server:
        status, body = serving.post_json(predict_url(server), {"instances": [image()]})
        assert status == 500
        assert body["error"]["message"] == "prediction failed (ZeroDivisionError)"
        assert "secret" not in json.dumps(body)
        status, body = serving.post_json(predict_url(server), {"instances": [image(1.0)]})
        assert (status, body["predictions"]) == (200, [16.0])


def test_model_returning_wrong_number_of_rows_is_500():
    with serving.serve(lambda batch: np.zeros(len(batch) + 1), spec=SPEC) as server:
        status, body = serving.post_json(predict_url(server), {"instances": [image()]})
    assert status == 500 and body["error"]["code"] == "internal_error"


def test_model_receives_validated_float32_batch_and_monitor_sees_it():
    seen, monitored = [], []

    def model(batch):
        seen.append((batch.dtype, batch.shape))
        return batch[:, 0, 0]

    with serving.serve(model, spec=SPEC, monitor=lambda b: monitored.append(b.mean())) as server:
        serving.post_json(predict_url(server), {"instances": [image(2), image(4)]})
        serving.post_json(predict_url(server), {"instances": [image(-5)]})  # refused: never reaches them
    assert seen == [(np.dtype("float32"), (2, 4, 4))]
    assert monitored == [3.0]


def test_integers_only_spec():
    spec = InputSpec(example_shape=(2,), integers_only=True)
    assert validate_ok(spec, [[1, 2.0]]).tolist() == [[1.0, 2.0]]
    with pytest.raises(RequestError, match=r"whole numbers; got 2.5 at index \(0, 1\)"):
        validate_ok(spec, [[1, 2.5]])


def validate_ok(spec, instances):
    return serving.validate_payload({"instances": instances}, spec)


# --------------------------------------------------------------------------- concurrency
@pytest.mark.parametrize("serialize", [True, False])
def test_concurrent_requests_each_get_their_own_answer(serialize):
    def model(batch):
        time.sleep(0.002)  # let requests overlap
        return batch.reshape(len(batch), -1).sum(axis=1)

    def one_client(k):
        values = [float((k * 7 + j) % 200) for j in range(1 + k % 3)]
        status, body = serving.post_json(server.url + "/predict", {"instances": [image(v) for v in values]})
        return status, body["predictions"], [16 * v for v in values]

    with serving.serve(model, spec=SPEC, serialize=serialize) as server:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(one_client, range(120)))
        assert server.status_counts == {200: 120}
    for status, got, expected in results:
        assert status == 200
        assert got == expected


def test_serialize_lock_prevents_overlapping_model_calls():
    active, peak = [0], [0]
    guard = threading.Lock()

    def model(batch):
        with guard:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with guard:
            active[0] -= 1
        return batch[:, 0, 0]

    with serving.serve(model, spec=SPEC, serialize=True) as server:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda _: serving.post_json(server.url + "/predict", {"instances": [image()]}), range(24)))
    assert peak[0] == 1


# --------------------------------------------------------------------------- lifecycle
def test_stop_frees_the_port_and_ends_the_thread():
    server = serving.PredictionServer(linear_model, SPEC).start()
    port, thread = server.port, server._thread
    assert server.running and not serving.port_is_free(port)
    assert serving.post_json(server.url + "/predict", {"instances": [image()]})[0] == 200
    server.stop()
    assert not server.running and not thread.is_alive()
    assert serving.port_is_free(port), "port still bound after stop()"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    server.stop()  # a second stop is harmless


def test_restart_on_the_same_port():
    first = serving.PredictionServer(linear_model, SPEC).start()
    port = first.port
    first.stop()
    second = serving.PredictionServer(linear_model, SPEC, port=port).start()
    try:
        assert second.port == port
        assert serving.get_json(second.url + "/health")[0] == 200
    finally:
        second.stop()


def test_context_manager_stops_even_when_the_block_fails():
    with pytest.raises(KeyError):
        with serving.serve(linear_model, spec=SPEC) as server:
            port = server.port
            raise KeyError("boom")
    assert not server.running and serving.port_is_free(port)


def test_stop_while_requests_are_in_flight():
    def slow(batch):
        time.sleep(0.3)
        return batch[:, 0, 0]

    server = serving.serve(slow, spec=SPEC, serialize=False)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(serving.post_json, server.url + "/predict", {"instances": [image()]}) for _ in range(3)]
        time.sleep(0.1)
        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 2
        results = [f.result(timeout=5) for f in futures]
    assert all(status == 200 for status, _ in results)  # in-flight requests finished
    assert serving.port_is_free(server.port)


def test_start_twice_is_an_error():
    with serving.serve(linear_model, spec=SPEC) as server:
        with pytest.raises(RuntimeError, match="already running"):
            server.start()


def test_stop_all_cleans_up_lost_handles():
    # In a fresh process: stop_all() stops every server of the process (the fixture's too).
    code = """
import threading
from course_utils import serving
spec = serving.InputSpec((2,))
ports = []
for _ in range(3):
    ports.append(serving.serve(lambda b: b, spec=spec).port)   # handles thrown away
print(serving.stop_all(), all(serving.port_is_free(p) for p in ports),
      sum(t.name.startswith("prediction-server") for t in threading.enumerate()))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["3", "True", "0"], out.stdout + out.stderr


def test_no_thread_left_behind():
    before = {t.name for t in threading.enumerate()}
    for _ in range(5):
        with serving.serve(linear_model, spec=SPEC) as server:
            serving.get_json(server.url + "/health")
    time.sleep(0.05)
    leftover = {t.name for t in threading.enumerate()} - before
    assert not any(name.startswith("prediction-server") for name in leftover), leftover


# --------------------------------------------------------------------------- configuration errors
def test_refuses_non_loopback_host_unless_allowed():
    with pytest.raises(ValueError, match=r"host='0.0.0.0'.*127.0.0.1"):
        serving.PredictionServer(linear_model, SPEC, host="0.0.0.0")
    with pytest.raises(ValueError, match="IP address"):
        serving.PredictionServer(linear_model, SPEC, host="example.com")
    assert serving.PredictionServer(linear_model, SPEC, host="localhost").host == "127.0.0.1"


@pytest.mark.parametrize("kwargs, words", [
    ({"port": -1}, "port=-1"),
    ({"port": 70000}, "port=70000"),
    ({"request_timeout": 0}, "request_timeout=0"),
    ({"monitor": 3}, "monitor"),
])
def test_bad_server_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        serving.PredictionServer(linear_model, SPEC, **kwargs)


def test_bad_predict_fn_and_spec():
    with pytest.raises(ValueError, match="predict_fn must be callable"):
        serving.PredictionServer("model")
    with pytest.raises(ValueError, match="spec must be an InputSpec"):
        serving.PredictionServer(linear_model, {"example_shape": (4, 4)})


@pytest.mark.parametrize("kwargs, words", [
    ({"example_shape": ()}, "example_shape"),
    ({"example_shape": (28, 0)}, "example_shape"),
    ({"min_value": 5, "max_value": 1}, "min_value=5"),
    ({"max_value": float("inf")}, "finite"),
    ({"max_batch": 0}, "max_batch=0"),
    ({"max_body_bytes": 10}, "max_body_bytes=10"),
    ({"dtype": "str"}, "dtype='str'"),
])
def test_bad_input_spec(kwargs, words):
    with pytest.raises(ValueError, match=words):
        InputSpec(**kwargs)


def test_time_requests_validates_and_measures():
    durations = serving.time_requests(lambda: time.sleep(0.01), n=3, warmup=0)
    assert durations.shape == (3,) and (durations >= 0.009).all()
    with pytest.raises(ValueError, match="n=0"):
        serving.time_requests(lambda: None, n=0)


def test_import_does_not_pull_in_tensorflow():
    code = "import sys, course_utils.serving; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def raw_socket_exchange(server, request: bytes) -> tuple[int, dict]:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.startswith(b"HTTP/"):  # a request without a version is answered HTTP/0.9 style: body only
        body = json.loads(raw)
        return body["error"]["status"], body
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body) if body else {}


@pytest.mark.parametrize("request_bytes, status, code", [
    (b"GARBAGE\r\n\r\n", 400, "bad_request"),
    (b"FOO /predict HTTP/1.0\r\n\r\n", 405, "method_not_allowed"),
    (b"HEAD /predict HTTP/1.0\r\n\r\n", 405, "method_not_allowed"),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", 414, "uri_too_long"),
    (b"GET /health HTTP/1.0\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431, "headers_too_large"),
])
def test_http_parser_errors_are_json_4xx(server, request_bytes, status, code):
    got_status, body = raw_socket_exchange(server, request_bytes)
    if request_bytes.startswith(b"HEAD"):  # a HEAD answer has no body by definition
        assert got_status == 405
        return
    assert (got_status, body["error"]["code"]) == (status, code), body


def test_client_reads_a_non_json_error_answer_the_same_way_for_get_and_post():
    """One request helper behind get_json and post_bytes: a 502 HTML page from a proxy is an error
    answer with its status, never a JSONDecodeError (get_json raised one before the split)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Proxy(BaseHTTPRequestHandler):
        def _answer(self):
            body = b"<html>502 Bad Gateway</html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{proxy.server_address[1]}/health"
        expected = (502, {"error": {"status": 502, "message": "<html>502 Bad Gateway</html>"}})
        assert serving.get_json(url) == expected
        assert serving.post_bytes(url, b"{}") == expected
    finally:
        proxy.shutdown()
        proxy.server_close()
