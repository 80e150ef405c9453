"""Record the expected outputs of a notebook's ``# NBVAL_CHECK_OUTPUT`` cells.

Usage: python tools/record_expected_outputs.py notebooks/03_mnist_cnn.ipynb [...]

Executes each notebook in smoke mode (as the tests do) and writes the outputs of its checked
cells to ``tests/expected_outputs/<stem>.json``. Read the numbers before committing them: this
records whatever the code prints now.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parent.parent
MARKER = "# NBVAL_CHECK_OUTPUT"


def record(notebook: Path) -> Path:
    os.environ.update(COURSE_SMOKE="1", COURSE_OFFLINE="1", MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory() as tmp:
        executed = Path(tmp) / notebook.name
        papermill.execute_notebook(str(notebook), str(executed), kernel_name="python3", cwd=tmp,
                                   progress_bar=False)
        nb = nbformat.read(executed, as_version=4)
    expected = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith(MARKER):
            outputs = []
            for out in cell.outputs:
                out = dict(out)
                out.pop("execution_count", None)
                out.pop("metadata", None) if out.get("output_type") == "stream" else None
                outputs.append(out)
            expected[cell["id"]] = outputs
    target = ROOT / "tests" / "expected_outputs" / f"{notebook.stem}.json"
    target.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{notebook}: {len(expected)} checked cell(s) -> {target.relative_to(ROOT)}")
    return target


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        record(Path(arg))
