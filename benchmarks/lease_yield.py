"""How many records one 600 s device call yields on an H100, cheapest entries first (issue 20).

    python benchmarks/lease_yield.py [--deadline-s 600] [--entries 160] [--tflops 150]

No GPU is needed: it measures on the rehearsal (fake H200 NVML, cuda on the CPU; see
``leaderboard.measure.rehearsal``) what the CPU side of a lease costs, and takes the rest from
the protocol's own constants:

* measured here: the carried-wheel check, the probe (its JSON gives the counter's update period
  and poll period, from which v2's own ``config_from_probe`` sizes the windows), the start of a
  measurement worker (Python, torch, timm), and each shipped entry's model build (``build_model``
  with random-init weights: on the H100 the parameters are initialised on the GPU, so the CPU's
  time is an upper bound) and one exporter pass over as many records;
* the protocol's constants (``V2Config``): idle once per ``idle_max_age_s``, warm-up, windows of
  ``window_s(batch_s)``, gaps; the lease script's margin (30 s), the campaign's last-quarter
  rule (no model starts in the last min(campaign/4, 30) s), three 20 s reference checks;
* assumed (stated in the output): an H100's effective fp16 throughput on these small models
  (``--tflops``, default 150 TFLOP/s) for the batch time, the model's transfer and first batch
  (0.3 s), warm-up reaching steady state on its second chunk.

It prints every component, the records the campaign's time holds, and whether that is at least
100 after the reference checks; where it is not, the components sorted by the time they take
say what costs it. Exit 0 when the yield is at least 100, 1 when not.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from leaderboard.measure.rehearsal import SITE_DIR  # noqa: E402
from leaderboard.vocabulary import HEADLINE_SCENARIO, SCENARIO_BATCH_SIZE  # noqa: E402

if TYPE_CHECKING:
    from leaderboard.measure.protocol_v2 import V2Config

MARGIN_S = 30.0  # scripts/gpu_session.sh: kill-after 10 s + final export + 15 s slack
REFERENCES = 3  # issue 20: cheapest, one resnet50-class, one large, early in the lease
REFERENCE_S = 20.0
TARGET_RECORDS = 100
BATCH = SCENARIO_BATCH_SIZE[HEADLINE_SCENARIO]  # 256, the offline scenario's batch
FIRST_BATCH_S = 0.3  # assumed: weights to the GPU, cuDNN/cuBLAS choices, the first batch
RECORD_WRITE_S = 0.05  # assumed: process check, record JSON, atomic write
WHEEL_INSTALL_S = 5.0  # assumed where .whl/ is absent: pip installing five wheels, no network


def _rehearsal_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{SITE_DIR}{os.pathsep}{REPO}", "HF_HUB_OFFLINE": "1"}


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - start


def measure_fixed(work: Path) -> tuple[dict[str, float], float, dict]:
    """Seconds of the lease's fixed parts and of a worker's start on the rehearsal; the probe's JSON."""
    env = _rehearsal_env()
    probe_path = work / "probe.json"
    fixed = {
        "carried-wheel check": _timed([sys.executable, "scripts/check_carried_wheels.py",
                                       str(work / "no-site")], env),
        "probe": _timed([sys.executable, "-m", "leaderboard.measure.probe", "--out",
                         str(probe_path)], env),
    }
    wheels = sorted((REPO / ".whl").glob("*.whl"))
    if wheels:  # what scripts/fetch_gpu_wheels.sh carries, installed as the lease does
        fixed["carried-wheel install (measured)"] = _timed(
            [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
             "--no-cache-dir", "--python-version", "3.12", "--implementation", "cp", "--platform",
             "manylinux2014_x86_64", "--only-binary=:all:", "--target", str(work / "site"),
             *map(str, wheels)], env)
    else:
        fixed["carried-wheel install (assumed: no .whl here)"] = WHEEL_INSTALL_S
    worker_s = _timed([sys.executable, "-c", "import torch, timm, leaderboard.measure.workload; "
                       "torch.zeros(1, device='cuda')"], env)
    return fixed, worker_s, json.loads(probe_path.read_text("utf-8"))


