"""``course grade``: the command line of :func:`course_utils.grading.grade`."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from .batch import grade
from .config import DEFAULT_CELL_TIMEOUT, DEFAULT_MEMORY, DEFAULT_TIMEOUT, STATUSES, GraderError


def _parameter(text: str):
    name, _, value = text.partition("=")
    if not name.isidentifier() or not _:
        raise argparse.ArgumentTypeError(f"-p {text!r}: use NAME=VALUE, e.g. -p SEED=7")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def _cmd_grade(args) -> int:
    from . import lms_export

    try:
        students = lms_export.load_roster_arg(args)  # a bad roster stops here, before any grading
        rows = grade(args.assignment, args.submissions, args.out, jobs=args.jobs, timeout=args.timeout,
                     cell_timeout=args.cell_timeout, memory_limit=args.memory_limit, sandbox=args.sandbox,
                     force=args.force, solutions=args.solutions, parameters=dict(args.parameter or []),
                     progress=not args.quiet)
    except (GraderError, lms_export.ExportError, lms_export.rosters.RosterError) as err:
        print(f"course grade: {err}", file=sys.stderr)
        return 2
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    print(f"graded {len(rows)} submission(s): " + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
          + f"; gradebook: {Path(args.out) / 'gradebook.csv'}")
    return lms_export.export_after_grading(args, None, students)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "grade", help="grade a folder of submitted notebooks",
        description="Grade each notebook in SUBMISSIONS_DIR against the master in solutions/: run it sandboxed, "
        "then run the master's visible and hidden tests in a fresh process. Exit 0 when the batch completed "
        "(whatever the scores), 2 when the grader could not run.")
    parser.add_argument("assignment", help="chapter number (03) or the master's file stem (03_mnist_cnn)")
    parser.add_argument("submissions", metavar="SUBMISSIONS_DIR", help="folder with one notebook per student")
    parser.add_argument("--out", required=True, help="output folder (gradebook.csv, feedback/, executed/, grade.log)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per submission (default 600)")
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT, help="seconds per cell (default 120)")
    parser.add_argument("--memory-limit", default=DEFAULT_MEMORY,
                        help="resident memory of one submission's processes, e.g. 4G (default), or none; "
                        "a submission above it is stopped with status crashed")
    parser.add_argument("--sandbox", choices=("bwrap", "auto", "none"), default="bwrap",
                        help="bwrap (default; auto is the same): run submissions in bubblewrap, and refuse to grade "
                        "when it does not work here; none: run them unsandboxed, with your permissions")
    parser.add_argument("--force", action="store_true", help="regrade submissions already graded in OUT")
    parser.add_argument("--solutions", help="folder of masters (default: solutions/ of this checkout, or of the "
                        "current folder when the package is installed from a wheel)")
    parser.add_argument("-p", "--parameter", action="append", type=_parameter, metavar="NAME=VALUE",
                        help="notebook parameter (default SMOKE=True and the master's SEED)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    from .lms_export import add_arguments

    add_arguments(parser, for_grade=True)  # --roster, --export canvas|moodle|gradescope
    parser.set_defaults(func=_cmd_grade)
