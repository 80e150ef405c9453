"""The batch grader: ``course grade ASSIGNMENT SUBMISSIONS_DIR --out OUT``.

For each submission (one student's notebook):

1. it is checked (a notebook? this assignment?) and copied into its own work directory;
2. its code cells run there with papermill's parameters (``SMOKE=True``, ``SEED``), inside the
   sandbox (:mod:`.sandbox`), errors allowed, per-cell and whole-run timeouts, memory and output
   caps (:mod:`.runner`); after each answer cell a small injected cell exports the answers as plain
   data (:mod:`.codec`);
3. the instructor's tests, taken from the master in ``solutions/`` (never from the submission),
   run in a fresh Python process (:mod:`.testproc`); answers that are functions are re-created
   from the student's source in a separate sandboxed process and called under a timeout
   (:mod:`.host`).

Outputs in OUT: ``gradebook.csv``, ``feedback/NAME.md``, ``executed/NAME.ipynb``,
``results/NAME.json`` (what makes a re-run skip graded submissions) and ``grade.log``.

The Python API is :func:`grade`; it returns the gradebook rows.
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import json
import logging
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import authoring
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


# --------------------------------------------------------------------------- configuration
@dataclass
class Settings:
    master_path: Path
    master: authoring.Master
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


def master_parameters(master: authoring.Master) -> dict:
    """Literal values of the master's parameters cell (``SEED = 42`` -> ``{"SEED": 42}``)."""
    values = {}
    try:
        tree = authoring.parse_python(master.parameters_source)
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


# --------------------------------------------------------------------------- one submission
@dataclass
class Outcome:
    submission: str
    status: str
    scores: dict
    max_scores: dict
    seconds: float
    detail: str = ""
    errors: list = field(default_factory=list)  # [{"cell": n, "source": first line, "error": text}]
    tests: list = field(default_factory=list)  # testproc results
    fingerprint: str = ""

    @property
    def score(self) -> float:
        return sum(self.scores.values())

    def row(self) -> dict:
        row = {"submission": self.submission, "status": self.status, "score": _num(self.score),
               "max_score": _num(sum(self.max_scores.values())), "seconds": round(self.seconds, 1)}
        row.update({q: _num(self.scores.get(q, 0)) for q in self.max_scores})
        row["detail"] = self.detail
        return row


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 3)


