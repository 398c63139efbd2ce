"""`leaderboard report`: the pull-request comment built from the validator's records.

The records arrive as an artifact of a GPU run that a pull request's workflow produced, so they
are untrusted data: an archive is read with :func:`leaderboard.records_archive.import_records`
(regular files at record paths only, sha256 manifest, size limits, every record validated
against :class:`~leaderboard.records.MeasurementRecord`), the pull request's submission files
are read with the safe YAML loader, and nothing from the pull request is imported or run.

The new records are scored against the current boards: the trusted submissions (the default
branch) plus the pull request's entries and their records, through
:func:`leaderboard.boards.load_boards`, exactly as the published site scores them.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from leaderboard.boards import load_boards
from leaderboard.errors import LeaderboardError, ProblemsFound, UsageError
from leaderboard.records import MEASUREMENTS_DIRNAME, MeasurementRecord, read_record
from leaderboard.records_archive import export_records, import_records
from leaderboard.scoring import tier_description
from leaderboard.submission import ID_PATTERN, SUBMISSION_FILENAME, Submission, check_submission_file
from leaderboard.timm_catalog import load_catalog
from leaderboard.vocabulary import (
    FAILED_STATUSES,
    HEADLINE_SCENARIO,
    PROTOCOL_VERSION,
    REPORT_MARKER,
    SCORING_VERSION,
    UNSTABLE_CV,
)

MAX_TEXT = 300
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


@dataclass
class ProvenanceSummary:
    """Where a number comes from, in short: the comment's digest of a record's provenance."""

    gpu: str
    driver: str | None
    cuda: str | None
    torch: str | None
    timm: str | None
    nvidia_ml_py: str | None
    validator: str
    git_sha: str | None
    protocol: str
    power_limit_w: float | None
    batch_size: int
    precision: str
    input_shape: list[int]
    weights: str
    measured_at: str


@dataclass
class BoardReport:
    """One new record of a pull-request entry, scored against its board."""

    board: str
    status: str
    reasons: list[str]
    energy_j: float | None
    ci95_low_j: float | None
    ci95_high_j: float | None
    cv: float | None
    windows: int | None
    avg_power_w: float | None
    throughput_img_s: float | None
    claimed_energy_j: float | None
    tier: str | None
    score: float | None
    excess_factor: float | None
    relative_to_reference: float | None
    cheaper_alternative: str | None
    cheaper_energy_j: float | None
    cheaper_top1: float | None
    board_entries: int
    provenance: ProvenanceSummary


@dataclass
class AccuracyReport:
    """Claimed against measured accuracy (measured only when a record has an accuracy block)."""

    claimed_top1: float
    claimed_top5: float | None
    claim_source: str
    measured_top1: float | None = None
    measured_top5: float | None = None
    images: int | None = None
    verdict: str | None = None
    delta_top1: float | None = None
    board: str | None = None


@dataclass
class EntryReport:
    """Everything the comment says about one entry of the pull request."""

    entry_id: str
    accuracy: AccuracyReport | None
    boards: list[BoardReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Report:
    """The whole comment, as data (``--format json``) before it is rendered."""

    entries: list[EntryReport]
    refused: list[str] = field(default_factory=list)
    pr_number: int | None = None
    head_sha: str | None = None
    scoring_version: str = SCORING_VERSION
    protocol_version: str = PROTOCOL_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Building


def parse_entry_ids(values: Sequence[str]) -> list[str]:
    """Entry ids from options that may each hold several (space- or comma-separated).

    Raises:
        UsageError: No id, or one that is not a valid entry id.
    """
    ids = sorted({part for value in values for part in re.split(r"[\s,]+", value) if part})
    bad = [i for i in ids if not re.match(ID_PATTERN, i)]
    if bad:
        raise UsageError(f"--pr-entries: not an entry id: {', '.join(repr(b) for b in bad)}")
    if not ids:
        raise UsageError("--pr-entries: name at least one entry id")
    return ids


def _archive_from_folder(folder: Path, work: Path) -> Path:
    """Pack a folder of ``<id>/measurements/*.json`` into an archive (then read as any other)."""
    for path in folder.rglob("*"):
        if path.is_symlink():
            raise LeaderboardError(f"{path}: a symbolic link; records are plain files")
    archive = work / "records.tar.gz"
    export_records(folder, archive)
    return archive


def _stage_submission(entry_id: str, source_dir: Path, staging: Path,
                      known: frozenset[str]) -> tuple[Submission | None, list[str]]:
    """Copy one pull-request submission file into the staging tree and check it as data."""
    source = source_dir / entry_id / SUBMISSION_FILENAME
    display = f"submissions/{entry_id}/{SUBMISSION_FILENAME}"
    if source.is_symlink() or not source.is_file():
        return None, [f"{display}: no such file in the pull request"]
    submission, problems = check_submission_file(source, known_architectures=known, display=display)
    target = staging / entry_id / SUBMISSION_FILENAME
    target.parent.mkdir(parents=True)
    shutil.copyfile(source, target)
    errors = [f"{p.location}: {p.message}" if p.location else p.message
              for p in problems if p.severity == "error"]
    return submission, errors


def build_report(
    records: Path,
    submissions_dir: Path,
    pr_entries: Sequence[str],
    *,
    pr_submissions: Path | None = None,
    pr_number: int | None = None,
    head_sha: str | None = None,
    allow_synthetic: bool = False,
) -> Report:
    """Score the records of a validation run and collect what the comment shows.

    Args:
        records: A records archive (`leaderboard records export`) or a folder of
            ``<id>/measurements/<hardware>--<scenario>.json``.
        submissions_dir: The trusted submissions (the default branch): the boards to score on.
        pr_entries: Ids of the entries the pull request adds or edits.
        pr_submissions: Where the pull request's ``<id>/submission.yaml`` files are read from
            (default: ``submissions_dir``).
        pr_number: Shown in the header.
        head_sha: The validated commit, shown in the header.
        allow_synthetic: Accept records marked synthetic (tests; the validator writes none).

    Raises:
        UsageError: A bad entry id or head SHA.
        LeaderboardError: The records cannot be read at all, or the trusted tree is invalid.
    """
    if head_sha is not None and not re.fullmatch(r"[0-9a-f]{7,40}", head_sha):
        raise UsageError(f"--head-sha {head_sha!r}: expected a hex commit id")
    ids = parse_entry_ids(pr_entries)
    known = load_catalog().architectures
    report = Report([], pr_number=pr_number, head_sha=head_sha)
    with tempfile.TemporaryDirectory(prefix="leaderboard-report-") as tmp:
        work = Path(tmp)
        staging = work / "staging"
        staging.mkdir()
        submissions: dict[str, Submission | None] = {}
        problems: dict[str, list[str]] = {}
        for entry_id in ids:
            submissions[entry_id], problems[entry_id] = _stage_submission(
                entry_id, pr_submissions or submissions_dir, staging, known)
        archive = _archive_from_folder(records, work) if records.is_dir() else records
        imported = import_records(archive, staging, allow_synthetic=allow_synthetic)
        report.refused = [f"{member}: {reason.replace(str(staging), 'the pull request')}"
                          for member, reason in imported.refused]
        new_records: dict[str, list[MeasurementRecord]] = {i: [] for i in ids}
        if imported.written:
            for name in imported.created:
                if Path(name).parent.name != MEASUREMENTS_DIRNAME:
                    continue  # a profile or sweep record: not on any board, not in the comment
                record = read_record(staging / name)
                new_records[record.entry_id].append(record)

        board_tree = work / "board"
        shutil.copytree(submissions_dir, board_tree, symlinks=True)
        for entry_id in ids:
            target = board_tree / entry_id
            if submissions[entry_id] is None:
                shutil.rmtree(target, ignore_errors=True)
                continue
            target.mkdir(exist_ok=True)
            shutil.copyfile(staging / entry_id / SUBMISSION_FILENAME, target / SUBMISSION_FILENAME)
            for record in new_records[entry_id]:
                name = f"{record.board}.json"
                (target / MEASUREMENTS_DIRNAME).mkdir(exist_ok=True)
                shutil.copyfile(staging / entry_id / MEASUREMENTS_DIRNAME / name,
                                target / MEASUREMENTS_DIRNAME / name)
        try:
            data = load_boards(board_tree, allow_synthetic=True)
        except ProblemsFound as exc:
            details = "; ".join(p.format().replace(str(board_tree), "submissions")
                                for p in exc.problems[:5])
            raise LeaderboardError(f"{submissions_dir}: the boards cannot be loaded: {details}") from exc

    by_id = data.by_id()
    scored_counts = {b: sum(1 for e in data.entries if b in e.results and e.results[b].score)
                     for b in data.boards}
    for entry_id in ids:
        submission = submissions[entry_id]
        entry_report = EntryReport(entry_id, None, problems=problems[entry_id])
        report.entries.append(entry_report)
        if submission is None:
            continue
        entry = by_id[entry_id]
        entry_report.accuracy = _accuracy(submission, new_records[entry_id])
        entry_report.warnings.extend(_submission_warnings(submission))
        if not new_records[entry_id] and not report.refused:
            entry_report.warnings.append("no record for this entry in the validation run")
        by_message: dict[str, list[str]] = {}
        for record in sorted(new_records[entry_id], key=lambda r: r.board):
            result = entry.results[record.board]
            cheaper = by_id.get(result.score.cheaper_alternative) if result.score else None
            cheaper_result = cheaper.results.get(record.board) if cheaper else None
            entry_report.boards.append(BoardReport(
                board=record.board, status=record.status, reasons=list(record.reasons),
                energy_j=record.energy.gross_j_per_image if record.energy else None,
                ci95_low_j=record.energy.ci95_low_j if record.energy else None,
                ci95_high_j=record.energy.ci95_high_j if record.energy else None,
                cv=record.energy.cv if record.energy else None,
                windows=record.energy.windows if record.energy else None,
                avg_power_w=record.energy.avg_power_w if record.energy else None,
                throughput_img_s=record.performance.throughput_img_s if record.performance else None,
                claimed_energy_j=(submission.claims.energy_j_per_image
                                  if record.scenario == HEADLINE_SCENARIO else None),
                tier=result.score.tier if result.score else None,
                score=result.score.score if result.score else None,
                excess_factor=result.score.excess_factor if result.score else None,
                relative_to_reference=result.relative_to_reference,
                cheaper_alternative=cheaper.id if cheaper else None,
                cheaper_energy_j=cheaper_result.energy_j if cheaper_result else None,
                cheaper_top1=cheaper.top1 if cheaper else None,
                board_entries=scored_counts.get(record.board, 0),
                provenance=_provenance(record),
            ))
            for message in _record_warnings(record):
                by_message.setdefault(message, []).append(record.board)
        entry_report.warnings.extend(f"{message} ({', '.join(boards)})"
                                     for message, boards in by_message.items())
    return report


def _accuracy(submission: Submission, records: list[MeasurementRecord]) -> AccuracyReport:
    claims = submission.claims
    accuracy = AccuracyReport(claims.top1, claims.top5, claims.source)
    measured = sorted((r for r in records if r.accuracy), key=lambda r: r.board)
    if measured:
        record = measured[0]
        accuracy.measured_top1 = record.accuracy.top1
        accuracy.measured_top5 = record.accuracy.top5
        accuracy.images = record.accuracy.images
        accuracy.verdict = record.accuracy.verdict
        accuracy.delta_top1 = record.accuracy.claim_delta_top1
        accuracy.board = record.board
    return accuracy


def _submission_warnings(submission: Submission) -> list[str]:
    hub, url = submission.model.weights.hf_hub, submission.model.weights.url
    if hub is not None and hub.revision is None:
        return ["weights are not pinned (model.weights.hf_hub.revision is missing): pretrained "
                "weights cannot be verified until they are"]
    if url is not None and url.sha256 is None:
        return ["weights are not pinned (model.weights.url.sha256 is missing): pretrained "
                "weights cannot be verified until they are"]
    return []


def _record_warnings(record: MeasurementRecord) -> list[str]:
    """What to distrust about one record (the caller names the boards)."""
    warnings: list[str] = []
    if record.status in FAILED_STATUSES:
        warnings.append(f"{record.status}: {'; '.join(record.reasons[:3]) or 'no reason given'}")
    if record.status == "unstable" or (record.energy and record.energy.cv > UNSTABLE_CV):
        cv = f"CV {record.energy.cv:.1%}" if record.energy else "CV unknown"
        warnings.append(f"unstable: {cv} across windows (above {UNSTABLE_CV:.0%}); the tier may "
                        "move on a re-run")
    if record.weights.kind == "random-init":
        warnings.append("energy measured with random-init weights: accuracy is not verified, the "
                        "claim stands until a run with the pinned weights")
    if record.accuracy and record.accuracy.verdict == "rejected":
        warnings.append(f"accuracy rejected: measured top-1 {record.accuracy.top1:.2f} is "
                        f"{record.accuracy.claim_delta_top1:+.2f} points from the claim")
    if record.accuracy and record.accuracy.verdict == "subset":
        warnings.append(f"accuracy measured on a per-class subset ({record.accuracy.images} "
                        "images), not the full validation set")
    if record.provenance.throttle_reasons:
        warnings.append(f"the GPU throttled: {', '.join(record.provenance.throttle_reasons)}")
    if record.synthetic:
        warnings.append("synthetic record (test data); the site never publishes it")
    return warnings


def _provenance(record: MeasurementRecord) -> ProvenanceSummary:
    p = record.provenance
    weights = record.weights.kind + (f" sha256 {record.weights.sha256[:12]}" if record.weights.sha256
                                     else "")
    return ProvenanceSummary(gpu=p.gpu_name, driver=p.driver, cuda=p.cuda, torch=p.torch, timm=p.timm,
                      nvidia_ml_py=p.nvidia_ml_py, validator=p.validator_version, git_sha=p.git_sha,
                      protocol=record.protocol_version, power_limit_w=p.power_limit_w,
                      batch_size=record.batch_size, precision=record.precision,
                      input_shape=list(record.input_shape), weights=weights,
                      measured_at=record.measured_at)


# ---------------------------------------------------------------------------------------------
# Rendering


def md(text: Any) -> str:
    """Untrusted text made inert in a comment: one line, short, no markup, no @-mentions."""
    value = " ".join(str(text).split())
    if len(value) > MAX_TEXT:
        value = value[: MAX_TEXT - 1] + "…"
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    return value.replace("@", "@\u200b")


def code(text: str) -> str:
    """A version or digest in backticks when it is plainly one; escaped text otherwise."""
    return f"`{text}`" if re.fullmatch(r"[0-9A-Za-z._:+-]{1,80}", text) else md(text)


def _num(value: float | None, spec: str, missing: str = "—") -> str:
    return missing if value is None else format(value, spec)


def _energy_cell(board: BoardReport) -> str:
    if board.energy_j is None:
        return "—"
    return (f"{board.energy_j:.4g} ({_num(board.ci95_low_j, '.4g')}–"
            f"{_num(board.ci95_high_j, '.4g')})")


def _tier_cell(board: BoardReport) -> str:
    if board.tier is None:
        return "not scored"
    return f"**{board.tier}** ({board.excess_factor:.2f}x)"


def _cheaper_cell(board: BoardReport) -> str:
    if board.tier is None:
        return "—"
    if board.cheaper_alternative is None:
        return "none: most efficient at its accuracy"
    return (f"`{board.cheaper_alternative}`: {_num(board.cheaper_energy_j, '.4g')} J, "
            f"top-1 {_num(board.cheaper_top1, '.2f')}")


def _accuracy_line(accuracy: AccuracyReport) -> str:
    claimed = (f"claimed top-1 {accuracy.claimed_top1:.2f}"
               + (f" / top-5 {accuracy.claimed_top5:.2f}" if accuracy.claimed_top5 is not None else "")
               + f" ({md(accuracy.claim_source)})")
    if accuracy.measured_top1 is None:
        return f"**Accuracy:** {claimed}; measured: not in this run."
    measured = (f"measured top-1 {accuracy.measured_top1:.2f} / top-5 "
                f"{_num(accuracy.measured_top5, '.2f')} on {accuracy.images:,} images "
                f"(Δ {accuracy.delta_top1:+.2f}, {accuracy.verdict})")
    return f"**Accuracy:** {claimed}; {measured}."


def render_report(report: Report, output_format: str) -> str:
    """The comment as ``markdown``, or its content as sorted, indented ``json``."""
    if output_format == "json":
        return json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n"
    return render_markdown(report)


def render_markdown(report: Report) -> str:
    """The comment: a hidden marker, then one section per entry."""
    lines = [REPORT_MARKER, "## Validator report", ""]
    header = []
    if report.head_sha:
        header.append(f"commit {code(report.head_sha[:12])}")
    header.append(f"{len(report.entries)} entr{'y' if len(report.entries) == 1 else 'ies'}")
    header.append(f"protocol v{md(report.protocol_version)}, scoring v{md(report.scoring_version)}")
    lines += [" · ".join(header), ""]
    if report.refused:
        lines += ["> [!CAUTION]",
                  "> The validation artifact was refused and nothing from it is shown:", ">"]
        lines += [f"> - {md(item)}" for item in report.refused[:20]]
        if len(report.refused) > 20:
            lines.append(f"> - … and {len(report.refused) - 20} more")
        lines.append("")
    for entry in report.entries:
        lines += _render_entry(entry)
    tiers = sorted({b.tier for e in report.entries for b in e.boards if b.tier})
    if tiers:
        lines.append("Tiers: " + "; ".join(f"**{t}** {tier_description(t)}" for t in tiers) + ".")
        lines.append("")
    lines.append("<sub>Generated by `leaderboard report` from the validator's records, read as "
                 "data and checked against the record schema.</sub>")
    return "\n".join(lines) + "\n"


def _render_entry(entry: EntryReport) -> list[str]:
    lines = [f"### `{entry.entry_id}`", ""]
    if entry.problems:
        lines.append("**The submission has errors; run `leaderboard check` on it:**")
        lines += [f"- {md(p)}" for p in entry.problems]
        lines.append("")
        return lines
    if entry.accuracy:
        lines += [_accuracy_line(entry.accuracy), ""]
    if entry.boards:
        lines += ["| Board | Status | Energy J/image (95% CI) | CV | Tier | Score | vs ResNet-50 "
                  "| Cheaper alternative |",
                  "|---|---|---|---|---|---|---|---|"]
        for b in entry.boards:
            energy = _energy_cell(b)
            if b.claimed_energy_j is not None:
                energy += f"; claimed {b.claimed_energy_j:.4g}"
            lines.append(
                f"| `{b.board}` | {b.status} | {energy} | {_num(b.cv, '.2%')} | {_tier_cell(b)} "
                f"| {_num(b.score, '.1f')} | {_num(b.relative_to_reference, '.2f', '—')}"
                f"{'x' if b.relative_to_reference is not None else ''} | {_cheaper_cell(b)} |")
        lines.append("")
        scored = [b for b in entry.boards if b.tier]
        if scored:
            lines.append("Scored against " + ", ".join(
                f"{b.board_entries} measured entr{'y' if b.board_entries == 1 else 'ies'} on "
                f"`{b.board}`" for b in scored) + ".")
            lines.append("")
    if entry.warnings:
        lines.append("**Warnings**")
        lines += [f"- {md(w)}" for w in entry.warnings]
        lines.append("")
    if entry.boards:
        lines += ["<details><summary>Provenance</summary>", "",
                  "| Board | GPU | Driver | CUDA | torch | timm | nvidia-ml-py | Validator | Protocol "
                  "| Batch, precision | Weights | Measured at |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for b in entry.boards:
            p = b.provenance
            validator = code(p.validator) + (f" ({code(p.git_sha[:12])})" if p.git_sha else "")
            versions = " | ".join(code(v) if v else "—"
                                  for v in (p.driver, p.cuda, p.torch, p.timm, p.nvidia_ml_py))
            lines.append(
                f"| `{b.board}` | {md(p.gpu)}{_power(p)} | {versions} "
                f"| {validator} | v{md(p.protocol)} | {p.batch_size}, {md(p.precision)} "
                f"| {md(p.weights)} | {md(p.measured_at)} |")
        lines += ["", "</details>", ""]
    return lines


def _power(p: ProvenanceSummary) -> str:
    return f" ({p.power_limit_w:g} W limit)" if p.power_limit_w is not None else ""
