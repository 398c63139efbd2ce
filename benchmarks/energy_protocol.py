"""How good and how costly is protocol v1? Needs an NVIDIA GPU (NVML energy counter).

For each of a sample of timm models (random-init weights, offline scenario) it measures, in
one run on the same GPU:

* GPU seconds per model-scenario: wall time of the protocol itself (idle, warm-up, windows);
* protocol J/image against one long reference window of the same model (default 60 s, counter
  read at the synchronised edges, where a ±1 tick edge error is under 0.2%): ratio;
* a repeat of the protocol against the first run: ratio;
* the NVML energy counter against the integral of instantaneous power sampled every 10 ms
  during the reference window: ratio.

Targets (issue 3): median GPU time <= 15 s per model-scenario; protocol within 1% of the
reference for >= 90% of models; repeats within 2%.

    python benchmarks/energy_protocol.py                 # 20 models, 60 s reference
    python benchmarks/energy_protocol.py --models resnet18,resnet50 --reference-s 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import dataclass

DEFAULT_MODELS = (
    "resnet18,resnet50,resnet101,mobilenetv3_small_100,mobilenetv3_large_100,efficientnet_b0,"
    "efficientnet_b3,convnext_tiny,convnext_small,regnety_016,regnety_040,densenet121,"
    "vit_tiny_patch16_224,vit_small_patch16_224,vit_base_patch16_224,deit_small_patch16_224,"
    "swin_tiny_patch4_window7_224,mixer_b16_224,ghostnet_100,repvgg_a2,levit_128,"
    "edgenext_small,mobilevit_s,tf_efficientnetv2_s"
)


@dataclass
class Row:
    """One model's results."""

    model: str
    batch: int
    protocol_s: float
    protocol_j: float
    repeat_j: float
    reference_j: float
    counter_vs_power: float
    status: str


def _entry(architecture: str):
    from leaderboard.submission import Submission

    return Submission.model_validate({
        "schema_version": 1, "id": f"{architecture}.bench",
        "model": {"architecture": architecture,
                  "weights": {"hf_hub": {"repo": f"bench/{architecture}", "revision": "0" * 40}}},
        "claims": {"top1": 50.0, "source": "benchmark"}, "submitter": {"name": "benchmark"},
    })


def _reference(workload, meter, seconds: float) -> tuple[float, float]:
    """J/image over one long window, and counter energy / integrated instantaneous power."""
    samples: list[tuple[float, float]] = []
    running = True

    def sample() -> None:
        while running:
            samples.append((time.perf_counter(), meter.power_w()))
            time.sleep(0.01)

    workload.synchronize()
    thread = threading.Thread(target=sample, daemon=True)
    start_e, start_t = meter.energy_j(), time.perf_counter()
    thread.start()
    batches = 0
    while time.perf_counter() - start_t < seconds:
        workload.run_batch()
        batches += 1
    workload.synchronize()
    end_e, end_t = meter.energy_j(), time.perf_counter()
    running = False
    thread.join()
    integral = sum((t1 - t0) * (p0 + p1) / 2 for (t0, p0), (t1, p1) in zip(samples, samples[1:],
                                                                           strict=False))
    covered_s = samples[-1][0] - samples[0][0]
    counter_j = (end_e - start_e) * covered_s / (end_t - start_t)
    return (end_e - start_e) / (batches * workload.batch_size), counter_j / integral


def bench_model(architecture: str, meter, reference_s: float) -> Row:
    """Protocol twice and the reference once, on one model."""
    from leaderboard.measure.energy import ProtocolConfig, measure_energy
    from leaderboard.measure.workload import build_model, make_workload, resolve_input

    entry = _entry(architecture)
    model, _ = build_model(entry, "random-init", "cuda")
    resolved = resolve_input(entry, model)
    workload = make_workload(model, resolved.input_shape, "cuda", "fp16", batch_size=256)
    limit_w = meter.state().power_limit_w
    started = time.perf_counter()
    first = measure_energy(workload.run_batch, workload.batch_size, meter, workload.synchronize,
                           ProtocolConfig(seed=1), limit_w)
    protocol_s = time.perf_counter() - started
    repeat = measure_energy(workload.run_batch, workload.batch_size, meter, workload.synchronize,
                            ProtocolConfig(seed=2), limit_w)
    reference_j, counter_vs_power = _reference(workload, meter, reference_s)
    batch = workload.batch_size
    del workload, model
    import torch

    torch.cuda.empty_cache()
    return Row(architecture, batch, protocol_s,
               first.median_j if first.windows else float("nan"),
               repeat.median_j if repeat.windows else float("nan"),
               reference_j, counter_vs_power, f"{first.status}/{repeat.status}")


def main() -> int:
    """Run the benchmark and print a table and the target checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--reference-s", type=float, default=60.0)
    args = parser.parse_args()
    import torch

    from leaderboard.measure.meters import MeterUnavailable, NvmlMeter

    if not torch.cuda.is_available():
        print("no CUDA device: this benchmark needs an NVIDIA GPU", file=sys.stderr)
        return 2
    try:
        meter = NvmlMeter(0)
    except MeterUnavailable as exc:
        print(f"cannot measure: {exc}", file=sys.stderr)
        return 2
    print(f"GPU: {meter.state().name}, meter {meter.name}, reference window {args.reference_s:g} s")
    rows = []
    for architecture in args.models.split(","):
        try:
            row = bench_model(architecture.strip(), meter, args.reference_s)
        except Exception as exc:  # one model's failure must not end the benchmark
            print(f"{architecture}: failed: {exc}", file=sys.stderr)
            continue
        rows.append(row)
        print(f"{row.model:32s} batch {row.batch:3d} protocol {row.protocol_s:6.1f} s  "
              f"J/img {row.protocol_j:.5f}  vs ref {row.protocol_j / row.reference_j:.4f}  "
              f"repeat {row.repeat_j / row.protocol_j:.4f}  "
              f"counter/power {row.counter_vs_power:.4f}  {row.status}", flush=True)
    meter.close()
    if not rows:
        return 1
    seconds = statistics.median(r.protocol_s for r in rows)
    within_ref = sum(abs(r.protocol_j / r.reference_j - 1) <= 0.01 for r in rows) / len(rows)
    within_rep = sum(abs(r.repeat_j / r.protocol_j - 1) <= 0.02 for r in rows) / len(rows)
    print(f"\nmodels: {len(rows)}")
    print(f"median GPU s per model-scenario: {seconds:.1f} (target <= 15) "
          f"{'PASS' if seconds <= 15 else 'FAIL'}")
    print(f"protocol within 1% of reference: {within_ref:.0%} (target >= 90%) "
          f"{'PASS' if within_ref >= 0.9 else 'FAIL'}")
    print(f"repeat within 2%: {within_rep:.0%} (target 100%) "
          f"{'PASS' if within_rep == 1 else 'FAIL'}")
    ratios = sorted(r.counter_vs_power for r in rows)
    print(f"counter / integrated instantaneous power: median {statistics.median(ratios):.4f}, "
          f"range {ratios[0]:.4f}-{ratios[-1]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
