"""The batch: grade every submission of a folder (in parallel, resuming where a run stopped)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..authoring import markers
from . import sandbox as sb
from .config import (
    DEFAULT_CELL_TIMEOUT,
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    MAX_EXECUTED_BYTES,
    MAX_SUBMISSION_BYTES,
    RESULT_VERSION,
    STATUSES,
    GraderError,
    Settings,
    _data_cache,
    _loud_warning,
    _read_regular,
    find_master,
    link_data_cache,
    log,
    master_parameters,
    resolve_sandbox,
)
from .execute import execute
from .export import prepare_notebook
from .report import Outcome, _safe_name, feedback_markdown, write_gradebook
from .scoring import run_master_tests
from .submission import _first_line, load_submission


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
        results = run_master_tests(settings, workdir, private, nb, found)
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


def _fingerprint(data: bytes, settings: Settings) -> str:
    return hashlib.sha256(data + settings.fingerprint.encode()).hexdigest()


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
        master = markers.parse_master(nbformat.read(master_path, as_version=4), master_path)
    except (markers.MarkerError, ValueError) as err:
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
