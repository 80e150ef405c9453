"""course new-variant: hidden seeds rewritten from a secret, and the variant's self-check."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from course_utils.authoring import markers
from course_utils.grading import variants
from course_utils.tools import cli

HERE = Path(__file__).parent
TOY = HERE / "grading" / "assignment" / "solutions" / "99_toy.ipynb"
ROOT = HERE.parent
SEEDED_CHECK = ("HIDDEN_SEED = 5  # course new-variant replaces it\n"
                "v = np.random.default_rng(HIDDEN_SEED).normal(size=4)\n"
                "np.testing.assert_allclose(normalize(v), v / np.linalg.norm(v))\n")


def seeded_toy(folder: Path, extra: str = "") -> Path:
    """The toy master with a seeded hidden check of normalize() (q3's first test cell)."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(TOY, as_version=4)
    cell = next(c for c in nb.cells if markers.course_meta(c).get("question") == "q3")
    cell.source = cell.source.replace("### END HIDDEN TESTS", SEEDED_CHECK + extra + "### END HIDDEN TESTS")
    path = folder / TOY.name
    nbformat.write(nb, path)
    return path


def test_rewrite_is_deterministic_secret_dependent_and_hidden_only(tmp_path):
    master = seeded_toy(tmp_path / "public")
    nb = nbformat.read(master, as_version=4)
    assert list(variants.seeded_cells(nb).values()) == [[5]]
    first, second, other = (nbformat.read(master, as_version=4) for _ in range(3))
    changes = variants.rewrite_seeds(first, "s3cret", "99_toy")
    assert changes == variants.rewrite_seeds(second, "s3cret", "99_toy")
    assert changes != variants.rewrite_seeds(other, "another secret", "99_toy")
    (index, public, new), = changes
    assert public == 5 and new != 5 and f"HIDDEN_SEED = {new}" in first.cells[index].source
    assert "s3cret" not in nbformat.writes(first)
    # a HIDDEN_SEED line outside a hidden region (or outside a test cell) is not touched
    visible = nbformat.read(master, as_version=4)
    visible.cells[-1].source += "\nHIDDEN_SEED = 8"
    assert len(variants.rewrite_seeds(visible, "s3cret", "99_toy")) == 1


def test_course_masters_that_support_variants():
    supported = variants.supported_masters(ROOT / "solutions")
    # every master but 09 and 10, whose answers are all computed from constants in the question
    assert set(supported) == {p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")} - {
        "09_unit_economics", "10_funding_runway"}


def test_refusals(tmp_path, capsys):
    with pytest.raises(variants.VariantError, match="no `HIDDEN_SEED"):
        variants.new_variant("99", "s3cret", tmp_path / "private", solutions=TOY.parent, verify=False)
    public = seeded_toy(tmp_path / "public").parent
    with pytest.raises(variants.VariantError, match="folder of the public masters"):
        variants.new_variant("99", "s3cret", public, solutions=public, verify=False)
    with pytest.raises(variants.VariantError, match="--seed is empty"):
        variants.new_variant("99", " ", tmp_path / "private", solutions=public, verify=False)
    assert cli.main(["new-variant", "99", "--seed", "x", "--out", str(tmp_path / "p"),
                     "--solutions", str(TOY.parent), "--no-verify"]) == 2
    assert "Masters that support variants" in capsys.readouterr().err


@pytest.mark.slow
def test_variant_grades_itself_and_a_seed_dependent_test_is_caught(tmp_path, capsys):
    public = seeded_toy(tmp_path / "public").parent
    private = tmp_path / "private"
    code = cli.main(["new-variant", "99", "--seed", "term-2027-secret", "--out", str(private),
                     "--solutions", str(public), "--sandbox", "none"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "grades itself at 10/10" in printed
    variant_nb = nbformat.read(private / TOY.name, as_version=4)
    assert variants.seeded_cells(variant_nb) and 5 not in sum(variants.seeded_cells(variant_nb).values(), [])
    # a hidden test that only holds for the public seed fails the self-check; nothing is written
    fragile = seeded_toy(tmp_path / "fragile", extra="assert HIDDEN_SEED == 5\n").parent
    with pytest.raises(variants.VariantError, match="does not grade itself at full marks"):
        variants.new_variant("99", "term-2027-secret", tmp_path / "private2", solutions=fragile, sandbox="none")
    assert not (tmp_path / "private2" / TOY.name).exists()
    shutil.rmtree(private)
