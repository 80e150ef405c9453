"""The test process, parent side: run the master's visible and hidden tests against the exported
answers in a fresh process (:mod:`.testproc`; functions are re-created by :mod:`.host`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..authoring import markers
from . import config
from . import sandbox as sb
from .config import Settings, _read_regular, sandbox_env
from .execute import _Drain


def run_master_tests(settings: Settings, workdir: Path, private: Path, nb, found: dict[str, int]) -> dict:
    """Run the master's tests in a fresh process against the exported answers."""
    master = settings.master
    answers = private / "answers"
    answers.mkdir()
    data_trees = {}
    callables = []
    for name in master.answer_names:
        raw = _read_regular(workdir / config.ANSWERS_DIR / f"{name}.json", 200 * 2**20)
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
                   and not markers.is_test_cell(c)]
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
