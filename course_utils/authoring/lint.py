"""``course lint [--fix] [PATH ...]``: check the notebook conventions of docs/AUTHORING.md."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from . import conventions
from .markers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    defined_names,
    has_marker,
    is_mutant_cell,
    master_problems,
    parse_python,
    strip_magics,
)

NOTEBOOK_DIRS = ("notebooks", "exercises", "solutions")
ALLOWED_NB_METADATA = {"kernelspec", "language_info", "accelerator", "colab"}
ALLOWED_CELL_METADATA = {"tags", "course"}


@dataclass(frozen=True)
class Problem:
    path: str
    cell: int | None
    rule: str
    message: str
    fixable: bool = False

    def __str__(self) -> str:
        where = f"{self.path}" + (f" cell {self.cell}" if self.cell is not None else "")
        return f"{where}: [{self.rule}] {self.message}" + (" (fixable with --fix)" if self.fixable else "")


NETWORK_MODULES = {"requests", "urllib", "urllib2", "urllib3", "http", "httpx", "aiohttp", "socket", "ftplib",
                   "wget", "smtplib", "paramiko", "pycurl", "tensorflow_datasets"}
NETWORK_CALLS = {"get_file", "urlopen", "urlretrieve", "load_data", "download"}
SHELL_NETWORK = re.compile(r"^\s*[!%]+\s*(wget|curl|pip|git|apt|apt-get|conda|gdown|kaggle)\b")
ABSOLUTE_PATH = re.compile(r"^(/(home|Users|root|tmp|mnt|media|work|data|content|opt|var|srv|etc|usr)(/|$)|~[/\\]|[A-Za-z]:[\\/])")
URL = re.compile(r"^(https?|ftp)://", re.I)


def _relative_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _code_problems(rel: str, index: int, source: str, is_setup: bool) -> list[Problem]:
    out = []
    for line in source.split("\n"):
        if SHELL_NETWORK.match(line) and not is_setup:
            out.append(Problem(rel, index, "network", f"shell/magic command uses the network: {line.strip()[:60]!r}"))
    try:
        tree = parse_python(strip_magics(source))
    except SyntaxError as err:
        return out + [Problem(rel, index, "syntax", f"code does not parse: {err.msg} (line {err.lineno})")]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad = [a.name for a in node.names if a.name.split(".")[0] in NETWORK_MODULES]
        elif isinstance(node, ast.ImportFrom):
            bad = [node.module] if node.module and node.module.split(".")[0] in NETWORK_MODULES else []
        else:
            bad = []
        if bad:
            out.append(Problem(rel, index, "network", f"imports {bad[0]}; fetch data only through course_utils.data"))
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            if name in NETWORK_CALLS and not owner.startswith(("course_utils", "data")):
                out.append(Problem(rel, index, "network", f"{ast.unparse(func)}() downloads; use course_utils.data"))
            for arg in list(node.args) + [k.value for k in node.keywords]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and URL.match(arg.value):
                    out.append(Problem(rel, index, "network", f"{ast.unparse(func)}() is given a URL; use course_utils.data"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ABSOLUTE_PATH.match(node.value):
            out.append(Problem(rel, index, "abs-path", f"absolute path {node.value[:60]!r}; use course_utils.paths or a relative path"))
    return out


def lint_notebook(path: Path, root: Path) -> list[Problem]:
    """Problems of one notebook (see the module docstring for the rules)."""
    import nbformat

    path = Path(path)
    rel = _relative_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # unreadable notebooks are a lint finding, not a crash
        return [Problem(rel, None, "invalid", f"not a valid notebook: {type(err).__name__}: {str(err)[:200]}")]
    problems: list[Problem] = []
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    if dirty:
        problems.append(Problem(rel, dirty[0], "outputs", f"{len(dirty)} code cell(s) have outputs or execution counts", True))
    extra = sorted(set(nb.metadata) - ALLOWED_NB_METADATA)
    if extra:
        problems.append(Problem(rel, None, "metadata", f"notebook metadata has extra keys {extra}", True))
    for index, cell in enumerate(nb.cells):
        extra = sorted(set(cell.get("metadata", {})) - ALLOWED_CELL_METADATA)
        if extra:
            problems.append(Problem(rel, index, "metadata", f"cell metadata has extra keys {extra}", True))
    if not dirty and conventions.canonical_text(nb) != text:
        problems.append(Problem(rel, None, "format", "not in canonical form (write it with conventions.write_notebook)", True))
    # badge
    first_md = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), None)
    expected = conventions.colab_url(rel) if rel.endswith(".ipynb") and not rel.startswith("/") else None
    if first_md is None:
        problems.append(Problem(rel, None, "badge", "no markdown cell with the 'Open in Colab' badge"))
    else:
        urls = conventions.BADGE_RE.findall(nb.cells[first_md].source)
        if not urls:
            problems.append(Problem(rel, first_md, "badge", "first markdown cell has no 'Open in Colab' badge", True))
        elif expected and expected not in urls:
            problems.append(Problem(rel, first_md, "badge", f"badge URL {urls[0]} does not end with {rel}", True))
    # setup and parameters cells
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    setup = next((i for i in code_cells[:2] if nb.cells[i].source.strip() == conventions.SETUP_CELL_SOURCE.strip()), None)
    if setup is None:
        problems.append(Problem(rel, code_cells[0] if code_cells else None, "setup",
                                "the shared setup cell (conventions.SETUP_CELL_SOURCE) must be the first code cell"))
    params = [i for i, c in enumerate(nb.cells) if conventions.PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])]
    if len(params) != 1:
        problems.append(Problem(rel, None, "parameters", f"expected exactly one cell tagged 'parameters', found {len(params)}"))
    else:
        missing = {"SMOKE", "SEED"} - defined_names(nb.cells[params[0]].source)
        if missing:
            problems.append(Problem(rel, params[0], "parameters", f"parameters cell does not define {sorted(missing)}"))
        # papermill reads a parameter line only if it holds a single '=' (comments included)
        for number, line in enumerate(nb.cells[params[0]].source.splitlines(), 1):
            if not line.strip().startswith("#") and line.count("=") > 1:
                problems.append(Problem(rel, params[0], "parameters",
                                        f"papermill cannot read line {number} ({line.strip()[:50]!r}): "
                                        "keep '=' out of the comment"))
    for index in code_cells:
        problems.extend(_code_problems(rel, index, nb.cells[index].source, index == setup))
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for match in re.findall(r"\]\((/[^)\s]+)\)", cell.source):
                problems.append(Problem(rel, index, "abs-path", f"markdown links to absolute path {match!r}"))
    # masters and exercises
    folder = rel.split("/")[0]
    if folder == "solutions":
        problems.extend(Problem(rel, i, "markers", msg) for i, msg in master_problems(nb))
    elif folder in ("notebooks", "exercises"):
        for index, cell in enumerate(nb.cells):
            if has_marker(cell.source, BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
                problems.append(Problem(rel, index, "markers", f"solution/hidden-test markers must not appear in {folder}/"))
            elif is_mutant_cell(cell):
                problems.append(Problem(rel, index, "markers", f"a '# MUTANT' cell (a master's wrong answer) must not appear in {folder}/"))
    return problems


def _notebooks(paths, root: Path) -> list[Path]:
    if not paths:
        paths = [root / d for d in NOTEBOOK_DIRS]
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts))
        elif path.exists():
            found.append(path)
        else:
            raise ValueError(f"lint path {str(path)!r} does not exist; give notebooks or folders under the repository")
    return found


def lint_paths(paths=None, root: Path | str | None = None) -> list[Problem]:
    """Lint notebooks (files or folders; default notebooks/, exercises/, solutions/).

    >>> lint_paths([])  # doctest: +SKIP
    []
    """
    root = Path(root) if root else _repo_root()
    return [p for nb in _notebooks(paths, root) for p in lint_notebook(nb, root)]


def fix_notebook(path: Path, root: Path) -> bool:
    """Repair format, metadata and badge URL in place; True when the file changed."""
    import nbformat

    path = Path(path)
    rel = _relative_path(path, root)
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    for key in set(nb.metadata) - ALLOWED_NB_METADATA:
        del nb.metadata[key]
    for cell in nb.cells:
        for key in set(cell.get("metadata", {})) - ALLOWED_CELL_METADATA:
            del cell.metadata[key]
    first_md = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if first_md is not None and rel.endswith(".ipynb"):
        urls = conventions.BADGE_RE.findall(first_md.source)
        good = conventions.colab_url(rel)
        if urls:
            for url in urls:
                first_md.source = first_md.source.replace(url, good)
        else:
            first_md.source = conventions.colab_badge(rel) + "\n\n" + first_md.source
    new_text = conventions.canonical_text(nb)
    if new_text != text:
        path.write_text(new_text, encoding="utf-8", newline="\n")
        return True
    return False


def _repo_root() -> Path:
    from .. import paths

    root = paths.repo_root()
    return root if root is not None else Path.cwd()
