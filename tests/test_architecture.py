"""The package's two rooms: the learner's API never imports the instructor's tooling.

Learner modules are the ones notebooks import (``course_utils.env``, ``data``, ..., ``business``);
tooling is ``course_utils.tools``, ``course_utils.authoring`` and ``course_utils.grading``. The
imports are read with ``ast`` (every ``import`` and ``from ... import``, at any depth, so lazy
imports inside functions count too), not by importing the modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "course_utils"
TOOLING = ("course_utils.tools", "course_utils.authoring", "course_utils.grading")
# Learner-facing and imported by exercises: visible checks students run (chapters 01-03).
LEARNER_EXCEPTIONS = ("course_utils.grading.checks",)


def module_name(path: Path, root: Path = PACKAGE.parent) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = PACKAGE.parent) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]  # `from . import grading`
    return found


def is_tooling(module: str) -> bool:
    if module.startswith(LEARNER_EXCEPTIONS):
        return False
    return any(module == t or module.startswith(t + ".") for t in TOOLING)


LEARNER_FILES = sorted(p for p in PACKAGE.rglob("*.py") if not is_tooling(module_name(p)))


def test_the_rooms_are_where_the_architecture_says():
    learner = {module_name(p) for p in LEARNER_FILES}
    assert {"course_utils.env", "course_utils.data", "course_utils.models", "course_utils.business"} <= learner
    assert not learner & {"course_utils.cli", "course_utils.runner", "course_utils.authoring", "course_utils.recipes"}


@pytest.mark.parametrize("path", LEARNER_FILES, ids=lambda p: module_name(p))
def test_learner_modules_never_import_tooling(path):
    edges = [f"{module_name(path)} -> {module} (line {line})" for line, module in imported_modules(path)
             if is_tooling(module)]
    assert not edges, "learner module imports instructor tooling: " + "; ".join(edges)


def test_the_checker_sees_a_violation(tmp_path):
    """Relative, lazy (inside a function) and `from . import x` imports of tooling are all caught."""
    probe = tmp_path / "course_utils" / "probe.py"
    probe.parent.mkdir()
    probe.write_text("import numpy\n\ndef f():\n    from .tools import runner\n    from . import grading, env\n",
                     encoding="utf-8")
    modules = [m for _, m in imported_modules(probe, root=tmp_path)]
    assert [m for m in modules if is_tooling(m)] == ["course_utils.tools", "course_utils.tools.runner",
                                                      "course_utils.grading"]
    assert "course_utils.env" in modules and "numpy" in modules
