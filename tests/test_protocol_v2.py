"""Protocol v2 against the simulated meter, its statistics and its parameters from the probe."""

from __future__ import annotations

from dataclasses import replace

import pytest

from leaderboard.measure.protocol_v2 import V2Config, config_from_probe, measure_v2
from leaderboard.measure.windows import IdleReading, measure_idle, median_ci
from leaderboard.testing import FakeMeter

FAST = V2Config(warmup_chunk_s=0.05, warmup_min_s=0.1, warmup_max_s=0.6, windows=6,
                min_window_s=0.2, max_window_s=0.3, counter_period_s=0.005, poll_period_s=0.001)
BATCH_S, BATCH = 0.01, 32


def test_median_ci_from_order_statistics():
    assert median_ci([3.0, 1.0, 2.0, 5.0, 4.0, 6.0]) == (1.0, 6.0, pytest.approx(1 - 2 / 64))
    low, high, level = median_ci([float(v) for v in range(20)])
    assert level >= 0.95 and (low, high) == (5.0, 14.0)
    assert median_ci([1.0, 2.0, 3.0, 4.0, 5.0])[2] == pytest.approx(1 - 2 / 32)  # n=5: 93.75%


def test_windows_are_sized_so_tick_timing_is_under_the_target_share():
    config = V2Config(tick_uncertainty_s=0.0005, counter_period_s=0.1, edge_error=0.002)
    assert config.window_s(batch_s=0.01) == pytest.approx(0.5)  # 2 x 0.5 ms / 0.2%
    assert config.window_s(batch_s=0.3) == pytest.approx(1.2)  # at least 4 batches
    slow_counter = V2Config(tick_uncertainty_s=0.0005, counter_period_s=0.2)
    assert slow_counter.window_s(0.01) == pytest.approx(0.8)  # at least 4 counter updates
    assert V2Config(window_mode="v1-windows").window_s(0.01) == 2.0


def test_parameters_derive_from_the_probe_and_a_varying_lag_falls_back_to_v1_windows():
    probe = {"counter": {"update_period_s": 0.05, "poll_period_s": 0.001, "lag": "constant",
                         "lag_jitter_s": 0.0}}
    config = config_from_probe(probe)
    assert config.counter_period_s == 0.05 and config.tick_uncertainty_s == pytest.approx(0.0005)
    assert config.window_mode == "sub-windows" and config.source == "probe"
    varying = config_from_probe({"counter": {**probe["counter"], "lag": "varying",
                                             "lag_jitter_s": 0.15}})
    assert varying.window_mode == "v1-windows" and varying.max_gap_s == 0.5
    # the 90th percentile of the period sizes the window, never the single slowest update
    uneven = config_from_probe({"counter": {**probe["counter"], "update_period_p90_s": 0.08,
                                            "update_period_max_s": 0.4}})
    assert uneven.counter_period_s == 0.08 and uneven.window_s(0.001) == pytest.approx(0.5)
    one_slow_read = config_from_probe({"counter": {**probe["counter"], "update_period_max_s": 0.4}})
    assert one_slow_read.counter_period_s == 0.05
    assert config_from_probe(None) == V2Config()
    assert config_from_probe({"counter": {"status": "not supported"}}).source == "defaults"


def test_v2_measures_the_simulated_physics_with_raw_windows():
    meter = FakeMeter(idle_power_w=60.0, busy_power_w=240.0, tick_s=0.005)
    idle = measure_idle(meter, 0.2, 0.001)
    assert idle is not None and idle.power_w == pytest.approx(60.0, rel=0.05)
    result = measure_v2(lambda: meter.busy(BATCH_S), BATCH, meter, idle, config=FAST)
    assert result.status in ("ok", "unstable"), result.reasons
    assert len(result.windows) == FAST.windows
    for window in result.windows:
        true_j = meter.true_energy_j(window.start_s, window.start_s + window.duration_s)
        assert window.j_per_image == pytest.approx(true_j / window.images, rel=0.05)
    # back to back, a batch costs (60 + 240) W x 10 ms
    assert result.median_j == pytest.approx(300.0 * BATCH_S / BATCH, rel=0.1)
    low, high = result.ci95_j
    assert low <= result.median_j <= high and result.ci_level > 0.95
    assert result.warmup_steady and result.warmup_s >= FAST.warmup_min_s


