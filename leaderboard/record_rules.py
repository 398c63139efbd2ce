"""The rules every measurement record obeys beyond its schema: one function for every reader and writer.

:func:`record_problems` is applied by the validator when it writes a record
(:func:`leaderboard.records.write_record`), by `records import` / `records merge` when they read
an archive, and by `check` and the site build when they read the tree
(:func:`leaderboard.records.iter_records`): a record one of them refuses, all refuse.

Besides identifiers, dates, the protocol version and provenance, the rules bound what physics
allows (the figures and their sources are in :mod:`leaderboard.gpu_peaks` and on the Methodology
page):

* **Energy floor.** A GPU cannot do more operations per joule than its datasheet's largest
  tensor throughput (with sparsity) divided by its board power (the most efficient form factor
  of the family), times :data:`EFFICIENCY_MARGIN` (a GPU run below its power limit is more
  efficient than at it). So a record's J/image must be at least ``FLOPs per image / (FLOP/J x margin)``.
* **Throughput ceiling.** Images/s x FLOPs per image cannot exceed the peak FLOP/s.
* **Power.** Average power at most the record's power limit x 1.05 (the validator's own check).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from leaderboard.gpu_peaks import UNKNOWN_GPU, gpu_peak
from leaderboard.submission import ID_PATTERN
from leaderboard.vocabulary import (
    ACCURACY_TOLERANCE_POINTS,
    POWER_LIMIT_FACTOR,
    PROTOCOL_VERSIONS,
    SCORED_STATUSES,
)

if TYPE_CHECKING:
    from leaderboard.analysis_records import AnalysisRecord
    from leaderboard.records import MeasurementRecord


# A GPU below its power limit runs at lower clocks and voltage and does more work per joule;
# 2x covers that (and the boost headroom of the peak figure) with room to spare.
EFFICIENCY_MARGIN = 2.0

# Meters by kind. GPU provenance (driver, CUDA, power limit, clocks, temperature) is required
# of every meter that is not a known non-GPU kind, so a meter spelled "NVML-Total-Energy" is
# refused as unknown instead of skipping the GPU fields.
GPU_METERS = ("nvml-total-energy", "nvml-power-integration")
CPU_METERS = ("rapl", "cpu-time")
TEST_METERS = ("synthetic", "fake")
KNOWN_METERS = GPU_METERS + CPU_METERS + TEST_METERS
NON_GPU_METERS = CPU_METERS + TEST_METERS

MAX_HARDWARE_SLUG_CHARS = 64  # the build writes <hardware>--<scenario> file names
CLOCK_SKEW = timedelta(hours=1)
_ID = re.compile(ID_PATTERN)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA = re.compile(r"[0-9a-f]{7,40}")
_VENDOR_WORDS = {"nvidia", "amd", "intel", "geforce", "tesla", "gpu"}


def energy_floor_j(flops_per_image: float, hardware: str) -> float:
    """The least J/image physically possible for ``flops_per_image`` on ``hardware``."""
    peak = gpu_peak(hardware) or UNKNOWN_GPU
    return flops_per_image / (peak.flops_per_j * EFFICIENCY_MARGIN)


def _tokens(text: str) -> set[str]:
    return set(re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-").split("-"))


def _hardware_problem(record: MeasurementRecord | AnalysisRecord) -> str:
    hardware, gpu_name = record.hardware, record.provenance.gpu_name
    if len(hardware) > MAX_HARDWARE_SLUG_CHARS:
        return (f"hardware: {len(hardware)} characters; at most {MAX_HARDWARE_SLUG_CHARS} (the "
                "build names files after it)")
    if hardware.startswith("cpu-") or record.synthetic:
        # A CPU board names the machine's CPU model; synthetic records are made up (and
        # refused by the build and by import unless allowed).
        return ""
    named = _tokens(gpu_name)
    model = [t for t in hardware.split("-") if any(c.isdigit() for c in t)]
    if any(t not in named for t in model) or not (set(hardware.split("-")) - _VENDOR_WORDS) & named:
        return (f"provenance.gpu_name: {gpu_name!r} is not the GPU of the board {hardware!r}; "
                "the board's hardware slug is made from the GPU's name")
    return ""


def _identifier_problems(record: MeasurementRecord | AnalysisRecord) -> list[str]:
    problems = []
    if not _ID.fullmatch(record.entry_id):
        problems.append(f"entry_id: {record.entry_id!r} is not an entry id (lowercase "
                        "<architecture>.<tag>, optional -<size>)")
    return problems + _pattern_problems([
        ("provenance.gpu_uuid_sha256", record.provenance.gpu_uuid_sha256, _HEX64,
         "64 lowercase hex digits"),
        ("provenance.git_sha", record.provenance.git_sha, _GIT_SHA, "7-40 lowercase hex digits")])


def _board_identifier_problems(record: MeasurementRecord) -> list[str]:
    """The identifiers only a measurement record carries."""
    problems = []
    if record.protocol_version not in PROTOCOL_VERSIONS:
        problems.append(f"protocol_version: {record.protocol_version!r} does not exist; known: "
                        f"{', '.join(PROTOCOL_VERSIONS)}")
    return problems + _pattern_problems([
        ("skip_key", record.skip_key, _HEX64, "64 lowercase hex digits"),
        ("drift.reference_entry", record.drift.reference_entry if record.drift else None,
         _ID, "an entry id")])


def _pattern_problems(checks: list[tuple[str, str | None, re.Pattern[str], str]]) -> list[str]:
    return [f"{name}: {value[:80]!r} is not {what}" for name, value, pattern, what in checks
            if value is not None and not pattern.fullmatch(value)]


def _date_problem(record: MeasurementRecord | AnalysisRecord, now: datetime) -> str:
    from leaderboard.records import parse_measured_at

    try:
        when = parse_measured_at(record.measured_at)
    except ValueError as exc:
        return str(exc)
    if when > now + CLOCK_SKEW:
        return (f"measured_at: {record.measured_at} is in the future (now "
                f"{now.isoformat(timespec='seconds')})")
    return ""


def _energy_problems(record: MeasurementRecord | AnalysisRecord, flops_per_image: float | None) -> list[str]:
    energy = record.energy
    if energy is None:
        return []
    problems = []
    if not energy.ci95_low_j <= energy.gross_j_per_image * (1 + 1e-9) \
            or not energy.gross_j_per_image <= energy.ci95_high_j * (1 + 1e-9):
        problems.append(f"energy: the 95% CI [{energy.ci95_low_j:g}, {energy.ci95_high_j:g}] J "
                        f"does not contain the median {energy.gross_j_per_image:g} J")
    limit = record.provenance.power_limit_w
    if limit and energy.avg_power_w > limit * POWER_LIMIT_FACTOR:
        problems.append(f"energy.avg_power_w: {energy.avg_power_w:g} W is above the power limit "
                        f"{limit:g} W x {POWER_LIMIT_FACTOR}")
    if energy.meter not in KNOWN_METERS:
        problems.append(f"energy.meter: {energy.meter[:60]!r} is not a known meter; known: "
                        f"{', '.join(KNOWN_METERS)}")
    if flops_per_image and not record.hardware.startswith("cpu-"):
        floor = energy_floor_j(flops_per_image, record.hardware)
        peak = gpu_peak(record.hardware)
        if energy.gross_j_per_image < floor:
            problems.append(
                f"energy.gross_j_per_image: {energy.gross_j_per_image:.3g} J is below the "
                f"physical floor {floor:.3g} J for {flops_per_image / 1e9:.3g} GFLOPs/image on "
                f"{record.hardware} ({peak.source if peak else UNKNOWN_GPU.source}, x"
                f"{EFFICIENCY_MARGIN:g}); the Methodology page states the floor")
        ceiling = (peak or UNKNOWN_GPU).peak_flops
        performance = getattr(record, "performance", None)  # a profile record has none
        if performance and performance.throughput_img_s * flops_per_image > ceiling:
            problems.append(f"performance.throughput_img_s: {performance.throughput_img_s:.3g} "
                            f"images/s x {flops_per_image / 1e9:.3g} GFLOPs is above the GPU's "
                            f"peak {ceiling / 1e12:.0f} TFLOP/s")
    return problems


def _accuracy_problem(record: MeasurementRecord, claimed_top1: float | None) -> str:
    accuracy = record.accuracy
    if accuracy is None or accuracy.verdict != "verified" or record.synthetic:
        return ""
    delta = accuracy.top1 - claimed_top1 if claimed_top1 is not None else accuracy.claim_delta_top1
    if abs(delta) > ACCURACY_TOLERANCE_POINTS + 1e-9 or (
            claimed_top1 is not None
            and abs(accuracy.claim_delta_top1 - delta) > 0.01):
        return (f"accuracy.verdict: 'verified' but the measured top-1 {accuracy.top1:g} is "
                f"{delta:+.3f} points from the claim (tolerance {ACCURACY_TOLERANCE_POINTS}; "
                f"the record says {accuracy.claim_delta_top1:+.3f})")
    return ""


def record_problems(record: MeasurementRecord, *, gmacs: float | None = None,
                    claimed_top1: float | None = None, now: datetime | None = None,
                    provenance: bool = True) -> list[str]:
    """Every rule ``record`` breaks, as ``field: what is wrong`` sentences; empty when none.

    Args:
        record: A schema-valid record.
        gmacs: The submission's GMACs per image, used when the record has no ``gflops``.
        claimed_top1: The submission's claimed top-1, to check a ``verified`` verdict.
        now: The current time (UTC) for the future-date check; default: now.
        provenance: Also require the full provenance (:func:`leaderboard.records.missing_provenance`).
            The writer passes False: it records what the machine offers and a CPU or test run
            has no clocks; readers (import, check, build, export) refuse the incomplete record.
    """
    from leaderboard.records import missing_provenance

    now = now or datetime.now(UTC)
    problems = _identifier_problems(record) + _board_identifier_problems(record)
    problems += [p for p in (_hardware_problem(record), _date_problem(record, now),
                             _accuracy_problem(record, claimed_top1)) if p]
    flops = record.gflops * 1e9 if record.gflops else (gmacs * 2e9 if gmacs else None)
    if record.status in SCORED_STATUSES:
        problems += _energy_problems(record, flops)
    missing = missing_provenance(record) if provenance else []
    if missing:
        problems.append(f"measured record lacks provenance: {', '.join(missing)}")
    return problems


def analysis_record_problems(record: AnalysisRecord, *, gmacs: float | None = None,
                             now: datetime | None = None) -> list[str]:
    """The rules of :func:`record_problems` that apply to a profile or sweep record.

    Identifiers, the board's hardware against the GPU's name, a date that exists and is not in
    the future, and for a scored record: a CI that holds the median, power at most the limit, a
    known meter, the physical energy floor from the submission's ``gmacs``. What only a board
    record carries (protocol version, skip key, drift, accuracy verdict, full provenance) does
    not apply. ``records import`` and ``check`` apply it; synthetic records are refused by both
    unless allowed, as measurement records are.
    """
    now = now or datetime.now(UTC)
    problems = _identifier_problems(record)
    problems += [p for p in (_hardware_problem(record), _date_problem(record, now)) if p]
    if record.status in SCORED_STATUSES:
        problems += _energy_problems(record, gmacs * 2e9 if gmacs else None)
    return problems
