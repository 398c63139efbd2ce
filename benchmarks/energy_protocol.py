"""Protocol v1 against protocol v2, side by side in one run (issue 11).

For each entry (random-init weights, one scenario) it runs, on the same device:

* two campaigns per protocol over all entries (``run_campaign``: v1 a fresh worker per model,
  v2 one long-lived worker with the first-contact probe's parameters), records in throw-away
  submission folders: seconds per record (campaign wall time / records, worker starts and
  v2's idle included), records per 10 minutes, and the repeat spread (run 2 / run 1);
* one long reference window per entry in this process (default 60 s; power between the first
  and last counter tick, so a step's quantisation is under 0.2% of it): each protocol's
  J/image against it (ratio).

Targets (issue 11): v2's seconds per record at most a third of v1's; on an H200 at most 5 s
per resnet50-class record, within 1% of the reference for at least 90% of 20 models, repeats
within 2%. Under the rehearsal (fake H200 NVML, cuda on the CPU; see
``leaderboard.measure.rehearsal``) it runs too and says so: its J/image are not measurements.

    python benchmarks/energy_protocol.py                        # 20 entries, offline, 60 s reference
    PYTHONPATH=leaderboard/measure/rehearsal/site python benchmarks/energy_protocol.py \\
        --entries test_resnet.r160_in1k,test_vit.r160_in1k --scenario single-stream --reference-s 20
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_ENTRIES = (
    "resnet18.a1_in1k,resnet50.a1_in1k,resnet101.a1h_in1k,mobilenetv3_small_100.lamb_in1k,"
    "mobilenetv3_large_100.ra_in1k,efficientnet_b0.ra_in1k,efficientnet_b3.ra2_in1k,"
    "convnext_tiny.fb_in1k,convnext_small.fb_in1k,regnety_016.tv2_in1k,regnety_040.ra3_in1k,"
    "densenet121.ra_in1k,vit_tiny_patch16_224.augreg_in21k_ft_in1k,"
    "vit_small_patch16_224.augreg_in21k_ft_in1k,vit_base_patch16_224.augreg2_in21k_ft_in1k,"
    "deit_small_patch16_224.fb_in1k,swin_tiny_patch4_window7_224.ms_in1k,ghostnet_100.in1k,"
    "repvgg_a2.rvgg_in1k,levit_128.fb_dist_in1k"
)


@dataclass
class Run:
    """One campaign of one protocol: J/image per entry and its wall time."""

    j_per_image: dict[str, float]
    statuses: dict[str, str]
    wall_s: float

    @property
    def seconds_per_record(self) -> float:
        """Campaign wall time per record written."""
        return self.wall_s / max(len(self.j_per_image), 1)


def _campaign(protocol: str, ids: list[str], scenario: str, probe_file: Path | None) -> Run:
    from leaderboard.measure.campaign import run_campaign

    with tempfile.TemporaryDirectory(prefix=f"energy-bench-v{protocol}-") as tmp:
        submissions = Path(tmp) / "submissions"
        for entry in ids:
            (submissions / entry).mkdir(parents=True)
            shutil.copy(REPO / "submissions" / entry / "submission.yaml", submissions / entry)
        started = time.perf_counter()
        summary = run_campaign(ids, submissions, scenarios=(scenario,), protocol=protocol,
                               force=True, probe_file=probe_file, progress=True)
        wall_s = time.perf_counter() - started
        energies, statuses = {}, {}
        for result in summary.results:
            statuses[result.entry_id] = result.status
            if result.energy_j is not None and result.status in ("ok", "unstable"):
                energies[result.entry_id] = result.energy_j
    return Run(energies, statuses, wall_s)


def _reference(entry_id: str, scenario: str, meter, seconds: float) -> float:
    """J/image over one long tick-aligned window of the entry's workload in this process (the
    campaign's reference check, :func:`leaderboard.measure.windows.measure_reference`)."""
    import torch

    from leaderboard.measure.windows import measure_reference
    from leaderboard.measure.workload import build_model, make_workload, resolve_input
    from leaderboard.submission import load_valid_submission
    from leaderboard.vocabulary import SCENARIO_BATCH_SIZE

    entry = load_valid_submission(REPO / "submissions", entry_id)
    model, _ = build_model(entry, "random-init", "cuda", on_device=True)
    shape = resolve_input(entry, model).input_shape
    workload = make_workload(model, shape, "cuda", "fp16", batch_size=SCENARIO_BATCH_SIZE[scenario],
                             draw_on_device=True)
    warm_end = time.perf_counter() + 2.0
    while time.perf_counter() < warm_end:
        workload.run_batch()
    workload.synchronize()
    reference = measure_reference(workload.run_batch, workload.synchronize, workload.batch_size,
                                  meter, seconds)
    del workload, model
    torch.cuda.empty_cache()
    return float("nan") if reference is None else reference.j_per_image


def _probe(device: str) -> Path:
    out = Path(tempfile.mkdtemp(prefix="energy-bench-probe-")) / "probe.json"
    subprocess.run([sys.executable, "-m", "leaderboard.measure.probe", "--device", device,
                    "--out", str(out)], check=False, cwd=REPO, stdout=subprocess.DEVNULL)
    return out


def _fmt(value: float | None, spec: str = ".4f") -> str:
    return "-" if value is None or value != value else format(value, spec)


