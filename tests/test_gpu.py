"""The real NVML path, end to end. Opt in with ``pytest -m gpu`` on a machine with an NVIDIA GPU.

These tests use real timm models with random-init weights (energy depends on the
architecture and input shape, not the weight values) and the protocol's real parameters where
the test is about the protocol, shorter ones where it is about plumbing. Under the rehearsal
(fake NVML, cuda on the CPU: ``leaderboard.measure.rehearsal``) they take timm's tiny test
models and small products instead, and check the same plumbing.

The tests that start a campaign in a child process are marked ``no_cuda_context``: on a VM,
NVML lists every process holding a CUDA context, so a context in this pytest process would
sit beside the child's worker and the child would rightly refuse every record. The marker
makes them run first in any session (tests/conftest.py), before any test here creates one,
and a guard says so plainly if that ever stops holding.
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


def _rehearsal() -> bool:
    """True under the rehearsal's fake NVML (whose pynvml says so)."""
    try:
        import pynvml
    except ImportError:
        return False
    return bool(getattr(pynvml, "REHEARSAL", False))


# (entry id, architecture, input size) of the two models the campaigns measure.
MODELS = ((("test_resnet.r160_in1k", "test_resnet", 64), ("test_efficientnet.r160_in1k",
                                                            "test_efficientnet", 64))
          if _rehearsal() else
          (("resnet18.a1_in1k", "resnet18", 224),
           ("mobilenetv3_small_100.lamb_in1k", "mobilenetv3_small_100", 224)))
# The campaigns' scenario: on a CPU, batch 1 keeps a window short.
SCENARIO = "single-stream" if _rehearsal() else "offline"
# Under the rehearsal: short v2 windows (the fake's records are not measurements anyway).
REHEARSAL_V2 = {"idle_s": 0.5, "warmup_chunk_s": 0.1, "warmup_max_s": 0.3, "windows": 5,
                "window_mode": "sub-windows", "max_gap_s": 0.0, "min_batches_per_window": 1}


@pytest.fixture(scope="module")
def cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to torch")
    return torch


@pytest.fixture()
def no_context_here(cuda):
    """The child campaign must be the only process of ours with a CUDA context."""
    assert not cuda.cuda.is_initialized(), (
        "this pytest process already holds a CUDA context: on a VM, NVML lists it beside the "
        "child's worker and every record is refused. Tests marked no_cuda_context must run "
        "before any test that uses CUDA in this process (tests/conftest.py orders them first).")


def _write_entries(submissions: Path) -> None:
    from leaderboard.import_timm import render_submission

    for entry_id, architecture, img_size in MODELS:
        path = submissions / entry_id / "submission.yaml"
        path.parent.mkdir(parents=True)
        document = _entry(submissions, entry_id, architecture, img_size).model_dump(
            mode="json", exclude_none=True)
        path.write_text(render_submission(document))


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    if _rehearsal():
        env["LEADERBOARD_V2_OVERRIDES"] = json.dumps(REHEARSAL_V2)
    return env


@pytest.fixture()
def meter(cuda):
    from leaderboard.measure.meters import NvmlMeter

    meter = NvmlMeter(0)
    yield meter
    meter.close()


def _entry(tmp_path: Path, entry_id: str, architecture: str, img_size: int = 224):
    from leaderboard.submission import Submission

    return Submission.model_validate({
        "schema_version": 1, "id": entry_id,
        "model": {"architecture": architecture,
                  "weights": {"hf_hub": {"repo": f"timm/{entry_id}", "revision": "0" * 40}}},
        "eval": {"img_size": img_size},
        "claims": {"top1": 70.0, "source": "gpu test"},
        "submitter": {"name": "GPU test"},
    })


def test_counter_moves_in_ticks_and_tracks_load(cuda, meter):
    from leaderboard.measure.windows import TickRecorder

    size, dtype = (512, cuda.float32) if _rehearsal() else (8192, cuda.float16)
    a = cuda.randn(size, size, device="cuda", dtype=dtype)
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


