"""Submission loading: read a student's notebook and find the cells that define the answers."""

from __future__ import annotations

import json

from ..authoring import markers


def _first_line(source: str) -> str:
    for line in source.split("\n"):
        if line.strip():
            return line.strip()[:80]
    return ""


def match_answers(nb, master: markers.Master) -> dict[str, int]:
    """Answer name -> index of the submission cell that defines it.

    The cell whose metadata names it (as the exercise ships), else the last non-test code cell
    that defines it (a student may have rebuilt the cell).
    """
    found: dict[str, int] = {}
    for name in master.answer_names:
        tagged = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and name in _answer_meta(c)]
        defining = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and not markers.is_test_cell(c)
                    and name in markers.defined_names(c.source)]
        good_tagged = [i for i in tagged if i in defining]
        if good_tagged:
            found[name] = good_tagged[-1]
        elif defining:
            found[name] = defining[-1]
        elif tagged:
            found[name] = tagged[-1]
    return found


def _answer_meta(cell) -> list:
    names = markers.course_meta(cell).get("answer", [])
    return names if isinstance(names, list) else []


def load_submission(data: bytes, master: markers.Master):
    """(notebook, answer cells) or raise ValueError with the reason it is invalid."""
    import nbformat

    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"not a notebook: unreadable JSON ({type(err).__name__})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise ValueError("not a notebook: no list of cells")
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as err:
        raise ValueError(f"not a notebook: {type(err).__name__}: {str(err)[:200]}") from None
    for cell in nb.cells:
        if not isinstance(cell.get("source", ""), str) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise ValueError("not a notebook: malformed cell")
    found = match_answers(nb, master)
    if not found:
        declared = sorted({n for c in nb.cells for n in _answer_meta(c)})
        hint = f" (it declares answers {declared[:5]})" if declared else ""
        raise ValueError(f"none of this assignment's answers ({', '.join(master.answer_names)}) appear in it: "
                         f"a notebook of another assignment?{hint}")
    return nb, found