def _read_regular(path: Path, limit: int) -> bytes | None:
    """File contents if ``path`` is a regular file (symlinks refused) no larger than ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        import stat

        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def _first_line(source: str) -> str:
    for line in source.split("\n"):
        if line.strip():
            return line.strip()[:80]
    return ""


def match_answers(nb, master: authoring.Master) -> dict[str, int]:
    """Answer name -> index of the submission cell that defines it.

    The cell whose metadata names it (as the exercise ships), else the last non-test code cell
    that defines it (a student may have rebuilt the cell).
    """
    found: dict[str, int] = {}
    for name in master.answer_names:
        tagged = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and name in _answer_meta(c)]
        defining = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and not authoring.is_test_cell(c)
                    and name in authoring.defined_names(c.source)]
        good_tagged = [i for i in tagged if i in defining]
        if good_tagged:
            found[name] = good_tagged[-1]
        elif defining:
            found[name] = defining[-1]
        elif tagged:
            found[name] = tagged[-1]
    return found


def _answer_meta(cell) -> list:
    names = authoring.course_meta(cell).get("answer", [])
    return names if isinstance(names, list) else []


def load_submission(data: bytes, master: authoring.Master):
    """(notebook, answer cells) or raise ValueError with the reason it is invalid."""
    import nbformat

    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"not a notebook: unreadable JSON ({type(err).__name__})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise ValueError("not a notebook: no list of cells")
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as err:
        raise ValueError(f"not a notebook: {type(err).__name__}: {str(err)[:200]}") from None
    for cell in nb.cells:
        if not isinstance(cell.get("source", ""), str) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise ValueError("not a notebook: malformed cell")
    found = match_answers(nb, master)
    if not found:
        declared = sorted({n for c in nb.cells for n in _answer_meta(c)})
        hint = f" (it declares answers {declared[:5]})" if declared else ""
        raise ValueError(f"none of this assignment's answers ({', '.join(master.answer_names)}) appear in it: "
                         f"a notebook of another assignment?{hint}")
    return nb, found


def prepare_notebook(nb, found: dict[str, int], master: authoring.Master):
    """The notebook the kernel runs: no test cells, an export cell after each answer cell and at the end."""
    import nbformat

    by_cell: dict[int, list[str]] = {}
    for name, index in found.items():
        by_cell.setdefault(index, []).append(name)
    cells = []
    for index, cell in enumerate(nb.cells):
        if authoring.is_test_cell(cell):
            continue  # the tests come from the master, in another process
        cell = nbformat.from_dict(json.loads(json.dumps(cell)))
        tags = cell.metadata.get("tags", [])
        cell.metadata["tags"] = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
        cell.metadata["grader"] = {"origin": index}
        cell["id"] = f"grader-{len(cells):04d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
        if index in by_cell and cell.cell_type == "code":
            cells.append(_export_cell(by_cell[index]))
    cells.append(_export_cell(master.answer_names))
    out = nbformat.v4.new_notebook()
    out.cells = cells
    out.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                    "language_info": {"name": "python"}}
    return out


def _export_cell(names: list[str]):
    import nbformat

    source = ('__import__("course_utils.grading.codec", fromlist=["export_answers"])'
              f".export_answers(globals(), {sorted(names)!r}, {ANSWERS_DIR!r})")
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["grader"] = {"export": True}
    cell.metadata["tags"] = []
    cell["id"] = "grader-export-" + hashlib.sha1(source.encode()).hexdigest()[:8] + os.urandom(4).hex()
    return cell


class _Drain:
    """Read a stream to its end in a thread, keeping only its last ``keep`` characters."""

    def __init__(self, stream, keep: int = 4000):
        self.tail = ""
        self._thread = threading.Thread(target=self._pump, args=(stream, keep), daemon=True)
        self._thread.start()

    def _pump(self, stream, keep: int) -> None:
        for chunk in iter(lambda: stream.read1(4096), b""):
            self.tail = (self.tail + chunk.decode("utf-8", "replace"))[-keep:]

    def text(self, wait: float = 2.0) -> str:
        self._thread.join(wait)
        return self.tail


def execute(settings: Settings, workdir: Path, nb_path: Path, executed_path: Path) -> dict:
    """Run the prepared notebook in the sandbox; returns what the runner reported."""
    job = {
        "notebook": str(nb_path), "executed": str(executed_path), "workdir": str(workdir),
        "parameters": settings.parameters, "cell_timeout": settings.cell_timeout,
        "max_output_bytes": settings.max_output_bytes,
    }
    job_path = workdir / ".grader_job.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    read_fd, write_fd = os.pipe()
    argv = settings.sandbox.wrap([sys.executable, "-m", "course_utils.grading.runner", str(job_path), str(write_fd)], workdir)
    env = sandbox_env(workdir, settings.parameters)
    # errors: the student's cells; grader_errors: the grader's own cells (answer export, parameters)
    state = {"cell": None, "origin": None, "errors": [], "grader_errors": [], "end": None, "peak_bytes": None}
    last_student_origin = None
    try:
        process = sb.popen(argv, settings.limits, env, workdir, pass_fds=(write_fd,),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finally:
        os.close(write_fd)
    stderr_tail = _Drain(process.stderr)
    deadline = time.monotonic() + settings.timeout
    buffer = b""
    with os.fdopen(read_fd, "rb", buffering=0) as reports:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                state["end"] = {"end": "timeout", "whole": True}
                break
            ready, _, _ = select.select([reports], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = reports.read(65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if "end" in event:
                    state["end"] = event
                elif "error" in event and event.get("origin") is None:
                    state["grader_errors"].append(dict(event, after=last_student_origin))
                elif "error" in event:
                    state["errors"].append(event)
                elif "cell" in event:
                    state["cell"], state["origin"] = event["cell"], event.get("origin")
                    if event.get("origin") is not None:
                        last_student_origin = event["origin"]
    if state["end"] is not None and not state["end"].get("whole"):
        sb.wait(process, 15)  # the runner shuts the kernel down and exits by itself
    sb.kill_tree(process)  # whatever is left (a timeout, a kernel's stray children)
    watchdog = process.memory_watchdog
    if watchdog is not None:
        watchdog.stop()
        state["peak_bytes"] = watchdog.peak
        if watchdog.tripped:  # the runner died with its kernel: whatever it sent last is not the reason
            state["end"] = {"end": "memory", "why": watchdog.describe()}
    state["stderr"] = stderr_tail.text()
    state["last_student_origin"] = last_student_origin
    if state["end"] is None:
        state["end"] = {"end": "crashed", "why": f"the run was killed (exit {process.returncode}): out of memory, "
                        "or the kernel took the runner down"}
    return state


def run_tests(settings: Settings, workdir: Path, private: Path, nb, found: dict[str, int]) -> dict:
    """Run the master's tests in a fresh process against the exported answers."""
    master = settings.master
    answers = private / "answers"
    answers.mkdir()
    data_trees = {}
    callables = []
    for name in master.answer_names:
        raw = _read_regular(workdir / ANSWERS_DIR / f"{name}.json", 200 * 2**20)
        if raw is None:
            continue
        (answers / f"{name}.json").write_bytes(raw)
        try:
            tree = json.loads(raw)
        except ValueError:
            continue
        if isinstance(tree, dict) and tree.get("t") == "callable":
            callables.append(name)
        elif isinstance(tree, dict) and tree.get("t") not in ("unsupported", None):
            data_trees[name] = tree
    host_job = workdir / ".grader_host.json"
    if callables:
        first = min(found[n] for n in callables)
        prelude = [c.source for i, c in enumerate(nb.cells) if i < first and c.cell_type == "code"
                   and not authoring.is_test_cell(c)]
        cells = {n: nb.cells[found[n]].source for n in callables}
        host_job.write_text(json.dumps({"prelude": prelude, "cells": cells, "data": data_trees,
                                        "parameters": settings.parameters}), encoding="utf-8")
    host_argv = settings.sandbox.wrap([sys.executable, "-m", "course_utils.grading.host", str(host_job)], workdir,
                                      writable=False)
    test_timeout = max(5, int(settings.cell_timeout))
    job = {
        "tests": [{"index": t.index, "question": t.question, "points": t.points, "visible": t.visible, "hidden": t.hidden}
                  for t in master.tests],
        "answer_names": master.answer_names, "answers_dir": str(answers),
        "parameters": settings.parameters, "parameters_source": master.parameters_source,
        "host_argv": host_argv, "host_cwd": str(workdir), "env": sandbox_env(workdir, settings.parameters),
        "limits": vars(settings.limits), "host_setup_timeout": settings.cell_timeout,
        "call_timeout": min(settings.call_timeout, settings.cell_timeout), "test_timeout": test_timeout,
    }
    job_path, result_path = private / "tests.json", private / "tests_result.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    env = dict(os.environ, COURSE_SMOKE=sandbox_env(workdir, settings.parameters)["COURSE_SMOKE"], MPLBACKEND="Agg")
    budget = len(master.tests) * (test_timeout + job["call_timeout"]) + 2 * settings.cell_timeout + 60
    process = subprocess.Popen([sys.executable, "-m", "course_utils.grading.testproc", str(job_path), str(result_path)],
                               cwd=str(private), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    tail = _Drain(process.stderr)
    if not sb.wait(process, budget):
        return {"tests": [], "error": f"the test process ran past {budget:.0f} s and was stopped"}
    try:
        return json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"tests": [], "error": f"the test process failed: {tail.text()[-1000:]}"}


