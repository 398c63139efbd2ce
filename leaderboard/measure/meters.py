"""Energy meters behind one small interface: NVML (GPU) and RAPL (CPU).

Units are converted at this boundary: every meter reports joules and watts. A meter that
cannot work raises :class:`MeterUnavailable` saying what is missing; nothing here ever
reports 0 J in place of a reading.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from leaderboard.errors import LeaderboardError
from leaderboard.measure.gpu_processes import ProcessBaseline
from leaderboard.vocabulary import EXIT_NO_METER


class MeterUnavailable(LeaderboardError):
    """No usable energy meter: the message names what is missing and how to get it."""

    exit_code = EXIT_NO_METER


@dataclass(frozen=True)
class GpuState:
    """What the GPU looks like right now, for provenance and sanity checks."""

    name: str
    uuid: str
    driver: str
    power_limit_w: float | None
    sm_clock_mhz: float | None
    mem_clock_mhz: float | None
    temperature_c: float | None
    throttle_reasons: tuple[str, ...]
    other_compute_pids: tuple[int, ...]
    mig_enabled: bool
    compute_pids: tuple[int, ...] = ()
    """Every PID NVML lists, ours included (in a sandbox ours may show as its host PID)."""
    memory_used_mib: float | None = None
    compute_memory_mib: tuple[tuple[int, float], ...] = ()
    """``(pid, MiB)`` for the listed PIDs whose used memory NVML reports."""


class EnergyMeter(Protocol):
    """A cumulative energy counter and an instantaneous power reading."""

    name: str

    def energy_j(self) -> float:
        """The cumulative energy counter, J (monotonic; the origin is arbitrary)."""

    def power_w(self) -> float:
        """Instantaneous power draw, W."""

    def close(self) -> None:
        """Release the meter."""


# ---------------------------------------------------------------------------------------------
# NVML

# Names of the clocks-event (throttle) reason bits that matter for energy figures.
_THROTTLE_BITS = {
    0x0000000000000002: "applications_clocks_setting",
    0x0000000000000004: "sw_power_cap",
    0x0000000000000008: "hw_slowdown",
    0x0000000000000020: "sw_thermal_slowdown",
    0x0000000000000040: "hw_thermal_slowdown",
    0x0000000000000080: "hw_power_brake_slowdown",
}

METER_COUNTER = "nvml-total-energy"
METER_POWER_INTEGRATION = "nvml-power-integration"
METER_KINDS = (METER_COUNTER, METER_POWER_INTEGRATION)
METER_BIAS = {
    METER_COUNTER: "firmware-integrated counter; no known bias beyond the sensor's own "
                   "(recent GPUs sample 25 ms of every 100 ms)",
    METER_POWER_INTEGRATION: "instantaneous power sampled every few ms and integrated "
                             "(trapezoid): misses peaks shorter than the sampling period; "
                             "compare with the counter where both exist",
}
"""What each meter kind is known to get wrong, written into every record it measures."""


def _import_pynvml() -> Any:
    try:
        import pynvml
    except ImportError as exc:
        raise MeterUnavailable(
            "nvidia-ml-py is not installed; install the validator extras: "
            "pip install -e '.[measure]'"
        ) from exc
    return pynvml


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def resolve_nvml_handle(nvml: Any, cuda_index: int, environ: Mapping[str, str] | None = None) -> Any:
    """The NVML handle of the GPU that torch calls ``cuda:<cuda_index>``.

    ``CUDA_VISIBLE_DEVICES`` renumbers the GPUs a process sees (a SLURM node gives each job
    its own); its entries are NVML indices or (prefixes of) UUIDs. Without it, CUDA index N is
    NVML index N (torch's cross-check of the UUID after context creation catches the rest).

    Raises:
        MeterUnavailable: The index is not visible or no GPU has the named UUID.
    """
    env = os.environ if environ is None else environ
    visible = env.get("CUDA_VISIBLE_DEVICES")
    target: int | str = cuda_index
    if visible is not None:
        entries = [e.strip() for e in visible.split(",") if e.strip()]
        if cuda_index >= len(entries):
            raise MeterUnavailable(
                f"cuda:{cuda_index} is not visible: CUDA_VISIBLE_DEVICES={visible!r} names "
                f"{len(entries)} GPU(s); pick an index below {len(entries)} or unset it")
        entry = entries[cuda_index]
        target = int(entry) if entry.isdigit() else entry
    if isinstance(target, int):
        return _nvml_call(nvml, "nvmlDeviceGetHandleByIndex", target,
                          hint=f"no NVIDIA GPU at index {target}")
    count = _nvml_call(nvml, "nvmlDeviceGetCount")
    for index in range(count):
        handle = _nvml_call(nvml, "nvmlDeviceGetHandleByIndex", index)
        if _text(_nvml_call(nvml, "nvmlDeviceGetUUID", handle)).startswith(target):
            return handle
    raise MeterUnavailable(f"CUDA_VISIBLE_DEVICES names {target!r} but none of the {count} "
                           "GPU(s) NVML lists has that UUID (nvidia-smi -L lists them)")


def _nvml_call(nvml: Any, name: str, *args: Any, hint: str = "") -> Any:
    """``nvml.<name>(*args)``; an NVML error becomes MeterUnavailable naming the call."""
    try:
        return getattr(nvml, name)(*args)
    except nvml.NVMLError as exc:
        lead = f"{hint} " if hint else ""
        raise MeterUnavailable(f"{lead}(NVML {name} failed: {exc}); this GPU cannot be "
                               "metered here") from exc


class NvmlMeter:
    """NVIDIA GPU energy via NVML.

    ``kind="nvml-total-energy"`` (default): the total-energy counter (mJ since driver load),
    which integrates the sensor in firmware (Volta and newer). Where that counter is not
    supported the meter refuses to open: power integration is only used when asked for
    (``kind="nvml-power-integration"``), and only from the instantaneous ``POWER_INSTANT``
    field, never from the plain reading, which is a 1 s average on recent GPUs (integrating it
    was -8.9% gross in rehearsal). Every NVML failure while opening is a
    :class:`MeterUnavailable` that names the call.
    """

    def __init__(self, device_index: int = 0, sample_period_s: float = 0.005,
                 pynvml: Any = None, *, kind: str = METER_COUNTER,
                 environ: Mapping[str, str] | None = None):
        if kind not in METER_KINDS:
            raise MeterUnavailable(f"unknown meter kind '{kind}'; use one of {', '.join(METER_KINDS)}")
        self._nvml = pynvml or _import_pynvml()
        try:
            self._nvml.nvmlInit()
        except self._nvml.NVMLError as exc:
            raise MeterUnavailable(
                f"NVML could not start ({exc}); is an NVIDIA driver installed and a GPU "
                "visible (nvidia-smi)?"
            ) from exc
        try:
            self.handle = resolve_nvml_handle(self._nvml, device_index, environ)
            self.gpu_name = _text(_nvml_call(self._nvml, "nvmlDeviceGetName", self.handle))
            self.uuid = _text(_nvml_call(self._nvml, "nvmlDeviceGetUUID", self.handle))
            self.name = kind
            self.bias = METER_BIAS[kind]
            # The CPU rehearsal's fake NVML says so; its records must never pass as measured.
            self.rehearsal = bool(getattr(self._nvml, "REHEARSAL", False))
            self._integrator: _PowerIntegrator | None = None
            if kind == METER_COUNTER:
                _nvml_call(self._nvml, "nvmlDeviceGetTotalEnergyConsumption", self.handle,
                           hint="the total-energy counter is not usable; pass --meter "
                                f"{METER_POWER_INTEGRATION} to integrate instantaneous power "
                                "(its bias is recorded)")
            else:
                self._instant_power_w()  # refuses before any sampling thread starts
                self._integrator = _PowerIntegrator(self._instant_power_w, sample_period_s)
        except BaseException:
            self._shutdown()
            raise
        self.device_index = device_index
        self.baseline = self.process_baseline()

    def energy_j(self) -> float:
        """Cumulative energy, J."""
        if self._integrator is not None:
            return self._integrator.energy_j()
        return self._nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) / 1000.0

    def _instant_power_w(self) -> float:
        """The ``POWER_INSTANT`` field, W.

        Raises:
            MeterUnavailable: The driver has no instantaneous power field.
        """
        nvml = self._nvml
        field_id = getattr(nvml, "NVML_FI_DEV_POWER_INSTANT", None)
        if field_id is None:
            raise MeterUnavailable("this nvidia-ml-py has no NVML_FI_DEV_POWER_INSTANT field; "
                                   "power cannot be integrated from the 1 s-averaged reading")
        values = _nvml_call(nvml, "nvmlDeviceGetFieldValues", self.handle, [field_id],
                            hint="no instantaneous power field (POWER_INSTANT); power cannot be "
                                 "integrated from the 1 s-averaged reading")
        value = values[0]
        status = getattr(value, "nvmlReturn", 0)
        if status != 0:
            raise MeterUnavailable(f"NVML nvmlDeviceGetFieldValues(POWER_INSTANT) returned "
                                   f"{status}: no instantaneous power; power cannot be "
                                   "integrated from the 1 s-averaged reading")
        return float(value.value.uiVal) / 1000.0

    def power_w(self) -> float:
        """Instantaneous power, W (the 1 s-averaged reading where no instant field exists;
        for display and sanity checks only, never integrated)."""
        try:
            return self._instant_power_w()
        except MeterUnavailable:
            return self._nvml.nvmlDeviceGetPowerUsage(self.handle) / 1000.0

    def _optional(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except self._nvml.NVMLError:
            return None

    def memory_used_mib(self) -> float | None:
        """The device's used memory, MiB (None where NVML does not say)."""
        info = self._optional(lambda: self._nvml.nvmlDeviceGetMemoryInfo(self.handle))
        used = getattr(info, "used", None)
        return used / 2**20 if isinstance(used, int | float) else None

    def _processes(self) -> list[Any] | None:
        return self._optional(lambda: self._nvml.nvmlDeviceGetComputeRunningProcesses(self.handle))

    def compute_pids(self) -> tuple[int, ...] | None:
        """PIDs NVML lists as computing on the device (None where it cannot list them)."""
        processes = self._processes()
        return None if processes is None else tuple(int(p.pid) for p in processes)

    def process_baseline(self) -> ProcessBaseline:
        """The listed PIDs and used memory now (take it before creating a CUDA context)."""
        return ProcessBaseline(frozenset(self.compute_pids() or ()), self.memory_used_mib())

    def state(self) -> GpuState:
        """The GPU's identity, limits, clocks and competing processes."""
        nvml, handle, optional = self._nvml, self.handle, self._optional
        reasons_call = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None) or \
            nvml.nvmlDeviceGetCurrentClocksThrottleReasons
        reasons_mask = optional(lambda: reasons_call(handle)) or 0
        limit_mw = optional(lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle))
        processes = self._processes() or []
        pids = tuple(int(p.pid) for p in processes)
        # NVML reports no per-process memory as None or a huge sentinel (NVML_VALUE_NOT_AVAILABLE).
        memory = tuple((int(p.pid), p.usedGpuMemory / 2**20) for p in processes
                       if isinstance(getattr(p, "usedGpuMemory", None), int) and 0 < p.usedGpuMemory < 2**50)
        mig = optional(lambda: nvml.nvmlDeviceGetMigMode(handle))
        return GpuState(
            name=self.gpu_name,
            uuid=self.uuid,
            driver=_text(optional(nvml.nvmlSystemGetDriverVersion) or "unknown"),
            power_limit_w=None if limit_mw is None else limit_mw / 1000.0,
            sm_clock_mhz=optional(lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM)),
            mem_clock_mhz=optional(lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_MEM)),
            temperature_c=optional(
                lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
            throttle_reasons=tuple(name for bit, name in _THROTTLE_BITS.items()
                                   if reasons_mask & bit),
            other_compute_pids=tuple(p for p in pids if p != os.getpid()),
            mig_enabled=bool(mig and mig[0]),
            compute_pids=pids,
            memory_used_mib=self.memory_used_mib(),
            compute_memory_mib=memory,
        )

    def _shutdown(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except self._nvml.NVMLError:
            pass

    def close(self) -> None:
        """Stop sampling and shut NVML down."""
        if getattr(self, "_integrator", None) is not None:
            self._integrator.stop()
        self._shutdown()


class _PowerIntegrator:
    """Integrates a power reading sampled in a background thread (GPUs without a counter)."""

    def __init__(self, read_power_w: Callable[[], float], period_s: float):
        self._read = read_power_w
        self._period_s = period_s
        self._lock = threading.Lock()
        self._energy_j = 0.0
        self._last = (time.perf_counter(), read_power_w())
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True, name="power-integrator")
        self._thread.start()

    def _run(self) -> None:
        while self._running:
            time.sleep(self._period_s)
            now, power = time.perf_counter(), self._read()
            with self._lock:
                last_t, last_p = self._last
                self._energy_j += (now - last_t) * (power + last_p) / 2.0
                self._last = (now, power)

    def energy_j(self) -> float:
        with self._lock:
            return self._energy_j

    def stop(self) -> None:
        self._running = False
        self._thread.join(timeout=1.0)


