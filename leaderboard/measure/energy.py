"""Measurement protocol v1: idle, warm-up, tick-aligned windows, statistics, sanity checks.

Energy counters move in steps (NVML: every ~20-100 ms). Reading the counter at arbitrary
window edges errs by up to a step of energy at each edge. Instead a background thread polls
the counter every few ms and timestamps each step ("tick"); a window's average power is the
energy between its first and last tick divided by the time between them, and its energy is
that power times the window's CUDA-synchronised duration. Random gaps between windows
de-phase the sensor's partial sampling (on A100/H100 it sees 25 ms of every 100 ms).
"""

from __future__ import annotations

import math
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from leaderboard.measure.gpu_processes import CLEAR, ProcessVerdict, judge_processes
from leaderboard.measure.meters import EnergyMeter, GpuState
from leaderboard.vocabulary import UNSTABLE_CV

SERIOUS_THROTTLE_REASONS = frozenset(
    {"hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"}
)

# Two-sided 95% Student-t quantiles by degrees of freedom (no scipy in the validator's deps).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
        17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000}


def t95(df: int) -> float:
    """Two-sided 95% Student-t quantile (conservative: the next smaller tabulated df)."""
    if df < 1:
        return math.inf
    return _T95[max(k for k in _T95 if k <= df)] if df <= 60 else 1.96


@dataclass(frozen=True)
class ProtocolConfig:
    """Protocol v1 parameters: idle, fixed warm-up, tick-aligned windows with random gaps, CI stop rule."""

    idle_s: float = 2.0
    warmup_s: float = 3.0
    window_s: float = 2.0
    min_windows: int = 5
    max_windows: int = 20
    max_gap_s: float = 0.5
    target_ci_half_width: float = 0.01
    """Stop adding windows once the 95% CI half-width is within this fraction of the median."""
    unstable_cv: float = UNSTABLE_CV
    power_limit_factor: float = 1.05
    idle_tolerance: float = 0.95
    """Average power below idle x this is refused (5% allows for sensor noise)."""
    poll_period_s: float = 0.002
    min_ticks_per_window: int = 3
    seed: int = 0


@dataclass(frozen=True)
class Window:
    """One measured window."""

    duration_s: float
    images: int
    batches: int
    power_w: float
    ticks: int
    start_s: float = 0.0
    """Clock reading at the window's synchronised start (for diagnostics)."""

    @property
    def j_per_image(self) -> float:
        """Energy per image over the window, J."""
        return self.power_w * self.duration_s / self.images


@dataclass
class EnergyMeasurement:
    """The protocol's result for one model, scenario and device."""

    meter: str
    idle_power_w: float
    windows: list[Window]
    status: str = "ok"
    reasons: list[str] = field(default_factory=list)

    @property
    def per_image_j(self) -> list[float]:
        """J/image of each window."""
        return [w.j_per_image for w in self.windows]

    @property
    def median_j(self) -> float:
        """Median gross J/image over windows."""
        return statistics.median(self.per_image_j)

    @property
    def cv(self) -> float:
        """Coefficient of variation of the per-window J/image."""
        values = self.per_image_j
        if len(values) < 2:
            return 0.0
        return statistics.stdev(values) / statistics.fmean(values)

    @property
    def ci95_j(self) -> tuple[float, float]:
        """95% confidence interval of the mean J/image (Student t over windows)."""
        values = self.per_image_j
        if len(values) < 2:
            return (values[0], values[0])
        half = t95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
        mean = statistics.fmean(values)
        return (mean - half, mean + half)

    @property
    def ci_half_width_rel(self) -> float:
        """CI half-width relative to the median."""
        low, high = self.ci95_j
        return (high - low) / 2 / self.median_j

    @property
    def avg_power_w(self) -> float:
        """Time-weighted average power over windows, W."""
        total_s = sum(w.duration_s for w in self.windows)
        return sum(w.power_w * w.duration_s for w in self.windows) / total_s

    @property
    def idle_subtracted_j(self) -> float:
        """Median J/image above idle power."""
        return statistics.median(
            max(w.power_w - self.idle_power_w, 0.0) * w.duration_s / w.images
            for w in self.windows
        )

    @property
    def throughput_img_s(self) -> float:
        """Images per second over all windows."""
        return sum(w.images for w in self.windows) / sum(w.duration_s for w in self.windows)

    @property
    def batch_latency_ms(self) -> float:
        """Median time of one batch, ms."""
        return statistics.median(1000.0 * w.duration_s / w.batches for w in self.windows)

    def refuse(self, reason: str) -> None:
        """Mark refused with a reason."""
        self.status = "refused"
        self.reasons.append(reason)

    def flag(self, reason: str) -> None:
        """Mark unstable (unless already refused) with a reason."""
        if self.status == "ok":
            self.status = "unstable"
        self.reasons.append(reason)


