"""Mutation testing of hidden tests: ``course check-mutants [NN ...]``.

A master declares, per graded question, plausible wrong answers in raw cells::

    # MUTANT q2: 2*N*D instead of 6*N*D
    q2_flops = 2 * N_PARAMS * N_TOKENS

Each mutant replaces the solution region of the nearest answer cell above it (see
:func:`course_utils.markers.markers.apply_mutant`). The check grades each mutant the way ``course grade``
grades a student who wrote it, and fails when a mutant keeps full points on its question.

How it stays fast: one kernel runs the master once (sandboxed like a submission, through
:func:`course_utils.grading.execute`). Right after each answer cell, injected cells run each of its
mutants in a shallow copy of the kernel's namespace and export that copy's answers. Then, per
mutant, the master's answers overlaid with the mutant's go through the real test path
(:func:`course_utils.grading.scoring.run_master_tests`: a fresh test process, functions re-created from the
mutated cell's source in the host process). The master's own answers are graded too; a master
that loses points makes the whole check fail, because then a lost point proves nothing.

Caveat: a mutant runs in a *shallow* copy of the namespace, after the real answer cell. A mutant
whose meaning depends on an object the answer cell changes in place (a model defined in an earlier
cell that the answer cell trains) must say ``# MUTANT q4 (fresh kernel): forgets to train``: it is
then graded in a run of its own, the mutated master top to bottom, exactly like a submission.
A mutant that changes a shared object in place changes it for the cells after it; the master's
full-marks check catches that when it matters.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..authoring import markers
from ..authoring.lint import _repo_root
from . import config, execute, export, scoring, submission
from . import sandbox as sb

MUTANTS_DIR = "_grader_mutants"


@dataclass
class MutantResult:
    number: int  # 1-based within the master
    question: str
    why: str
    points: float
    max_points: float
    problem: str = ""  # the mutant did not run, or did not define its answers

    @property
    def caught(self) -> bool:
        return not self.problem and self.points < self.max_points


@dataclass
class MasterReport:
    master: str
    seconds: float = 0.0
    kernel_seconds: float = 0.0
    master_scores: dict = field(default_factory=dict)
    max_scores: dict = field(default_factory=dict)
    results: list[MutantResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.caught for r in self.results)


def _mutant_cell(number: int, mutant: markers.Mutant, source: str, names: list[str]):
    """The injected cell: run one mutant in a copy of the namespace and export its answers."""
    import nbformat

    code = (
        f"__grader_ns = dict(globals())\n"
        f"__grader_dir = {MUTANTS_DIR!r} + '/m{number:03d}'\n"
        f"try:\n"
        f"    exec(compile({markers.strip_magics(source)!r}, '<mutant {number} of {mutant.question}>', 'exec'), __grader_ns)\n"
        f"except BaseException as __grader_err:\n"
        f"    __import__('os').makedirs(__grader_dir, exist_ok=True)\n"
        f"    open(__grader_dir + '/.error', 'w').write(f'{{type(__grader_err).__name__}}: {{__grader_err}}'[:500])\n"
        f"else:\n"
        f"    __import__('course_utils.grading.codec', fromlist=['export_answers']).export_answers("
        f"__grader_ns, {sorted(names)!r}, __grader_dir)\n"
        f"del __grader_ns, __grader_dir"
    )
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata["grader"] = {"mutant": number}
    cell.metadata["tags"] = []
    cell["id"] = f"grader-mutant-{number:03d}"
    return cell


def check_master(master_path: Path, sandbox_mode: str = "none", min_per_question: int = 2,
                 timeout: float = 1200.0) -> MasterReport:
    """Grade the master and each of its mutants; see the module docstring."""
    import nbformat

    start = time.monotonic()
    report = MasterReport(master_path.stem)
    nb = nbformat.read(master_path, as_version=4)
    try:
        master = markers.parse_master(nb, master_path)
    except markers.MarkerError as err:
        report.problems.append(str(err))
        return report
    found = submission.match_answers(nb, master)
    run_nb = export.prepare_notebook(nb, found, master)
    prepared = [(number, mutant, *_mutated_master(nb, master, mutant))
                for number, mutant in enumerate(master.mutants, 1)]
    report.max_scores = master.questions
    # insert each mutant's cell after the export cell that follows its answer cell
    by_answer: dict[int, list[tuple[int, markers.Mutant]]] = {}
    for number, mutant in enumerate(master.mutants, 1):
        if not mutant.fresh_kernel:
            by_answer.setdefault(mutant.answer_index, []).append((number, mutant))
    cells = []
    for cell in run_nb.cells:
        cells.append(cell)
        before = cells[-2].metadata.get("grader", {}).get("origin") if len(cells) > 1 else None
        if cell.metadata.get("grader", {}).get("export") and before in by_answer:
            names = next(a.names for a in master.answer_cells if a.index == before)
            for number, mutant in by_answer[before]:
                cells.append(_mutant_cell(number, mutant, mutant.answer_source(nb), names))
    run_nb.cells = cells
    base = Path(tempfile.mkdtemp(prefix="course-mutants-"))
    try:
        settings = _settings(master_path, master, base, sandbox_mode, timeout)
        workdir = base / "work"
        workdir.mkdir()
        config.link_data_cache(workdir)
        nb_path, executed = workdir / ".grader_run.ipynb", workdir / "executed.ipynb"
        nbformat.write(run_nb, nb_path)
        state = execute.execute(settings, workdir, nb_path, executed)
        report.kernel_seconds = time.monotonic() - start
        if state["end"]["end"] != "ok":
            report.problems.append(f"the master's run ended with {state['end']['end']}: {state['end'].get('why', '')}"
                                   f" {state.get('stderr', '')[-300:]}".strip())
        for error in state["errors"][:3]:
            report.problems.append(f"the master's run raised in a cell: {error.get('ename')}: {error.get('evalue', '')[:200]}")
        # the master itself
        scores = _scores(scoring.run_master_tests(settings, workdir, _fresh(base, "private-master"), nb, found), report)
        report.master_scores = scores
        lost = {q: (scores.get(q, 0), m) for q, m in master.questions.items() if scores.get(q, 0) < m}
        if lost:
            report.problems.append("the master itself does not get full marks: " + ", ".join(
                f"{q} {s:g}/{m:g}" for q, (s, m) in lost.items()))

        def one(item):
            return _grade_mutant(settings, base, workdir, master, *item)

        with ThreadPoolExecutor(max_workers=2) as pool:
            report.results = list(pool.map(one, prepared))
        for question in master.questions:
            count = sum(r.question == question for r in report.results)
            if count < min_per_question:
                report.problems.append(f"question {question} declares {count} mutant(s); at least {min_per_question} are required")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    report.seconds = time.monotonic() - start
    return report


def _settings(master_path, master, base: Path, sandbox_mode: str, timeout: float):
    params = {"SMOKE": True, "SEED": config.master_parameters(master).get("SEED", 42)}
    hidden = [master_path.resolve().parent]
    cache = config._data_cache()
    return config.Settings(master_path, master, base, params, timeout, config.DEFAULT_CELL_TIMEOUT * 2,
                            sb.Limits(memory_bytes=sb.parse_size(config.DEFAULT_MEMORY)),
                            sb.Sandbox(sandbox_mode, hidden if sandbox_mode == "bwrap" else [], [cache] if cache else []))


def _fresh(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir()
    return path


def _scores(results: dict, report: MasterReport) -> dict:
    if results.get("error"):
        report.problems.append(f"the test process failed: {results['error'][-300:]}")
    scores: dict = {}
    for test in results.get("tests", []):
        scores.setdefault(test["question"], 0)
        if test["passed"]:
            scores[test["question"]] += test["points"]
    return scores


def _mutated_master(nb, master, mutant):
    """(the master with the mutant in its answer cell, where each answer is defined in it)."""
    import nbformat

    mutated = nbformat.from_dict(json.loads(json.dumps(nb)))
    mutated.cells[mutant.answer_index].source = mutant.answer_source(nb)
    return mutated, submission.match_answers(mutated, master)


def _grade_mutant(settings, base: Path, master_workdir: Path, master, number: int, mutant, mutated,
                  found) -> MutantResult:
    """Grade one mutant: the master's answers overlaid with the mutant's, the mutated cell's source."""
    import nbformat

    result = MutantResult(number, mutant.question, mutant.why, 0.0, master.questions.get(mutant.question, 0.0))
    if mutant.fresh_kernel:  # a run of its own: the mutated master, top to bottom
        workdir = _fresh(base, f"run-m{number:03d}")
        config.link_data_cache(workdir)
        run_path = workdir / ".grader_run.ipynb"
        nbformat.write(export.prepare_notebook(mutated, found, master), run_path)
        state = execute.execute(settings, workdir, run_path, workdir / "executed.ipynb")
        exported = workdir / config.ANSWERS_DIR
        failed = [e for e in state["errors"] if e.get("origin") == mutant.answer_index]
        if failed:
            (exported / ".error").parent.mkdir(exist_ok=True)
            (exported / ".error").write_text(f"{failed[0].get('ename')}: {failed[0].get('evalue', '')}")
    else:
        exported = master_workdir / MUTANTS_DIR / f"m{number:03d}"
    if (exported / ".error").is_file():
        result.problem = "its code raised when run: " + (exported / ".error").read_text()[:300]
        return result
    own = next(a.names for a in master.answer_cells if a.index == mutant.answer_index)
    missing = [n for n in own if not (exported / f"{n}.json").is_file()]
    if missing:
        result.problem = f"it does not define {', '.join(missing)}"
        return result
    mutant_work = _fresh(base, f"work-m{number:03d}")
    answers = _fresh(mutant_work, config.ANSWERS_DIR)
    for source in (master_workdir / config.ANSWERS_DIR).glob("*.json"):
        shutil.copy(source, answers / source.name)
    for source in exported.glob("*.json"):
        shutil.copy(source, answers / source.name)
    config.link_data_cache(mutant_work)
    # only this question's tests: the others' answers are the master's, so their result is known
    own_tests = dataclasses.replace(master, tests=[t for t in master.tests if t.question == mutant.question])
    results = scoring.run_master_tests(dataclasses.replace(settings, master=own_tests), mutant_work,
                                _fresh(base, f"private-m{number:03d}"), mutated, found)
    if results.get("error"):
        result.problem = f"the test process failed: {results['error'][-300:]}"
    result.points = sum(t["points"] for t in results.get("tests", []) if t["passed"] and t["question"] == mutant.question)
    return result


