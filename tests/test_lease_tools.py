"""The lease's helpers: probe's lag estimate, carried-wheel checks, cost order, worker lifetime."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import subprocess
import sys
import textwrap
import time
import types
import zipfile
from pathlib import Path

import pytest

from leaderboard.measure.probe import _edge_lags, format_table
from leaderboard.measure.selection import order_entries

REPO = Path(__file__).resolve().parents[1]


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_carried_wheels",
                                                  REPO / "scripts" / "check_carried_wheels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_edge_lag_is_recovered_from_a_stepping_counter():
    # 100 W idle, 500 W loaded, counter published every 40 ms with a constant 30 ms lag.
    lag_s, edges = 0.030, [(1.0, True), (1.3, False), (1.6, True), (1.9, False)]

    def power_at(t: float) -> float:
        return 500.0 if any(on and start <= t < start + 0.3 for start, on in edges) else 100.0

    steps, energy_mj, t = [], 0.0, 0.5
    while t < 2.5:
        sensed_until = t - lag_s
        energy_mj = sum(power_at(x / 1000) for x in range(0, int(sensed_until * 1000)))  # 1 ms steps
        steps.append((t, int(energy_mj)))
        t += 0.04
    lags, idle_w, busy_w = _edge_lags(steps, edges)
    assert idle_w == pytest.approx(100.0, rel=0.05) and busy_w == pytest.approx(500.0, rel=0.05)
    assert len(lags) == 4 and all(abs(lag - lag_s) < 0.01 for lag in lags)


def test_probe_table_says_what_failed():
    table = format_table({"versions": {"python": "3.12.3"}, "error": "nvmlInit failed: boom",
                          "nvml": {"nvmlDeviceGetName": {"status": "error", "value": "x"}}})
    assert "nvmlInit failed: boom" in table and "nvmlDeviceGetName" in table


class _Value(ctypes.Union):  # nvidia-ml-py's c_nvmlValue_t
    _fields_ = [("dVal", ctypes.c_double), ("uiVal", ctypes.c_uint), ("ulVal", ctypes.c_ulong),
                ("ullVal", ctypes.c_ulonglong), ("sllVal", ctypes.c_longlong), ("siVal", ctypes.c_int),
                ("usVal", ctypes.c_ushort)]


class _FieldValue(ctypes.Structure):  # c_nvmlFieldValue_t
    _fields_ = [("fieldId", ctypes.c_uint32), ("scopeId", ctypes.c_uint32), ("timestamp", ctypes.c_int64),
                ("latencyUsec", ctypes.c_int64), ("valueType", ctypes.c_uint), ("nvmlReturn", ctypes.c_uint),
                ("value", _Value)]


class _Memory(ctypes.Structure):  # c_nvmlMemory_t
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


def _ctypes_nvml(field_return: int, value_type: int = 1, **value):
    """An NVML module answering with nvidia-ml-py's ctypes structs (as the real one does)."""
    class NVMLError(Exception):
        value = 999

    def field_values(handle, ids):
        array = (_FieldValue * len(ids))()
        for slot, field_id in zip(array, ids, strict=True):
            slot.fieldId, slot.valueType, slot.nvmlReturn = field_id, value_type, field_return
            for member, number in value.items():
                setattr(slot.value, member, number)
        return array

    return types.SimpleNamespace(
        NVMLError=NVMLError, NVML_ERROR_NOT_SUPPORTED=3, NVML_FI_DEV_POWER_INSTANT=186,
        nvmlDeviceGetFieldValues=field_values,
        nvmlDeviceGetMemoryInfo=lambda handle: _Memory(total=80 * 2**30, free=79 * 2**30, used=2**30))


def test_the_probe_prints_ctypes_values_and_each_fields_own_status():
    # Issue 20, Why 8: structs printed as {} and POWER_INSTANT "ok" while the field said
    # NOT_SUPPORTED (the call itself succeeds).
    from leaderboard.measure.probe import _field_value, _try

    nvml = _ctypes_nvml(field_return=3)
    field = _field_value(nvml, "h", 186)
    assert field["status"] == "not supported" and field["call_status"] == "ok" and field["value"] is None
    memory = _try(nvml, "nvmlDeviceGetMemoryInfo", "h")
    assert memory["value"] == {"total": 80 * 2**30, "free": 79 * 2**30, "used": 2**30}
    # A supported field is read by its value type (1: unsigned int, mW), not as the whole union.
    nvml = _ctypes_nvml(field_return=0, value_type=1, uiVal=412_345)
    field = _field_value(nvml, "h", 186)
    assert (field["status"], field["value"], field["value_member"]) == ("ok", 412_345, "uiVal")
    table = format_table({"versions": {"python": "3.12.3"}, "nvml": {
        "nvmlDeviceGetMemoryInfo": memory, "nvmlDeviceGetFieldValues(POWER_INSTANT)": field}})
    assert '"used": 1073741824' in table and "412345" in table


