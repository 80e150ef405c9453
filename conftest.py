"""Test-session setup shared by unit tests and notebook tests.

- Every test and every notebook kernel runs in smoke mode, offline and headless.
- Only the lecture notebooks in ``notebooks/`` are collected by nbval; exercise masters and
  the grading corpus are executed by the grading tests instead.
- Notebooks are committed without outputs, so the expected outputs of ``# NBVAL_CHECK_OUTPUT``
  cells live in ``tests/expected_outputs/<notebook stem>.json`` and are put into the notebook
  as nbval reads it (``tools/record_expected_outputs.py`` writes those files).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
EXPECTED_DIR = ROOT / "tests" / "expected_outputs"

# Set before any kernel starts: kernels inherit the environment.
os.environ["COURSE_SMOKE"] = "1"
os.environ.setdefault("COURSE_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix == ".ipynb":
        return collection_path.parent != ROOT / "notebooks"
    return None


CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"


def expected_outputs_for(notebook_path: Path) -> dict:
    """``{cell id: [outputs]}`` recorded for a notebook, or {}."""
    path = EXPECTED_DIR / f"{Path(notebook_path).stem}.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def expected_outputs_mismatch(nb, expected: dict) -> str | None:
    """Why the recorded outputs no longer fit the notebook's checked cells, or None.

    Outputs are keyed by cell id and ids follow cell positions, so inserting a cell moves them;
    a stale file would otherwise check nothing (or the wrong cell) without failing.
    """
    checked = {c.get("id") for c in nb.cells
               if c.cell_type == "code" and c.source.lstrip().startswith(CHECK_MARKER)}
    if checked == set(expected):
        return None
    return (f"checked cells {sorted(checked)} but recorded outputs for {sorted(expected)}; "
            "re-record with `python tools/record_expected_outputs.py <notebook>` and read the numbers")


def _install_expected_outputs_reader() -> None:
    """Make nbval see the recorded outputs of checked cells when it reads a notebook."""
    try:
        import nbformat
        from nbval import plugin as nbval_plugin
    except ImportError:  # nbval not installed: notebook tests are not collected anyway
        return

    class _NbformatWithExpectedOutputs:
        def __getattr__(self, name):
            return getattr(nbformat, name)

        @staticmethod
        def read(path, as_version, **kwargs):
            nb = nbformat.read(path, as_version=as_version, **kwargs)
            expected = expected_outputs_for(path)
            problem = expected_outputs_mismatch(nb, expected)
            if problem:
                raise ValueError(f"{path}: {problem}")
            for number, cell in enumerate(nb.cells, start=1):
                if cell.cell_type == "code" and cell.get("id") in expected:
                    cell.outputs = [nbformat.from_dict(o) for o in expected[cell["id"]]]
                    cell.execution_count = number  # nbval treats a cell with no count as never run
            return nb

    nbval_plugin.nbformat = _NbformatWithExpectedOutputs()


def pytest_configure(config):
    _install_expected_outputs_reader()
