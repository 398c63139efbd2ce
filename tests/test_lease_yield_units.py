"""benchmarks/lease_yield.py prices each model's batch from its GMACs per image.

The campaign's cost estimate (``selection.estimated_cost``) became GMACs x the headline batch for
the cost-balanced shards; the benchmark multiplied by the batch again, so every batch looked 256x
longer and v2's four-batches-per-window rule set most windows (53 of 85 in one re-plan).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from leaderboard.safe_yaml import load_yaml_file

REPO = Path(__file__).resolve().parents[1]


def test_the_benchmark_reads_gmacs_per_image():
    spec = importlib.util.spec_from_file_location("lease_yield", REPO / "benchmarks" / "lease_yield.py")
    lease_yield = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lease_yield)
    entry = "resnet50.a1_in1k"
    data, problems, _ = load_yaml_file(REPO / "submissions" / entry / "submission.yaml")
    assert not problems
    assert lease_yield._gmacs(entry) == float(data["compute"]["gmacs"])
