"""Private variants of a master: ``course new-variant NN --seed S --out DIR``.

The public masters sit beside the exercises, so their hidden tests' inputs are public too. A
hidden test that draws its inputs at random and checks the answer against an oracle (sklearn,
fairlearn, a reference computed in the test) can take them from a seed instead of fixed
values. The convention, in a hidden-test region of a master::

    HIDDEN_SEED = 9  # course new-variant replaces it with one derived from a secret seed
    rng = np.random.default_rng(HIDDEN_SEED)

``course new-variant`` copies the master into DIR with every ``HIDDEN_SEED = <int>`` line of a
hidden region replaced by a value derived from the instructor's secret seed (SHA-256 of the
secret, the master's stem, the cell and the line: the secret cannot be read back from the
variant), then grades the variant against itself and requires full marks, so a seed that breaks
a test is caught before any student is graded. Grade with ``course grade NN subs/ --solutions DIR``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..authoring import conventions, markers

SEED_LINE = re.compile(r"^(?P<indent>[ \t]*)HIDDEN_SEED = (?P<value>\d+)(?P<rest>[ \t]*(#.*)?)$", re.MULTILINE)


class VariantError(ValueError):
    """The variant cannot be made (no seeded hidden test, bad output folder, failed self-check)."""


@dataclass
class Variant:
    path: Path
    seeds: list[tuple[int, int, int]]  # (cell index, public value, variant value)
    score: float | None = None
    max_score: float | None = None


def derive_seed(secret: str, stem: str, cell_index: int, occurrence: int) -> int:
    """A 32-bit seed for one HIDDEN_SEED line; different per master, cell and line."""
    digest = hashlib.sha256(f"{secret}\0{stem}\0{cell_index}\0{occurrence}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _hidden_spans(source: str) -> list[tuple[int, int]]:
    spans, start = [], None
    for match in re.finditer(r"^[ \t]*### (BEGIN|END) HIDDEN TESTS[ \t]*$", source, re.MULTILINE):
        if match.group(1) == "BEGIN":
            start = match.end()
        elif start is not None:
            spans.append((start, match.start()))
            start = None
    return spans


def seeded_cells(nb) -> dict[int, list[int]]:
    """Cell index -> the public HIDDEN_SEED values in its hidden regions (test cells only)."""
    found: dict[int, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if not markers.is_test_cell(cell):
            continue
        for start, end in _hidden_spans(cell.source):
            values = [int(m.group("value")) for m in SEED_LINE.finditer(cell.source, start, end)]
            if values:
                found.setdefault(index, []).extend(values)
    return found


def rewrite_seeds(nb, secret: str, stem: str) -> list[tuple[int, int, int]]:
    """Replace every hidden HIDDEN_SEED value in ``nb`` in place; returns what changed."""
    changes = []
    for index, cell in enumerate(nb.cells):
        if not markers.is_test_cell(cell):
            continue
        source, pieces, cursor, occurrence = cell.source, [], 0, 0
        for start, end in _hidden_spans(source):
            for match in SEED_LINE.finditer(source, start, end):
                new = derive_seed(secret, stem, index, occurrence)
                occurrence += 1
                changes.append((index, int(match.group("value")), new))
                pieces.append(source[cursor:match.start()])
                pieces.append(f"{match.group('indent')}HIDDEN_SEED = {new}  # variant seed")
                cursor = match.end()
        if occurrence:
            cell.source = "".join(pieces) + source[cursor:]
    return changes


def supported_masters(solutions: Path) -> list[str]:
    """Stems of the masters in ``solutions`` with at least one seeded hidden test."""
    import nbformat

    return [p.stem for p in sorted(Path(solutions).glob("*.ipynb"))
            if seeded_cells(nbformat.read(p, as_version=4))]


def new_variant(assignment: str, secret: str, out: Path | str, *, solutions: Path | str | None = None,
                verify: bool = True, sandbox: str = "auto", progress: bool = False) -> Variant:
    """Write ``out/<stem>.ipynb``, the master with its hidden seeds derived from ``secret``."""
    import nbformat

    from .batch import grade
    from .config import find_master

    if not secret or not secret.strip():
        raise VariantError("--seed is empty: give a secret only you know (e.g. a long random string), and keep it")
    if solutions is None:
        from .. import paths

        solutions = (paths.repo_root() or Path.cwd()) / "solutions"
    solutions, out = Path(solutions), Path(out)
    master_path = find_master(assignment, solutions)
    if out.resolve() == master_path.resolve().parent:
        raise VariantError(f"--out {out} is the folder of the public masters: write the variant to a private folder")
    nb = nbformat.read(master_path, as_version=4)
    markers.parse_master(nb, master_path)  # a malformed master fails here, naming the cell
    changes = rewrite_seeds(nb, secret, master_path.stem)
    if not changes:
        supported = ", ".join(supported_masters(master_path.parent)) or "none"
        raise VariantError(f"{master_path.name} has no `HIDDEN_SEED = <int>` line in a hidden test, so a variant "
                           f"would equal the public master. Masters that support variants: {supported}. "
                           "See docs/INSTRUCTORS.md, 'Private variants'.")
    out.mkdir(parents=True, exist_ok=True)
    target = out / master_path.name
    conventions.write_notebook(nb, target)
    variant = Variant(target, changes)
    if verify:
        with tempfile.TemporaryDirectory(prefix="course-variant-") as tmp:
            submissions = Path(tmp) / "submissions"
            submissions.mkdir()
            shutil.copy(target, submissions / target.name)
            rows = grade(master_path.stem, submissions, Path(tmp) / "grades", solutions=out, sandbox=sandbox,
                         progress=progress)
        row = rows[0]
        variant.score, variant.max_score = float(row["score"]), float(row["max_score"])
        if row["status"] != "ok" or variant.score != variant.max_score:
            target.unlink()
            raise VariantError(f"the variant of {master_path.stem} does not grade itself at full marks "
                               f"({row['status']}, {row['score']}/{row['max_score']}: {row.get('detail', '')}); a hidden "
                               "test must not depend on its seed's particular values. Nothing was written.")
    return variant


# --------------------------------------------------------------------------- CLI
def _cmd_new_variant(args) -> int:
    from .config import GraderError

    try:
        variant = new_variant(args.assignment, args.seed, args.out, solutions=args.solutions,
                              verify=not args.no_verify, sandbox=args.sandbox)
    except (VariantError, GraderError, markers.MarkerError) as err:
        print(f"course new-variant: {err}", file=sys.stderr)
        return 2
    print(f"wrote {variant.path}: {len(variant.seeds)} hidden seed(s) replaced in cell(s) "
          f"{', '.join(str(i) for i in sorted({c for c, _, _ in variant.seeds}))}")
    if variant.score is not None:
        print(f"self-check: the variant grades itself at {variant.score:g}/{variant.max_score:g}")
    else:
        print("self-check skipped (--no-verify): grade a copy of the variant before using it")
    print(f"grade with: course grade {args.assignment} SUBMISSIONS_DIR --out OUT --solutions {args.out}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "new-variant", help="write a private variant of a master whose hidden inputs come from a secret seed",
        description="Copy a master into OUT with every `HIDDEN_SEED = <int>` line of its hidden tests replaced by "
        "a value derived from --seed, then grade the variant against itself (full marks required). Keep OUT and "
        "the seed private; grade with `course grade NN subs/ --solutions OUT`.")
    parser.add_argument("assignment", help="chapter number (05) or the master's file stem")
    parser.add_argument("--seed", required=True, help="your secret (any string); the same secret gives the same variant")
    parser.add_argument("--out", required=True, help="private folder for the variant master (not solutions/)")
    parser.add_argument("--solutions", help="folder of the public masters (default: solutions/ of this checkout)")
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                        help="sandbox of the self-check grading run (as in course grade)")
    parser.add_argument("--no-verify", action="store_true", help="skip the self-check grading run")
    parser.set_defaults(func=_cmd_new_variant)
