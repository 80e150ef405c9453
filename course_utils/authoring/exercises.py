"""``course build-exercises [--check]``: write ``exercises/NN_slug.ipynb`` from ``solutions/NN_slug.ipynb``.

Solutions become ``# YOUR CODE HERE``, hidden tests and mutants are removed, outputs stripped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import conventions
from .markers import (
    BEGIN_SOLUTION,
    MarkerError,
    has_marker,
    is_mutant_cell,
    is_test_cell,
    parse_master,
    strip_hidden_tests,
    strip_solution,
)


def exercise_from_master(nb, master_rel: str, exercise_rel: str):
    """The exercise notebook generated from a master (a new object; ``nb`` is not changed)."""
    import nbformat

    out = nbformat.from_dict(json.loads(json.dumps(nb)))
    out.cells = [cell for cell in out.cells if not is_mutant_cell(cell)]  # wrong answers are the author's
    master_url, exercise_url = conventions.colab_url(master_rel), conventions.colab_url(exercise_rel)
    for cell in out.cells:
        if is_test_cell(cell):
            cell.source = strip_hidden_tests(cell.source)
        elif has_marker(cell.source, BEGIN_SOLUTION):
            cell.source = strip_solution(cell.source, markdown=cell.cell_type == "markdown")
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(master_url, exercise_url)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return out


def build_exercise(master_path: Path, root: Path) -> tuple[Path, str]:
    """(exercise path, its canonical text) for one master under repository ``root``."""
    import nbformat

    master_path = Path(master_path)
    nb = nbformat.read(master_path, as_version=4)
    parse_master(nb, master_path)  # refuses malformed markers
    rel = master_path.resolve().relative_to(root.resolve()).as_posix()
    exercise_rel = "exercises/" + master_path.name
    exercise = exercise_from_master(nb, rel, exercise_rel)
    return root / exercise_rel, conventions.canonical_text(exercise)


def _first_difference(old: str, new: str) -> str:
    try:
        old_cells = json.loads(old).get("cells", [])
    except json.JSONDecodeError:
        return "not valid JSON"
    new_cells = json.loads(new)["cells"]
    for index, (a, b) in enumerate(zip(old_cells, new_cells, strict=False)):
        if a != b:
            return f"cell {index} differs"
    if len(old_cells) != len(new_cells):
        return f"{len(old_cells)} cells, expected {len(new_cells)}"
    return "formatting or notebook metadata differ"


def build_exercises(root: Path, check: bool = False, out=None) -> int:
    """Write (or with ``check`` compare) every exercise; returns the exit code."""
    import nbformat

    out = out or sys.stdout
    masters = sorted((root / "solutions").glob("*.ipynb"))
    stale = 0
    for master in masters:
        try:
            target, text = build_exercise(master, root)
        except (MarkerError, nbformat.ValidationError, json.JSONDecodeError) as err:
            print(f"ERROR {master.relative_to(root)}: {err}", file=out)
            stale += 1
            continue
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            why = "missing" if current is None else _first_difference(current, text)
            print(f"OUT OF DATE {target.relative_to(root)}: {why}; run `course build-exercises`", file=out)
            stale += 1
        else:
            target.parent.mkdir(exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {target.relative_to(root)}", file=out)
    if check:
        master_names = {m.name for m in masters}
        for orphan in sorted((root / "exercises").glob("*.ipynb")):
            if orphan.name not in master_names:
                print(f"ORPHAN {orphan.relative_to(root)}: no solutions/{orphan.name} master", file=out)
                stale += 1
        if not stale:
            print(f"exercises up to date ({len(masters)} masters)", file=out)
    return 1 if stale else 0
