"""Record ``course run``'s measured chapter times as the estimate it prints before a run.

Usage: python tools/record_run_times.py build/summary.json [--machine "a 2-core CPU, no GPU"]

Reads the summary a complete run wrote (full or smoke mode; every chapter must have passed) and
updates that mode's table in ``course_utils/tools/measured_run_times.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

from course_utils.tools.runner import MEASURED_TIMES_FILE, load_measured_times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary", type=Path)
    parser.add_argument("--machine", default="a 2-core CPU without GPU")
    args = parser.parse_args(argv)
    summary = json.loads(args.summary.read_text(encoding="utf-8"))
    failed = [c for c, run in summary["chapters"].items() if run["status"] != "ok"]
    if failed:
        raise SystemExit(f"chapters {', '.join(failed)} failed in that run; record a complete run only")
    measured = load_measured_times()
    measured[summary["mode"]] = {c: run["seconds"] for c, run in sorted(summary["chapters"].items())}
    measured["machine"] = f"{args.machine}, {datetime.date.today().isoformat()}"
    MEASURED_TIMES_FILE.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    total = sum(measured[summary["mode"]].values())
    print(f"{summary['mode']}: {len(measured[summary['mode']])} chapters, {total / 60:.1f} min -> {MEASURED_TIMES_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
