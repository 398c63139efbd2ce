"""One small error hierarchy. Every message says what is wrong, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leaderboard.vocabulary import EXIT_FAILED, EXIT_USAGE

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in one input file.

    Attributes:
        file: Path of the file, as given by the user.
        location: Dotted field path (``model.weights.revision``) or ``line L, column C``.
        message: What is wrong.
        fix: How to fix it.
        severity: ``error`` fails the check; ``warning`` is reported only.
    """

    file: str
    location: str
    message: str
    fix: str = ""
    severity: Severity = "error"

    def format(self) -> str:
        """Render as ``file: location: severity: message (fix: ...)``."""
        where = f"{self.file}: {self.location}" if self.location else self.file
        text = f"{where}: {self.severity}: {self.message}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


class ProblemsReport:
    """What a check found, split by severity; for dataclasses with a ``problems`` list."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        """Problems that fail the check."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems reported but not failing."""
        return [p for p in self.problems if p.severity == "warning"]


class LeaderboardError(Exception):
    """Base class for errors the CLI maps to a clean message and a non-zero exit."""

    exit_code = EXIT_FAILED


class ProblemsFound(LeaderboardError):
    """Raised when a batch of inputs has one or more error-level problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = sum(p.severity == "error" for p in problems)
        super().__init__(f"{errors} error(s) found")


class UsageError(LeaderboardError):
    """Bad command-line usage that argument parsing could not catch."""

    exit_code = EXIT_USAGE
