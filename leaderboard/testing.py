"""Synthetic submissions and records for tests and benchmarks.

Every record made here is marked ``synthetic: true``; the published site refuses such records
(`leaderboard build` without ``--allow-synthetic``), so made-up numbers cannot be shown as
measured.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from leaderboard.import_timm import render_submission
from leaderboard.records import (
    EnergyStats,
    MeasuredWeights,
    MeasurementRecord,
    Performance,
    Provenance,
    write_record,
)
from leaderboard.submission import SUBMISSION_FILENAME
from leaderboard.timm_catalog import load_catalog

SYNTHETIC_HARDWARE = "synthetic-gpu"


def synthetic_record(entry_id: str, energy_j: float, scenario: str = "offline",
                     hardware: str = SYNTHETIC_HARDWARE, status: str = "ok") -> MeasurementRecord:
    """A made-up but schema-valid record with the given energy per image."""
    batch = 256 if scenario == "offline" else 1
    return MeasurementRecord(
        entry_id=entry_id, hardware=hardware, scenario=scenario, status=status,
        measured_at="2026-01-01T00:00:00Z", synthetic=True,
        weights=MeasuredWeights(kind="random-init"), input_shape=[batch, 3, 224, 224], batch_size=batch,
        precision="fp16",
        energy=EnergyStats(gross_j_per_image=energy_j, ci95_low_j=energy_j * 0.995,
                           ci95_high_j=energy_j * 1.005, cv=0.004, windows=5,
                           idle_power_w=70.0, idle_subtracted_j_per_image=energy_j * 0.8,
                           avg_power_w=350.0, meter="synthetic"),
        performance=Performance(throughput_img_s=350.0 / energy_j,
                                batch_latency_ms=1000.0 * batch * energy_j / 350.0),
        # The GPU's name matches the board's slug, as the record rules require of a real one.
        provenance=Provenance(gpu_name="Synthetic GPU" if hardware == SYNTHETIC_HARDWARE
                              else hardware.replace("-", " ").title(), validator_version="test"),
    )


def write_synthetic_tree(root: Path, count: int, seed: int = 0,
                         single_stream_every: int = 5,
                         architectures: list[str] | None = None) -> Path:
    """Write ``count`` synthetic submissions with offline records (and some single-stream).

    Architectures cycle through the shipped timm catalog (or through ``architectures``, names
    from it) so every entry passes `check`. Energy is log-uniform over 1 mJ .. 2 J and accuracy
    rises with log energy plus noise, the shape real data has.

    Returns:
        The submissions folder.
    """
    rng = random.Random(seed)
    submissions = root / "submissions"
    catalog = load_catalog()
    architectures = architectures or sorted(catalog.architectures)
    for index in range(count):
        architecture = architectures[index % len(architectures)]
        entry_id = f"{architecture}.syn{index:05d}"
        energy_j = math.exp(rng.uniform(math.log(1e-3), math.log(2.0)))
        top1 = min(91.0, 55.0 + 9.0 * math.log10(energy_j / 1e-3) + rng.gauss(0, 2.5))
        document = {
            "schema_version": 1,
            "id": entry_id,
            "model": {"architecture": architecture,
                      "weights": {"hf_hub": {"repo": f"example/{architecture}",
                                             "revision": f"{index:040x}"}},
                      "family": catalog.family_of(architecture)},
            "claims": {"top1": round(top1, 3), "top5": round(min(99.9, top1 + 15), 3),
                       "source": "synthetic test data"},
            "compute": {"params_m": round(energy_j * 80 + 1, 2),
                        "gmacs": round(energy_j * 20 + 0.05, 3), "source": "synthetic"},
            "submitter": {"name": "Synthetic Tester", "github": "synthetic"},
        }
        path = submissions / entry_id / SUBMISSION_FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_submission(document), encoding="utf-8")
        # dates and precisions vary as on a real board, whose records come from monthly
        # campaigns (the table's "Measured" column sorts newest first, its precision filter
        # has two values); entries with a single-stream pair stay fp16 so batching ratios
        # compare one precision
        record = synthetic_record(entry_id, energy_j).model_copy(update={
            "measured_at": f"2026-{1 + index % 12:02d}-01T12:00:00Z",
            "precision": "bf16" if index % 10 == 3 else "fp16"})
        write_record(submissions, record)
        if single_stream_every and index % single_stream_every == 0:
            write_record(submissions, synthetic_record(entry_id, energy_j * rng.uniform(3, 12),
                                                       scenario="single-stream"))
    return submissions


def every_family_architectures(per_family: int, families: int | None = None) -> list[str]:
    """``per_family`` architectures of each family in the shipped catalog (repeated where a
    family has fewer), family by family: with :func:`write_synthetic_tree` every family gets a
    row of its own in the findings, as on a board with the whole catalog measured. ``families``
    keeps the first that many families (by name) only."""
    catalog = load_catalog()
    by_family: dict[str, list[str]] = {}
    for architecture in sorted(catalog.architectures):
        family = catalog.family_of(architecture)
        if family is not None:
            by_family.setdefault(family, []).append(architecture)
    kept = sorted(by_family.items())[:families]
    return [members[i % len(members)] for _, members in kept for i in range(per_family)]


def synthetic_profile(entry_id: str, energy_j: float, kind: str = "cnn",
                      hardware: str = SYNTHETIC_HARDWARE, seed: int = 0):  # noqa: ANN201
    """A made-up but schema-valid profile record; shares follow the architecture ``kind``."""
    from leaderboard.analysis_records import LAYER_TYPES, Ablation, LayerShare, ProfileRecord

    rng = random.Random(f"{entry_id}:{seed}")
    base = {"cnn": [60, 5, 0, 15, 12, 3, 5], "vit": [2, 55, 20, 8, 8, 0.5, 6.5],
            "hybrid": [30, 35, 10, 10, 8, 2, 5]}[kind]
    weights = [max(0.0, w * rng.uniform(0.8, 1.2)) for w in base]
    total = sum(weights)
    shares = [w / total for w in weights]
    shares[-1] = 1.0 - sum(shares[:-1])
    batch_ms = 1000.0 * 256 * energy_j / 350.0
    layer_shares = [LayerShare(layer_type=t, device_time_ms=batch_ms * s, share=s,
                               energy_j_per_image=energy_j * s)
                    for t, s in zip(LAYER_TYPES, shares, strict=True)]
    activation = energy_j * shares[LAYER_TYPES.index("activation")]
    record = synthetic_record(entry_id, energy_j, hardware=hardware)
    return ProfileRecord(
        entry_id=entry_id, hardware=hardware, status="ok", measured_at=record.measured_at,
        synthetic=True, weights=record.weights, input_shape=record.input_shape, batch_size=256,
        precision="fp16", energy=record.energy, shares=layer_shares, busy_fraction=0.93,
        profiled_batches=5, kernels_per_batch=180, architecture_kind=kind,
        ablations=[Ablation(layer_type="activation", modules_replaced=16,
                            baseline_j_per_image=energy_j, ablated_j_per_image=energy_j - activation * 0.9,
                            predicted_saving_j=activation, measured_saving_j=activation * 0.9)],
        provenance=record.provenance,
    )


def synthetic_sweep(entry_id: str, energy_j: float, hardware: str = SYNTHETIC_HARDWARE) -> list:
    """Made-up but schema-valid sweep records, one per variant of :func:`sweep_variants`."""
    from leaderboard.analysis_records import SweepRecord, VariantAccuracy, sweep_variants

    precision_factor = {"fp32": 2.6, "tf32": 1.6, "fp16": 1.0, "bf16": 1.02}
    batch_factor = {1: 9.0, 8: 2.5, 32: 1.3, 64: 1.12, 128: 1.04, 256: 1.0}
    base = synthetic_record(entry_id, energy_j, hardware=hardware)
    records = []
    for variant in sweep_variants():
        factor = precision_factor[variant.precision] * batch_factor[variant.batch_size]
        factor *= (0.92 if variant.channels_last else 1.0) * (0.85 if variant.compiled else 1.0)
        point = synthetic_record(entry_id, energy_j * factor, hardware=hardware)
        top1 = 80.0 - (0.02 if variant.precision in ("fp16", "bf16") else 0.0)
        records.append(SweepRecord(
            entry_id=entry_id, hardware=hardware, variant=variant, status="ok",
            measured_at=base.measured_at, synthetic=True, weights=base.weights,
            input_shape=[variant.batch_size, 3, 224, 224], batch_size=variant.batch_size,
            energy=point.energy, performance=point.performance,
            accuracy=VariantAccuracy(top1=top1, top5=95.0, images=50_000, dataset_fingerprint="syn"),
            provenance=base.provenance))
    return records


class FakeMeter:
    """A simulated energy meter for unit tests: real time, made-up physics.

    Power is ``idle_power_w`` plus ``busy_power_w`` while :meth:`busy` spans are running.
    The counter only moves every ``tick_s`` (like NVML's), holding the integral at the last
    tick. ``noise`` is the relative standard deviation of each busy span's power (so windows
    differ); ``backwards_at_s`` makes the counter jump back once, to exercise that check.
    """

    name = "fake"

    def __init__(self, idle_power_w: float = 60.0, busy_power_w: float = 240.0,
                 tick_s: float = 0.005, noise: float = 0.0, seed: int = 0,
                 backwards_at_s: float | None = None, frozen: bool = False):
        import threading
        import time

        self._time = time.perf_counter
        self._lock = threading.Lock()
        self.idle_power_w = idle_power_w
        self.busy_power_w = busy_power_w
        self.tick_s = tick_s
        self.noise = noise
        self._rng = random.Random(seed)
        self._origin = self._time()
        self._busy: list[tuple[float, float, float]] = []
        self._backwards_at_s = backwards_at_s
        self._frozen = frozen
        self._last_tick_index = -1
        self._last_value = 0.0

    def busy(self, seconds: float) -> None:
        """Simulate device work for ``seconds`` (blocks like a synchronised batch)."""
        import time

        power_w = self.busy_power_w * max(0.0, 1.0 + self._rng.gauss(0.0, self.noise))
        start = self._time()
        time.sleep(seconds)
        with self._lock:
            self._busy.append((start, self._time(), power_w))

    def _integral(self, until: float) -> float:
        energy = self.idle_power_w * (until - self._origin)
        with self._lock:
            spans = list(self._busy)
        for start, end, power_w in spans:
            overlap = min(end, until) - start
            if overlap > 0:
                energy += power_w * overlap
        return energy

    def true_energy_j(self, start: float, end: float) -> float:
        """The energy really spent between two ``time.perf_counter()`` readings, J."""
        return self._integral(end) - self._integral(start)

    def energy_j(self) -> float:
        """The counter: the integral at the last tick."""
        if self._frozen:
            return 0.0
        now = self._time()
        index = int((now - self._origin) / self.tick_s)
        if index != self._last_tick_index:
            value = self._integral(self._origin + index * self.tick_s)
            if self._backwards_at_s is not None and now - self._origin >= self._backwards_at_s:
                value -= 1000.0
                self._backwards_at_s = None
            self._last_tick_index, self._last_value = index, value
        return self._last_value

    def power_w(self) -> float:
        """Current simulated power."""
        now = self._time()
        with self._lock:
            running = any(start <= now <= end for start, end, _ in self._busy)
        return self.idle_power_w + (self.busy_power_w if running else 0.0)

    def close(self) -> None:
        """Nothing to release."""


class CpuTimeMeter:
    """A test meter for CPU runs: energy grows with the main thread's CPU time.

    ``energy = idle_power_w * wall time + busy_power_w * CPU time of the thread that created
    it``. With ``torch.set_num_threads(1)`` all inference runs on that thread, so energy is
    proportional to the compute done, which lets CPU tests check an attribution against a
    real ablation. Not a measurement of anything physical.
    """

    name = "cpu-time"

    def __init__(self, idle_power_w: float = 5.0, busy_power_w: float = 50.0):
        import threading
        import time

        self.idle_power_w = idle_power_w
        self.busy_power_w = busy_power_w
        self._clock = time.clock_gettime
        self._cpu_clock = time.pthread_getcpuclockid(threading.get_ident())
        self._origin_wall = time.perf_counter()
        self._origin_cpu = time.clock_gettime(self._cpu_clock)

    def energy_j(self) -> float:
        """Joules since creation."""
        import time

        wall = time.perf_counter() - self._origin_wall
        cpu = time.clock_gettime(self._cpu_clock) - self._origin_cpu
        return self.idle_power_w * wall + self.busy_power_w * cpu

    def power_w(self) -> float:
        """The idle power (instantaneous power is not modelled)."""
        return self.idle_power_w

    def close(self) -> None:
        """Nothing to release."""