def main() -> int:
    """Run both protocols and the references; print the table and the target checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default=DEFAULT_ENTRIES, help="Comma-separated entry ids.")
    parser.add_argument("--scenario", default="offline", choices=["offline", "single-stream"])
    parser.add_argument("--reference-s", type=float, default=60.0)
    parser.add_argument("--probe-file", type=Path, default=None)
    args = parser.parse_args()
    import pynvml
    import torch

    from leaderboard.measure.meters import MeterUnavailable, NvmlMeter

    if not torch.cuda.is_available():
        print("no CUDA device: this benchmark needs an NVIDIA GPU (or the rehearsal)", file=sys.stderr)
        return 2
    try:
        meter = NvmlMeter(0)
    except MeterUnavailable as exc:
        print(f"cannot measure: {exc}", file=sys.stderr)
        return 2
    rehearsal = "rehearsal" in str(getattr(pynvml, "__file__", ""))
    banner = ("REHEARSAL: fake H200 NVML and cuda on the CPU; the J/image below are not GPU "
              "measurements, only the protocols' relative cost is meaningful") if rehearsal else None
    if banner:
        print(banner)
    ids = [e.strip() for e in args.entries.split(",") if e.strip()]
    probe_file = args.probe_file or _probe("cuda")
    print(f"GPU: {meter.gpu_name}, meter {meter.name}, {len(ids)} entries, {args.scenario}, "
          f"reference {args.reference_s:g} s, probe {probe_file}", flush=True)
    runs = {(p, n): _campaign(p, ids, args.scenario, probe_file) for p in ("1", "2") for n in (1, 2)}
    references = {}
    for entry in ids:
        try:
            references[entry] = _reference(entry, args.scenario, meter, args.reference_s)
        except Exception as exc:  # one model's failure must not end the benchmark
            print(f"{entry}: reference failed: {exc}", file=sys.stderr)
    meter.close()

    header = (f"{'entry':44s} {'ref J/img':>10s} {'v1/ref':>7s} {'v2/ref':>7s} "
              f"{'v1 rep':>7s} {'v2 rep':>7s}  status v1/v2")
    print("\n" + header)
    ratios: dict[str, list[float]] = {"1": [], "2": []}
    repeats: dict[str, list[float]] = {"1": [], "2": []}
    for entry in ids:
        ref = references.get(entry, float("nan"))
        cells = []
        for protocol in ("1", "2"):
            first = runs[(protocol, 1)].j_per_image.get(entry)
            second = runs[(protocol, 2)].j_per_image.get(entry)
            ratio = first / ref if first and ref == ref else None
            repeat = second / first if first and second else None
            if ratio is not None:
                ratios[protocol].append(ratio)
            if repeat is not None:
                repeats[protocol].append(repeat)
            cells.append((ratio, repeat))
        statuses = "/".join(runs[(p, 1)].statuses.get(entry, "none") for p in ("1", "2"))
        print(f"{entry:44s} {_fmt(ref, '.5f'):>10s} {_fmt(cells[0][0]):>7s} {_fmt(cells[1][0]):>7s} "
              f"{_fmt(cells[0][1]):>7s} {_fmt(cells[1][1]):>7s}  {statuses}")

    print(f"\n{'':34s} {'v1':>10s} {'v2':>10s}")
    per_record = {p: statistics.median([runs[(p, n)].seconds_per_record for n in (1, 2)]) for p in ("1", "2")}
    rows = [
        ("seconds per record", f"{per_record['1']:.1f}", f"{per_record['2']:.1f}"),
        ("records per 10 minutes", f"{600 / per_record['1']:.0f}", f"{600 / per_record['2']:.0f}"),
    ]
    for protocol_name, key in (("within 1% of reference", "ratio"), ("repeat within 2%", "repeat")):
        values = {p: (ratios if key == "ratio" else repeats)[p] for p in ("1", "2")}
        limit = 0.01 if key == "ratio" else 0.02
        rows.append((protocol_name, *(f"{sum(abs(v - 1) <= limit for v in values[p])}/{len(values[p])}"
                                      for p in ("1", "2"))))
        rows.append((f"median |{key} - 1|", *(f"{statistics.median(abs(v - 1) for v in values[p]):.2%}"
                                              if values[p] else "-" for p in ("1", "2"))))
    for name, v1, v2 in rows:
        print(f"{name:34s} {v1:>10s} {v2:>10s}")
    speedup = per_record["1"] / per_record["2"]
    print(f"\nv2 seconds per record / v1: {1 / speedup:.2f} (target <= 0.33) "
          f"{'PASS' if speedup >= 3 else 'FAIL'}")
    if not rehearsal:
        within = sum(abs(v - 1) <= 0.01 for v in ratios["2"]) / max(len(ratios["2"]), 1)
        print(f"v2 within 1% of the reference: {within:.0%} (target >= 90%) "
              f"{'PASS' if within >= 0.9 else 'FAIL'}")
        print(f"v2 seconds per record: {per_record['2']:.1f} (target <= 5 for resnet50-class) "
              f"{'PASS' if per_record['2'] <= 5 else 'FAIL'}")
    else:
        print(banner)
    print(json.dumps({"rehearsal": rehearsal, "seconds_per_record": per_record,
                      "ratios": ratios, "repeats": repeats}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
