"""The package installs where users open it: Colab's pinned stack, the setup cell, one repository URL.

The pip dry run against Colab's image needs the network and runs in ``make test-colab``
(``tools/colab_stack.py check``); these tests check the same bounds offline, fast.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.version import Version

from course_utils import GITHUB_URL, grading
from course_utils.authoring import conventions
from course_utils.authoring.markers import strip_magics

ROOT = Path(__file__).resolve().parent.parent
TOY_SOLUTIONS = ROOT / "tests" / "grading" / "assignment" / "solutions"


def _load_tool():
    spec = importlib.util.spec_from_file_location("colab_stack", ROOT / "tools" / "colab_stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab_stack = _load_tool()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Colab's runtime: Linux x86_64, CPython 3.13 (constraints/colab/os-info-2026-08.txt).
COLAB_MARKERS = {**default_environment(), "platform_system": "Linux", "sys_platform": "linux",
                 "platform_machine": "x86_64", "python_version": "3.13", "python_full_version": "3.13.0"}


def test_read_freeze_keeps_pins_and_says_why_it_drops_lines(tmp_path):
    freeze = tmp_path / "freeze.txt"
    freeze.write_text("# header\nJupyter_Client==7.4.9\ntorch==2.11.0+cu128\n"
                      "google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz\n-e .\n", encoding="utf-8")
    pins, left_out = colab_stack.read_freeze(freeze)
    assert pins == {"jupyter-client": "7.4.9"}
    reasons = dict(left_out)
    assert "local version" in reasons["torch==2.11.0+cu128"]
    assert "URL" in reasons["google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz"]
    assert "not a name==version" in reasons["-e ."]


@pytest.mark.parametrize("freeze", [colab_stack.FREEZE, colab_stack.FREEZE_GPU], ids=lambda p: p.name)
def test_every_dependency_admits_the_version_colab_holds(freeze):
    pins, _ = colab_stack.read_freeze(freeze)
    assert pins["ipykernel"] == "6.17.1", "google-colab pins ipykernel; the copy of Colab's list looks wrong"
    requirements = PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["dev"]
    refused, checked = [], 0
    for text in requirements:
        requirement = Requirement(text)
        name = colab_stack.normalize(requirement.name)
        if name not in pins or (requirement.marker and not requirement.marker.evaluate(COLAB_MARKERS)):
            continue
        checked += 1
        if not requirement.specifier.contains(pins[name], prereleases=True):
            refused.append(f"{text!r} refuses Colab's {name}=={pins[name]}")
    assert not refused, "; ".join(refused)
    assert checked >= 10  # numpy, pandas, tensorflow, keras, ipykernel, ... are all on Colab


def test_lower_bounds_are_the_colab_versions_we_test():
    """A lower bound below Colab's major.minor would promise versions no CI job runs."""
    pins, _ = colab_stack.read_freeze(colab_stack.FREEZE)
    untested = []
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        name = colab_stack.normalize(requirement.name)
        lower = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        if name in pins and lower and lower[0].release[:2] < Version(pins[name]).release[:2]:
            untested.append(f"{text!r}: Colab's, the oldest we test, is {pins[name]}")
    assert not untested, "raise these lower bounds: " + "; ".join(untested)


def test_repository_url_is_defined_once():
    assert PYPROJECT["project"]["urls"]["Homepage"] == GITHUB_URL
    assert conventions.INSTALL_REQUIREMENT.startswith(f"course-utils @ git+{GITHUB_URL}@")
    assert conventions.INSTALL_REQUIREMENT in conventions.SETUP_CELL_SOURCE


def test_readme_badges_are_the_conventions_badges():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| \d\d \| \[[^\]]+\]\((notebooks/\d\d_[a-z0-9_]+\.ipynb)\) \|.*\| (\S.*\S) \|$", readme, re.M)
    assert len(rows) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    wrong = [path for path, badge in rows if badge != conventions.colab_badge(path)]
    assert not wrong, f"README badges that are not conventions.colab_badge(path): {wrong}"


def _run_setup_cell(isolated: bool) -> str:
    """Run the setup cell's Python (its ``%pip`` line replaced by a print) in a fresh interpreter."""
    source = conventions.SETUP_CELL_SOURCE.replace("%pip install", "print('WOULD INSTALL');  # pip install")
    flags = ["-I", "-S"] if isolated else []  # -S: no site-packages, so course_utils is missing
    done = subprocess.run([sys.executable, *flags, "-c", source], capture_output=True, text=True, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_setup_cell_installs_only_where_the_package_is_missing():
    assert "WOULD INSTALL" in _run_setup_cell(isolated=True)
    assert "WOULD INSTALL" not in _run_setup_cell(isolated=False)
    # It must decide without importing the package it is about to install.
    assert "import course_utils" not in strip_magics(conventions.SETUP_CELL_SOURCE)
    assert "google.colab" not in conventions.SETUP_CELL_SOURCE


def test_grade_outside_a_checkout_looks_in_the_current_folder(tmp_path, monkeypatch):
    from course_utils import paths

    monkeypatch.setattr(paths, "repo_root", lambda: None)  # as when installed from a wheel
    monkeypatch.chdir(tmp_path)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    with pytest.raises(grading.GraderError, match=r"--solutions DIR") as missing:
        grading.grade("99", submissions, tmp_path / "out", sandbox="none", progress=False)
    assert str(tmp_path / "solutions") in str(missing.value) and GITHUB_URL in str(missing.value)
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "99_toy.ipynb").write_bytes((TOY_SOLUTIONS / "99_toy.ipynb").read_bytes())
    with pytest.raises(grading.GraderError, match=r"matches 0 masters .*99_toy"):
        grading.grade("77", submissions, tmp_path / "out", sandbox="none", progress=False)


@pytest.mark.slow
def test_fractional_cell_timeout_grades(tmp_path):
    """nbclient's timeouts are integer traits: a float timeout crashed every submission (traitlets 5.7)."""
    submissions = tmp_path / "subs"
    submissions.mkdir()
    (submissions / "master.ipynb").write_bytes((TOY_SOLUTIONS / "99_toy.ipynb").read_bytes())
    rows = grading.grade(str(TOY_SOLUTIONS / "99_toy.ipynb"), submissions, tmp_path / "out", sandbox="none",
                         progress=False, timeout=120.0, cell_timeout=30.5)
    assert [(r["status"], r["score"], r["max_score"]) for r in rows] == [("ok", 10, 10)], rows[0]["detail"]