def format_report(report: MasterReport) -> str:
    lines = [f"{report.master}: {len(report.results)} mutant(s), "
             f"{sum(r.caught for r in report.results)} caught, {report.seconds:.0f} s "
             f"(kernel {report.kernel_seconds:.0f} s)"]
    for r in report.results:
        verdict = "caught" if r.caught else ("INVALID" if r.problem else "KEPT FULL POINTS")
        lines.append(f"  {r.question} m{r.number:02d} {r.points:g}/{r.max_points:g} {verdict}: {r.why}"
                     + (f" ({r.problem})" if r.problem else ""))
    lines += [f"  PROBLEM: {p}" for p in report.problems]
    return "\n".join(lines)


def main(args) -> int:
    if args.min_per_question < 0:
        print("course check-mutants: --min-per-question must be >= 0", file=sys.stderr)
        return 2
    solutions = Path(args.solutions) if args.solutions else _repo_root() / "solutions"
    try:
        masters = ([config.find_master(a, solutions) for a in args.assignments] if args.assignments
                   else sorted(solutions.glob("*.ipynb")))
        mode = config.resolve_sandbox(args.sandbox) if args.sandbox != "none" else "none"
    except config.GraderError as err:
        print(f"course check-mutants: {err}", file=sys.stderr)
        return 2
    if not masters:
        print(f"course check-mutants: no masters in {solutions}", file=sys.stderr)
        return 2
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        reports = list(pool.map(lambda m: check_master(m, mode, args.min_per_question), masters))
    for report in reports:
        print(format_report(report), flush=True)
    total = sum(len(r.results) for r in reports)
    caught = sum(sum(x.caught for x in r.results) for r in reports)
    bad = [r.master for r in reports if not r.ok]
    print(f"{caught}/{total} mutants lose points in {len(reports)} master(s), {time.monotonic() - start:.0f} s"
          + (f"; FAILED: {', '.join(bad)}" if bad else ""))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps([{
            "master": r.master, "seconds": round(r.seconds, 1), "kernel_seconds": round(r.kernel_seconds, 1), "problems": r.problems, "max_scores": r.max_scores,
            "master_scores": r.master_scores, "mutants": [vars(x) | {"caught": x.caught} for x in r.results]}
            for r in reports], indent=1), encoding="utf-8")
    return 1 if bad else 0
