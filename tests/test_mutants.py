"""Mutation testing of hidden tests (``course check-mutants``) and argument-state checks in the grader."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils.authoring import exercises, lint, markers
from course_utils.grading import checks, mutants

HERE = Path(__file__).parent
REPO = HERE.parent
TOY_MASTER = HERE / "grading" / "assignment" / "solutions" / "99_toy.ipynb"


def toy_with_mutants(tmp_path: Path, cells: dict[int, list[str]], extra_test: tuple[int, str] | None = None) -> Path:
    """A copy of the toy master with raw mutant cells inserted after the given cell indices."""
    nb = nbformat.read(TOY_MASTER, as_version=4)
    if extra_test:
        index, source = extra_test
        nb.cells[index].source = nb.cells[index].source.replace("### END HIDDEN TESTS", source + "\n### END HIDDEN TESTS")
    for index in sorted(cells, reverse=True):
        nb.cells[index + 1:index + 1] = [nbformat.v4.new_raw_cell(text) for text in cells[index]]
    folder = tmp_path / "solutions"
    folder.mkdir()
    path = folder / "99_toy.ipynb"
    nbformat.write(nb, path)
    return path


def test_apply_mutant_keeps_indentation_and_takes_one_part_per_region():
    cell = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\n### BEGIN SOLUTION\ny = 1\n### END SOLUTION"
    out = markers.apply_mutant(cell, "if x:\n    return 0\nreturn 1\n### NEXT SOLUTION\ny = 2")
    assert out == "def f(x):\n    if x:\n        return 0\n    return 1\n\ny = 2"
    with pytest.raises(markers.MarkerError, match="2 solution region"):
        markers.apply_mutant(cell, "return 0")


@pytest.mark.parametrize("cell, index, expected", [
    (nbformat.v4.new_code_cell("# MUTANT q1: wrong\nq1_total = 1"), 6, "must be a raw cell"),
    (nbformat.v4.new_raw_cell("# MUTANT q1 wrong\nq1_total = 1"), 6, "must read '# MUTANT q1: why"),
    (nbformat.v4.new_raw_cell("# MUTANT q1: nothing below"), 6, "no code under its header"),
    (nbformat.v4.new_raw_cell("# MUTANT q1: too early\nq1_total = 1"), 4, "after the answer cell"),
    (nbformat.v4.new_raw_cell("# MUTANT q9: no such question\nq1_total = 1"), 6, "no test cell grades a question 'q9'"),
    (nbformat.v4.new_raw_cell("# MUTANT q1: same as the answer\nq1_total = sum(range(1, N_TERMS + 1))"), 6,
     "does not change the answer"),
    (nbformat.v4.new_raw_cell("# MUTANT q1: bad syntax\nq1_total = (1"), 6, "does not parse"),
])
def test_malformed_mutants_are_master_problems(cell, index, expected):
    nb = nbformat.read(TOY_MASTER, as_version=4)
    nb.cells.insert(index, cell)
    messages = [message for _, message in markers.master_problems(nb)]
    assert any(expected in message for message in messages), messages


def test_exercise_drops_mutants_and_lint_refuses_them_outside_solutions(tmp_path):
    path = toy_with_mutants(tmp_path, {7: ["# MUTANT q1: off by one\nq1_total = sum(range(1, N_TERMS))"]})
    nb = nbformat.read(path, as_version=4)
    master = markers.parse_master(nb, path)
    assert [(m.question, m.why, m.answer_index) for m in master.mutants] == [("q1", "off by one", 5)]
    exercise = exercises.exercise_from_master(nb, "solutions/99_toy.ipynb", "exercises/99_toy.ipynb")
    assert not any("MUTANT" in cell.source for cell in exercise.cells)
    (tmp_path / "exercises").mkdir()
    nbformat.write(nb, tmp_path / "exercises" / "99_toy.ipynb")
    problems = lint.lint_notebook(tmp_path / "exercises" / "99_toy.ipynb", tmp_path)
    assert any("MUTANT" in p.message for p in problems)


def test_check_no_mutation_and_expect_raises_on_plain_functions():
    def scale_in_place(x):
        x *= 2
        return x

    with pytest.raises(AssertionError, match="modified its argument 1"):
        checks.check_no_mutation(scale_in_place, np.ones(3))
    assert checks.check_no_mutation(lambda x, k=None: x * 2, np.ones(2), k=[1]).tolist() == [2.0, 2.0]
    with pytest.raises(AssertionError, match="modified its argument k="):
        checks.check_no_mutation(lambda x, k: k.append(1), 1, k=[])
    assert checks.same_value([np.nan, {"a": np.array([1.0, np.nan])}], [np.nan, {"a": np.array([1.0, np.nan])}])

    def strict(value):
        raise ValueError(f"bad value {value!r}")

    assert "7" in checks.expect_raises(ValueError, strict, 7, match="7")
    with pytest.raises(AssertionError, match="does not mention"):
        checks.expect_raises(ValueError, strict, 7, match="eight")
    with pytest.raises(AssertionError, match="returned normally"):
        checks.expect_raises(ValueError, abs, -1)


@pytest.mark.slow
def test_check_master_on_the_toy(tmp_path):
    """Caught, kept and broken mutants; the no-mutation check sees through the grader's copies."""
    in_place = ("v = np.asarray(v, dtype=float)\nnorm = np.linalg.norm(v)\nif norm == 0:\n    raise ValueError('zero')\n"
                "v /= norm\nreturn v")
    path = toy_with_mutants(tmp_path, {
        7: ["# MUTANT q1: off by one at the end\nq1_total = sum(range(1, N_TERMS))",
            "# MUTANT q1: a float\nq1_total = 5050.0"],
        10: ["# MUTANT q2: cubes\nq2_squares = np.arange(5) ** 3",
             "# MUTANT q2: raises\nq2_squares = undefined_name"],
        14: ["# MUTANT q3: normalises the caller's array in place\n" + in_place],
        17: ["# MUTANT q4: same counts in another order (not wrong: kept)\n"
             "q4_counts = {'be': 2, 'to': 2, 'or': 1, 'not': 1}"],
    }, extra_test=(13, "from course_utils.grading.checks import check_no_mutation\n"
                       "check_no_mutation(normalize, np.array([3.0, 4.0]))"))
    report = mutants.check_master(path, min_per_question=2)
    by_why = {r.why: r for r in report.results}
    assert report.master_scores == report.max_scores, report.problems
    assert by_why["off by one at the end"].caught and by_why["a float"].caught and by_why["cubes"].caught
    assert by_why["raises"].problem.startswith("its code raised") and not by_why["raises"].caught
    assert by_why["normalises the caller's array in place"].caught, by_why["normalises the caller's array in place"]
    assert by_why["normalises the caller's array in place"].points == 1  # the value is right, the side effect is not
    kept = by_why["same counts in another order (not wrong: kept)"]
    assert kept.points == kept.max_points and not kept.caught
    assert any("q3 declares 1 mutant" in p for p in report.problems)
    assert not report.ok
    text = mutants.format_report(report)
    assert "KEPT FULL POINTS" in text and "INVALID" in text


# ----------------------------------------------------------------------------------- real masters
MASTERS = sorted((REPO / "solutions").glob("*.ipynb"))


def _declares_mutants(path: Path) -> bool:
    return any(cell.get("cell_type") == "raw" and "".join(cell["source"]).startswith("# MUTANT")
               for cell in json.loads(path.read_text(encoding="utf-8"))["cells"])


WITH_MUTANTS = [m for m in MASTERS if _declares_mutants(m)]


@pytest.mark.slow
@pytest.mark.parametrize("master", WITH_MUTANTS, ids=[m.stem for m in WITH_MUTANTS])
def test_every_declared_mutant_loses_points(master):
    report = mutants.check_master(master, min_per_question=2)
    assert report.ok, mutants.format_report(report)


def test_every_master_declares_mutants():
    assert [m.stem for m in MASTERS if m not in WITH_MUTANTS] == []
