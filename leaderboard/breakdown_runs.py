"""Profile and sweep many entries under one meter session, through the one task loop.

The `profile` and `sweep` commands call these. Their entries run through
:func:`leaderboard.measure.task_loop.run_tasks`, the loop `measure` uses: an entry whose records
are all kept is resumed without building its model, no entry starts past ``--time-budget``,
each line ends with an ETA, one entry's failure is reported and the run goes on, and SIGTERM
stops the run with the records written so far intact (each is written atomically). The meter
opens before any model is built, so a machine without one fails at once (exit 3) instead of
after the first model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.measure.task_loop import Task, TaskResult, TaskSummary, run_tasks
from leaderboard.vocabulary import EXIT_TERMINATED, FAILED_STATUSES

if TYPE_CHECKING:
    from leaderboard.analysis_records import Variant
    from leaderboard.measure.runner import MeterSession
    from leaderboard.measure.sweep import AccuracyCheck
    from leaderboard.submission import Submission

Echo = Callable[[str], None]


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


class RunTerminated(LeaderboardError):
    """SIGTERM stopped a profile or sweep run (records written so far are complete)."""

    exit_code = EXIT_TERMINATED


class _EntryStep:
    """The shared half of a profile or sweep task: one entry, run in this process.

    Implements :class:`~leaderboard.measure.task_loop.TaskStep` but for :meth:`kept` and
    :meth:`work`, which the two kinds of run define.
    """

    def __init__(self, submissions_dir: Path, session: MeterSession, *, force: bool,
                 weights_mode: str, weights_dir: Path | None) -> None:
        self.submissions_dir = submissions_dir
        self.session = session
        self.force = force
        self.weights_mode = weights_mode
        self.weights_dir = weights_dir

    def start(self) -> str | None:
        return self.session.hardware  # the meter is already open (exit 3 before any model)

    def run(self, task: Task) -> TaskResult:
        from leaderboard.submission import load_valid_submission

        began = time.perf_counter()
        submission = load_valid_submission(self.submissions_dir, task[0])
        status, energy_j, path, message = self.work(
            submission, weights_path_for(self.weights_mode, self.weights_dir, task[0]))
        return TaskResult(*task, status, wall_s=time.perf_counter() - began, energy_j=energy_j,
                          record_path=str(path), message=message)

    def work(self, submission: Submission, weights_path: Path | None
             ) -> tuple[str, float | None, Path, str]:
        """Measure one entry and write its record(s): (status, J/image, record, message)."""
        raise NotImplementedError

    def failed(self, task: Task, error: Exception, wall_s: float) -> TaskResult:
        return TaskResult(*task, "error", wall_s=wall_s, message=f"{type(error).__name__}: {error}")

    def close(self, graceful: bool) -> None:
        """Nothing to release: the caller closes the meter session."""


class _ProfileStep(_EntryStep):
    """A profile task: measure, attribute and ablate one entry into its profile record."""

    def __init__(self, submissions_dir: Path, session: MeterSession, *, device: str,
                 precision: str | None, batch_size: int, ablate: tuple[str, ...],
                 profiled_batches: int, result: Echo, **common: Any) -> None:
        super().__init__(submissions_dir, session, **common)
        self.device, self.precision, self.batch_size = device, precision, batch_size
        self.ablate, self.profiled_batches, self.result = ablate, profiled_batches, result

    def kept(self, task: Task) -> TaskResult | None:
        from leaderboard.analysis_records import ProfileRecord, profile_path, read_analysis_record

        path = profile_path(self.submissions_dir, task[0], self.session.hardware)
        if self.force or not path.is_file():
            return None
        try:
            kept = read_analysis_record(path)
        except ValueError:
            return None  # unreadable: profile again and replace it
        if not isinstance(kept, ProfileRecord):
            return None
        # Any readable profile is kept, a refused one too (it says why; --force redoes it): a
        # profile costs several measurements, and its status on a busy machine is not a fault.
        return TaskResult(*task, kept.status, resumed=True, record_path=str(path),
                          energy_j=kept.energy.gross_j_per_image if kept.energy else None)

    def work(self, submission: Submission, weights_path: Path | None
             ) -> tuple[str, float | None, Path, str]:
        from leaderboard.analysis_records import write_analysis_record
        from leaderboard.measure.profile import profile_entry

        record = profile_entry(
            submission, device=self.device, precision=self.precision,
            batch_size=self.batch_size, ablate=self.ablate, profiled_batches=self.profiled_batches,
            meter=self.session.meter, weights_mode=self.weights_mode,
            weights_path=weights_path)
        written = write_analysis_record(self.submissions_dir, record)
        top = sorted(record.shares, key=lambda s: -s.share)[:3]
        shares = ", ".join(f"{s.layer_type} {s.share:.0%}" for s in top)
        checks = "; ".join(f"{a.layer_type}: predicted {a.predicted_saving_j * 1e3:.3f} mJ, "
                           f"measured {a.measured_saving_j * 1e3:.3f} mJ" for a in record.ablations)
        self.result(f"{submission.id}: {record.status}; {shares}" + (f"; {checks}" if checks else "")
                    + f" -> {written}")
        energy_j = record.energy.gross_j_per_image if record.energy else None
        return record.status, energy_j, written, "; ".join(record.reasons)


class _SweepStep(_EntryStep):
    """A sweep task: every chosen variant of one entry, each written as it is measured."""

    def __init__(self, submissions_dir: Path, session: MeterSession, *, device: str,
                 variants: list[Variant], accuracy: AccuracyCheck | None, progress: Echo,
                 **common: Any) -> None:
        super().__init__(submissions_dir, session, **common)
        self.device, self.variants, self.accuracy, self.progress = device, variants, accuracy, progress
        self.failed_variants = 0

    def kept(self, task: Task) -> TaskResult | None:
        from leaderboard.analysis_records import SweepRecord, read_analysis_record, sweep_path
        from leaderboard.measure.kept_records import kept_record

        if self.force:
            return None
        paths = [sweep_path(self.submissions_dir, task[0], self.session.hardware, v)
                 for v in self.variants]
        if not all(kept_record(p, lambda r: isinstance(r, SweepRecord), read_analysis_record)
                   for p in paths):
            return None  # the entry's model is built and only the missing variants measured
        return TaskResult(*task, "ok", resumed=True, record_path=str(paths[0].parent))

    def work(self, submission: Submission, weights_path: Path | None
             ) -> tuple[str, float | None, Path, str]:
        from leaderboard.analysis_records import sweep_path
        from leaderboard.measure.sweep import sweep_entry

        points = sweep_entry(
            submission, self.submissions_dir, device=self.device, variants=self.variants,
            meter=self.session.meter, force=self.force, accuracy=self.accuracy,
            weights_mode=self.weights_mode, weights_path=weights_path,
            progress=self.progress)
        failed = [p.record.variant.slug for p in points if p.record.status in FAILED_STATUSES]
        self.failed_variants += len(failed)
        folder = sweep_path(self.submissions_dir, submission.id, self.session.hardware,
                            self.variants[0]).parent
        return (("error", None, folder, f"{len(failed)} variant(s) failed: {', '.join(failed)}")
                if failed else ("ok", None, folder, ""))

    def failed(self, task: Task, error: Exception, wall_s: float) -> TaskResult:
        self.failed_variants += len(self.variants)  # none of the entry's variants was measured
        return super().failed(task, error, wall_s)


def _run_entries(ids: list[str], part: str, step: _EntryStep, time_budget_s: float | None,
                 progress: Echo) -> TaskSummary:
    """Each entry through the one task loop; SIGTERM ends the run with exit 143."""
    summary = TaskSummary(planned=len(ids))
    run_tasks([(entry_id, part) for entry_id in ids], step, summary, time_budget_s=time_budget_s,
              clock=time.perf_counter, say=progress)
    if summary.terminated:
        raise RunTerminated(f"{part} terminated (SIGTERM) after {len(summary.results)} of "
                            f"{summary.planned} entr(ies); {summary.not_started} not started")
    return summary


def profile_entries(ids: list[str], submissions_dir: Path, *, device: str, precision: str | None,
                    batch_size: int, ablate: str, profiled_batches: int, force: bool,
                    weights_mode: str, weights_dir: Path | None, progress: Echo,
                    result: Echo, time_budget_s: float | None = None) -> None:
    """Profile each entry and write its profile record (kept ok/unstable ones unless ``force``).

    Args:
        progress: Receives the loop's task lines (ETA, failures) (the CLI prints them to stderr).
        result: Receives one line per written profile (the CLI prints them to stdout).
        time_budget_s: Start no entry once elapsed time plus the median entry time would exceed it.

    Raises:
        UsageError: a bad ``ablate`` list.
        LeaderboardError: some entries failed (after all were tried), listing each.
        RunTerminated: SIGTERM arrived.
    """
    from leaderboard.measure.runner import metered

    ablate_types = parse_ablate(ablate)
    with metered(device) as session:
        step = _ProfileStep(submissions_dir, session, device=device, precision=precision,
                            batch_size=batch_size, ablate=ablate_types,
                            profiled_batches=profiled_batches, result=result, force=force,
                            weights_mode=weights_mode, weights_dir=weights_dir)
        summary = _run_entries(ids, "profile", step, time_budget_s, progress)
    failures = summary.errors
    if failures:
        raise LeaderboardError(f"{len(failures)} of {len(ids)} entr(ies) failed:\n"
                               + "\n".join(f"{r.entry_id}: {r.message}" for r in failures))


def sweep_entries(ids: list[str], submissions_dir: Path, *, device: str, variants: str | None,
                  imagenet_root: Path | None, per_class: int, force: bool, weights_mode: str,
                  weights_dir: Path | None, progress: Echo, result: Echo,
                  time_budget_s: float | None = None) -> None:
    """Measure each entry under each sweep variant, writing each record as it is measured.

    Args:
        variants: Comma-separated variant slugs, or None for all.
        imagenet_root: Also measure top-1 per precision on this ImageNet val folder.
        progress: Receives the loop's task lines and one line per variant (stderr in the CLI).
        result: Receives the summary line (entries x variants, failures).
        time_budget_s: Start no entry once elapsed time plus the median entry time would exceed it.

    Raises:
        UsageError: bad ``variants``, or ImageNet without pretrained weights.
        LeaderboardError: some variants failed (after all were tried).
        RunTerminated: SIGTERM arrived.
    """
    from leaderboard.measure.runner import metered
    from leaderboard.measure.sweep import AccuracyCheck, parse_variants

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
        step = _SweepStep(submissions_dir, session, device=device, variants=chosen,
                          accuracy=accuracy, progress=progress, force=force,
                          weights_mode=weights_mode, weights_dir=weights_dir)
        summary = _run_entries(ids, "sweep", step, time_budget_s, progress)
    result(f"{len(ids)} entr(ies) x {len(chosen)} variant(s); {step.failed_variants} failed"
           + (f"; {summary.not_started} entr(ies) not started (time budget)"
              if summary.not_started else ""))
    if step.failed_variants:
        raise LeaderboardError(f"{step.failed_variants} variant(s) failed; their records say why")
