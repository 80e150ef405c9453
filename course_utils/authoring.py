"""Authoring tools: build exercises from solution masters, and lint every notebook.

``course build-exercises [--check]`` writes ``exercises/NN_slug.ipynb`` from
``solutions/NN_slug.ipynb``; ``course lint [--fix] [PATH ...]`` checks the conventions of
docs/AUTHORING.md. Both are plain functions too (:func:`build_exercise`, :func:`lint_paths`).

A master's markers (nbgrader-compatible):

>>> strip_solution("x = 1\\n### BEGIN SOLUTION\\nx = 42\\n### END SOLUTION")
'x = 1\\n# YOUR CODE HERE\\nraise NotImplementedError'
>>> strip_hidden_tests("assert x > 0, 'x must be positive'\\n### BEGIN HIDDEN TESTS\\nassert x == 42\\n### END HIDDEN TESTS")
"assert x > 0, 'x must be positive'"
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path


# CPython 3.11's ast.parse is not thread-safe ("AST constructor recursion depth mismatch",
# python/cpython#106905) and `course grade --jobs N` parses cells from several threads.
_PARSE_LOCK = threading.Lock()


def parse_python(source: str) -> ast.Module:
    """``ast.parse``, one thread at a time."""
    with _PARSE_LOCK:
        return ast.parse(source)


BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
MUTANT_PREFIX = "# MUTANT"
NEXT_REGION = "### NEXT SOLUTION"
MUTANT_RE = re.compile(r"^# MUTANT (?P<question>[A-Za-z_][A-Za-z0-9_]*)(?P<fresh> \(fresh kernel\))?: (?P<why>\S.*)$")
PLACEHOLDER_CODE = ("# YOUR CODE HERE", "raise NotImplementedError")
PLACEHOLDER_MARKDOWN = "YOUR ANSWER HERE"
NOTEBOOK_DIRS = ("notebooks", "exercises", "solutions")
ALLOWED_NB_METADATA = {"kernelspec", "language_info", "accelerator", "colab"}
ALLOWED_CELL_METADATA = {"tags", "course"}
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _conventions():
    """course_utils.conventions, imported on first use: it imports nbformat, whose import costs
    seconds, and the grader's test and host processes import this module for ``strip_magics``."""
    from . import conventions

    return conventions


class MarkerError(ValueError):
    """A master's markers are malformed (unbalanced, nested, or in the wrong kind of cell)."""


# --------------------------------------------------------------------------- markers
def _regions(source: str, begin: str, end: str) -> list[tuple[int, int]]:
    """(begin line, end line) index pairs of ``begin``/``end`` marker lines; raises MarkerError."""
    lines = source.split("\n")
    regions, start = [], None
    for number, line in enumerate(lines):
        text = line.strip()
        if text == begin:
            if start is not None:
                raise MarkerError(f"line {number + 1}: {begin!r} inside another {begin!r} (nested regions)")
            start = number
        elif text == end:
            if start is None:
                raise MarkerError(f"line {number + 1}: {end!r} without a matching {begin!r}")
            regions.append((start, number))
            start = None
    if start is not None:
        raise MarkerError(f"line {start + 1}: {begin!r} is never closed by {end!r}")
    return regions


def strip_solution(source: str, markdown: bool = False) -> str:
    """Replace each solution region by the placeholder, keeping the marker line's indentation."""
    lines = source.split("\n")
    out, cursor = [], 0
    for start, stop in _regions(source, BEGIN_SOLUTION, END_SOLUTION):
        out.extend(lines[cursor:start])
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        placeholder = (PLACEHOLDER_MARKDOWN,) if markdown else PLACEHOLDER_CODE
        out.extend(indent + text for text in placeholder)
        cursor = stop + 1
    out.extend(lines[cursor:])
    return "\n".join(out)


def split_hidden_tests(source: str) -> tuple[str, str]:
    """(visible part, hidden part) of a test cell's source; the hidden part excludes markers."""
    lines = source.split("\n")
    visible, hidden, cursor = [], [], 0
    for start, stop in _regions(source, BEGIN_HIDDEN, END_HIDDEN):
        visible.extend(lines[cursor:start])
        hidden.extend(lines[start + 1 : stop])
        cursor = stop + 1
    visible.extend(lines[cursor:])
    return "\n".join(visible).rstrip(), "\n".join(hidden)


def strip_hidden_tests(source: str) -> str:
    """The test cell as the exercise shows it (hidden region and its markers removed)."""
    return split_hidden_tests(source)[0]