def measure_builds(entries: list[str]) -> dict[str, float]:
    """Seconds to build each entry's model (random init, on the device: here the CPU)."""
    import torch

    from leaderboard.measure.workload import build_model
    from leaderboard.submission import load_valid_submission

    torch.set_num_threads(1)  # a lease's worker shares nothing, but this machine is shared
    builds = {}
    for entry in entries:
        submission = load_valid_submission(REPO / "submissions", entry)
        start = time.perf_counter()
        model, _ = build_model(submission, "random-init", "cpu", on_device=True)
        builds[entry] = time.perf_counter() - start
        del model
    return builds


def measure_export_pass(count: int, work: Path) -> float:
    """Seconds of one exporter pass that repacks ``count`` records."""
    from leaderboard.measure.lease_export import LeaseExporter
    from leaderboard.testing import write_synthetic_tree

    submissions = write_synthetic_tree(work / "export", count, single_stream_every=0)
    start = time.perf_counter()
    LeaseExporter(submissions, work / "out").run_pass(final=True)
    return time.perf_counter() - start


def _gmacs(entry: str) -> float:
    """The entry's GMACs per image (the campaign's cost estimate is GMACs x the headline batch)."""
    from leaderboard.measure.selection import estimated_cost

    return estimated_cost(REPO / "submissions", entry) / BATCH


def plan_campaign(config: V2Config, order: list[str], builds: dict[str, float], worker_s: float,
                  campaign_s: float, tflops: float) -> tuple[list[str], dict[str, float], list[float]]:
    """The entries measured in ``campaign_s`` (cheapest first), seconds by part, window lengths."""
    warmup_s = max(config.warmup_min_s, 2 * config.warmup_chunk_s)
    gaps_s = (config.windows - 1) * config.max_gap_s / 2
    start_by_s = campaign_s - min(campaign_s / 4, 30.0)  # no model starts after this
    elapsed = worker_s + REFERENCES * REFERENCE_S
    parts = {"worker start (python, torch, timm)": worker_s,
             "references (3 x 20 s)": REFERENCES * REFERENCE_S, "idle": 0.0, "model builds": 0.0,
             "first batch (assumed)": 0.0, "warm-up": 0.0, "windows": 0.0, "gaps": 0.0,
             "record write (assumed)": 0.0}
    records: list[str] = []
    window_lengths: list[float] = []
    next_idle_s = 0.0
    for entry in order:
        if elapsed >= start_by_s:
            break
        if elapsed >= next_idle_s:  # the worker re-reads idle once it is idle_max_age_s old
            elapsed += config.idle_s
            parts["idle"] += config.idle_s
            next_idle_s = elapsed + config.idle_max_age_s
        batch_s = 2 * _gmacs(entry) * 1e9 * BATCH / (tflops * 1e12) + 0.001
        window_s = config.window_s(batch_s)
        window_lengths.append(window_s)
        costs = {"model builds": builds[entry], "first batch (assumed)": FIRST_BATCH_S,
                 "warm-up": warmup_s, "windows": config.windows * window_s,
                 "gaps": gaps_s, "record write (assumed)": RECORD_WRITE_S}
        for name, seconds in costs.items():
            parts[name] += seconds
        elapsed += sum(costs.values())
        records.append(entry)
    return records, parts, window_lengths


