"""The function host: re-creates a student's functions from source and calls them on request.

Started by the test process inside the sandbox: ``python -m course_utils.grading.host JOB.json``.
It rebuilds the student's definitions (imports, functions and classes of the cells before the
answer cell, then the answer cell itself) and answers requests read from stdin, one JSON line each:
``{"name": ..., "args": tree, "kwargs": tree}`` -> ``{"ok": true, "value": tree}`` or
``{"ok": false, "type": "ValueError", "message": ...}``. Values cross as :mod:`codec` data only,
so nothing the student's code returns can run in the test process. A request with ``"state": true``
also gets ``"args_after"``: the arguments as the call left them, so a test can see whether the
function modified its input in place (:func:`course_utils.grading.checks.check_no_mutation`).
"""

from __future__ import annotations

import ast
import json
import os
import sys


def definitions_only(source: str) -> str:
    """Keep the imports, function and class definitions of a cell (drops everything else)."""
    from course_utils.authoring.markers import strip_magics

    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return ""
    keep = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    tree.body = [node for node in tree.body if isinstance(node, keep)]
    return ast.unparse(tree)


def _run(code: str, namespace: dict) -> str | None:
    try:
        exec(compile(code, "<student cell>", "exec"), namespace)
    except BaseException as err:  # SystemExit included: a cell may call sys.exit
        return f"{type(err).__name__}: {err}"
    return None


def _state_after(codec, args, kwargs) -> dict:
    """The arguments as the function left them (the caller holds only copies: they crossed as data)."""
    try:
        return {"args": codec.encode(tuple(args)), "kwargs": codec.encode(dict(kwargs))}
    except Exception as err:  # the function may have put something unexportable into an argument
        return {"unsupported": f"{type(err).__name__}: {str(err)[:200]}"}


def main(job_path: str) -> int:
    from course_utils.authoring.markers import strip_magics
    from course_utils.grading import codec

    reply = os.fdopen(os.dup(1), "w", buffering=1)
    requests = os.fdopen(os.dup(0), "r")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the student's prints must not mix with replies
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # nor may input() eat the requests
    sys.stdout = open(1, "w", closefd=False)
    sys.stdin = open(0, closefd=False)
    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    namespace: dict = {"__name__": "__main__"}
    namespace.update(job.get("parameters", {}))
    for name, tree in job.get("data", {}).items():
        try:
            namespace[name] = codec.decode(tree)
        except Exception:
            pass
    for source in job["prelude"]:
        _run(definitions_only(source), namespace)
    for source in job["cells"].values():
        if _run(strip_magics(source), namespace) is not None:
            _run(definitions_only(source), namespace)  # the cell failed: keep at least its definitions
    reply.write(json.dumps({"ready": sorted(n for n in job["cells"] if callable(namespace.get(n)))}) + "\n")
    for line in requests:
        request = json.loads(line)
        function = namespace.get(request["name"])
        try:
            if not callable(function):
                raise NameError(f"{request['name']} is not defined as a function in the submission")
            args = codec.decode(request["args"])
            kwargs = codec.decode(request["kwargs"])
            value = function(*args, **kwargs)
            try:
                answer = {"ok": True, "value": codec.encode(value)}
            except codec.Unsupported as err:
                answer = {"ok": False, "type": "TypeError", "message": f"returned a value the grader cannot check: {err}"}
            if answer["ok"] and request.get("state"):
                answer["args_after"] = _state_after(codec, args, kwargs)
        except BaseException as err:  # noqa: BLE001 - the student's exception goes back as data
            answer = {"ok": False, "type": type(err).__name__, "message": str(err)[:500]}
        reply.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
