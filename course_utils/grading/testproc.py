"""The test process: runs the instructor's tests against exported answers, in a fresh interpreter.

``python -m course_utils.grading.testproc JOB.json RESULT.json``. The student's code never ran in
this process: data answers are decoded from the kernel's export (:mod:`codec`), function answers
are proxies that call the student's function in a separate sandboxed host process
(:mod:`host`) under a timeout. Each test cell runs in its own namespace; its visible part first,
then its hidden part. The result file lists, per test cell, pass/fail and a message (for hidden
tests only the exception type, never their source).
"""

from __future__ import annotations

import builtins
import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback

BUILTIN_ERRORS = {name: obj for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, Exception)}


class TestTimeout(Exception):
    pass


class Host:
    """The sandboxed process that holds the student's functions (started on first use)."""

    def __init__(self, job: dict):
        self.job = job
        self.process: subprocess.Popen | None = None
        self.ready: list[str] = []
        self.broken: str | None = None

    def _start(self) -> None:
        from course_utils.grading import sandbox

        limits = sandbox.Limits(**self.job["limits"])
        self.process = sandbox.popen(self.job["host_argv"], limits, self.job["env"], self.job["host_cwd"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self._read(self.job["host_setup_timeout"])
        if line is None:
            watchdog = self.process.memory_watchdog
            self.broken = (f"re-creating the student's functions {watchdog.describe()}" if watchdog and watchdog.tripped
                           else "re-creating the student's functions timed out or crashed")
            self.close()
            return
        self.ready = json.loads(line).get("ready", [])

    def _read(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        stream, chunks = self.process.stdout, b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([stream], [], [], left)
            if not readable:
                return None
            chunk = os.read(stream.fileno(), 1 << 16)
            if not chunk:
                return None
            chunks += chunk
            if len(chunks) > 200 * 2**20:
                return None
            if b"\n" in chunks:
                return chunks.split(b"\n", 1)[0].decode("utf-8", "replace")

    def call(self, name: str, args, kwargs, with_state: bool = False):
        """The function's return value; with ``with_state``, (value, args after, kwargs after)."""
        from course_utils.grading import codec

        if self.process is None or self.process.poll() is not None:
            if self.broken:
                raise RuntimeError(self.broken)
            self._start()
            if self.broken:
                raise RuntimeError(self.broken)
        if name not in self.ready:
            raise NameError(f"{name} could not be re-created from the submission's answer cell")
        request = {"name": name, "args": codec.encode(tuple(args)), "kwargs": codec.encode(dict(kwargs)),
                   "state": with_state}
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except OSError:
            self.close()
            raise RuntimeError(f"{name}: the student's process died") from None
        line = self._read(self.job["call_timeout"])
        if line is None:
            watchdog = self.process.memory_watchdog
            self.close()  # next call starts a fresh host
            if watchdog is not None and watchdog.tripped:
                raise MemoryError(f"{name}() {watchdog.describe()} and was stopped")
            raise TimeoutError(f"{name}() did not return within {self.job['call_timeout']:g} s (or crashed)")
        answer = json.loads(line)
        if answer.get("ok"):
            value = codec.decode(answer["value"])
            if not with_state:
                return value
            after = answer.get("args_after", {})
            if "args" not in after:
                raise TypeError(f"{name}() left its arguments in a state the grader cannot read: "
                                f"{after.get('unsupported', 'no state returned')}")
            return value, codec.decode(after["args"]), codec.decode(after["kwargs"])
        error = BUILTIN_ERRORS.get(answer.get("type"), RuntimeError)
        raise error(f"{answer.get('type')}: {answer.get('message', '')}" if error is RuntimeError else answer.get("message", ""))

    def close(self) -> None:
        if self.process is not None:
            from course_utils.grading import sandbox

            sandbox.kill_tree(self.process)
            self.process = None


def _proxy(host: Host, name: str):
    def student_function(*args, **kwargs):
        return host.call(name, args, kwargs)

    def call_with_state(*args, **kwargs):
        return host.call(name, args, kwargs, with_state=True)

    student_function.__name__ = name
    # the student's function ran on copies in another process: this is how a test sees what it
    # did to its arguments (course_utils.grading.checks.check_no_mutation uses it)
    student_function.call_with_state = call_with_state
    return student_function


def _alarm(signum, frame):
    raise TestTimeout()


def _message(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def run_test_cells(job: dict) -> list[dict]:
    from course_utils.grading import codec

    host = Host(job)
    answers: dict = {}
    missing: dict[str, str] = {}
    for name in job["answer_names"]:
        path = os.path.join(job["answers_dir"], f"{name}.json")
        if not os.path.isfile(path) or os.path.getsize(path) > 200 * 2**20:
            missing[name] = "not defined when the notebook finished (or the run stopped before it)"
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                tree = json.load(handle)
        except (OSError, ValueError):
            missing[name] = "its exported data is unreadable"
            continue
        if tree.get("t") == "unsupported":
            missing[name] = f"the grader cannot check it: {str(tree.get('why', ''))[:200]}"
        elif tree.get("t") == "callable":
            answers[name] = ("callable", None)
        else:
            answers[name] = ("data", tree)
    signal.signal(signal.SIGALRM, _alarm)
    results = []
    for test in job["tests"]:
        namespace: dict = {"__name__": "__grader_test__"}
        try:
            exec(compile(job["parameters_source"], "<parameters>", "exec"), namespace)
        except Exception:
            pass
        namespace.update(job["parameters"])
        for name, (kind, tree) in answers.items():
            try:
                namespace[name] = _proxy(host, name) if kind == "callable" else codec.decode(tree)
            except Exception as err:
                missing[name] = f"its exported data is malformed ({type(err).__name__})"
        result = {"index": test["index"], "question": test["question"], "points": test["points"], "passed": False}
        needed = [n for n in job["answer_names"] if n in missing and n in (test["visible"] + test["hidden"])]
        if needed:
            result["message"] = "; ".join(f"answer `{n}` is missing: {missing[n]}" for n in needed)
            results.append(result)
            continue
        for part in ("visible", "hidden"):
            if not test[part].strip():
                continue
            signal.alarm(int(job["test_timeout"]))
            try:
                exec(compile(test[part], f"<{part} test of {test['question']}>", "exec"), namespace)
            except TestTimeout:
                result["message"] = f"the {part} test took longer than {job['test_timeout']} s"
                break
            except BaseException as err:  # noqa: BLE001 - a failing test is a result, not a crash
                if part == "visible":
                    result["message"] = _message(err)[:800]
                else:
                    result["message"] = f"a hidden test failed ({type(err).__name__})"
                break
            finally:
                signal.alarm(0)
        else:
            result["passed"] = True
        results.append(result)
    host.close()
    return results


def main(job_path: str, result_path: str) -> int:
    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    try:
        results = {"tests": run_test_cells(job)}
    except Exception:
        results = {"tests": [], "error": traceback.format_exc()[-2000:]}
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
