"""``course pin REF``: freeze the course on a tag (or branch) for a term.

Every notebook's setup cell installs ``course-utils @ git+<repo>@<ref>`` and every Colab badge
opens ``<repo>/blob/<ref>/...``; ``<ref>`` is ``course_utils.GITHUB_BRANCH`` (``main`` while the
course is developed). A class that wants the same course all term pins it to a release tag:

    course pin v0.2.0      # rewrites GITHUB_BRANCH, the setup cells, the badges and the README links
    git commit -am "Pin the course to v0.2.0" && git tag v0.2.0

so a notebook opened from the tag installs the package of the tag, and a student who reopens it
in week 12 gets the code of week 1. ``course pin main`` undoes it. See docs/INSTRUCTORS.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .. import GITHUB_BRANCH, GITHUB_REPO, GITHUB_URL

REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
INIT_LINE = re.compile(r'^GITHUB_BRANCH = "(?P<ref>[^"]+)"', re.MULTILINE)


class PinError(ValueError):
    pass


def _patterns(ref: str) -> list[tuple[re.Pattern, str]]:
    """What names the ref in a file: the setup cell's install URL, Colab badges, GitHub links."""
    r = re.escape(ref)
    return [
        (re.compile(rf"(git\+{re.escape(GITHUB_URL)})@{r}(?=[\"'\\\s])"), r"\1@{new}"),
        (re.compile(rf"(colab\.research\.google\.com/github/{re.escape(GITHUB_REPO)}/blob/){r}/"), r"\1{new}/"),
        (re.compile(rf"({re.escape(GITHUB_URL)}/blob/){r}/"), r"\1{new}/"),
    ]


def current_ref(root: Path) -> str:
    text = (root / "course_utils" / "__init__.py").read_text(encoding="utf-8")
    found = INIT_LINE.search(text)
    if not found:
        raise PinError(f"no `GITHUB_BRANCH = \"...\"` line in {root / 'course_utils' / '__init__.py'}")
    return found["ref"]


def _files(root: Path) -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "*.ipynb", "*.md"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.split()
        return [root / name for name in listed]
    except (OSError, subprocess.CalledProcessError):
        skip = {".venv", "build", ".git"}
        return [p for pattern in ("*.ipynb", "*.md") for p in root.rglob(pattern)
                if not skip & set(p.relative_to(root).parts)]


def pin(root: Path | str, ref: str) -> list[Path]:
    """Point setup cells, badges and links of the checkout at ``root`` to ``ref``; returns changed files."""
    root = Path(root)
    if not REF_RE.match(ref) or ".." in ref:
        raise PinError(f"{ref!r} is not a git tag or branch name (e.g. v0.2.0 or main)")
    old = current_ref(root)
    if old == ref:
        return []
    changed = []
    init = root / "course_utils" / "__init__.py"
    text = init.read_text(encoding="utf-8")
    init.write_text(INIT_LINE.sub(f'GITHUB_BRANCH = "{ref}"', text, count=1), encoding="utf-8")
    changed.append(init)
    for path in _files(root):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new_text = text
        for pattern, replacement in _patterns(old):
            new_text = pattern.sub(replacement.replace("{new}", ref), new_text)
        if new_text != text:
            path.write_text(new_text, encoding="utf-8", newline="\n")
            changed.append(path)
    return changed


def _cmd_pin(args) -> int:
    from .. import paths

    root = Path(args.root) if args.root else (paths.repo_root() or Path.cwd())
    try:
        changed = pin(root, args.ref)
    except PinError as err:
        print(f"course pin: {err}", file=sys.stderr)
        return 2
    if not changed:
        print(f"already pinned to {args.ref}")
        return 0
    print(f"pinned to {args.ref} (was {GITHUB_BRANCH}): {len(changed)} file(s) changed. Check with `course lint`, "
          f"then: git commit -am 'Pin the course to {args.ref}' && git tag {args.ref}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "pin", help="point setup cells, Colab badges and links at a release tag (freeze a term)",
        description="Rewrite course_utils.GITHUB_BRANCH and, in every tracked notebook and markdown file, the "
        "setup cell's install URL, the Colab badges and the GitHub links, from the current ref to REF.")
    parser.add_argument("ref", help="a tag such as v0.2.0 (or main to unpin)")
    parser.add_argument("--root", help="the checkout (default: this one)")
    parser.set_defaults(func=_cmd_pin)
