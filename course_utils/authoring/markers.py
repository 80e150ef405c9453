"""The master's data model: markers, answer cells, tests and mutants of a solution master.

The grader (``course grade``), the exercise build and ``course lint`` all read masters through
this module; it imports only the standard library (``nbformat`` where a notebook is read), so
the grader's sandboxed host and test processes can import it cheaply.

A master's markers (nbgrader-compatible):

>>> strip_solution("x = 1\\n### BEGIN SOLUTION\\nx = 42\\n### END SOLUTION")
'x = 1\\n# YOUR CODE HERE\\nraise NotImplementedError'
>>> strip_hidden_tests("assert x > 0, 'x must be positive'\\n### BEGIN HIDDEN TESTS\\nassert x == 42\\n### END HIDDEN TESTS")
"assert x > 0, 'x must be positive'"
"""

from __future__ import annotations

import ast
import re
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
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _conventions():
    """course_utils.authoring.conventions, imported on first use: it imports nbformat, whose import
    costs seconds, and the grader's test and host processes import this module for ``strip_magics``."""
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
    for (start, stop), part in zip(regions, parts, strict=False):
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
