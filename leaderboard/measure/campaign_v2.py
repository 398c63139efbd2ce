"""Protocol v2's campaign loop: one long-lived worker measures model after model.

The worker (:mod:`leaderboard.measure.lease_worker`) pays torch's import, the CUDA context and
idle once; a model costs its build, warm-up and windows. When the worker crashes, times out or
reports a CUDA error, that task gets an error record and the next task starts a fresh worker.
Resume, the time budget and error records work as in protocol v1
(:func:`leaderboard.measure.campaign.run_campaign`).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from leaderboard.errors import LeaderboardError
from leaderboard.measure.campaign import (
    CampaignOptions,
    CampaignSummary,
    MeterUnavailableStop,
    TaskResult,
    _describe,
    _kept_record,
    _task_result,
    _WorkerRun,
    format_duration,
)
from leaderboard.measure.worker_client import LongLivedWorker, WorkerDied
from leaderboard.records import record_path
from leaderboard.vocabulary import STATUSES

STARTUP_TIMEOUT_S = 300.0
"""torch's import, the CUDA context and idle: seconds on a GPU machine, minutes on a slow disk."""


def default_lease_worker_cmd() -> list[str]:
    """``python -P -m leaderboard.measure.lease_worker`` with this interpreter."""
    return [sys.executable, "-P", "-m", "leaderboard.measure.lease_worker"]


class V2Campaign:
    """The tasks of one campaign, run through a long-lived worker."""

    def __init__(self, tasks: list[tuple[str, str]], submissions_dir: Path,
                 summary: CampaignSummary, opts: CampaignOptions):
        self.tasks, self.submissions_dir, self.summary, self.opts = tasks, submissions_dir, summary, opts
        self.say, self.clock = opts.say, opts.clock
        command = list(opts.worker_cmd) if opts.worker_cmd else default_lease_worker_cmd()
        command += ["--device", opts.device, "--submissions", str(submissions_dir),
                    "--weights-mode", opts.weights_mode]
        if opts.probe_file is not None:
            command += ["--probe-file", str(opts.probe_file)]
        if opts.meter:
            command += ["--meter", opts.meter]
        self.command = command
        self.worker: LongLivedWorker | None = None
        self.workers_started = 0
        self.gpu_name = "unknown"

    def _start_worker(self) -> LongLivedWorker:
        """A fresh worker, once it says it is ready.

        Raises:
            MeterUnavailableStop: It found no usable meter.
            LeaderboardError: It did not start.
        """
        self.workers_started += 1
        log = self.opts.log_dir / f"worker-{self.workers_started}.log" if self.opts.log_dir else None
        worker = LongLivedWorker(self.command, log)
        try:
            ready = worker.start(STARTUP_TIMEOUT_S)
        except WorkerDied as exc:
            tail = "\n".join(worker.stderr_tail()) or "(no output)"
            worker.close()
            raise LeaderboardError(f"the measuring worker did not start ({exc}):\n{tail}") from exc
        if not ready.get("ready"):
            worker.close()
            if ready.get("status") == "meter-unavailable":
                raise MeterUnavailableStop(str(ready.get("error") or "no usable energy meter"))
            raise LeaderboardError(f"the measuring worker did not start: {ready}")
        if self.summary.hardware is None:
            self.summary.hardware = str(ready["hardware"])
        self.gpu_name = str(ready.get("gpu_name") or "unknown")
        self.say(f"worker {self.workers_started} ready on {self.gpu_name}: idle "
                 f"{float(ready.get('idle_power_w') or 0):.1f} W, {ready.get('window_mode')} "
                 f"(parameters from {ready.get('parameters_from')})")
        return worker

    def _task(self, entry_id: str, scenario: str) -> dict[str, Any]:
        task: dict[str, Any] = {"entry_id": entry_id, "scenario": scenario, "force": self.opts.force}
        if self.opts.weights_mode == "pretrained" and self.opts.weights_dir is not None:
            task["weights_path"] = str(self.opts.weights_dir / f"{entry_id}.safetensors")
        return task

    def _measure(self, entry_id: str, scenario: str) -> tuple[_WorkerRun, dict[str, Any] | None]:
        """Send one task; the outcome in the shape protocol v1's result handling reads."""
        assert self.worker is not None
        started = self.clock()
        try:
            line = self.worker.request(self._task(entry_id, scenario), self.opts.timeout_per_model_s)
        except WorkerDied as exc:
            tail = "\n".join(self.worker.stderr_tail())
            self._drop_worker()
            return _WorkerRun(exc.returncode, "", tail, self.clock() - started), None
        wall_s = self.clock() - started
        failed = line.get("status") not in STATUSES or line.get("status") == "error"
        tail = "\n".join(self.worker.stderr_tail()) if failed else ""
        if line.get("fatal"):  # a CUDA error: this worker's context is gone
            self._drop_worker()
        return _WorkerRun(1 if failed else 0, json.dumps(line), tail, wall_s), line

    def _drop_worker(self, graceful: bool = True) -> None:
        if self.worker is not None:
            self.worker.close() if graceful else self.worker.close(grace_s=0)
            self.worker = None

    def run(self, start: float) -> None:
        """Measure every task within the budget; kills the worker however this ends."""
        try:
            self._run(start)
        except BaseException:
            self._drop_worker(graceful=False)  # SIGTERM mid-model: no record may land later
            raise
        finally:
            self._drop_worker()

    def _run(self, start: float) -> None:
        summary, total = self.summary, len(self.tasks)
        try:
            self.worker = self._start_worker()
        except MeterUnavailableStop as exc:
            summary.stopped, summary.not_started = str(exc), total
            return
        board_hw = summary.hardware or "unknown"
        durations_s: list[float] = []
        for number, (entry_id, scenario) in enumerate(self.tasks, 1):
            prefix = f"[{number}/{total}] {entry_id} {scenario}"
            path = record_path(self.submissions_dir, entry_id, board_hw, scenario)
            kept = _kept_record(path) if self.opts.resume else None
            if kept is not None:
                summary.results.append(TaskResult(
                    entry_id, scenario, kept.status, resumed=True, record_path=str(path),
                    energy_j=kept.energy.gross_j_per_image if kept.energy else None))
                self.say(f"{prefix} resumed ({kept.status} record kept)")
                continue
            budget_s = self.opts.time_budget_s
            if budget_s is not None and durations_s:
                if self.clock() - start + statistics.median(durations_s) > budget_s:
                    summary.not_started += 1
                    continue
            if self.worker is None:
                try:
                    self.worker = self._start_worker()
                except (MeterUnavailableStop, LeaderboardError) as exc:
                    summary.stopped = str(exc).splitlines()[0]
                    summary.not_started += total - number + 1
                    self.say(f"{prefix} stopped: {summary.stopped}")
                    return
            run, line = self._measure(entry_id, scenario)
            if line is not None and line.get("status") == "meter-unavailable":
                summary.stopped = str(line.get("error") or "no usable energy meter")
                summary.not_started += total - number + 1
                self.say(f"{prefix} stopped: {summary.stopped}")
                return
            durations_s.append(run.wall_s)
            result = _task_result(run, entry_id, scenario, path, board_hw, self.opts.weights_mode,
                                  self.gpu_name, self.submissions_dir, self.opts.timeout_per_model_s)
            summary.results.append(result)
            left = total - number
            eta = f"  ETA {format_duration(statistics.median(durations_s) * left)}" if left else ""
            self.say(f"{prefix} {_describe(result, format_duration(result.wall_s))}{eta}")
