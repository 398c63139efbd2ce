"""`leaderboard check`, run and reported: every file or a pull request's changes, in a format.

The command line (``leaderboard.cli``) parses; this module checks (``leaderboard.check``,
``leaderboard.policy``) and reports through ``leaderboard.check_output``, so the text, GitHub
and JSON forms of one check always agree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from leaderboard.check_output import NORMAL, OUTPUT_FORMATS, QUIET, VERBOSE, render_check
from leaderboard.errors import Problem, UsageError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CheckStyle:
    """How a check reports: format, verbosity, and whether every warning is listed."""

    output_format: str = "text"
    verbosity: int = NORMAL
    all_warnings: bool = False


def check_output_options(command: F) -> F:
    """Add ``--format``, ``-q/--quiet`` and ``-v/--verbose`` to a check command."""
    for option in reversed([
        click.option("--format", "output_format", type=click.Choice(OUTPUT_FORMATS),
                     default="text", show_default=True,
                     help="text for people; github: workflow annotations on the pull request's "
                          "diff; json: every problem with file, field, line and fix."),
        click.option("-q", "--quiet", is_flag=True,
                     help="Errors only; print nothing when the check passes."),
        click.option("-v", "--verbose", is_flag=True,
                     help="Every warning and every file checked."),
    ]):
        command = option(command)
    return command


def check_style(output_format: str, quiet: bool, verbose: bool, all_warnings: bool) -> CheckStyle:
    """The style the options ask for; ``-q`` with ``-v`` is a usage error."""
    if quiet and verbose:
        raise UsageError("give -q/--quiet or -v/--verbose, not both")
    return CheckStyle(output_format, QUIET if quiet else VERBOSE if verbose else NORMAL,
                      all_warnings)


def emit(problems: Sequence[Problem], summary: str, style: CheckStyle,
         details: dict[str, Any], checked_files: Sequence[str]) -> None:
    """Print a check's result in ``style`` and exit 1 when it found an error."""
    out = render_check(problems, summary, output_format=style.output_format,
                       verbosity=style.verbosity, all_warnings=style.all_warnings,
                       details=details, checked_files=checked_files)
    for line in out.stdout:
        click.echo(line)
    for line in out.stderr:
        click.echo(line, err=True)
    if out.exit_code:
        sys.exit(out.exit_code)


def check_files(paths: Sequence[Path], submissions_dir: Path, style: CheckStyle,
                allow_synthetic: bool = False) -> None:
    """`check [PATHS]`: every submission (and its records), or the files named."""
    from leaderboard.check import check_paths, find_submission_files
    from leaderboard.timm_catalog import load_catalog

    report = check_paths(list(paths), submissions_dir, check_records=not paths,
                         allow_synthetic=allow_synthetic)
    timm = load_catalog().timm_version
    files = [str(path) for path in find_submission_files(list(paths), submissions_dir)[0]]
    emit([*report.errors, *report.warnings],
         f"checked {report.files_checked} submission(s) against timm {timm}: "
         f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)", style,
         {"timm_version": timm, "changed_against": None}, files)


def check_pull_request(base: str, submissions_dir: Path, style: CheckStyle,
                       allow_synthetic: bool = False, **policy: Any) -> None:
    """`check --changed-against BASE`: the pull-request policy plus the changed files."""
    from leaderboard.policy import check_pull_request as policy_check
    from leaderboard.timm_catalog import load_catalog

    catalog = load_catalog()
    result = policy_check(base, Path("."), committed_only=policy.pop("committed"),
                          known_architectures=catalog.architectures, **policy)
    if result.policy.kind != "submission":
        what = "no changes" if result.policy.kind == "empty" else "no changes under submissions/"
        if style.verbosity > QUIET:
            click.echo(f"{what} against {base}: not a submission pull request; "
                       "checking every submission", err=True)
        check_files((), submissions_dir, style, allow_synthetic)
        return
    changed = [str(path) for path in result.policy.submission_files]
    emit(result.problems,
         f"checked {len(changed)} changed submission(s) against {base} (timm "
         f"{catalog.timm_version}): {len(result.errors)} error(s), {len(result.warnings)} warning(s)",
         style, {"timm_version": catalog.timm_version, "changed_against": base}, changed)
