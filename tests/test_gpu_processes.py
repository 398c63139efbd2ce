"""The process check: a baseline before our CUDA context, refusals only for what we can see."""

from __future__ import annotations

import os

from leaderboard.measure.gpu_processes import (
    CLEAR,
    REFUSED,
    UNVERIFIABLE,
    ProcessBaseline,
    judge_processes,
    pid_visible,
)

HOST_PID = 3_999_999  # a gVisor sandbox's host PID: listed by NVML, absent from our /proc


def test_a_sandboxs_host_pid_is_not_refused_but_recorded_as_unverifiable():
    # Issue 11, failure 1: nvproxy lists the sandbox's host PID once our context exists; the
    # old check refused every record for it.
    assert not pid_visible(HOST_PID)
    baseline = ProcessBaseline(frozenset(), 600.0)
    verdict = judge_processes(baseline, [HOST_PID], memory_used_mib=600.0 + 1500.0,
                              own_memory_mib=1400.0)
    assert verdict.verdict == UNVERIFIABLE and not verdict.refused
    assert verdict.describe().startswith("process check: unverifiable (pid namespace)")
    assert "consistent with this process alone" in verdict.reason


def test_a_visible_neighbour_is_refused():
    neighbour = os.getppid()
    verdict = judge_processes(ProcessBaseline(frozenset(), None), [os.getpid(), neighbour],
                              None, None)
    assert verdict.verdict == REFUSED and verdict.foreign_pids == (neighbour,)
    assert f"pids {neighbour}" in verdict.reason


def test_an_invisible_neighbour_is_caught_by_its_memory():
    baseline = ProcessBaseline(frozenset(), 500.0)
    verdict = judge_processes(baseline, [HOST_PID], memory_used_mib=500.0 + 1400.0 + 20_000.0,
                              own_memory_mib=1400.0)
    assert verdict.refused and "20000 MiB more" in verdict.reason


def test_our_own_pid_alone_is_clear():
    verdict = judge_processes(ProcessBaseline(frozenset(), 500.0), [os.getpid()], 1500.0, 1200.0)
    assert verdict.verdict == CLEAR and verdict.reason is None


def test_without_memory_figures_an_invisible_pid_stays_unverifiable():
    verdict = judge_processes(None, [HOST_PID], None, None)
    assert verdict.verdict == UNVERIFIABLE and "could not be cross-checked" in verdict.reason