def has_marker(source: str, *markers: str) -> bool:
    return any(line.strip() in markers for line in source.split("\n"))


def is_mutant_cell(cell) -> bool:
    """A declared wrong answer: a raw cell whose first line starts with ``# MUTANT``."""
    return cell.get("source", "").lstrip().startswith(MUTANT_PREFIX)


def apply_mutant(answer_source: str, body: str) -> str:
    """The answer cell with its solution region(s) replaced by a mutant's body.

    The body is written without the region's indentation; a cell with several solution regions
    takes one part per region, separated by ``### NEXT SOLUTION`` lines.

    >>> print(apply_mutant("def f(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION", "return x"))
    def f(x):
        return x
    """
    import textwrap

    lines = answer_source.split("\n")
    regions = _regions(answer_source, BEGIN_SOLUTION, END_SOLUTION)
    parts = [[]]
    for line in body.split("\n"):
        if line.strip() == NEXT_REGION:
            parts.append([])
        else:
            parts[-1].append(line)
    if len(parts) != len(regions):
        raise MarkerError(f"the mutant has {len(parts)} part(s) but its answer cell has {len(regions)} solution "
                          f"region(s); separate the parts with {NEXT_REGION!r} lines")
    out, cursor = [], 0
    for (start, stop), part in zip(regions, parts):
        out.extend(lines[cursor:start])
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        out.extend(textwrap.indent(textwrap.dedent("\n".join(part)).strip("\n"), indent).split("\n"))
        cursor = stop + 1
    out.extend(lines[cursor:])
    return "\n".join(out)


# --------------------------------------------------------------------------- master model
@dataclass
class TestCell:
    index: int  # position in the master
    question: str
    points: float
    visible: str
    hidden: str


@dataclass
class AnswerCell:
    index: int
    names: list[str]
    source: str


@dataclass
class Mutant:
    """A plausible wrong answer the hidden tests must catch (``course check-mutants``)."""

    index: int  # position of the mutant cell in the master
    question: str
    why: str
    answer_index: int  # the answer cell it replaces: the nearest one above it
    body: str  # replaces the answer cell's solution region(s)
    fresh_kernel: bool = False  # graded in a run of its own (it depends on state the answer cell changes)

    def answer_source(self, master_nb) -> str:
        return apply_mutant(master_nb.cells[self.answer_index].source, self.body)


def parse_mutant(cell) -> tuple[str, str, str, bool]:
    """(question, why, body, fresh kernel?) of a mutant cell; raises MarkerError for a malformed one."""
    source = cell.get("source", "").strip("\n")
    header, _, body = source.partition("\n")
    match = MUTANT_RE.match(header.strip())
    if not match:
        raise MarkerError(f"mutant header {header.strip()[:60]!r} must read '# MUTANT q1: why this answer is wrong' "
                          "(or '# MUTANT q1 (fresh kernel): why')")
    if not body.strip():
        raise MarkerError("the mutant has no code under its header")
    return match["question"], match["why"].strip(), body, bool(match["fresh"])


@dataclass
class Master:
    """What the grader needs from a solution master."""

    path: Path
    parameters_source: str
    answer_cells: list[AnswerCell] = field(default_factory=list)
    tests: list[TestCell] = field(default_factory=list)
    mutants: list[Mutant] = field(default_factory=list)

    @property
    def questions(self) -> dict[str, float]:
        """Question id -> maximum points, in the master's order."""
        out: dict[str, float] = {}
        for test in self.tests:
            out[test.question] = out.get(test.question, 0) + test.points
        return out

    @property
    def answer_names(self) -> list[str]:
        return [name for cell in self.answer_cells for name in cell.names]


def course_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("course", {})
    return meta if isinstance(meta, dict) else {}


def is_test_cell(cell) -> bool:
    return cell.get("cell_type") == "code" and "question" in course_meta(cell)


def parse_master(nb, path: Path | str = "<master>") -> Master:
    """Read questions, points, answer names and tests from a master; raises MarkerError."""
    problems = master_problems(nb)
    if problems:
        raise MarkerError(f"{path}: " + "; ".join(f"cell {i}: {msg}" for i, msg in problems))
    params = next((c.source for c in nb.cells if _conventions().PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])), "")
    master = Master(Path(path), params)
    for index, cell in enumerate(nb.cells):
        meta = course_meta(cell)
        if cell.cell_type == "raw" and is_mutant_cell(cell):
            question, why, body, fresh = parse_mutant(cell)
            master.mutants.append(Mutant(index, question, why, master.answer_cells[-1].index, body, fresh))
        if cell.cell_type != "code":
            continue
        if "answer" in meta:
            master.answer_cells.append(AnswerCell(index, list(meta["answer"]), cell.source))
        if "question" in meta:
            visible, hidden = split_hidden_tests(cell.source)
            master.tests.append(TestCell(index, str(meta["question"]), float(meta["points"]), visible, hidden))
    return master


