"""Energy meters behind one small interface: NVML (GPU) and RAPL (CPU).

Units are converted at this boundary: every meter reports joules and watts. A meter that
cannot work raises :class:`MeterUnavailable` saying what is missing; nothing here ever
reports 0 J in place of a reading.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from leaderboard.errors import LeaderboardError


class MeterUnavailable(LeaderboardError):
    """No usable energy meter: the message names what is missing and how to get it."""

    exit_code = 3


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


def _import_pynvml() -> Any:
    try:
        import pynvml
    except ImportError as exc:
        raise MeterUnavailable(
            "nvidia-ml-py is not installed; install the validator extras: "
            "pip install -e '.[measure]'"
        ) from exc
    return pynvml


class NvmlMeter:
    """NVIDIA GPU energy via NVML.

    Volta and newer: the total-energy counter (mJ since driver load), which integrates the
    sensor in firmware. Older GPUs: the power reading sampled every ``sample_period_s`` in a
    background thread and integrated by the trapezoid rule. Instantaneous power is read
    through the ``POWER_INSTANT`` field where the driver has it, because the plain power
    reading is a 1 s average on recent GPUs.
    """

    def __init__(self, device_index: int = 0, sample_period_s: float = 0.005,
                 pynvml: Any = None):
        self._nvml = pynvml or _import_pynvml()
        try:
            self._nvml.nvmlInit()
        except self._nvml.NVMLError as exc:
            raise MeterUnavailable(
                f"NVML could not start ({exc}); is an NVIDIA driver installed and a GPU "
                "visible (nvidia-smi)?"
            ) from exc
        try:
            self.handle = self._nvml.nvmlDeviceGetHandleByIndex(device_index)
        except self._nvml.NVMLError as exc:
            self._nvml.nvmlShutdown()
            raise MeterUnavailable(f"no NVIDIA GPU at index {device_index} ({exc})") from exc
        self.device_index = device_index
        self._integrator: _PowerIntegrator | None = None
        if self._has_energy_counter():
            self.name = "nvml-total-energy"
        else:
            self.name = "nvml-power-integration"
            self._integrator = _PowerIntegrator(self.power_w, sample_period_s)

    def _has_energy_counter(self) -> bool:
        try:
            self._nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
            return True
        except self._nvml.NVMLError:
            return False

    def energy_j(self) -> float:
        """Cumulative energy, J."""
        if self._integrator is not None:
            return self._integrator.energy_j()
        return self._nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) / 1000.0

    def power_w(self) -> float:
        """Instantaneous power, W (falls back to the default reading when not exposed)."""
        nvml = self._nvml
        field_id = getattr(nvml, "NVML_FI_DEV_POWER_INSTANT", None)
        if field_id is not None:
            try:
                values = nvml.nvmlDeviceGetFieldValues(self.handle, [field_id])
                value = values[0]
                if getattr(value, "nvmlReturn", 0) == 0:
                    return float(value.value.uiVal) / 1000.0
            except nvml.NVMLError:
                pass
        return nvml.nvmlDeviceGetPowerUsage(self.handle) / 1000.0

    def state(self) -> GpuState:
        """The GPU's identity, limits, clocks and competing processes."""
        nvml, handle = self._nvml, self.handle

        def optional(call: Callable[[], Any]) -> Any:
            try:
                return call()
            except nvml.NVMLError:
                return None

        def text(value: Any) -> str:
            return value.decode() if isinstance(value, bytes) else str(value)

        reasons_call = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None) or \
            nvml.nvmlDeviceGetCurrentClocksThrottleReasons
        reasons_mask = optional(lambda: reasons_call(handle)) or 0
        limit_mw = optional(lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle))
        processes = optional(lambda: nvml.nvmlDeviceGetComputeRunningProcesses(handle)) or []
        mig = optional(lambda: nvml.nvmlDeviceGetMigMode(handle))
        return GpuState(
            name=text(nvml.nvmlDeviceGetName(handle)),
            uuid=text(nvml.nvmlDeviceGetUUID(handle)),
            driver=text(optional(nvml.nvmlSystemGetDriverVersion) or "unknown"),
            power_limit_w=None if limit_mw is None else limit_mw / 1000.0,
            sm_clock_mhz=optional(lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM)),
            mem_clock_mhz=optional(lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_MEM)),
            temperature_c=optional(
                lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
            throttle_reasons=tuple(name for bit, name in _THROTTLE_BITS.items()
                                   if reasons_mask & bit),
            other_compute_pids=tuple(p.pid for p in processes if p.pid != os.getpid()),
            mig_enabled=bool(mig and mig[0]),
        )

    def close(self) -> None:
        """Stop sampling and shut NVML down."""
        if self._integrator is not None:
            self._integrator.stop()
        try:
            self._nvml.nvmlShutdown()
        except self._nvml.NVMLError:
            pass


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


def open_meter(device: str) -> EnergyMeter:
    """The meter for a device: ``cuda[:N]`` -> NVML, ``cpu`` -> RAPL.

    Raises:
        MeterUnavailable: With what is missing; never a meter that would read 0 J.
    """
    if device.startswith("cuda"):
        index = int(device.split(":", 1)[1]) if ":" in device else 0
        return NvmlMeter(index)
    if device == "cpu":
        return RaplMeter()
    raise MeterUnavailable(f"unknown device '{device}'; use cuda, cuda:N or cpu")
