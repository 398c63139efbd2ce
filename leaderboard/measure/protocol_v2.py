"""Measurement protocol v2: idle once per worker, warm-up until steady, sized sub-windows.

Protocol v1 pays idle, a fixed warm-up and 2 s windows with gaps for every model (15 s or more
on the GPU). v2 runs in a long-lived worker (:mod:`leaderboard.measure.lease_worker`):

* idle power is measured once per worker and re-measured when older than ``idle_max_age_s``;
* warm-up runs until throughput is steady (the last three chunks within ``steady_tolerance``);
* the windows are back to back, their first one starting on a counter tick; each window's
  power is the energy between its first and last tick over the time between them, so the
  counter's step size does not enter, only a tick's timing uncertainty (poll period plus the
  report lag's jitter, measured by the probe). Windows are sized from the warm-up's timing so
  that this uncertainty is under ``edge_error`` (0.2%) of a window, that a window holds at
  least ``min_ticks`` counter updates and many batches;
* the headline is the median J/image of at least 5 windows with a distribution-free CI around
  the median (order statistics), and each window's raw figures are kept.

Where the probe saw the counter's report lag vary, :func:`config_from_probe` falls back to v1's
windows (2 s, random gaps) inside the same worker.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leaderboard.measure.energy import (
    EnergyMeasurement,
    TickRecorder,
    Window,
    _check_power,
    span_power,
)
from leaderboard.measure.meters import EnergyMeter
from leaderboard.vocabulary import UNSTABLE_CV


@dataclass(frozen=True)
class V2Config:
    """Protocol v2 parameters; :func:`config_from_probe` derives them from the first-contact probe.

    Attributes:
        windows: Number of windows (at least 5; 6 gives a 96.9% order-statistic CI).
        window_mode: ``sub-windows`` (v2) or ``v1-windows`` (2 s windows with random gaps,
            used where the counter's report lag varies).
    """

    idle_s: float = 1.0
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
    min_ticks: int = 3
    max_gap_s: float = 0.0
    window_mode: str = "sub-windows"
    unstable_cv: float = UNSTABLE_CV
    power_limit_factor: float = 1.05
    idle_tolerance: float = 0.95
    poll_period_s: float = 0.001
    source: str = "defaults"
    seed: int = 0

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

    The counter's slowest update period seen bounds the window from below (``min_ticks``
    updates); the poll period and the report lag's jitter make a tick's timing uncertainty. A varying lag
    (jitter above a poll period) falls back to v1's windows.
    """
    base = V2Config(**overrides)
    counter = (probe or {}).get("counter") or {}
    period_s = counter.get("update_period_s")
    if not isinstance(period_s, int | float) or period_s <= 0:
        return base
    jitter_s = float(counter.get("lag_jitter_s") or 0.0)
    poll_s = float(counter.get("poll_period_s") or base.poll_period_s)
    # The slowest update seen bounds the window: a window must hold min_ticks updates even
    # when they come at that pace (a median-sized window sometimes saw only two).
    slowest_s = counter.get("update_period_max_s")
    if isinstance(slowest_s, int | float) and slowest_s > period_s:
        period_s = slowest_s
    changes: dict[str, Any] = {
        "counter_period_s": float(period_s),
        "tick_uncertainty_s": poll_s / 2 + jitter_s,
        "poll_period_s": poll_s,
        "source": "probe",
    }
    if counter.get("lag") == "varying":
        changes.update(window_mode="v1-windows", max_gap_s=0.5, windows=5)
    return V2Config(**{**base.__dict__, **changes, **overrides})


@dataclass(frozen=True)
class IdleReading:
    """Idle power of the device, measured once per worker.

    Attributes:
        power_w: Average idle power, W.
        measured_at_s: Clock reading when it was measured.
    """

    power_w: float
    measured_at_s: float


def measure_idle(meter: EnergyMeter, seconds: float, poll_period_s: float = 0.001,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.perf_counter) -> IdleReading | None:
    """Average power over ``seconds`` of doing nothing; None when the counter did not move."""
    with TickRecorder(meter, poll_period_s, clock) as ticks:
        start = clock()
        sleep(seconds)
        power = span_power(ticks.between(start, clock()), 4 * poll_period_s)
    return None if power is None else IdleReading(power, clock())


def median_ci(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """A distribution-free CI of the median from order statistics: ``(low, high, confidence)``.

    The widest symmetric pair ``(x_(k), x_(n-k+1))`` whose coverage is at least ``level``;
    with too few values (n <= 5) it is (min, max) at the coverage that pair has.
    """
    ordered = sorted(values)
    n = len(ordered)
    if n == 1:
        return ordered[0], ordered[0], 0.0

    def coverage(k: int) -> float:  # P(x_(k) <= median <= x_(n-k+1)), 1-based k
        tail = sum(math.comb(n, i) for i in range(k)) / 2**n
        return 1.0 - 2.0 * tail

    k = 1
    while k + 1 <= n // 2 and coverage(k + 1) >= level:
        k += 1
    return ordered[k - 1], ordered[n - k], coverage(k)


@dataclass
class V2Measurement(EnergyMeasurement):
    """Protocol v2's result: v1's measurement plus the warm-up and the CI around the median."""

    warmup_s: float = 0.0
    warmup_steady: bool = True
    window_s: float = 0.0
    ci_level: float = 0.0
    idle_age_s: float = 0.0
    config: V2Config = field(default_factory=V2Config)

    @property
    def ci95_j(self) -> tuple[float, float]:
        """CI of the median J/image (order statistics)."""
        low, high, _ = median_ci(self.per_image_j)
        return low, high

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


def _wait_for_tick(ticks: TickRecorder, timeout_s: float, clock: Callable[[], float],
                   sleep: Callable[[float], None]) -> None:
    """Return right after the counter's next step (so the first window starts on a tick)."""
    seen = len(ticks.ticks)
    deadline = clock() + timeout_s
    while len(ticks.ticks) == seen and clock() < deadline:
        sleep(0.0002)


def measure_v2(
    run_batch: Callable[[], None],
    batch_size: int,
    meter: EnergyMeter,
    idle: IdleReading,
    synchronize: Callable[[], None] = lambda: None,
    config: V2Config = V2Config(),
    power_limit_w: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> V2Measurement:
    """Run protocol v2 on one workload (idle measured by the caller, once per worker).

    Args:
        run_batch: Runs one batch of inference (may return before the device finishes).
        batch_size: Images per batch.
        meter: The energy meter.
        idle: The worker's idle reading (:func:`measure_idle`).
        synchronize: Waits until the device has finished queued work.
        config: Protocol parameters.
        power_limit_w: The enforced power limit, for the sanity check.
        sleep: Sleep function.
        clock: Monotonic clock, s.

    Returns:
        The measurement with status and reasons; never a silent zero.
    """
    rng = random.Random(config.seed)
    result = V2Measurement(meter=meter.name, idle_power_w=idle.power_w, windows=[],
                           config=config, idle_age_s=max(clock() - idle.measured_at_s, 0.0))
    batch_s, result.warmup_s, result.warmup_steady = _warm_up(run_batch, synchronize, batch_size,
                                                              config, clock)
    if not result.warmup_steady:
        result.flag(f"throughput not steady within {config.warmup_max_s:g} s of warm-up "
                    f"(last three chunks differ by more than {config.steady_tolerance:.0%})")
    result.window_s = window_s = config.window_s(batch_s)
    precise_s = 4 * config.poll_period_s
    with TickRecorder(meter, config.poll_period_s, clock) as ticks:
        _wait_for_tick(ticks, 3 * config.counter_period_s, clock, sleep)
        for _ in range(config.windows):
            if config.max_gap_s > 0:
                sleep(rng.uniform(0.0, config.max_gap_s))
                synchronize()
            start, batches = clock(), 0
            while batches == 0 or clock() - start < window_s:
                run_batch()
                batches += 1
            synchronize()
            end = clock()
            window_ticks = ticks.between(start, end)
            power = span_power(window_ticks, precise_s)
            if power is None or len(window_ticks) < config.min_ticks:
                result.refuse(f"window of {end - start:.3f} s saw {len(window_ticks)} counter "
                              f"tick(s); need {config.min_ticks} (the probe's update period "
                              f"was {config.counter_period_s:g} s)")
                return result
            if power <= 0:
                result.refuse(f"zero-energy window ({end - start:.3f} s)")
                return result
            result.windows.append(Window(end - start, batches * batch_size, batches, power,
                                         len(window_ticks), start))
        if ticks.went_backwards:
            _, before, after = ticks.went_backwards[0]
            result.refuse(f"energy counter went backwards ({before:.3f} J -> {after:.3f} J)")
    _, _, result.ci_level = median_ci(result.per_image_j)
    _check_power(result, config, power_limit_w)  # type: ignore[arg-type]
    if result.cv > config.unstable_cv:
        result.flag(f"CV {result.cv:.1%} across windows exceeds {config.unstable_cv:.0%}")
    return result
