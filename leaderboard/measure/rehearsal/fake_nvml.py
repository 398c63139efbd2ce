"""A fake NVML with an H200's behaviour, module-compatible with the pynvml calls the validator
makes (see :mod:`leaderboard.measure.rehearsal` for the switches and the physics)."""

from __future__ import annotations

import bisect
import os
import random
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from leaderboard.atomic import pid_alive

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
    """A process that still holds its context (a zombie has released it)."""
    return pid_alive(pid)


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


# ---------------------------------------------------------------------------------------------
# Aliasing mode: a fixed 100 ms counter, 25 ms-of-100 ms sampling and batches locked to 100 ms


class LockedBatchRig:
    """A deterministic GPU whose batches can lock to the sensor's 100 ms sampling period.

    The sensor integrates power over the first ``sample_s`` of every ``update_s`` (25 ms of
    100 ms, as SC24's "Part-time power measurements" found on Hopper), scales it up by
    ``update_s / sample_s`` and publishes the cumulative energy at a fixed update mid-period
    (the sample taken 25 to 50 ms before it). A batch takes ``batch_s`` (a multiple of
    100 ms): ``high_w`` for the first ``high_fraction`` of it, ``low_w`` for the rest; the
    device idles at ``idle_w`` between batches. Batches queue like CUDA work (two ahead of the
    caller), so back-to-back batches keep one phase for as long as they run.

    Time is virtual (:meth:`clock`, :meth:`sleep`): it moves only when the measuring code
    sleeps, queues a batch or waits for the device, one ``step_s`` at a time, and while a
    poller reads the counter each step waits for its read. A loaded machine therefore changes
    nothing: the same seed gives the same windows. The rig knows the truth:
    :meth:`true_energy_j` integrates the real power and :attr:`true_j_per_image` is a busy
    batch's energy per image. It is the meter (``energy_j``) and the workload (``run_batch``,
    ``synchronize``, ``batch_size``) at once.
    """

    name = "nvml-total-energy"
    rehearsal = True

    def __init__(self, batch_s: float = 0.1, batch_size: int = 32, high_w: float = 480.0,
                 low_w: float = 320.0, high_fraction: float = 0.5, idle_w: float = IDLE_W,
                 update_s: float = SENSOR_PERIOD_S, sample_s: float = SENSOR_WINDOW_S,
                 step_s: float = 0.002):
        self.batch_s, self.batch_size = batch_s, batch_size
        self.high_w, self.low_w, self.high_fraction, self.idle_w = high_w, low_w, high_fraction, idle_w
        self.update_s, self.sample_s, self.step_s = update_s, sample_s, step_s
        self._now = 0.0
        self._polled = threading.Condition()
        self._polls = 0
        self._poller = False
        self._batches: list[float] = []  # start times, increasing
        self._queue_end = 0.0
        self._published_periods = 0
        self._published_j = 0.0

    @property
    def true_j_per_image(self) -> float:
        """What one busy batch really costs per image, J."""
        busy_w = self.high_w * self.high_fraction + self.low_w * (1 - self.high_fraction)
        return busy_w * self.batch_s / self.batch_size

    # Virtual time ------------------------------------------------------------------------

    def clock(self) -> float:
        """Virtual seconds since the rig was made."""
        return self._now

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass (at least one step)."""
        self._advance(self._now + max(seconds, self.step_s))

    def _advance(self, until: float) -> None:
        while self._now < until:
            with self._polled:
                seen = self._polls
                self._now = min(self._now + self.step_s, until)
                # Wait for the poller's read of this step; a poller that stopped is noticed
                # at the first read that does not come.
                if self._poller and not self._polled.wait_for(lambda seen=seen: self._polls > seen,
                                                              1.0):
                    self._poller = False

    # The workload ------------------------------------------------------------------------

    def run_batch(self) -> None:
        """Queue one batch; return once the batch before it has started."""
        start = max(self._now, self._queue_end)
        with self._polled:
            self._batches.append(start)
            self._queue_end = start + self.batch_s
        self._advance(start - self.batch_s)

    def synchronize(self) -> None:
        """Wait until every queued batch has finished."""
        self._advance(self._queue_end)

    # The physics -------------------------------------------------------------------------

    def true_energy_j(self, t0: float, t1: float) -> float:
        """The energy really drawn between ``t0`` and ``t1`` (virtual seconds), J."""
        total = self.idle_w * (t1 - t0)
        high_s = self.batch_s * self.high_fraction
        batches = self._batches
        first = max(bisect.bisect_right(batches, t0 - self.batch_s) - 1, 0)
        for start in batches[first:]:
            if start >= t1:
                break
            for seg0, seg1, power in ((start, start + high_s, self.high_w),
                                      (start + high_s, start + self.batch_s, self.low_w)):
                overlap = min(seg1, t1) - max(seg0, t0)
                if overlap > 0:
                    total += (power - self.idle_w) * overlap
        return total

    # The meter ---------------------------------------------------------------------------

    def energy_j(self) -> float:
        """The published counter: every update adds its period's scaled-up sample."""
        with self._polled:
            # Update k happens at (k + 0.5) x update_s and carries the sample of period k,
            # [k x update_s, k x update_s + sample_s].
            elapsed = self._now / self.update_s - 0.5
            due = int(elapsed) + 1 if elapsed >= 0 else 0
            while self._published_periods < due:
                t0 = self._published_periods * self.update_s
                self._published_j += self.true_energy_j(t0, t0 + self.sample_s) \
                    * self.update_s / self.sample_s
                self._published_periods += 1
            self._polls += 1
            self._poller = True
            self._polled.notify_all()
            return self._published_j

    def power_w(self) -> float:
        """Idle power (the rig has no instantaneous reading)."""
        return self.idle_w

    def close(self) -> None:
        """Nothing to release."""
