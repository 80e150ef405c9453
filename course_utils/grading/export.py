"""Answer export: the notebook the kernel runs, with a cell after each answer that writes the
answers as plain data (:mod:`.codec`) for the test process."""

from __future__ import annotations

import hashlib
import json
import os

from ..authoring import conventions, markers
from . import config


def prepare_notebook(nb, found: dict[str, int], master: markers.Master):
    """The notebook the kernel runs: no test cells, an export cell after each answer cell and at the end."""
    import nbformat

    by_cell: dict[int, list[str]] = {}
    for name, index in found.items():
        by_cell.setdefault(index, []).append(name)
    cells = []
    for index, cell in enumerate(nb.cells):
        if markers.is_test_cell(cell):
            continue  # the tests come from the master, in another process
        cell = nbformat.from_dict(json.loads(json.dumps(cell)))
        tags = cell.metadata.get("tags", [])
        cell.metadata["tags"] = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
        cell.metadata["grader"] = {"origin": index}
        cell["id"] = f"grader-{len(cells):04d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
        if index in by_cell and cell.cell_type == "code":
            cells.append(_export_cell(by_cell[index]))
    cells.append(_export_cell(master.answer_names))
    return conventions.new_notebook(cells)


def _export_cell(names: list[str]):
    import nbformat

    source = ('__import__("course_utils.grading.codec", fromlist=["export_answers"])'
              f".export_answers(globals(), {sorted(names)!r}, {config.ANSWERS_DIR!r})")
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["grader"] = {"export": True}
    cell.metadata["tags"] = []
    cell["id"] = "grader-export-" + hashlib.sha1(source.encode()).hexdigest()[:8] + os.urandom(4).hex()
    return cell
