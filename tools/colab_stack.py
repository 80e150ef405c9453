"""Check ``course_utils`` against Google Colab's published package list (``constraints/colab/``).

Colab preinstalls several hundred packages and pins some of them (``google-colab`` pins
``ipykernel==6.17.1``). The setup cell of every notebook runs ``%pip install course-utils @ git+...``
there, so every bound in ``pyproject.toml`` must be satisfiable with Colab's versions held fixed.

    python tools/colab_stack.py check         # does a wheel of the package resolve on Colab's image?
    python tools/colab_stack.py constraints --out FILE   # Colab's pins as a pip constraints file
    python tools/colab_stack.py verify-env    # does this interpreter have Colab's versions?
    python tools/colab_stack.py grade-master 01 --out DIR   # full marks for a master graded as a submission

``check`` asks pip for a dry run for CPython 3.13 on manylinux (glibc 2.35, Ubuntu 22.04) with
binary wheels only and Colab's versions as constraints; it exits 1 when pip finds no solution and
prints what the install would add to the image. ``make test-colab`` runs all four.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLAB_DIR = ROOT / "constraints" / "colab"
FREEZE = COLAB_DIR / "pip-freeze-2026-08.txt"
FREEZE_GPU = COLAB_DIR / "pip-freeze-gpu-2026-08.txt"
# Colab's image (constraints/colab/os-info-2026-08.txt): Ubuntu 22.04, whose glibc is 2.35.
PYTHON_VERSION = "3.13"
GLIBC_MINOR = 35
# What a wheel of the package is built from (pyproject.toml's [tool.setuptools] and readme).
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "course_utils", "data")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;#]+)$")


def normalize(name: str) -> str:
    """PEP 503 name: ``Jupyter_Client`` and ``jupyter-client`` are the same package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_freeze(path: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Pins ``{name: version}`` of a ``pip freeze`` file, and the lines left out with the reason."""
    pins, left_out = {}, []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        if " @ " in line:
            left_out.append((line, "installed from a URL, file or git; pip constraints take only name==version"))
        elif match is None:
            left_out.append((line, "not a name==version line"))
        elif "+" in match["version"]:
            left_out.append((line, "local version label (a build from outside PyPI)"))
        else:
            pins[normalize(match["name"])] = match["version"]
    return pins, left_out


def write_constraints(pins: dict[str, str], path: Path) -> None:
    Path(path).write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())), encoding="utf-8")


def platform_tags() -> list[str]:
    """Every manylinux tag a glibc-2.35 x86_64 machine accepts, newest first."""
    tags = [f"manylinux_2_{minor}_x86_64" for minor in range(GLIBC_MINOR, 4, -1)]
    return tags + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]


def build_wheel(out_dir: Path) -> Path:
    """A wheel of the package, built from a copy of its sources (the checkout stays clean)."""
    src = out_dir / "src"
    for name in PACKAGE_SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, src / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out_dir / "wheel"), str(src)]
    try:  # build offline with this environment's setuptools when it has them; else pip fetches them
        import setuptools  # noqa: F401
        import wheel  # noqa: F401

        command.insert(4, "--no-build-isolation")
    except ImportError:
        pass
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted((out_dir / "wheel").glob("course_utils-*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise SystemExit(f"error: building a wheel of course_utils failed:\n{result.stderr[-3000:]}")
    return wheels[0]


def dry_run(wheel: Path, constraints: Path, report: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--progress-bar", "off",
               "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
               "--abi", "cp" + PYTHON_VERSION.replace(".", ""), "--abi", "abi3", "--abi", "none",
               "-c", str(constraints), "--report", str(report)]
    for tag in platform_tags():
        command += ["--platform", tag]
    return subprocess.run(command + [str(wheel)], capture_output=True, text=True)


def check_freeze(freeze: Path, wheel: Path, work: Path) -> bool:
    pins, left_out = read_freeze(freeze)
    print(f"\n== {freeze.relative_to(ROOT) if freeze.is_relative_to(ROOT) else freeze}: "
          f"{len(pins)} pins held; {len(left_out)} line(s) left out:")
    for line, why in left_out:
        print(f"   {line[:90]}\n     ({why})")
    constraints, report = work / f"{freeze.stem}.constraints.txt", work / f"{freeze.stem}.report.json"
    write_constraints(pins, constraints)
    result = dry_run(wheel, constraints, report)
    if result.returncode != 0:
        # pip explains a conflict ("The conflict is caused by: ...") on stdout, the verdict on stderr.
        lines = (result.stdout + result.stderr).splitlines()
        start = next((i for i, line in enumerate(lines) if "conflict is caused by" in line), max(0, len(lines) - 15))
        print("\n".join(line for line in lines[start:] if not line.startswith("WARNING: Location")))
        if "ResolutionImpossible" in result.stderr:
            print("FAIL: course-utils does not install on this Colab image (ResolutionImpossible). Relax the bound "
                  "in pyproject.toml that conflicts with the version Colab holds (pip names both above).")
        else:
            print(f"FAIL: pip stopped (exit status {result.returncode}) before it could decide; its error is above "
                  "(no access to the package index, or no binary wheel of a dependency for CPython "
                  f"{PYTHON_VERSION} on manylinux).")
        return False
    installed = {normalize(item["metadata"]["name"]): item["metadata"]["version"]
                 for item in json.loads(report.read_text(encoding="utf-8"))["install"]}
    added = {name: v for name, v in installed.items() if name not in pins and name != "course-utils"}
    changed = {name: (pins[name], v) for name, v in installed.items() if name in pins and pins[name] != v}
    kept = len(installed) - len(added) - len(changed) - 1
    print(f"OK: course-utils {installed.get('course-utils', '?')} resolves with {kept} of the image's packages "
          f"at Colab's versions (CPython {PYTHON_VERSION}, manylinux glibc <= 2.{GLIBC_MINOR}, wheels only).")
    print(f"The install would add {len(added)} package(s) the image lacks:")
    for name, version in sorted(added.items()):
        print(f"   {name} {version}")
    for name, (old, new) in sorted(changed.items()):
        print(f"   and change {name} {old} -> {new}")
    return not changed


def cmd_check(args) -> int:
    with tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
        work = Path(tmp)
        wheel = Path(args.wheel) if args.wheel else build_wheel(work)
        print(f"wheel: {wheel.name}")
        results = [check_freeze(Path(freeze).resolve(), wheel, work) for freeze in args.freeze or [FREEZE, FREEZE_GPU]]
    return 0 if all(results) else 1


def cmd_constraints(args) -> int:
    pins, left_out = read_freeze(Path(args.freeze))
    write_constraints(pins, Path(args.out))
    print(f"wrote {len(pins)} pins of {args.freeze} to {args.out} ({len(left_out)} non-pin line(s) left out)")
    return 0


def cmd_verify_env(args) -> int:
    """Every installed distribution that Colab also has must be at Colab's version."""
    pins, _ = read_freeze(Path(args.freeze))
    installed = {normalize(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    # The venv's own installer tools are not what a notebook runs with, and venv brings its own pip.
    shared = sorted((set(installed) & set(pins)) - {"pip", "setuptools", "wheel"})
    differ = [f"{name} {installed[name]} (Colab: {pins[name]})" for name in shared if installed[name] != pins[name]]
    version = ".".join(map(str, sys.version_info[:2]))
    print(f"Python {version}; {len(shared)} installed packages are also on Colab's image, "
          f"{len(shared) - len(differ)} at Colab's version")
    for name in ("tensorflow", "keras", "numpy", "pandas", "scikit-learn", "ipykernel", "traitlets", "jupyter-client"):
        print(f"   {name} {installed.get(name, 'not installed')}")
    problems = list(differ)
    if version != PYTHON_VERSION:
        problems.insert(0, f"Python {version} (Colab: {PYTHON_VERSION})")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


def cmd_grade_master(args) -> int:
    """Grade a master against itself with ``course grade`` (the real path: sandbox, kernel, tests)."""
    import csv

    masters = sorted((ROOT / "solutions").glob(f"{args.assignment}_*.ipynb"))
    if len(masters) != 1:
        raise SystemExit(f"error: {len(masters)} masters match {args.assignment!r} in solutions/")
    out = Path(args.out).resolve()
    submissions = out / "submissions"
    shutil.rmtree(out, ignore_errors=True)
    submissions.mkdir(parents=True)
    shutil.copy2(masters[0], submissions / masters[0].name)
    command = [sys.executable, "-m", "course_utils.tools.cli", "grade", args.assignment, str(submissions),
               "--out", str(out / "grades"), "--quiet"]
    print("+", " ".join(command))
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    with open(out / "grades" / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if done.returncode != 0 or len(rows) != 1:
        print(done.stdout[-2000:], done.stderr[-3000:])
        print(f"FAIL: course grade exited {done.returncode} with {len(rows)} gradebook row(s)")
        return 1
    row = rows[0]
    print(f"{row['submission']}: status {row['status']}, {row['score']}/{row['max_score']} in {row['seconds']} s")
    if row["status"] != "ok" or float(row["score"]) != float(row["max_score"]):
        print(f"FAIL: the master must get full marks against itself; detail: {row.get('detail', '')}")
        return 1
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="dry-run install of a wheel of the package against Colab's pins")
    check.add_argument("--freeze", action="append", help=f"pip freeze file(s) (default: both in {COLAB_DIR.relative_to(ROOT)})")
    check.add_argument("--wheel", help="a wheel to check instead of building one from this checkout")
    check.set_defaults(func=cmd_check)
    constraints = sub.add_parser("constraints", help="write Colab's pins as a pip constraints file")
    constraints.add_argument("--freeze", default=str(FREEZE))
    constraints.add_argument("--out", required=True)
    constraints.set_defaults(func=cmd_constraints)
    verify = sub.add_parser("verify-env", help="fail unless this environment has Colab's versions")
    verify.add_argument("--freeze", default=str(FREEZE))
    verify.set_defaults(func=cmd_verify_env)
    grade = sub.add_parser("grade-master", help="grade a master against itself; fail unless it gets full marks")
    grade.add_argument("assignment", help="chapter number, e.g. 01")
    grade.add_argument("--out", required=True, help="work folder (emptied first)")
    grade.set_defaults(func=cmd_grade_master)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
