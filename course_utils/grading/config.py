"""The grader's settings and the environment of its sandboxed processes.

:class:`GraderError` is the grader's own failure (exit code 2); :class:`Settings` is what every
layer of one batch reads.
"""

from __future__ import annotations

import ast
import logging
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..authoring import markers
from . import sandbox as sb

# grader-error: the grader's own machinery failed (answer export, test process, kernel start);
# the scores may be incomplete and say nothing about the submission: fix and rerun (it is regraded).
STATUSES = ("ok", "error", "timeout", "crashed", "invalid", "grader-error")
ANSWERS_DIR = "_grader_answers"
MAX_SUBMISSION_BYTES = 50 * 2**20
MAX_EXECUTED_BYTES = 20 * 2**20
MAX_FEEDBACK_CHARS = 20_000
DEFAULT_TIMEOUT = 600.0
DEFAULT_CELL_TIMEOUT = 120.0
DEFAULT_MEMORY = "4G"
RESULT_VERSION = 1

log = logging.getLogger("course_utils.grading")


class GraderError(Exception):
    """The grader itself cannot run (bad arguments, no master, no sandbox): exit code 2."""


@dataclass
class Settings:
    master_path: Path
    master: markers.Master
    out: Path
    parameters: dict
    timeout: float = DEFAULT_TIMEOUT
    cell_timeout: float = DEFAULT_CELL_TIMEOUT
    limits: sb.Limits = field(default_factory=sb.Limits)
    sandbox: sb.Sandbox = field(default_factory=lambda: sb.Sandbox("none"))
    max_output_bytes: int = 2 * 2**20
    call_timeout: float = 30.0  # one call of a student's function from a test
    fingerprint: str = ""


def find_master(assignment: str, solutions_dir: Path) -> Path:
    """The master for ``'03'``, ``'03_mnist_cnn'`` or a path to a ``.ipynb``."""
    candidate = Path(assignment)
    if candidate.suffix == ".ipynb" and candidate.is_file():
        return candidate
    if not solutions_dir.is_dir():
        from .. import GITHUB_URL

        raise GraderError(f"no folder of masters at {solutions_dir}: the masters (solutions/NN_*.ipynb) hold the "
                          f"answers, so the installed package does not ship them. Run `course grade` in a clone of "
                          f"{GITHUB_URL} (or a folder with solutions/ in it), or pass --solutions DIR")
    masters = sorted(solutions_dir.glob("*.ipynb"))
    matches = [m for m in masters if m.stem == assignment or m.stem.split("_")[0] == assignment]
    if len(matches) != 1:
        known = ", ".join(m.stem for m in masters) or "none"
        raise GraderError(f"ASSIGNMENT {assignment!r} matches {len(matches)} masters in {solutions_dir}; "
                          f"give a chapter number or a file stem from: {known}")
    return matches[0]


def master_parameters(master: markers.Master) -> dict:
    """Literal values of the master's parameters cell (``SEED = 42`` -> ``{"SEED": 42}``)."""
    values = {}
    try:
        tree = markers.parse_python(master.parameters_source)
    except SyntaxError:
        return values
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return values


def resolve_sandbox(choice: str) -> str:
    """``bwrap`` or ``none`` for ``--sandbox bwrap|auto|none`` (a real probe, not just `which`).

    ``bwrap`` (the default) and ``auto`` (its old name) refuse to grade without a working
    bubblewrap: running students' code with the instructor's permissions must be a choice
    (``--sandbox none``), never a fallback.
    """
    if choice not in ("auto", "bwrap", "none"):
        raise GraderError(f"--sandbox {choice!r} is not one of bwrap, auto, none")
    if choice == "none":
        _loud_warning("--sandbox none: submissions run UNSANDBOXED, with your permissions, files and network.")
        return "none"
    works, why = sb.probe_bwrap()
    if works:
        return "bwrap"
    raise GraderError(
        f"no sandbox: {why}. Without one, students' notebooks would run with your permissions, files and network, "
        "so the grader refuses. Either install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; "
        "Fedora: sudo dnf install bubblewrap), or on macOS/Windows grade inside a Linux container "
        "(docs/INSTRUCTORS.md, 'Grading on macOS or Windows'), or pass --sandbox none to accept running them "
        "unsandboxed.")


def _loud_warning(text: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\nWARNING: {text}\n{bar}\n", file=sys.stderr)
    log.warning(text)


def _data_cache() -> str | None:
    try:
        from .. import data

        return str(data.cache_dir())
    except Exception:
        return os.environ.get("COURSE_DATA_DIR")


def sandbox_env(workdir: Path, parameters: dict) -> dict:
    """The environment of sandboxed processes: nothing of the grader's beyond PATH and locale."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(workdir),
        "COURSE_SMOKE": "1" if parameters.get("SMOKE", True) else "0",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".config" / "matplotlib"),
        "JUPYTER_RUNTIME_DIR": str(workdir / ".jupyter" / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(workdir / ".ipython"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_NUM_INTEROP_THREADS": "1",
    }
    for name in ("KERAS_BACKEND", "CUDA_VISIBLE_DEVICES"):
        if name in os.environ:
            env[name] = os.environ[name]
    env["COURSE_DATA_DIR"] = str(workdir / ".course_data")
    return env


def link_data_cache(workdir: Path) -> None:
    """A writable per-submission data cache whose files link to the grader's (read-only) cache.

    A cached dataset is used as is; a missing one cannot be downloaded (no network in the
    sandbox), so ``course_utils.data`` falls back offline instead of failing on a read-only cache,
    and no submission can poison the shared cache.
    """
    own = workdir / ".course_data"
    own.mkdir(exist_ok=True)
    cache = _data_cache()
    if cache and os.path.isdir(cache):
        for entry in os.scandir(cache):
            if entry.is_file() and not entry.name.startswith("."):
                os.symlink(entry.path, own / entry.name)


def _read_regular(path: Path, limit: int) -> bytes | None:
    """File contents if ``path`` is a regular file (symlinks refused) no larger than ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)[:limit]
    finally:
        os.close(fd)
