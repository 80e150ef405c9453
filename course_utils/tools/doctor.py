"""``course doctor``: can this machine run the course, and what to do about each problem.

Exit 0 when the course can run (being offline is a warning), 1 when something blocks it.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass

from .. import data, env

OK, WARN, FAIL = "ok", "warning", "problem"


@dataclass
class Check:
    name: str
    level: str
    detail: str
    fix: str = ""


def network_reachable(host: str = "storage.googleapis.com", port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def run_checks(check_network: bool = True, check_devices: bool = True) -> list[Check]:
    checks: list[Check] = []
    py = sys.version_info
    checks.append(Check("python", OK if (3, 10) <= py[:2] <= (3, 13) else FAIL, sys.version.split()[0],
                        "" if (3, 10) <= py[:2] <= (3, 13) else "use Python 3.10 to 3.13"))
    checks.append(Check("platform", OK, env.detect_platform()))
    v = env.versions()
    for name in ("numpy", "pandas", "matplotlib", "scikit-learn", "papermill", "mlxtend"):
        version = v.get(name) or env.package_version(name)
        checks.append(Check(name, OK if version else FAIL, version or "not installed",
                            "" if version else "run `make course` (or `pip install -e .`) to install the course"))
    backend = v["keras_backend"]
    keras_version = v["keras"]
    checks.append(Check("keras", OK if keras_version else FAIL,
                        f"{keras_version or 'not installed'} (backend {backend})",
                        "" if keras_version else "pip install 'keras>=3'"))
    backend_package = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    backend_version = env.package_version(backend_package) if backend_package else None
    checks.append(Check(f"backend {backend}", OK if backend_version else FAIL, backend_version or "not installed",
                        "" if backend_version else f"install {backend_package} or set KERAS_BACKEND to an installed one"))
    if check_devices and backend_version:
        try:
            accelerator = env.detect_accelerator()
            level = OK if accelerator.kind != "cpu" else WARN
            fix = "" if level == OK else ("CPU only: chapters run, full-mode training is slower; on Colab choose "
                                          "Runtime > Change runtime type > GPU")
            checks.append(Check("device", level, str(accelerator), fix))
        except Exception as err:  # noqa: BLE001 - a broken backend install is a finding, not a crash
            checks.append(Check("device", FAIL, f"could not query devices: {err}", "reinstall the backend"))
    for spec in data.REGISTRY.values():
        status = data.check_cache(spec)
        if status.state == "verified":
            checks.append(Check(f"data {spec.name}", OK, f"cached and verified: {status.path}"))
        else:
            detail = status.detail or "not cached"
            checks.append(Check(f"data {spec.name}", WARN, detail,
                                f"`course data fetch {spec.name}` when online; offline the course uses {spec.fallback}"))
    if check_network:
        online = network_reachable()
        checks.append(Check("network", OK if online else WARN, "reachable" if online else "offline",
                            "" if online else "fine: every notebook runs offline with the fallbacks above"))
    return checks


def _cmd_doctor(args) -> int:
    checks = run_checks(check_network=not args.no_network)
    width = max(len(c.name) for c in checks)
    marks = {OK: "  ok ", WARN: "warn ", FAIL: "FAIL "}
    for check in checks:
        print(f"{marks[check.level]} {check.name:<{width}}  {check.detail}")
        if check.fix:
            print(f"      {'':<{width}}  -> {check.fix}")
    problems = [c for c in checks if c.level == FAIL]
    print("\nThe course can run." if not problems else f"\n{len(problems)} problem(s) block the course; see -> above.")
    return 1 if problems else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check Python, packages, devices, data cache and network")
    parser.add_argument("--no-network", action="store_true", help="skip the network check")
    parser.set_defaults(func=_cmd_doctor)
