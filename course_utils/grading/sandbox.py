"""Run an untrusted command: bubblewrap when it works, resource limits always.

With ``bwrap`` the command sees the whole filesystem read-only, except its work directory
(writable) and an empty private ``/tmp``; the instructor's masters, the other submissions and the
grader's output folder are hidden behind empty directories; there is no network (only a private
loopback, which the Jupyter kernel needs) and a separate PID namespace, so killing the sandbox
kills everything the student started. Limits apply in both modes: resident memory
(``--memory-limit``, enforced by :class:`MemoryWatchdog` from outside the sandbox), and with
``setrlimit`` file size, CPU time, number of processes.

Why the memory limit is not ``RLIMIT_AS``: an address-space cap counts memory a process has
reserved but never touches. TensorFlow reserves several times the memory it uses, so a 2G cap
broke ``import tensorflow`` and every answer scored zero. The watchdog measures what the
submission really occupies (the resident set of its whole process tree), which is what runs a
machine out of memory.

>>> parse_size("2G"), parse_size("512M"), parse_size("none")
(2147483648, 536870912, None)
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.I)


def parse_size(text: str | None) -> int | None:
    """Bytes from ``'4G'``, ``'512M'``, ``'1048576'``; ``None`` for ``'none'``/``''``."""
    if text is None or str(text).strip().lower() in ("", "none", "0"):
        return None
    match = _SIZE_RE.match(str(text))
    if not match:
        raise ValueError(f"--memory-limit {text!r} is not a size; use e.g. 4G, 512M or none")
    number, unit = float(match.group(1)), match.group(2).upper()
    value = int(number * 1024 ** "_KMGT".index(unit or "_"))
    if value < 64 * 2**20:
        raise ValueError(f"--memory-limit {text!r} is below 64M; a Python kernel cannot start with less")
    return value


@dataclass
class Limits:
    memory_bytes: int | None = 4 * 2**30
    file_bytes: int = 256 * 2**20
    processes: int = 512
    cpu_seconds: int | None = None

    def apply(self) -> None:
        """Set the limits on the current process (called in the child before exec).

        ``memory_bytes`` is not set here: :func:`popen` watches it with a :class:`MemoryWatchdog`.
        """
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_bytes, self.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.cpu_seconds:
            resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 5))
        if os.geteuid() != 0:  # Linux does not enforce RLIMIT_NPROC for root
            # the count is per user, so leave room for the processes this user already runs
            current = _processes_of_user(os.getuid())
            soft = current + self.processes
            resource.setrlimit(resource.RLIMIT_NPROC, (soft, soft))


def _processes_of_user(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass
    return count


@dataclass
class Sandbox:
    """How to wrap a command: ``mode`` is ``"bwrap"`` or ``"none"``."""

    mode: str
    hidden_paths: list[Path] = field(default_factory=list)  # masked with empty tmpfs
    keep_paths: list[str] = field(default_factory=list)  # stay readable even under a masked home

    def wrap(self, argv: list[str], workdir: Path, writable: bool = True, env: dict | None = None) -> list[str]:
        if self.mode == "none":
            return argv
        workdir = Path(workdir).resolve()
        cmd = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
               "--tmpfs", "/dev/shm"]
        masked = ["/tmp"]
        home = os.path.expanduser("~")
        if os.path.isdir(home) and Path(home).resolve() not in workdir.parents:
            # the grader's own home (tokens, ssh keys, notebooks) is not the student's business
            cmd += ["--tmpfs", home]
            masked.append(home)
        # What the kernel needs from under a masked folder comes back read-only: the Python in
        # use, the course package (a checkout or venv may live under /tmp or the home), the cache.
        for path in _needed_under(masked, self.keep_paths):
            cmd += ["--ro-bind", path, path]
        # Masks come after the re-binds, so a hidden folder inside a re-bound checkout stays hidden.
        for path in self.hidden_paths:
            path = Path(path).resolve()
            if path.exists() and path.is_dir() and path not in workdir.parents and path != workdir:
                cmd += ["--tmpfs", str(path)]
        cmd += ["--bind" if writable else "--ro-bind", str(workdir), str(workdir),
                "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--chdir", str(workdir)]
        return cmd + ["--"] + argv


def _needed_under(masked: list[str], extra: list[str] = ()) -> list[str]:
    """Paths under the ``masked`` folders that the sandboxed kernel still needs to read."""
    import sys

    prefixes = [m.rstrip("/") + "/" for m in masked]
    package_root = str(Path(__file__).resolve().parents[2])  # the checkout (editable) or site-packages
    candidates = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.executable, package_root)}
    candidates |= {os.path.realpath(p) for p in extra if os.path.exists(p)}
    keep = [p for p in candidates if any(p.startswith(prefix) for prefix in prefixes)]
    # a venv's python may be a symlink into a pyenv/conda tree: keep that whole tree
    for path in list(keep):
        parts = Path(path).parts
        for anchor in (".pyenv", ".local", "miniconda3", "anaconda3", ".conda"):
            if anchor in parts:
                keep.append(str(Path(*parts[: parts.index(anchor) + 1])))
    keep = sorted(set(keep), key=len)
    return [p for i, p in enumerate(keep) if not any(p.startswith(q + "/") for q in keep[:i])]


def probe_bwrap() -> tuple[bool, str]:
    """(works, why not): actually start a sandbox, because user namespaces may be disabled."""
    if shutil.which("bwrap") is None:
        return False, "bubblewrap (bwrap) is not installed"
    try:
        done = subprocess.run(
            ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
             "--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "--", "/bin/sh", "-c", "echo sandbox-ok"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return False, f"bwrap could not start: {err}"
    if done.returncode != 0 or "sandbox-ok" not in done.stdout:
        return False, (f"bwrap is installed but cannot create a sandbox here ({done.stderr.strip()[:300] or done.returncode}); "
                       "user namespaces may be disabled: on Ubuntu 24.04 `sudo sysctl "
                       "kernel.apparmor_restrict_unprivileged_userns=0`, in Docker see docs/INSTRUCTORS.md")
    return True, ""


def descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (read from /proc; used to clean up after an unsandboxed run)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(stat[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL a process started with ``start_new_session=True`` and everything below it."""
    victims = descendants(process.pid)
    for sig_target in [process.pid] + victims:
        try:
            os.kill(sig_target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def format_size(n_bytes: float) -> str:
    """``'2G'``, ``'1.5G'``, ``'512M'``: a size as ``--memory-limit`` spells it."""
    for unit, scale in (("T", 2**40), ("G", 2**30), ("M", 2**20), ("K", 2**10)):
        if n_bytes >= scale:
            return f"{round(n_bytes / scale, 2):g}{unit}"
    return f"{int(n_bytes)}B"


_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_bytes(pid: int) -> int:
    """Resident set of one process, 0 if it is gone."""
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                return int(handle.read().split()[1]) * _PAGE_BYTES
        except (OSError, IndexError, ValueError):
            return 0
    try:  # macOS and others (only with --sandbox none): psutil, a dependency of ipykernel
        import psutil

        return psutil.Process(pid).memory_info().rss
    except Exception:
        return 0


def _tree(pid: int) -> list[int]:
    if sys.platform.startswith("linux"):
        return [pid] + descendants(pid)
    try:
        import psutil

        return [pid] + [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except Exception:
        return [pid]


class MemoryWatchdog:
    """Kill a process tree whose resident memory, summed over its processes, passes a limit.

    It runs in a thread of the grader, outside the sandbox, so nothing the submission does can
    stop it. The resident set of every process of the tree is read every ``poll_s`` seconds (a
    few microseconds per process); the tree itself, which takes a scan of ``/proc``, is re-read
    every ``rescan_s`` seconds. Shared pages (libraries) count in each process that maps them,
    so the sum errs on the high side. ``tripped`` says the watchdog killed the tree; ``peak`` is
    the largest sum seen.
    """

    def __init__(self, process: subprocess.Popen, limit_bytes: int, poll_s: float = 0.1, rescan_s: float = 1.0):
        self.process, self.limit_bytes = process, limit_bytes
        self.poll_s, self.rescan_s = poll_s, rescan_s
        self.peak = 0
        self.tripped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"memory-watchdog-{process.pid}", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        pids: list[int] = []
        scanned = float("-inf")
        while not self._stop.is_set() and self.process.poll() is None:
            if time.monotonic() - scanned >= self.rescan_s:
                pids, scanned = _tree(self.process.pid), time.monotonic()
            used = sum(_resident_bytes(pid) for pid in pids)
            self.peak = max(self.peak, used)
            if used > self.limit_bytes:
                self.tripped = True  # before the kill, so whoever sees the process die knows why
                kill_tree(self.process)
                return
            self._stop.wait(self.poll_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def describe(self) -> str:
        """What a message about a run this watchdog stopped says."""
        return f"used more than the {format_size(self.limit_bytes)} memory limit (--memory-limit)"


def popen(argv: list[str], limits: Limits, env: dict, cwd: Path, **kwargs) -> subprocess.Popen:
    """Start ``argv`` in its own session with ``limits`` applied.

    With a memory limit the process carries a started :class:`MemoryWatchdog` as
    ``process.memory_watchdog`` (``None`` without one).
    """
    process = subprocess.Popen(argv, cwd=str(cwd), env=env, preexec_fn=limits.apply, start_new_session=True, **kwargs)
    process.memory_watchdog = MemoryWatchdog(process, limits.memory_bytes) if limits.memory_bytes else None
    return process


def wait(process: subprocess.Popen, timeout: float) -> bool:
    """True if the process ended within ``timeout`` seconds; otherwise kill it (and its tree)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return True
        time.sleep(0.05)
    kill_tree(process)
    return False
