"""Companion package of the course "AI Big Models and the Startup".

Importing this package is cheap: it never imports TensorFlow or Keras. The modules that
need a deep-learning framework import it inside the functions that use it.

Modules, one job each:

- :mod:`course_utils.env` - where am I, which accelerator, seeding, smoke mode, strategy.
- :mod:`course_utils.data` - dataset registry, cache, download, offline fallback.
- :mod:`course_utils.paths` - where the course's own files (``data/``, notebooks) live.
- :mod:`course_utils.business` - calculators for the business worksheets.
- :mod:`course_utils.cli` - the ``course`` command.
"""

__version__ = "0.1.0"

#: GitHub repository that hosts the course, defined here only: the Colab badges, the setup cell's
#: install URL and the README's badges are built from it (pyproject.toml's URL is checked by a test).
GITHUB_REPO = "ai-startup-course/ai-big-models-startup"
GITHUB_BRANCH = "main"
GITHUB_URL = f"https://github.com/{GITHUB_REPO}"
