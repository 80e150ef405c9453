"""``course site``: the course as a static website, built offline from executed notebooks.

The committed notebooks carry no outputs, so a reader on GitHub sees no table or plot. ``make
course`` (``course run``) writes every chapter executed, with its outputs, to ``build/``; this
module turns those into a Sphinx + MyST-NB site (the engine of Jupyter Book 1, all of it
pip-installable, extra ``[site]``) without executing anything again:

1. the chapter order and titles come from the README's course map, so the navigation follows it;
2. each chapter page is the executed notebook, with its outputs and plots, its Source map (the
   first cell), a Colab launch button, and a closing "Exercises" section linking the chapter's
   auto-graded exercise (Colab and GitHub);
3. the Colab badge image is served from the site itself, so the site renders with no network;
4. when ``summary.json`` says the run was in smoke mode, or a chapter failed, the page says so.

``course site --executed build --out build/site`` writes ``build/site-src`` (the Sphinx source)
and ``build/site/index.html``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import GITHUB_BRANCH, GITHUB_URL
from ..authoring import conventions

COURSE_TITLE = "AI Big Models and the Startup"
MAP_ROW = re.compile(r"^\|\s*(?P<num>\d{2})\s*\|\s*\[(?P<title>[^\]]+)\]\((?P<path>notebooks/[^)]+\.ipynb)\)\s*\|"
                     r"\s*(?P<topics>[^|]*)\|")
# A badge the site serves itself: the reader's browser may be offline, and a test checks that
# every image on every page renders.
LOCAL_BADGE = "_static/colab-badge.svg"
BADGE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" aria-label="Open in Colab">'
    '<rect width="117" height="20" rx="3" fill="#555"/><rect x="44" width="73" height="20" rx="3" fill="#f9ab00"/>'
    '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
    '<text x="6" y="14">Open</text><text x="50" y="14" fill="#222">in Colab</text></g></svg>\n'
)


class SiteError(RuntimeError):
    """The site cannot be built: the message says what is missing and how to get it."""


@dataclass(frozen=True)
class Chapter:
    number: str
    title: str
    path: str  # notebooks/NN_slug.ipynb
    topics: str

    @property
    def stem(self) -> str:
        return Path(self.path).stem

    @property
    def exercise(self) -> str:
        return f"exercises/{Path(self.path).name}"


def course_map(readme: Path) -> list[Chapter]:
    """The chapters of the README's course map, in its order."""
    text = Path(readme).read_text(encoding="utf-8")
    chapters = [Chapter(m["num"], m["title"].strip(), m["path"], m["topics"].strip())
                for m in map(MAP_ROW.match, text.splitlines()) if m]
    if not chapters:
        raise SiteError(f"no course map table in {readme}: expected rows like '| 01 | [Title](notebooks/01_x.ipynb) | ...'")
    return chapters


def _readme_intro(readme: Path) -> str:
    """The README's opening paragraphs (up to the first section heading)."""
    lines = Path(readme).read_text(encoding="utf-8").splitlines()
    body = []
    for line in lines[1:]:
        if line.startswith("## "):
            break
        body.append(line)
    return "\n".join(body).strip()


def _exercise_cell(chapter: Chapter):
    import nbformat

    colab = conventions.colab_url(chapter.exercise)
    github = f"{GITHUB_URL}/blob/{GITHUB_BRANCH}/{chapter.exercise}"
    return nbformat.v4.new_markdown_cell(
        "## Exercises\n\n"
        f"This chapter's auto-graded exercise set is [`{chapter.exercise}`]({github}) "
        f"([open it in Colab]({colab})). Its visible checks run as you work; your instructor grades "
        "it with hidden tests (`course grade`).")


def _banner_cell(text: str):
    import nbformat

    return nbformat.v4.new_markdown_cell(f":::{{note}}\n{text}\n:::")


