"""Profile and sweep many entries under one meter session, one entry's failure at a time.

The `profile` and `sweep` commands call these; each entry is isolated (a failure is reported
and the run goes on) and the meter opens before any model is built, so a machine without one
fails at once (exit 3) instead of after the first model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.vocabulary import FAILED_STATUSES

if TYPE_CHECKING:
    from leaderboard.submission import Submission

Echo = Callable[[str], None]
T = TypeVar("T")


def each_entry(ids: list[str], submissions_dir: Path, work: Callable[[str, Submission], T],
               progress: Echo) -> tuple[dict[str, T], dict[str, str]]:
    """Run ``work`` on each entry's valid submission, one failure at a time.

    The one loop of the in-process runs (profile, sweep): an entry whose submission is invalid
    or whose work raises a LeaderboardError is reported through ``progress`` and the run goes
    on to the next. ``work`` returning None means the entry was skipped.

    Returns:
        (entry id -> what ``work`` returned, entry id -> why it failed), in ``ids`` order.
    """
    from leaderboard.submission import load_valid_submission

    done: dict[str, T] = {}
    failed: dict[str, str] = {}
    for entry_id in ids:
        try:
            outcome = work(entry_id, load_valid_submission(submissions_dir, entry_id))
        except LeaderboardError as exc:
            failed[entry_id] = str(exc)
            progress(f"{entry_id}: failed: {exc}")
            continue
        if outcome is not None:
            done[entry_id] = outcome
    return done, failed


def weights_path_for(weights_mode: str, weights_dir: Path | None, entry_id: str) -> Path | None:
    """The pretrained weights file of ``entry_id``, or None for random-init weights.

    Raises:
        UsageError: pretrained mode without a weights folder.
    """
    if weights_mode != "pretrained":
        return None
    if weights_dir is None:
        raise UsageError("--weights-mode pretrained needs --weights-dir with <id>.safetensors files")
    return weights_dir / f"{entry_id}.safetensors"


def parse_ablate(ablate: str) -> tuple[str, ...]:
    """``activation,normalisation`` -> the layer types to replace by identity.

    Raises:
        UsageError: a type that cannot be replaced without changing tensor shapes.
    """
    from leaderboard.measure.profile import ABLATABLE_LAYER_TYPES

    ablate_types = tuple(t.strip() for t in ablate.split(",") if t.strip())
    unknown = sorted(set(ablate_types) - set(ABLATABLE_LAYER_TYPES))
    if unknown:
        raise UsageError(f"--ablate {','.join(unknown)}: only {', '.join(ABLATABLE_LAYER_TYPES)} "
                         "can be replaced by identity without changing tensor shapes")
    return ablate_types


def profile_entries(ids: list[str], submissions_dir: Path, *, device: str, precision: str | None,
                    batch_size: int, ablate: str, profiled_batches: int, force: bool,
                    weights_mode: str, weights_dir: Path | None, progress: Echo,
                    result: Echo) -> None:
    """Profile each entry and write its profile record (kept ones unless ``force``).

    Args:
        progress: Receives progress and failure lines (the CLI prints them to stderr).
        result: Receives one line per written profile (the CLI prints them to stdout).

    Raises:
        UsageError: a bad ``ablate`` list.
        LeaderboardError: some entries failed (after all were tried), listing each.
    """
    from leaderboard.analysis_records import profile_path, write_analysis_record
    from leaderboard.measure.profile import profile_entry
    from leaderboard.measure.runner import metered

    ablate_types = parse_ablate(ablate)
    with metered(device) as session:
        def profile_one(entry_id: str, submission: Submission) -> Path | None:
            path = profile_path(submissions_dir, entry_id, session.hardware)
            if path.is_file() and not force:
                progress(f"{entry_id}: kept {path} (--force to profile again)")
                return None
            record = profile_entry(
                submission, device=device, precision=precision, batch_size=batch_size,
                ablate=ablate_types, profiled_batches=profiled_batches, meter=session.meter,
                weights_mode=weights_mode,
                weights_path=weights_path_for(weights_mode, weights_dir, entry_id))
            written = write_analysis_record(submissions_dir, record)
            top = sorted(record.shares, key=lambda s: -s.share)[:3]
            shares = ", ".join(f"{s.layer_type} {s.share:.0%}" for s in top)
            checks = "; ".join(f"{a.layer_type}: predicted {a.predicted_saving_j * 1e3:.3f} mJ, "
                               f"measured {a.measured_saving_j * 1e3:.3f} mJ" for a in record.ablations)
            result(f"{entry_id}: {record.status}; {shares}" + (f"; {checks}" if checks else "")
                   + f" -> {written}")
            return written

        _, failures = each_entry(ids, submissions_dir, profile_one, progress)
    if failures:
        raise LeaderboardError(f"{len(failures)} of {len(ids)} entr(ies) failed:\n"
                               + "\n".join(f"{i}: {why}" for i, why in failures.items()))


def sweep_entries(ids: list[str], submissions_dir: Path, *, device: str, variants: str | None,
                  imagenet_root: Path | None, per_class: int, force: bool, weights_mode: str,
                  weights_dir: Path | None, progress: Echo, result: Echo) -> None:
    """Measure each entry under each sweep variant, writing each record as it is measured.

    Args:
        variants: Comma-separated variant slugs, or None for all.
        imagenet_root: Also measure top-1 per precision on this ImageNet val folder.
        progress: Receives progress and failure lines (the CLI prints them to stderr).
        result: Receives the summary line (entries x variants, failures).

    Raises:
        UsageError: bad ``variants``, or ImageNet without pretrained weights.
        LeaderboardError: some variants failed (after all were tried).
    """
    from leaderboard.measure.runner import metered
    from leaderboard.measure.sweep import AccuracyCheck, parse_variants, sweep_entry

    try:
        chosen = parse_variants(variants)
    except ValueError as exc:
        raise UsageError(f"--variants: {exc}") from exc
    accuracy = None
    if imagenet_root is not None:
        if weights_mode != "pretrained":
            raise UsageError("--imagenet needs --weights-mode pretrained: random weights have no accuracy")
        from leaderboard.measure.imagenet import fingerprint, load_dataset, per_class_subset

        samples = per_class_subset(load_dataset(imagenet_root).samples, per_class)
        accuracy = AccuracyCheck(samples, fingerprint(samples))
    with metered(device) as session:
        def sweep_one(entry_id: str, submission: Submission) -> int:
            points = sweep_entry(
                submission, submissions_dir, device=device, variants=chosen, meter=session.meter,
                force=force, accuracy=accuracy, weights_mode=weights_mode,
                weights_path=weights_path_for(weights_mode, weights_dir, entry_id),
                progress=progress)
            return sum(1 for p in points if p.record.status in FAILED_STATUSES)

        failed_variants, failed_entries = each_entry(ids, submissions_dir, sweep_one, progress)
    failed = sum(failed_variants.values()) + len(chosen) * len(failed_entries)
    result(f"{len(ids)} entr(ies) x {len(chosen)} variant(s); {failed} failed")
    if failed:
        raise LeaderboardError(f"{failed} variant(s) failed; their records say why")
