"""End to end in a real browser: what a student does after `make lab`.

Starts JupyterLab the way `make lab` does (on a copy of the course, so saved outputs never touch
the checkout), opens it in headless Chromium driven by Playwright, follows the landing page's
links to lecture 01 and to exercise set 01 with the answers filled in, runs all cells of each and
checks what the student sees: no error output, none of TensorFlow's start-up lines, plots that
render. Screenshots go to ``build/e2e-screenshots/`` (``COURSE_E2E_SCREENSHOTS`` overrides).

Needs Chromium (Debian's ``chromium``; ``COURSE_CHROMIUM`` names another binary) and the
``playwright`` package (``pip install -e ".[browser]"``); ``.ci/install-browser`` installs both.
Skipped when either is missing, unless ``COURSE_REQUIRE_BROWSER=1`` (``make test-browser`` and CI),
where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LECTURE = "notebooks/01_big_models_scale.ipynb"
EXERCISE = "exercises/01_big_models_scale.ipynb"
MASTER = "solutions/01_big_models_scale.ipynb"
# Flags for a closed network: without the background-networking ones Chromium keeps retrying
# Google services and is slow to start.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# What TensorFlow prints on a CPU-only machine (see course_utils.env.TF_STARTUP_NOISE).
NOISE_FRAGMENTS = ["absl::InitializeLog", "oneDNN custom operations are on", "cpu_feature_guard",
                   "This TensorFlow binary is optimized", "Could not find cuda drivers",
                   "failed call to cuInit"]
NOTEBOOK_TIMEOUT_S = 420

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _lab_bin() -> Path:
    """Where `jupyter-lab` comes from: the student's `[lab]`-only venv when `make test-student` built
    it (COURSE_STUDENT_PYTHON), else this environment. The kernel is that venv's Python too."""
    student = os.environ.get("COURSE_STUDENT_PYTHON")
    return Path(student).parent if student else Path(sys.executable).parent


