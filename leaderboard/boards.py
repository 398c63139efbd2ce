"""Records joined to their submissions and scored: one entry per submission, one board per
hardware and scenario.

This is the stage between the records and everything that shows them: the site's pages, the
pull-request report and the findings all read a :class:`Boards` from :func:`load_boards`, so
each scores an entry exactly as the others do.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from leaderboard.analysis_records import ProfileRecord, SweepRecord, iter_analysis_records
from leaderboard.check import check_paths
from leaderboard.errors import Problem, ProblemsFound
from leaderboard.records import MeasurementRecord, iter_records
from leaderboard.scoring import Point, Score, score_board
from leaderboard.submission import Submission
from leaderboard.timm_catalog import load_catalog
from leaderboard.vocabulary import HEADLINE_SCENARIO, SCORED_STATUSES

# ResNet-50 is the field's yardstick; energies are also shown relative to it.
REFERENCE_ENTRY_IDS = ("resnet50.a1_in1k", "resnet50.tv_in1k")


@dataclass(frozen=True)
class BoardResult:
    """One entry's measurement on one board, with its score when it is scored."""

    record: MeasurementRecord
    score: Score | None
    relative_to_reference: float | None

    @property
    def energy_j(self) -> float | None:
        """Median gross energy per image, J."""
        return self.record.energy.gross_j_per_image if self.record.energy else None


@dataclass
class Entry:
    """One leaderboard entry: its submission and its results on every board."""

    submission: Submission
    family: str
    results: dict[str, BoardResult] = field(default_factory=dict)
    profiles: dict[str, ProfileRecord] = field(default_factory=dict)
    """Hardware -> where the energy goes on it."""
    sweeps: dict[str, dict[str, SweepRecord]] = field(default_factory=dict)
    """Hardware -> variant slug -> what that variant costs."""

    @property
    def id(self) -> str:
        """The entry id."""
        return self.submission.id

    @property
    def top1(self) -> float:
        """Top-1 used for scoring: measured when verified, else claimed."""
        verified = self.verified_accuracy
        return verified.top1 if verified else self.submission.claims.top1

    @property
    def top5(self) -> float | None:
        """Top-5, measured when verified, else claimed."""
        verified = self.verified_accuracy
        return verified.top5 if verified else self.submission.claims.top5

    @property
    def accuracy_status(self) -> str:
        """``verified``, ``rejected`` or ``claimed``."""
        for result in self.results.values():
            accuracy = result.record.accuracy
            if accuracy and accuracy.verdict in ("verified", "rejected"):
                return accuracy.verdict
        return "claimed"

    @property
    def verified_accuracy(self):  # noqa: ANN201 - AccuracyResult | None
        """The first full-set verified accuracy among the records, if any."""
        for board in sorted(self.results):
            accuracy = self.results[board].record.accuracy
            if accuracy and accuracy.verdict == "verified":
                return accuracy
        return None

    @property
    def params_m(self) -> float | None:
        """Parameters in millions: measured when a record has it, else the reference figure."""
        for result in self.results.values():
            if result.record.params_m is not None:
                return result.record.params_m
        return self.submission.compute.params_m if self.submission.compute else None

    @property
    def gmacs(self) -> float | None:
        """GMACs per image: half the measured GFLOPs when a record has it, else reference."""
        for result in self.results.values():
            if result.record.gflops is not None:
                return result.record.gflops / 2
        return self.submission.compute.gmacs if self.submission.compute else None


