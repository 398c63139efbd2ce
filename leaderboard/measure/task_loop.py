"""The one loop over a run's tasks: resume, time budget, ETA, failure isolation, SIGTERM.

``measure`` (:mod:`.campaign`: each task in a worker process) and ``profile`` / ``sweep``
(:mod:`leaderboard.breakdown_runs`: each task in this process) run their entries through
:func:`run_tasks`, each with its own :class:`TaskStep`. So a fix to how a run resumes, stops at
its budget, estimates the time left, survives one task's failure or unwinds on SIGTERM lands once
and holds for all three commands.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from leaderboard.errors import LeaderboardError
from leaderboard.measure.lifetime import Terminated, raise_on_sigterm, restore_sigterm
from leaderboard.measure.selection import format_duration
from leaderboard.vocabulary import STATUSES

Task = tuple[str, str]  # (entry id, part): the part is the scenario, or "profile" / "sweep"

# What one task may raise without ending the run: our own refusals (bad submission, workload
# that cannot be built) and torch's device faults (out of memory, CUDA and compile errors). The
# failure is reported and the run goes on; anything else is a bug and ends the run.
ISOLATED_ERRORS: tuple[type[Exception], ...] = (LeaderboardError, RuntimeError)


class StopTasks(Exception):  # noqa: N818 - a signal to the loop, not an error of the task
    """Raised by a step when no further task can run (no usable meter): the run stops at once."""


@dataclass(frozen=True)
class TaskResult:
    """The outcome of one task of a run.

    Attributes:
        entry_id: The entry.
        part: The scenario (``measure``), or ``profile`` / ``sweep``.
        status: The record's status (ok, unstable, refused, error).
        skipped: The step found an unchanged entry already measured on this hardware.
        resumed: A kept record was found before the task ran; nothing was started.
        wall_s: Seconds the task ran (0 for resumed tasks).
        energy_j: Gross J/image of the record, when it has energy.
        record_path: The record file, when one exists.
        message: Why it failed, for errors.
    """

    entry_id: str
    part: str
    status: str
    skipped: bool = False
    resumed: bool = False
    wall_s: float = 0.0
    energy_j: float | None = None
    record_path: str | None = None
    message: str = ""


@dataclass
class TaskSummary:
    """What a run of tasks did.

    Attributes:
        planned: Tasks the run was given.
        results: One result per task that was resumed or run, in order.
        not_started: Tasks left when the time budget ran out, a step stopped the run or SIGTERM
            arrived.
        stopped: Why a step stopped the run early (no usable meter), else ``None``.
        hardware: The board's hardware slug.
        wall_s: Wall time of the whole run, s.
        terminated: SIGTERM arrived; the step was closed (workers killed) before the loop returned.
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
        """Freshly run tasks (not skipped, not resumed) by record status."""
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.results:
            if not (result.skipped or result.resumed):
                counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    @property
    def skipped(self) -> int:
        """Tasks the step skipped: unchanged entry already measured on this hardware."""
        return sum(r.skipped for r in self.results)

    @property
    def resumed(self) -> int:
        """Tasks resumed from a kept record without running."""
        return sum(r.resumed for r in self.results)

    @property
    def errors(self) -> list[TaskResult]:
        """Tasks that ended in an error."""
        return [r for r in self.results if r.status == "error" and not (r.skipped or r.resumed)]

    @property
    def spawned(self) -> int:
        """Tasks that ran."""
        return sum(not r.resumed for r in self.results)

    @property
    def models_per_hour(self) -> float:
        """Tasks run per hour of wall time."""
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
            lines.append(f"error: {result.entry_id} {result.part}: {first}")
        return "\n".join(lines)


