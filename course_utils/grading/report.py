"""Reports: one submission's outcome, its feedback page and the gradebook CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .config import MAX_FEEDBACK_CHARS, Settings


@dataclass
class Outcome:
    submission: str
    status: str
    scores: dict
    max_scores: dict
    seconds: float
    detail: str = ""
    errors: list = field(default_factory=list)  # [{"cell": n, "source": first line, "error": text}]
    tests: list = field(default_factory=list)  # testproc results
    fingerprint: str = ""

    @property
    def score(self) -> float:
        return sum(self.scores.values())

    def row(self) -> dict:
        row = {"submission": self.submission, "status": self.status, "score": _num(self.score),
               "max_score": _num(sum(self.max_scores.values())), "seconds": round(self.seconds, 1)}
        row.update({q: _num(self.scores.get(q, 0)) for q in self.max_scores})
        row["detail"] = self.detail
        return row


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 3)


def feedback_markdown(outcome: Outcome, settings: Settings) -> str:
    """Per-student feedback: scores, visible checks' messages, errors; never hidden tests' source."""
    lines = [f"# Feedback: {outcome.submission}", "",
             f"Assignment `{settings.master_path.stem}` · status **{outcome.status}** · "
             f"score **{_num(outcome.score)} / {_num(sum(outcome.max_scores.values()))}**", ""]
    if outcome.status == "grader-error":
        lines += ["The grader itself failed while grading this notebook, so the scores below may be incomplete. "
                  "This is not a judgement of your code; your instructor has been told and will regrade it.", ""]
    if outcome.detail:
        lines += [f"> {outcome.detail}", ""]
    lines += ["| question | score | out of |", "|---|---|---|"]
    lines += [f"| {q} | {_num(outcome.scores.get(q, 0))} | {_num(m)} |" for q, m in outcome.max_scores.items()]
    if outcome.tests:
        lines += ["", "## Checks", ""]
        for test in outcome.tests:
            mark = "passed" if test["passed"] else "failed"
            text = f"- {test['question']} ({_num(test['points'])} pt): {mark}"
            if not test["passed"] and test.get("message"):
                text += f" - {test['message'][:500]}"
            lines.append(text)
    if outcome.errors:
        lines += ["", "## Errors while running your notebook", ""]
        lines += [f"- cell {e['cell']} (`{e['source']}`): {e['error']}" for e in outcome.errors]
    text = "\n".join(lines) + "\n"
    if len(text) > MAX_FEEDBACK_CHARS:
        text = text[:MAX_FEEDBACK_CHARS] + "\n\n[feedback truncated]\n"
    return text


def write_gradebook(rows: list[dict], questions: list[str], path: Path) -> None:
    columns = ["submission", "status", "score", "max_score", "seconds"] + questions + ["detail"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (_csv_safe(v) if isinstance(v, str) else v) for k, v in row.items()})


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in text a student controls (file names, error messages)."""
    text = text.replace("\n", " ")[:500]
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _safe_name(name: str, suffix: str) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return stem if stem.endswith(suffix) else stem + suffix
