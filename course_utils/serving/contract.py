"""The service's input contract: what a request must look like, and the 4xx answer when it does not."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..validation import check_int

PREDICT_PATH = "/predict"


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
