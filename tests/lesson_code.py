"""Functions a lecture defines in its own cells (the code the lesson is about stays in the notebook),
loaded for unit tests: only the code cells that define the requested names are executed, in a
fresh namespace, so the test runs the notebook's code without running the whole notebook."""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def lesson_functions(notebook: str, *names: str) -> dict:
    """``{name: object}`` for ``names`` defined (``def`` or ``class``) in ``notebooks/<notebook>``."""
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    module = types.ModuleType(f"lesson_{Path(notebook).stem}")  # a real module: dataclasses look it up
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    wanted = set(names)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            body = ast.parse(cell.source).body
        except SyntaxError:  # IPython magics (the setup cell): defines nothing a test wants
            continue
        defined = {node.name for node in body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        if defined & wanted:
            exec(compile(cell.source, f"{notebook} cell {cell.get('id')}", "exec"), namespace)
    missing = sorted(wanted - namespace.keys())
    if missing:
        raise LookupError(f"{notebook} defines no {missing}: the lesson code moved or was renamed")
    return {name: namespace[name] for name in names}