class TaskStep(Protocol):
    """What one kind of run does per task; :func:`run_tasks` does the rest."""

    def start(self) -> str | None:
        """Get ready (start a worker, open nothing twice); return the hardware slug if known.

        Raises:
            StopTasks: Nothing can run (no usable meter).
        """

    def kept(self, task: Task) -> TaskResult | None:
        """The resumed result when the task's record is already kept, else None."""

    def run(self, task: Task) -> TaskResult:
        """Run one task and write its record.

        Raises:
            StopTasks: No further task can run. One of :data:`ISOLATED_ERRORS`: this task failed.
        """

    def failed(self, task: Task, error: Exception, wall_s: float) -> TaskResult:
        """The result of a task whose :meth:`run` raised one of :data:`ISOLATED_ERRORS`."""

    def close(self, graceful: bool) -> None:
        """Release what :meth:`start` took; ``graceful=False``: kill it (SIGTERM, a bug)."""


def run_tasks(tasks: Sequence[Task], step: TaskStep, summary: TaskSummary, *,
              time_budget_s: float | None, clock: Callable[[], float],
              say: Callable[[str], None]) -> None:
    """Run each task through ``step``, in order, filling ``summary``.

    * resume: a task whose record :meth:`TaskStep.kept` finds is counted, not run;
    * budget: no task starts once elapsed time plus the median task time would exceed
      ``time_budget_s``; the rest are counted in ``summary.not_started``;
    * ETA: each task's line ends with the median task time times the tasks left;
    * isolation: a task that raises one of :data:`ISOLATED_ERRORS` gets the step's failure
      result, reported in its line, and the run goes on; :class:`StopTasks` ends the run;
    * SIGTERM: unwinds the running task, closes the step at once (``graceful=False``) and sets
      ``summary.terminated``; records are written atomically, so none is left half-written.
    """
    start = clock()
    previous = raise_on_sigterm()
    try:
        try:
            _loop(tasks, step, summary, start, time_budget_s, clock, say)
        except BaseException:
            step.close(graceful=False)  # SIGTERM mid-task: no record may land later
            raise
        step.close(graceful=True)
    except Terminated:
        summary.terminated = True
        summary.not_started = summary.planned - len(summary.results)
        say("terminated (SIGTERM): the running task was stopped; no record is pending")
    finally:
        restore_sigterm(previous)
    summary.wall_s = clock() - start
    if summary.not_started and not summary.stopped and not summary.terminated:
        say(f"time budget {format_duration(time_budget_s or 0)} reached: "
            f"{summary.not_started} task(s) not started")


def _loop(tasks: Sequence[Task], step: TaskStep, summary: TaskSummary, start: float,
          time_budget_s: float | None, clock: Callable[[], float],
          say: Callable[[str], None]) -> None:
    total = len(tasks)
    try:
        hardware = step.start()
    except StopTasks as exc:
        summary.stopped, summary.not_started = str(exc), total
        return
    summary.hardware = hardware or summary.hardware
    durations_s: list[float] = []
    for number, task in enumerate(tasks, 1):
        prefix = f"[{number}/{total}] {task[0]} {task[1]}"
        kept = step.kept(task)
        if kept is not None:
            summary.results.append(kept)
            say(f"{prefix} resumed ({kept.status} record kept)")
            continue
        if time_budget_s is not None and durations_s:
            if clock() - start + statistics.median(durations_s) > time_budget_s:
                summary.not_started += 1
                continue
        began = clock()
        try:
            result = step.run(task)
        except StopTasks as exc:
            summary.stopped = str(exc).splitlines()[0]
            summary.not_started += total - number + 1
            say(f"{prefix} stopped: {summary.stopped}")
            return
        except ISOLATED_ERRORS as exc:
            result = step.failed(task, exc, clock() - began)
        durations_s.append(result.wall_s)
        summary.results.append(result)
        left = total - number
        eta = f"  ETA {format_duration(statistics.median(durations_s) * left)}" if left else ""
        say(f"{prefix} {describe(result)}{eta}")


def describe(result: TaskResult) -> str:
    """``ok 0.0123 J/img 9.8 s`` or ``error after 2.0 s: why``."""
    took = format_duration(result.wall_s)
    if result.status == "error" and not result.skipped:
        first = result.message.splitlines()[0] if result.message else "no message"
        return f"error after {took}: {first}"
    text = result.status
    if result.energy_j is not None:
        text += f" {result.energy_j:.4g} J/img"
    if result.skipped:
        text = f"skipped (unchanged, {text})"
    return f"{text} {took}"
