"""The batch grader: ``course grade ASSIGNMENT SUBMISSIONS_DIR --out OUT``.

For each submission (one student's notebook):

1. it is checked (a notebook? this assignment?) and copied into its own work directory;
2. its code cells run there with papermill's parameters (``SMOKE=True``, ``SEED``), inside the
   sandbox (:mod:`.sandbox`), errors allowed, per-cell and whole-run timeouts, memory and output
   caps (:mod:`.kernel_runner`); after each answer cell a small injected cell exports the answers as plain
   data (:mod:`.codec`);
3. the instructor's tests, taken from the master in ``solutions/`` (never from the submission),
   run in a fresh Python process (:mod:`.testproc`); answers that are functions are re-created
   from the student's source in a separate sandboxed process and called under a timeout
   (:mod:`.host`).

Outputs in OUT: ``gradebook.csv``, ``feedback/NAME.md``, ``executed/NAME.ipynb``,
``results/NAME.json`` (what makes a re-run skip graded submissions) and ``grade.log``.

The Python API is :func:`grade` (it returns the gradebook rows) and :class:`GraderError`. The layers,
in the order one submission meets them: :mod:`.config` (settings, sandbox environment),
:mod:`.submission` (loading, answer matching), :mod:`.export` (the notebook the kernel runs, with
answer-export cells), :mod:`.execute` (the sandboxed run), :mod:`.scoring` (the test process),
:mod:`.report` (feedback, gradebook), :mod:`.batch` (a folder, in parallel, resumable) and
:mod:`.cli` (``course grade``).
"""

from .batch import grade
from .config import GraderError

__all__ = ["grade", "GraderError"]