@dataclass
class Boards:
    """Every entry with its scored results, the boards there are, and the check's warnings."""

    entries: list[Entry]
    boards: list[str]
    timm_version: str
    warnings: list[Problem] = field(default_factory=list)
    _by_id: dict[str, Entry] | None = field(default=None, repr=False, compare=False)

    @property
    def headline_board(self) -> str | None:
        """The first board of the headline scenario (offline), else the first board."""
        offline = [b for b in self.boards if b.endswith(f"--{HEADLINE_SCENARIO}")]
        return (offline or self.boards or [None])[0]

    @property
    def headline_hardware(self) -> str | None:
        """The hardware of the headline board (profiles and sweeps there are shown first)."""
        board = self.headline_board
        return board.partition("--")[0] if board else None

    def by_id(self) -> dict[str, Entry]:
        """Entries keyed by id (built once: every model page looks up its alternatives)."""
        if self._by_id is None or len(self._by_id) != len(self.entries):
            self._by_id = {e.id: e for e in self.entries}
        return self._by_id

    def measured_count(self) -> int:
        """Entries with at least one scored result."""
        return sum(any(r.score for r in e.results.values()) for e in self.entries)


def load_boards(submissions_dir: Path, allow_synthetic: bool = False) -> Boards:
    """Load, check, join and score every submission and record under ``submissions_dir``.

    Raises:
        ProblemsFound: When any submission or record has an error, or a record is synthetic
            and ``allow_synthetic`` is false (made-up numbers never reach the published
            site or a report).
    """
    report = check_paths([], submissions_dir, check_records=False)
    problems = list(report.errors)
    catalog = load_catalog()
    entries = {
        s.id: Entry(s, s.model.family or catalog.family_of(s.model.architecture) or "unknown")
        for s in report.submissions
    }
    # Profiles and sweeps answer to the same rules as board records: an unreadable, misplaced
    # or synthetic one stops the build rather than silently dropping out of the pages.
    found = [*iter_records(submissions_dir), *iter_analysis_records(submissions_dir)]
    records: dict[str, list[MeasurementRecord]] = defaultdict(list)
    analysis: list[ProfileRecord | SweepRecord] = []
    for path, result in found:
        if isinstance(result, Problem):
            problems.append(result)
        elif result.synthetic and not allow_synthetic:
            problems.append(_synthetic_problem(path))
        elif result.entry_id not in entries:
            continue  # no valid submission: not on a board (`check` names orphan records)
        elif isinstance(result, MeasurementRecord):
            records[result.board].append(result)
        else:
            analysis.append(result)
    if problems:
        raise ProblemsFound(problems)
    for record in analysis:
        entry = entries[record.entry_id]
        if isinstance(record, ProfileRecord):
            entry.profiles[record.hardware] = record
        else:
            entry.sweeps.setdefault(record.hardware, {})[record.variant.slug] = record
    # Attach every record first: an entry's scoring accuracy may come from a record on
    # another board (a verified top-1), so scoring must see all of them.
    for board, board_records in records.items():
        for record in board_records:
            entries[record.entry_id].results[board] = BoardResult(record, None, None)
    for board, board_records in records.items():
        _score_board(board, board_records, entries)
    ordered = sorted(entries.values(), key=lambda e: e.id)
    return Boards(ordered, sorted(records), catalog.timm_version, report.warnings)


def _synthetic_problem(path: Path) -> Problem:
    return Problem(str(path), "synthetic", "record is marked synthetic",
                   "synthetic records are for tests; remove it or build with "
                   "--allow-synthetic for a local preview")


def _score_board(board: str, records: list[MeasurementRecord], entries: dict[str, Entry]) -> None:
    scored = [r for r in records if r.status in SCORED_STATUSES and r.energy is not None]
    points = [Point(r.entry_id, entries[r.entry_id].top1, r.energy.gross_j_per_image)
              for r in scored]
    scores = score_board(points) if points else {}
    reference = next((r for ref in REFERENCE_ENTRY_IDS for r in scored if r.entry_id == ref), None)
    for record in records:
        relative = None
        if reference and record.energy and record in scored:
            relative = record.energy.gross_j_per_image / reference.energy.gross_j_per_image
        entries[record.entry_id].results[board] = BoardResult(
            record, scores.get(record.entry_id), relative
        )
