"""Roster matching and the Canvas, Moodle and Gradescope exports, on a small fake class.

The class takes the toy master (tests/grading/assignment/solutions/99_toy.ipynb). Each student's
answers go through the real test process (``testproc.run_test_cells``, data answers only, so no
sandbox is needed), and the gradebook is written by the grader's own ``write_gradebook``: the
export reads exactly what ``course grade`` leaves in OUT.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from course_utils.authoring import markers
from course_utils.grading import codec, lms_export, roster, testproc
from course_utils.grading.report import _num, _safe_name, write_gradebook
from course_utils.tools import cli

HERE = Path(__file__).parent
TOY = HERE / "grading" / "assignment" / "solutions" / "99_toy.ipynb"

# file -> the answers that student's notebook exported (q3's function is left out: data only)
CLASS = {
    "alice.ipynb": {"q1_total": 5050, "q2_squares": [0, 1, 4, 9, 16], "q4_counts": {"to": 2, "be": 2, "or": 1, "not": 1}},
    "bob.ipynb": {"q1_total": 5000, "q2_squares": [0, 1, 4, 9, 16], "q4_counts": {"to": 2}},  # fails two hidden blocks
    "carol.ipynb": {"q1_total": "5050"},  # a string: q1's visible checks fail; q2, q4 missing
    "mallory_extra.ipynb": {"q1_total": 5050},  # nobody's roster row names this file
}
ROSTER = """student_id,name,email,section,file
s001,"Doe, Alice",alice@uni.example,A,alice.ipynb
s002,Bob Li,bob@uni.example,B,bob.ipynb
s003,Carol Ng,carol@uni.example,A,carol.ipynb
s004,Erin Cho,erin@uni.example,B,erin.ipynb
"""


@pytest.fixture(scope="module")
def master():
    return markers.parse_master(nbformat.read(TOY, as_version=4), TOY)


def _grade_with_testproc(master, answers: dict, workdir: Path) -> list[dict]:
    import numpy as np

    answers_dir = workdir / "answers"
    answers_dir.mkdir(parents=True)
    namespace = {k: (np.asarray(v) if k == "q2_squares" else v) for k, v in answers.items()}
    codec.export_answers(namespace, [n for n in master.answer_names if n in namespace], str(answers_dir))
    job = {"answer_names": master.answer_names, "answers_dir": str(answers_dir),
           "tests": [{"index": t.index, "question": t.question, "points": t.points, "visible": t.visible,
                      "hidden": t.hidden} for t in master.tests],
           "parameters_source": master.parameters_source, "parameters": {"SMOKE": True, "SEED": 42},
           "test_timeout": 10, "call_timeout": 5}
    return testproc.run_test_cells(job)


@pytest.fixture(scope="module")
def graded(master, tmp_path_factory):
    """OUT as `course grade` leaves it for the fake class."""
    out = tmp_path_factory.mktemp("grades")
    (out / "results").mkdir()
    rows = []
    for name, answers in CLASS.items():
        tests = _grade_with_testproc(master, answers, tmp_path_factory.mktemp(Path(name).stem))
        scores = {}
        for test in tests:
            if test["passed"]:
                scores[test["question"]] = scores.get(test["question"], 0) + test["points"]
        row = {"submission": name, "status": "ok", "score": _num(sum(scores.values())),
               "max_score": _num(sum(master.questions.values())), "seconds": 1.5,
               **{q: _num(scores.get(q, 0)) for q in master.questions}, "detail": ""}
        rows.append(row)
        (out / "results" / _safe_name(name, ".json")).write_text(json.dumps({"row": row, "tests": tests}))
    write_gradebook(rows, list(master.questions), out / "gradebook.csv")
    roster_path = out.parent / "roster.csv"
    roster_path.write_text(ROSTER, encoding="utf-8")
    return out, roster_path, {r["submission"]: r for r in rows}


def _csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# --------------------------------------------------------------------------- roster
def test_roster_parses_and_matches(graded):
    out, roster_path, rows = graded
    students = roster.read_roster(roster_path)
    assert [s.student_id for s in students] == ["s001", "s002", "s003", "s004"]
    match = roster.match(students, list(rows.values()))
    assert [s.file for s, _ in match.pairs] == ["alice.ipynb", "bob.ipynb", "carol.ipynb"]
    assert [s.student_id for s in match.missing] == ["s004"]
    assert [r["submission"] for r in match.unmatched] == ["mallory_extra.ipynb"]
    report = match.report()
    assert "erin.ipynb" in report and "mallory_extra.ipynb" in report and not match.complete


@pytest.mark.parametrize("text, expected", [
    ("student_id,name,email,file\ns1,A,a@x,a.ipynb\n", "missing column(s) section"),
    ("student_id,name,email,section,file\ns1,,a@x,A,a.ipynb\n", "line 2: empty name"),
    ("student_id,name,email,section,file\ns1,A,a@x,A,a.ipynb\ns1,B,b@x,A,b.ipynb\n", "student_id 's1' already on line 2"),
    ("student_id,name,email,section,file\ns1,A,a@x,A,a.ipynb\ns2,B,b@x,A,a.ipynb\n", "file 'a.ipynb' already on line 2"),
    ("student_id,name,email,section,file\ns1,A,a@x,A,../a.ipynb\n", "plain file name"),
    ("student_id,name,email,section,file\ns1,A,not-an-email,A,a.ipynb\n", "has no @"),
    ("student_id,name,email,section,file\ns1,Doe, Al,a@x,A,a.ipynb\n", "more fields than the header"),
    ("student_id,name,email,section,file\n", "lists no students"),
])
def test_bad_roster_names_the_problem(text, expected):
    with pytest.raises(roster.RosterError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        roster.parse_roster(text)


def test_roster_file_errors(tmp_path):
    with pytest.raises(roster.RosterError, match="does not exist"):
        roster.read_roster(tmp_path / "nope.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("student_id,name,email,section,file\ns1,Jos\xe9,j@x,A,j.ipynb\n".encode("latin-1"))
    with pytest.raises(roster.RosterError, match="not UTF-8"):
        roster.read_roster(latin)
    bom = tmp_path / "bom.csv"
    bom.write_bytes("student_id,name,email,section,file\ns1,José,j@x,A,j.ipynb\n".encode("utf-8-sig"))
    assert roster.read_roster(bom)[0].name == "José"


# --------------------------------------------------------------------------- formats
def test_canvas_csv(master, graded):
    out, roster_path, rows = graded
    lms_export.export(master, out, ["canvas"], students=roster.read_roster(roster_path),
                      assignment_name="Toy lab (4821)")
    table = _csv(out / "canvas.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Toy lab (4821)"]
    assert table[1][0].strip() == "Points Possible"
    assert float(table[1][5]) == sum(master.questions.values())
    by_id = {r[2]: r for r in table[2:]}
    assert set(by_id) == {"s001", "s002", "s003", "s004"}  # mallory's file is not on the roster: not exported
    for sid, file in (("s001", "alice.ipynb"), ("s002", "bob.ipynb"), ("s003", "carol.ipynb")):
        assert float(by_id[sid][5]) == float(rows[file]["score"])
    assert by_id["s004"][5] == ""  # no graded file: left empty, and reported
    assert by_id["s001"][0] == "Doe, Alice"
    assert "erin.ipynb" in (out / "roster_report.md").read_text()


def test_moodle_csv(master, graded):
    out, roster_path, rows = graded
    lms_export.export(master, out, ["moodle"], students=roster.read_roster(roster_path))
    table = _csv(out / "moodle.csv")
    assert table[0] == ["email", "idnumber", "name", "99_toy", "99_toy feedback"]
    by_email = {r[0]: r for r in table[1:]}
    assert float(by_email["bob@uni.example"][3]) == float(rows["bob.ipynb"]["score"])
    assert by_email["bob@uni.example"][4].startswith(f"{rows['bob.ipynb']['score']}/{rows['bob.ipynb']['max_score']}")
    assert by_email["erin@uni.example"][3] == "" and by_email["erin@uni.example"][4] == "no graded submission"


def test_gradescope_results_visibility_and_no_hidden_source(master, graded):
    out, roster_path, rows = graded
    result = lms_export.export(master, out, ["gradescope"], students=roster.read_roster(roster_path))
    paths = {p.parent.name: p for p in result.files if p.name == "results.json"}
    assert set(paths) == {"s001", "s002", "s003"}
    hidden_sources = [t.hidden for t in master.tests if t.hidden.strip()]
    for sid, file in (("s001", "alice.ipynb"), ("s002", "bob.ipynb"), ("s003", "carol.ipynb")):
        text = paths[sid].read_text()
        data = json.loads(text)
        assert data["score"] == float(rows[file]["score"])
        assert sum(t["score"] for t in data["tests"]) == data["score"]
        assert sum(t["max_score"] for t in data["tests"]) == sum(master.questions.values())
        assert {t["visibility"] for t in data["tests"]} == {"visible", "after_published"}
        for source in hidden_sources:
            for line in filter(None, (s.strip() for s in source.splitlines())):
                assert line not in text, f"hidden test source leaked into {paths[sid]}: {line}"
    bob = json.loads(paths["s002"].read_text())["tests"]
    q1_hidden = next(t for t in bob if t["name"] == "q1 check 2: hidden tests")
    assert q1_hidden["score"] == 0 and q1_hidden["output"] == "a hidden test failed (AssertionError)"
    q1_visible = next(t for t in bob if t["name"] == "q1 check 2: visible checks")
    assert q1_visible["status"] == "passed" and q1_visible["max_score"] == 0
    carol = json.loads(paths["s003"].read_text())["tests"]
    assert next(t for t in carol if t["name"] == "q1 check 1: visible checks")["status"] == "failed"
    assert next(t for t in carol if t["name"] == "q1 check 2: hidden tests")["output"].startswith("not run")
    hidden = lms_export.gradescope_results(master, rows["alice.ipynb"], lms_export.read_tests(out, "alice.ipynb"),
                                           hidden_visibility="hidden")
    assert {t["visibility"] for t in hidden["tests"]} == {"visible", "hidden"}


def test_gradescope_without_roster_keys_on_file(master, graded, tmp_path):
    out, _, _ = graded
    result = lms_export.export(master, out, ["gradescope"])
    assert {p.parent.name for p in result.files} == {"alice", "bob", "carol", "mallory_extra"}


def test_canvas_needs_a_roster_and_gradebook(master, graded, tmp_path):
    out, _, _ = graded
    with pytest.raises(lms_export.ExportError, match="--roster"):
        lms_export.export(master, out, ["canvas"])
    with pytest.raises(lms_export.ExportError, match="run `course grade"):
        lms_export.export(master, tmp_path, ["gradescope"])


def test_course_export_cli(graded, tmp_path, capsys):
    out, roster_path, _ = graded
    solutions = str(TOY.parent)
    code = cli.main(["export", "99", str(out), "--solutions", solutions, "--roster", str(roster_path),
                     "--export", "canvas", "--export", "moodle"])
    captured = capsys.readouterr()
    assert code == 0
    assert "canvas.csv" in captured.out and "moodle.csv" in captured.out
    assert "erin.ipynb" in captured.err and "mallory_extra.ipynb" in captured.err  # reported, not dropped
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n1,x\n")
    code = cli.main(["export", "99", str(out), "--solutions", solutions, "--roster", str(bad), "--export", "canvas"])
    assert code == 2 and "missing column(s)" in capsys.readouterr().err
    assert os.path.isfile(out / "gradebook.csv")


@pytest.mark.slow
def test_course_grade_with_roster_and_exports(tmp_path, capsys):
    """The real path: `course grade --roster --export` on two toy submissions (one not on the roster)."""
    import shutil

    submissions = tmp_path / "subs"
    submissions.mkdir()
    shutil.copy(TOY, submissions / "alice.ipynb")  # the master itself: full marks
    shutil.copy(HERE / "grading" / "assignment" / "exercises" / "99_toy.ipynb", submissions / "stray.ipynb")
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student_id,name,email,section,file\ns1,Alice,alice@uni.example,A,alice.ipynb\n"
                           "s2,Bo,bo@uni.example,A,bo.ipynb\n")
    out = tmp_path / "out"
    code = cli.main(["grade", "99", str(submissions), "--out", str(out), "--solutions", str(TOY.parent),
                     "--sandbox", "none", "--quiet", "--roster", str(roster_path),
                     "--export", "canvas", "--export", "moodle", "--export", "gradescope"])
    err = capsys.readouterr().err
    assert code == 0
    assert "bo.ipynb" in err and "stray.ipynb" in err
    canvas = {r[2]: r for r in _csv(out / "canvas.csv")[2:]}
    assert float(canvas["s1"][5]) == float(canvas_points := _csv(out / "canvas.csv")[1][5]) and canvas_points
    assert canvas["s2"][5] == ""
    results = json.loads((out / "gradescope" / "s1" / "results.json").read_text())
    assert results["score"] == float(canvas_points)
    assert all(t["status"] == "passed" for t in results["tests"])


def test_a_grader_failure_is_exported_without_a_grade(master, graded, tmp_path):
    # A grader-error row's score is no verdict: no LMS may receive it as a grade.
    out, roster_path, rows = graded
    failed_out = tmp_path / "grades"
    shutil.copytree(out, failed_out)
    broken = [dict(r, status="grader-error", detail="grader failure, not a verdict") if r["submission"] == "carol.ipynb"
              else r for r in rows.values()]
    write_gradebook(broken, list(master.questions), failed_out / "gradebook.csv")
    result = lms_export.export(master, failed_out, ["canvas", "moodle", "gradescope"],
                               students=roster.read_roster(roster_path))
    assert result.not_graded == ["carol.ipynb"]
    canvas = {r[2]: r for r in _csv(failed_out / "canvas.csv")[2:]}
    assert canvas["s003"][5] == "" and float(canvas["s001"][5]) == float(rows["alice.ipynb"]["score"])
    moodle = {r[0]: r for r in _csv(failed_out / "moodle.csv")[1:]}
    carol = next(r for email, r in moodle.items() if email.startswith("carol"))
    assert carol[3] == "" and "not graded yet" in carol[4]
    written = {p.parent.name for p in result.files if p.name == "results.json"}
    assert "s003" not in written and "s001" in written