# ---------------------------------------------------------------------------------------------
# RAPL

RAPL_ROOT = Path("/sys/class/powercap")


class RaplMeter:
    """CPU package energy from Linux powercap (Intel RAPL / AMD), summed over packages.

    The counters wrap at ``max_energy_range_uj``; wraps between two reads are unwrapped here,
    so read at least every few minutes (a 2 s window is fine).
    """

    name = "rapl"

    def __init__(self, root: Path = RAPL_ROOT):
        zones = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
        if not zones:
            raise MeterUnavailable(
                f"no RAPL package zones under {root}; CPU energy needs Linux powercap "
                "(intel_rapl or amd_energy driver)"
            )
        self._zones = []
        for zone in zones:
            energy = zone / "energy_uj"
            try:
                int(energy.read_text())
            except PermissionError as exc:
                raise MeterUnavailable(
                    f"{energy} is not readable; run as root or `chmod o+r` it (kernels since "
                    "5.10 restrict RAPL to root)"
                ) from exc
            except OSError as exc:
                raise MeterUnavailable(f"{energy}: {exc.strerror}") from exc
            max_range = int((zone / "max_energy_range_uj").read_text())
            self._zones.append([energy, max_range, int(energy.read_text()), 0])
        self._last_t = time.perf_counter()
        self._last_e = self.energy_j()

    def energy_j(self) -> float:
        """Cumulative package energy since the meter started, J."""
        total_uj = 0
        for zone in self._zones:
            path, max_range, last, unwrapped = zone
            now = int(path.read_text())
            delta = now - last if now >= last else now + max_range - last
            zone[2], zone[3] = now, unwrapped + delta
            total_uj += zone[3]
        return total_uj / 1e6

    def power_w(self) -> float:
        """Average power since the previous call, W (RAPL has no instantaneous reading)."""
        now_t, now_e = time.perf_counter(), self.energy_j()
        power = (now_e - self._last_e) / max(now_t - self._last_t, 1e-9)
        self._last_t, self._last_e = now_t, now_e
        return power

    def close(self) -> None:
        """Nothing to release."""


def cuda_index(device: str) -> int:
    """``cuda`` -> 0, ``cuda:N`` -> N (torch's numbering, after CUDA_VISIBLE_DEVICES)."""
    if ":" not in device:
        return 0
    text = device.split(":", 1)[1]
    if not text.isdigit():
        raise MeterUnavailable(f"device '{device}': the GPU index must be a number (cuda:0)")
    return int(text)


def open_meter(device: str, kind: str | None = None) -> EnergyMeter:
    """The meter for a device: ``cuda[:N]`` -> NVML, ``cpu`` -> RAPL.

    Args:
        device: ``cuda``, ``cuda:N`` or ``cpu``.
        kind: GPU meter kind (default the energy counter); see :data:`METER_KINDS`.

    Raises:
        MeterUnavailable: With what is missing; never a meter that would read 0 J.
    """
    if device.startswith("cuda"):
        return NvmlMeter(cuda_index(device), kind=kind or METER_COUNTER)
    if device == "cpu":
        return RaplMeter()
    raise MeterUnavailable(f"unknown device '{device}'; use cuda, cuda:N or cpu")
