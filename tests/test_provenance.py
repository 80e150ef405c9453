"""Provenance of the learner's API, d2l style: a helper a chapter uses says where it is taught
("Taught in: notebooks/NN_slug.ipynb"), and the named notebook really uses it.

"Uses" means the notebook's code calls or imports it through the package: ``module.name``
(``models.build_mnist_cnn``, ``business.npv``) or ``from course_utils.module import name``.
A helper no notebook or master uses carries no such line (it is plumbing of another helper).
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
LEARNER_MODULES = ["env", "data", "paths", "results", "models", "training", "evaluation", "plots", "explain",
                   "fairness", "compression", "scaling", "recsys", "serving"]
TAUGHT_IN = re.compile(r"Taught in: ((?:(?:notebooks|solutions)/\d\d_\w+\.ipynb)(?:, (?:notebooks|solutions)/\d\d_\w+\.ipynb)*)")


def module_files() -> list[tuple[str, Path]]:
    """(the name notebooks import, file) of every learner module; a package's files under its own name."""
    files = []
    for name in LEARNER_MODULES:
        package = PACKAGE / name
        if package.is_dir():  # course_utils.serving: contract, server, client, ... re-exported by __init__
            files += [(name, p) for p in sorted(package.glob("*.py")) if not p.stem.startswith("_")]
        else:
            files.append((name, PACKAGE / f"{name}.py"))
    files += [(f"business.{p.stem}", p) for p in sorted((PACKAGE / "business").glob("*.py"))
              if not p.stem.startswith("_")]
    return files


def public_helpers() -> list[tuple[str, str, str]]:
    """(module, name, docstring) of every public top-level function and class of the learner modules."""
    helpers = []
    for module, path in module_files():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                helpers.append((module, node.name, ast.get_docstring(node) or ""))
    return helpers


@cache
def notebook_code(relative: str) -> str:
    cells = json.loads((ROOT / relative).read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in cells if c["cell_type"] == "code")


def uses(relative: str, module: str, name: str) -> bool:
    """Does the notebook's code call or import ``course_utils.<module>.<name>``?"""
    code = notebook_code(relative)
    short = module.split(".")[-1]
    owners = [short] + (["business"] if module.startswith("business.") else [])
    owners += [alias for imported, alias in re.findall(r"from course_utils import (\w+) as (\w+)", code)
               if imported in owners]  # `from course_utils import business as biz`
    if any(re.search(rf"\b{re.escape(owner)}\.{re.escape(name)}\b", code) for owner in owners):
        return True
    packages = [f"course_utils.{module}"] + (["course_utils.business"] if module.startswith("business.") else [])
    for package in packages:
        for imported in re.findall(rf"from {re.escape(package)} import \(?([^)\n]+(?:\n[^)]*)?)\)?", code):
            if name in re.findall(r"\w+", imported):
                return True
    return False


def chapter_notebooks() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for d in ("notebooks", "solutions") for p in (ROOT / d).glob("*.ipynb"))


HELPERS = public_helpers()


@pytest.mark.parametrize("module, name, doc", HELPERS, ids=[f"{m}.{n}" for m, n, _ in HELPERS])
def test_taught_in_names_notebooks_that_use_the_helper(module, name, doc):
    claims = [path for match in TAUGHT_IN.findall(doc) for path in match.split(", ")]
    users = [nb for nb in chapter_notebooks() if uses(nb, module, name)]
    if users:
        assert claims, (f"course_utils.{module}.{name} is used by {users} but its docstring has no "
                        f"'Taught in: {users[0]}' line")
    for claim in claims:
        assert (ROOT / claim).is_file(), f"course_utils.{module}.{name}: 'Taught in: {claim}' names no notebook"
        assert uses(claim, module, name), (f"course_utils.{module}.{name} says 'Taught in: {claim}', "
                                           f"but that notebook does not use it (users: {users or 'none'})")


def test_the_usage_check_sees_both_forms():
    assert uses("notebooks/03_mnist_cnn.ipynb", "models", "build_mnist_cnn")
    assert uses("notebooks/10_funding_runway.ipynb", "business.funding", "simulate_runway")  # biz.simulate_runway
    assert not uses("notebooks/03_mnist_cnn.ipynb", "recsys", "gini")
