"""The long-lived worker itself, on the rehearsal: model after model, idle once, drift recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leaderboard.measure.rehearsal import SITE_DIR

REPO = Path(__file__).resolve().parents[1]
ENTRY = "test_vit.r160_in1k"


def test_the_worker_measures_tasks_in_one_process_and_records_drift(tmp_path):
    submissions = tmp_path / "submissions"
    (submissions / ENTRY).mkdir(parents=True)
    (submissions / ENTRY / "submission.yaml").write_text(
        (REPO / "submissions" / ENTRY / "submission.yaml").read_text("utf-8"), "utf-8")
    # Loose stability limits: on a shared CPU the records would be "unstable", and only an ok
    # record becomes the drift reference.
    # Shorter windows: nothing asserted depends on their length. By default a window lasts at
    # least 1 s (tick timing within 0.2% of it) and four warm-up batch times, which one
    # descheduled batch on a loaded CPU stretched to 2 s. 0.8 s windows hold ~8 of the fake
    # counter's steps (it senses 25 ms of every 100 ms; 3 steps are needed, and a starved
    # sampler thread loses some).
    overrides = {"warmup_min_s": 0.3, "warmup_max_s": 1.5, "warmup_chunk_s": 0.1, "windows": 5,
                 "window_mode": "sub-windows", "counter_period_s": 0.2,
                 "tick_uncertainty_s": 0.0008, "min_batches_per_window": 1, "idle_s": 0.5,
                 "unstable_cv": 10.0, "steady_tolerance": 10.0,
                 "aliasing_tolerance": 10.0}
    env = {**os.environ, "PYTHONPATH": f"{SITE_DIR}{os.pathsep}{REPO}",
           "LEADERBOARD_V2_OVERRIDES": json.dumps(overrides)}
    # The bad task first: after it the worker must go on measuring. Last, it would cost one
    # more drift reference measurement (due before every task with --drift-every-s 0). The last
    # task also asks for a reference window.
    tasks = json.dumps({"entry_id": "no-such-entry", "scenario": "single-stream"}) + "\n"
    tasks += json.dumps({"entry_id": ENTRY, "scenario": "single-stream", "force": True}) + "\n"
    tasks += json.dumps({"entry_id": ENTRY, "scenario": "single-stream", "force": True,
                         "reference_s": 0.8}) + "\n"
    done = subprocess.run(
        [sys.executable, "-P", "-m", "leaderboard.measure.worker", "--device", "cuda",
         "--submissions", str(submissions), "--drift-every-s", "0", "--cool-down-max-s", "2"],
        input=tasks, capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    ready, results = lines[0], lines[1:]
    assert ready["ready"] and ready["hardware"] == "nvidia-h200" and ready["idle_power_w"] > 0
    # A bad task costs one error line; the worker goes on (and ends with its input).
    assert results[0]["status"] == "error" and "no-such-entry" in results[0]["error"]
    record = json.loads(Path(results[2]["record_path"]).read_text())
    assert [r["status"] for r in results[1:]] == ["ok"] * 2, record["reasons"]
    assert record["protocol_version"] == "2" and record["synthetic"] is True
    assert record["protocol_details"]["idle_age_s"] > 0  # idle measured once, at the start
    # The first record is the drift reference, re-measured before the next model.
    drift = record["drift"]
    assert drift["reference_entry"] == ENTRY and drift["ratio"] > 0 and drift["models_since"] == 0
    assert drift["temperature_c"] is not None
    # The reference window's J/image beside the protocol's, the cool-down, the GPU per window
    reference = record["reference_check"]
    assert reference["reference_window_s"] >= 0.8 and reference["ratio"] > 0
    assert reference["ratio"] == pytest.approx(
        record["energy"]["gross_j_per_image"] / reference["reference_j_per_image"])
    cooled = record["cool_down"]
    assert cooled["waited_s"] <= 2.5 and cooled["target_w"] == pytest.approx(
        record["energy"]["idle_power_w"] * 1.1, rel=0.3)
    assert all(w["temperature_c"] is not None and w["sm_clock_mhz"] for w in record["raw_windows"])
    assert isinstance(record["window_seed"], int)
