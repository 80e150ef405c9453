"""Write START_HERE.ipynb, the page `make lab` opens: links to every lecture and exercise set.

Usage: python tools/write_start_here.py [--check]

Titles come from each notebook's first heading, so the page follows the notebooks; run this after
adding, renaming or retitling a chapter (tests/test_start_here.py fails until you do).
``--check`` writes nothing and exits 1 when START_HERE.ipynb is out of date.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils.authoring import conventions  # noqa: E402

TARGET = ROOT / "START_HERE.ipynb"
CHAPTER_RE = re.compile(r"^(\d{2})_[a-z0-9_]+\.ipynb$")
HEADING_RE = re.compile(r"^#\s+\d{2}\s*·\s*(.+?)\s*$", re.M)

INTRO = """# AI Big Models and the Startup: start here

Each chapter has a **lecture** and an **exercise set**. Click a link to open it.

- **Lectures** (`notebooks/`): read and run them top to bottom with *Run > Run All Cells*. Setting
  `SMOKE = True` in a lecture's parameters cell (the second code cell) runs it on tiny data in
  about a minute; its numbers are then not meaningful.
- **Exercises** (`exercises/`): replace each `raise NotImplementedError` with your answer and run
  the checks below it as you go. Your instructor grades with further, hidden checks.
- `solutions/` holds the masters the exercises are built from, answers included: try first.
- A terminal (*File > New > Terminal*) gives you the `course` command: `course doctor` checks your
  setup, `course --help` lists the rest."""


def chapter_title(path: Path) -> str:
    """The chapter's title from the first heading of its notebook, without the number."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = HEADING_RE.search(cell.source)
            if match:
                return match.group(1)
    raise ValueError(f"{path.relative_to(ROOT)} has no '# NN · Title' heading; add one (see docs/AUTHORING.md)")


def chapter_table(root: Path = ROOT) -> str:
    lectures = sorted(p for p in (root / "notebooks").glob("*.ipynb") if CHAPTER_RE.match(p.name))
    if not lectures:
        raise FileNotFoundError(f"no chapter notebooks NN_slug.ipynb in {root / 'notebooks'}")
    rows = ["| # | lecture | exercises |", "|---|---|---|"]
    for lecture in lectures:
        exercise = root / "exercises" / lecture.name
        exercise_link = f"[exercises](exercises/{lecture.name})" if exercise.is_file() else "none"
        rows.append(f"| {lecture.name[:2]} | [{chapter_title(lecture)}](notebooks/{lecture.name}) | {exercise_link} |")
    return "\n".join(rows)


def build(root: Path = ROOT) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell(INTRO), nbformat.v4.new_markdown_cell(chapter_table(root))]
    return conventions.new_notebook(cells)


def rendered(nb: nbformat.NotebookNode) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "START_HERE.ipynb"
        conventions.write_notebook(nb, path)
        return path.read_text(encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if START_HERE.ipynb is out of date")
    args = parser.parse_args(argv)
    text = rendered(build())
    current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else None
    if args.check:
        if current != text:
            print(f"{TARGET.name} is out of date: run python tools/write_start_here.py", file=sys.stderr)
            return 1
        print(f"{TARGET.name} is up to date")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