def test_the_probe_times_a_warm_product_and_loads_the_gpu():
    # Issue 20, Why 5: the first product of a size pays cuBLAS's set-up (here 20 ms); timed
    # cold, the probe settled on a product far too small to load the GPU.
    from leaderboard.measure import probe

    class Matrix:
        calls: list[int] = []

        def __init__(self, size):
            self.shape, self.dtype = (size, size), "float32"

        def __matmul__(self, other):
            first = self.shape[0] not in Matrix.calls
            Matrix.calls.append(self.shape[0])
            time.sleep(0.02 if first else (self.shape[0] / 4096) ** 3 * 0.008)
            return self

    fake_torch = types.SimpleNamespace(
        float16="float16", float32="float32", randn=lambda n, m, device, dtype: Matrix(n),
        cuda=types.SimpleNamespace(synchronize=lambda device=None: None))
    matrix, product_s = probe._calibrate(fake_torch, "cuda")
    # 4096 takes 8 ms warm, the first size at or above 5 ms; 1024 and 2048 were fast once warm.
    assert matrix.shape[0] == 4096 and product_s >= probe.LOAD_PRODUCT_S
    assert Matrix.calls.count(1024) == 4  # one warm-up, three timed


def _wheel(folder: Path, name: str, version: str, requires: list[str]) -> None:
    dist = f"{name.replace('-', '_')}-{version}"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as archive:
        meta = [f"Name: {name}", f"Version: {version}", *(f"Requires-Dist: {r}" for r in requires)]
        archive.writestr(f"{dist}.dist-info/METADATA", "\n".join(meta) + "\n")


def test_a_carried_wheel_set_with_a_too_old_typing_extensions_is_caught(tmp_path):
    # Issue 11, failure 2: pydantic-core imports typing_extensions.Sentinel (>= 4.14).
    checker = _load_checker()
    _wheel(tmp_path, "pydantic-core", "2.41.5", ["typing-extensions>=4.14.1"])
    _wheel(tmp_path, "typing-extensions", "4.12.2", [])
    _wheel(tmp_path, "annotated-types", "0.7.0", ['typing-extensions>=4; python_version<"3.9"'])
    problems = checker.unmet_among_wheels(tmp_path)
    assert len(problems) == 1 and "pydantic-core 2.41.5 needs typing-extensions>=4.14.1" in problems[0]


def test_an_installed_site_with_an_unmet_requirement_is_caught(tmp_path):
    checker = _load_checker()
    info = tmp_path / "carried_thing-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Name: carried-thing\nVersion: 1.0\n"
                                   "Requires-Dist: pytest>=999\nRequires-Dist: no-such-dist-xyz\n"
                                   'Requires-Dist: pytest; extra == "dev"\n')
    problems = checker.unmet_requirements(tmp_path)
    assert len(problems) == 2
    assert any("needs pytest>=999" in p for p in problems)
    assert any("no-such-dist-xyz" in p and "not installed" in p for p in problems)


def test_timm_is_carried_at_the_catalogs_version_and_checked(tmp_path, monkeypatch):
    # Issue 20, Why 8: another timm builds another network than the one `check` validated.
    import json

    checker = _load_checker()
    catalog = json.loads((REPO / "leaderboard" / "data" / "timm_catalog.json").read_text())
    pins = checker.pinned_versions()
    assert pins == {"timm": catalog["timm_version"]}
    assert "timm==" in (REPO / "scripts" / "fetch_gpu_wheels.sh").read_text()
    assert checker.pin_problems_among_wheels(tmp_path, pins) == [
        f"timm=={pins['timm']} must be carried (one wheel), found none (run scripts/fetch_gpu_wheels.sh)"]
    _wheel(tmp_path, "timm", "1.0.15", [])
    assert "found 1.0.15" in checker.pin_problems_among_wheels(tmp_path, pins)[0]
    (tmp_path / "timm-1.0.15-py3-none-any.whl").unlink()
    _wheel(tmp_path, "timm", pins["timm"], ["torch", "torchvision", "pyyaml", "huggingface_hub"])
    assert checker.pin_problems_among_wheels(tmp_path, pins) == []
    # On the machine: the timm Python finds first is what counts.
    monkeypatch.setattr(checker.metadata, "version", lambda name: "1.0.15")
    problems = checker.pin_problems_installed(pins)
    assert len(problems) == 1 and "timm 1.0.15 is found here" in problems[0]
    assert f"the catalog needs {pins['timm']}" in problems[0]
    monkeypatch.setattr(checker.metadata, "version", lambda name: pins["timm"])
    assert checker.pin_problems_installed(pins) == []  # (timm is installed in the test venv)


