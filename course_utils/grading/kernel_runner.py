"""Execute one prepared submission notebook (runs inside the sandbox, started by the grader).

``python -m course_utils.grading.kernel_runner JOB.json REPORT_FD``: parameterise the notebook with
papermill, execute every cell with nbclient (errors allowed, per-cell timeout, no stdin, output
size capped), and write the executed notebook after each cell. Progress and the outcome go to the
file descriptor ``REPORT_FD``, which the student's kernel does not inherit, one JSON object a line:
``{"cell": i}`` before cell ``i``, then ``{"end": "ok" | "timeout" | "crashed", ...}``.
"""

from __future__ import annotations

import json
import math
import os
import sys

TRUNCATED_NOTE = "\n[output truncated by the grader: this notebook printed more than the limit]\n"


def main(job_path: str, report_fd: str) -> int:
    report = os.fdopen(int(report_fd), "w", buffering=1)

    def send(**event) -> None:
        report.write(json.dumps(event) + "\n")
        report.flush()

    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.parameterize import parameterize_notebook

    nb = nbformat.read(job["notebook"], as_version=4)
    nb.metadata["papermill"] = {}
    nb = parameterize_notebook(nb, job["parameters"], report_mode=False)
    budget = {"left": int(job["max_output_bytes"]), "noted": False}

    class CappedClient(NotebookClient):
        """Drops outputs once the notebook's output budget is spent (an output flood stays small)."""

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), default=str))
            budget["left"] -= size
            if budget["left"] < 0:
                if not budget["noted"]:
                    budget["noted"] = True
                    outs.append(nbformat.v4.new_output("stream", name="stderr", text=TRUNCATED_NOTE))
                return None
            return super().output(outs, msg, display_id, cell_index)

    # nbclient's timeouts are Integer traits: traitlets 5.7 (Colab's) refuses any float, even 120.0,
    # and newer ones a fractional one (--cell-timeout 2.5), so round up to whole seconds.
    client = CappedClient(
        nb, timeout=math.ceil(job["cell_timeout"]), kernel_name="python3", allow_errors=True, record_timing=False,
        startup_timeout=math.ceil(job.get("startup_timeout", 60)), resources={"metadata": {"path": job["workdir"]}},
        iopub_timeout=10, raise_on_iopub_timeout=False,
    )
    out_path = job["executed"]
    end = {"end": "ok"}
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                origin = cell.get("metadata", {}).get("grader", {}).get("origin")
                send(cell=index, origin=origin)
                client.execute_cell(cell, index)
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                if errors:
                    send(error=index, origin=origin, ename=str(errors[0].get("ename", ""))[:200], evalue=str(errors[0].get("evalue", ""))[:500])
                nbformat.write(nb, out_path)
    except CellTimeoutError:
        end = {"end": "timeout"}
    except DeadKernelError as err:
        end = {"end": "crashed", "why": str(err)[:300]}
    except Exception as err:  # anything else the kernel did to the client: report, never hang
        end = {"end": "crashed", "why": f"{type(err).__name__}: {str(err)[:300]}"}
    try:
        nbformat.write(nb, out_path)
    except Exception:
        pass
    send(**end)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(*sys.argv[1:]))
    except Exception as err:  # a bug of the grader's: say so on the report channel
        os.write(int(sys.argv[2]), (json.dumps({"end": "crashed", "why": f"grader runner: {type(err).__name__}: {err}"[:500]}) + "\n").encode())
        raise
