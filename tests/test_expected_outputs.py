"""The recorded outputs of checked notebook cells still belong to those cells (no notebook run)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from conftest import expected_outputs_for, expected_outputs_mismatch

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_recorded_outputs_match_the_checked_cells(notebook):
    nb = nbformat.read(notebook, as_version=4)
    assert expected_outputs_mismatch(nb, expected_outputs_for(notebook)) is None


def test_a_moved_checked_cell_is_reported():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)")]
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
    assert expected_outputs_mismatch(nb, {"cell-001": []}) is None
    assert "re-record" in expected_outputs_mismatch(nb, {"cell-000": []})