def grade_one(settings: Settings, path: Path) -> Outcome:
    """Grade one submission file; never raises for anything the submission does."""
    start = time.monotonic()
    name = path.name
    max_scores = settings.master.questions
    outcome = Outcome(name, "invalid", {q: 0 for q in max_scores}, max_scores, 0.0)
    data = _read_regular(path, MAX_SUBMISSION_BYTES)
    if data is None:
        outcome.detail = f"not a readable regular file of at most {MAX_SUBMISSION_BYTES // 2**20} MiB"
        outcome.seconds = time.monotonic() - start
        return outcome
    outcome.fingerprint = _fingerprint(data, settings)
    try:
        nb, found = load_submission(data, settings.master)
    except ValueError as err:
        outcome.detail = str(err)
        outcome.seconds = time.monotonic() - start
        return outcome
    base = Path(tempfile.mkdtemp(prefix="course-grade-"))
    workdir, private = base / "work", base / "private"
    workdir.mkdir()
    private.mkdir()
    try:
        (workdir / "submission.ipynb").write_bytes(data)  # the student's file, untouched, for reference
        link_data_cache(workdir)
        run_nb = prepare_notebook(nb, found, settings.master)
        import nbformat

        nb_path, executed = workdir / ".grader_run.ipynb", workdir / "executed.ipynb"
        nbformat.write(run_nb, nb_path)
        state = execute(settings, workdir, nb_path, executed)
        end = state["end"]
        student_errors = state["errors"]
        for event in student_errors[:10]:
            cell = nb.cells[event["origin"]]
            outcome.errors.append({"cell": event["origin"] + 1, "source": _first_line(cell.source),
                                   "error": f"{event.get('ename', '')}: {event.get('evalue', '')}".strip(": ")[:500]})

        def label(origin: int) -> str:
            return f"cell {origin + 1} ({_first_line(nb.cells[origin].source)!r})"

        last = state.get("last_student_origin")
        if state.get("origin") is not None:
            where = label(state["origin"])
        elif last is not None:
            where = f"the grader's answer export after {label(last)}"
        else:
            where = "the grader's set-up, before the first cell"
        grader_problems = []  # failures of the grader's own machinery: never the submission's fault
        if end["end"] == "memory" and last is None:
            grader_problems.append(f"the kernel alone {end['why']} before the first cell ran; "
                                   "this limit is too low for the assignment: raise --memory-limit")
        elif end["end"] == "memory":
            outcome.status = "crashed"
            outcome.detail = f"the notebook {end['why']} in {label(last)}: the grader stopped the run there"
        elif end["end"] == "timeout":
            outcome.status = "timeout"
            limit = f"{settings.timeout:g} s for the whole notebook" if end.get("whole") else f"{settings.cell_timeout:g} s per cell"
            outcome.detail = f"timeout in {where}: ran past {limit}"
        elif end["end"] == "crashed" and (state.get("origin") is None or str(end.get("why", "")).startswith("grader runner")):
            grader_problems.append(f"the kernel or the grader's runner failed in {where}: {end.get('why', '')}")
        elif end["end"] == "crashed":
            outcome.status = "crashed"
            outcome.detail = f"kernel died in {where}: {end.get('why', '')}"[:500]
        elif student_errors:
            outcome.status = "error"
            first = outcome.errors[0]
            outcome.detail = f"error in cell {first['cell']} ({first['source']!r}): {first['error']}"[:500]
        else:
            outcome.status = "ok"
        for event in state["grader_errors"][:3]:
            after = f"after {label(event['after'])}" if event.get("after") is not None else "before the first cell"
            grader_problems.append(f"the grader's answer export {after} failed: "
                                   f"{event.get('ename', '')}: {event.get('evalue', '')}".strip(": ")[:300])
        if state.get("peak_bytes") is not None:
            log.info("%s: peak resident memory %.2f GiB (limit %s)", name, state["peak_bytes"] / 2**30,
                     sb.format_size(settings.limits.memory_bytes))
        results = run_tests(settings, workdir, private, nb, found)
        outcome.tests = results.get("tests", [])
        if results.get("error"):
            log.error("%s: test process problem: %s", name, results["error"])
            grader_problems.append("the grader's test process failed (grade.log has its error)")
        if grader_problems:
            for problem in grader_problems:
                log.error("%s: grader failure: %s", name, problem)
            student_side = f"; besides: {outcome.detail}" if outcome.detail else ""
            outcome.status = "grader-error"
            outcome.detail = (f"grader failure, not a verdict on this notebook (scores may be incomplete): "
                              f"{'; '.join(grader_problems)}{student_side}")[:500]
        for test in outcome.tests:
            if test["passed"]:
                outcome.scores[test["question"]] = outcome.scores.get(test["question"], 0) + test["points"]
        raw = _read_regular(executed, MAX_EXECUTED_BYTES)
        if raw is not None:
            (settings.out / "executed").mkdir(exist_ok=True)
            (settings.out / "executed" / _safe_name(name, ".ipynb")).write_bytes(raw)
        if state.get("stderr") and outcome.status in ("crashed", "timeout"):
            log.info("%s: runner stderr tail: %s", name, state["stderr"][-500:])
    except Exception as err:  # the grader's own bug must not stop the batch either
        log.exception("%s: grader failure", name)
        outcome.status = "grader-error"
        outcome.detail = f"grader failure, not a verdict on this notebook: {type(err).__name__}: {err}"[:500]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    outcome.seconds = time.monotonic() - start
    return outcome


