"""The process check: a baseline before our CUDA context, refusals only for what we can see."""

from __future__ import annotations

import os

import pytest

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


def test_a_second_new_pid_from_outside_the_namespace_is_refused():
    verdict = judge_processes(ProcessBaseline(frozenset(), 500.0), [HOST_PID, HOST_PID + 7],
                              memory_used_mib=2000.0, own_memory_mib=1400.0)
    assert verdict.refused and "at most one can be this sandbox's" in verdict.reason


def test_nvmls_per_process_memory_counts_as_ours():
    # Our context's kernels and workspaces can exceed the allowance; NVML's figure for our
    # (sandbox's) PID explains them, so no refusal.
    baseline = ProcessBaseline(frozenset(), 500.0)
    verdict = judge_processes(baseline, [HOST_PID], memory_used_mib=500.0 + 6000.0,
                              own_memory_mib=1400.0, listed_memory_mib={HOST_PID: 6000.0})
    assert verdict.verdict == UNVERIFIABLE
    hidden = judge_processes(baseline, [HOST_PID], memory_used_mib=500.0 + 6000.0 + 9000.0,
                             own_memory_mib=1400.0, listed_memory_mib={HOST_PID: 6000.0})
    assert hidden.refused


def _fake_meter(monkeypatch, **env):
    from leaderboard.measure.meters import NvmlMeter
    from leaderboard.measure.rehearsal import fake_nvml

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(fake_nvml, "_device", None)  # a fresh simulated GPU reads the switches
    return NvmlMeter(0, pynvml=fake_nvml, environ={}), fake_nvml


@pytest.mark.parametrize(("mode", "verdict"), [("host", UNVERIFIABLE), ("own", CLEAR),
                                               ("neighbour", REFUSED)])
def test_the_rehearsal_nvml_lists_pids_like_each_kind_of_machine(monkeypatch, mode, verdict):
    from leaderboard.measure.runner import open_session

    meter, fake = _fake_meter(monkeypatch, LB_FAKE_NVML_PIDS=mode)
    try:
        session = open_session("cpu", meter)
        assert meter.baseline.pids == frozenset()  # nothing before our context
        fake.mark_context(reserved_mib=256.0)
        assert session.processes().verdict == verdict
        assert session.before.name == "NVIDIA H200" and session.power_limit_w == 700.0
    finally:
        meter.close()


def test_the_rehearsal_nvml_can_refuse_any_call(monkeypatch):
    from leaderboard.measure.meters import MeterUnavailable

    with pytest.raises(MeterUnavailable, match="nvmlDeviceGetTotalEnergyConsumption"):
        _fake_meter(monkeypatch, LB_FAKE_NVML_UNSUPPORTED="nvmlDeviceGetTotalEnergyConsumption")
    meter, _ = _fake_meter(monkeypatch, LB_FAKE_NVML_UNSUPPORTED="nvmlDeviceGetComputeRunningProcesses")
    try:
        assert meter.compute_pids() is None and meter.state().compute_pids == ()
    finally:
        meter.close()
