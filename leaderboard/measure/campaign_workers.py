"""The campaign's side of its workers: start one, send it tasks, restart it, kill it.

There is one worker (``python -m leaderboard.measure.worker``) for both protocols. Protocol v2
keeps it for the whole campaign (torch's import, the CUDA context and idle paid once) and starts
a fresh one after a crash or a CUDA error; protocol v1 gives each task a fresh one, so a leak or
a hot device never carries over from one model to the next. The first worker's ``ready`` line
names the hardware, and a worker without a usable meter stops the campaign at once. Every
worker runs in its own process group and dies with the campaign (:mod:`.lifetime`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaderboard.errors import LeaderboardError
from leaderboard.measure.worker_client import LongLivedWorker, WorkerDied, exit_text
from leaderboard.vocabulary import STATUSES

STDERR_TAIL_LINES = 15
STARTUP_TIMEOUT_S = 300.0
"""torch's import, the CUDA context and idle: seconds on a GPU machine, minutes on a slow disk."""


class MeterUnavailableStop(LeaderboardError):
    """A worker said no meter works; carries its message. The campaign stops."""


@dataclass(frozen=True)
class WorkerRun:
    """How one task ended: 0 (a result line), 1 (failed), None (killed at its timeout), or the
    worker's own exit code when it died; the last lines of its stderr; the task's time."""

    returncode: int | None
    stderr: str
    wall_s: float

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> list[str]:
        """The last non-empty lines of stderr."""
        return [line for line in self.stderr.splitlines() if line.strip()][-lines:]

    def exit_text(self) -> str:
        """``exit code 1``, ``killed by SIGABRT`` or ``timed out``."""
        return "timed out" if self.returncode is None else exit_text(self.returncode)


@dataclass(frozen=True)
class WorkerSettings:
    """What every worker of a campaign is told (from the campaign's options)."""

    submissions_dir: Path
    device: str
    weights_mode: str
    weights_dir: Path | None
    force: bool
    meter: str | None
    probe_file: Path | None
    log_dir: Path | None
    timeout_per_model_s: float
    say: Callable[[str], None]
    clock: Callable[[], float]

    def weights_path(self, entry_id: str) -> Path | None:
        """Pretrained mode: ``weights_dir/<id>.safetensors``."""
        if self.weights_mode == "pretrained" and self.weights_dir is not None:
            return self.weights_dir / f"{entry_id}.safetensors"
        return None


def default_worker_cmd() -> list[str]:
    """``python -P -m leaderboard.measure.worker`` with this interpreter."""
    # -P: do not put the current folder on sys.path, so a `leaderboard/` folder in the
    # working directory (a checked-out pull request) can never shadow the installed validator.
    return [sys.executable, "-P", "-m", "leaderboard.measure.worker"]


class Workers:
    """The campaign's worker: task after task (v2), or a fresh one for each task (v1)."""

    def __init__(self, settings: WorkerSettings, command: list[str] | None, hardware: str | None,
                 protocol: str):
        s = self.settings = settings
        self.fresh_per_task = protocol == "v1"
        base = list(command) if command else default_worker_cmd()
        base += ["--protocol", protocol, "--device", s.device, "--submissions",
                 str(s.submissions_dir), "--weights-mode", s.weights_mode]
        if s.probe_file is not None:
            base += ["--probe-file", str(s.probe_file)]
        if s.meter:
            base += ["--meter", s.meter]
        self.command = base
        self.hardware = hardware
        self.gpu_name = "unknown"
        self.worker: LongLivedWorker | None = None
        self.started = 0
        self.idle_power_w: float | None = None
        """The last idle power a result reported: v1's fresh workers cool down to it."""

    def start(self) -> None:
        """Learn the hardware from a first worker (nothing to do when it was given)."""
        if self.hardware is None:
            self._start()

    def _start(self) -> None:
        """A fresh worker, once it says it is ready.

        Raises:
            MeterUnavailableStop: It found no usable meter.
            LeaderboardError: It did not start.
        """
        self.started += 1
        s = self.settings
        log = s.log_dir / f"worker-{self.started}.log" if s.log_dir else None
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
        if self.hardware is None:
            self.hardware = str(ready["hardware"])
        self.gpu_name = str(ready.get("gpu_name") or "unknown")
        if not self.fresh_per_task or self.started == 1:
            s.say(f"worker {self.started} ready on {self.gpu_name}: idle "
                  f"{float(ready.get('idle_power_w') or 0):.1f} W, {ready.get('window_mode')} "
                  f"(parameters from {ready.get('parameters_from')})")
        self.worker = worker

    def measure(self, entry_id: str, scenario: str,
                reference_s: float = 0.0) -> tuple[WorkerRun, dict[str, Any] | None]:
        """Send one task (starting a worker first when the last one died)."""
        if self.worker is None:
            self._start()
        assert self.worker is not None
        s = self.settings
        task: dict[str, Any] = {"entry_id": entry_id, "scenario": scenario, "force": s.force}
        if reference_s > 0:
            task["reference_s"] = reference_s
        if self.fresh_per_task and self.idle_power_w is not None:
            task["idle_power_w"] = self.idle_power_w
        weights_path = s.weights_path(entry_id)
        if weights_path is not None:
            task["weights_path"] = str(weights_path)
        started = s.clock()
        try:
            line = self.worker.request(task, s.timeout_per_model_s)
        except WorkerDied as exc:
            tail = "\n".join(self.worker.stderr_tail())
            self.close()
            return WorkerRun(exc.returncode, tail, s.clock() - started), None
        if line.get("status") == "meter-unavailable":
            raise MeterUnavailableStop(str(line.get("error") or "no usable energy meter"))
        if isinstance(line.get("idle_power_w"), int | float) and line["idle_power_w"] > 0:
            self.idle_power_w = float(line["idle_power_w"])
        failed = line.get("status") not in STATUSES or line.get("status") == "error"
        tail = "\n".join(self.worker.stderr_tail()) if failed else ""
        if line.get("fatal") or self.fresh_per_task:  # fatal: a CUDA error lost the context
            self.close()
        return WorkerRun(1 if failed else 0, tail, s.clock() - started), line

    def close(self, graceful: bool = True) -> None:
        """End the worker (at once when not ``graceful``: SIGTERM mid-model); the next task
        starts a fresh one."""
        if self.worker is not None:
            self.worker.close() if graceful else self.worker.close(grace_s=0)
            self.worker = None