def defined_names(source: str) -> set[str]:
    """Top-level names a cell assigns, defines or imports (IPython magics ignored)."""
    try:
        tree = parse_python(strip_magics(source))
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def strip_magics(source: str) -> str:
    """Source with IPython magics and shell escapes commented out, so ``ast`` can parse it."""
    out = []
    for line in source.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # " + stripped
        out.append(line)
    return "\n".join(out)


def master_problems(nb) -> list[tuple[int | None, str]]:
    """Marker and metadata problems of a master: [(cell index or None, message)]."""
    problems: list[tuple[int | None, str]] = []
    answer_owner: dict[str, int] = {}
    question_cells: dict[str, list[int]] = {}
    mutant_questions: list[tuple[int, str]] = []
    last_answer: int | None = None
    for index, cell in enumerate(nb.cells):
        meta = course_meta(cell)
        source = cell.get("source", "")
        if is_mutant_cell(cell):
            problems.extend((index, msg) for msg in _mutant_problems(nb, index, last_answer))
            header = MUTANT_RE.match(source.strip("\n").split("\n")[0].strip())
            if header:
                mutant_questions.append((index, header["question"]))
            continue
        if cell.cell_type == "code" and "answer" in meta:
            last_answer = index
        try:
            solution = _regions(source, BEGIN_SOLUTION, END_SOLUTION)
            hidden = _regions(source, BEGIN_HIDDEN, END_HIDDEN)
        except MarkerError as err:
            problems.append((index, str(err)))
            continue
        if hidden and not is_test_cell(cell):
            problems.append((index, "hidden tests outside a test cell (needs metadata course.question and course.points)"))
        if solution and is_test_cell(cell):
            problems.append((index, "a solution region inside a test cell"))
        if cell.cell_type != "code":
            continue
        if solution and "answer" not in meta:
            problems.append((index, 'answer cell lacks metadata {"course": {"answer": [names]}}'))
        if "answer" in meta:
            names = meta["answer"]
            if not isinstance(names, list) or not names or not all(isinstance(n, str) and NAME_RE.match(n) for n in names):
                problems.append((index, f"course.answer must be a non-empty list of Python names, got {names!r}"))
            else:
                missing = set(names) - defined_names(source)
                if missing:
                    problems.append((index, f"course.answer names not defined in the cell: {sorted(missing)}"))
                for name in names:
                    if name in answer_owner:
                        problems.append((index, f"answer name {name!r} already declared in cell {answer_owner[name]}"))
                    answer_owner.setdefault(name, index)
            if not solution:
                problems.append((index, "answer cell has no ### BEGIN SOLUTION / ### END SOLUTION region"))
        if "question" in meta:
            question, points = meta.get("question"), meta.get("points")
            if not isinstance(question, str) or not NAME_RE.match(question):
                problems.append((index, f"course.question must be an id like 'q1', got {question!r}"))
            if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
                problems.append((index, f"course.points must be a positive number, got {points!r}"))
            question_cells.setdefault(str(question), []).append(index)
    for question, cells in question_cells.items():
        code_positions = [i for i, c in enumerate(nb.cells) if is_test_cell(c)]
        ranks = [code_positions.index(c) for c in cells]
        if ranks != list(range(ranks[0], ranks[0] + len(ranks))):
            problems.append((cells[-1], f"question id {question!r} reused: its test cells are not one contiguous group"))
    for index, question in mutant_questions:
        if question not in question_cells:
            problems.append((index, f"mutant of {question!r}, but no test cell grades a question {question!r}"))
    if not question_cells:
        problems.append((None, "no test cells (metadata course.question / course.points)"))
    if not answer_owner:
        problems.append((None, "no answer cells (metadata course.answer)"))
    return problems