def test_measure_entry_offline(cuda, tmp_path):
    from leaderboard.measure.runner import measure_and_write
    from leaderboard.records import read_record

    entry = _entry(tmp_path, *MODELS[0])
    result = measure_and_write(entry, tmp_path / "submissions", scenario="offline", device="cuda")
    record = read_record(result.path)
    assert record.status in ("ok", "unstable"), record.reasons
    assert record.energy is not None and record.energy.windows >= 5
    assert 0.0 < record.energy.gross_j_per_image < (1000.0 if _rehearsal() else 1.0)
    assert record.energy.idle_subtracted_j_per_image < record.energy.gross_j_per_image
    assert record.batch_size == 256 and record.precision == "fp16"
    assert record.provenance.gpu_name and record.provenance.driver
    assert record.hardware.startswith("nvidia-")
    again = measure_and_write(entry, tmp_path / "submissions", scenario="offline", device="cuda")
    assert again.skipped


def test_single_stream_costs_more_per_image_than_offline(cuda, tmp_path):
    from leaderboard.measure.protocol_v1 import V1Config, V1Run
    from leaderboard.measure.runner import measure_entry

    entry = _entry(tmp_path, *MODELS[0])
    quick = V1Config(idle_s=1.0, warmup_s=1.0, window_s=1.0, min_windows=3, max_windows=5)
    offline = measure_entry(entry, tmp_path, scenario="offline", device="cuda",
                            protocol=V1Run(quick)).record
    single = measure_entry(entry, tmp_path, scenario="single-stream", device="cuda",
                           protocol=V1Run(quick)).record
    assert single.energy.gross_j_per_image > 3 * offline.energy.gross_j_per_image


@pytest.mark.no_cuda_context
def test_campaign_isolates_models_in_subprocesses(no_context_here, tmp_path):
    """v1: one process per model. Every record measured and none refused for another process:
    on a VM (where NVML shows our PIDs) "clear" proves the campaign itself, the previous
    model's process and this pytest process held no context while a model was measured."""
    submissions = tmp_path / "submissions"
    _write_entries(submissions)
    out = subprocess.run(
        [sys.executable, "-c", "from leaderboard.cli import main; main()", "measure", "--all",
         "--submissions", str(submissions), "--scenario", SCENARIO, "--timeout-per-model", "600"],
        cwd=REPO, env=_child_env(), capture_output=True, text=True, timeout=1200,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    records = sorted(submissions.glob(f"*/measurements/*--{SCENARIO}.json"))
    assert len(records) == 2
    for path in records:
        data = json.loads(path.read_text())
        assert data["status"] in ("ok", "unstable"), (path, data["reasons"])
        assert data["process_check"] in ("clear", "unverifiable (pid namespace)"), data["reasons"]
        assert not any("other compute processes" in r for r in data["reasons"])


@pytest.mark.no_cuda_context
def test_probe_and_a_v2_campaign_on_the_gpu(no_context_here, tmp_path):
    """The lease path: the probe, then two models through one long-lived worker."""
    # The lease's probe stage wrote one already (gpu_session.sh says where): it is reused.
    probe_path = Path(os.environ.get("LB_PROBE_FILE") or tmp_path / "probe.json")
    if not probe_path.is_file():
        probe = subprocess.run([sys.executable, "-m", "leaderboard.measure.probe", "--out",
                                str(probe_path)], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert probe.returncode == 0, probe.stdout + probe.stderr
    found = json.loads(probe_path.read_text())
    assert found["counter"]["status"] == "ok" and found["counter"]["update_period_s"] > 0
    submissions = tmp_path / "submissions"
    _write_entries(submissions)
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", "from leaderboard.cli import main; main()", "measure", "--all",
         "--submissions", str(submissions), "--scenario", SCENARIO, "--protocol", "v2", "--order", "cheapest",
         "--probe-file", str(probe_path)],
        cwd=REPO, env=_child_env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    records = [json.loads(p.read_text()) for p in submissions.glob(f"*/measurements/*--{SCENARIO}.json")]
    assert len(records) == 2
    for record in records:
        assert record["status"] in ("ok", "unstable"), record["reasons"]
        assert record["protocol_version"] == "2" and len(record["raw_windows"]) >= 5
        assert record["process_check"] in ("clear", "unverifiable (pid namespace)"), record["reasons"]
    assert time.monotonic() - started < 120
