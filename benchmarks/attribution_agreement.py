"""Does the layer-type attribution predict real savings? Ablation agreement on several models.

For each model: measure the headline workload's energy per image, attribute it to layer types
by kernel time (equal power across kernels), then replace activations and normalisations with
identity, measure again, and print predicted against measured saving. Agreement is
measured / predicted (1.0 = the attribution was exact).

    python benchmarks/attribution_agreement.py                       # CUDA + NVML, 6 models
    python benchmarks/attribution_agreement.py --device cpu          # CPU-time proxy, small inputs
    python benchmarks/attribution_agreement.py --models resnet50,vit_base_patch16_224

On CUDA the energy is NVML's (protocol v1, batch 256, fp16). On the CPU there is no energy
meter here, so the script uses ``CpuTimeMeter`` (energy grows with the main thread's CPU time,
one thread): that tests the method's mechanics, not inference energy, and says so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

DEFAULT_MODELS = ("resnet50", "efficientnet_b0", "convnext_tiny", "vit_base_patch16_224",
                  "deit_small_patch16_224", "coatnet_0_rw_224")
CPU_IMG_SIZE = 96
TARGET_BAND = (0.5, 2.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--device", default=None, help="cuda or cpu [default: cuda if available]")
    parser.add_argument("--batch-size", type=int, default=None, help="[default: 256 CUDA, 8 CPU]")
    args = parser.parse_args()

    import timm
    import torch

    from leaderboard.measure.meters import open_meter
    from leaderboard.measure.profile import attribute_workload
    from leaderboard.measure.protocol_v1 import PROTOCOL_V1, V1Config, measure_v1
    from leaderboard.measure.workload import make_workload
    from leaderboard.testing import CpuTimeMeter

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    on_cuda = device.startswith("cuda")
    if on_cuda:
        meter, config, precision, batch = open_meter(device), PROTOCOL_V1, "fp16", args.batch_size or 256
        print(f"device {torch.cuda.get_device_name(device)}, NVML energy, protocol v1, fp16, batch {batch}")
    else:
        torch.set_num_threads(1)
        torch.set_flush_denormal(True)
        meter = CpuTimeMeter(idle_power_w=0.5)
        config = V1Config(idle_s=0.2, warmup_s=0.3, window_s=0.5, min_windows=3, max_windows=8,
                                max_gap_s=0.02, poll_period_s=0.002)
        precision, batch = "fp32", args.batch_size or 8
        print(f"NOTE: no CUDA device: CPU, one thread, {CPU_IMG_SIZE} px, batch {batch}, fp32; energy is a "
              "CPU-time proxy (CpuTimeMeter), NOT inference energy. This checks the method's mechanics only.")
    print(f"torch {torch.__version__}, timm {timm.__version__}\n")

    def measure(work):  # noqa: ANN001, ANN202
        return measure_v1(work.run_batch, work.batch_size, meter, work.synchronize, config)

    header = (f"{'model':28s} {'kind':6s} {'J/img':>9s}  {'conv':>5s} {'lin':>5s} {'attn':>5s} {'norm':>5s} "
              f"{'act':>5s}  {'ablated':13s} {'pred J':>9s} {'meas J':>9s} {'agree':>6s}")
    print(header)
    agreements: list[float] = []
    rows = 0
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        start = time.perf_counter()
        kwargs = {} if on_cuda else {"img_size": CPU_IMG_SIZE}
        try:
            model = timm.create_model(name, pretrained=False, **kwargs).to(device).eval()
        except TypeError:
            model = timm.create_model(name, pretrained=False).to(device).eval()
        size = model.pretrained_cfg["input_size"] if on_cuda else (3, CPU_IMG_SIZE, CPU_IMG_SIZE)
        workload = make_workload(model, tuple(size), device, precision, batch_size=batch)
        baseline = measure(workload)
        if not baseline.windows:
            print(f"{name:28s} baseline refused: {'; '.join(baseline.reasons)}")
            continue
        found = attribute_workload(workload, baseline.median_j, measure, profiled_batches=3)
        shares = {s.layer_type: s.share for s in found.shares}
        prefix = (f"{name:28s} {found.architecture_kind:6s} {baseline.median_j:9.4f}  "
                  + " ".join(f"{shares[t]:5.1%}" for t in ("convolution", "linear", "attention",
                                                             "normalisation", "activation")))
        for ablation in found.ablations:
            agreement = ablation.agreement
            if agreement is not None:
                agreements.append(agreement)
            print(f"{prefix}  {ablation.layer_type:13s} {ablation.predicted_saving_j:9.5f} "
                  f"{ablation.measured_saving_j:9.5f} "
                  f"{agreement if agreement is not None else float('nan'):6.2f}")
            prefix = " " * len(prefix)
            rows += 1
        for reason in found.reasons:
            print(f"{'':28s} note: {reason}")
        print(f"{'':28s} ({time.perf_counter() - start:.0f} s)")
    meter.close()
    if not agreements:
        print("\nno ablation measured")
        return 1
    inside = sum(TARGET_BAND[0] <= a <= TARGET_BAND[1] for a in agreements)
    print(f"\n{rows} ablations on {len(args.models.split(','))} models: median agreement "
          f"{statistics.median(agreements):.2f}, {inside}/{len(agreements)} within "
          f"{TARGET_BAND[0]}..{TARGET_BAND[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
