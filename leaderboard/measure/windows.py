"""The window kit both protocols measure with: windows, the tick recorder, statistics, checks.

Energy counters move in steps (NVML: every ~20-100 ms). Reading the counter at arbitrary
window edges errs by up to a step of energy at each edge. Instead a background thread polls
the counter every few ms and timestamps each step ("tick"); a window's average power is the
energy between its first and last tick divided by the time between them, and its energy is
that power times the window's CUDA-synchronised duration.

Hopper's power sensor sees about 25 ms of every 100 ms: a model whose batches lock to that
period would be sensed at one phase only. Both protocols therefore start their windows at
de-phased moments drawn from a per-run seed (:class:`Dephaser`), and record the seed.

The protocol algorithms (:mod:`.protocol_v1`, :mod:`.protocol_v2`) put these pieces together;
:class:`ProtocolRun` is what the runner asks of either.
"""

from __future__ import annotations

import math
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from leaderboard.measure.gpu_processes import CLEAR, ProcessVerdict, judge_processes
from leaderboard.measure.meters import EnergyMeter, GpuState
from leaderboard.records import DriftCheck, ProtocolDetails
from leaderboard.vocabulary import POWER_LIMIT_FACTOR, UNSTABLE_CV

SERIOUS_THROTTLE_REASONS = frozenset(
    {"hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"}
)


@dataclass(frozen=True)
class WindowConfig:
    """What both protocols' parameters share (each protocol adds its own and its defaults).

    Attributes:
        seed: Seed of the window de-phasing; ``None`` draws a fresh one per run (recorded).
        min_ticks: Counter steps a window must see to be measured at all.
    """

    idle_s: float = 2.0
    max_gap_s: float = 0.5
    unstable_cv: float = UNSTABLE_CV
    power_limit_factor: float = POWER_LIMIT_FACTOR
    idle_tolerance: float = 0.95
    """Average power below idle x this is refused (5% allows for sensor noise)."""
    poll_period_s: float = 0.002
    min_ticks: int = 3
    seed: int | None = None


def run_seed(config: WindowConfig) -> int:
    """The configured seed, or a fresh one for this run (never the same 0 every run)."""
    return config.seed if config.seed is not None else random.SystemRandom().randrange(2**31)


@dataclass(frozen=True)
class Window:
    """One measured window, with the GPU's clocks, temperature and throttling right after it."""

    duration_s: float
    images: int
    batches: int
    power_w: float
    ticks: int
    start_s: float = 0.0
    """Clock reading at the window's synchronised start (for diagnostics)."""
    sm_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None
    temperature_c: float | None = None
    throttle_reasons: tuple[str, ...] = ()

    @property
    def j_per_image(self) -> float:
        """Energy per image over the window, J."""
        return self.power_w * self.duration_s / self.images


