"""The ``course`` command: one entry point, one module per subcommand.

Each subcommand lives in the module that does its job and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed args and returning an
exit code. Exit codes: 0 success, 1 the work ran and found a failure, 2 bad usage or the tool
could not run.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__

# module -> what it provides; imported lazily so `course --help` stays fast and TF-free.
SUBCOMMAND_MODULES = (
    "course_utils.tools.runner",  # run
    "course_utils.data",  # data list | fetch | verify
    "course_utils.tools.doctor",  # doctor
    "course_utils.authoring.cli",  # build-exercises, lint, check-mutants
    "course_utils.grading.cli",  # grade
    "course_utils.grading.lms_export",  # export
    "course_utils.grading.variants",  # new-variant
    "course_utils.tools.bench",  # bench
    "course_utils.tools.site",  # site
    "course_utils.tools.release",  # pin
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="Run, check and grade the notebooks of 'AI Big Models and the Startup'.",
    )
    parser.add_argument("--version", action="version", version=f"course-utils {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:  # subcommand not shipped in this build
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