def _safe_name(name: str, suffix: str) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return stem if stem.endswith(suffix) else stem + suffix


def _fingerprint(data: bytes, settings: Settings) -> str:
    return hashlib.sha256(data + settings.fingerprint.encode()).hexdigest()


# --------------------------------------------------------------------------- reports
def feedback_markdown(outcome: Outcome, settings: Settings) -> str:
    """Per-student feedback: scores, visible checks' messages, errors; never hidden tests' source."""
    lines = [f"# Feedback: {outcome.submission}", "",
             f"Assignment `{settings.master_path.stem}` · status **{outcome.status}** · "
             f"score **{_num(outcome.score)} / {_num(sum(outcome.max_scores.values()))}**", ""]
    if outcome.status == "grader-error":
        lines += ["The grader itself failed while grading this notebook, so the scores below may be incomplete. "
                  "This is not a judgement of your code; your instructor has been told and will regrade it.", ""]
    if outcome.detail:
        lines += [f"> {outcome.detail}", ""]
    lines += ["| question | score | out of |", "|---|---|---|"]
    lines += [f"| {q} | {_num(outcome.scores.get(q, 0))} | {_num(m)} |" for q, m in outcome.max_scores.items()]
    if outcome.tests:
        lines += ["", "## Checks", ""]
        for test in outcome.tests:
            mark = "passed" if test["passed"] else "failed"
            text = f"- {test['question']} ({_num(test['points'])} pt): {mark}"
            if not test["passed"] and test.get("message"):
                text += f" - {test['message'][:500]}"
            lines.append(text)
    if outcome.errors:
        lines += ["", "## Errors while running your notebook", ""]
        lines += [f"- cell {e['cell']} (`{e['source']}`): {e['error']}" for e in outcome.errors]
    text = "\n".join(lines) + "\n"
    if len(text) > MAX_FEEDBACK_CHARS:
        text = text[:MAX_FEEDBACK_CHARS] + "\n\n[feedback truncated]\n"
    return text


