"""The notebook conventions every chapter follows, in one place.

Used by authors (to write a notebook), by ``course lint`` (to check one) and by tests.
A chapter notebook starts with:

1. a markdown cell: the Colab badge (URL ending with the file's own path), the title, ...
2. the setup cell, :data:`SETUP_CELL_SOURCE`, identical in every notebook;
3. a code cell tagged ``parameters`` defining at least ``SMOKE`` and ``SEED``.
"""

from __future__ import annotations

import copy
import re
from pathlib import PurePosixPath

import nbformat

from .. import GITHUB_BRANCH, GITHUB_REPO, GITHUB_URL

COLAB_PREFIX = f"https://colab.research.google.com/github/{GITHUB_REPO}/blob/{GITHUB_BRANCH}/"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

#: What the setup cell installs: the package from the course's repository (one definition of
#: the URL, in ``course_utils.GITHUB_REPO``).
INSTALL_REQUIREMENT = f"course-utils @ git+{GITHUB_URL}@{GITHUB_BRANCH}"

#: Installs the package wherever it is missing: Colab, Kaggle, Binder, a bare Jupyter. A checkout
#: set up with ``make lab`` has it, so nothing happens there. The cell cannot import the package to
#: decide (it is the cell that installs it), so it asks the import system; ``invalidate_caches``
#: lets the next cell import the package that appeared while the kernel ran.
SETUP_CELL_SOURCE = (
    "# Setup: install the course package where it is missing (Colab, Kaggle, Binder, a bare Jupyter).\n"
    "import importlib.util\n"
    "\n"
    'if importlib.util.find_spec("course_utils") is None:\n'
    f'    %pip install -q "{INSTALL_REQUIREMENT}"\n'
    "    importlib.invalidate_caches()"
)

PARAMETERS_TAG = "parameters"
BADGE_RE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s\"']+\.ipynb")


def colab_url(relative_path: str) -> str:
    """Colab URL of a notebook given its path in the repository, e.g. ``notebooks/03_mnist_cnn.ipynb``."""
    path = PurePosixPath(relative_path)
    if path.is_absolute() or ".." in path.parts or path.suffix != ".ipynb":
        raise ValueError(f"relative_path must be a repository-relative .ipynb path, got {relative_path!r}")
    return COLAB_PREFIX + str(path)


def colab_badge(relative_path: str) -> str:
    """Markdown for the "Open in Colab" badge of the notebook at ``relative_path``."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(relative_path)})"


def new_notebook(cells: list, gpu: bool = False) -> nbformat.NotebookNode:
    """A notebook with the course's minimal metadata (kernelspec; Colab GPU request if ``gpu``)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    if gpu:
        nb.metadata["accelerator"] = "GPU"
        nb.metadata["colab"] = {"provenance": [], "gpuType": "T4"}
    return nb


def parameters_cell(source: str) -> nbformat.NotebookNode:
    """A code cell tagged ``parameters`` (papermill injects its values after it)."""
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [PARAMETERS_TAG]
    return cell


def canonical_text(nb) -> str:
    """The canonical text of ``nb`` (``nb`` is not changed): no outputs, no execution counts,
    sorted keys, stable ids ``cell-000``, ``cell-001``, ...; refuses an invalid notebook."""
    nb = nbformat.from_dict(copy.deepcopy(dict(nb)))
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(nb: nbformat.NotebookNode, path) -> None:
    """Write :func:`canonical_text` of ``nb`` to ``path``."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(canonical_text(nb))
