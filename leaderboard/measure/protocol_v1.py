"""Measurement protocol v1: idle, a fixed warm-up, 2 s windows with random gaps, CI stop rule.

Every model pays its own idle reading, a fixed warm-up and windows separated by random gaps
(seeded per run, recorded) until the distribution-free CI of the median is narrow enough.
The campaign runs each model in a fresh worker process.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leaderboard.measure import windows
from leaderboard.measure.meters import EnergyMeter
from leaderboard.records import DriftCheck, ProtocolDetails
from leaderboard.vocabulary import PROTOCOL_VERSION


@dataclass(frozen=True)
class V1Config(windows.WindowConfig):
    """Protocol v1's own parameters (the shared ones are :class:`windows.WindowConfig`'s)."""

    warmup_s: float = 3.0
    window_s: float = 2.0
    min_windows: int = 5
    max_windows: int = 20
    target_ci_half_width: float = 0.01
    """Stop adding windows once the median's CI half-width is within this fraction of it."""


PROTOCOL_V1 = V1Config()
"""Protocol v1's defaults (profile and sweep measure with these unless told otherwise)."""


def measure_v1(
    run_batch: Callable[[], None],
    batch_size: int,
    meter: EnergyMeter,
    synchronize: Callable[[], None] = lambda: None,
    config: V1Config = V1Config(),
    power_limit_w: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> windows.EnergyMeasurement:
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
        The measurement with its status, reasons and seed; never a silent zero.
    """
    seed = windows.run_seed(config)
    dephaser = windows.Dephaser(seed, config.max_windows, 0.1, config.max_gap_s, "gaps")
    precise_s = 4 * config.poll_period_s
    with windows.TickRecorder(meter, config.poll_period_s, clock) as ticks:
        idle_start = clock()
        sleep(config.idle_s)
        idle_power = windows.span_power(ticks.between(idle_start, clock()), precise_s)
        result = windows.EnergyMeasurement(meter=meter.name, idle_power_w=idle_power or 0.0, windows=[],
                                   seed=seed)
        if idle_power is None:
            result.refuse(f"the energy counter did not move during {config.idle_s:g} s idle")
            return result

        warm_start = clock()
        while clock() - warm_start < config.warmup_s:
            run_batch()
        synchronize()

        state = windows.gpu_state_reader(meter)
        while len(result.windows) < config.max_windows:
            dephaser.wait(ticks, synchronize, clock, sleep)
            window = windows.measure_window(run_batch, synchronize, batch_size, config.window_s, ticks,
                                    config.min_ticks, precise_s, clock, state)
            if isinstance(window, str):
                result.refuse(f"{window} (lengthen window_s)")
                return result
            result.windows.append(window)
            if (len(result.windows) >= config.min_windows
                    and result.ci_half_width_rel <= config.target_ci_half_width):
                break
        windows.finish(result, ticks, config, power_limit_w)
    if result.ci_half_width_rel > config.target_ci_half_width:
        result.reasons.append(
            f"CI half-width {result.ci_half_width_rel:.2%} of the median after "
            f"{len(result.windows)} windows (target {config.target_ci_half_width:.0%})"
        )
    return result


@dataclass
class V1Run:
    """Protocol v1 with ``config``, as the runner runs it."""

    config: V1Config = V1Config()
    version: str = PROTOCOL_VERSION
    reference_s: float = 0.0
    idle_w: float | None = None
    """The last idle power the campaign saw: cool down to near it first (None: no wait)."""
    cool_down_max_s: float = windows.COOL_DOWN_MAX_S

    def key_parameters(self) -> dict[str, Any] | None:
        """v1's parameters when they are not its defaults (the seed never counts)."""
        fixed = dataclasses.replace(self.config, seed=None)
        return None if fixed == V1Config() else dataclasses.asdict(fixed)

    def measure(self, workload: Any, meter: Any, power_limit_w: float | None) -> windows.EnergyMeasurement:
        """Cool down (when the idle is known), protocol v1 on ``workload``, then the reference
        window when asked for."""
        rested = windows.cool_down(meter, self.idle_w, max_s=self.cool_down_max_s) \
            if self.idle_w and self.cool_down_max_s > 0 else None
        result = measure_v1(workload.run_batch, workload.batch_size, meter, workload.synchronize,
                            self.config, power_limit_w)
        result.cool_down = rested
        windows.add_reference(result, workload, meter, self.reference_s, self.config.poll_period_s)
        return result

    def details(self, result: windows.EnergyMeasurement) -> ProtocolDetails | None:
        """None: v1 records have no details section (the seed goes in ``raw_windows``' record)."""
        return None

    def drift(self) -> DriftCheck | None:
        """None: v1 workers measure one model."""
        return None
