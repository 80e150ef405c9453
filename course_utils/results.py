"""Key results a notebook reports to ``course run`` (accuracy, data source, a cost figure...).

``course run`` sets ``COURSE_RESULTS_FILE`` for each notebook; :func:`record` appends to it as
JSON lines. Outside ``course run`` the call does nothing but return its values, so notebooks
can call it unconditionally.
"""

from __future__ import annotations

import json
import math
import os

RESULTS_ENV_VAR = "COURSE_RESULTS_FILE"


def _plain(value):
    if hasattr(value, "item"):  # NumPy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def record(**values) -> None:
    """Record named key results, e.g. ``record(test_accuracy=0.973, train_seconds=41.2)``.

    Returns nothing, so a notebook cell ending with it displays nothing extra.

    Taught in: notebooks/01_big_models_scale.ipynb
    """
    clean = {str(name): _plain(value) for name, value in values.items()}
    path = os.environ.get(RESULTS_ENV_VAR)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(clean) + "\n")


def read(path) -> dict:
    """All values recorded in ``path`` (later records override earlier ones); {} if absent."""
    merged: dict = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line:
                    merged.update(json.loads(line))
    except FileNotFoundError:
        pass
    return merged