def test_a_frozen_counter_is_refused_not_zero():
    meter = FakeMeter(frozen=True)
    assert measure_idle(meter, 0.05, 0.001) is None
    result = measure_v2(lambda: meter.busy(BATCH_S), BATCH, meter, IdleReading(60.0, 0.0),
                        config=FAST)
    assert result.status == "refused" and "tick" in result.reasons[0]


@pytest.fixture(scope="module")
def locked_batches():
    """v2 de-phased and back to back on batches locked to the sensor's 100 ms period."""
    from leaderboard.measure.rehearsal.fake_nvml import LockedBatchRig

    # 0.4 s windows: four counter updates each (the rig's time is virtual: no load shifts it).
    config = V2Config(tick_uncertainty_s=0.0003, counter_period_s=0.1, warmup_chunk_s=0.2,
                      warmup_min_s=0.4, seed=3)
    runs = {}
    for dephasing in ("stratified", "none"):
        rig = LockedBatchRig()
        idle = IdleReading(rig.idle_w, rig.clock())
        runs[dephasing] = (rig, measure_v2(rig.run_batch, rig.batch_size, rig, idle,
                                           rig.synchronize, replace(config, dephasing=dephasing),
                                           sleep=rig.sleep, clock=rig.clock))
    return runs


def test_dephased_windows_measure_locked_batches_within_2_percent(locked_batches):
    # The rig's batches are high for half of each 100 ms: symmetric under a half-period shift,
    # where the median of phase-stratified windows is exact. For asymmetric duties the median
    # errs by up to 8.5% and the mean over the strata by 1.6% (benchmarks/dephasing.py).
    rig, result = locked_batches["stratified"]
    assert result.status in ("ok", "unstable"), result.reasons
    assert result.seed == 3 and len(result.windows) == 6
    # the fake integrated the real power: each window's truth, and the busy batch's
    for window in result.windows:
        truth = rig.true_energy_j(window.start_s, window.start_s + window.duration_s)
        assert truth / window.images == pytest.approx(rig.true_j_per_image, rel=0.01)
    assert result.median_j == pytest.approx(rig.true_j_per_image, rel=0.02)


def test_an_asymmetric_locked_waveform_is_flagged_as_aliasing():
    # 30% high duty: the median of the strata sits far from their mean (the mean stays close to
    # the truth), so the record is flagged rather than published as ok with a hidden bias.
    from leaderboard.measure.rehearsal.fake_nvml import LockedBatchRig

    config = V2Config(tick_uncertainty_s=0.0003, counter_period_s=0.1, warmup_chunk_s=0.2,
                      warmup_min_s=0.4, seed=1, dephasing="stratified")
    rig = LockedBatchRig(high_fraction=0.3)
    result = measure_v2(rig.run_batch, rig.batch_size, rig, IdleReading(rig.idle_w, rig.clock()),
                        rig.synchronize, config, sleep=rig.sleep, clock=rig.clock)
    mean_j = sum(result.per_image_j) / len(result.per_image_j)
    assert mean_j == pytest.approx(rig.true_j_per_image, rel=0.02)
    if abs(result.median_j / mean_j - 1) > 0.01:
        assert result.status == "unstable"
        assert any("phase-stratified" in reason for reason in result.reasons), result.reasons
    else:  # this seed's median happened to land close: then it is also close to the truth
        assert result.median_j == pytest.approx(rig.true_j_per_image, rel=0.02)


def test_back_to_back_windows_on_locked_batches_are_biased_and_look_steady(locked_batches):
    rig, result = locked_batches["none"]
    # every window sees the same phase: a steady bias far beyond 2% that the CV cannot see
    assert abs(result.median_j / rig.true_j_per_image - 1) > 0.1
    assert result.cv < 0.02 and result.status == "ok"
