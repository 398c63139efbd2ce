"""Sweeps over many models into measurement records, through the one task loop (:mod:`.task_loop`).

Both protocols run through this loop and one worker (:mod:`.worker`, driven by
:mod:`.campaign_workers`): v2 keeps it for the campaign, v1 gives each task a fresh one. Either
way a crash, an out-of-memory kill or a segfault in one model costs that model only: the
campaign writes an error record for it and goes on. One file per record keeps the results of
many shards (a GitHub Actions matrix, a SLURM job array) conflict-free to merge.

Resume and error records need the board's hardware slug before any model runs: the first
worker names it in its ``ready`` line, unless the caller passes ``hardware``. A machine without
a usable meter stops the sweep at once instead of failing 1,500 models one by one. Workers never
outlive the campaign (:mod:`.lifetime`). Which entries and in which order is
:mod:`.selection`'s job.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.measure.campaign_workers import (
    MeterUnavailableStop,
    WorkerRun,
    Workers,
    WorkerSettings,
)
from leaderboard.measure.kept_records import kept_record
from leaderboard.measure.selection import (  # noqa: F401 - re-exported for callers
    format_duration,
    list_entries,
    order_entries,
    parse_duration_s,
    parse_shard,
    plan_references,
    select_entries,
    shard,
)
from leaderboard.measure.task_loop import StopTasks, Task, TaskResult, TaskSummary, run_tasks
from leaderboard.records import (
    MeasuredWeights,
    MeasurementRecord,
    Provenance,
    read_record,
    record_path,
    write_record,
)
from leaderboard.vocabulary import (
    HEADLINE_PRECISION,
    HEADLINE_SCENARIO,
    PROTOCOL_VERSION,
    PROTOCOL_VERSION_V2,
    PROTOCOL_VERSIONS,
    SCENARIO_BATCH_SIZE,
    SCENARIOS,
    STATUSES,
)

WEIGHTS_MODES = ("random-init", "pretrained")
CampaignSummary = TaskSummary  # what a campaign did: the loop's summary, hardware from the worker


def _kept_record(path: Path) -> MeasurementRecord | None:
    """A real (not synthetic) scored record at ``path``: resume skips its task, and an error in
    a later run does not overwrite it."""
    return kept_record(path, lambda record: not record.synthetic, read_record)


def error_record(entry_id: str, scenario: str, hardware: str, *, weights_mode: str,
                 reasons: list[str], gpu_name: str = "unknown") -> MeasurementRecord:
    """A schema-valid record saying a worker failed, with why (the last lines of its stderr)."""
    from leaderboard import __version__

    return MeasurementRecord(
        entry_id=entry_id, hardware=hardware, scenario=scenario, status="error",
        reasons=reasons or ["the worker failed without output"],
        measured_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        weights=MeasuredWeights(kind=weights_mode), input_shape=[], batch_size=SCENARIO_BATCH_SIZE[scenario],
        precision=HEADLINE_PRECISION,
        provenance=Provenance(gpu_name=gpu_name, validator_version=__version__),
    )


@dataclass(frozen=True)
class CampaignOptions:
    """How a campaign runs (every field but ``protocol`` applies to both protocols).

    Attributes:
        scenarios: Scenarios to measure for each entry.
        device: ``cuda``, ``cuda:N`` or ``cpu``.
        weights_mode: ``random-init`` or ``pretrained``.
        resume: Skip, without starting a worker, tasks whose record on this hardware has
            status ok or unstable (refused and error records are retried).
        force: Measure even unchanged entries the worker would skip.
        time_budget_s: Start no new task once elapsed time plus the median task time would
            exceed this; the rest are counted in ``not_started``.
        worker_cmd: Command prefix of the worker (tests inject a fake); default
            ``python -P -m leaderboard.measure.worker`` (given ``--protocol``).
        timeout_per_model_s: A model running longer is killed and recorded as an error.
        progress: Print one line per task (and an ETA) to ``stream``.
        hardware: The board's hardware slug; default: ask the worker.
        weights_dir: Pretrained mode: the weights of entry ``ID`` are ``weights_dir/ID.safetensors``
            (the validator does not fetch weights itself).
        log_dir: Keep each worker's stderr here as ``worker-<n>.log`` (v1: one per task).
        stream: Where progress goes (default stderr).
        clock: Monotonic clock, s.
        protocol: ``1`` (a fresh worker per model) or ``2`` (one long-lived worker that is
            restarted after a crash; see :mod:`leaderboard.measure.campaign_workers`).
        probe_file: Protocol v2: the first-contact probe's JSON, for its parameters.
        meter: GPU meter kind (default the energy counter).
        reference_s: Length of a reference window measured after the protocol on three entries
            moved to the front (:func:`~leaderboard.measure.selection.plan_references`),
            first scenario only; 0: none. The CLI's default is 20 s.
    """

    scenarios: Sequence[str] = (HEADLINE_SCENARIO,)
    device: str = "cuda"
    weights_mode: str = "random-init"
    resume: bool = False
    force: bool = False
    time_budget_s: float | None = None
    worker_cmd: list[str] | None = None
    timeout_per_model_s: float = 900.0
    progress: bool = True
    hardware: str | None = None
    weights_dir: Path | None = None
    log_dir: Path | None = None
    stream: IO[str] | None = None
    clock: Callable[[], float] = time.perf_counter
    protocol: str = PROTOCOL_VERSION
    probe_file: Path | None = None
    meter: str | None = None
    reference_s: float = 0.0

    def check(self) -> None:
        """Refuse bad options before anything runs.

        Raises:
            UsageError: Unknown scenario, weights mode or protocol; pretrained without weights.
        """
        for scenario in self.scenarios:
            if scenario not in SCENARIOS:
                raise UsageError(f"unknown scenario '{scenario}'; use one of {', '.join(SCENARIOS)}")
        if self.weights_mode not in WEIGHTS_MODES:
            raise UsageError(f"unknown weights mode '{self.weights_mode}'; use "
                             f"{' or '.join(WEIGHTS_MODES)}")
        if self.weights_mode == "pretrained" and self.weights_dir is None:
            # Without it every worker would fail the same way and leave an error record behind.
            raise UsageError("--weights-mode pretrained needs --weights-dir DIR holding "
                             "<id>.safetensors for each entry; or measure energy with random-init "
                             "weights")
        if self.protocol not in PROTOCOL_VERSIONS:
            raise UsageError(f"unknown protocol '{self.protocol}'; use {' or '.join(PROTOCOL_VERSIONS)}")

    def say(self, text: str) -> None:
        """One progress line (when ``progress``)."""
        if self.progress:
            print(text, file=self.stream if self.stream is not None else sys.stderr, flush=True)


def run_campaign(ids: Sequence[str], submissions_dir: Path, options: CampaignOptions | None = None,
                 **fields: Any) -> CampaignSummary:
    """Measure every (entry, scenario): v1 in one worker process each, v2 in one long-lived worker.

    Args:
        ids: Entry ids, in the order to run them.
        submissions_dir: The submissions folder (records are written under it).
        options: How to run; or give its fields as keyword arguments.
        **fields: :class:`CampaignOptions` fields (when ``options`` is not given).

    Returns:
        The summary. ``stopped`` is set when a worker reported that no meter works (exit 3):
        the campaign stops at once and writes no error record for that. ``terminated`` is set
        when SIGTERM arrived: the workers were killed before this returned.

    Raises:
        UsageError: Bad options (see :meth:`CampaignOptions.check`).
    """
    opts = options if options is not None else CampaignOptions(**fields)
    opts.check()
    references: list[str] = []
    if opts.reference_s > 0:
        ids, references = plan_references(submissions_dir, ids)
    tasks = [(entry_id, scenario) for entry_id in ids for scenario in opts.scenarios]
    summary = CampaignSummary(planned=len(tasks), hardware=opts.hardware)
    if not tasks:
        return summary
    step = _RecordStep(submissions_dir, opts, {(entry_id, opts.scenarios[0]) for entry_id in references})
    run_tasks(tasks, step, summary, time_budget_s=opts.time_budget_s, clock=opts.clock, say=opts.say)
    return summary


class _RecordStep:
    """A campaign's task: one (entry, scenario) measured by a worker into a measurement record.

    Implements :class:`~leaderboard.measure.task_loop.TaskStep`.
    """

    def __init__(self, submissions_dir: Path, opts: CampaignOptions, checked: set[Task]) -> None:
        self.submissions_dir = submissions_dir
        self.opts = opts
        self.checked = checked  # tasks that also measure a reference window
        self.workers = Workers(WorkerSettings(
            submissions_dir=submissions_dir, device=opts.device, weights_mode=opts.weights_mode,
            weights_dir=opts.weights_dir, force=opts.force, meter=opts.meter,
            probe_file=opts.probe_file, log_dir=opts.log_dir,
            timeout_per_model_s=opts.timeout_per_model_s, say=opts.say, clock=opts.clock),
            opts.worker_cmd, opts.hardware, "v2" if opts.protocol == PROTOCOL_VERSION_V2 else "v1")

    @property
    def board_hw(self) -> str:
        return self.workers.hardware or "unknown"

    def start(self) -> str | None:
        try:
            self.workers.start()
        except MeterUnavailableStop as exc:
            raise StopTasks(str(exc)) from exc
        return self.workers.hardware

    def _path(self, task: Task) -> Path:
        return record_path(self.submissions_dir, task[0], self.board_hw, task[1])

    def kept(self, task: Task) -> TaskResult | None:
        if not self.opts.resume:
            return None
        path = self._path(task)
        kept = _kept_record(path)
        if kept is None:
            return None
        return TaskResult(*task, kept.status, resumed=True, record_path=str(path),
                          energy_j=kept.energy.gross_j_per_image if kept.energy else None)

    def run(self, task: Task) -> TaskResult:
        entry_id, scenario = task
        try:
            reference_s = self.opts.reference_s if task in self.checked else 0.0
            run, line = self.workers.measure(entry_id, scenario, reference_s)
        except LeaderboardError as exc:  # no meter, or no worker can start: nothing more runs
            raise StopTasks(str(exc)) from exc
        return _task_result(run, line, entry_id, scenario, self._path(task), self.board_hw,
                            self.opts.weights_mode, self.workers.gpu_name, self.submissions_dir,
                            self.opts.timeout_per_model_s)

    def failed(self, task: Task, error: Exception, wall_s: float) -> TaskResult:
        # Only the campaign's own bookkeeping can raise here (the worker's failures are error
        # records already); the record is not written, the message says why.
        return TaskResult(*task, "error", wall_s=wall_s, message=f"{type(error).__name__}: {error}")

    def close(self, graceful: bool) -> None:
        self.workers.close(graceful=graceful)


def _task_result(run: WorkerRun, line: dict[str, Any] | None, entry_id: str, scenario: str,
                 path: Path, hardware: str, weights_mode: str, gpu_name: str,
                 submissions_dir: Path, timeout_s: float) -> TaskResult:
    """Turn a finished task into a result; write an error record when it failed."""
    if (run.returncode == 0 and line is not None and line.get("status") in STATUSES
            and line.get("entry_id") == entry_id and line.get("scenario") == scenario):
        energy = line.get("energy_j")
        return TaskResult(entry_id, scenario, str(line["status"]), skipped=bool(line.get("skipped")),
                          wall_s=run.wall_s,
                          energy_j=float(energy) if isinstance(energy, int | float) else None,
                          record_path=line.get("record_path") or str(path),
                          message="; ".join(line.get("reasons") or []) if line.get("status") == "error"
                          else "")
    if run.returncode is None:
        headline = f"worker timed out after {format_duration(timeout_s)} and was killed"
    elif run.returncode == 0:
        headline = "worker exited 0 without a valid result line"
    else:
        headline = f"worker failed ({run.exit_text()})"
    if line and line.get("error"):
        headline += f": {line['error']}"
    reasons = [headline, *run.stderr_tail()]
    message = "\n".join(reasons)
    if _kept_record(path) is not None:
        # A crash in a re-run must not destroy an earlier good measurement.
        return TaskResult(entry_id, scenario, "error", wall_s=run.wall_s, record_path=str(path),
                          message=headline + " (earlier record kept)")
    record = error_record(entry_id, scenario, hardware, weights_mode=weights_mode,
                          reasons=reasons, gpu_name=gpu_name)
    written = write_record(submissions_dir, record)
    return TaskResult(entry_id, scenario, "error", wall_s=run.wall_s, record_path=str(written),
                      message=message)
