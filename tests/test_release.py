"""Versions and pinning a term: `course pin`, the version, the changelog."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import nbformat
import pytest

import course_utils
from course_utils.authoring import conventions
from course_utils.tools import release

ROOT = Path(__file__).resolve().parents[1]


def _mini_checkout(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    (root / "course_utils").mkdir(parents=True)
    shutil.copy(ROOT / "course_utils" / "__init__.py", root / "course_utils" / "__init__.py")
    shutil.copy(ROOT / "README.md", root / "README.md")
    for folder in ("notebooks", "exercises", "solutions"):
        (root / folder).mkdir()
        shutil.copy(ROOT / folder / "03_mnist_cnn.ipynb", root / folder / "03_mnist_cnn.ipynb")
    return root


def test_pin_rewrites_setup_cells_badges_and_links_and_unpins(tmp_path):
    root = _mini_checkout(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert release.current_ref(root) == course_utils.GITHUB_BRANCH
    changed = release.pin(root, "v9.9.9")
    assert release.current_ref(root) == "v9.9.9"
    assert len(changed) == 1 + 3 + 1  # __init__.py, three notebooks, the README
    nb = nbformat.read(root / "notebooks" / "03_mnist_cnn.ipynb", as_version=4)
    expected_setup = conventions.SETUP_CELL_SOURCE.replace(
        f"{course_utils.GITHUB_URL}@{course_utils.GITHUB_BRANCH}", f"{course_utils.GITHUB_URL}@v9.9.9")
    assert expected_setup != conventions.SETUP_CELL_SOURCE
    assert nb.cells[1].source == expected_setup
    assert "/blob/v9.9.9/notebooks/03_mnist_cnn.ipynb" in nb.cells[0].source
    readme = (root / "README.md").read_text()
    assert f"/blob/{course_utils.GITHUB_BRANCH}/" not in readme and readme.count("/blob/v9.9.9/notebooks/") >= 14
    assert release.pin(root, "v9.9.9") == []
    release.pin(root, course_utils.GITHUB_BRANCH)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("ref", ["", "v1..2", "-x", "a b", "v1;rm"])
def test_pin_refuses_bad_refs(tmp_path, ref):
    with pytest.raises(release.PinError, match="not a git tag or branch name"):
        release.pin(_mini_checkout(tmp_path), ref)


def test_version_is_one_and_has_a_changelog_entry():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == course_utils.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{course_utils.__version__}]" in changelog


def test_open_project_files():
    """LICENSE, Binder and pre-commit configuration are present and agree with the project."""
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    from packaging.specifiers import SpecifierSet

    assert runtime.startswith("python-") and runtime[7:] + ".0" in SpecifierSet(project["requires-python"])
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    assert '-e ".[lab]"' in post_build.read_text()
    import yaml

    hooks = [h for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"] for h in repo["hooks"]]
    entries = {h["id"]: h["entry"] for h in hooks}
    assert entries["course-lint"] == "course lint --root ." and entries["exercises-in-sync"] == "course build-exercises --check --root ."
    assert entries["ruff"].startswith("ruff check") and "jupyter" in hooks[0]["types_or"]
    assert any(dep.startswith("ruff") for dep in project["optional-dependencies"]["dev"])


def test_every_data_file_has_a_licence_row():
    readme = (ROOT / "data" / "README.md").read_text()
    table = readme.split("## Licences per file", 1)[1].split("\n## ", 1)[0]
    for csv_file in sorted((ROOT / "data").glob("*.csv")):
        assert f"`{csv_file.name}`" in table, f"data/README.md's licence table does not name {csv_file.name}"
