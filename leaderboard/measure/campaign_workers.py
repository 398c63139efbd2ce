"""How a campaign runs its workers: one process per task (v1) or one long-lived worker (v2).

Both kinds answer the campaign's one loop (:mod:`leaderboard.measure.campaign`) the same way:
:meth:`start` learns the hardware (or stops for want of a meter), :meth:`measure` runs one task
and returns a :class:`WorkerRun` plus the worker's result line, :meth:`close` kills what is left.
A v1 task runs in a fresh ``python -m leaderboard.measure.worker`` process, so a crash or a
leak costs that model only; v2's worker (``python -m leaderboard.measure.lease_worker``) pays
torch's import, the CUDA context and idle once and is restarted after a crash or a CUDA error.
Every worker runs in its own process group and dies with the campaign (:mod:`.lifetime`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from leaderboard.errors import LeaderboardError
from leaderboard.measure.lifetime import worker_environment
from leaderboard.measure.worker_client import LongLivedWorker, WorkerDied
from leaderboard.vocabulary import EXIT_NO_METER, STATUSES

STDERR_TAIL_LINES = 15
KILL_GRACE_S = 5.0
STARTUP_TIMEOUT_S = 300.0
"""torch's import, the CUDA context and idle: seconds on a GPU machine, minutes on a slow disk."""


class MeterUnavailableStop(LeaderboardError):
    """A worker said no meter works; carries its message. The campaign stops."""


@dataclass(frozen=True)
class WorkerRun:
    """What one task's worker left: exit code (None: killed at its timeout), output, time."""

    returncode: int | None
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

    def exit_text(self) -> str:
        """``exit code 1``, ``killed by SIGABRT`` or ``timed out``."""
        if self.returncode is None:
            return "timed out"
        if self.returncode < 0:
            try:
                return f"killed by {signal.Signals(-self.returncode).name}"
            except ValueError:
                return f"killed by signal {-self.returncode}"
        return f"exit code {self.returncode}"

    def meter_message(self) -> str:
        """Why the worker found no usable meter."""
        line = self.result_line()
        if line and line.get("error"):
            return str(line["error"])
        tail = self.stderr_tail(3)
        return tail[-1].removeprefix("error: ") if tail else "no usable energy meter"


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


class Workers(Protocol):
    """A campaign's workers, whichever protocol."""

    hardware: str | None
    gpu_name: str

    def start(self) -> None:
        """Learn the hardware (unless given). Raises MeterUnavailableStop, LeaderboardError."""

    def measure(self, entry_id: str, scenario: str,
                reference_s: float = 0.0) -> tuple[WorkerRun, dict[str, Any] | None]:
        """Run one task (and a reference window of ``reference_s``); raises
        MeterUnavailableStop when the meter went away."""

    def close(self, graceful: bool = True) -> None:
        """Kill every worker left."""


# ---------------------------------------------------------------------------------------------
# Protocol v1: a fresh process per task


def default_worker_cmd() -> list[str]:
    """``python -P -m leaderboard.measure.worker`` with this interpreter."""
    # -P: do not put the current folder on sys.path, so a `leaderboard/` folder in the
    # working directory (a checked-out pull request) can never shadow the installed validator.
    return [sys.executable, "-P", "-m", "leaderboard.measure.worker"]


def run_worker(command: list[str], timeout_s: float, log_path: Path | None) -> WorkerRun:
    """Run one worker in its own process group; on timeout kill the whole group."""
    start = time.perf_counter()
    # Its own process group puts the worker and anything it forks in one group that can be
    # killed as a whole, and keeps a terminal's Ctrl-C from reaching it (the campaign kills it
    # explicitly, SIGTERM included). Not a new session: a machine that kills a finished
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
    run = WorkerRun(returncode, stdout or "", stderr or "", time.perf_counter() - start)
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