def write_gradebook(rows: list[dict], questions: list[str], path: Path) -> None:
    columns = ["submission", "status", "score", "max_score", "seconds"] + questions + ["detail"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (_csv_safe(v) if isinstance(v, str) else v) for k, v in row.items()})


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in text a student controls (file names, error messages)."""
    text = text.replace("\n", " ")[:500]
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# --------------------------------------------------------------------------- the batch
def grade(assignment: str, submissions: Path | str, out: Path | str, *, jobs: int = 1,
          timeout: float = DEFAULT_TIMEOUT, cell_timeout: float = DEFAULT_CELL_TIMEOUT,
          memory_limit: str | None = DEFAULT_MEMORY, sandbox: str = "bwrap", force: bool = False,
          solutions: Path | str | None = None, parameters: dict | None = None, progress: bool = True,
          call_timeout: float = 30.0, max_output_bytes: int = 2 * 2**20) -> list[dict]:
    """Grade every file in ``submissions``; returns the gradebook rows (also written to OUT).

    Raises :class:`GraderError` when the grader cannot run (no master, bad options, no sandbox
    unless ``sandbox="none"``).
    """
    if jobs < 1:
        raise GraderError(f"--jobs {jobs} must be at least 1")
    if timeout <= 0 or cell_timeout <= 0:
        raise GraderError(f"--timeout {timeout} and --cell-timeout {cell_timeout} must be positive seconds")
    try:
        memory = sb.parse_size(memory_limit)
    except ValueError as err:
        raise GraderError(str(err)) from None
    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        raise GraderError(f"SUBMISSIONS_DIR {submissions} is not a folder of notebooks")
    if solutions is None:
        from .. import paths

        root = paths.repo_root() or Path.cwd()
        solutions = root / "solutions"
    master_path = find_master(assignment, Path(solutions))
    import nbformat

    try:
        master = authoring.parse_master(nbformat.read(master_path, as_version=4), master_path)
    except (authoring.MarkerError, ValueError) as err:
        raise GraderError(f"master {master_path} is malformed: {err}") from None
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("feedback", "executed", "results"):
        (out / sub).mkdir(exist_ok=True)
    handler = logging.FileHandler(out / "grade.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        mode = resolve_sandbox(sandbox)
        params = {"SMOKE": True, "SEED": master_parameters(master).get("SEED", 42)}
        params.update(parameters or {})
        hidden = [Path(solutions).resolve(), master_path.resolve().parent, submissions.resolve(), out.resolve()]
        cache = _data_cache()
        settings = Settings(master_path, master, out, params, timeout, cell_timeout,
                            sb.Limits(memory_bytes=memory), sb.Sandbox(mode, hidden, [cache] if cache else []),
                            max_output_bytes=max_output_bytes, call_timeout=call_timeout)
        master_bytes = master_path.read_bytes()
        settings.fingerprint = json.dumps([RESULT_VERSION, hashlib.sha256(master_bytes).hexdigest(), params,
                                           float(timeout), float(cell_timeout), memory, mode])
        files = sorted(p for p in submissions.iterdir() if not p.name.startswith(".") and not p.is_dir())
        log.info("grading %d submission(s) of %s with sandbox=%s jobs=%d timeout=%gs cell-timeout=%gs memory=%s",
                 len(files), master_path.name, mode, jobs, timeout, cell_timeout, memory_limit)
        _log_memory_plan(memory, jobs)
        if os.geteuid() == 0 and mode == "bwrap":
            log.warning("running as root: the process limit (RLIMIT_NPROC) is not enforced by Linux for root")
        rows = _run_batch(settings, files, jobs, force, progress)
        write_gradebook(rows, list(master.questions), out / "gradebook.csv")
        counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
        log.info("done: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
        return rows
    finally:
        log.removeHandler(handler)
        handler.close()


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _log_memory_plan(memory: int | None, jobs: int) -> None:
    """Say how the memory limit is enforced, and warn when ``jobs`` kernels at the limit do not fit."""
    if memory is None:
        _loud_warning("--memory-limit none: a submission may use all of this machine's memory.")
        return
    log.info("memory limit %s per submission: enforced by a watchdog in the grader that sums the resident memory "
             "of the submission's processes every 0.1 s and kills them above it (no address-space cap, no cgroup)",
             sb.format_size(memory))
    total = machine_memory_bytes()
    if total and jobs * memory > total:
        _loud_warning(f"--jobs {jobs} x --memory-limit {sb.format_size(memory)} = {sb.format_size(jobs * memory)} is more "
                      f"than this machine's {sb.format_size(total)} of memory: if several submissions use their whole "
                      "limit at once, the system runs out of memory and may kill any process. Lower --jobs or "
                      "--memory-limit.")


def _run_batch(settings: Settings, files: list[Path], jobs: int, force: bool, progress: bool) -> list[dict]:
    from tqdm.auto import tqdm

    rows: dict[str, dict] = {}
    todo = []
    for path in files:
        saved = _load_result(settings, path)
        if saved is not None and not force:
            rows[path.name] = saved
            log.info("%s: already graded, skipped (use --force to regrade)", path.name)
        else:
            todo.append(path)
    bar = tqdm(total=len(files), initial=len(files) - len(todo), desc="grading", unit="nb",
               disable=not progress, file=sys.stderr)

    def one(path: Path) -> None:
        outcome = grade_one(settings, path)
        feedback = settings.out / "feedback" / _safe_name(path.name, ".md")
        feedback.write_text(feedback_markdown(outcome, settings), encoding="utf-8")
        row = outcome.row()
        result = {"fingerprint": outcome.fingerprint, "row": row, "tests": outcome.tests, "errors": outcome.errors}
        (settings.out / "results" / _safe_name(path.name, ".json")).write_text(json.dumps(result), encoding="utf-8")
        rows[path.name] = row
        log.info("%s: %s %s/%s in %.1fs %s", path.name, row["status"], row["score"], row["max_score"],
                 row["seconds"], row["detail"])
        bar.update(1)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in [pool.submit(one, path) for path in todo]:
            future.result()
    bar.close()
    return [rows[p.name] for p in files]


def _load_result(settings: Settings, path: Path) -> dict | None:
    result_path = settings.out / "results" / _safe_name(path.name, ".json")
    data = _read_regular(path, MAX_SUBMISSION_BYTES)
    if not result_path.is_file() or data is None:
        return None
    try:
        saved = json.loads(result_path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    if saved.get("fingerprint") != _fingerprint(data, settings) or saved["row"].get("status") == "grader-error":
        return None  # changed, or not graded at all: the grader failed on it last time
    return saved["row"]


# --------------------------------------------------------------------------- CLI
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
