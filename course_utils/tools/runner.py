"""``course run``: execute the lecture notebooks in order with papermill and write a summary.

For each chapter it injects ``SMOKE`` and ``SEED``, applies a per-cell timeout, saves the
executed notebook in ``--out`` and collects the key results the notebook recorded with
:func:`course_utils.results.record`. ``summary.md`` lists chapter, status, seconds, data source
and key numbers; the exit code is 1 when any notebook failed, naming the failing cell.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import results
from ..paths import repo_root

NOTEBOOK_RE = re.compile(r"^(\d{2})_[a-z0-9_]+\.ipynb$")
# Per-cell limits: smoke cells take seconds; a full-mode training cell on a 2-core CPU can take
# many minutes (chapter 04 trains on 50,000 images), so full mode allows an hour per cell.
SMOKE_CELL_TIMEOUT_S = 600
FULL_CELL_TIMEOUT_S = 3600
#: Seconds per chapter measured by ``course run`` on the reference machine (a 2-core CPU, no
#: GPU); written by ``tools/record_run_times.py`` from a run's ``summary.json``.
MEASURED_TIMES_FILE = Path(__file__).with_name("measured_run_times.json")


@dataclass
class ChapterRun:
    chapter: str
    notebook: Path
    status: str = "pending"  # ok | failed
    seconds: float = 0.0
    error: str = ""
    results: dict = field(default_factory=dict)


def find_notebooks(directory: Path, only: list[str] | None = None) -> list[Path]:
    """Chapter notebooks ``NN_slug.ipynb`` in ``directory``, sorted; ``only`` filters by ``NN``."""
    notebooks = sorted(p for p in directory.glob("*.ipynb") if NOTEBOOK_RE.match(p.name))
    if only:
        wanted = {_normalise_chapter(item) for item in only}
        known = {p.name[:2] for p in notebooks}
        unknown = sorted(wanted - known)
        if unknown:
            raise ValueError(f"no chapter notebook for {', '.join(unknown)} in {directory}; "
                             f"available: {', '.join(sorted(known)) or 'none'}")
        notebooks = [p for p in notebooks if p.name[:2] in wanted]
    return notebooks


def _normalise_chapter(item: str) -> str:
    text = str(item).strip()
    if not text.isdigit() or not 0 < int(text) < 100:
        raise ValueError(f"--only takes chapter numbers like 03 or 3, got {item!r}")
    return f"{int(text):02d}"


def _describe_failure(err: Exception, executed: Path) -> str:
    """Name the failing cell (its id and first line, as in the source notebook) and the error."""
    ename, evalue = getattr(err, "ename", type(err).__name__), getattr(err, "evalue", str(err))
    where = "a cell"
    try:
        import nbformat

        for cell in nbformat.read(executed, as_version=4).cells:
            if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
                first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
                where = f"cell {cell.get('id', '?')} `{first_line[:60]}`"
                break
    except Exception:  # noqa: BLE001 - the executed copy may not exist (e.g. kernel failed to start)
        pass
    return f"{where}: {ename}: {str(evalue).strip()[:300]}"


def _local_kernel_manager_class():
    """A kernel manager whose kernel talks over local (IPC) sockets, not TCP.

    The kernel and ``course run`` share one machine; over TCP without keys ipykernel warns, in
    every chapter's output, that the traffic is unencrypted.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class LocalKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    return LocalKernelManager


def run_notebook(notebook: Path, out_dir: Path, smoke: bool, seed: int,
                 cell_timeout: int | None = None) -> ChapterRun:
    """Execute one notebook with papermill into ``out_dir``; never raises for notebook errors.

    Every path handed to the kernel is absolute: the kernel runs with ``cwd=out_dir``, so a
    relative ``out_dir`` (the CLI's default ``build``) would be resolved a second time inside it.
    """
    import papermill

    notebook, out_dir = Path(notebook).resolve(), Path(out_dir).resolve()
    run = ChapterRun(chapter=notebook.name[:2], notebook=notebook)
    if cell_timeout is None:
        cell_timeout = SMOKE_CELL_TIMEOUT_S if smoke else FULL_CELL_TIMEOUT_S
    out_dir.mkdir(parents=True, exist_ok=True)
    results_file = out_dir / f"{notebook.stem}.results.jsonl"
    results_file.unlink(missing_ok=True)
    # Kernels inherit the environment. MPLBACKEND is left alone: the kernel's inline backend
    # is what puts the figures into the executed notebooks.
    previous = {k: os.environ.get(k) for k in (results.RESULTS_ENV_VAR, "COURSE_SMOKE")}
    os.environ[results.RESULTS_ENV_VAR] = str(results_file)
    os.environ["COURSE_SMOKE"] = "1" if smoke else "0"
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook), str(out_dir / notebook.name), parameters={"SMOKE": smoke, "SEED": seed},
            kernel_name="python3", cwd=str(out_dir), execution_timeout=cell_timeout,
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            kernel_manager_class=_local_kernel_manager_class(),
        )
        run.status = "ok"
    except Exception as err:  # noqa: BLE001 - any failure is reported, the next chapter still runs
        run.status = "failed"
        run.error = _describe_failure(err, out_dir / notebook.name)
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    run.seconds = time.perf_counter() - start
    run.results = results.read(results_file)
    return run


