"""Protocol v1 against a simulated meter: statistics, stopping, and every sanity check."""

from __future__ import annotations

import dataclasses
import os
import statistics

import pytest

from leaderboard.measure.meters import GpuState
from leaderboard.measure.protocol_v1 import V1Config, measure_v1
from leaderboard.measure.windows import EnergyMeasurement, Window, check_gpu_state, median_ci
from leaderboard.testing import FakeMeter

FAST = V1Config(idle_s=0.15, warmup_s=0.05, window_s=0.15, min_windows=3, max_windows=6,
                max_gap_s=0.02, poll_period_s=0.001, seed=1)
# The refusal checks run after the last window whatever the windows hold: the minimum is
# enough for them (FAST's 1% CI target is often missed here, and then it runs six).
AT_THE_MINIMUM = dataclasses.replace(FAST, max_windows=FAST.min_windows)
BATCH_S = 0.01
BATCH = 32


def run(meter: FakeMeter, config: V1Config = FAST, **kwargs) -> EnergyMeasurement:
    return measure_v1(lambda: meter.busy(BATCH_S), BATCH, meter, config=config, **kwargs)


def true_j_per_image(meter: FakeMeter, window: Window) -> float:
    """What the simulated device really spent per image in a window (gaps included)."""
    end = window.start_s + window.duration_s
    return meter.true_energy_j(window.start_s, end) / window.images


def test_energy_per_image_matches_the_simulated_physics():
    meter = FakeMeter(idle_power_w=60.0, busy_power_w=240.0, tick_s=0.005)
    result = run(meter)
    assert result.status in ("ok", "unstable"), result.reasons
    for window in result.windows:
        assert window.j_per_image == pytest.approx(true_j_per_image(meter, window), rel=0.05)
    # back to back, a batch costs (60 + 240) W x 10 ms; gaps between batches only add idle
    assert result.median_j >= (60.0 + 240.0) * BATCH_S / BATCH * 0.95
    assert result.idle_power_w == pytest.approx(60.0, rel=0.05)
    assert result.idle_subtracted_j < result.median_j
    assert result.throughput_img_s <= BATCH / BATCH_S
    assert result.batch_latency_ms >= 1000 * BATCH_S
    assert FAST.min_windows <= len(result.windows) <= FAST.max_windows
    low, high = result.ci95_j
    assert low <= statistics.fmean(result.per_image_j) <= high


def test_window_edges_use_counter_ticks_not_reads():
    # A coarse 40 ms counter with 150 ms windows: reading the counter at the edges would err
    # by up to a tick of energy (~25%) per window; tick alignment keeps windows within a few %.
    meter = FakeMeter(idle_power_w=50.0, busy_power_w=250.0, tick_s=0.04)
    config = V1Config(idle_s=0.3, warmup_s=0.05, window_s=0.3, min_windows=4, max_windows=4,
                            max_gap_s=0.05, poll_period_s=0.001, min_ticks=3)
    result = run(meter, config)
    assert len(result.windows) == 4
    for window in result.windows:
        assert window.j_per_image == pytest.approx(true_j_per_image(meter, window), rel=0.08)


def test_stops_early_when_the_ci_is_tight():
    meter = FakeMeter(tick_s=0.002)
    config = V1Config(idle_s=0.1, warmup_s=0.02, window_s=0.1, min_windows=3, max_windows=12,
                            max_gap_s=0.01, poll_period_s=0.0005, target_ci_half_width=0.5)
    result = run(meter, config)
    assert len(result.windows) == 3  # a 50% target is met at the minimum


def test_keeps_adding_windows_up_to_the_cap_and_says_so():
    meter = FakeMeter(tick_s=0.002, noise=0.5, seed=3)
    config = V1Config(idle_s=0.1, warmup_s=0.02, window_s=0.05, min_windows=3, max_windows=5,
                            max_gap_s=0.01, poll_period_s=0.0005, target_ci_half_width=1e-6)
    result = run(meter, config)
    assert len(result.windows) == 5
    assert any("CI half-width" in r for r in result.reasons)


def test_a_counter_that_never_moves_is_refused_not_zero():
    result = run(FakeMeter(frozen=True))
    assert result.status == "refused"
    assert "did not move" in result.reasons[0]
    assert result.windows == []


def test_windows_shorter_than_the_counter_update_are_refused():
    meter = FakeMeter(tick_s=0.1)
    config = V1Config(idle_s=0.35, warmup_s=0.02, window_s=0.05, min_windows=3,
                            max_windows=3, max_gap_s=0.0, poll_period_s=0.001)
    result = run(meter, config)
    assert result.status == "refused"
    assert "counter tick" in result.reasons[-1] and "lengthen window_s" in result.reasons[-1]


def test_a_counter_going_backwards_is_refused():
    meter = FakeMeter(tick_s=0.005, backwards_at_s=0.4)  # after idle and warm-up (0.2 s)
    result = run(meter, AT_THE_MINIMUM)
    assert result.status == "refused"
    assert any("went backwards" in r for r in result.reasons)


def test_power_above_the_limit_is_refused():
    meter = FakeMeter(idle_power_w=60.0, busy_power_w=400.0, tick_s=0.005)
    result = run(meter, AT_THE_MINIMUM, power_limit_w=300.0)
    assert result.status == "refused"
    assert any("exceeds the power limit 300 W" in r for r in result.reasons)


def test_power_below_idle_is_refused():
    result = EnergyMeasurement(meter="fake", idle_power_w=100.0,
                               windows=[Window(1.0, 100, 10, 80.0, 20)])
    from leaderboard.measure.windows import check_power

    check_power(result, FAST, power_limit_w=None)
    assert result.status == "refused"
    assert "below idle power 100.0 W" in result.reasons[0]


