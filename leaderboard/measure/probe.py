"""First-contact probe of a lent GPU: ``python -m leaderboard.measure.probe --out probe.json``.

Runs first in every lease, in under 30 s, with nothing but nvidia-ml-py and torch (no pydantic,
no model): which NVML calls work (ok / not supported / error) and how long they take, the
energy counter's update period and report lag (constant or varying), the process list before
and after this process creates a CUDA context, and the image's versions. It prints a short
table and writes JSON; protocol v2 derives its parameters from that JSON
(:func:`leaderboard.measure.protocol_v2.config_from_probe`).

The lag is estimated at each edge of a square-wave load: the counter interval that contains
the edge has a loaded fraction ``f`` (from its power between the idle and loaded levels), so
the edge was reported at ``s_k - f * (s_k - s_{k-1})``; minus the edge's time, that is the lag.
The estimate carries the sensor's own sampling (25 ms of every 100 ms on recent GPUs), hence
the generous threshold before a lag counts as varying.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from leaderboard.vocabulary import EXIT_NO_METER, EXIT_OK

LAG_VARYING_STDEV_S = 0.1
"""Above this robust spread (1.4826 x MAD) of the per-edge lag estimates the lag counts as
varying (v1 windows). The sensor's 25-of-100 ms sampling alone spreads the estimates by about
20-30 ms with a constant lag; MAD keeps an edge delayed by a descheduled poller from counting."""
EDGES = 12
PHASE_S = 0.3
OFFLINE_SWITCHES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
"""Recorded: a lease must never try to download (the machine reaches nothing)."""
LOAD_PRODUCT_S = 0.005
"""The loaded phases' matrix product takes at least this long, warm (see :func:`_calibrate`)."""