def median_ci(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """A distribution-free CI of the median from order statistics: ``(low, high, confidence)``.

    The narrowest symmetric pair ``(x_(k), x_(n-k+1))`` whose coverage is at least ``level``;
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
class EnergyMeasurement:
    """A protocol's result for one model, scenario and device.

    Attributes:
        seed: The de-phasing seed this run used (recorded, so a run can be replayed).
        cool_down: The wait before this model (protocol v2's worker), when there was one.
        reference: The long reference window measured after the protocol, when asked for.
    """

    meter: str
    idle_power_w: float
    windows: list[Window]
    status: str = "ok"
    reasons: list[str] = field(default_factory=list)
    seed: int | None = None
    cool_down: CoolDown | None = None
    reference: Reference | None = None

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
        """Distribution-free CI of the median J/image (order statistics; see :func:`median_ci`)."""
        low, high, _ = median_ci(self.per_image_j)
        return low, high

    @property
    def ci_level(self) -> float:
        """The coverage :attr:`ci95_j` really has (below 95% with five windows or fewer)."""
        return median_ci(self.per_image_j)[2] if self.windows else 0.0

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
class CoolDown:
    """The wait before a model: until power was back near idle, or the time bound passed."""

    waited_s: float
    power_w: float
    target_w: float
    reached: bool


@dataclass(frozen=True)
class Reference:
    """One long tick-aligned window on the same workload, to check the protocol against."""

    window_s: float
    j_per_image: float


class ProtocolRun(Protocol):
    """One protocol, ready to measure workloads: what the runner asks of v1 and v2 alike."""

    version: str
    reference_s: float
    """Length of the reference window to measure after the protocol (0: none)."""

    def key_parameters(self) -> dict[str, Any] | None:
        """Parameters that make a record differ from the protocol's defaults (for the skip key)."""

    def measure(self, workload: Any, meter: Any, power_limit_w: float | None) -> EnergyMeasurement:
        """Measure one workload."""

    def details(self, result: EnergyMeasurement) -> ProtocolDetails | None:
        """The record's ``protocol_details``."""

    def drift(self) -> DriftCheck | None:
        """The latest drift check, when this protocol keeps one."""


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




class Dephaser:
    """When each window starts, so that no window locks to the sensor's 100 ms sampling.

    ``stratified`` (protocol v2): before window ``k`` wait for a counter tick, then for
    ``(slot + u) / n`` of the sampling period, the slots shuffled and ``u`` drawn once: where
    the counter updates on the sensor's grid the windows' phases cover the period evenly, and
    where it does not they are still spread. ``gaps`` (protocol v1): a uniform random gap of
    up to ``max_gap_s``. Both draw from ``random.Random(seed)``. ``none`` starts the first
    window on a tick and the rest back to back (what v2 did before; kept to show the bias).
    """

    MODES = ("stratified", "gaps", "none")

    def __init__(self, seed: int, windows: int, period_s: float, max_gap_s: float, mode: str,
                 precise_s: float = 0.004):
        if mode not in self.MODES:
            raise ValueError(f"unknown de-phasing mode '{mode}'; use one of {', '.join(self.MODES)}")
        self.seed = seed
        self._rng = random.Random(seed)
        self._period_s, self._max_gap_s, self._mode = period_s, max_gap_s, mode
        self._precise_s = precise_s
        offset = self._rng.random()
        self._phases = [(slot + offset) / max(windows, 1) for slot in range(max(windows, 1))]
        self._rng.shuffle(self._phases)
        self._next = 0

    def wait(self, ticks: TickRecorder, synchronize: Callable[[], None],
             clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        """Drain the device, then wait until the next window may start."""
        synchronize()
        first = self._next == 0
        self._next += 1
        if self._mode == "stratified":
            # 3 x the sampling period is long enough for a tick at any counter seen (<= 100 ms).
            tick_s = _wait_for_tick(ticks, 3 * self._period_s, clock, sleep, self._precise_s)
            phase = self._phases[(self._next - 1) % len(self._phases)]
            # Timed from the tick itself, not from when we saw it, and the last stretch spun:
            # a few ms of lateness would shift the phase the strata are meant to spread.
            _sleep_until((tick_s if tick_s is not None else clock()) + phase * self._period_s,
                         clock, sleep)
        elif self._mode == "gaps" and self._max_gap_s > 0:
            sleep(self._rng.uniform(0.0, self._max_gap_s))
        elif self._mode == "none" and first:
            _wait_for_tick(ticks, 3 * self._period_s, clock, sleep)
        synchronize()


def _sleep_until(moment_s: float, clock: Callable[[], float],
                 sleep: Callable[[float], None], spin_s: float = 0.002) -> None:
    """Sleep until ``spin_s`` before ``moment_s``, then spin (sleep overshoots by ms)."""
    left = moment_s - clock() - spin_s
    if left > 0:
        sleep(left)
    while clock() < moment_s:
        sleep(0)  # yields only; a simulated clock moves one step


def _wait_for_tick(ticks: TickRecorder, timeout_s: float, clock: Callable[[], float],
                   sleep: Callable[[float], None], precise_s: float = math.inf) -> float | None:
    """Return right after the counter's next step timed within ``precise_s`` (or, at the
    timeout, any step), with its time; None when the counter did not move."""
    seen = len(ticks.ticks)
    deadline = clock() + timeout_s
    while clock() < deadline:
        fresh = ticks.ticks[seen:]
        if fresh and fresh[-1].uncertainty_s <= precise_s:
            return fresh[-1].time_s
        sleep(0.0002)
    return ticks.ticks[-1].time_s if len(ticks.ticks) > seen else None


def measure_window(run_batch: Callable[[], None], synchronize: Callable[[], None], batch_size: int,
                   length_s: float, ticks: TickRecorder, min_ticks: int, precise_s: float,
                   clock: Callable[[], float],
                   gpu_state: Callable[[], GpuState] | None = None) -> Window | str:
    """Run batches for ``length_s`` and measure them: the window, or why it cannot be measured."""
    start, batches = clock(), 0
    while batches == 0 or clock() - start < length_s:
        run_batch()
        batches += 1
    synchronize()
    end = clock()
    window_ticks = ticks.between(start, end)
    power = span_power(window_ticks, precise_s)
    if power is None or len(window_ticks) < min_ticks:
        return (f"window of {end - start:.3f} s saw {len(window_ticks)} counter tick(s); "
                f"need {min_ticks}")
    if power <= 0:
        return f"zero-energy window ({end - start:.3f} s)"
    # The state right after the window: clocks and temperature under this window's load.
    state = gpu_state() if gpu_state is not None else None
    return Window(end - start, batches * batch_size, batches, power, len(window_ticks), start,
                  sm_clock_mhz=_float_or_none(state.sm_clock_mhz) if state else None,
                  mem_clock_mhz=_float_or_none(state.mem_clock_mhz) if state else None,
                  temperature_c=_float_or_none(state.temperature_c) if state else None,
                  throttle_reasons=tuple(state.throttle_reasons) if state else ())


def _float_or_none(value: float | None) -> float | None:
    return None if value is None else float(value)


def gpu_state_reader(meter: EnergyMeter) -> Callable[[], GpuState] | None:
    """The meter's ``state()`` when it has one (NVML), for per-window clocks and temperature."""
    state = getattr(meter, "state", None)
    return state if callable(state) else None


@dataclass(frozen=True)
class IdleReading:
    """Idle power of the device.

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


def finish(result: EnergyMeasurement, ticks: TickRecorder, config: WindowConfig,
           power_limit_w: float | None) -> None:
    """The checks every measurement ends with: counter direction, power bounds, CV."""
    if ticks.went_backwards:
        _, before, after = ticks.went_backwards[0]
        result.refuse(f"energy counter went backwards ({before:.3f} J -> {after:.3f} J)")
    if result.windows:
        check_power(result, config, power_limit_w)
    if result.cv > config.unstable_cv:
        result.flag(f"CV {result.cv:.1%} across windows exceeds {config.unstable_cv:.0%}")


COOL_DOWN_MAX_S = 3.0
"""The cool-down's time bound: a lease yields a record every ~5 s, so the wait must stay short;
the record says whether power reached near-idle within it."""


def cool_down(meter: EnergyMeter, idle_w: float, tolerance: float = 1.10,
              max_s: float = COOL_DOWN_MAX_S,
              step_s: float = 0.1, sleep: Callable[[float], None] = time.sleep,
              clock: Callable[[], float] = time.perf_counter) -> CoolDown:
    """Wait until the meter's power is within ``tolerance`` x ``idle_w``, or ``max_s`` passed.

    A model measured right after a heavy one would otherwise start on a hot, still-busy
    device (fans, leakage, a ramping-down clock), and its J/image would carry the last one's.
    """
    target_w = idle_w * tolerance
    start = clock()
    while True:
        power_w = meter.power_w()
        waited_s = clock() - start
        if power_w <= target_w or waited_s >= max_s:
            return CoolDown(waited_s, power_w, target_w, power_w <= target_w)
        sleep(step_s)


def measure_reference(run_batch: Callable[[], None], synchronize: Callable[[], None],
                      batch_size: int, meter: EnergyMeter, length_s: float,
                      poll_period_s: float = 0.001,
                      sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.perf_counter) -> Reference | None:
    """One ``length_s`` window started on a counter tick; None when it saw too few ticks.

    Its J/image is what the protocol's short windows should agree with: the campaign measures
    it for a few entries of every lease and records protocol over reference.
    """
    with TickRecorder(meter, poll_period_s, clock) as ticks:
        synchronize()
        _wait_for_tick(ticks, 1.0, clock, sleep, 4 * poll_period_s)
        window = measure_window(run_batch, synchronize, batch_size, length_s, ticks, 2,
                                4 * poll_period_s, clock)
    return None if isinstance(window, str) else Reference(window.duration_s, window.j_per_image)


def add_reference(result: EnergyMeasurement, workload: Any, meter: EnergyMeter, length_s: float,
                  poll_period_s: float) -> None:
    """Measure the reference window after a measured result (when ``length_s`` > 0)."""
    if length_s > 0 and result.windows and result.status != "refused":
        result.reference = measure_reference(workload.run_batch, workload.synchronize,
                                             workload.batch_size, meter, length_s, poll_period_s)


def check_power(result: EnergyMeasurement, config: WindowConfig,
                power_limit_w: float | None) -> None:
    """Refuse average power below idle or above the enforced limit."""
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