def test_noisy_windows_are_flagged_unstable():
    meter = FakeMeter(tick_s=0.002, noise=0.6, seed=7)
    result = run(meter)
    assert result.cv > FAST.unstable_cv
    assert result.status == "unstable"
    assert any(r.startswith("CV ") for r in result.reasons)


def _state(**changes) -> GpuState:
    base = dict(name="NVIDIA H100", uuid="GPU-1", driver="580", power_limit_w=700.0,
                sm_clock_mhz=1980.0, mem_clock_mhz=2619.0, temperature_c=40.0,
                throttle_reasons=(), other_compute_pids=(), mig_enabled=False)
    base.update(changes)
    return GpuState(**base)


def _ok() -> EnergyMeasurement:
    return EnergyMeasurement(meter="fake", idle_power_w=60.0, windows=[Window(1.0, 100, 10, 200.0, 20)])


def test_gpu_state_refusals_and_flags():
    result = _ok()
    check_gpu_state(result, _state(), _state(other_compute_pids=(os.getppid(),)))
    assert result.status == "refused" and f"pids {os.getppid()}" in result.reasons[0]

    result = _ok()
    check_gpu_state(result, _state(mig_enabled=True), _state())
    assert result.status == "refused" and "MIG" in result.reasons[0]

    result = _ok()
    check_gpu_state(result, _state(), _state(throttle_reasons=("hw_thermal_slowdown",)))
    assert result.status == "unstable" and "hw_thermal_slowdown" in result.reasons[0]

    result = _ok()  # running at the power cap under load is normal, not a flag
    check_gpu_state(result, _state(throttle_reasons=("sw_power_cap",)), _state())
    assert result.status == "ok" and result.reasons == []


def test_statistics_of_known_windows():
    windows = [Window(2.0, 1000, 4, p, 40) for p in (100.0, 102.0, 98.0, 101.0, 99.0)]
    result = EnergyMeasurement(meter="fake", idle_power_w=50.0, windows=windows)
    per_image = [p * 2.0 / 1000 for p in (100.0, 102.0, 98.0, 101.0, 99.0)]
    assert result.median_j == pytest.approx(0.2)
    assert result.cv == pytest.approx(statistics.stdev(per_image) / statistics.fmean(per_image))
    # distribution-free around the median: with five windows, (min, max) at 93.75%
    assert result.ci95_j == pytest.approx((0.196, 0.204))
    assert result.ci_level == pytest.approx(1 - 2 / 32)
    assert median_ci(per_image)[:2] == pytest.approx(result.ci95_j)
    assert result.idle_subtracted_j == pytest.approx(50.0 * 2.0 / 1000)
    assert result.throughput_img_s == pytest.approx(500.0)
    assert result.batch_latency_ms == pytest.approx(500.0)


def test_each_run_draws_and_reports_its_own_seed_unless_one_is_given():
    meter = FakeMeter(idle_power_w=60.0, busy_power_w=240.0, tick_s=0.005)
    fresh = dataclasses.replace(AT_THE_MINIMUM, seed=None)
    seeds = {run(meter, fresh).seed for _ in range(2)}
    assert None not in seeds and len(seeds) == 2  # not seed 0 on every run
    assert run(meter, AT_THE_MINIMUM).seed == 1


def test_span_power_prefers_ticks_timed_precisely():
    from leaderboard.measure.windows import Tick, span_power

    ticks = [
        Tick(0.00, 0.0, 0.030),   # seen late: the poller was descheduled
        Tick(0.10, 10.0, 0.002),
        Tick(0.50, 50.0, 0.002),
        Tick(0.70, 75.0, 0.050),  # seen late again
    ]
    assert span_power(ticks, max_uncertainty_s=0.008) == pytest.approx(100.0)
    # with no precise pair, all ticks are used rather than none
    assert span_power([ticks[0], ticks[3]], max_uncertainty_s=0.008) == pytest.approx(75.0 / 0.7)
    assert span_power(ticks[:1], max_uncertainty_s=0.008) is None


def test_cool_down_waits_for_near_idle_power_or_its_time_bound():
    from leaderboard.measure.windows import cool_down

    class Cooling:
        def __init__(self, powers):
            self.powers, self.now = list(powers), 0.0

        def power_w(self):
            return self.powers.pop(0) if len(self.powers) > 1 else self.powers[0]

        def sleep(self, seconds):
            self.now += seconds

    hot = Cooling([300.0, 200.0, 65.0])
    rested = cool_down(hot, 60.0, max_s=5.0, step_s=0.5, sleep=hot.sleep, clock=lambda: hot.now)
    assert rested.reached and rested.power_w == 65.0 and rested.waited_s == pytest.approx(1.0)
    assert rested.target_w == pytest.approx(66.0)
    stuck = Cooling([300.0])
    bounded = cool_down(stuck, 60.0, max_s=2.0, step_s=0.5, sleep=stuck.sleep,
                        clock=lambda: stuck.now)
    assert not bounded.reached and bounded.waited_s == pytest.approx(2.0)


def test_v1_cools_down_to_the_idle_the_campaign_saw_and_records_it():
    from types import SimpleNamespace

    from leaderboard.measure.protocol_v1 import V1Run

    meter = FakeMeter(idle_power_w=60.0, busy_power_w=240.0, tick_s=0.005)
    workload = SimpleNamespace(run_batch=lambda: meter.busy(BATCH_S), batch_size=BATCH,
                               synchronize=lambda: None)
    result = V1Run(AT_THE_MINIMUM, idle_w=60.0).measure(workload, meter, None)
    assert result.cool_down is not None and result.cool_down.reached
    assert V1Run(AT_THE_MINIMUM).measure(workload, meter, None).cool_down is None  # idle unknown
