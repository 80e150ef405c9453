"""The authoring subcommands: ``course build-exercises``, ``course lint`` and ``course check-mutants``."""

from __future__ import annotations

import sys
from pathlib import Path

from .exercises import build_exercises
from .lint import _notebooks, _relative_path, _repo_root, fix_notebook, lint_paths


def _cmd_build(args) -> int:
    return build_exercises(Path(args.root) if args.root else _repo_root(), check=args.check)


def _cmd_lint(args) -> int:
    root = Path(args.root) if args.root else _repo_root()
    try:
        if args.fix:
            for nb in _notebooks(args.paths, root):
                try:
                    if fix_notebook(nb, root):
                        print(f"fixed {_relative_path(nb, root)}")
                except Exception as err:
                    print(f"cannot fix {_relative_path(nb, root)}: {type(err).__name__}: {err}")
        problems = lint_paths(args.paths, root)
    except ValueError as err:
        print(f"course lint: {err}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    count = len(_notebooks(args.paths, root))
    print(f"{len(problems)} problem(s) in {count} notebook(s)")
    return 1 if problems else 0


def register(subparsers) -> None:
    build = subparsers.add_parser("build-exercises", help="write exercises/ from the masters in solutions/",
                                  description="Write exercises/NN_slug.ipynb from solutions/NN_slug.ipynb: solutions "
                                  "become '# YOUR CODE HERE', hidden tests are removed, outputs stripped.")
    build.add_argument("--check", action="store_true", help="do not write; exit 1 if exercises/ is out of date")
    build.add_argument("--root", help="repository root (default: this checkout)")
    build.set_defaults(func=_cmd_build)
    lint = subparsers.add_parser("lint", help="check notebook conventions (docs/AUTHORING.md)",
                                 description="Check every notebook in notebooks/, exercises/, solutions/ (or PATHS).")
    lint.add_argument("paths", nargs="*", help="notebooks or folders (default: notebooks/ exercises/ solutions/)")
    lint.add_argument("--fix", action="store_true", help="repair format, metadata and badge URLs in place first")
    lint.add_argument("--root", help="repository root (default: this checkout)")
    lint.set_defaults(func=_cmd_lint)
    mutants = subparsers.add_parser(
        "check-mutants", help="grade each master's declared wrong answers; fail if one keeps full points",
        description="For every '# MUTANT qN: why' cell of the masters, grade the master with that question's answer "
        "replaced by the mutant (the real grading path: exported answers, the master's tests in a fresh process) "
        "and fail when a mutant keeps full points on its question, when a question declares fewer than "
        "--min-per-question mutants, or when the master itself loses points.")
    mutants.add_argument("assignments", nargs="*", help="chapter numbers or master stems (default: every master)")
    mutants.add_argument("--jobs", type=int, default=2, help="masters checked in parallel (default 2)")
    mutants.add_argument("--min-per-question", type=int, default=2, help="mutants each graded question must declare (default 2)")
    mutants.add_argument("--solutions", help="folder of masters (default: solutions/ of this checkout)")
    mutants.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="none",
                         help="none (default: the masters are the author's own code) or bwrap/auto as in `course grade`")
    mutants.add_argument("--json", dest="json_out", help="also write the per-mutant results to this JSON file")
    mutants.set_defaults(func=lambda args: __import__("course_utils.grading.mutants", fromlist=["main"]).main(args))
