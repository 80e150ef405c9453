"""START_HERE.ipynb, the page `make lab` opens, links every lecture and exercise set."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat

from course_utils.authoring import lint
from course_utils.tools import runner

ROOT = Path(__file__).resolve().parent.parent
LANDING = ROOT / "START_HERE.ipynb"


def _tool():
    spec = importlib.util.spec_from_file_location("write_start_here", ROOT / "tools" / "write_start_here.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_landing_page_is_up_to_date(capsys):
    assert _tool().main(["--check"]) == 0, "run: python tools/write_start_here.py"


def test_landing_page_links_every_lecture_and_exercise_and_nothing_missing():
    nb = nbformat.read(LANDING, as_version=4)
    links = set(re.findall(r"\]\(([^)\s]+\.ipynb)\)", "\n".join(c.source for c in nb.cells)))
    chapters = {f"{folder}/{p.name}" for folder in ("notebooks", "exercises")
                for p in (ROOT / folder).glob("*.ipynb") if runner.NOTEBOOK_RE.match(p.name)}
    assert chapters and chapters <= links, f"not linked: {sorted(chapters - links)}"
    broken = sorted(link for link in links if not (ROOT / link).is_file())
    assert not broken, f"links to missing notebooks: {broken}"
    assert all(c.cell_type == "markdown" for c in nb.cells), "the landing page runs no code"


def test_landing_page_is_not_a_chapter():
    """course run, course lint and nbval look only in the chapter folders."""
    assert not runner.NOTEBOOK_RE.match(LANDING.name)
    assert LANDING.parent.name not in lint.NOTEBOOK_DIRS