def prepare_page(executed: Path, chapter: Chapter, run: dict | None, mode: str) -> object:
    """The executed notebook as a site page: local badge, run banner, exercises section."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(conventions.BADGE_IMAGE, LOCAL_BADGE)
    notes = []
    if mode == "unknown":
        notes.append("No `summary.json` came with this notebook, so whether it ran in full mode is unknown: its "
                     "numbers may come from a smoke run (tiny data, few epochs).")
    elif mode != "full":
        notes.append(f"This page shows a **{mode}-mode** run (tiny data, few epochs): its numbers and plots are "
                     "not the chapter's full results. Build the site after `make course` for those.")
    if run is not None and run.get("status") != "ok":
        notes.append(f"The run that produced this page **failed** ({run.get('status')}); outputs stop where it did.")
    if notes:
        nb.cells.insert(1, _banner_cell(" ".join(notes)))
    nb.cells.append(_exercise_cell(chapter))
    return nb


def index_page(chapters: list[Chapter], readme: Path, mode: str) -> str:
    rows = ["| # | chapter | topics | exercise |", "|---|---|---|---|"]
    for ch in chapters:
        rows.append(f"| {ch.number} | [{ch.title}]({ch.stem}.ipynb) | {ch.topics} | "
                    f"[Colab]({conventions.colab_url(ch.exercise)}) · "
                    f"[GitHub]({GITHUB_URL}/blob/{GITHUB_BRANCH}/{ch.exercise}) |")
    intro = _readme_intro(readme)
    note = "" if mode == "full" else (
        "\n:::{note}\nNo `summary.json` came with these notebooks: whether they ran in full mode is unknown.\n:::\n"
        if mode == "unknown" else
        f"\n:::{{note}}\nThis build shows a **{mode}-mode** run of the chapters; `make course` then `make site` "
        "gives the full results.\n:::\n")
    toctree = "\n".join(ch.stem for ch in chapters)
    return (f"# {COURSE_TITLE}\n\n{intro}\n{note}\n## Course map\n\n" + "\n".join(rows) +
            f"\n\nThe notebooks, exercises and the `course_utils` package are on [GitHub]({GITHUB_URL}).\n\n"
            f"```{{toctree}}\n:maxdepth: 1\n:caption: Chapters\n:hidden:\n\n{toctree}\n```\n")


CONF_PY = '''# Generated by `course site`; edit course_utils/site.py instead.
project = {title!r}
author = "AI Big Models and the Startup course authors"
extensions = ["myst_nb"]
nb_execution_mode = "off"  # pages show the outputs of `course run`; nothing executes here
myst_enable_extensions = ["colon_fence", "dollarmath"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]
html_theme = "sphinx_book_theme"
html_title = {title!r}
html_static_path = ["_static"]
html_theme_options = {{
    "repository_url": {url!r},
    "repository_branch": {ref!r},
    "path_to_docs": "notebooks",
    "use_repository_button": True,
    "launch_buttons": {{"colab_url": "https://colab.research.google.com"}},
}}
'''


def write_source(executed_dir: Path, src: Path, readme: Path, *, allow_missing: bool = False) -> list[Chapter]:
    """Write the Sphinx source tree for the executed notebooks in ``executed_dir``."""
    executed_dir, src = Path(executed_dir), Path(src)
    chapters = course_map(readme)
    summary_path = executed_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    mode = summary.get("mode", "unknown")
    runs = {v.get("notebook"): v for v in summary.get("chapters", {}).values()}
    missing = [ch for ch in chapters if not (executed_dir / Path(ch.path).name).is_file()]
    if missing and not allow_missing:
        names = ", ".join(Path(ch.path).name for ch in missing)
        raise SiteError(f"no executed notebook in {executed_dir} for: {names}. Run `make course` (full mode; or "
                        f"`course run --smoke --out {executed_dir}` for a quick preview) first.")
    if src.exists():
        shutil.rmtree(src)
    (src / "_static").mkdir(parents=True)
    (src / LOCAL_BADGE).write_text(BADGE_SVG, encoding="utf-8")
    import nbformat

    built = []
    for ch in chapters:
        if ch in missing:
            continue
        nb = prepare_page(executed_dir / Path(ch.path).name, ch, runs.get(Path(ch.path).name), mode)
        nbformat.write(nb, src / Path(ch.path).name)
        built.append(ch)
    (src / "index.md").write_text(index_page(built, readme, mode), encoding="utf-8")
    (src / "conf.py").write_text(CONF_PY.format(title=COURSE_TITLE, url=GITHUB_URL, ref=GITHUB_BRANCH),
                                 encoding="utf-8")
    return built


def build(executed_dir: Path, out: Path, readme: Path, *, allow_missing: bool = False) -> dict:
    """Write the source and run sphinx-build; returns pages, seconds and paths."""
    try:
        import myst_nb  # noqa: F401
        import sphinx_book_theme  # noqa: F401
    except ImportError as err:
        raise SiteError(f"the site tools are not installed ({err.name}): pip install -e '.[site]' "
                        "(or `make site`)") from None
    out = Path(out)
    src = out.parent / (out.name + "-src")
    start = time.monotonic()
    chapters = write_source(executed_dir, src, readme, allow_missing=allow_missing)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "auto", "-d", str(src / "_doctrees"),
               str(src), str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SiteError(f"sphinx-build failed ({done.returncode}):\n{done.stderr[-3000:]}")
    pages = sorted(p.relative_to(out).as_posix() for p in out.glob("*.html")
                   if p.name not in ("search.html", "genindex.html"))
    return {"chapters": [c.stem for c in chapters], "pages": pages, "seconds": round(time.monotonic() - start, 1),
            "out": str(out), "warnings": done.stderr.strip()}


def _cmd_site(args) -> int:
    from .. import paths

    root = paths.repo_root() or Path.cwd()
    try:
        result = build(Path(args.executed), Path(args.out), root / "README.md", allow_missing=args.allow_missing)
    except SiteError as err:
        print(f"course site: {err}", file=sys.stderr)
        return 2
    if result["warnings"]:
        print(result["warnings"][-4000:], file=sys.stderr)
    print(f"built {len(result['pages'])} pages ({len(result['chapters'])} chapters + index) in "
          f"{result['seconds']} s: {Path(result['out']) / 'index.html'}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "site", help="build the course website from executed notebooks (needs the [site] extra)",
        description="Build a static website (Sphinx + MyST-NB, offline) from the notebooks `course run` executed, "
        "with the README's course map as navigation, outputs and plots, Colab launch buttons and exercise links.")
    parser.add_argument("--executed", default="build", help="folder with the executed notebooks and summary.json "
                        "(default build/, what `make course` writes)")
    parser.add_argument("--out", default="build/site", help="output folder (default build/site)")
    parser.add_argument("--allow-missing", action="store_true",
                        help="build with the chapters that were executed, leaving out the others")
    parser.set_defaults(func=_cmd_site)
