"""Measurement protocol v2: idle once per worker, warm-up until steady, sized sub-windows.

Protocol v1 pays idle, a fixed warm-up and 2 s windows with gaps for every model (15 s or more
on the GPU). v2 runs in a long-lived worker (:mod:`leaderboard.measure.worker`):

* idle power is measured once per worker and re-measured when older than ``idle_max_age_s``;
* warm-up runs until throughput is steady (the last three chunks within ``steady_tolerance``);
* each window starts at a de-phased moment after a counter tick (stratified over the counter
  period from a per-run seed, recorded), so no window locks to the sensor's 100 ms sampling;
  each window's power is the energy between its first and last tick over the time between them, so the
  counter's step size does not enter, only a tick's timing uncertainty (poll period plus the
  report lag's jitter, measured by the probe). Windows are sized from the warm-up's timing so
  that this uncertainty is under ``edge_error`` (0.2%) of a window, that a window holds at
  least ``min_ticks`` counter updates and many batches;
* the headline is the median J/image of at least 5 windows with a distribution-free CI around
  the median (order statistics), and each window's raw figures are kept.

Where the probe saw the counter's report lag vary, :func:`config_from_probe` falls back to v1's
windows (2 s, random gaps) inside the same worker. The window kit is :mod:`.windows`.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leaderboard.measure.meters import EnergyMeter
from leaderboard.measure.windows import (
    COOL_DOWN_MAX_S,
    Dephaser,
    EnergyMeasurement,
    IdleReading,
    TickRecorder,
    WindowConfig,
    add_reference,
    cool_down,
    finish,
    gpu_state_reader,
    measure_window,
    run_seed,
)
from leaderboard.records import DriftCheck, ProtocolDetails
from leaderboard.vocabulary import PROTOCOL_VERSION_V2


@dataclass(frozen=True)
class V2Config(WindowConfig):
    """Protocol v2 parameters; :func:`config_from_probe` derives them from the first-contact probe.

    Attributes:
        windows: Number of windows (at least 5; 6 gives a 96.9% order-statistic CI).
        window_mode: ``sub-windows`` (v2) or ``v1-windows`` (2 s windows with random gaps,
            used where the counter's report lag varies).
    """

    idle_s: float = 1.0
    max_gap_s: float = 0.0
    """v1-windows mode only: its random gaps (sub-windows are de-phased by tick, not by gap)."""
    poll_period_s: float = 0.001
    idle_max_age_s: float = 300.0
    warmup_chunk_s: float = 0.25
    warmup_min_s: float = 0.5
    warmup_max_s: float = 6.0
    steady_tolerance: float = 0.02
    windows: int = 6
    min_window_s: float = 0.4
    max_window_s: float = 4.0
    min_batches_per_window: int = 4
    edge_error: float = 0.002
    tick_uncertainty_s: float = 0.001
    counter_period_s: float = 0.1
    window_mode: str = "sub-windows"
    dephasing: str = "stratified"
    sampling_period_s: float = 0.1
    """The power sensor's sampling period the window phases are spread over (Hopper: 25 ms of
    every 100 ms), whatever the counter's update period."""
    """How sub-windows start (:class:`~leaderboard.measure.windows.Dephaser`); ``none`` only to
    show the bias that back-to-back windows get."""
    aliasing_tolerance: float = 0.01
    """How far the median may sit from the mean over the phase-stratified windows before the
    record is flagged (:func:`check_aliasing`)."""
    source: str = "defaults"

    def window_s(self, batch_s: float) -> float:
        """A window's length for a model whose batch takes ``batch_s``."""
        if self.window_mode == "v1-windows":
            return 2.0
        needed = max(2 * self.tick_uncertainty_s / self.edge_error,
                     (self.min_ticks + 1) * self.counter_period_s,
                     self.min_batches_per_window * batch_s, self.min_window_s)
        return min(needed, max(self.max_window_s, batch_s * 3))