@dataclass(frozen=True)
class Tick:
    """One observed step of the energy counter."""

    time_s: float
    """Midpoint of the interval in which the step happened."""
    energy_j: float
    uncertainty_s: float
    """Length of that interval: the time since the previous poll that saw no step."""


class TickRecorder:
    """Polls a meter in a background thread and timestamps every step of its counter.

    A step happened between the previous poll and the one that saw it; the tick is timed at
    the midpoint of that interval. When the thread is descheduled (a loaded machine) the
    interval grows, and :func:`span_power` prefers ticks whose interval stayed short.
    """

    def __init__(self, meter: EnergyMeter, period_s: float = 0.002,
                 clock: Callable[[], float] = time.perf_counter):
        self._meter = meter
        self._period_s = period_s
        self._clock = clock
        self._lock = threading.Lock()
        self.ticks: list[Tick] = []
        self.went_backwards: list[tuple[float, float, float]] = []
        self._running = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> TickRecorder:
        before = self._clock()
        last = self._meter.energy_j()
        self.ticks.append(Tick(before, last, 0.0))
        self._running = True
        self._thread = threading.Thread(target=self._run, args=(last, before), daemon=True,
                                        name="energy-ticks")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def _run(self, last: float, previous_poll: float) -> None:
        while self._running:
            time.sleep(self._period_s)
            now = self._clock()
            value = self._meter.energy_j()
            if value != last:
                tick = Tick((previous_poll + now) / 2, value, now - previous_poll)
                with self._lock:
                    if value < last:
                        self.went_backwards.append((now, last, value))
                    self.ticks.append(tick)
                last = value
            previous_poll = now

    def between(self, start: float, end: float) -> list[Tick]:
        """Ticks timed within [start, end]."""
        with self._lock:
            return [t for t in self.ticks if start <= t.time_s <= end]


def span_power(ticks: list[Tick], max_uncertainty_s: float) -> float | None:
    """Average power between the first and last tick, W; ``None`` with fewer than two.

    The span's edges are the first and last ticks timed to within ``max_uncertainty_s``
    when there are two such ticks, else the first and last of all.
    """
    precise = [t for t in ticks if t.uncertainty_s <= max_uncertainty_s]
    edges = precise if len(precise) >= 2 else ticks
    if len(edges) < 2 or edges[-1].time_s <= edges[0].time_s:
        return None
    first, last = edges[0], edges[-1]
    return (last.energy_j - first.energy_j) / (last.time_s - first.time_s)


