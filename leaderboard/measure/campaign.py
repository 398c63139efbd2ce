"""Sweeps over many models: workers, resume, time budget, error records, SIGTERM.

Protocol v1: each (entry, scenario) runs in its own ``python -m leaderboard.measure.worker``
process; protocol v2 runs them through one long-lived worker (:mod:`.campaign_v2`). Either way a
crash, an out-of-memory kill or a segfault in one model costs that model only: the campaign
writes an error record for it and goes on. One file per record keeps the results of many
shards (a GitHub Actions matrix, a SLURM job array) conflict-free to merge.

Resume and error records need the board's hardware slug before any model runs. The campaign
asks the worker once (``--probe``: open the meter, name the GPU, no model loaded) unless the
caller passes ``hardware``. That probe is also the first worker, so a machine without a usable
meter stops the sweep at once instead of failing 1,500 models one by one. (v2's worker says the
same in its ``ready`` line.) Workers never outlive the campaign (:mod:`.lifetime`). Which entries
and in which order is :mod:`.selection`'s job.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.measure.lifetime import Terminated, raise_on_sigterm, restore_sigterm, worker_environment
from leaderboard.measure.selection import (  # noqa: F401 - re-exported for callers
    format_duration,
    list_entries,
    order_entries,
    parse_duration_s,
    parse_shard,
    select_entries,
    shard,
)
from leaderboard.records import (
    MeasuredWeights,
    MeasurementRecord,
    Provenance,
    read_record,
    record_path,
    write_record,
)
from leaderboard.vocabulary import (
    EXIT_NO_METER,
    HEADLINE_PRECISION,
    HEADLINE_SCENARIO,
    PROTOCOL_VERSION,
    PROTOCOL_VERSION_V2,
    PROTOCOL_VERSIONS,
    SCENARIO_BATCH_SIZE,
    SCENARIOS,
    SCORED_STATUSES,
    STATUSES,
)

WEIGHTS_MODES = ("random-init", "pretrained")
STDERR_TAIL_LINES = 15
KILL_GRACE_S = 5.0


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class TaskResult:
    """The outcome of one (entry, scenario) of a campaign.

    Attributes:
        status: The record's status (ok, unstable, refused, error).
        skipped: The worker found an unchanged entry already measured on this hardware.
        resumed: ``--resume`` found a kept record; no worker was started.
        wall_s: Seconds the worker ran (0 for resumed tasks).
        energy_j: Gross J/image of the record, when it has energy.
        record_path: The record file, when one exists.
        message: Why it failed, for errors.
    """

    entry_id: str
    scenario: str
    status: str
    skipped: bool = False
    resumed: bool = False
    wall_s: float = 0.0
    energy_j: float | None = None
    record_path: str | None = None
    message: str = ""


@dataclass
class CampaignSummary:
    """What a campaign did.

    Attributes:
        planned: Tasks (entries x scenarios) the campaign was given.
        results: One result per task that was resumed or run, in order.
        not_started: Tasks left when the time budget ran out.
        stopped: Why the campaign stopped early (no usable meter), else ``None``.
        hardware: The board's hardware slug.
        wall_s: Wall time of the whole campaign, s.
    """

    planned: int
    results: list[TaskResult] = field(default_factory=list)
    not_started: int = 0
    stopped: str | None = None
    hardware: str | None = None
    wall_s: float = 0.0
    terminated: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """Freshly measured tasks (not skipped, not resumed) by record status."""
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.results:
            if not (result.skipped or result.resumed):
                counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    @property
    def skipped(self) -> int:
        """Tasks the worker skipped: unchanged entry already measured on this hardware."""
        return sum(r.skipped for r in self.results)

    @property
    def resumed(self) -> int:
        """Tasks ``--resume`` skipped without starting a worker."""
        return sum(r.resumed for r in self.results)

    @property
    def errors(self) -> list[TaskResult]:
        """Tasks that ended in an error."""
        return [r for r in self.results if r.status == "error" and not (r.skipped or r.resumed)]

    @property
    def spawned(self) -> int:
        """Tasks that ran a worker."""
        return sum(not r.resumed for r in self.results)

    @property
    def models_per_hour(self) -> float:
        """Workers run per hour of campaign wall time."""
        return self.spawned * 3600.0 / self.wall_s if self.wall_s > 0 else 0.0

    def format_summary(self) -> str:
        """A small aligned text table."""
        rows: list[tuple[str, str]] = [(status, str(n)) for status, n in self.counts.items()]
        rows += [
            ("skipped (unchanged)", str(self.skipped)),
            ("resumed (kept record)", str(self.resumed)),
            ("not started (budget)", str(self.not_started)),
            ("planned", str(self.planned)),
            ("hardware", self.hardware or "unknown"),
            ("wall time", format_duration(self.wall_s)),
            ("models per hour", f"{self.models_per_hour:.1f}"),
        ]
        width = max(len(name) for name, _ in rows)
        value_width = max(len(value) for _, value in rows)
        lines = [f"{name:<{width}}  {value:>{value_width}}" for name, value in rows]
        if self.stopped:
            lines.append(f"stopped early: {self.stopped}")
        for result in self.errors:
            first = result.message.splitlines()[0] if result.message else "error"
            lines.append(f"error: {result.entry_id} {result.scenario}: {first}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Running workers


@dataclass(frozen=True)
class _WorkerRun:
    returncode: int | None
    """``None`` when the worker was killed at its timeout."""
    stdout: str
    stderr: str
    wall_s: float

    def result_line(self) -> dict[str, Any] | None:
        """The last JSON object the worker printed (libraries may print other lines first)."""
        for line in reversed(self.stdout.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, dict):
                    return value
        return None

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> list[str]:
        """The last non-empty lines of stderr."""
        return [line for line in self.stderr.splitlines() if line.strip()][-lines:]


def _run_worker(command: list[str], timeout_s: float, log_path: Path | None) -> _WorkerRun:
    """Run one worker in its own session; on timeout kill its whole process group."""
    start = time.perf_counter()
    # Its own process group puts the worker and anything it forks in one group that can be
    # killed as a whole, and keeps a terminal's Ctrl-C from reaching it (the campaign kills it
    # explicitly below, SIGTERM included). Not a new session: a machine that kills a finished
    # command's processes must still find a worker that escaped all of that.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", process_group=0, env=worker_environment())
    returncode: int | None
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
        returncode = proc.returncode
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = _drain(proc)
        returncode = None
    except BaseException:
        _kill_group(proc)
        _drain(proc)
        raise
    run = _WorkerRun(returncode, stdout or "", stderr or "", time.perf_counter() - start)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(f"$ {' '.join(command)}\n# exit {returncode}, {run.wall_s:.1f} s\n"
                            f"--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}", "utf-8")
    return run


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _drain(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        # A grandchild that left the process group still holds the pipes; give up on them.
        proc.kill()
        proc.wait()
        return "", ""


def default_worker_cmd() -> list[str]:
    """``python -m leaderboard.measure.worker`` with this interpreter."""
    # -P: do not put the current folder on sys.path, so a `leaderboard/` folder in the
    # working directory (a checked-out pull request) can never shadow the installed validator.
    return [sys.executable, "-P", "-m", "leaderboard.measure.worker"]


@dataclass(frozen=True)
class HardwareInfo:
    """What the probe learned about the device."""

    hardware: str
    gpu_name: str


class MeterUnavailableStop(LeaderboardError):
    """Internal: a worker said no meter works; carries its message."""


def probe_hardware(worker_cmd: list[str], device: str, timeout_s: float = 300.0) -> HardwareInfo:
    """Ask the worker for the hardware slug of ``device`` (opens the meter, loads no model).

    Raises:
        MeterUnavailableStop: No usable meter (worker exit 3), with the worker's message.
        LeaderboardError: The probe failed otherwise.
    """
    run = _run_worker([*worker_cmd, "--probe", "--device", device], timeout_s, None)
    if run.returncode == EXIT_NO_METER:
        raise MeterUnavailableStop(_meter_message(run))
    line = run.result_line()
    if run.returncode != 0 or not line or not isinstance(line.get("hardware"), str):
        tail = "\n".join(run.stderr_tail()) or "(no output)"
        raise LeaderboardError(f"could not identify the hardware of {device} "
                               f"({_exit_text(run)}):\n{tail}")
    return HardwareInfo(line["hardware"], str(line.get("gpu_name") or "unknown"))


def _meter_message(run: _WorkerRun) -> str:
    line = run.result_line()
    if line and line.get("error"):
        return str(line["error"])
    tail = run.stderr_tail(3)
    return tail[-1].removeprefix("error: ") if tail else "no usable energy meter"


def _exit_text(run: _WorkerRun) -> str:
    if run.returncode is None:
        return "timed out"
    if run.returncode < 0:
        try:
            return f"killed by {signal.Signals(-run.returncode).name}"
        except ValueError:
            return f"killed by signal {-run.returncode}"
    return f"exit code {run.returncode}"


def _kept_record(path: Path) -> MeasurementRecord | None:
    """The record at ``path`` when it is a real measurement worth keeping."""
    if not path.is_file():
        return None
    try:
        record = read_record(path)
    except ValueError:
        return None
    # A scored record is a result worth keeping: resume skips it and an error in a later run
    # does not overwrite it.
    if record.status in SCORED_STATUSES and not record.synthetic:
        return record
    return None


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
            ``python -m leaderboard.measure.worker`` (v1) or ``...lease_worker`` (v2).
        timeout_per_model_s: A model running longer is killed and recorded as an error.
        progress: Print one line per task (and an ETA) to ``stream``.
        hardware: The board's hardware slug; default: ask the worker.
        weights_dir: Pretrained mode: the weights of entry ``ID`` are ``weights_dir/ID.safetensors``
            (the validator does not fetch weights itself).
        log_dir: Keep each worker's output here (v1: ``<id>--<scenario>.log``, v2:
            ``worker-<n>.log``).
        stream: Where progress goes (default stderr).
        clock: Monotonic clock, s.
        protocol: ``1`` (a fresh worker per model) or ``2`` (one long-lived worker that is
            restarted after a crash; see :mod:`leaderboard.measure.campaign_v2`).
        probe_file: Protocol v2: the first-contact probe's JSON, for its parameters.
        meter: GPU meter kind (default the energy counter).
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
    tasks = [(entry_id, scenario) for entry_id in ids for scenario in opts.scenarios]
    summary = CampaignSummary(planned=len(tasks), hardware=opts.hardware)
    start = opts.clock()
    if not tasks:
        return summary
    previous = raise_on_sigterm()
    try:
        if opts.protocol == PROTOCOL_VERSION_V2:
            from leaderboard.measure.campaign_v2 import V2Campaign

            V2Campaign(tasks, submissions_dir, summary, opts).run(start)
        else:
            _run_v1(tasks, submissions_dir, summary, opts, start)
    except Terminated:
        summary.terminated = True
        summary.not_started = summary.planned - len(summary.results)
        opts.say("terminated (SIGTERM): the running worker was killed; no record is pending")
    finally:
        restore_sigterm(previous)
    summary.wall_s = opts.clock() - start
    if summary.not_started and not summary.stopped and not summary.terminated:
        opts.say(f"time budget {format_duration(opts.time_budget_s or 0)} reached: "
                 f"{summary.not_started} task(s) not started")
    return summary


def _run_v1(tasks: list[tuple[str, str]], submissions_dir: Path, summary: CampaignSummary,
            opts: CampaignOptions, start: float) -> None:
    """Protocol v1's loop: one worker process per task."""
    command = list(opts.worker_cmd) if opts.worker_cmd else default_worker_cmd()
    gpu_name = "unknown"
    if summary.hardware is None:
        try:
            info = probe_hardware(command, opts.device)
        except MeterUnavailableStop as exc:
            summary.stopped = str(exc)
            summary.not_started = len(tasks)
            return
        summary.hardware, gpu_name = info.hardware, info.gpu_name
    board_hw = summary.hardware or "unknown"  # set by the caller or the probe above

    durations_s: list[float] = []
    total = len(tasks)
    for number, (entry_id, scenario) in enumerate(tasks, 1):
        prefix = f"[{number}/{total}] {entry_id} {scenario}"
        path = record_path(submissions_dir, entry_id, board_hw, scenario)
        if opts.resume:
            kept = _kept_record(path)
            if kept is not None:
                summary.results.append(TaskResult(
                    entry_id, scenario, kept.status, resumed=True, record_path=str(path),
                    energy_j=kept.energy.gross_j_per_image if kept.energy else None))
                opts.say(f"{prefix} resumed ({kept.status} record kept)")
                continue
        if opts.time_budget_s is not None and durations_s:
            elapsed_s = opts.clock() - start
            if elapsed_s + statistics.median(durations_s) > opts.time_budget_s:
                summary.not_started += 1
                continue
        args = [*command, "--entry", entry_id, "--scenario", scenario, "--device", opts.device,
                "--submissions", str(submissions_dir), "--weights-mode", opts.weights_mode]
        if opts.weights_mode == "pretrained" and opts.weights_dir is not None:
            args += ["--weights-path", str(opts.weights_dir / f"{entry_id}.safetensors")]
        if opts.force:
            args.append("--force")
        if opts.meter:
            args += ["--meter", opts.meter]
        log_path = opts.log_dir / f"{entry_id}--{scenario}.log" if opts.log_dir else None
        run = _run_worker(args, opts.timeout_per_model_s, log_path)
        if run.returncode == EXIT_NO_METER:
            summary.stopped = _meter_message(run)
            summary.not_started += total - number + 1
            opts.say(f"{prefix} stopped: {summary.stopped}")
            break
        durations_s.append(run.wall_s)
        result = _task_result(run, entry_id, scenario, path, board_hw, opts.weights_mode, gpu_name,
                              submissions_dir, opts.timeout_per_model_s)
        summary.results.append(result)
        left = total - number
        eta = f"  ETA {format_duration(statistics.median(durations_s) * left)}" if left else ""
        opts.say(f"{prefix} {_describe(result, format_duration(result.wall_s))}{eta}")


def _describe(result: TaskResult, took: str) -> str:
    """``ok 0.0123 J/img 9.8 s`` or ``error after 2.0 s: why``."""
    if result.status == "error" and not result.skipped:
        first = result.message.splitlines()[0] if result.message else "no message"
        return f"error after {took}: {first}"
    text = result.status
    if result.energy_j is not None:
        text += f" {result.energy_j:.4g} J/img"
    if result.skipped:
        text = f"skipped (unchanged, {text})"
    return f"{text} {took}"


def _task_result(run: _WorkerRun, entry_id: str, scenario: str, path: Path, hardware: str,
                 weights_mode: str, gpu_name: str, submissions_dir: Path,
                 timeout_s: float) -> TaskResult:
    """Turn a finished worker into a result; write an error record when it failed."""
    line = run.result_line()
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
        headline = f"worker failed ({_exit_text(run)})"
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
