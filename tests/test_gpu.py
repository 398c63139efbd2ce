"""The real NVML path, end to end. Opt in with ``pytest -m gpu`` on a machine with an NVIDIA GPU.

These tests use real timm models with random-init weights (energy depends on the
architecture and input shape, not the weight values) and the protocol's real parameters where
the test is about the protocol, shorter ones where it is about plumbing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.gpu

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to torch")
    return torch


@pytest.fixture()
def meter(cuda):
    from leaderboard.measure.meters import NvmlMeter

    meter = NvmlMeter(0)
    yield meter
    meter.close()


def _entry(tmp_path: Path, entry_id: str, architecture: str):
    from leaderboard.submission import Submission

    return Submission.model_validate({
        "schema_version": 1, "id": entry_id,
        "model": {"architecture": architecture,
                  "weights": {"hf_hub": {"repo": f"timm/{entry_id}", "revision": "0" * 40}}},
        "claims": {"top1": 70.0, "source": "gpu test"},
        "submitter": {"name": "GPU test"},
    })


def test_counter_moves_in_ticks_and_tracks_load(cuda, meter):
    from leaderboard.measure.windows import TickRecorder

    a = cuda.randn(8192, 8192, device="cuda", dtype=cuda.float16)
    with TickRecorder(meter, 0.001) as ticks:
        start = time.perf_counter()
        while time.perf_counter() - start < 2.0:
            a @ a
        cuda.cuda.synchronize()
    steps = [b.time_s - a_.time_s for a_, b in zip(ticks.ticks[1:-1], ticks.ticks[2:], strict=True)]
    assert len(steps) >= 10, "the energy counter should step many times in 2 s"
    median_step_s = sorted(steps)[len(steps) // 2]
    assert 0.001 <= median_step_s <= 0.2, median_step_s
    power_w = (ticks.ticks[-1].energy_j - ticks.ticks[1].energy_j) / (
        ticks.ticks[-1].time_s - ticks.ticks[1].time_s)
    state = meter.state()
    assert 50.0 < power_w <= (state.power_limit_w or 1000.0) * 1.05
    assert meter.name == "nvml-total-energy"


def test_gpu_state_is_readable(meter):
    state = meter.state()
    assert state.name and state.uuid.startswith("GPU-")
    assert state.power_limit_w and state.power_limit_w > 50


def test_measure_entry_on_resnet18_offline(cuda, tmp_path):
    from leaderboard.measure.runner import measure_and_write
    from leaderboard.records import read_record

    entry = _entry(tmp_path, "resnet18.a1_in1k", "resnet18")
    result = measure_and_write(entry, tmp_path / "submissions", scenario="offline", device="cuda")
    record = read_record(result.path)
    assert record.status in ("ok", "unstable"), record.reasons
    assert record.energy is not None and record.energy.windows >= 5
    assert 0.0 < record.energy.gross_j_per_image < 1.0
    assert record.energy.idle_subtracted_j_per_image < record.energy.gross_j_per_image
    assert record.batch_size == 256 and record.precision == "fp16"
    assert record.provenance.gpu_name and record.provenance.driver
    assert record.hardware.startswith("nvidia-")
    again = measure_and_write(entry, tmp_path / "submissions", scenario="offline", device="cuda")
    assert again.skipped


def test_single_stream_costs_more_per_image_than_offline(cuda, tmp_path):
    from leaderboard.measure.protocol_v1 import V1Config, V1Run
    from leaderboard.measure.runner import measure_entry

    entry = _entry(tmp_path, "resnet18.a1_in1k", "resnet18")
    quick = V1Config(idle_s=1.0, warmup_s=1.0, window_s=1.0, min_windows=3, max_windows=5)
    offline = measure_entry(entry, tmp_path, scenario="offline", device="cuda",
                            protocol=V1Run(quick)).record
    single = measure_entry(entry, tmp_path, scenario="single-stream", device="cuda",
                           protocol=V1Run(quick)).record
    assert single.energy.gross_j_per_image > 3 * offline.energy.gross_j_per_image


def test_campaign_isolates_models_in_subprocesses(cuda, tmp_path):
    from leaderboard.import_timm import render_submission

    submissions = tmp_path / "submissions"
    for entry_id, architecture in (("resnet18.a1_in1k", "resnet18"),
                                   ("mobilenetv3_small_100.lamb_in1k", "mobilenetv3_small_100")):
        path = submissions / entry_id / "submission.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(render_submission(
            _entry(tmp_path, entry_id, architecture).model_dump(mode="json", exclude_none=True)))
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-c", "from leaderboard.cli import main; main()", "measure", "--all",
         "--submissions", str(submissions), "--timeout-per-model", "600"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert out.returncode in (0, 1), out.stderr[-2000:]
    records = sorted(submissions.glob("*/measurements/*--offline.json"))
    assert len(records) == 2
    for path in records:
        data = json.loads(path.read_text())
        assert data["status"] in ("ok", "unstable", "refused", "error")


def test_probe_and_a_v2_campaign_on_the_gpu(cuda, tmp_path):
    """The lease path: the probe, then two models through one long-lived worker."""
    from leaderboard.import_timm import render_submission

    probe_path = tmp_path / "probe.json"
    probe = subprocess.run([sys.executable, "-m", "leaderboard.measure.probe", "--out", str(probe_path)],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stdout + probe.stderr
    found = json.loads(probe_path.read_text())
    assert found["counter"]["status"] == "ok" and found["counter"]["update_period_s"] > 0
    submissions = tmp_path / "submissions"
    for entry_id, architecture in (("resnet18.a1_in1k", "resnet18"),
                                   ("mobilenetv3_small_100.lamb_in1k", "mobilenetv3_small_100")):
        path = submissions / entry_id / "submission.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(render_submission(
            _entry(tmp_path, entry_id, architecture).model_dump(mode="json", exclude_none=True)))
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", "from leaderboard.cli import main; main()", "measure", "--all",
         "--submissions", str(submissions), "--protocol", "v2", "--order", "cheapest",
         "--probe-file", str(probe_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    records = [json.loads(p.read_text()) for p in submissions.glob("*/measurements/*--offline.json")]
    assert len(records) == 2
    for record in records:
        assert record["status"] in ("ok", "unstable"), record["reasons"]
        assert record["protocol_version"] == "2" and len(record["raw_windows"]) >= 5
        assert record["process_check"] in ("clear", "unverifiable (pid namespace)")
    assert time.monotonic() - started < 120
