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
    MeasurementRecord,
    Performance,
    Provenance,
    Weights,
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
        weights=Weights(kind="random-init"), input_shape=[batch, 3, 224, 224], batch_size=batch,
        precision="fp16",
        energy=EnergyStats(gross_j_per_image=energy_j, ci95_low_j=energy_j * 0.995,
                           ci95_high_j=energy_j * 1.005, cv=0.004, windows=5,
                           idle_power_w=70.0, idle_subtracted_j_per_image=energy_j * 0.8,
                           avg_power_w=350.0, meter="synthetic"),
        performance=Performance(throughput_img_s=350.0 / energy_j,
                                batch_latency_ms=1000.0 * batch * energy_j / 350.0),
        provenance=Provenance(gpu_name="Synthetic GPU", validator_version="test"),
    )


def write_synthetic_tree(root: Path, count: int, seed: int = 0,
                         single_stream_every: int = 5) -> Path:
    """Write ``count`` synthetic submissions with offline records (and some single-stream).

    Architectures cycle through the shipped timm catalog so every entry passes `check`.
    Energy is log-uniform over 1 mJ .. 2 J and accuracy rises with log energy plus noise, the
    shape real data has.

    Returns:
        The submissions folder.
    """
    rng = random.Random(seed)
    submissions = root / "submissions"
    catalog = load_catalog()
    architectures = sorted(catalog.architectures)
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
        write_record(submissions, synthetic_record(entry_id, energy_j))
        if single_stream_every and index % single_stream_every == 0:
            write_record(submissions, synthetic_record(entry_id, energy_j * rng.uniform(3, 12),
                                                       scenario="single-stream"))
    return submissions
