"""`leaderboard sweep`: measured J/image of an entry under each switch a user can flip.

The variants (:func:`leaderboard.analysis_records.sweep_variants`) move one switch at a time
away from the headline workload (fp16, batch 256, NCHW, eager): precision fp32/tf32/bf16,
batch 1..128, channels-last, torch.compile. Each is measured with protocol v1 on the same
model and written as its own record as soon as it is done, so an interrupted sweep resumes
where it stopped. Given ImageNet val, each precision's top-1 is measured too: the accuracy
cost of that switch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

from leaderboard.analysis_records import (
    SweepRecord,
    Variant,
    VariantAccuracy,
    read_analysis_record,
    sweep_path,
    sweep_variants,
    write_analysis_record,
)
from leaderboard.errors import LeaderboardError
from leaderboard.measure.kept_records import kept_record
from leaderboard.measure.protocol_v1 import PROTOCOL_V1, V1Config, measure_v1
from leaderboard.measure.runner import (
    EntryBuild,
    EntrySetup,
    energy_stats,
    performance_of,
    utc_now,
)
from leaderboard.measure.workload import (
    WorkloadError,
    make_workload,
    resolve_input,
)
from leaderboard.records import MeasuredWeights
from leaderboard.submission import Submission
from leaderboard.vocabulary import SCORED_STATUSES


@dataclass(frozen=True)
class AccuracyCheck:
    """ImageNet images to measure each precision's top-1 on (the accuracy cost of a switch)."""

    samples: Sequence[Any]
    dataset_fingerprint: str
    batch_size: int = 256


@dataclass(frozen=True)
class SweepPoint:
    """One variant's outcome: the record, where it is, and whether it was already there."""

    record: SweepRecord
    path: Path
    skipped: bool


def parse_variants(text: str | None) -> list[Variant]:
    """The variants named in ``text`` (comma-separated slugs such as ``fp32-b256``), or all.

    Raises:
        ValueError: An unknown slug (the message lists the known ones).
    """
    known = {v.slug: v for v in sweep_variants()}
    if not text:
        return list(known.values())
    chosen = []
    for slug in (s.strip() for s in text.split(",") if s.strip()):
        if slug not in known:
            raise ValueError(f"unknown variant '{slug}'; known: {', '.join(known)}")
        chosen.append(known[slug])
    return chosen


def sweep_entry(
    submission: Submission,
    submissions_dir: Path,
    *,
    variants: Sequence[Variant] | None = None,
    config: V1Config | None = None,
    force: bool = False,
    accuracy: AccuracyCheck | None = None,
    progress: Callable[[str], None] | None = None,
    **setup: Unpack[EntrySetup],
) -> list[SweepPoint]:
    """Measure every variant of one entry and write each record as soon as it is measured.

    A variant whose record on this hardware is ok or unstable is skipped unless ``force``. A
    variant that fails (out of memory at batch 1, a compile error, a refused measurement) gets
    a record saying why, and the sweep goes on.

    Args:
        submission: The entry.
        submissions_dir: The ``submissions/`` folder.
        variants: Default: all of :func:`sweep_variants`.
        config: Energy protocol parameters (default: protocol v1).
        force: Measure variants that already have a good record.
        accuracy: Images on which to measure top-1 at each precision (needs pretrained weights
            to mean anything).
        progress: Called with one line per variant.
        **setup: device, weights and meter (:class:`~leaderboard.measure.runner.EntrySetup`).

    Raises:
        WorkloadError: The model cannot be built at all. MeterUnavailable: no meter.
    """
    from leaderboard.measure.accuracy import eval_preprocessing, evaluate

    variants = list(variants) if variants is not None else sweep_variants()
    config = config or PROTOCOL_V1
    how = EntryBuild(**setup)
    device = how.device
    weights = how.weights(submission)
    points: list[SweepPoint] = []
    top1_by_precision: dict[str, VariantAccuracy] = {}
    with how.session() as session:
        hardware = session.hardware
        model = None
        for variant in variants:
            path = sweep_path(submissions_dir, submission.id, hardware, variant)
            existing = None if force else kept_record(
                path, lambda r: isinstance(r, SweepRecord), read_analysis_record)
            if existing is not None:
                points.append(SweepPoint(existing, path, True))
                if progress:
                    progress(f"{submission.id} {variant.slug}: kept {path}")
                continue
            if model is None:
                model, weights = how.model(submission, weights)
                resolved = resolve_input(submission, model)
            reasons: list[str] = []
            energy = performance = None
            status = "error"
            batch_size = variant.batch_size
            variant_accuracy = None
            try:
                workload = make_workload(model, resolved.input_shape, device, variant.precision,
                                         batch_size=variant.batch_size,
                                         channels_last=variant.channels_last, compiled=variant.compiled)
                batch_size = workload.batch_size
                if batch_size < variant.batch_size:
                    reasons.append(f"batch {variant.batch_size} did not fit in memory; measured at "
                                   f"{batch_size}")
                result = measure_v1(workload.run_batch, workload.batch_size, session.meter,
                                        workload.synchronize, config, session.power_limit_w)
                session.check(result)  # MIG, other processes, throttling: like every board record
                del workload
                status, energy, performance = result.status, energy_stats(result), performance_of(result)
                reasons += result.reasons
            except (WorkloadError, RuntimeError) as exc:
                # One variant failing (OOM at batch 1, a torch.compile error) must not end the
                # sweep: it gets a record that says why.
                first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                reasons.append(f"{type(exc).__name__}: {first_line}")
                status = "error"
            if accuracy is not None and status in SCORED_STATUSES:
                variant_accuracy = top1_by_precision.get(variant.precision)
                if variant_accuracy is None:
                    try:
                        measured = evaluate(model, accuracy.samples,
                                            eval_preprocessing(submission, model), device=device,
                                            batch_size=accuracy.batch_size,
                                            precision=variant.precision)
                    except (LeaderboardError, RuntimeError, OSError) as exc:
                        # The energy stands; the accuracy cost is just not known.
                        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                        reasons.append(f"accuracy not measured: {type(exc).__name__}: {first_line}")
                    else:
                        variant_accuracy = VariantAccuracy(
                            top1=measured.top1, top5=measured.top5, images=measured.images,
                            dataset_fingerprint=accuracy.dataset_fingerprint)
                        top1_by_precision[variant.precision] = variant_accuracy
            record = SweepRecord(
                entry_id=submission.id, hardware=hardware, variant=variant, status=status,
                reasons=reasons, measured_at=utc_now(),
                weights=MeasuredWeights(kind=weights.kind, sha256=weights.sha256),
                input_shape=[batch_size, *resolved.input_shape], batch_size=batch_size,
                energy=energy, performance=performance, accuracy=variant_accuracy,
                provenance=session.provenance())
            written = write_analysis_record(submissions_dir, record)
            points.append(SweepPoint(record, written, False))
            if progress:
                energy_text = (f"{record.energy.gross_j_per_image * 1000:.3f} mJ/image"
                               if record.energy else "no energy")
                progress(f"{submission.id} {variant.slug}: {status}, {energy_text}")
        return points