def _chromium() -> str | None:
    explicit = os.environ.get("COURSE_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _missing_requirement() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e \".[browser]\", or .ci/install-browser)"
    if _chromium() is None:
        return "no Chromium found (apt-get install chromium, or .ci/install-browser; COURSE_CHROMIUM names another binary)"
    if shutil.which("jupyter-lab", path=str(_lab_bin())) is None:
        return "JupyterLab is not installed in this environment (pip install -e \".[lab]\")"
    return None


@pytest.fixture(scope="module")
def requirements():
    missing = _missing_requirement()
    if missing:
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"COURSE_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)


def _screenshot_dir() -> Path:
    folder = Path(os.environ.get("COURSE_E2E_SCREENSHOTS", ROOT / "build" / "e2e-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _without_solution_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def filled_in_exercise(exercise_path: Path, master_path: Path) -> nbformat.NotebookNode:
    """The exercise as a student who answers like the master hands it in.

    Each answer cell (metadata ``course.answer``) gets the master's answer code; everything else,
    visible checks included, stays the exercise's own. Hidden tests are not added: a student
    never sees them.
    """
    exercise = nbformat.read(exercise_path, as_version=4)
    master = nbformat.read(master_path, as_version=4)
    answers = {tuple(c.metadata["course"]["answer"]): c.source for c in master.cells
               if c.cell_type == "code" and "answer" in c.metadata.get("course", {})}
    filled = 0
    for cell in exercise.cells:
        names = tuple(cell.metadata.get("course", {}).get("answer", ()))
        if cell.cell_type == "code" and names:
            if names not in answers:
                raise AssertionError(f"{master_path.name} has no answer cell for {names}")
            cell.source = _without_solution_markers(answers[names])
            filled += 1
    assert filled, f"{exercise_path.name} has no answer cells to fill"
    return exercise


def _course_copy(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    for folder in ("notebooks", "exercises", "data"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copy2(ROOT / "START_HERE.ipynb", root / "START_HERE.ipynb")
    nbformat.write(filled_in_exercise(ROOT / EXERCISE, ROOT / MASTER), root / EXERCISE)
    return root


class JupyterLab:
    """`make lab`'s command on a free port with a token, in an isolated Jupyter configuration."""

    def __init__(self, course: Path, home: Path):
        self.course = course
        self.port, self.token = _free_port(), uuid.uuid4().hex
        self.log_path = home / "jupyterlab.log"
        settings = home / "lab-settings"
        # No news prompt in the corner of the screenshots; a fresh workspace every run.
        (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
        (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
            '{"fetchNews": "false", "checkForUpdates": false}')
        environment = {k: v for k, v in os.environ.items()
                       # a student's environment: conftest sets these for nbval, a student has neither
                       if k not in ("TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND")}
        environment.update(
            COURSE_SMOKE="1", COURSE_OFFLINE="1",
            JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
            IPYTHONDIR=str(home / "ipython"),
        )
        # The server and its kernels run from the student's install: PATH starts with its bin.
        environment["PATH"] = str(_lab_bin()) + os.pathsep + environment.get("PATH", "")
        environment.pop("PYTHONPATH", None)
        command = [str(_lab_bin() / "jupyter-lab"), "START_HERE.ipynb", "--no-browser",
                   f"--port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   "--ServerApp.ip=127.0.0.1", "--LabApp.news_url=None"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root; Jupyter refuses that
            command.append("--allow-root")
        self.started = time.perf_counter()
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=course, env=environment, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        self._wait_until_up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/START_HERE.ipynb?token={self.token}"

    def _wait_until_up(self, timeout_s: float = 120) -> None:
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"JupyterLab exited with {self.process.returncode}:\n{self.log()}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"JupyterLab did not answer within {timeout_s:.0f} s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def lab(requirements, tmp_path_factory):
    home = tmp_path_factory.mktemp("jupyter-home")
    server = JupyterLab(_course_copy(tmp_path_factory.mktemp("copy")), home)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(lab.url)
        yield tab
        # The state at the end, passed or failed, is the most useful artefact when it failed.
        tab.screenshot(path=str(_screenshot_dir() / "99-last-state.png"))
        context.close()
        browser.close()


# ----------------------------------------------------------------------------- page helpers
def _notebook(page):
    """The notebook panel in front."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def _landing_link(page, href: str):
    # JupyterLab rewrites a relative link to its /files/ URL and opens it in the app on click.
    return page.locator(f'.jp-RenderedMarkdown a[href*="/files/{href}?"]').first


def _open_from_landing_page(page, href: str, course: Path) -> None:
    """Click the landing page's link to ``href`` and wait until all its cells are loaded."""
    page.locator(".lm-TabBar-tab", has_text="START_HERE.ipynb").first.click()
    _landing_link(page, href).click()
    page.locator(".lm-TabBar-tab.jp-mod-current", has_text=Path(href).name).first.wait_for()
    # The panel shows the first cells before the rest arrive; Run All then would run only those.
    n_cells = len(nbformat.read(course / href, as_version=4).cells)
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length === n",
        arg=n_cells, timeout=60_000)


def _run_all_cells(page) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def _wait_for_all_cells(page, timeout_s: float) -> None:
    """Wait until Run All has finished: the first code cell has run and none is queued or running.

    Run All queues every cell at once ([*]), so "none queued" cannot hold between two cells; when
    a cell fails, JupyterLab unqueues the rest, which is also "finished".
    """
    page.wait_for_function(
        r"""() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
            return prompts.length > 0 && /\[\d+\]/.test(prompts[0]) && !prompts.some(p => p.includes('*'));
        }""",
        timeout=timeout_s * 1000, polling=500)


def _texts(page, selector: str) -> list[str]:
    """textContent of the matches in the notebook in front (innerText is empty for cells that
    JupyterLab's windowing has not laid out)."""
    return _notebook(page).locator(selector).evaluate_all("nodes => nodes.map(n => n.textContent)")


def _save_and_read(page, path: Path) -> nbformat.NotebookNode:
    """Save the notebook in front (File > Save) and read what JupyterLab wrote to disk."""
    before = path.stat().st_mtime_ns
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^File$")).click()
    page.locator('.lm-Menu-item[data-command="docmanager:save"]').click()
    deadline = time.perf_counter() + 60
    while path.stat().st_mtime_ns == before:
        if time.perf_counter() > deadline:
            raise AssertionError(f"JupyterLab did not save {path.name} within 60 s")
        time.sleep(0.3)
    time.sleep(1)  # the contents API writes in one go; give it a moment to finish
    return nbformat.read(path, as_version=4)


def _rendered_image_count(page) -> int:
    """Plots shown in the notebook in front, each scrolled into view and decoded (width > 0)."""
    images = _notebook(page).locator(".jp-RenderedImage img")
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                               timeout=10_000)
    return images.count()


def _check_notebook(page, saved: nbformat.NotebookNode, name: str) -> dict:
    """What the student sees in the notebook in front: every cell ran, no error, no TensorFlow
    start-up lines, every plot rendered. Returns what it counted."""
    code = [c for c in saved.cells if c.cell_type == "code"]
    errors = [f"{o.ename}: {o.evalue}" for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: error output in the browser: {errors}"
    unrun = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not unrun, f"{name}: code cells {unrun} did not run"
    stderr = [o.text for c in code for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
    shown = "\n".join(_texts(page, ".jp-OutputArea-output"))
    noise = [f for f in NOISE_FRAGMENTS if f in shown or any(f in s for s in stderr)]
    assert not noise, f"{name}: TensorFlow start-up lines in the notebook: {noise}\n" + "\n".join(stderr)
    saved_plots = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    rendered = _rendered_image_count(page)
    assert rendered == saved_plots, f"{name}: {saved_plots} plots in the notebook, {rendered} rendered in the page"
    return {"code cells": len(code), "plots": rendered, "stderr": stderr}


# ----------------------------------------------------------------------------- the test
def test_student_runs_a_lecture_and_an_exercise_in_jupyterlab(lab, page):
    shots = _screenshot_dir()
    timeline = {}
    _landing_link(page, LECTURE).wait_for(timeout=120_000)
    timeline["landing page shown"] = time.perf_counter() - lab.started
    listing = page.locator(".jp-DirListing-itemName").evaluate_all("nodes => nodes.map(n => n.textContent)")
    assert {"notebooks", "exercises"} <= set(listing), f"file browser shows {listing}, not the course root"
    page.screenshot(path=str(shots / "01-landing-page.png"))

    _open_from_landing_page(page, LECTURE, lab.course)
    _run_all_cells(page)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedImage img')]
                 .some(img => img.complete && img.naturalWidth > 0)""",
        timeout=NOTEBOOK_TIMEOUT_S * 1000, polling=200)
    timeline["first plot rendered"] = time.perf_counter() - lab.started
    _notebook(page).locator(".jp-RenderedImage img").first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "02-lecture-first-plot.png"))
    _wait_for_all_cells(page, NOTEBOOK_TIMEOUT_S)
    timeline["lecture 01 finished"] = time.perf_counter() - lab.started
    try:
        lecture = _check_notebook(page, _save_and_read(page, lab.course / LECTURE), LECTURE)
    finally:
        page.screenshot(path=str(shots / "03-lecture-finished.png"))
    assert lecture["plots"] > 0, f"{LECTURE} rendered no plot"

    _open_from_landing_page(page, EXERCISE, lab.course)
    _run_all_cells(page)
    _wait_for_all_cells(page, NOTEBOOK_TIMEOUT_S)
    timeline["exercise 01 finished"] = time.perf_counter() - lab.started
    try:
        exercise = _check_notebook(page, _save_and_read(page, lab.course / EXERCISE), EXERCISE + " (answers filled in)")
    finally:
        page.screenshot(path=str(shots / "04-exercise-finished.png"))

    print(f"\nscreenshots: {shots}")
    for event, seconds in timeline.items():
        print(f"{seconds:6.1f} s after JupyterLab started: {event}")
    for name, seen in ((LECTURE, lecture), (EXERCISE, exercise)):
        print(f"{name}: {seen['code cells']} code cells ran, {seen['plots']} plots rendered, "
              f"{len(seen['stderr'])} stderr outputs")
        for text in seen["stderr"]:
            print("  stderr shown to the student:", text[:300].rstrip())