def _mutant_problems(nb, index: int, answer_index: int | None) -> list[str]:
    cell = nb.cells[index]
    if cell.cell_type != "raw":
        return ["a '# MUTANT' cell must be a raw cell (it must not run with the master)"]
    try:
        body = parse_mutant(cell)[2]
    except MarkerError as err:
        return [str(err)]
    if answer_index is None:
        return ["a mutant must come after the answer cell it replaces"]
    try:
        source = apply_mutant(nb.cells[answer_index].source, body)
    except MarkerError as err:
        return [f"cannot apply the mutant to answer cell {answer_index}: {err}"]
    try:
        mutated = ast.dump(parse_python(strip_magics(source)))
    except SyntaxError as err:
        return [f"the answer cell with this mutant does not parse: {err.msg} (line {err.lineno})"]
    solved = "\n".join(line for line in nb.cells[answer_index].source.split("\n")
                       if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))
    try:
        same = mutated == ast.dump(parse_python(strip_magics(solved)))
    except SyntaxError:
        same = False
    return ["the mutant does not change the answer (same code as the solution)"] if same else []


# --------------------------------------------------------------------------- build exercises
def canonical_text(nb) -> str:
    """The exact text :func:`course_utils.conventions.write_notebook` writes for ``nb``."""
    import nbformat

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "nb.ipynb"
        _conventions().write_notebook(nbformat.from_dict(json.loads(json.dumps(nb))), target)
        return target.read_text(encoding="utf-8")


def exercise_from_master(nb, master_rel: str, exercise_rel: str):
    """The exercise notebook generated from a master (a new object; ``nb`` is not changed)."""
    import nbformat

    out = nbformat.from_dict(json.loads(json.dumps(nb)))
    out.cells = [cell for cell in out.cells if not is_mutant_cell(cell)]  # wrong answers are the author's
    master_url, exercise_url = _conventions().colab_url(master_rel), _conventions().colab_url(exercise_rel)
    for cell in out.cells:
        if is_test_cell(cell):
            cell.source = strip_hidden_tests(cell.source)
        elif has_marker(cell.source, BEGIN_SOLUTION):
            cell.source = strip_solution(cell.source, markdown=cell.cell_type == "markdown")
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(master_url, exercise_url)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return out


def build_exercise(master_path: Path, root: Path) -> tuple[Path, str]:
    """(exercise path, its canonical text) for one master under repository ``root``."""
    import nbformat

    master_path = Path(master_path)
    nb = nbformat.read(master_path, as_version=4)
    parse_master(nb, master_path)  # refuses malformed markers
    rel = master_path.resolve().relative_to(root.resolve()).as_posix()
    exercise_rel = "exercises/" + master_path.name
    exercise = exercise_from_master(nb, rel, exercise_rel)
    return root / exercise_rel, canonical_text(exercise)


def _first_difference(old: str, new: str) -> str:
    try:
        old_cells = json.loads(old).get("cells", [])
    except json.JSONDecodeError:
        return "not valid JSON"
    new_cells = json.loads(new)["cells"]
    for index, (a, b) in enumerate(zip(old_cells, new_cells)):
        if a != b:
            return f"cell {index} differs"
    if len(old_cells) != len(new_cells):
        return f"{len(old_cells)} cells, expected {len(new_cells)}"
    return "formatting or notebook metadata differ"


def build_exercises(root: Path, check: bool = False, out=None) -> int:
    """Write (or with ``check`` compare) every exercise; returns the exit code."""
    import nbformat

    out = out or sys.stdout
    masters = sorted((root / "solutions").glob("*.ipynb"))
    stale = 0
    for master in masters:
        try:
            target, text = build_exercise(master, root)
        except (MarkerError, nbformat.ValidationError, json.JSONDecodeError) as err:
            print(f"ERROR {master.relative_to(root)}: {err}", file=out)
            stale += 1
            continue
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            why = "missing" if current is None else _first_difference(current, text)
            print(f"OUT OF DATE {target.relative_to(root)}: {why}; run `course build-exercises`", file=out)
            stale += 1
        else:
            target.parent.mkdir(exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {target.relative_to(root)}", file=out)
    if check:
        master_names = {m.name for m in masters}
        for orphan in sorted((root / "exercises").glob("*.ipynb")):
            if orphan.name not in master_names:
                print(f"ORPHAN {orphan.relative_to(root)}: no solutions/{orphan.name} master", file=out)
                stale += 1
        if not stale:
            print(f"exercises up to date ({len(masters)} masters)", file=out)
    return 1 if stale else 0


# --------------------------------------------------------------------------- lint
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
    if not dirty and canonical_text(nb) != text:
        problems.append(Problem(rel, None, "format", "not in canonical form (write it with conventions.write_notebook)", True))
    # badge
    first_md = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), None)
    expected = _conventions().colab_url(rel) if rel.endswith(".ipynb") and not rel.startswith("/") else None
    if first_md is None:
        problems.append(Problem(rel, None, "badge", "no markdown cell with the 'Open in Colab' badge"))
    else:
        urls = _conventions().BADGE_RE.findall(nb.cells[first_md].source)
        if not urls:
            problems.append(Problem(rel, first_md, "badge", "first markdown cell has no 'Open in Colab' badge", True))
        elif expected and expected not in urls:
            problems.append(Problem(rel, first_md, "badge", f"badge URL {urls[0]} does not end with {rel}", True))
    # setup and parameters cells
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    setup = next((i for i in code_cells[:2] if nb.cells[i].source.strip() == _conventions().SETUP_CELL_SOURCE.strip()), None)
    if setup is None:
        problems.append(Problem(rel, code_cells[0] if code_cells else None, "setup",
                                "the shared setup cell (_conventions().SETUP_CELL_SOURCE) must be the first code cell"))
    params = [i for i, c in enumerate(nb.cells) if _conventions().PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])]
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
        urls = _conventions().BADGE_RE.findall(first_md.source)
        good = _conventions().colab_url(rel)
        if urls:
            for url in urls:
                first_md.source = first_md.source.replace(url, good)
        else:
            first_md.source = _conventions().colab_badge(rel) + "\n\n" + first_md.source
    new_text = canonical_text(nb)
    if new_text != text:
        path.write_text(new_text, encoding="utf-8", newline="\n")
        return True
    return False