def config_from_probe(probe: Mapping[str, Any] | None, **overrides: Any) -> V2Config:
    """v2's parameters from the probe's JSON (``leaderboard.measure.probe``).

    The counter's update period (90th percentile, ``update_period_p90_s``; else the median)
    bounds the window from below (``min_ticks`` updates); the poll period and the report lag's
    jitter make a tick's timing uncertainty. A varying lag (jitter above a poll period) falls
    back to v1's windows.
    """
    base = V2Config(**overrides)
    counter = (probe or {}).get("counter") or {}
    period_s = counter.get("update_period_s")
    if not isinstance(period_s, int | float) or period_s <= 0:
        return base
    jitter_s = float(counter.get("lag_jitter_s") or 0.0)
    poll_s = float(counter.get("poll_period_s") or base.poll_period_s)
    # A robust statistic of the period bounds the window: its 90th percentile when the probe
    # gives one, else the median. Never the maximum: one slow read would lengthen every window.
    p90_s = counter.get("update_period_p90_s")
    if isinstance(p90_s, int | float) and p90_s > period_s:
        period_s = p90_s
    changes: dict[str, Any] = {
        "counter_period_s": float(period_s),
        "tick_uncertainty_s": poll_s / 2 + jitter_s,
        "poll_period_s": poll_s,
        "source": "probe",
    }
    if counter.get("lag") == "varying":
        changes.update(window_mode="v1-windows", max_gap_s=0.5, windows=5)
    return V2Config(**{**base.__dict__, **changes, **overrides})


@dataclass
class V2Measurement(EnergyMeasurement):
    """Protocol v2's result: the shared measurement plus the warm-up and the window size."""

    warmup_s: float = 0.0
    warmup_steady: bool = True
    window_s: float = 0.0
    idle_age_s: float = 0.0
    config: V2Config = field(default_factory=V2Config)

    @property
    def spread(self) -> float:
        """(max - min) / median of the windows' J/image."""
        values = self.per_image_j
        return (max(values) - min(values)) / statistics.median(values)


def _warm_up(run_batch: Callable[[], None], synchronize: Callable[[], None], batch_size: int,
             config: V2Config, clock: Callable[[], float]) -> tuple[float, float, bool]:
    """Run until throughput is steady: ``(batch_s, warm-up seconds, steady)``."""
    start = clock()
    rates: list[float] = []
    batch_s = 0.0
    while True:
        chunk_start, batches = clock(), 0
        while batches == 0 or clock() - chunk_start < config.warmup_chunk_s:
            run_batch()
            batches += 1
        synchronize()
        took = clock() - chunk_start
        batch_s = took / batches
        rates.append(batches * batch_size / took)
        elapsed = clock() - start
        last = rates[-3:]
        if (elapsed >= config.warmup_min_s and len(last) == 3
                and (max(last) - min(last)) / statistics.median(last) <= config.steady_tolerance):
            return batch_s, elapsed, True
        if elapsed >= config.warmup_max_s:
            return batch_s, elapsed, False