def main(argv: list[str] | None = None) -> int:
    """Measure, add up, print; exit 0 when the yield reaches the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline-s", type=float, default=600.0)
    parser.add_argument("--entries", type=int, default=160, help="How many cheapest entries to build.")
    parser.add_argument("--tflops", type=float, default=150.0,
                        help="Assumed effective fp16 TFLOP/s of an H100 on these models.")
    args = parser.parse_args(argv)

    from leaderboard.measure.protocol_v2 import config_from_probe
    from leaderboard.measure.selection import list_entries, order_entries

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        load_before = os.getloadavg()[0]
        fixed, worker_s, probe = measure_fixed(work)
        order = order_entries(REPO / "submissions", list_entries(REPO / "submissions"), "cheapest")
        builds = measure_builds(order[: args.entries])
        export_s = measure_export_pass(TARGET_RECORDS + 20, work)
    config = config_from_probe(probe)
    counter = probe.get("counter") or {}

    campaign_s = args.deadline_s - MARGIN_S - sum(fixed.values())
    records, parts, window_lengths = plan_campaign(config, order[: args.entries], builds, worker_s,
                                                   campaign_s, args.tflops)
    warmup_s = parts["warm-up"] / max(len(records), 1)
    start_by_s = campaign_s - min(campaign_s / 4, 30.0)
    made = len(records)

    print(f"Lease yield: one {args.deadline_s:.0f} s device call on an H100, shipped entries cheapest first")
    print("Basis: measured on the rehearsal (fake H200 NVML, cuda on this machine's CPU) for the CPU-side "
          "parts; v2's own constants (V2Config via config_from_probe on the rehearsal's probe) for the "
          f"protocol; assumed: {args.tflops:.0f} TFLOP/s effective fp16, {FIRST_BATCH_S} s first batch, "
          f"warm-up steady on its 2nd chunk ({warmup_s:.2f} s), {RECORD_WRITE_S} s per record write.")
    print(f"Probe (rehearsal): counter update median {1000 * (counter.get('update_period_s') or 0):.0f} ms, "
          f"max {1000 * (counter.get('update_period_max_s') or 0):.0f} ms, poll "
          f"{1000 * (counter.get('poll_period_s') or 0):.2f} ms -> v2 window_s "
          f"{min(window_lengths or [0]):.2f}-{max(window_lengths or [0]):.2f} s x {config.windows} windows "
          f"(counter period used {1000 * config.counter_period_s:.0f} ms, tick uncertainty "
          f"{1000 * config.tick_uncertainty_s:.2f} ms, mode {config.window_mode})")
    print(f"This machine: load average {load_before:.1f} before, {os.cpu_count()} CPUs (CPU-side times "
          "scale with it; the GPU machine has 16 cores to itself)")
    print()
    rows = [(f"lease fixed: {name}", seconds) for name, seconds in fixed.items()]
    rows.append(("lease fixed: margin before the deadline", MARGIN_S))
    rows.append(("campaign: last-quarter rule (no model starts)", campaign_s - start_by_s))
    rows += [(f"campaign: {name}", seconds) for name, seconds in parts.items()]
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:7.1f} s")
    print(f"{'exporter pass over ' + str(TARGET_RECORDS + 20) + ' records (beside, not in the sum)':<{width}}"
          f"  {export_s:7.1f} s")
    print()
    per_record = (sum(parts.values()) - worker_s - parts["references (3 x 20 s)"]) / max(made, 1)
    print(f"records: {made} ok/unstable expected after {REFERENCES} reference checks "
          f"({per_record:.2f} s per record; builds median "
          f"{statistics.median([builds[e] for e in records] or [0]):.2f} s), "
          f"entries {records[0] if records else '-'} .. {records[-1] if records else '-'}")
    median_s = counter.get("update_period_s")
    if isinstance(median_s, int | float) and median_s < config.counter_period_s:
        # Not a tuning: what the windows cost because they are sized from the counter's slow
        # intervals (the 90th percentile, config_from_probe) rather than its median.
        other = dataclasses.replace(config, counter_period_s=float(median_s))
        alt, _, alt_windows = plan_campaign(other, order[: args.entries], builds, worker_s,
                                            campaign_s, args.tflops)
        print(f"sensitivity: the windows are sized from the counter period config_from_probe takes "
              f"({1000 * config.counter_period_s:.0f} ms; median {1000 * median_s:.0f} ms). Sized "
              f"from the median they would be {min(alt_windows):.2f} s and the call would yield "
              f"{len(alt)} records.")
    if made >= TARGET_RECORDS:
        print(f"verdict: at least {TARGET_RECORDS}: yes")
        return 0
    costly = sorted(((s, n) for n, s in rows), reverse=True)[:4]
    print(f"verdict: at least {TARGET_RECORDS}: NO; the time goes to "
          + ", ".join(f"{name} ({seconds:.0f} s)" for seconds, name in costly))
    return 1


if __name__ == "__main__":
    sys.exit(main())
