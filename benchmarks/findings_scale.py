"""How `compute_findings` scales: N entries against a tenth of them, measured in the same run.

The findings fit three curves (the double exponential by a grid and golden-section search),
rank-correlate and score the frontier; each part should be about linear (n log n at worst) in
the number of entries. This prints the time at N and at N/10 and their ratio: about 10 is
linear, the target is at most 15 (n log n from 1,000 to 10,000 is 13.3). It replaces a unit
test that asserted wall-clock time, which measured the machine as much as the code.

    .venv/bin/python benchmarks/findings_scale.py            # 10,000 against 1,000 entries
    .venv/bin/python benchmarks/findings_scale.py --entries 50000 --repeats 5

Exit status 0 when the ratio meets the target, 1 otherwise.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import numpy as np

from leaderboard.findings import MeasuredEntry, SavingsPair, compute_findings

TARGET_RATIO = 15.0


def synthetic_inputs(n: int, seed: int = 1) -> tuple[list[MeasuredEntry], list[SavingsPair]]:
    """``n`` entries whose ln(energy) rises convexly with top-1, in 40 families, plus pairs."""
    rng = np.random.default_rng(seed)
    top1 = rng.uniform(60.0, 88.0, n)
    energy = np.exp(-2.0 + 0.08 * (top1 - 60.0) + 0.002 * (top1 - 60.0) ** 2
                    + rng.normal(0.0, 0.3, n))
    entries = [MeasuredEntry(entry_id=f"e{i}", family=f"f{i % 40}", top1=float(a),
                             energy_j=float(e), gflops=float(e) * 3, params_m=float(e) * 7)
               for i, (a, e) in enumerate(zip(top1, energy, strict=True))]
    pairs = [SavingsPair(f"e{i}", f"f{i % 40}", 0.01, 0.01 * (2.0 + i % 7), 256, 1, "fp16", "fp16")
             for i in range(n // 5)]
    return entries, pairs


def median_seconds(n: int, repeats: int) -> float:
    """Median wall time of ``compute_findings`` over ``repeats`` runs on ``n`` entries."""
    entries, pairs = synthetic_inputs(n)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        found = compute_findings("bench--offline", entries, pairs)
        times.append(time.perf_counter() - started)
        assert found.fits.ready and found.correlations.ready and found.frontier.ready
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    small_n = max(args.entries // 10, 50)
    median_seconds(small_n, 1)  # warm-up: numpy's first calls
    small = median_seconds(small_n, args.repeats)
    large = median_seconds(args.entries, args.repeats)
    ratio = large / small
    print(f"entries {small_n:>7,}: {small * 1000:8.1f} ms (median of {args.repeats})")
    print(f"entries {args.entries:>7,}: {large * 1000:8.1f} ms (median of {args.repeats})")
    nlogn = args.entries * math.log(args.entries) / (small_n * math.log(small_n))
    print(f"ratio {ratio:.1f} (linear {args.entries / small_n:.0f}, n log n {nlogn:.1f})")
    passed = ratio <= TARGET_RATIO
    print(f"{'PASS' if passed else 'FAIL'}  ratio <= {TARGET_RATIO:g} (got {ratio:.1f})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
