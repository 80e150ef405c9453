"""What a student installs is enough: every exercise master runs in a `[lab]`-only venv.

A master holds the solutions, the visible checks and the hidden tests, so running it top to
bottom exercises every import a student or the grader's test cells make. The venv is built by
`make test-student` (``pip install -e ".[lab]"`` and nothing else) and named by
``COURSE_STUDENT_PYTHON``; without it these tests are skipped with that instruction.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
MASTERS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
STUDENT_PYTHON = os.environ.get("COURSE_STUDENT_PYTHON")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not STUDENT_PYTHON, reason="needs the [lab]-only venv: run `make test-student`"),
]


def _student(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, COURSE_SMOKE="1", COURSE_OFFLINE="1", MPLBACKEND="Agg")
    bin_dir = str(Path(STUDENT_PYTHON).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONPATH", None)
    return subprocess.run([STUDENT_PYTHON, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_venv_is_a_student_install():
    probe = _student(["-c", "import importlib.util as u; print([m for m in ('nbval', 'hypothesis', "
                            "'pytest_timeout') if u.find_spec(m)])"], cwd=ROOT)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]", f"dev-only packages in the student venv: {probe.stdout}"


def test_kernels_run_in_the_student_venv(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)")]
    nbformat.write(nb, tmp_path / "probe.ipynb")
    run = _student(["-m", "papermill", "probe.ipynb", "out.ipynb", "-k", "python3", "--no-progress-bar"],
                   cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    printed = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(STUDENT_PYTHON).parent.parent.resolve()


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.stem)
def test_master_runs_in_the_student_install(master, tmp_path):
    run = _student(["-m", "papermill", str(master), str(tmp_path / master.name), "-k", "python3",
                    "--cwd", str(tmp_path), "--no-progress-bar"], cwd=tmp_path)
    assert run.returncode == 0, f"{master.name} failed in the [lab]-only venv:\n{run.stderr[-3000:]}"
