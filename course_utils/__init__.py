"""Companion package of the course "AI Big Models and the Startup".

Importing this package is cheap: it never imports TensorFlow or Keras. The modules that
need a deep-learning framework import it inside the functions that use it.

The learner's API, one job per module (the chapters that teach each helper are named in its
docstring, "Taught in: ..."):

- :mod:`course_utils.env` - where am I, which accelerator, seeding, smoke mode, strategy.
- :mod:`course_utils.data` - dataset registry, cache, download, offline fallback.
- :mod:`course_utils.paths` - where the course's own files (``data/``, notebooks) live.
- :mod:`course_utils.results` - key numbers a notebook reports to ``course run``.
- :mod:`course_utils.validation` - the parameter checks every helper and calculator uses.
- :mod:`course_utils.models`, :mod:`course_utils.training` - the reference MNIST CNN, a timed ``fit``.
- :mod:`course_utils.evaluation`, :mod:`course_utils.plots` - metrics helpers and shared plots.
- :mod:`course_utils.explain`, :mod:`course_utils.fairness`, :mod:`course_utils.compression`,
  :mod:`course_utils.scaling`, :mod:`course_utils.recsys`, :mod:`course_utils.serving` - pieces
  several chapters (or a chapter's infrastructure) share.
- :mod:`course_utils.business` - calculators for the business worksheets.

Instructor and maintainer tooling lives apart, in :mod:`course_utils.tools` (the ``course``
command), :mod:`course_utils.authoring` and :mod:`course_utils.grading`; no learner module imports
it (docs/ARCHITECTURE.md).
"""

__version__ = "0.1.0"

#: GitHub repository that hosts the course, defined here only: the Colab badges, the setup cell's
#: install URL and the README's badges are built from it (pyproject.toml's URL is checked by a test).
GITHUB_REPO = "ai-startup-course/ai-big-models-startup"
GITHUB_BRANCH = "main"
GITHUB_URL = f"https://github.com/{GITHUB_REPO}"
