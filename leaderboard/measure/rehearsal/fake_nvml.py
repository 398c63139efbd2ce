"""A fake NVML with an H200's behaviour, module-compatible with the pynvml calls the validator
makes (see :mod:`leaderboard.measure.rehearsal` for the switches and the physics)."""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REHEARSAL = True
"""Read by the meter: records measured on this fake are marked synthetic (the site refuses them)."""
NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_UNKNOWN = 999
NVML_FI_DEV_POWER_INSTANT = 186
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_TEMPERATURE_GPU = 0
_MESSAGES = {NVML_ERROR_UNINITIALIZED: "Uninitialized", NVML_ERROR_INVALID_ARGUMENT: "Invalid Argument",
             NVML_ERROR_NOT_SUPPORTED: "Not Supported", NVML_ERROR_UNKNOWN: "Unknown Error"}

GPU_NAME = "NVIDIA H200"
GPU_UUID = "GPU-5eb0a6c2-7d1e-4c3a-9f00-000000000200"
HOST_PID = 4_194_301
"""What gVisor's nvproxy lists: a PID of the host, absent from the sandbox's /proc."""
IDLE_W = 90.0
POWER_LIMIT_W = 700.0
BASE_MEMORY_MIB = 512.0
CONTEXT_MEMORY_MIB = 600.0
SAMPLE_PERIOD_S = 0.002
SENSOR_PERIOD_S = 0.100
SENSOR_WINDOW_S = 0.025


class NVMLError(Exception):
    """NVML's error: ``value`` is the return code."""

    def __init__(self, value: int):
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return _MESSAGES.get(self.value, f"NVML Error with code {self.value}")


class _Device:
    """The simulated GPU: samples this process's CPU use as load, publishes a stepping counter."""

    def __init__(self) -> None:
        self.busy_w = float(os.environ.get("LB_FAKE_NVML_BUSY_W", "450"))
        self.pid_mode = os.environ.get("LB_FAKE_NVML_PIDS", "host")
        self.varying_lag = os.environ.get("LB_FAKE_NVML_LAG", "constant") == "varying"
        self.unsupported = {n.strip() for n in os.environ.get("LB_FAKE_NVML_UNSUPPORTED", "").split(",")
                            if n.strip()}
        self._rng = random.Random(int(os.environ.get("LB_FAKE_NVML_SEED", "0")))
        self._lock = threading.Lock()
        self.context = False
        self.reserved_mib = 0.0
        self._origin = time.perf_counter()
        self._last = (self._origin, time.process_time())
        self.power_w = IDLE_W
        self.true_j = 0.0
        self._sensed_j = 0.0
        self._published_mj = 1_000_000_000
        self._pending: deque[tuple[float, float]] = deque()
        self._next_update = self._origin + self._rng.uniform(0.02, 0.1)
        self._history: deque[tuple[float, float]] = deque()
        self._running = False
        self.start()

    def start(self) -> None:
        """Start sampling (NVML initialised)."""
        if not self._running:
            self._running = True
            threading.Thread(target=self._run, daemon=True, name="fake-h200").start()

    def stop(self) -> None:
        """Stop sampling (NVML shut down): nothing keeps polling in a test process."""
        self._running = False

    def _run(self) -> None:
        while self._running:
            time.sleep(SAMPLE_PERIOD_S)
            self.step()

    def step(self) -> None:
        """Advance the physics to now."""
        now, cpu = time.perf_counter(), time.process_time()
        with self._lock:
            last_t, last_cpu = self._last
            dt = now - last_t
            if dt <= 0:
                return
            load = min(max((cpu - last_cpu) / dt, 0.0), 1.0)
            self.power_w = IDLE_W + self.busy_w * load
            self._last = (now, cpu)
            self.true_j += self.power_w * dt
            # The sensor sees 25 ms of every 100 ms and scales it up (H100/H200-like).
            if (now - self._origin) % SENSOR_PERIOD_S < SENSOR_WINDOW_S:
                self._sensed_j += self.power_w * dt * SENSOR_PERIOD_S / SENSOR_WINDOW_S
            self._history.append((now, self.power_w))
            while self._history and self._history[0][0] < now - 1.0:
                self._history.popleft()
            if now >= self._next_update:
                lag = self._rng.uniform(0.0, 0.3) if self.varying_lag else 0.010
                self._pending.append((now + lag, self._sensed_j))
                self._next_update = now + self._rng.uniform(0.02, 0.1)
            while self._pending and self._pending[0][0] <= now:
                _, sensed = self._pending.popleft()
                self._published_mj = max(self._published_mj, 1_000_000_000 + int(sensed * 1000))

    def energy_mj(self) -> int:
        with self._lock:
            return self._published_mj

    def average_power_w(self) -> float:
        with self._lock:
            values = [p for _, p in self._history] or [self.power_w]
        return sum(values) / len(values)

    def pids(self) -> list[int]:
        if self.pid_mode == "vm":  # a VM's NVML: every live process of ours holding a context
            return _live_context_pids()
        if not self.context:
            return []
        return {"host": [HOST_PID], "own": [os.getpid()],
                "neighbour": [os.getpid(), os.getppid()]}.get(self.pid_mode, [HOST_PID])


CONTEXTS_ENV = "LB_FAKE_NVML_CONTEXTS"
"""VM mode: the folder where each process with a CUDA context leaves a file named by its PID
(set for this process and its children on first use when unset)."""


