"""course site: the pages it writes from executed notebooks (no Sphinx needed for these)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from course_utils.authoring import conventions
from course_utils.tools import site

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_course_map_follows_the_readme():
    chapters = site.course_map(README)
    assert [c.number for c in chapters] == [f"{n:02d}" for n in range(1, 15)]
    for chapter in chapters:
        assert (ROOT / chapter.path).is_file() and (ROOT / chapter.exercise).is_file()


def _executed(folder: Path, chapters, mode="smoke", failed=()):
    folder.mkdir(parents=True, exist_ok=True)
    runs = {}
    for chapter in chapters:
        nb = nbformat.read(ROOT / chapter.path, as_version=4)
        nbformat.write(nb, folder / Path(chapter.path).name)
        runs[chapter.number] = {"notebook": Path(chapter.path).name,
                                "status": "error" if chapter.number in failed else "ok"}
    (folder / "summary.json").write_text(json.dumps({"mode": mode, "chapters": runs}))


def test_pages_have_local_badge_banner_and_exercises(tmp_path):
    chapters = site.course_map(README)[:2]
    _executed(tmp_path / "build", chapters, failed=("02",))
    built = site.write_source(tmp_path / "build", tmp_path / "src", README, allow_missing=True)
    assert built == chapters
    first = nbformat.read(tmp_path / "src" / Path(chapters[0].path).name, as_version=4)
    text = "\n".join(c.source for c in first.cells if c.cell_type == "markdown")
    assert conventions.BADGE_IMAGE not in text and site.LOCAL_BADGE in text
    assert "Source map" in text and "smoke-mode" in text
    assert first.cells[-1].source.startswith("## Exercises")
    assert conventions.colab_url(chapters[0].exercise) in first.cells[-1].source
    second = nbformat.read(tmp_path / "src" / Path(chapters[1].path).name, as_version=4)
    assert "failed" in second.cells[1].source
    index = (tmp_path / "src" / "index.md").read_text()
    assert index.index(chapters[0].stem) < index.index(chapters[1].stem) and "toctree" in index
    assert (tmp_path / "src" / site.LOCAL_BADGE).read_text().startswith("<svg")


def test_missing_executed_notebooks_are_named(tmp_path):
    _executed(tmp_path / "build", site.course_map(README)[:1], mode="full")
    with pytest.raises(site.SiteError, match="02_dl_from_scratch.ipynb.*make course"):
        site.write_source(tmp_path / "build", tmp_path / "src", README)
