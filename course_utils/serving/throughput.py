"""Chapter 06's measured throughput, written for chapter 09 to price requests on."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from ..validation import check_int, check_real

#: Chapter 06 writes its measured throughput here (beside chapter 03's saved model); chapter 09 reads it.
THROUGHPUT_NOTE_FILE = "serving_throughput.json"


def save_throughput_note(requests_per_s: float, *, usd_per_hour: float, price_source: str, smoke: bool,
                         clients: int, logical_cpus: int | None, path: str | Path = THROUGHPUT_NOTE_FILE) -> Path:
    """Write the measured single-image throughput and the instance price it was priced at.

    Chapter 09 reads it with :func:`read_throughput_note` to price its own model's requests on
    a measured figure instead of an assumed one.

    Taught in: notebooks/06_deployment.ipynb
    """
    check_real("requests_per_s", requests_per_s, low=0, include_boundaries="right", finite=True,
               hint="a measured throughput")
    if not math.isfinite(usd_per_hour) or usd_per_hour < 0:
        raise ValueError(f"usd_per_hour={usd_per_hour!r} must be a finite number >= 0")
    if not price_source or not str(price_source).strip():
        raise ValueError("price_source is empty: say where the hourly price comes from (a URL or document)")
    check_int("clients", clients, low=1)
    note = {"requests_per_s": float(requests_per_s), "usd_per_hour": float(usd_per_hour),
            "price_source": str(price_source), "smoke": bool(smoke), "clients": clients,
            "logical_cpus": logical_cpus, "measured_at": time.strftime("%Y-%m-%d %H:%M", time.localtime())}
    path = Path(path)
    path.write_text(json.dumps(note, indent=2), encoding="utf-8")
    return path


def read_throughput_note(path: str | Path = THROUGHPUT_NOTE_FILE) -> tuple[dict | None, str]:
    """``(note, description)`` from chapter 06's throughput note, or ``(None, why not)``.

    Never raises for a missing or damaged file: a worksheet falls back to its stated assumption
    and prints the reason.

    Taught in: notebooks/09_unit_economics.ipynb
    """
    path = Path(path)
    if not path.is_file():
        return None, f"no {path.name} in {path.parent.resolve()} (run chapter 06 in this folder to measure it)"
    try:
        note = json.loads(path.read_text(encoding="utf-8"))
        requests_per_s, usd_per_hour = float(note["requests_per_s"]), float(note["usd_per_hour"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, f"{path.name} could not be read ({type(error).__name__}: {error})"
    if not (math.isfinite(requests_per_s) and requests_per_s > 0 and math.isfinite(usd_per_hour) and usd_per_hour >= 0):
        return None, f"{path.name} holds an impossible measurement ({requests_per_s} requests/s, {usd_per_hour} USD/h)"
    cpus = note.get("logical_cpus")
    description = (f"measured by chapter 06 on {note.get('measured_at', 'an unknown date')}: {requests_per_s:,.0f} "
                   f"single-image requests/s from {note.get('clients')} clients on "
                   f"{cpus if cpus else 'an unknown number of'} logical CPUs "
                   f"({'smoke' if note.get('smoke') else 'full'} mode), priced at {usd_per_hour:g} USD/h "
                   f"({note.get('price_source', 'price source not recorded')})")
    return note, description