def _repo_root() -> Path:
    from . import paths

    root = paths.repo_root()
    return root if root is not None else Path.cwd()


# --------------------------------------------------------------------------- CLI
def _cmd_build(args) -> int:
    return build_exercises(Path(args.root) if args.root else _repo_root(), check=args.check)


def _cmd_lint(args) -> int:
    root = Path(args.root) if args.root else _repo_root()
    try:
        if args.fix:
            for nb in _notebooks(args.paths, root):
                try:
                    if fix_notebook(nb, root):
                        print(f"fixed {_relative_path(nb, root)}")
                except Exception as err:
                    print(f"cannot fix {_relative_path(nb, root)}: {type(err).__name__}: {err}")
        problems = lint_paths(args.paths, root)
    except ValueError as err:
        print(f"course lint: {err}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    count = len(_notebooks(args.paths, root))
    print(f"{len(problems)} problem(s) in {count} notebook(s)")
    return 1 if problems else 0


def register(subparsers) -> None:
    build = subparsers.add_parser("build-exercises", help="write exercises/ from the masters in solutions/",
                                  description="Write exercises/NN_slug.ipynb from solutions/NN_slug.ipynb: solutions "
                                  "become '# YOUR CODE HERE', hidden tests are removed, outputs stripped.")
    build.add_argument("--check", action="store_true", help="do not write; exit 1 if exercises/ is out of date")
    build.add_argument("--root", help="repository root (default: this checkout)")
    build.set_defaults(func=_cmd_build)
    lint = subparsers.add_parser("lint", help="check notebook conventions (docs/AUTHORING.md)",
                                 description="Check every notebook in notebooks/, exercises/, solutions/ (or PATHS).")
    lint.add_argument("paths", nargs="*", help="notebooks or folders (default: notebooks/ exercises/ solutions/)")
    lint.add_argument("--fix", action="store_true", help="repair format, metadata and badge URLs in place first")
    lint.add_argument("--root", help="repository root (default: this checkout)")
    lint.set_defaults(func=_cmd_lint)
    mutants = subparsers.add_parser(
        "check-mutants", help="grade each master's declared wrong answers; fail if one keeps full points",
        description="For every '# MUTANT qN: why' cell of the masters, grade the master with that question's answer "
        "replaced by the mutant (the real grading path: exported answers, the master's tests in a fresh process) "
        "and fail when a mutant keeps full points on its question, when a question declares fewer than "
        "--min-per-question mutants, or when the master itself loses points.")
    mutants.add_argument("assignments", nargs="*", help="chapter numbers or master stems (default: every master)")
    mutants.add_argument("--jobs", type=int, default=2, help="masters checked in parallel (default 2)")
    mutants.add_argument("--min-per-question", type=int, default=2, help="mutants each graded question must declare (default 2)")
    mutants.add_argument("--solutions", help="folder of masters (default: solutions/ of this checkout)")
    mutants.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="none",
                         help="none (default: the masters are the author's own code) or bwrap/auto as in `course grade`")
    mutants.add_argument("--json", dest="json_out", help="also write the per-mutant results to this JSON file")
    mutants.set_defaults(func=lambda args: __import__("course_utils.grading.mutants", fromlist=["main"]).main(args))
