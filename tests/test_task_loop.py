"""The one task loop (leaderboard.measure.task_loop) that measure, profile and sweep share.

Unit tests with a scripted step (a test double) and a manual clock; the real steps are exercised
by test_campaign*.py (measure) and test_profile_sweep.py (profile, sweep).
"""

from __future__ import annotations

import os
import signal

import pytest

from leaderboard.errors import LeaderboardError
from leaderboard.measure.task_loop import StopTasks, TaskResult, TaskSummary, run_tasks


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ScriptedStep:
    """Each task takes ``took_s`` on the manual clock; ``script`` says what a task does instead."""

    def __init__(self, clock: Clock, took_s: float = 10.0, kept: set[str] = frozenset(),
                 script: dict[str, object] | None = None) -> None:
        self.clock, self.took_s, self.kept_ids, self.script = clock, took_s, kept, script or {}
        self.ran: list[str] = []
        self.closed: list[bool] = []

    def start(self) -> str | None:
        if self.script.get("start") == "stop":
            raise StopTasks("no usable energy meter")
        return "fake-gpu"

    def kept(self, task):
        return TaskResult(*task, "ok", resumed=True) if task[0] in self.kept_ids else None

    def run(self, task):
        self.ran.append(task[0])
        self.clock.now += self.took_s
        action = self.script.get(task[0])
        if isinstance(action, BaseException):
            raise action
        if action == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)  # a real signal through the loop's own handler
        return TaskResult(*task, "ok", wall_s=self.took_s, energy_j=0.5)

    def failed(self, task, error, wall_s):
        return TaskResult(*task, "error", wall_s=wall_s, message=f"{type(error).__name__}: {error}")

    def close(self, graceful: bool) -> None:
        self.closed.append(graceful)


def run(ids, step, clock, budget_s=None):
    lines: list[str] = []
    summary = TaskSummary(planned=len(ids))
    run_tasks([(i, "offline") for i in ids], step, summary, time_budget_s=budget_s, clock=clock,
              say=lines.append)
    return summary, lines


def test_resume_budget_and_eta():
    clock = Clock()
    step = ScriptedStep(clock, kept={"a"})
    summary, lines = run(["a", "b", "c", "d", "e"], step, clock, budget_s=25.0)
    assert step.ran == ["b", "c"]  # after 20 s, 20 + median 10 > 25: d and e do not start
    assert summary.resumed == 1 and summary.not_started == 2 and summary.hardware == "fake-gpu"
    assert lines[0] == "[1/5] a offline resumed (ok record kept)"
    assert lines[1] == "[2/5] b offline ok 0.5 J/img 10.0 s  ETA 30.0 s"
    assert lines[-1] == "time budget 25.0 s reached: 2 task(s) not started"
    assert step.closed == [True]


def test_one_failure_is_reported_and_the_run_goes_on():
    clock = Clock()
    step = ScriptedStep(clock, script={"b": RuntimeError("CUDA out of memory"),
                                       "c": LeaderboardError("c: submission.yaml: bad field")})
    summary, lines = run(["a", "b", "c", "d"], step, clock)
    assert step.ran == ["a", "b", "c", "d"]
    assert [r.status for r in summary.results] == ["ok", "error", "error", "ok"]
    assert "[2/4] b offline error after 10.0 s: RuntimeError: CUDA out of memory" in lines[1]
    assert [r.entry_id for r in summary.errors] == ["b", "c"]
    assert "error: c offline: LeaderboardError: c: submission.yaml: bad field" in summary.format_summary()


def test_a_bug_is_not_swallowed_and_the_step_is_killed():
    clock = Clock()
    step = ScriptedStep(clock, script={"b": KeyError("bug")})
    with pytest.raises(KeyError):
        run(["a", "b", "c"], step, clock)
    assert step.closed == [False]


def test_stop_ends_the_run_at_once():
    clock = Clock()
    step = ScriptedStep(clock, script={"b": StopTasks("NVML went away\ndetails")})
    summary, lines = run(["a", "b", "c"], step, clock)
    assert step.ran == ["a", "b"] and summary.stopped == "NVML went away"
    assert summary.not_started == 2 and lines[-1] == "[2/3] b offline stopped: NVML went away"
    stopped = ScriptedStep(clock, script={"start": "stop"})
    summary, _ = run(["a", "b"], stopped, clock)
    assert stopped.ran == [] and summary.not_started == 2 and summary.stopped


def test_sigterm_unwinds_kills_the_step_and_restores_the_handler():
    before = signal.getsignal(signal.SIGTERM)
    clock = Clock()
    step = ScriptedStep(clock, script={"b": "sigterm"})
    summary, lines = run(["a", "b", "c"], step, clock)
    assert summary.terminated and step.ran == ["a", "b"]
    assert len(summary.results) == 1 and summary.not_started == 2
    assert step.closed == [False]  # killed, not waited for
    assert lines[-1].startswith("terminated (SIGTERM)")
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_sweep_entry_resumes_only_when_every_chosen_variant_is_kept(tmp_path):
    from types import SimpleNamespace

    from leaderboard.analysis_records import write_analysis_record
    from leaderboard.breakdown_runs import _SweepStep
    from leaderboard.testing import SYNTHETIC_HARDWARE, synthetic_sweep

    entry = "resnet50.a1_in1k"
    records = synthetic_sweep(entry, 0.01)
    for record in records[:2]:
        write_analysis_record(tmp_path, record)
    session = SimpleNamespace(hardware=SYNTHETIC_HARDWARE)  # only the board's name is read

    def step(variants, force=False):
        return _SweepStep(tmp_path, session, device="cpu", variants=variants, accuracy=None,
                          progress=print, force=force, weights_mode="random-init", weights_dir=None)

    kept = step([r.variant for r in records[:2]]).kept((entry, "sweep"))
    assert kept is not None and kept.resumed and kept.status == "ok"
    assert step([r.variant for r in records[:3]]).kept((entry, "sweep")) is None  # one missing
    assert step([r.variant for r in records[:2]], force=True).kept((entry, "sweep")) is None
