"""Protocol v2's windows on batches locked to the power sensor's 100 ms sampling.

Runs :func:`leaderboard.measure.protocol_v2.measure_v2` on the rehearsal's ``LockedBatchRig``
(a fixed 100 ms counter that samples 25 ms of every 100 ms; batches of 100 ms drawing
``high_w`` for the first ``duty`` of each batch and ``low_w`` for the rest; virtual time, so the
machine's load changes nothing) and prints, per duty and de-phasing, how far the median and the
mean of the windows' J/image are from the energy the rig really integrated.

    .venv/bin/python benchmarks/dephasing.py [--seeds 1,2,3,4] [--duties 0.5,0.3,0.2]
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace

from leaderboard.measure.protocol_v2 import V2Config, measure_v2
from leaderboard.measure.rehearsal.fake_nvml import LockedBatchRig
from leaderboard.measure.windows import IdleReading

CONFIG = V2Config(tick_uncertainty_s=0.0003, counter_period_s=0.1, warmup_chunk_s=0.2,
                  warmup_min_s=0.4)


def errors(duty: float, dephasing: str, seed: int) -> tuple[float, float]:
    """(median, mean) of the windows' J/image over the truth, minus 1."""
    rig = LockedBatchRig(high_fraction=duty)
    result = measure_v2(rig.run_batch, rig.batch_size, rig, IdleReading(rig.idle_w, 0.0),
                        rig.synchronize, replace(CONFIG, dephasing=dephasing, seed=seed),
                        sleep=rig.sleep, clock=rig.clock)
    truth = rig.true_j_per_image
    return result.median_j / truth - 1, statistics.fmean(result.per_image_j) / truth - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4")
    parser.add_argument("--duties", default="0.5,0.3,0.2")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{'duty':>5} {'de-phasing':>11} {'runs':>4} {'worst median err':>17} {'worst mean err':>15}")
    for duty in (float(d) for d in args.duties.split(",")):
        for dephasing, runs in (("stratified", seeds), ("none", seeds[:1])):
            found = [errors(duty, dephasing, seed) for seed in runs]
            worst_median = max(found, key=lambda e: abs(e[0]))[0]
            worst_mean = max(found, key=lambda e: abs(e[1]))[1]
            print(f"{duty:>5.2f} {dephasing:>11} {len(runs):>4} {worst_median:>+17.2%} "
                  f"{worst_mean:>+15.2%}")


if __name__ == "__main__":
    main()
