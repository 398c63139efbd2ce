"""How `leaderboard check` reports: plain text, GitHub annotations or JSON, at three verbosities.

``text`` is for people: errors, the first few warnings, a summary. ``github`` writes workflow
commands (``::error file=...,line=...::``) so each problem is annotated on the pull request's
diff. Every format is a report, so all of it goes to stdout (``leaderboard check > report.txt``
keeps it) and the exit code says whether the check failed; ``stderr`` stays for diagnostics.
``json`` is for programs: every problem with its file, field, line and fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from leaderboard.check import shown_warnings
from leaderboard.cli_options import MAX_WARNINGS_SHOWN
from leaderboard.errors import Problem
from leaderboard.log_escape import workflow_command_data, workflow_command_property

OUTPUT_FORMATS = ("text", "github", "json")
QUIET, NORMAL, VERBOSE = -1, 0, 1

_LINE_IN_PARENS = re.compile(r"^(?P<field>.*?) \(line (?P<line>\d+)\)$")
_LINE_COLUMN = re.compile(r"^line (?P<line>\d+), column (?P<column>\d+)$")


@dataclass(frozen=True)
class Located:
    """Where a problem is, split out of :attr:`Problem.location`."""

    field: str | None
    line: int | None
    column: int | None


def locate(problem: Problem) -> Located:
    """Split ``claims.top1 (line 12)`` or ``line 3, column 5`` into field, line and column."""
    text = problem.location
    if match := _LINE_IN_PARENS.match(text):
        return Located(match["field"], int(match["line"]), None)
    if match := _LINE_COLUMN.match(text):
        return Located(None, int(match["line"]), int(match["column"]))
    return Located(text or None, None, None)


def github_annotation(problem: Problem) -> str:
    """One ``::error`` or ``::warning`` workflow command, shown on the file's line in the diff."""
    where = locate(problem)
    props = [f"file={workflow_command_property(problem.file)}"]
    if where.line is not None:
        props.append(f"line={where.line}")
        if where.column is not None:
            props.append(f"col={where.column}")
    props.append("title=" + workflow_command_property(
        "leaderboard check" + (f": {where.field}" if where.field else "")))
    message = problem.message + (f"\nfix: {problem.fix}" if problem.fix else "")
    return f"::{problem.severity} {','.join(props)}::{workflow_command_data(message)}"


def problem_dict(problem: Problem) -> dict[str, Any]:
    """A problem as JSON-ready data."""
    where = locate(problem)
    return {"file": problem.file, "field": where.field, "line": where.line,
            "column": where.column, "severity": problem.severity, "message": problem.message,
            "fix": problem.fix or None}


@dataclass
class CheckOutput:
    """What to print: lines for stdout and stderr, and the exit code."""

    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    exit_code: int = 0


def render_check(problems: Sequence[Problem], summary: str, *, output_format: str = "text",
                 verbosity: int = NORMAL, all_warnings: bool = False,
                 details: dict[str, Any] | None = None,
                 checked_files: Sequence[str] = ()) -> CheckOutput:
    """Render a check's problems and summary in one format.

    Args:
        problems: Every problem found, errors and warnings.
        summary: The one-line summary (``checked N submission(s) ...: E error(s), W warning(s)``).
        output_format: ``text``, ``github`` or ``json``.
        verbosity: ``QUIET`` (errors only; the summary only on failure), ``NORMAL`` or
            ``VERBOSE`` (every warning, and the files checked).
        all_warnings: List every warning, not the first few.
        details: Extra fields for the JSON summary (timm version, base commit...).
        checked_files: The files checked (listed at ``VERBOSE``, always in JSON).
    """
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output format {output_format!r}: use one of {', '.join(OUTPUT_FORMATS)}")
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    out = CheckOutput(exit_code=1 if errors else 0)
    if output_format == "json":
        payload = {"ok": not errors, "errors": len(errors), "warnings": len(warnings),
                   "summary": summary, **(details or {}), "files_checked": list(checked_files),
                   "problems": [problem_dict(p) for p in problems]}
        out.stdout.append(json.dumps(payload, indent=2, sort_keys=True))
        return out
    every_warning = all_warnings or verbosity >= VERBOSE
    if verbosity <= QUIET:
        shown, notes = [], []
    elif every_warning:
        shown, notes = warnings, []
    else:
        shown, notes = shown_warnings(warnings, MAX_WARNINGS_SHOWN)
    # The report goes to stdout in every format (`leaderboard check > report.txt` keeps all of
    # it; the runner reads workflow commands there); the exit code says whether it failed.
    render = github_annotation if output_format == "github" else Problem.format
    out.stdout.extend(render(p) for p in [*errors, *shown])
    out.stdout.extend(notes)
    if verbosity >= VERBOSE:
        out.stdout.extend(f"checked {name}" for name in checked_files)
    if errors or verbosity > QUIET:
        out.stdout.append(summary)
    return out
