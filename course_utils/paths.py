"""Where the course's own files live, for a repository checkout and for an installed wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def repo_root() -> Path | None:
    """The checkout's root directory, or ``None`` when the package runs from a wheel (Colab)."""
    if (_REPO_ROOT / "pyproject.toml").is_file() and (_REPO_ROOT / "notebooks").is_dir():
        return _REPO_ROOT
    return None


def data_file(name: str) -> Path:
    """Path of a curated file shipped in ``data/`` (for example ``"notable_models.csv"``).

    Works in a checkout (``data/NAME``) and in an installed wheel (``course_utils/shipped_data``).

    Taught in: notebooks/01_big_models_scale.ipynb

    >>> data_file("README.md").name
    'README.md'
    """
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"data_file(name={name!r}): give a bare file name from data/, e.g. 'notable_models.csv'")
    root = repo_root()
    if root is not None:
        candidate = root / "data" / name
    else:
        candidate = Path(str(resources.files("course_utils.shipped_data").joinpath(name)))
    if not candidate.is_file():
        available = sorted(p.name for p in candidate.parent.glob("*") if p.suffix in {".csv", ".md", ".json"})
        raise FileNotFoundError(
            f"data file {name!r} not found in {candidate.parent}; available: {', '.join(available) or 'none'}"
        )
    return candidate