def measure_v2(
    run_batch: Callable[[], None],
    batch_size: int,
    meter: EnergyMeter,
    idle: IdleReading,
    synchronize: Callable[[], None] = lambda: None,
    config: V2Config | None = None,
    power_limit_w: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> V2Measurement:
    """Run protocol v2 on one workload: the arguments of
    :func:`~leaderboard.measure.protocol_v1.measure_v1`, plus the worker's ``idle`` reading
    (:func:`~leaderboard.measure.windows.measure_idle`, taken once per worker).

    Returns:
        The measurement with status, reasons and seed; never a silent zero.
    """
    config = config or V2Config()
    seed = run_seed(config)
    result = V2Measurement(meter=meter.name, idle_power_w=idle.power_w, windows=[], seed=seed,
                           config=config, idle_age_s=max(clock() - idle.measured_at_s, 0.0))
    batch_s, result.warmup_s, result.warmup_steady = _warm_up(run_batch, synchronize, batch_size,
                                                              config, clock)
    if not result.warmup_steady:
        result.flag(f"throughput not steady within {config.warmup_max_s:g} s of warm-up "
                    f"(last three chunks differ by more than {config.steady_tolerance:.0%})")
    result.window_s = window_s = config.window_s(batch_s)
    precise_s = 4 * config.poll_period_s
    dephaser = Dephaser(seed, config.windows, config.sampling_period_s, config.max_gap_s,
                        config.dephasing if config.window_mode == "sub-windows" else "gaps",
                        precise_s)
    state = gpu_state_reader(meter)
    with TickRecorder(meter, config.poll_period_s, clock) as ticks:
        for _ in range(config.windows):
            dephaser.wait(ticks, synchronize, clock, sleep)
            window = measure_window(run_batch, synchronize, batch_size, window_s, ticks,
                                    config.min_ticks, precise_s, clock, state)
            if isinstance(window, str):
                result.refuse(f"{window} (the probe's update period was "
                              f"{config.counter_period_s:g} s)")
                return result
            result.windows.append(window)
        finish(result, ticks, config, power_limit_w)
    if config.dephasing == "stratified":
        check_aliasing(result, config.aliasing_tolerance)
    return result


def check_aliasing(result: V2Measurement, tolerance: float) -> None:
    """Flag a measurement whose median and phase-stratified mean disagree (aliasing suspected).

    The mean over the strata averages the sensor's partial sampling out; the median does so
    only for a waveform symmetric under a half-period shift (benchmarks/dephasing.py: a batch
    locked to the 100 ms period with a 30% high duty puts the median 8.5% low and the mean
    within 1.6%).
    """
    values = result.per_image_j
    if len(values) < 2:
        return
    mean_j = statistics.fmean(values)
    gap = result.median_j / mean_j - 1
    if abs(gap) > tolerance:
        result.flag(f"median J/image is {gap:+.1%} from the mean over the phase-stratified "
                    f"windows (more than {tolerance:.0%}): the power sensor's partial sampling "
                    f"may alias this workload's period; the mean is {mean_j:.6g} J/image")


@dataclass
class V2Run:
    """Protocol v2 in a long-lived worker: its idle reading, parameters and drift check."""

    idle: IdleReading
    config: V2Config = V2Config()
    latest_drift: DriftCheck | None = None
    version: str = PROTOCOL_VERSION_V2
    reference_s: float = 0.0
    cool_down_max_s: float = COOL_DOWN_MAX_S
    """Before each model, wait until power is within 10% of idle, or this long (0: never)."""

    def key_parameters(self) -> dict[str, Any] | None:
        """The window mode (v1 windows and sub-windows are different measurements); every
        parameter but the seed when some were overridden by hand."""
        if "overrides" in self.config.source:
            return dataclasses.asdict(dataclasses.replace(self.config, seed=None))
        return {"window_mode": self.config.window_mode}

    def measure(self, workload: Any, meter: Any, power_limit_w: float | None) -> EnergyMeasurement:
        """Cool down, protocol v2 on ``workload``, then the reference window when asked for."""
        rested = cool_down(meter, self.idle.power_w, max_s=self.cool_down_max_s) \
            if self.cool_down_max_s > 0 else None
        result = measure_v2(workload.run_batch, workload.batch_size, meter, self.idle,
                            workload.synchronize, self.config, power_limit_w)
        result.cool_down = rested
        add_reference(result, workload, meter, self.reference_s, self.config.poll_period_s)
        return result

    def details(self, result: EnergyMeasurement) -> ProtocolDetails | None:
        """Window size, warm-up, CI coverage and where the parameters came from."""
        if not isinstance(result, V2Measurement) or not result.windows:
            return None
        mode = "v1-windows" if self.config.window_mode == "v1-windows" else "sub-windows"
        return ProtocolDetails(
            window_mode=mode, window_s=float(result.window_s), warmup_s=float(result.warmup_s),
            warmup_steady=result.warmup_steady, ci_level=float(result.ci_level),
            idle_age_s=float(result.idle_age_s), parameters_from=self.config.source,
            tick_uncertainty_s=float(self.config.tick_uncertainty_s),
            counter_period_s=float(self.config.counter_period_s))

    def drift(self) -> DriftCheck | None:
        """The worker's latest drift check."""
        return self.latest_drift
