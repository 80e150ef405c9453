"""Grades in the files an LMS imports: ``course grade --export`` and ``course export``.

Reads what ``course grade`` wrote in OUT (``gradebook.csv``, ``results/NAME.json``) and writes,
beside the gradebook:

- ``canvas.csv``: Canvas's gradebook import format (identity columns ``Student, ID, SIS User ID,
  SIS Login ID, Section``, a "Points Possible" row, one column for the assignment);
- ``moodle.csv``: for Moodle's CSV grade import, keyed by email and ID number, with a feedback
  column (Moodle wipes grades when feedback is imported without them, so both always travel);
- ``gradescope/KEY/results.json``: Gradescope's autograder output, one per submission, with one
  test per visible check and per hidden-test block; hidden blocks never carry their source.

Canvas and Moodle key grades on students, so they need the roster (:mod:`.roster`); a student
without a graded file gets an empty grade and a graded file nobody claims is left out, and both
are listed in ``roster_report.md``. The formats and their sources are in docs/INSTRUCTORS.md.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..authoring import markers
from . import roster as rosters

FORMATS = ("canvas", "moodle", "gradescope")
HIDDEN_VISIBILITIES = ("after_published", "after_due_date", "hidden")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_LABEL = "    Points Possible"  # Canvas's export writes the label indented; its import skips the row
# The test process words a failing hidden block this way (testproc.run_test_cells); only such
# messages mean the visible checks before it passed.
HIDDEN_FAILURE_PREFIXES = ("a hidden test failed", "the hidden test took longer")


class ExportError(ValueError):
    """The export cannot be written (no gradebook, a format that needs a roster, ...)."""


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    match: rosters.Match | None = None
    not_graded: list[str] = field(default_factory=list)  # submissions whose status is grader-error


# --------------------------------------------------------------------------- reading OUT
def read_gradebook(out: Path) -> list[dict]:
    path = Path(out) / "gradebook.csv"
    if not path.is_file():
        raise ExportError(f"no {path}: run `course grade ASSIGNMENT SUBMISSIONS_DIR --out {out}` first")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        # write_gradebook protects text against spreadsheet formulas with a leading quote
        if row.get("submission", "").startswith("'"):
            row["submission"] = row["submission"][1:]
    return rows


def read_tests(out: Path, submission: str) -> list[dict]:
    """The per-test-cell results ``course grade`` saved for one submission (empty if none)."""
    from .report import _safe_name

    path = Path(out) / "results" / _safe_name(submission, ".json")
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("tests", [])
    except (OSError, ValueError):
        return []


def _number(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")


#: A row with this status was not graded to the end by the grader's own fault: its score is no
#: verdict, so no LMS gets it (the cell stays empty, like a missing submission) until a re-run.
NOT_A_VERDICT = "grader-error"


def exportable_score(row: dict | None) -> float | None:
    """The score to put in an LMS, or None (empty) for no submission or a grader failure."""
    if row is None or row.get("status") == NOT_A_VERDICT:
        return None
    return _number(row.get("score"))


def max_points(master: markers.Master) -> float:
    return float(sum(master.questions.values()))


# --------------------------------------------------------------------------- Canvas
def write_canvas(path: Path, match: rosters.Match, column: str, points: float) -> None:
    """Canvas gradebook import CSV: identity columns, a Points Possible row, one assignment column.

    ``ID`` is Canvas's internal user id, which a roster does not have: it stays empty and Canvas
    matches the row on ``SIS User ID`` (the roster's ``student_id``).
    """
    students = [(s, row) for s, row in match.pairs] + [(s, None) for s in match.missing]
    students.sort(key=lambda pair: (pair[0].section, pair[0].name.lower()))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*CANVAS_IDENTITY, column])
        writer.writerow([CANVAS_POINTS_LABEL, "", "", "", "", _fmt(points)])
        for student, row in students:
            writer.writerow([_cell(student.name), "", _cell(student.student_id), "", _cell(student.section),
                             _fmt(exportable_score(row))])


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading roster text as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# --------------------------------------------------------------------------- Moodle
def moodle_feedback(row: dict | None, questions: list[str]) -> str:
    """One line a student can read in Moodle: score, per-question points, status."""
    if row is None:
        return "no graded submission"
    if row.get("status") == NOT_A_VERDICT:
        return "not graded yet: the grader failed on this submission (not a verdict on it); it will be re-graded"
    parts = [f"{_fmt(_number(row.get('score')))}/{_fmt(_number(row.get('max_score')))}"]
    parts.append(", ".join(f"{q} {_fmt(_number(row.get(q)))}" for q in questions if q in row))
    if row.get("status") != "ok":
        parts.append(f"status {row.get('status')}: {row.get('detail', '')}".strip(": "))
    return "; ".join(p for p in parts if p)[:1000]


def write_moodle(path: Path, match: rosters.Match, column: str, questions: list[str]) -> None:
    """Moodle CSV grade import: map ``email`` to "Email address" (or ``idnumber`` to "ID number")."""
    students = [(s, row) for s, row in match.pairs] + [(s, None) for s in match.missing]
    students.sort(key=lambda pair: pair[0].name.lower())
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "idnumber", "name", column, f"{column} feedback"])
        for student, row in students:
            writer.writerow([student.email, _cell(student.student_id), _cell(student.name), _fmt(exportable_score(row)),
                             _cell(moodle_feedback(row, questions))])


# --------------------------------------------------------------------------- Gradescope
def gradescope_results(master: markers.Master, row: dict, tests: list[dict],
                       hidden_visibility: str = "after_published") -> dict:
    """Gradescope's results.json for one graded submission.

    One Gradescope test per visible-check block and per hidden block of each test cell. A cell's
    points are earned only when all its blocks pass, so they sit on its last block (the hidden
    one when there is one); a visible block followed by a hidden one is shown with 0 points.
    A hidden block's output is "passed", the exception type of its failure, or why it did not
    run: never its source or its assertion message.
    """
    if hidden_visibility not in HIDDEN_VISIBILITIES:
        raise ExportError(f"hidden-test visibility {hidden_visibility!r} is not one of {', '.join(HIDDEN_VISIBILITIES)}")
    by_index = {t.get("index"): t for t in tests}
    counter: dict[str, int] = {}
    entries = []
    for cell in master.tests:
        counter[cell.question] = counter.get(cell.question, 0) + 1
        label = f"{cell.question} check {counter[cell.question]}"
        result = by_index.get(cell.index)
        has_visible, has_hidden = bool(cell.visible.strip()), bool(cell.hidden.strip())
        passed = bool(result and result.get("passed"))
        message = (result or {}).get("message", "") if result else "not graded (the test process did not report it)"
        hidden_failed = message.startswith(HIDDEN_FAILURE_PREFIXES)
        visible_ok = passed or hidden_failed
        if has_visible:
            points = 0.0 if has_hidden else float(cell.points)
            entries.append({
                "name": f"{label}: visible checks", "number": f"{len(entries) + 1}",
                "score": points if visible_ok else 0.0, "max_score": points,
                "status": "passed" if visible_ok else "failed",
                "output": "passed" if visible_ok else message, "visibility": "visible"})
        if has_hidden:
            if passed:
                output = "passed"
            elif hidden_failed:
                output = message  # "a hidden test failed (AssertionError)": the exception type only
            elif has_visible:
                output = "not run: the visible checks before it failed"
            else:
                output = message if message.startswith("answer `") else "failed"
            entries.append({
                "name": f"{label}: hidden tests", "number": f"{len(entries) + 1}",
                "score": float(cell.points) if passed else 0.0, "max_score": float(cell.points),
                "status": "passed" if passed else "failed", "output": output,
                "visibility": hidden_visibility})
    summary = f"status {row.get('status')}"
    if row.get("detail"):
        summary += f": {row['detail']}"
    return {"score": _number(row.get("score")) or 0.0, "execution_time": _number(row.get("seconds")) or 0.0,
            "output": summary, "stdout_visibility": "hidden", "tests": entries}


def write_gradescope(folder: Path, master: markers.Master, out: Path, rows: list[dict],
                     match: rosters.Match | None, hidden_visibility: str) -> list[Path]:
    """``folder/KEY/results.json`` per graded submission; KEY is the student_id, else the file stem."""
    written = []
    keyed = ([(s.student_id, row) for s, row in match.pairs] if match is not None
             else [(Path(r["submission"]).stem, r) for r in rows])
    for key, row in keyed:
        from .report import _safe_name

        if row.get("status") == NOT_A_VERDICT:
            continue  # no results.json rather than a score that is no verdict; print_summary names them

        target = folder / _safe_name(key, "") / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        results = gradescope_results(master, row, read_tests(out, row["submission"]), hidden_visibility)
        target.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        written.append(target)
    return written


# --------------------------------------------------------------------------- the export
def export(master: markers.Master, out: Path | str, formats: list[str], *,
           students: list[rosters.Student] | None = None, assignment_name: str | None = None,
           hidden_visibility: str = "after_published") -> ExportResult:
    """Write the requested formats beside OUT/gradebook.csv; returns the files and the roster match."""
    out = Path(out)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"unknown export format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    needs_roster = [f for f in formats if f in ("canvas", "moodle")]
    if needs_roster and students is None:
        raise ExportError(f"--export {needs_roster[0]} keys grades on students: give --roster roster.csv "
                          f"(columns {','.join(rosters.COLUMNS)})")
    rows = read_gradebook(out)
    column = assignment_name or master.path.stem
    result = ExportResult()
    result.not_graded = [r["submission"] for r in rows if r.get("status") == NOT_A_VERDICT]
    if students is not None:
        result.match = rosters.match(students, rows)
        report = out / "roster_report.md"
        report.write_text(result.match.report(), encoding="utf-8")
        result.files.append(report)
    questions = list(master.questions)
    if "canvas" in formats:
        path = out / "canvas.csv"
        write_canvas(path, result.match, column, max_points(master))
        result.files.append(path)
    if "moodle" in formats:
        path = out / "moodle.csv"
        write_moodle(path, result.match, column, questions)
        result.files.append(path)
    if "gradescope" in formats:
        result.files += write_gradescope(out / "gradescope", master, out, rows, result.match, hidden_visibility)
    return result


def print_summary(result: ExportResult, stream=None) -> None:
    stream = stream or sys.stdout
    match = result.match
    if match is not None and not match.complete:
        print(f"roster: {len(match.missing)} student(s) without a graded file (exported with an empty grade), "
              f"{len(match.unmatched)} graded file(s) on no roster row (not exported); "
              f"details in {result.files[0]}", file=sys.stderr)
        for student in match.missing[:10]:
            print(f"  no file: {student.student_id} {student.name} (expected {student.file})", file=sys.stderr)
        for row in match.unmatched[:10]:
            print(f"  not on the roster: {row['submission']}", file=sys.stderr)
    if result.not_graded:
        print(f"{len(result.not_graded)} submission(s) with status {NOT_A_VERDICT} exported without a grade "
              f"(run course grade again): {', '.join(result.not_graded[:10])}", file=sys.stderr)
    others = [p for p in result.files if p.name != "results.json"]
    gradescope = [p for p in result.files if p.name == "results.json"]
    for path in others:
        print(f"wrote {path}", file=stream)
    if gradescope:
        print(f"wrote {len(gradescope)} Gradescope results.json under {gradescope[0].parent.parent}", file=stream)


# --------------------------------------------------------------------------- CLI
def add_arguments(parser, *, for_grade: bool) -> None:
    """The roster/export options, shared by ``course grade`` and ``course export``."""
    parser.add_argument("--roster", help="CSV with columns student_id,name,email,section,file mapping submission "
                        "files to students (needed by canvas and moodle)")
    parser.add_argument("--export", action="append", choices=FORMATS, metavar="FORMAT", required=not for_grade,
                        help="also write grades for an LMS: canvas, moodle or gradescope (repeatable)")
    if not for_grade:
        parser.add_argument("--assignment-name", help="the LMS column's name (default: the master's stem); for "
                            "Canvas use the exported column's name with its id, e.g. 'Lab 3 (48213)'")
        parser.add_argument("--hidden-visibility", choices=HIDDEN_VISIBILITIES, default="after_published",
                            help="Gradescope visibility of hidden-test results (default after_published)")


def load_roster_arg(args) -> list[rosters.Student] | None:
    """The roster named by ``--roster`` or None; raises RosterError before any grading starts."""
    if not getattr(args, "roster", None):
        if any(f in ("canvas", "moodle") for f in (getattr(args, "export", None) or [])):
            raise ExportError("--export canvas/moodle keys grades on students: add --roster roster.csv")
        return None
    return rosters.read_roster(args.roster)


def _solutions_dir(args) -> Path:
    if getattr(args, "solutions", None):
        return Path(args.solutions)
    from .. import paths

    return (paths.repo_root() or Path.cwd()) / "solutions"


def export_after_grading(args, master_path: Path | None, students) -> int:
    """What ``course grade`` calls after writing the gradebook (0, or 2 when the export failed)."""
    if not getattr(args, "export", None) and students is None:
        return 0
    import nbformat

    from .config import find_master

    master_path = master_path or find_master(args.assignment, _solutions_dir(args))
    master = markers.parse_master(nbformat.read(master_path, as_version=4), master_path)
    try:
        result = export(master, Path(args.out), list(args.export or []), students=students,
                        assignment_name=getattr(args, "assignment_name", None),
                        hidden_visibility=getattr(args, "hidden_visibility", "after_published"))
    except ExportError as err:
        print(f"course grade: export failed: {err}", file=sys.stderr)
        return 2
    print_summary(result)
    return 0


def _cmd_export(args) -> int:
    from .config import GraderError, find_master

    try:
        students = load_roster_arg(args)
        master_path = find_master(args.assignment, _solutions_dir(args))
    except (rosters.RosterError, ExportError, GraderError) as err:
        print(f"course export: {err}", file=sys.stderr)
        return 2
    return export_after_grading(args, master_path, students)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="write grades already graded in OUT for Canvas, Moodle or Gradescope",
        description="Read OUT/gradebook.csv and OUT/results/ (written by `course grade`) and write canvas.csv, "
        "moodle.csv or gradescope/KEY/results.json beside them. Students missing from the gradebook and files "
        "missing from the roster are reported in OUT/roster_report.md.")
    parser.add_argument("assignment", help="chapter number (03) or the master's file stem, as given to course grade")
    parser.add_argument("out", metavar="OUT", help="the folder `course grade --out` wrote")
    parser.add_argument("--solutions", help="folder of masters (default: solutions/ of this checkout)")
    add_arguments(parser, for_grade=False)
    parser.set_defaults(func=_cmd_export)
