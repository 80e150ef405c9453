"""Execution: run the prepared notebook in the sandbox (:mod:`.kernel_runner`) and collect its events."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import sandbox as sb
from .config import Settings, sandbox_env


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
    argv = settings.sandbox.wrap([sys.executable, "-m", "course_utils.grading.kernel_runner", str(job_path), str(write_fd)], workdir)
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
