"""The class roster: which student handed in which submission file.

``course grade ... --roster roster.csv`` and ``course export`` read a CSV with the columns
``student_id,name,email,section,file`` (``file`` is the submission's file name in
SUBMISSIONS_DIR). An LMS keys grades on a student's ID or email, never on a file name, so the
exports (:mod:`.lms_export`) go through :func:`match`, which reports both kinds of mismatch: a
graded file that no student claims, and a student with no graded file. Neither is dropped
silently: the caller prints them and writes them to ``roster_report.md``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ("student_id", "name", "email", "section", "file")
REQUIRED = ("student_id", "name", "file")  # email and section may be blank (not every LMS needs them)
MAX_ROSTER_BYTES = 5 * 2**20


class RosterError(ValueError):
    """The roster cannot be used: the message names the row and column, and how to fix it."""


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    email: str
    section: str
    file: str


@dataclass
class Match:
    """The roster joined with the graded rows."""

    pairs: list[tuple[Student, dict]] = field(default_factory=list)  # (student, gradebook row)
    missing: list[Student] = field(default_factory=list)  # on the roster, no graded file
    unmatched: list[dict] = field(default_factory=list)  # graded, but no student claims the file

    def report(self) -> str:
        """Markdown for ``roster_report.md`` (also what the CLI prints)."""
        lines = ["# Roster check", "",
                 f"{len(self.pairs)} student(s) matched to a graded file, {len(self.missing)} student(s) "
                 f"without one, {len(self.unmatched)} graded file(s) on nobody's roster row.", ""]
        if self.missing:
            lines += ["## Students without a graded submission (exported with an empty grade)", ""]
            lines += [f"- {s.student_id} {s.name} <{s.email}>: expected file `{s.file}`" for s in self.missing]
            lines.append("")
        if self.unmatched:
            lines += ["## Graded files that match no roster row (not exported: add them to the roster)", ""]
            lines += [f"- `{r['submission']}` (score {r.get('score')}/{r.get('max_score')})" for r in self.unmatched]
            lines.append("")
        return "\n".join(lines)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.unmatched


def read_roster(path: Path | str) -> list[Student]:
    """Parse and validate a roster CSV; raises :class:`RosterError` naming every problem found."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"roster {path} does not exist (expected a CSV with columns {','.join(COLUMNS)})")
    raw = path.read_bytes()
    if len(raw) > MAX_ROSTER_BYTES:
        raise RosterError(f"roster {path} is larger than {MAX_ROSTER_BYTES // 2**20} MB: is it really a roster?")
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError:
        raise RosterError(f"roster {path} is not UTF-8 text: save it as 'CSV UTF-8' from your spreadsheet") from None
    return parse_roster(text, str(path))


def parse_roster(text: str, where: str = "roster") -> list[Student]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    absent = [c for c in COLUMNS if c not in header]
    if absent:
        raise RosterError(f"{where}: missing column(s) {', '.join(absent)}; the header must be "
                          f"{','.join(COLUMNS)} (found {','.join(header) or 'no header'})")
    reader.fieldnames = header
    problems: list[str] = []
    students: list[Student] = []
    by_id: dict[str, int] = {}
    by_file: dict[str, int] = {}
    by_email: dict[str, int] = {}
    for line, record in enumerate(reader, start=2):
        if None in record:
            problems.append(f"line {line}: more fields than the header's {len(header)} (a comma inside a name? quote it)")
            continue
        values = {c: (record.get(c) or "").strip() for c in COLUMNS}
        if not any(values.values()):
            continue  # blank line
        for column in REQUIRED:
            if not values[column]:
                problems.append(f"line {line}: empty {column}")
        file_name = values["file"]
        if file_name and (Path(file_name).name != file_name or file_name.startswith(".")):
            problems.append(f"line {line}: file {file_name!r} must be a plain file name in SUBMISSIONS_DIR, "
                            "not a path or a hidden file")
        if values["email"] and "@" not in values["email"]:
            problems.append(f"line {line}: email {values['email']!r} has no @")
        for key, seen, label in ((values["student_id"], by_id, "student_id"), (file_name, by_file, "file"),
                                 (values["email"].lower(), by_email, "email")):
            if key and key in seen:
                problems.append(f"line {line}: {label} {key!r} already on line {seen[key]} (one row per student)")
            elif key:
                seen[key] = line
        students.append(Student(**values))
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise RosterError(f"{where} has {len(problems)} problem(s):\n  " + "\n  ".join(shown))
    if not students:
        raise RosterError(f"{where} lists no students (only a header?)")
    return students


def match(students: list[Student], rows: list[dict]) -> Match:
    """Join roster rows to gradebook rows on the submission's file name."""
    by_file = {row["submission"]: row for row in rows}
    result = Match()
    for student in students:
        row = by_file.pop(student.file, None)
        if row is None:
            result.missing.append(student)
        else:
            result.pairs.append((student, row))
    result.unmatched = list(by_file.values())
    return result
