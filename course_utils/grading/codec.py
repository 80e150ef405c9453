"""Answers as plain data: the only thing that crosses from a student's process to the grader.

:func:`encode` turns a value into a JSON-able tree (arrays as base64 bytes with their dtype and
shape, DataFrames as ``orient="split"`` JSON); :func:`decode` rebuilds plain values from it.
Nothing is ever unpickled, and objects of other types (a class with a rigged ``__eq__``, a
generator, a Keras model) are recorded as ``unsupported`` with their type name, so a test sees a
missing answer, never a live object. Functions and classes are recorded as ``callable``: the test
process calls them through :mod:`course_utils.grading.host`, re-created from the student's source.

>>> decode(encode({"a": [1, 2.5, "x"], "b": (None, True)}))
{'a': [1, 2.5, 'x'], 'b': (None, True)}
"""

from __future__ import annotations

import base64
import json
import os
import types

MAX_DEPTH = 20
MAX_BYTES = 50 * 2**20  # per encoded answer
_SCALARS = (bool, int, float, str, type(None))


class Unsupported(Exception):
    """A value the codec refuses (its type, its size or its depth)."""


class _Budget:
    def __init__(self, limit: int):
        self.left = limit

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise Unsupported(f"answer larger than {MAX_BYTES // 2**20} MiB")


def _is_pandas(value, name: str) -> bool:
    cls = type(value)
    return cls.__module__.split(".")[0] == "pandas" and cls.__name__ == name


def encode(value, _depth: int = 0, _budget: _Budget | None = None) -> dict:
    """A JSON-able tree describing ``value``; raises :class:`Unsupported` for other types."""
    budget = _budget or _Budget(MAX_BYTES)
    if _depth > MAX_DEPTH:
        raise Unsupported(f"nested deeper than {MAX_DEPTH} levels")
    kind = type(value)  # exact types only: a subclass may carry a rigged __eq__
    if kind in _SCALARS:
        if kind is str:
            budget.spend(len(value))
        elif kind is int and value.bit_length() > 4096:
            raise Unsupported("integer too large")
        return {"t": "s", "v": str.__str__(value) if kind is str else value}
    if kind in (list, tuple):
        budget.spend(8 * len(value))
        return {"t": kind.__name__, "v": [encode(item, _depth + 1, budget) for item in value]}
    if kind is dict:
        budget.spend(16 * len(value))
        keys = list(dict.keys(value))
        return {
            "t": "dict",
            "k": [encode(k, _depth + 1, budget) for k in keys],
            "v": [encode(dict.__getitem__(value, k), _depth + 1, budget) for k in keys],
        }
    numpy = _numpy_if_loaded()
    if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
        array = numpy.asarray(value).view(numpy.ndarray) if isinstance(value, numpy.ndarray) else numpy.asarray(value)
        if array.dtype.hasobject or array.dtype.kind == "V":
            raise Unsupported(f"array of dtype {array.dtype} (object arrays are not exported)")
        raw = numpy.ascontiguousarray(array).tobytes()
        budget.spend(len(raw))
        tag = "np" if isinstance(value, numpy.generic) else "nd"
        return {"t": tag, "dtype": array.dtype.str, "shape": list(array.shape), "b64": base64.b64encode(raw).decode()}
    if _is_pandas(value, "DataFrame") or _is_pandas(value, "Series"):
        text = value.to_json(orient="split", double_precision=15)
        budget.spend(len(text))
        return {"t": "df" if _is_pandas(value, "DataFrame") else "series", "v": text,
                "dtypes": [str(d) for d in (value.dtypes if _is_pandas(value, "DataFrame") else [value.dtype])]}
    if isinstance(value, (types.FunctionType, type, types.BuiltinFunctionType, types.MethodType)):
        return {"t": "callable", "name": getattr(value, "__name__", "?")}
    raise Unsupported(f"values of type {kind.__module__}.{kind.__qualname__} cannot be exported")


def _numpy_if_loaded():
    import sys

    return sys.modules.get("numpy")


def decode(tree: dict):
    """Rebuild a plain value from :func:`encode`'s tree (never executes anything)."""
    tag = tree["t"]
    if tag == "s":
        value = tree["v"]
        if type(value) not in _SCALARS:
            raise ValueError(f"malformed scalar in answer data: {type(value).__name__}")
        return value
    if tag == "list":
        return [decode(item) for item in tree["v"]]
    if tag == "tuple":
        return tuple(decode(item) for item in tree["v"])
    if tag == "dict":
        return {decode(k): decode(v) for k, v in zip(tree["k"], tree["v"], strict=False)}
    if tag in ("nd", "np"):
        import numpy

        dtype = numpy.dtype(tree["dtype"])
        if dtype.hasobject:
            raise ValueError("object arrays are never decoded")
        array = numpy.frombuffer(base64.b64decode(tree["b64"]), dtype=dtype).reshape(tree["shape"]).copy()
        return array[()] if tag == "np" else array
    if tag in ("df", "series"):
        import io

        import pandas

        reader = pandas.read_json(io.StringIO(tree["v"]), orient="split", typ="frame" if tag == "df" else "series")
        return reader
    raise ValueError(f"unknown answer tag {tag!r}")


def export_answers(namespace: dict, names: list[str], directory: str) -> None:
    """Write each of ``names`` found in ``namespace`` to ``directory/NAME.json`` (runs in the kernel).

    A name that is not defined is not written (the grader reports it missing); a value that
    cannot be exported is written as ``unsupported`` with the reason, for the feedback.
    """
    os.makedirs(directory, exist_ok=True)
    for name in names:
        if name not in namespace:
            continue
        try:
            tree = encode(namespace[name])
        except Unsupported as err:
            tree = {"t": "unsupported", "why": str(err)}
        except Exception as err:  # a student's object may raise anything while being inspected
            tree = {"t": "unsupported", "why": f"{type(err).__name__} while exporting"}
        tmp = os.path.join(directory, f".{name}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(tree, handle)
        os.replace(tmp, os.path.join(directory, f"{name}.json"))
