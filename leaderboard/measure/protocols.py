"""The two measurement protocols behind one interface, so the runner builds records for both.

``V1Run`` is protocol v1 as before (its own idle, warm-up and windows per model); ``V2Run``
carries what a long-lived worker keeps between models (the idle reading, the probe-derived
parameters, the latest drift check).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

from leaderboard.measure.energy import EnergyMeasurement, ProtocolConfig, measure_energy
from leaderboard.measure.protocol_v2 import (
    IdleReading,
    V2Config,
    V2Measurement,
    measure_v2,
)
from leaderboard.records import DriftCheck, ProtocolDetails
from leaderboard.vocabulary import PROTOCOL_VERSION, PROTOCOL_VERSION_V2


class ProtocolRun(Protocol):
    """One protocol, ready to measure workloads."""

    version: str

    def key_parameters(self) -> dict[str, Any] | None:
        """Parameters that make a record differ from the protocol's defaults (for the skip key)."""

    def measure(self, workload: Any, meter: Any, power_limit_w: float | None) -> EnergyMeasurement:
        """Measure one workload."""

    def details(self, result: EnergyMeasurement) -> ProtocolDetails | None:
        """The record's ``protocol_details``."""

    def drift(self) -> DriftCheck | None:
        """The latest drift check, when this protocol keeps one."""


@dataclass
class V1Run:
    """Protocol v1 with ``config``."""

    config: ProtocolConfig = ProtocolConfig()
    version: str = PROTOCOL_VERSION

    def key_parameters(self) -> dict[str, Any] | None:
        """v1's parameters when they are not its defaults."""
        return None if self.config == ProtocolConfig() else dataclasses.asdict(self.config)

    def measure(self, workload: Any, meter: Any, power_limit_w: float | None) -> EnergyMeasurement:
        """Protocol v1 on ``workload``."""
        return measure_energy(workload.run_batch, workload.batch_size, meter, workload.synchronize,
                              self.config, power_limit_w)

    def details(self, result: EnergyMeasurement) -> ProtocolDetails | None:
        """None: v1 records have no details section."""
        return None

    def drift(self) -> DriftCheck | None:
        """None: v1 workers measure one model."""
        return None


@dataclass
class V2Run:
    """Protocol v2 in a long-lived worker: its idle reading, parameters and drift check."""

    idle: IdleReading
    config: V2Config = V2Config()
    latest_drift: DriftCheck | None = None
    version: str = PROTOCOL_VERSION_V2

    def key_parameters(self) -> dict[str, Any] | None:
        """The window mode (v1 windows and sub-windows are different measurements); every
        parameter when some were overridden by hand."""
        if "overrides" in self.config.source:
            return dataclasses.asdict(self.config)
        return {"window_mode": self.config.window_mode}

    def measure(self, workload: Any, meter: Any, power_limit_w: float | None) -> EnergyMeasurement:
        """Protocol v2 on ``workload``."""
        return measure_v2(workload.run_batch, workload.batch_size, meter, self.idle,
                          workload.synchronize, self.config, power_limit_w)

    def details(self, result: EnergyMeasurement) -> ProtocolDetails | None:
        """Window size, warm-up, CI coverage and where the parameters came from."""
        if not isinstance(result, V2Measurement) or not result.windows:
            return None
        return ProtocolDetails(
            window_mode=self.config.window_mode,  # type: ignore[arg-type]
            window_s=float(result.window_s), warmup_s=float(result.warmup_s),
            warmup_steady=result.warmup_steady, ci_level=float(result.ci_level),
            idle_age_s=float(result.idle_age_s), parameters_from=self.config.source,
            tick_uncertainty_s=float(self.config.tick_uncertainty_s),
            counter_period_s=float(self.config.counter_period_s))

    def drift(self) -> DriftCheck | None:
        """The worker's latest drift check."""
        return self.latest_drift
