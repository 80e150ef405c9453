"""The grader against a corpus of bad submissions, generated from the toy master.

Each case is a small edit of ``tests/grading/assignment/solutions/99_toy.ipynb`` (4 questions,
10 points: q1 a number, q2 an array, q3 a function, q4 a dict). One batch grades the whole corpus
(sandboxed when bubblewrap works here), then each case checks its status and score, and the
batch checks that nothing outside the work directories changed.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils import grading
from course_utils.authoring import markers
from course_utils.grading import batch, codec, config, sandbox

HERE = Path(__file__).parent
TOY_ROOT = HERE / "grading" / "assignment"
TOY_MASTER = TOY_ROOT / "solutions" / "99_toy.ipynb"
TOY_EXERCISE = TOY_ROOT / "exercises" / "99_toy.ipynb"
BWRAP_WORKS = sandbox.probe_bwrap()[0]
SANDBOX = "bwrap" if BWRAP_WORKS else "none"

ANSWER_CELLS = {"q1": 5, "q2": 9, "q3": 12, "q4": 16}  # cell index of each answer in the master
SOLUTION = {
    "q1": "q1_total = sum(range(1, N_TERMS + 1))",
    "q2": "import numpy as np\nq2_squares = np.arange(5) ** 2",
    "q3": "import numpy as np\n\ndef normalize(v):\n    v = np.asarray(v, dtype=float)\n    n = np.linalg.norm(v)\n"
          "    if n == 0:\n        raise ValueError('zero')\n    return v / n",
    "q4": "q4_counts = {'to': 2, 'be': 2, 'or': 1, 'not': 1}",
}


def master_nb():
    return nbformat.read(TOY_MASTER, as_version=4)


def with_answers(**answers):
    """The master with some answer cells replaced (keeps the cells' metadata, like a student would)."""
    nb = master_nb()
    for question, source in answers.items():
        nb.cells[ANSWER_CELLS[question]].source = source
    return nb


def insert_after(nb, question: str, source: str):
    nb.cells.insert(ANSWER_CELLS[question] + 1, nbformat.v4.new_code_cell(source))
    return nb


def graded_cells(nb):
    return [c for c in nb.cells if markers.is_test_cell(c)]


RIGGED = "class Rigged:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"


# ----------------------------------------------------------------------------------- the corpus
# The case table: submission file -> (expected status, expected score out of 10). Static, so
# collecting the tests builds nothing; build_corpus writes the files when the (slow) run needs them.
CASES = {
    "correct.ipynb": ("ok", 10),
    "untouched_exercise.ipynb": ("error", 0),
    "not_json.ipynb": ("invalid", 0),
    "essay.docx": ("invalid", 0),
    "json_not_notebook.ipynb": ("invalid", 0),
    "other_assignment.ipynb": ("invalid", 0),
    "edited_tests_wrong_q1.ipynb": ("ok", 8),
    "deleted_tests_wrong_q2.ipynb": ("ok", 8),
    "duplicated_tests.ipynb": ("ok", 10),
    "monkeypatch_numpy_wrong_q2.ipynb": ("ok", 8),
    "input_transformer_wrong_q4.ipynb": ("ok", 8),
    "fake_printout_wrong_q1.ipynb": ("ok", 8),
    "rigged_eq.ipynb": ("ok", 5),
    "rigged_int_subclass.ipynb": ("ok", 7),
    "rigged_array_subclass.ipynb": ("ok", 8),
    "function_returns_rigged.ipynb": ("ok", 7),
    "function_patches_numpy_in_host.ipynb": ("ok", 7),
    "reads_the_master.ipynb": ("error" if BWRAP_WORKS else "ok", 7 if BWRAP_WORKS else 10),
    "os_exit_in_q3.ipynb": ("crashed", 5),
    "sys_exit_0.ipynb": ("error", 10),
    "asks_input.ipynb": ("error", 10),
    "warnings_on_stderr.ipynb": ("ok", 10),
    "output_flood.ipynb": ("ok", 10),
    "infinite_loop_ignoring_sigint.ipynb": ("timeout", 5),
    "function_never_returns.ipynb": ("ok", 7),
    "memory_hog.ipynb": ("crashed", 5),
    "writes_outside_workdir.ipynb": ("ok", 10),
}


def build_corpus(folder: Path, sentinels: dict) -> dict:
    """Write every case of :data:`CASES` into ``folder``; returns {file name: (expected status, expected score)}."""
    cases: dict[str, tuple] = {}

    def add(name, nb_or_bytes):
        assert name in CASES, f"{name} is not in the case table CASES"
        path = folder / name
        if isinstance(nb_or_bytes, bytes):
            path.write_bytes(nb_or_bytes)
        else:
            nbformat.write(nb_or_bytes, path)
        cases[name] = CASES[name]

    add("correct.ipynb", master_nb())
    add("untouched_exercise.ipynb", nbformat.read(TOY_EXERCISE, as_version=4))
    add("not_json.ipynb", b"this is not JSON {")
    add("essay.docx", b"PK\x03\x04 binary junk")
    add("json_not_notebook.ipynb", json.dumps({"hello": "world"}).encode())
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("q1_param_count = 1234")])
    other.cells[0].metadata["course"] = {"answer": ["q1_param_count"]}
    add("other_assignment.ipynb", other)

    # tests edited, deleted, duplicated, points changed: the tests come from the master anyway
    nb = with_answers(q1="q1_total = 5051")
    for cell in graded_cells(nb):
        cell.source = "pass"
        cell.metadata["course"]["points"] = 100
    add("edited_tests_wrong_q1.ipynb", nb)
    nb = with_answers(q2="import numpy as np\nq2_squares = np.arange(5)")
    nb.cells = [c for c in nb.cells if not markers.is_test_cell(c)]
    add("deleted_tests_wrong_q2.ipynb", nb)
    nb = master_nb()
    for cell in graded_cells(nb)[:2]:
        for copy_number in range(3):
            duplicate = copy.deepcopy(cell)
            duplicate["id"] = f"{cell['id']}-copy{copy_number}"
            nb.cells.append(duplicate)
    add("duplicated_tests.ipynb", nb)

    # rigging the checks
    add("monkeypatch_numpy_wrong_q2.ipynb", with_answers(q2=(
        "import numpy as np\nimport unittest\nnp.testing.assert_array_equal = lambda *a, **k: None\n"
        "np.testing.assert_allclose = lambda *a, **k: None\nnp.array_equal = lambda *a, **k: True\n"
        "unittest.TestCase.assertEqual = lambda *a, **k: None\nq2_squares = np.zeros(5)")))
    add("input_transformer_wrong_q4.ipynb", with_answers(q4=(
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'] if any('assert' in l for l in lines) else lines)\n"
        "q4_counts = {'to': 1}")))
    add("fake_printout_wrong_q1.ipynb", with_answers(q1=(
        "print('All tests passed! q1: 3/3, q2: 2/2, q3: 3/3, q4: 2/2 -- score 10/10')\nq1_total = 1")))
    add("rigged_eq.ipynb", with_answers(q1=RIGGED + "q1_total = Rigged()", q4=RIGGED + "q4_counts = Rigged()"))
    add("rigged_int_subclass.ipynb", with_answers(q1=(
        "class Five(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
        "q1_total = Five(1)")))
    add("rigged_array_subclass.ipynb", with_answers(q2=(
        "import numpy as np\nclass Yes(np.ndarray):\n    def __eq__(self, other):\n        return np.ones(5, bool)\n"
        "q2_squares = np.zeros(5).view(Yes)")))
    add("function_returns_rigged.ipynb", with_answers(q3=RIGGED + "def normalize(v):\n    return Rigged()"))
    add("function_patches_numpy_in_host.ipynb", with_answers(q3=(
        "import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None\nnp.isclose = lambda *a, **k: True\n"
        "def normalize(v):\n    return [0.0, 0.0]")))
    add("reads_the_master.ipynb", with_answers(q1=(
        f"import json\nmaster = json.load(open({str(TOY_MASTER.resolve())!r}))\n"
        "exec(''.join(master['cells'][5]['source']))")))

    # the process misbehaves
    add("os_exit_in_q3.ipynb", with_answers(q3="import os\nos._exit(1)"))
    add("sys_exit_0.ipynb", insert_after(master_nb(), "q2", "import sys\nsys.exit(0)"))
    add("asks_input.ipynb", insert_after(master_nb(), "q1", "name = input('your name? ')"))
    add("warnings_on_stderr.ipynb", insert_after(master_nb(), "q1", (
        "import sys, warnings\nwarnings.warn('this API is deprecated', DeprecationWarning)\n"
        "warnings.warn('careful', UserWarning)\nprint('noise on stderr', file=sys.stderr)")))
    add("output_flood.ipynb", insert_after(master_nb(), "q1", "for i in range(100_000):\n    print('x' * 200)"))
    add("infinite_loop_ignoring_sigint.ipynb", insert_after(master_nb(), "q2", (
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")))
    add("function_never_returns.ipynb", with_answers(q3=(
        "import signal\ndef normalize(v):\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass")))
    # 3 GB touched, so resident: the watchdog stops it at the batch's 1500M; q1 and q2 were exported before
    add("memory_hog.ipynb", insert_after(master_nb(), "q2", "hog = bytearray(3 * 2**30)\nhog[::4096] = b'x' * len(hog[::4096])"))
    if not BWRAP_WORKS:  # unsandboxed, such writes succeed: that is what the sandbox is for
        return cases
    writes = "\n".join(f"try:\n    open({str(p)!r}, 'w').write('pwned')\nexcept OSError:\n    pass" for p in sentinels.values())
    add("writes_outside_workdir.ipynb", insert_after(master_nb(), "q1", writes))
    assert cases.keys() == CASES.keys(), f"cases built and cases in the table differ: {cases.keys() ^ CASES.keys()}"
    return cases


def _tree_digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    submissions, out = base / "submissions", base / "out"
    submissions.mkdir()
    sentinels = {
        "submissions": submissions / "evil.ipynb",
        "out": out / "gradebook.csv.evil",
        "tests_dir": HERE / "grading" / "pwned.txt",
        "tmp": Path("/tmp") / f"course-grade-pwned-{os.getpid()}",
    }
    cases = build_corpus(submissions, sentinels)
    before = {"submissions": _tree_digest(submissions), "toy": _tree_digest(TOY_ROOT)}
    rows = grading.grade(str(TOY_MASTER), submissions, out, jobs=2, timeout=60, cell_timeout=20, call_timeout=5,
                         memory_limit="1500M", sandbox=SANDBOX, progress=False)
    after = {"submissions": _tree_digest(submissions), "toy": _tree_digest(TOY_ROOT)}
    yield {"cases": cases, "rows": {r["submission"]: r for r in rows}, "out": out, "submissions": submissions,
           "before": before, "after": after, "sentinels": sentinels}
    for path in sentinels.values():
        if path.exists():
            path.unlink()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_case(corpus_run, name):
    status, score = corpus_run["cases"][name]
    row = corpus_run["rows"][name]
    assert (row["status"], row["score"]) == (status, score), f"{name}: {row}"
    assert row["max_score"] == 10


@pytest.mark.slow
def test_batch_completed_and_nothing_outside_changed(corpus_run):
    assert set(corpus_run["rows"]) == set(corpus_run["cases"]) == set(CASES)
    assert corpus_run["before"] == corpus_run["after"], "a submission or the master changed"
    if BWRAP_WORKS:
        leaked = [str(p) for p in corpus_run["sentinels"].values() if p.exists()]
        assert not leaked, f"writes escaped the sandbox: {leaked}"
    with open(corpus_run["out"] / "gradebook.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["submission"] for r in table] == sorted(corpus_run["cases"])
    assert list(table[0])[:9] == ["submission", "status", "score", "max_score", "seconds", "q1", "q2", "q3", "q4"]


@pytest.mark.slow
def test_outputs_feedback_and_bounds(corpus_run):
    out = corpus_run["out"]
    flood = (out / "executed" / "output_flood.ipynb").stat().st_size
    assert flood < 5 * 2**20, f"the output flood reached the executed notebook ({flood} bytes)"
    feedback = (out / "feedback" / "edited_tests_wrong_q1.ipynb.md").read_text()
    assert "q1_total == 5051" not in feedback and "5050" not in feedback  # hidden test source never shown
    assert "a hidden test failed" in feedback
    exercise = (out / "feedback" / "untouched_exercise.ipynb.md").read_text()
    assert "NotImplementedError" in exercise and "cell 6" in exercise
    assert all(len(p.read_text()) <= config.MAX_FEEDBACK_CHARS + 100 for p in (out / "feedback").iterdir())
    row = corpus_run["rows"]["infinite_loop_ignoring_sigint.ipynb"]
    assert "cell 11" in row["detail"], row["detail"]  # the inserted cell, 1-based
    hog = corpus_run["rows"]["memory_hog.ipynb"]["detail"]
    assert "1.46G memory limit (--memory-limit)" in hog and "cell 11" in hog, hog
    log = (out / "grade.log").read_text()
    assert "enforced by a watchdog" in log and "memory_hog.ipynb: peak resident memory" in log
    assert (out / "grade.log").read_text().count("\n") >= len(corpus_run["cases"])


@pytest.mark.slow
def test_rerun_skips_graded_and_cli_exit_code(corpus_run, tmp_path):
    out = corpus_run["out"]
    before = (out / "results" / "correct.ipynb.json").stat().st_mtime_ns
    done = subprocess.run([sys.executable, "-m", "course_utils.tools.cli", "grade", str(TOY_MASTER), str(corpus_run["submissions"]),
                           "--out", str(out), "--timeout", "60", "--cell-timeout", "20", "--memory-limit", "1500M",
                           "--sandbox", SANDBOX, "--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "results" / "correct.ipynb.json").stat().st_mtime_ns == before  # skipped, not regraded
    assert "already graded" in (out / "grade.log").read_text()


@pytest.mark.slow
def test_grader_cannot_run_exit_code(tmp_path):
    done = subprocess.run([sys.executable, "-m", "course_utils.tools.cli", "grade", "77", str(tmp_path), "--out", str(tmp_path / "o"),
                           "--solutions", str(TOY_ROOT / "solutions")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "matches 0 masters" in done.stderr


@pytest.mark.slow
def test_force_regrades_and_progress(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(master_nb(), subs / "a.ipynb")
    original = (subs / "a.ipynb").read_bytes()
    first = grading.grade(str(TOY_MASTER), subs, tmp_path / "out", sandbox=SANDBOX, progress=False, timeout=120)
    again = grading.grade(str(TOY_MASTER), subs, tmp_path / "out", sandbox=SANDBOX, progress=False, force=True, timeout=120)
    assert first[0]["score"] == again[0]["score"] == 10
    assert (subs / "a.ipynb").read_bytes() == original  # graded from a copy, never executed in place


# ----------------------------------------------------------------------------------- units
def test_codec_round_trip_and_refusals():
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    value = {"n": 3, "x": 2.5, "s": "hi", "l": [1, (2, 3)], "arr": np.arange(6).reshape(2, 3), "f": np.float32(1.5)}
    back = codec.decode(json.loads(json.dumps(codec.encode(value))))
    np.testing.assert_array_equal(back["arr"], value["arr"])
    assert back["l"] == [1, (2, 3)] and back["f"] == np.float32(1.5) and back["s"] == "hi"
    pd.testing.assert_frame_equal(codec.decode(codec.encode(frame)), frame)

    class Rigged:
        def __eq__(self, other):
            return True

    for bad in (Rigged(), [Rigged()], np.array([Rigged()], dtype=object), type("Sub", (int,), {})(3), (x for x in [])):
        with pytest.raises(codec.Unsupported):
            codec.encode(bad)
    assert codec.encode(len)["t"] == "callable"
    with pytest.raises(ValueError):
        codec.decode({"t": "nd", "dtype": "|O", "shape": [1], "b64": ""})


# ----------------------------------------------------------------------------------- memory limit
CHILD_TOUCHES = ("import subprocess, sys, time\n"
                 "code = 'b = bytearray({size}); b[::4096] = bytes(len(b[::4096])); import time; time.sleep(30)'\n"
                 "child = subprocess.Popen([sys.executable, '-c', code])\nprint(child.pid, flush=True)\nchild.wait()")


def _watched(code: str, limit: str, seconds: float = 60):
    process = sandbox.popen([sys.executable, "-c", code], sandbox.Limits(memory_bytes=sandbox.parse_size(limit)),
                            dict(os.environ), Path.cwd(), stdout=subprocess.PIPE)
    finished = sandbox.wait(process, seconds)
    process.memory_watchdog.stop()
    return process, finished


def _alive(pid: int, wait_s: float = 10.0) -> bool:
    """Whether ``pid`` still runs after ``wait_s`` (a SIGKILLed process takes a moment to free its memory)."""
    import time

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":  # dead, only not reaped yet
                    return False
        except FileNotFoundError:
            return False
        time.sleep(0.05)
    return True


def test_memory_watchdog_kills_a_tree_over_the_limit():
    """A child process that makes 400 MB resident is caught: the sum over the tree counts, and all of it dies."""
    process, finished = _watched(CHILD_TOUCHES.format(size=400 * 2**20), "200M")
    watchdog = process.memory_watchdog
    assert finished and watchdog.tripped, "a 400 MB child under a 200M limit was not stopped"
    assert watchdog.peak > sandbox.parse_size("200M")
    assert process.returncode == -9
    child = int(process.stdout.read().split()[0])
    assert not _alive(child), "the child that held the memory survived"
    assert "200M memory limit (--memory-limit)" in watchdog.describe()


def test_memory_limit_is_not_an_address_space_cap():
    """Reserving address space is not using memory: TensorFlow reserves far more than it touches."""
    code = "import mmap\nreserved = mmap.mmap(-1, 8 * 2**30)\nprint(len(reserved))"
    process, finished = _watched(code, "256M")
    assert finished and process.returncode == 0, "an untouched 8 GB reservation failed under a 256M limit"
    assert not process.memory_watchdog.tripped
    assert 0 < process.memory_watchdog.peak < sandbox.parse_size("256M")


@pytest.mark.slow
def test_function_answer_over_the_limit_fails_its_call_with_memory_error(tmp_path):
    """A student's function that passes the limit when a test calls it: that call fails, naming the limit."""
    from course_utils.grading import testproc

    job_path = tmp_path / "host.json"
    job_path.write_text(json.dumps({"prelude": [], "parameters": {}, "data": {}, "cells": {
        "hog": "def hog():\n    block = bytearray(2**30)\n    block[::4096] = bytes(len(block[::4096]))\n    return 1",
        "small": "def small():\n    return 2"}}))
    host = testproc.Host({"host_argv": [sys.executable, "-m", "course_utils.grading.host", str(job_path)],
                          "limits": vars(sandbox.Limits(memory_bytes=sandbox.parse_size("300M"))),
                          "env": dict(os.environ), "host_cwd": str(tmp_path), "host_setup_timeout": 60,
                          "call_timeout": 120})
    try:
        assert host.call("small", (), {}) == 2
        with pytest.raises(MemoryError, match=r"hog\(\) used more than the 300M memory limit \(--memory-limit\)"):
            host.call("hog", (), {})
        assert host.call("small", (), {}) == 2  # a fresh host serves the next call
    finally:
        host.close()


def test_jobs_times_limit_beyond_the_machine_warns(caplog, capsys):
    total = batch.machine_memory_bytes()
    assert total, "the OS did not report its memory"
    jobs = int(total // sandbox.parse_size("2G")) + 1
    batch._log_memory_plan(sandbox.parse_size("2G"), jobs)
    assert f"--jobs {jobs} x --memory-limit 2G" in capsys.readouterr().err
    batch._log_memory_plan(sandbox.parse_size("2G"), 1)
    assert "--jobs 1" not in capsys.readouterr().err


# ----------------------------------------------------------------------------------- sandbox default
NO_BWRAP = "bubblewrap (bwrap) is not installed"  # what probe_bwrap says


@pytest.mark.parametrize("choice", ["bwrap", "auto"])
def test_no_bubblewrap_refuses_to_grade(tmp_path, monkeypatch, choice):
    """The default sandbox is bwrap; without it the grader refuses rather than run students' code as you."""
    monkeypatch.setattr(sandbox, "probe_bwrap", lambda: (False, NO_BWRAP))
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(master_nb(), subs / "a.ipynb")
    kwargs = {} if choice == "bwrap" else {"sandbox": choice}  # bwrap is the default
    with pytest.raises(grading.GraderError) as refusal:
        grading.grade(str(TOY_MASTER), subs, tmp_path / "out", progress=False, **kwargs)
    message = str(refusal.value)
    assert "apt-get install bubblewrap" in message and "--sandbox none" in message and "macOS/Windows" in message
    assert not (tmp_path / "out" / "gradebook.csv").exists()


@pytest.mark.slow
def test_cli_without_bubblewrap_on_path_exits_2(tmp_path):
    (tmp_path / "subs").mkdir()
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    done = subprocess.run([sys.executable, "-m", "course_utils.tools.cli", "grade", str(TOY_MASTER), str(tmp_path / "subs"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PATH=str(empty_path)))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "bubblewrap (bwrap) is not installed" in done.stderr and "--sandbox none" in done.stderr


# ----------------------------------------------------------------------------------- grader failures
@pytest.mark.slow
def test_export_failure_is_a_grader_error_not_ok_with_zeros(tmp_path, monkeypatch):
    """When the grader's answer export fails, the status says so; the student is not blamed."""
    monkeypatch.setattr(config, "ANSWERS_DIR", "/proc/no-such-folder")  # nobody can create it
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(master_nb(), subs / "a.ipynb")
    row, = grading.grade(str(TOY_MASTER), subs, tmp_path / "out", sandbox=SANDBOX, progress=False, timeout=120)
    assert row["status"] == "grader-error" and row["score"] == 0, row
    assert "the grader's answer export after cell" in row["detail"], row["detail"]
    assert "not a verdict on this notebook" in row["detail"]
    feedback = (tmp_path / "out" / "feedback" / "a.ipynb.md").read_text()
    assert "not a judgement of your code" in feedback
    assert "grader failure" in (tmp_path / "out" / "grade.log").read_text()
    # a grader-error is not a grade: the next run grades the submission again
    monkeypatch.setattr(config, "ANSWERS_DIR", "_grader_answers")
    row, = grading.grade(str(TOY_MASTER), subs, tmp_path / "out", sandbox=SANDBOX, progress=False, timeout=120)
    assert (row["status"], row["score"]) == ("ok", 10), row


@pytest.mark.slow
def test_test_process_failure_is_a_grader_error(tmp_path, monkeypatch):
    real_run_tests = batch.run_master_tests

    def broken_test_process(settings, workdir, private, nb, found):
        real_run_tests(settings, workdir, private, nb, found)
        return {"tests": [], "error": "Traceback ...\nOSError: [Errno 28] No space left on device"}  # its failure report

    monkeypatch.setattr(batch, "run_master_tests", broken_test_process)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(master_nb(), subs / "a.ipynb")
    row, = grading.grade(str(TOY_MASTER), subs, tmp_path / "out", sandbox=SANDBOX, progress=False, timeout=120)
    assert row["status"] == "grader-error", row
    assert "the grader's test process failed" in row["detail"] and "error in cell" not in row["detail"]
    assert "No space left on device" in (tmp_path / "out" / "grade.log").read_text()


def test_parse_size_and_sandbox_choice():
    assert sandbox.parse_size("1.5G") == int(1.5 * 2**30)
    with pytest.raises(ValueError, match="memory-limit"):
        sandbox.parse_size("lots")
    with pytest.raises(ValueError, match="below 64M"):
        sandbox.parse_size("10M")
    with pytest.raises(grading.GraderError):
        config.resolve_sandbox("docker")


def test_find_master_by_number_and_stem():
    solutions = TOY_ROOT / "solutions"
    assert config.find_master("99", solutions) == config.find_master("99_toy", solutions) == solutions / "99_toy.ipynb"
    with pytest.raises(grading.GraderError, match="from: 99_toy"):
        config.find_master("03", solutions)


# ----------------------------------------------------------------------------------- real masters
REPO = HERE.parent
MASTERS = sorted((REPO / "solutions").glob("*.ipynb"))


@pytest.mark.slow
def test_chapter_03_full_marks_under_2g_and_a_memory_hog_stopped(tmp_path):
    """Issue 10: --memory-limit 2G zeroed the chapter-03 master (TensorFlow's address space); a hog must be stopped."""
    master = REPO / "solutions" / "03_mnist_cnn.ipynb"
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "solution.ipynb").write_bytes(master.read_bytes())
    hog = nbformat.read(master, as_version=4)
    first_answer = next(i for i, c in enumerate(hog.cells) if c.metadata.get("course", {}).get("answer"))
    hog.cells.insert(first_answer + 1, nbformat.v4.new_code_cell(
        "import numpy as np\nhog = np.ones(3 * 2**30, dtype=np.uint8)  # 3 GB, written, so resident"))
    nbformat.write(hog, subs / "hog.ipynb")
    rows = {r["submission"]: r for r in grading.grade(master.stem, subs, tmp_path / "out", jobs=1, timeout=900,
                                                      cell_timeout=300, memory_limit="2G", sandbox=SANDBOX,
                                                      progress=False, solutions=REPO / "solutions")}
    solved = rows["solution.ipynb"]
    assert (solved["status"], solved["score"]) == ("ok", solved["max_score"]), solved
    stopped = rows["hog.ipynb"]
    assert stopped["status"] == "crashed", stopped
    assert "2G memory limit (--memory-limit)" in stopped["detail"] and f"cell {first_answer + 2}" in stopped["detail"]


@pytest.mark.slow
@pytest.mark.parametrize("master", MASTERS, ids=[m.stem for m in MASTERS])
def test_real_master_full_marks_and_exercise_zero(master, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "solution.ipynb").write_bytes(master.read_bytes())
    exercise = REPO / "exercises" / master.name
    assert exercise.exists(), f"{exercise.name} missing: run `course build-exercises`"
    (subs / "exercise.ipynb").write_bytes(exercise.read_bytes())
    rows = {r["submission"]: r for r in grading.grade(master.stem, subs, tmp_path / "out", jobs=2, timeout=600,
                                                      cell_timeout=300, sandbox=SANDBOX, progress=False,
                                                      solutions=REPO / "solutions")}
    solved = rows["solution.ipynb"]
    assert (solved["status"], solved["score"]) == ("ok", solved["max_score"]), solved
    assert rows["exercise.ipynb"]["score"] == 0, rows["exercise.ipynb"]
    assert rows["exercise.ipynb"]["status"] in ("error", "ok")