def _versions() -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version()}
    for name in ("torch", "torchvision", "timm", "nvidia-ml-py", "numpy", "pydantic",
                 "pydantic-core", "typing-extensions", "safetensors", "pytest-timeout"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _try(nvml: Any, name: str, *args: Any) -> dict[str, Any]:
    """One NVML call: status, a short value and its latency."""
    call = getattr(nvml, name, None)
    if call is None:
        return {"status": "missing"}
    start = time.perf_counter()
    try:
        value = call(*args)
        status = "ok"
    except nvml.NVMLError as exc:
        value = str(exc)
        status = "not supported" if getattr(exc, "value", None) == nvml.NVML_ERROR_NOT_SUPPORTED else "error"
    latency_ms = (time.perf_counter() - start) * 1000
    return {"status": status, "value": _short(value), "latency_ms": round(latency_ms, 3)}


def _short(value: Any) -> Any:
    """A JSON-ready value: ctypes structs as their fields (``vars`` of one is ``{}``)."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple | ctypes.Array):
        return [_short(v) for v in list(value)[:8]]
    if isinstance(value, ctypes.Union):  # which member is meant depends on a type field
        return None
    if isinstance(value, ctypes.Structure):
        return {name: _short(getattr(value, name)) for name, *_ in value._fields_}
    fields = {k: _short(v) for k, v in vars(value).items()} if hasattr(value, "__dict__") else None
    return fields if fields is not None else str(value)[:80]


# NVML_VALUE_TYPE_* -> the c_nvmlValue_t member that holds a field's value.
_VALUE_MEMBERS = {0: "dVal", 1: "uiVal", 2: "ulVal", 3: "ullVal", 4: "sllVal", 5: "siVal", 6: "usVal"}


def _field_value(nvml: Any, handle: Any, field_id: int) -> dict[str, Any]:
    """One NVML field: the field's OWN status (the call can succeed while the field is not
    supported), its value read by its value type, and the call's status and latency."""
    call = getattr(nvml, "nvmlDeviceGetFieldValues", None)
    if call is None:
        return {"status": "missing"}
    start = time.perf_counter()
    try:
        found = call(handle, [field_id])[0]
    except nvml.NVMLError as exc:
        status = ("not supported" if getattr(exc, "value", None) == nvml.NVML_ERROR_NOT_SUPPORTED
                  else "error")
        return {"status": status, "call_status": status, "value": str(exc),
                "latency_ms": round((time.perf_counter() - start) * 1000, 3)}
    latency_ms = round((time.perf_counter() - start) * 1000, 3)
    code = int(getattr(found, "nvmlReturn", 0))
    status = ("ok" if code == 0 else "not supported"
              if code == getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", 3) else f"error (NVML return {code})")
    union = getattr(found, "value", None)
    member = _VALUE_MEMBERS.get(getattr(found, "valueType", None))
    if member is None:  # no value type given: the first member there
        member = next((m for m in _VALUE_MEMBERS.values() if hasattr(union, m)), None)
    value = _short(getattr(union, member)) if code == 0 and member and union is not None else None
    return {"status": status, "call_status": "ok", "value": value, "value_member": member,
            "latency_ms": latency_ms}


def _nvml_calls(nvml: Any, handle: Any) -> dict[str, Any]:
    field_id = getattr(nvml, "NVML_FI_DEV_POWER_INSTANT", 186)
    return {
        "nvmlDeviceGetName": _try(nvml, "nvmlDeviceGetName", handle),
        "nvmlDeviceGetUUID": _try(nvml, "nvmlDeviceGetUUID", handle),
        "nvmlSystemGetDriverVersion": _try(nvml, "nvmlSystemGetDriverVersion"),
        "nvmlDeviceGetTotalEnergyConsumption": _try(nvml, "nvmlDeviceGetTotalEnergyConsumption", handle),
        "nvmlDeviceGetPowerUsage": _try(nvml, "nvmlDeviceGetPowerUsage", handle),
        "nvmlDeviceGetFieldValues(POWER_INSTANT)": _field_value(nvml, handle, field_id),
        "nvmlDeviceGetEnforcedPowerLimit": _try(nvml, "nvmlDeviceGetEnforcedPowerLimit", handle),
        "nvmlDeviceGetClockInfo(SM)": _try(nvml, "nvmlDeviceGetClockInfo", handle,
                                           getattr(nvml, "NVML_CLOCK_SM", 1)),
        "nvmlDeviceGetTemperature": _try(nvml, "nvmlDeviceGetTemperature", handle,
                                         getattr(nvml, "NVML_TEMPERATURE_GPU", 0)),
        "nvmlDeviceGetCurrentClocksEventReasons": _try(
            nvml, "nvmlDeviceGetCurrentClocksEventReasons", handle),
        "nvmlDeviceGetComputeRunningProcesses": _try(nvml, "nvmlDeviceGetComputeRunningProcesses", handle),
        "nvmlDeviceGetMemoryInfo": _try(nvml, "nvmlDeviceGetMemoryInfo", handle),
        "nvmlDeviceGetMigMode": _try(nvml, "nvmlDeviceGetMigMode", handle),
    }


def _latency_ms(nvml: Any, handle: Any, calls: int = 50) -> float | None:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        except nvml.NVMLError:
            return None
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _pids(nvml: Any, handle: Any) -> list[int] | str:
    try:
        return [int(p.pid) for p in nvml.nvmlDeviceGetComputeRunningProcesses(handle)]
    except nvml.NVMLError as exc:
        return f"error: {exc}"


class _Poller:
    """Polls the counter in a thread; keeps (time, mJ) at every step."""

    def __init__(self, nvml: Any, handle: Any, period_s: float):
        self.nvml, self.handle, self.period_s = nvml, handle, period_s
        self.steps: list[tuple[float, int]] = []
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
        previous = time.perf_counter()
        self.steps.append((previous, last))
        while self._running:
            time.sleep(self.period_s)
            now = time.perf_counter()
            value = self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
            if value != last:
                self.steps.append(((previous + now) / 2, value))
                last = value
            previous = now

    def __enter__(self) -> _Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running = False
        self._thread.join(timeout=2)


def _load(torch: Any, device: str, seconds: float, matrix: Any) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        matrix @ matrix
        torch.cuda.synchronize(device)


def _product_s(torch: Any, device: str, matrix: Any, repeats: int = 3) -> float:
    """Median seconds of one synchronised product, after one untimed warm-up product."""
    matrix @ matrix  # cuBLAS handle, workspace and kernel choice for this shape: not timed
    torch.cuda.synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matrix @ matrix
        torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _calibrate(torch: Any, device: str) -> tuple[Any, float]:
    """A square matrix whose (warm) product takes at least ``LOAD_PRODUCT_S``, and that time.

    The loaded phases run these products back to back, so a product of several ms keeps the
    GPU fully busy (a large fp16 product on a Hopper GPU: near its power limit) while an edge
    stays sharp against the 300 ms phases. Timing the first product of a size would time
    cuBLAS's set-up and settle on a product too small to load the GPU (issue 20, Why 5).
    """
    size = 1024
    while True:
        dtype = torch.float16 if size >= 4096 else torch.float32
        matrix = torch.randn(size, size, device=device, dtype=dtype)
        seconds = _product_s(torch, device, matrix)
        if seconds >= LOAD_PRODUCT_S or size >= 16384:
            return matrix, seconds
        size *= 2


def _edge_lags(steps: list[tuple[float, int]],
               edges: list[tuple[float, bool]]) -> tuple[list[float], float, float]:
    """Per-edge lag estimates, and the idle and loaded power levels, W."""
    intervals = [(s0, s1, (e1 - e0) / 1000 / (s1 - s0))
                 for (s0, e0), (s1, e1) in zip(steps, steps[1:], strict=False) if s1 > s0]

    def level(loaded: bool) -> float:
        values = [p for s0, s1, p in intervals
                  if any(loaded == on and t + 0.12 < s0 and s1 < t + PHASE_S for t, on in edges)]
        return statistics.median(values) if values else float("nan")
    idle_w, busy_w = level(False), level(True)
    lags = []
    if not busy_w - idle_w > 5:
        return lags, idle_w, busy_w
    for t, on in edges:
        for s0, s1, power in intervals:
            if s1 <= t:
                continue
            loaded_fraction = (power - idle_w) / (busy_w - idle_w)
            fraction = loaded_fraction if on else 1 - loaded_fraction
            if fraction > 0.1:
                fraction = min(fraction, 1.0)
                lags.append(s1 - fraction * (s1 - s0) - t)
                break
    return lags, idle_w, busy_w


def _robust_spread(values: list[float]) -> float:
    """1.4826 x the median absolute deviation (the stdev for normal data, robust to outliers)."""
    middle = statistics.median(values)
    return 1.4826 * statistics.median(abs(v - middle) for v in values)


def run_probe(device: str = "cuda") -> dict[str, Any]:
    """Probe NVML and the device; the JSON-ready result."""
    started = time.perf_counter()
    result: dict[str, Any] = {"versions": _versions(), "device": device, "pid": os.getpid(),
                              "environment": {k: os.environ.get(k) for k in OFFLINE_SWITCHES}}
    try:
        import pynvml as nvml
    except ImportError as exc:
        return {**result, "error": f"nvidia-ml-py missing: {exc}"}
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        return {**result, "error": f"nvmlInit failed: {exc}"}
    index = int(device.split(":")[1]) if ":" in device else 0
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
    except nvml.NVMLError as exc:
        return {**result, "error": f"nvmlDeviceGetHandleByIndex({index}) failed: {exc}"}
    result["nvml"] = _nvml_calls(nvml, handle)
    result["pids_before_context"] = _pids(nvml, handle)
    latency = _latency_ms(nvml, handle)
    result["energy_call_latency_ms"] = latency
    import torch

    result["versions"]["torch_cuda"] = torch.version.cuda
    if not torch.cuda.is_available():
        return {**result, "error": "torch sees no CUDA device"}
    matrix, product_s = _calibrate(torch, device)
    result["load"] = {"matrix_size": int(matrix.shape[0]), "dtype": str(matrix.dtype).removeprefix("torch."),
                      "product_ms": round(product_s * 1000, 3)}
    result["pids_after_context"] = _pids(nvml, handle)
    result["own_pid_listed"] = os.getpid() in (result["pids_after_context"] or [])
    if latency is None:
        result["counter"] = {"status": result["nvml"]["nvmlDeviceGetTotalEnergyConsumption"]["status"]}
    else:
        poll_s = max(0.0005, 2 * latency / 1000)
        edges: list[tuple[float, bool]] = []
        with _Poller(nvml, handle, poll_s) as poller:
            time.sleep(PHASE_S)
            for number in range(EDGES):
                on = number % 2 == 0
                edges.append((time.perf_counter(), on))
                if on:
                    _load(torch, device, PHASE_S, matrix)
                else:
                    time.sleep(PHASE_S)
            time.sleep(PHASE_S)
        steps = poller.steps
        periods = [b[0] - a[0] for a, b in zip(steps, steps[1:], strict=False)]
        lags, idle_w, busy_w = _edge_lags(steps, edges)
        stdev = _robust_spread(lags) if len(lags) >= 3 else None
        varying = stdev is not None and stdev > LAG_VARYING_STDEV_S
        result["counter"] = {
            "status": "ok", "poll_period_s": poll_s, "steps": len(steps),
            "update_period_s": statistics.median(periods) if periods else None,
            "update_period_min_s": min(periods) if periods else None,
            "update_period_max_s": max(periods) if periods else None,
            # v2 sizes its windows from this (robust), not from the single slowest update
            "update_period_p90_s": (statistics.quantiles(periods, n=10)[-1]
                                    if len(periods) >= 2 else None),
            "lag_estimates_s": [round(x, 4) for x in lags],
            "lag_s": statistics.median(lags) if lags else None,
            "lag_stdev_s": stdev,
            "lag": "unknown" if stdev is None else ("varying" if varying else "constant"),
            "lag_jitter_s": stdev if varying else 0.0,
            "idle_w": idle_w, "loaded_w": busy_w,
        }
    nvml.nvmlShutdown()
    result["probe_s"] = time.perf_counter() - started
    return result


def format_table(result: dict[str, Any]) -> str:
    """The probe's short table."""
    rows = [("versions", ", ".join(f"{k} {v}" for k, v in result["versions"].items() if v))]
    if result.get("error"):
        rows.append(("error", result["error"]))
    for name, call in (result.get("nvml") or {}).items():
        value = call.get("value")
        text = call["status"] + (f" ({call.get('latency_ms')} ms)" if "latency_ms" in call else "")
        if call.get("call_status"):
            text += f" (the call: {call['call_status']})"
        if call["status"] == "ok" and value is not None:
            shown = value if isinstance(value, str | int | float) else json.dumps(value, sort_keys=True)
            text += f": {shown if len(str(shown)) <= 120 else str(shown)[:117] + '...'}"
        rows.append((name, text))
    counter = result.get("counter") or {}
    if counter.get("status") == "ok":
        period = counter.get("update_period_s")
        rows.append(("counter update period",
                     f"median {period * 1000:.1f} ms (min {counter['update_period_min_s'] * 1000:.1f}, "
                     f"max {counter['update_period_max_s'] * 1000:.1f})" if period else "no steps seen"))
        lag, stdev = counter.get("lag_s"), counter.get("lag_stdev_s") or 0.0
        rows.append(("counter report lag", f"{counter['lag']}" + (
            f", median {lag * 1000:.1f} ms, stdev {stdev * 1000:.1f} ms" if lag is not None else "")))
        rows.append(("idle / loaded power", f"{counter['idle_w']:.1f} W / {counter['loaded_w']:.1f} W"))
    load = result.get("load")
    if load:
        rows.append(("load", f"{load['matrix_size']}x{load['matrix_size']} {load['dtype']} products, "
                             f"{load['product_ms']} ms each (warm)"))
    rows.append(("energy call latency", f"{result.get('energy_call_latency_ms')} ms"))
    rows.append(("pids before / after context",
                 f"{result.get('pids_before_context')} / {result.get('pids_after_context')} "
                 f"(own pid {result.get('pid')} "
                 f"{'listed' if result.get('own_pid_listed') else 'not listed'})"))
    rows.append(("probe time", f"{result.get('probe_s', 0):.1f} s"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    """Probe, print the table, write the JSON; exit 3 (``EXIT_NO_METER``) where no counter works."""
    parser = argparse.ArgumentParser(description="First-contact probe of NVML and the GPU.")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, required=True, help="Where to write the JSON.")
    args = parser.parse_args(argv)
    result = run_probe(args.device)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", "utf-8")
    os.replace(tmp, args.out)
    print(format_table(result), flush=True)
    return EXIT_OK if (result.get("counter") or {}).get("status") == "ok" else EXIT_NO_METER


if __name__ == "__main__":
    sys.exit(main())