GPU_NOTE = ("Chapters that train at scale use a GPU when one is found and run a CPU-sized "
            "version otherwise; each says which in its output.")


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_summary(runs: list[ChapterRun], out_dir: Path, smoke: bool, seed: int) -> Path:
    lines = [
        "# Course run summary",
        "",
        f"Mode: {'smoke (tiny data, few epochs)' if smoke else 'full'} · seed {seed} · "
        f"{sum(r.status == 'ok' for r in runs)}/{len(runs)} chapters ok · "
        f"{sum(r.seconds for r in runs):.0f} s in all",
        "",
        "| chapter | notebook | status | seconds | data source | key results |",
        "|---|---|---|---:|---|---|",
    ]
    for run in runs:
        sources = ", ".join(f"{k[:-7]}: {v}" for k, v in run.results.items() if k.endswith("_source")) or "-"
        keys = "; ".join(f"{k} = {_format_value(v)}" for k, v in run.results.items()
                         if not k.endswith("_source")) or "-"
        status = run.status if run.status == "ok" else f"FAILED - {run.error}".replace("|", "/")
        lines.append(f"| {run.chapter} | [{run.notebook.name}]({run.notebook.name}) | {status} | "
                     f"{run.seconds:.1f} | {sources} | {keys} |")
    path = out_dir / "summary.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    machine = {"mode": "smoke" if smoke else "full", "seed": seed, "cpu_count": os.cpu_count(),
               "chapters": {r.chapter: {"notebook": r.notebook.name, "status": r.status,
                                        "seconds": round(r.seconds, 1), "results": r.results}
                            for r in runs}}
    (out_dir / "summary.json").write_text(json.dumps(machine, indent=1) + "\n", encoding="utf-8")
    return path


def load_measured_times(path: Path = MEASURED_TIMES_FILE) -> dict:
    """The reference timings (``{"machine": ..., "smoke": {NN: s}, "full": {NN: s}}``), or {}."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def estimate(notebooks: list[Path], smoke: bool, measured: dict | None = None) -> str:
    """One line to print before a run: the expected total time, from measured reference runs.

    >>> estimate([Path("01_a.ipynb"), Path("02_b.ipynb")], smoke=False,
    ...          measured={"machine": "a 2-core CPU", "full": {"01": 30, "02": 90}})
    'Estimated time: about 2 min for 2 chapter(s) in full mode (measured on a 2-core CPU).'
    """
    measured = load_measured_times() if measured is None else measured
    mode = "smoke" if smoke else "full"
    table = measured.get(mode, {})
    chapters = [nb.name[:2] for nb in notebooks]
    known = [table[c] for c in chapters if c in table]
    if not known:
        return f"Estimated time: unknown (no measured {mode}-mode times for these chapters)."
    text = (f"Estimated time: about {max(1, round(sum(known) / 60))} min for {len(chapters)} chapter(s) "
            f"in {mode} mode (measured on {measured.get('machine', 'the reference machine')}).")
    missing = [c for c in chapters if c not in table]
    if missing:
        text += f" Not measured: chapter(s) {', '.join(missing)}."
    return text


def run_course(notebook_dir: Path, out_dir: Path, smoke: bool, seed: int = 42,
               only: list[str] | None = None, cell_timeout: int | None = None,
               progress: bool = True) -> list[ChapterRun]:
    from tqdm import tqdm

    out_dir = Path(out_dir).resolve()
    notebooks = find_notebooks(Path(notebook_dir).resolve(), only)
    print(estimate(notebooks, smoke), GPU_NOTE if not smoke else "", flush=True)
    runs = []
    bar = tqdm(notebooks, desc="course run", unit="chapter", disable=not progress)
    for notebook in bar:
        bar.set_postfix_str(notebook.name)
        run = run_notebook(notebook, out_dir, smoke, seed, cell_timeout)
        runs.append(run)
        verdict = "ok" if run.status == "ok" else f"FAILED in {run.error}"
        bar.write(f"{notebook.name}: {verdict} ({run.seconds:.1f} s)")
    write_summary(runs, out_dir, smoke, seed)
    return runs


def _cmd_run(args) -> int:
    root = repo_root()
    notebook_dir = Path(args.notebooks) if args.notebooks else (root / "notebooks" if root else None)
    if notebook_dir is None or not notebook_dir.is_dir():
        print("error: no notebooks/ folder found; run from a clone of the course or pass --notebooks DIR")
        return 2
    out_dir = Path(args.out)
    try:
        runs = run_course(notebook_dir, out_dir, smoke=args.smoke, seed=args.seed, only=args.only,
                          cell_timeout=args.cell_timeout, progress=not args.no_progress)
    except ValueError as err:
        print(f"error: {err}")
        return 2
    failed = [r for r in runs if r.status != "ok"]
    print(f"\n{len(runs) - len(failed)}/{len(runs)} chapters ok; executed notebooks and summary.md in {out_dir}/")
    for run in failed:
        print(f"  {run.notebook.name} failed at {run.error}")
    return 1 if failed else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("run", help="execute the lecture notebooks end to end with papermill")
    parser.add_argument("--smoke", action="store_true", help="tiny data and few epochs (about a minute a chapter)")
    parser.add_argument("--only", nargs="+", metavar="NN", help="chapters to run, e.g. --only 03 04")
    parser.add_argument("--out", default="build", help="folder for executed notebooks and summary.md (default build/)")
    parser.add_argument("--seed", type=int, default=42, help="SEED injected into every notebook (default 42)")
    parser.add_argument("--cell-timeout", type=int, default=None,
                        help=f"seconds per cell (default {SMOKE_CELL_TIMEOUT_S} in smoke mode, {FULL_CELL_TIMEOUT_S} in full mode)")
    parser.add_argument("--notebooks", help="folder of notebooks (default: the checkout's notebooks/)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_cmd_run)