class OneShotWorkers:
    """Protocol v1: ``--probe`` once for the hardware, then one worker process per task."""

    def __init__(self, settings: WorkerSettings, command: list[str] | None, hardware: str | None):
        self.settings = settings
        self.command = list(command) if command else default_worker_cmd()
        self.hardware = hardware
        self.gpu_name = "unknown"

    def start(self) -> None:
        """Ask a worker for the hardware slug (opens the meter, loads no model)."""
        if self.hardware is not None:
            return
        run = run_worker([*self.command, "--probe", "--device", self.settings.device],
                         STARTUP_TIMEOUT_S, None)
        if run.returncode == EXIT_NO_METER:
            raise MeterUnavailableStop(run.meter_message())
        line = run.result_line()
        if run.returncode != 0 or not line or not isinstance(line.get("hardware"), str):
            tail = "\n".join(run.stderr_tail()) or "(no output)"
            raise LeaderboardError(f"could not identify the hardware of {self.settings.device} "
                                   f"({run.exit_text()}):\n{tail}")
        self.hardware, self.gpu_name = line["hardware"], str(line.get("gpu_name") or "unknown")

    def measure(self, entry_id: str, scenario: str,
                reference_s: float = 0.0) -> tuple[WorkerRun, dict[str, Any] | None]:
        """One worker process for this task."""
        s = self.settings
        args = [*self.command, "--entry", entry_id, "--scenario", scenario, "--device", s.device,
                "--submissions", str(s.submissions_dir), "--weights-mode", s.weights_mode]
        weights_path = s.weights_path(entry_id)
        if weights_path is not None:
            args += ["--weights-path", str(weights_path)]
        if s.force:
            args.append("--force")
        if s.meter:
            args += ["--meter", s.meter]
        if reference_s > 0:
            args += ["--reference-s", f"{reference_s:g}"]
        log_path = s.log_dir / f"{entry_id}--{scenario}.log" if s.log_dir else None
        run = run_worker(args, s.timeout_per_model_s, log_path)
        if run.returncode == EXIT_NO_METER:
            raise MeterUnavailableStop(run.meter_message())
        return run, run.result_line()

    def close(self, graceful: bool = True) -> None:
        """Nothing outlives a task."""


# ---------------------------------------------------------------------------------------------
# Protocol v2: one long-lived worker, restarted after a crash


def default_lease_worker_cmd() -> list[str]:
    """``python -P -m leaderboard.measure.lease_worker`` with this interpreter."""
    return [sys.executable, "-P", "-m", "leaderboard.measure.lease_worker"]


class LongLivedWorkers:
    """Protocol v2: one worker measures task after task; a fresh one after a crash."""

    def __init__(self, settings: WorkerSettings, command: list[str] | None, hardware: str | None):
        s = self.settings = settings
        base = list(command) if command else default_lease_worker_cmd()
        base += ["--device", s.device, "--submissions", str(s.submissions_dir),
                 "--weights-mode", s.weights_mode]
        if s.probe_file is not None:
            base += ["--probe-file", str(s.probe_file)]
        if s.meter:
            base += ["--meter", s.meter]
        self.command = base
        self.hardware = hardware
        self.gpu_name = "unknown"
        self.worker: LongLivedWorker | None = None
        self.started = 0

    def start(self) -> None:
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
        s.say(f"worker {self.started} ready on {self.gpu_name}: idle "
              f"{float(ready.get('idle_power_w') or 0):.1f} W, {ready.get('window_mode')} "
              f"(parameters from {ready.get('parameters_from')})")
        self.worker = worker

    def measure(self, entry_id: str, scenario: str,
                reference_s: float = 0.0) -> tuple[WorkerRun, dict[str, Any] | None]:
        """Send one task (starting a worker first when the last one died)."""
        if self.worker is None:
            self.start()
        assert self.worker is not None
        s = self.settings
        task: dict[str, Any] = {"entry_id": entry_id, "scenario": scenario, "force": s.force}
        if reference_s > 0:
            task["reference_s"] = reference_s
        weights_path = s.weights_path(entry_id)
        if weights_path is not None:
            task["weights_path"] = str(weights_path)
        started = s.clock()
        try:
            line = self.worker.request(task, s.timeout_per_model_s)
        except WorkerDied as exc:
            tail = "\n".join(self.worker.stderr_tail())
            self.close()
            return WorkerRun(exc.returncode, "", tail, s.clock() - started), None
        if line.get("status") == "meter-unavailable":
            raise MeterUnavailableStop(str(line.get("error") or "no usable energy meter"))
        failed = line.get("status") not in STATUSES or line.get("status") == "error"
        tail = "\n".join(self.worker.stderr_tail()) if failed else ""
        if line.get("fatal"):  # a CUDA error: this worker's context is gone
            self.close()
        return WorkerRun(1 if failed else 0, json.dumps(line), tail, s.clock() - started), line

    def close(self, graceful: bool = True) -> None:
        """End the worker (at once when not ``graceful``: SIGTERM mid-model)."""
        if self.worker is not None:
            self.worker.close() if graceful else self.worker.close(grace_s=0)
            self.worker = None