def test_cheapest_first_orders_by_gmacs_and_puts_unknown_costs_last(tmp_path):
    for entry, compute in (("big.x", "compute:\n  gmacs: 40.0\n"), ("small.x", "compute:\n  gmacs: 0.3\n"),
                           ("unknown.x", ""), ("mid.x", "compute:\n  gmacs: 4.1\n")):
        (tmp_path / entry).mkdir()
        (tmp_path / entry / "submission.yaml").write_text(f"id: {entry}\n{compute}")
    ids = ["big.x", "mid.x", "small.x", "unknown.x"]
    assert order_entries(tmp_path, ids, "cheapest") == ["small.x", "mid.x", "big.x", "unknown.x"]
    assert order_entries(tmp_path, list(reversed(ids)), "name") == ids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_dies_with_its_parent(tmp_path):
    # Issue 11, failure 3: a worker whose campaign was SIGKILLed kept the GPU busy.
    pid_file = tmp_path / "worker.pid"
    parent = textwrap.dedent(f'''
        import subprocess, sys, time
        from leaderboard.measure.lifetime import worker_environment
        child = subprocess.Popen([sys.executable, "-c",
            "import os, time; from leaderboard.measure.lifetime import die_with_parent; "
            "die_with_parent(); open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"],
            env=worker_environment(), process_group=0)
        time.sleep(60)
    ''')
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", parent], env=env)
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while _alive(worker):
        assert time.monotonic() < deadline, "the worker outlived its parent"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_the_rehearsal_counter_steps_irregularly_and_power_is_a_one_second_average(monkeypatch):
    from leaderboard.measure.rehearsal import fake_nvml

    monkeypatch.setattr(fake_nvml, "_device", None)
    fake_nvml.nvmlInit()
    try:
        handle = fake_nvml.nvmlDeviceGetHandleByIndex(0)
        field = [fake_nvml.NVML_FI_DEV_POWER_INSTANT]
        time.sleep(1.0)  # idle history
        first_average_w = fake_nvml.nvmlDeviceGetPowerUsage(handle) / 1000
        steps, instants = [], []
        last = fake_nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        end = time.perf_counter() + 0.8
        while time.perf_counter() < end:  # busy: this process's CPU time is the "GPU" load
            value = fake_nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            if value != last:
                steps.append(time.perf_counter())
                last = value
            instants.append(fake_nvml.nvmlDeviceGetFieldValues(handle, field)[0].value.uiVal / 1000)
        gaps = [b - a for a, b in zip(steps, steps[1:], strict=False)]
        assert len(steps) >= 4 and max(gaps) - min(gaps) > 0.01  # 20-100 ms, not regular
        # The instantaneous field follows the load; the plain reading still averages the idle.
        assert max(instants) > first_average_w + 10 and first_average_w < fake_nvml.IDLE_W + 30
        assert fake_nvml.nvmlDeviceGetName(handle) == "NVIDIA H200"
        assert fake_nvml.nvmlDeviceGetEnforcedPowerLimit(handle) == 700_000
    finally:
        fake_nvml.nvmlShutdown()


def test_the_rehearsals_vm_mode_lists_every_process_of_ours_with_a_context(tmp_path, monkeypatch):
    # Issue 20, Why 4: on a VM, NVML lists the pytest process's context beside the worker's;
    # the rehearsal listed only the calling process and could not show the refusal.
    from leaderboard.measure.gpu_processes import REFUSED, judge_processes
    from leaderboard.measure.rehearsal import fake_nvml

    contexts = tmp_path / "contexts"
    contexts.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "LB_FAKE_NVML_PIDS": "vm",
           "LB_FAKE_NVML_CONTEXTS": str(contexts)}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from leaderboard.measure.rehearsal import fake_nvml; "
         "fake_nvml.mark_context(); print('ready', flush=True); time.sleep(60)"],
        env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setenv("LB_FAKE_NVML_PIDS", "vm")
        monkeypatch.setenv("LB_FAKE_NVML_CONTEXTS", str(contexts))
        monkeypatch.setattr(fake_nvml, "_device", None)
        fake_nvml.nvmlInit()
        handle = fake_nvml.nvmlDeviceGetHandleByIndex(0)

        def listed():
            return sorted(p.pid for p in fake_nvml.nvmlDeviceGetComputeRunningProcesses(handle))

        assert listed() == [holder.pid]  # ours, before this process has a context
        fake_nvml.mark_context(reserved_mib=256.0)
        assert listed() == sorted([holder.pid, os.getpid()])
        verdict = judge_processes(None, listed(), None, None)
        assert verdict.verdict == REFUSED and str(holder.pid) in verdict.reason
        holder.kill()
        holder.wait()
        assert listed() == [os.getpid()]  # a process that ended released its context
    finally:
        holder.kill()
        fake_nvml.nvmlShutdown()
