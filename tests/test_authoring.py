"""build-exercises and lint, on the toy master and on small broken notebooks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from course_utils.authoring import conventions, exercises, lint, markers

TOY_ROOT = Path(__file__).parent / "grading" / "assignment"


@pytest.fixture
def repo(tmp_path):
    """A throwaway repository with the toy master and its exercise."""
    for folder in ("solutions", "exercises"):
        shutil.copytree(TOY_ROOT / folder, tmp_path / folder)
    (tmp_path / "notebooks").mkdir()
    return tmp_path


def test_exercise_strips_solutions_and_hidden_tests(repo):
    target, text = exercises.build_exercise(repo / "solutions" / "99_toy.ipynb", repo)
    assert target == repo / "exercises" / "99_toy.ipynb"
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "5050" not in text
    assert "# YOUR CODE HERE" in text and "raise NotImplementedError" in text
    assert "blob/main/exercises/99_toy.ipynb" in text and "solutions/99_toy.ipynb" not in text
    nb = nbformat.reads(text, as_version=4)
    assert "    raise NotImplementedError" in nb.cells[12].source  # indentation of the marker kept
    assert "q1_total > 0" in nb.cells[7].source  # visible checks stay


def test_build_is_deterministic_and_check_detects_drift(repo, capsys):
    assert exercises.build_exercises(repo, check=True) == 0
    before = (repo / "exercises" / "99_toy.ipynb").read_bytes()
    assert exercises.build_exercises(repo) == 0
    assert (repo / "exercises" / "99_toy.ipynb").read_bytes() == before  # a rebuild changes no byte
    nb = nbformat.read(repo / "exercises" / "99_toy.ipynb", as_version=4)
    nb.cells[7].source += "\n# edited by hand"
    conventions.write_notebook(nb, repo / "exercises" / "99_toy.ipynb")
    capsys.readouterr()
    assert exercises.build_exercises(repo, check=True) == 1
    assert "exercises/99_toy.ipynb: cell 7 differs" in capsys.readouterr().out
    (repo / "exercises" / "99_toy.ipynb").unlink()
    assert exercises.build_exercises(repo, check=True) == 1
    assert exercises.build_exercises(repo) == 0
    assert (repo / "exercises" / "99_toy.ipynb").read_bytes() == before


def test_toy_notebooks_lint_clean(repo):
    assert lint.lint_paths(None, root=repo) == []


def _problems(repo, mutate, folder="solutions"):
    path = repo / folder / "99_toy.ipynb"
    nb = nbformat.read(path, as_version=4)
    mutate(nb)
    conventions.write_notebook(nb, path)
    return {(p.rule, p.cell) for p in lint.lint_paths([path], root=repo)}


@pytest.mark.parametrize("mutate, expected", [
    (lambda nb: nb.cells[0].update(source="# no badge"), ("badge", 0)),
    (lambda nb: nb.cells[0].update(source=conventions.colab_badge("notebooks/99_toy.ipynb")), ("badge", 0)),
    (lambda nb: nb.cells[1].update(source="import sys"), ("setup", 1)),
    (lambda nb: nb.cells[2].update(source="SEED = 1"), ("parameters", 2)),
    (lambda nb: nb.cells[2].metadata.update(tags=[]), ("parameters", None)),
    (lambda nb: nb.cells[2].update(source=nb.cells[2].source + "\nRATE = 0.4  # cost = 1 - margin"), ("parameters", 2)),
    (lambda nb: nb.cells[3].update(source="df = open('/home/me/data.csv')"), ("abs-path", 3)),
    (lambda nb: nb.cells[3].update(source="import requests\nrequests.get('https://x.org/a.csv')"), ("network", 3)),
    (lambda nb: nb.cells[3].update(source="!wget https://x.org/a.csv"), ("network", 3)),
    (lambda nb: nb.cells[3].update(source="import pandas as pd\npd.read_csv('https://x.org/a.csv')"), ("network", 3)),
    (lambda nb: nb.cells[5].update(source="### BEGIN SOLUTION\nq1_total = 1"), ("markers", 5)),
    (lambda nb: nb.cells[5].metadata.pop("course"), ("markers", 5)),
    (lambda nb: nb.cells[5].metadata.update(course={"answer": ["not_defined_here"]}), ("markers", 5)),
    (lambda nb: nb.cells[6].metadata.update(course={"question": "q1", "points": 0}), ("markers", 6)),
    (lambda nb: nb.cells[13].metadata.update(course={"question": "q1", "points": 1}), ("markers", 13)),
    (lambda nb: nb.cells[3].update(source="### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS"), ("markers", 3)),
])
def test_lint_finds_each_rule(repo, mutate, expected):
    assert expected in _problems(repo, mutate)


def test_lint_markers_forbidden_in_exercises(repo):
    found = _problems(repo, lambda nb: nb.cells[5].update(source="### BEGIN SOLUTION\nq1_total = 1\n### END SOLUTION"),
                      folder="exercises")
    assert ("markers", 5) in found


def test_lint_fix_repairs_format_metadata_and_badge(repo):
    path = repo / "solutions" / "99_toy.ipynb"
    raw = json.loads(path.read_text())
    raw["metadata"]["widgets"] = {"state": {}}
    raw["cells"][5]["metadata"]["collapsed"] = True
    raw["cells"][5]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi"}]
    raw["cells"][5]["execution_count"] = 3
    raw["cells"][0]["source"] = raw["cells"][0]["source"][0].replace("solutions/", "old/") if isinstance(
        raw["cells"][0]["source"], list) else raw["cells"][0]["source"].replace("solutions/", "old/")
    path.write_text(json.dumps(raw, indent=4))
    rules = {p.rule for p in lint.lint_paths([path], root=repo)}
    assert {"outputs", "metadata", "badge"} <= rules
    assert lint.fix_notebook(path, repo) is True
    assert lint.lint_paths([path], root=repo) == []
    assert lint.fix_notebook(path, repo) is False  # idempotent


def test_lint_reports_unreadable_notebook_and_bad_path(repo):
    (repo / "notebooks" / "broken.ipynb").write_text("{not json")
    problems = lint.lint_paths([repo / "notebooks"], root=repo)
    assert [p.rule for p in problems] == ["invalid"]
    with pytest.raises(ValueError, match="does not exist"):
        lint.lint_paths([repo / "nope.ipynb"], root=repo)


def test_marker_errors_are_clear():
    with pytest.raises(markers.MarkerError, match="never closed"):
        markers.strip_solution("### BEGIN SOLUTION\nx = 1")
    with pytest.raises(markers.MarkerError, match="nested"):
        markers.strip_solution("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION")
    assert markers.split_hidden_tests("a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc") == ("a\nc", "b")


def test_cli_build_check_and_lint(repo, capsys):
    from course_utils.tools.cli import main

    assert main(["build-exercises", "--check", "--root", str(repo)]) == 0
    assert main(["lint", "--root", str(repo)]) == 0
    (repo / "notebooks" / "x.ipynb").write_text("{}")
    assert main(["lint", "--root", str(repo)]) == 1
