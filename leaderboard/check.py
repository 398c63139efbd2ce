"""`leaderboard check`: check many submission files (and their records) and collect every problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from leaderboard.analysis_records import iter_analysis_records
from leaderboard.errors import Problem, ProblemsReport
from leaderboard.records import MEASUREMENTS_DIRNAME, iter_records
from leaderboard.submission import (
    IMPORTED_ENTRY_MARK,
    SUBMISSION_FILENAME,
    Submission,
    check_submission_file,
    misnamed_problem,
)
from leaderboard.timm_catalog import load_catalog


@dataclass
class CheckReport(ProblemsReport):
    """Everything a check found."""

    files_checked: int = 0
    submissions: list[Submission] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _misnamed(files: Sequence[Path]) -> list[Problem]:
    """Files that look like a submission but are not named ``submission.yaml``.

    ``submission.yml`` or ``Submission.yaml`` would otherwise be skipped without a word (the
    entry silently missing from the board).
    """
    return [misnamed_problem(str(path), path.name) for path in files
            if path.is_file() and path.name != SUBMISSION_FILENAME
            and path.name.lower().startswith("submission")]


def find_submission_files(paths: Sequence[Path], submissions_dir: Path) -> tuple[list[Path], list[Problem]]:
    """Expand the given paths (files or folders) to submission files; default: all of them.

    Misnamed submission files (``submission.yml``) in the folders searched are problems.
    """
    if not paths:
        if not submissions_dir.is_dir():
            return [], [Problem(str(submissions_dir), "", "no submissions folder here",
                                "run from the root of a clone of the repository or pass --submissions DIR")]
        return (sorted(submissions_dir.glob(f"*/{SUBMISSION_FILENAME}")),
                _misnamed(sorted(submissions_dir.glob("*/[sS][uU][bB]*"))))
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob(SUBMISSION_FILENAME))
            misnamed = _misnamed(sorted(p for p in path.rglob("[sS][uU][bB]*")
                                        if "measurements" not in p.parts))
            if not found and not misnamed:
                problems.append(Problem(str(path), "", f"no {SUBMISSION_FILENAME} in this folder",
                                        f"add submissions/<id>/{SUBMISSION_FILENAME}"))
            problems.extend(misnamed)
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(Problem(str(path), "", "no such file or folder", "check the path"))
    return files, problems


def check_paths(
    paths: Sequence[Path],
    submissions_dir: Path = Path("submissions"),
    check_records: bool = True,
    allow_synthetic: bool = False,
) -> CheckReport:
    """Check submissions (all, or the given files/folders) and, optionally, all records.

    Args:
        paths: Files or folders to check; empty means every submission under ``submissions_dir``.
        submissions_dir: The repository's submissions folder.
        check_records: Also validate every measurement record in ``submissions_dir``: board
            records, and the profile and sweep records beside them.
        allow_synthetic: Accept records marked synthetic (a test tree); else each is an error,
            as in the published build, so a check that passes means the build will too.
    """
    report = CheckReport()
    files, report.problems = find_submission_files(paths, submissions_dir)
    architectures = load_catalog().architectures
    for path in files:
        submission, problems = check_submission_file(path, known_architectures=architectures)
        report.files_checked += 1
        report.problems.extend(problems)
        if submission is not None:
            report.submissions.append(submission)
    if check_records and submissions_dir.is_dir():
        # A folder left with only measurements/ (submission deleted) is not an entry.
        entry_ids = {p.parent.name for p in submissions_dir.glob(f"*/{SUBMISSION_FILENAME}")}
        for path, result in [*iter_records(submissions_dir),
                             *iter_analysis_records(submissions_dir)]:
            if isinstance(result, Problem):
                report.problems.append(result)
            elif result.entry_id not in entry_ids:
                report.problems.append(Problem(str(path), "entry_id",
                                               f"no submission '{result.entry_id}'",
                                               f"records live in submissions/<id>/{MEASUREMENTS_DIRNAME}/"))
            elif result.synthetic and not allow_synthetic:
                report.problems.append(Problem(str(path), "synthetic", "record is marked synthetic "
                                               "(made-up test data); the published build refuses it",
                                               "remove it; test trees pass --allow-synthetic"))
    return report


def shown_warnings(warnings: Sequence[Problem], limit: int = 5) -> tuple[list[Problem], list[str]]:
    """The warnings `check` lists by default, and the lines that sum up the rest.

    Every imported entry carries a warning until its weights are pinned (1,556 of them), which
    would bury the warnings that matter. Those are counted in one line; the others are listed,
    the first ``limit`` of them. ``--verbose`` lists every warning instead.
    """
    imported = [w for w in warnings if w.message.endswith(IMPORTED_ENTRY_MARK)]
    others = [w for w in warnings if not w.message.endswith(IMPORTED_ENTRY_MARK)]
    notes = []
    if len(others) > limit:
        notes.append(f"... and {len(others) - limit} more warning(s); --verbose lists them")
    if imported:
        notes.append(f"{len(imported):,} imported entr{'y' if len(imported) == 1 else 'ies'} "
                     "with weights not pinned yet (one warning each; --verbose lists them)")
    return others[:limit], notes


def warning_lines(warnings: Sequence[Problem], verbose: bool, limit: int = 5) -> list[str]:
    """The warnings as `check` prints them in text: see `shown_warnings`."""
    if verbose:
        return [w.format() for w in warnings]
    shown, notes = shown_warnings(warnings, limit)
    return [w.format() for w in shown] + notes