def _contexts_dir() -> Path:
    folder = os.environ.get(CONTEXTS_ENV)
    if not folder:
        folder = tempfile.mkdtemp(prefix="lb-fake-nvml-contexts-")
        os.environ[CONTEXTS_ENV] = folder  # children started from now on share it
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)


def _alive(pid: int) -> bool:
    try:  # a zombie has released its context
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] not in ("Z", "X")
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _live_context_pids() -> list[int]:
    pids = []
    for path in _contexts_dir().glob("*"):
        if path.name.isdigit() and _alive(int(path.name)):
            pids.append(int(path.name))
    return sorted(pids)


_device: _Device | None = None
_initialised = 0


def device() -> _Device:
    """This process's simulated GPU (created on first use)."""
    global _device
    if _device is None:
        _device = _Device()
    return _device


def mark_context(reserved_mib: float = 0.0) -> None:
    """Called by the cuda shim: this process now has a CUDA context."""
    dev = device()
    if dev.pid_mode == "vm" and not dev.context:
        (_contexts_dir() / str(os.getpid())).touch()
    dev.context = True
    dev.reserved_mib = max(dev.reserved_mib, reserved_mib)


def _check(name: str) -> _Device:
    if not _initialised:
        raise NVMLError(NVML_ERROR_UNINITIALIZED)
    dev = device()
    if name in dev.unsupported:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return dev


def nvmlInit() -> None:  # noqa: N802 - pynvml's names
    global _initialised
    _initialised += 1
    device().start()


def nvmlShutdown() -> None:  # noqa: N802
    global _initialised
    _initialised = max(_initialised - 1, 0)
    if _initialised == 0 and _device is not None:
        _device.stop()


def nvmlSystemGetDriverVersion() -> str:  # noqa: N802
    _check("nvmlSystemGetDriverVersion")
    return "580.95.05 (rehearsal)"


def nvmlDeviceGetCount() -> int:  # noqa: N802
    _check("nvmlDeviceGetCount")
    return 1


def nvmlDeviceGetHandleByIndex(index: int) -> str:  # noqa: N802
    _check("nvmlDeviceGetHandleByIndex")
    if index != 0:
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    return "fake-h200-0"


def nvmlDeviceGetName(handle: Any) -> str:  # noqa: N802
    _check("nvmlDeviceGetName")
    return GPU_NAME


def nvmlDeviceGetUUID(handle: Any) -> str:  # noqa: N802
    _check("nvmlDeviceGetUUID")
    return GPU_UUID


def nvmlDeviceGetTotalEnergyConsumption(handle: Any) -> int:  # noqa: N802
    return _check("nvmlDeviceGetTotalEnergyConsumption").energy_mj()


def nvmlDeviceGetPowerUsage(handle: Any) -> int:  # noqa: N802
    """The 1 s-averaged power, mW (like recent GPUs' default reading)."""
    return int(_check("nvmlDeviceGetPowerUsage").average_power_w() * 1000)


def nvmlDeviceGetFieldValues(handle: Any, field_ids: list[int]) -> list[SimpleNamespace]:  # noqa: N802
    dev = _check("nvmlDeviceGetFieldValues")
    values = []
    for field_id in field_ids:
        if field_id == NVML_FI_DEV_POWER_INSTANT:
            values.append(SimpleNamespace(nvmlReturn=0, value=SimpleNamespace(uiVal=int(dev.power_w * 1000))))
        else:
            values.append(SimpleNamespace(nvmlReturn=NVML_ERROR_NOT_SUPPORTED, value=None))
    return values


def nvmlDeviceGetEnforcedPowerLimit(handle: Any) -> int:  # noqa: N802
    _check("nvmlDeviceGetEnforcedPowerLimit")
    return int(POWER_LIMIT_W * 1000)


def nvmlDeviceGetClockInfo(handle: Any, clock: int) -> int:  # noqa: N802
    _check("nvmlDeviceGetClockInfo")
    return 1980 if clock == NVML_CLOCK_SM else 3201


def nvmlDeviceGetTemperature(handle: Any, sensor: int) -> int:  # noqa: N802
    dev = _check("nvmlDeviceGetTemperature")
    return int(30 + dev.power_w / 20)


def nvmlDeviceGetCurrentClocksEventReasons(handle: Any) -> int:  # noqa: N802
    _check("nvmlDeviceGetCurrentClocksEventReasons")
    return 0


def nvmlDeviceGetCurrentClocksThrottleReasons(handle: Any) -> int:  # noqa: N802
    _check("nvmlDeviceGetCurrentClocksThrottleReasons")
    return 0


def nvmlDeviceGetComputeRunningProcesses(handle: Any) -> list[SimpleNamespace]:  # noqa: N802
    dev = _check("nvmlDeviceGetComputeRunningProcesses")
    return [SimpleNamespace(pid=pid, usedGpuMemory=int((CONTEXT_MEMORY_MIB + dev.reserved_mib) * 2**20))
            for pid in dev.pids()]  # (another process's memory: taken to be like ours)


def nvmlDeviceGetMemoryInfo(handle: Any) -> SimpleNamespace:  # noqa: N802
    dev = _check("nvmlDeviceGetMemoryInfo")
    used = BASE_MEMORY_MIB + ((CONTEXT_MEMORY_MIB + dev.reserved_mib) if dev.context else 0.0)
    return SimpleNamespace(total=int(143_771 * 2**20), used=int(used * 2**20),
                           free=int((143_771 - used) * 2**20))


def nvmlDeviceGetMigMode(handle: Any) -> list[int]:  # noqa: N802
    _check("nvmlDeviceGetMigMode")
    return [0, 0]