def measure_energy(
    run_batch: Callable[[], None],
    batch_size: int,
    meter: EnergyMeter,
    synchronize: Callable[[], None] = lambda: None,
    config: ProtocolConfig = ProtocolConfig(),
    power_limit_w: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> EnergyMeasurement:
    """Run protocol v1 on one workload.

    Args:
        run_batch: Runs one batch of inference (may return before the device finishes).
        batch_size: Images per batch.
        meter: The energy meter.
        synchronize: Waits until the device has finished queued work (``cuda.synchronize``).
        config: Protocol parameters.
        power_limit_w: The device's enforced power limit, for the sanity check.
        sleep: Sleep function (tests may shorten).
        clock: Monotonic clock in seconds.

    Returns:
        The measurement with its status and reasons; never a silent zero.
    """
    rng = random.Random(config.seed)
    with TickRecorder(meter, config.poll_period_s, clock) as ticks:
        idle_start = clock()
        sleep(config.idle_s)
        precise_s = 4 * config.poll_period_s
        idle_power = span_power(ticks.between(idle_start, clock()), precise_s)
        result = EnergyMeasurement(meter=meter.name, idle_power_w=idle_power or 0.0, windows=[])
        if idle_power is None:
            result.refuse(f"the energy counter did not move during {config.idle_s:g} s idle")
            return result

        warm_start = clock()
        while clock() - warm_start < config.warmup_s:
            run_batch()
        synchronize()

        while len(result.windows) < config.max_windows:
            sleep(rng.uniform(0.0, config.max_gap_s))
            synchronize()
            start = clock()
            batches = 0
            while clock() - start < config.window_s:
                run_batch()
                batches += 1
            synchronize()
            end = clock()
            window_ticks = ticks.between(start, end)
            power = span_power(window_ticks, precise_s)
            if power is None or len(window_ticks) < config.min_ticks_per_window:
                result.refuse(
                    f"window of {end - start:.3f} s saw {len(window_ticks)} counter tick(s); "
                    f"need {config.min_ticks_per_window} (lengthen window_s)"
                )
                return result
            if power <= 0:
                result.refuse(f"zero-energy window ({end - start:.3f} s)")
                return result
            result.windows.append(Window(end - start, batches * batch_size, batches, power,
                                         len(window_ticks), start))
            if (len(result.windows) >= config.min_windows
                    and result.ci_half_width_rel <= config.target_ci_half_width):
                break
        if ticks.went_backwards:
            t, before, after = ticks.went_backwards[0]
            result.refuse(f"energy counter went backwards ({before:.3f} J -> {after:.3f} J)")
    _check_power(result, config, power_limit_w)
    if result.cv > config.unstable_cv:
        result.flag(f"CV {result.cv:.1%} across windows exceeds {config.unstable_cv:.0%}")
    if result.ci_half_width_rel > config.target_ci_half_width:
        result.reasons.append(
            f"CI half-width {result.ci_half_width_rel:.2%} of the median after "
            f"{len(result.windows)} windows (target {config.target_ci_half_width:.0%})"
        )
    return result


def _check_power(result: EnergyMeasurement, config: ProtocolConfig,
                 power_limit_w: float | None) -> None:
    power = result.avg_power_w
    if power < result.idle_power_w * config.idle_tolerance:
        result.refuse(f"average power {power:.1f} W is below idle power "
                      f"{result.idle_power_w:.1f} W")
    if power_limit_w and power > power_limit_w * config.power_limit_factor:
        result.refuse(f"average power {power:.1f} W exceeds the power limit "
                      f"{power_limit_w:.0f} W x {config.power_limit_factor}")


def check_gpu_state(result: EnergyMeasurement, before: GpuState, after: GpuState,
                    processes: ProcessVerdict | None = None) -> ProcessVerdict:
    """Refuse or flag a measurement from the GPU's state around it; returns the process verdict.

    Args:
        result: The measurement to refuse or flag.
        before: The state at the start.
        after: The state now.
        processes: The process check's verdict (see :mod:`leaderboard.measure.gpu_processes`);
            by default judged from ``after``'s PIDs alone (visible foreign PIDs refuse).
    """
    if before.mig_enabled or after.mig_enabled:
        result.refuse("MIG is enabled: the energy counter covers the whole GPU, not the slice")
    if processes is None:
        processes = judge_processes(None, after.compute_pids or after.other_compute_pids,
                                    None, None)
    if processes.refused:
        result.refuse(processes.reason or "another process shares the GPU")
    elif processes.verdict != CLEAR:
        result.reasons.append(processes.describe())
    throttled = set(before.throttle_reasons) | set(after.throttle_reasons)
    # Running at the power cap is normal under load; thermal and hardware slowdowns are not.
    serious = sorted(throttled & SERIOUS_THROTTLE_REASONS)
    if serious:
        result.flag(f"clocks throttled: {', '.join(serious)}")
    return processes
