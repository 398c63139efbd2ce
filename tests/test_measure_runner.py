"""The workload and the runner on CPU: real (tiny) timm models, a simulated energy meter."""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import re
from importlib import metadata

import pytest
import safetensors.torch
import timm
import timm.data
import timm.models
import torch

from leaderboard.measure import protocol_v1, runner
from leaderboard.measure import workload as workload_mod
from leaderboard.measure.meters import GpuState
from leaderboard.measure.protocol_v1 import V1Config, V1Run
from leaderboard.measure.runner import (
    hardware_slug,
    measure_and_write,
    measure_entry,
    skip_key,
)
from leaderboard.measure.workload import (
    WeightsInfo,
    WorkloadError,
    build_model,
    count_gflops,
    count_params_m,
    make_workload,
    resolve_input,
    timm_model_name,
)
from leaderboard.records import HARDWARE_SLUG_PATTERN, read_record, record_path
from leaderboard.submission import Submission
from leaderboard.testing import FakeMeter

# Three windows (not up to five) and 50 ms of idle: these tests check the runner's records,
# not the protocol's stopping rule (tests/test_energy_protocol.py does).
FAST = V1Config(idle_s=0.05, warmup_s=0.05, window_s=0.1, min_windows=3, max_windows=3,
                      max_gap_s=0.02, poll_period_s=0.001)
MODEL = "test_convnext"  # the fastest of timm's test_* models on CPU
ENTRY = f"{MODEL}.r160_in1k"


def submission(entry_id: str = ENTRY, architecture: str = MODEL, evaluation: dict | None = None,
               url_sha256: str | None = None, top1: float = 50.0) -> Submission:
    if url_sha256 is not None:
        weights = {"url": {"url": "https://example.org/w.safetensors", "sha256": url_sha256}}
    else:
        weights = {"hf_hub": {"repo": f"timm/{entry_id}", "revision": "0" * 40}}
    data = {"schema_version": 1, "id": entry_id,
            "model": {"architecture": architecture, "weights": weights},
            "claims": {"top1": top1, "source": "test data"},
            "submitter": {"name": "Tester"}}
    if evaluation is not None:
        data["eval"] = evaluation
    return Submission.model_validate(data)


class CountingMeter(FakeMeter):
    """A FakeMeter that counts counter reads (a skipped entry must not read it at all)."""

    def __init__(self, **kwargs):
        super().__init__(tick_s=0.005, **kwargs)
        self.reads = 0

    def energy_j(self) -> float:
        self.reads += 1
        return super().energy_j()


class GpuLikeMeter(CountingMeter):
    """A FakeMeter with NVML's ``state()``: a named GPU shared with another process."""

    uuid = "GPU-12345678-aaaa-bbbb-cccc-1234567890ab"

    def state(self) -> GpuState:
        return GpuState(name="NVIDIA H100 80GB HBM3", uuid=self.uuid, driver="575.51.03",
                        power_limit_w=700.0, sm_clock_mhz=1980, mem_clock_mhz=2619,
                        temperature_c=41, throttle_reasons=("sw_power_cap",),
                        other_compute_pids=(os.getppid(),), mig_enabled=False)


# ---------------------------------------------------------------------------------------------
# Input resolution


def test_resolve_input_defaults_match_timm_validate():
    model = timm.create_model(ENTRY, pretrained=False)
    expected = timm.data.resolve_data_config({}, model=model, use_test_size=True)
    resolved = resolve_input(submission())
    assert resolved.input_shape == tuple(expected["input_size"]) == (3, 160, 160)
    assert resolved.img_size == 160
    assert resolved.crop_pct == expected["crop_pct"]
    assert resolved.interpolation == expected["interpolation"]
    assert resolved.mean == tuple(expected["mean"]) and resolved.std == tuple(expected["std"])
    assert resolve_input(submission(), model) == resolved


def test_resolve_input_uses_the_tags_test_size_like_validate_py():
    # resnet50.a1_in1k trains at 224 but timm evaluates (and publishes) it at 288, crop 1.0
    resolved = resolve_input(submission("resnet50.a1_in1k", "resnet50"))
    assert resolved.input_shape == (3, 288, 288)
    assert resolved.crop_pct == 1.0


def test_resolve_input_honours_overrides():
    entry = submission("test_vit.r160_in1k-64", "test_vit",
                       {"img_size": 64, "crop_pct": 0.5, "interpolation": "nearest"})
    resolved = resolve_input(entry)
    assert resolved.input_shape == (3, 64, 64) and resolved.img_size == 64
    assert resolved.crop_pct == 0.5
    assert resolved.interpolation == "nearest"
    assert resolved.mean == (0.5, 0.5, 0.5)  # not overridden: the tag's own normalisation


def test_model_name_keeps_known_tags_only():
    assert timm_model_name(submission("resnet50.a1_in1k-224", "resnet50")) == "resnet50.a1_in1k"
    assert timm_model_name(submission(f"{MODEL}.mytag", MODEL)) == MODEL


# ---------------------------------------------------------------------------------------------
# Model, compute figures


def test_resnet18_params_and_flops():
    model = timm.create_model("resnet18", pretrained=False).eval()
    assert count_params_m(model) == pytest.approx(11.69, abs=0.01)
    # 1.82 GMACs, counted by FlopCounterMode as 2 FLOPs each
    assert count_gflops(model, (3, 224, 224)) == pytest.approx(3.64, rel=0.1)


def test_fixed_size_models_are_built_for_a_non_default_resolution():
    # a ViT sizes its position embeddings at construction; -256 must build a 256 px model
    # (timm's own vit_tiny refuses a 256 px input when built for 224)
    entry = submission("vit_tiny_patch16_224.augreg_in21k_ft_in1k-256", "vit_tiny_patch16_224",
                       {"img_size": 256})
    model, _ = build_model(entry, "random-init", "cpu")
    shape = resolve_input(entry, model).input_shape
    assert shape == (3, 256, 256)
    with torch.inference_mode():
        assert model(torch.zeros(1, *shape)).shape == (1, 1000)


def test_random_init_is_reproducible():
    first, info = build_model(submission(), "random-init", "cpu")
    second, _ = build_model(submission(), "random-init", "cpu")
    assert info == WeightsInfo(kind="random-init", sha256=None)
    assert not first.training
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_pretrained_without_a_file_is_a_clear_error_before_any_device_work(tmp_path):
    # device cuda has no meter here: the weights error must come first
    with pytest.raises(WorkloadError, match="no weights file given"):
        measure_entry(submission(), tmp_path, scenario="single-stream", device="cuda",
                      weights_mode="pretrained")
    with pytest.raises(WorkloadError, match="no weights file given"):
        build_model(submission(), "pretrained", "cpu")


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    torch.manual_seed(123)  # differs from the random-init seed, so loading is observable
    model = timm.create_model(MODEL, pretrained=False)
    path = tmp_path_factory.mktemp("weights") / "model.safetensors"
    safetensors.torch.save_file(model.state_dict(), str(path))
    return path, model.state_dict()


def test_pretrained_weights_are_loaded_and_their_digest_recorded(weights_file):
    path, state = weights_file
    model, info = build_model(submission(), "pretrained", "cpu", path)
    assert info.kind == "pretrained"
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, state[name]), name


def test_pretrained_weights_are_checked_against_the_pinned_digest(weights_file, tmp_path):
    path, _ = weights_file
    with pytest.raises(WorkloadError, match="url.sha256"):
        build_model(submission(url_sha256="f" * 64), "pretrained", "cpu", path)
    other = tmp_path / "other.safetensors"
    safetensors.torch.save_file({"fc.weight": torch.zeros(2, 2)}, str(other))
    with pytest.raises(WorkloadError, match="does not fit"):
        build_model(submission(), "pretrained", "cpu", other)


# ---------------------------------------------------------------------------------------------
# Workload: precision and out-of-memory back-off


class Recorder(torch.nn.Module):
    """Records what each forward pass saw; raises out-of-memory above ``fits`` images."""

    def __init__(self, fits: int = 1 << 20, message: str = "CUDA out of memory. Tried to allocate"):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)
        self.fits, self.message = fits, message
        self.seen: list[tuple[int, torch.dtype, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x.flatten(1)[:, :4])
        self.seen.append((x.shape[0], out.dtype, torch.is_inference_mode_enabled()))
        if x.shape[0] > self.fits:
            raise RuntimeError(self.message)
        return out


@pytest.mark.parametrize(("precision", "dtype"), [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_workload_runs_in_inference_mode_at_its_precision(precision, dtype):
    model = Recorder()
    work = workload_mod.Workload(model, (3, 8, 8), 4, "cpu", precision)
    work.run_batch()
    work.synchronize()
    assert model.seen == [(4, dtype, True)]
    assert work.inputs.shape == (4, 3, 8, 8)


def test_fp16_on_cpu_is_refused():
    with pytest.raises(WorkloadError, match="fp16"):
        workload_mod.Workload(Recorder(), (3, 8, 8), 1, "cpu", "fp16")


@pytest.fixture
def frozen_heap():
    """Keep the objects that exist now out of the garbage collector's sight during a test.

    The back-off runs ``gc.collect()`` after each out-of-memory (on a GPU it frees the failed
    batch's tensors): with torch and timm loaded that walks this process's whole heap, 0.14 s
    a halving. Frozen, it walks what the test made, which holds any failed batch.
    """
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("frozen_heap")
def test_oom_back_off_halves_until_the_batch_fits():
    tried = []

    def probe(work: workload_mod.Workload) -> None:
        tried.append(work.batch_size)
        if work.batch_size > 64:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    work = make_workload(Recorder(), (3, 8, 8), "cpu", "fp32", 256, probe=probe)
    assert tried == [256, 128, 64]
    assert work.batch_size == 64 and work.inputs.shape[0] == 64


@pytest.mark.usefixtures("frozen_heap")
def test_oom_back_off_recognises_runtime_errors_and_gives_up_at_batch_1():
    model = Recorder(fits=16)
    assert make_workload(model, (3, 8, 8), "cpu", "fp32", 256).batch_size == 16
    assert [seen[0] for seen in model.seen] == [256, 128, 64, 32, 16]
    with pytest.raises(WorkloadError, match="out of memory even at batch 1"):
        make_workload(Recorder(fits=0), (3, 8, 8), "cpu", "fp32", 4)
    # anything else is a real error, not a reason to shrink the batch
    model = Recorder(fits=0, message="mat1 and mat2 shapes cannot be multiplied")
    with pytest.raises(RuntimeError, match="shapes"):
        make_workload(model, (3, 8, 8), "cpu", "fp32", 256)
    assert len(model.seen) == 1


# ---------------------------------------------------------------------------------------------
# Runner


@pytest.fixture
def spy(monkeypatch):
    """Capture the protocol's result and make each batch busy on the simulated meter."""
    results = []
    real_measure = protocol_v1.measure_v1

    def measure(run_batch, batch_size, meter, *args, **kwargs):
        def busy_batch():
            # FakeMeter books a busy span when it ends; busy first, so the counter ticks during
            # the forward pass already include it (a window may hold a single batch here).
            meter.busy(0.05)
            run_batch()

        results.append(real_measure(busy_batch, batch_size, meter, *args, **kwargs))
        return results[-1]

    monkeypatch.setattr(protocol_v1, "measure_v1", measure)
    return results


def test_measure_entry_writes_a_valid_record(tmp_path, spy):
    meter = CountingMeter()
    outcome = measure_and_write(submission(), tmp_path, scenario="single-stream", device="cpu",
                                protocol=V1Run(FAST), meter=meter)
    assert not outcome.skipped
    record, (result,) = outcome.record, spy
    assert outcome.path == record_path(tmp_path, ENTRY, hardware_slug("cpu"), "single-stream")
    assert read_record(outcome.path) == record
    assert record.status == result.status and record.reasons == result.reasons
    assert record.weights.kind == "random-init" and record.weights.sha256 is None
    assert record.input_shape == [1, 3, 160, 160] and record.batch_size == 1
    assert record.precision == "fp32"
    assert record.energy.windows == len(result.windows) >= FAST.min_windows
    assert record.energy.gross_j_per_image == pytest.approx(result.median_j)
    assert record.energy.meter == "fake"
    # the busy spans were seen: power above the simulated 60 W idle
    assert record.energy.avg_power_w > record.energy.idle_power_w * 1.3
    assert record.performance.throughput_img_s == pytest.approx(result.throughput_img_s)
    assert record.params_m == pytest.approx(count_params_m(timm.create_model(MODEL)))
    assert record.gflops > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record.measured_at)
    assert record.provenance.torch == metadata.version("torch")
    assert record.provenance.timm == timm.__version__
    assert record.provenance.gpu_uuid_sha256 is None  # no GPU state from this meter
    # v1 keeps its raw windows and the seed of its random gaps too
    assert record.raw_windows and len(record.raw_windows) == record.energy.windows
    assert isinstance(record.window_seed, int)
    assert record.skip_key == skip_key(submission(), WeightsInfo("random-init"),
                                       runner.cpu_name(), "single-stream", "fp32",
                                           protocol=V1Run(FAST))


def test_second_run_is_skipped_and_force_measures_again(tmp_path, spy):
    first = measure_and_write(submission(), tmp_path, scenario="single-stream", device="cpu",
                              protocol=V1Run(FAST), meter=CountingMeter())
    assert first.record.status in ("ok", "unstable"), first.record.reasons
    meter = CountingMeter()
    again = measure_and_write(submission(), tmp_path, scenario="single-stream", device="cpu",
                              protocol=V1Run(FAST), meter=meter)
    assert again.skipped and again.record == first.record and again.path == first.path
    assert meter.reads == 0
    forced = measure_and_write(submission(), tmp_path, scenario="single-stream", device="cpu",
                               protocol=V1Run(FAST), meter=meter, force=True)
    assert not forced.skipped and meter.reads > 0
    assert forced.record.skip_key == first.record.skip_key
    # a changed submission is a different measurement
    changed = measure_entry(submission(top1=51.0), tmp_path, scenario="single-stream",
                            device="cpu", protocol=V1Run(FAST), meter=CountingMeter())
    assert not changed.skipped and changed.record.skip_key != first.record.skip_key


def test_skip_key_covers_its_inputs():
    base = dict(submission=submission(), weights=WeightsInfo("random-init"),
                gpu_identity="NVIDIA H100 80GB HBM3", scenario="offline")
    key = skip_key(**base)
    assert re.fullmatch(r"[0-9a-f]{64}", key) and skip_key(**base) == key
    variants = [dict(submission=submission(top1=51.0)),
                dict(weights=WeightsInfo("pretrained", "a" * 64)),
                dict(gpu_identity="NVIDIA A100-SXM4-40GB"), dict(scenario="single-stream")]
    assert len({key, *(skip_key(**{**base, **v}) for v in variants)}) == 1 + len(variants)
    assert skip_key(**base, precision="fp16") != skip_key(**base, precision="bf16")
    assert skip_key(**base, protocol=V1Run(V1Config())) == key  # v1 defaults add nothing
    assert skip_key(**base, protocol=V1Run(FAST)) != key


def test_offline_records_the_batch_that_fit(tmp_path, monkeypatch):
    def probe(work: workload_mod.Workload) -> None:
        if work.batch_size > 64:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        work.run_batch()

    monkeypatch.setattr(runner, "make_workload", functools.partial(make_workload, probe=probe))
    entry = submission(f"{ENTRY}-32", evaluation={"img_size": 32})
    record = measure_entry(entry, tmp_path, scenario="offline", device="cpu", protocol=V1Run(FAST),
                           meter=CountingMeter()).record
    assert record.batch_size == 64
    assert record.input_shape == [64, 3, 32, 32]
    assert record.scenario == "offline"
    # Issue 11, failure 6: the halving is stated in the record, not only implied by the batch.
    assert record.requested_batch_size == 256
    assert "batch halved from 256 to 64 after out-of-memory" in record.reasons


def test_skip_key_includes_the_scenarios_batch_and_the_protocol_version():
    from leaderboard.measure.protocol_v2 import V2Run
    from leaderboard.measure.windows import IdleReading

    base = dict(submission=submission(), weights=WeightsInfo("random-init"),
                gpu_identity="NVIDIA H200", scenario="offline")
    v1_key = skip_key(**base)
    v2_key = skip_key(**base, protocol=V2Run(IdleReading(90.0, 0.0)))
    assert v1_key != v2_key
    assert skip_key(**base, protocol=V2Run(IdleReading(80.0, 5.0))) == v2_key  # idle is not identity


def test_protocol_v2_records_its_windows_details_and_meter_bias(tmp_path):
    from leaderboard.measure.protocol_v2 import V2Config, V2Run
    from leaderboard.measure.windows import measure_idle

    meter = CountingMeter()
    meter.bias = "simulated"
    # 0.1 s windows still hold 20 of the fake counter's 5 ms ticks.
    config = V2Config(warmup_chunk_s=0.05, warmup_min_s=0.1, warmup_max_s=0.3, windows=5,
                      min_window_s=0.05, max_window_s=0.1, counter_period_s=0.005)
    run = V2Run(measure_idle(meter, 0.05), config)
    entry = submission(f"{ENTRY}-32", evaluation={"img_size": 32})
    original = runner.make_workload

    def busy_workload(*args, **kwargs):
        work = original(*args, **kwargs)
        real = work.run_batch
        work.run_batch = lambda: (meter.busy(0.01), real())
        return work

    runner.make_workload, saved = busy_workload, runner.make_workload
    try:
        record = measure_entry(entry, tmp_path, scenario="single-stream", device="cpu", meter=meter,
                               protocol=run).record
    finally:
        runner.make_workload = saved
    assert record.protocol_version == "2" and record.status in ("ok", "unstable"), record.reasons
    assert len(record.raw_windows) == 5 and record.energy.windows == 5
    assert all(w.energy_j == pytest.approx(w.power_w * w.duration_s) for w in record.raw_windows)
    assert record.protocol_details.window_mode == "sub-windows"
    assert record.protocol_details.ci_level == pytest.approx(1 - 2 / 32)
    assert record.meter_bias == "simulated" and record.process_check is None  # no GPU state


def test_a_meter_reading_another_gpu_than_torch_is_refused(monkeypatch):
    from types import SimpleNamespace

    from leaderboard.measure.meters import MeterUnavailable

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda device: SimpleNamespace(uuid="bbbbbbbb-1111-2222-3333-444444444444"))
    other = "GPU-aaaaaaaa-1111-2222-3333-444444444444"
    session = runner.MeterSession(SimpleNamespace(uuid=other), None, "x", "x", "cuda:0")
    with pytest.raises(MeterUnavailable, match=f"the meter reads GPU {other}"):
        runner.verify_meter_device(session)
    same = "GPU-BBBBBBBB-1111-2222-3333-444444444444"
    runner.verify_meter_device(runner.MeterSession(SimpleNamespace(uuid=same), None,
                                                   "x", "x", "cuda:0"))  # same GPU: no error
    runner.verify_meter_device(runner.MeterSession(SimpleNamespace(uuid="GPU-x"), None,
                                                   "x", "x", "cuda:0"))  # undecidable: skipped


def test_refused_runs_are_written_with_reasons_and_gpu_provenance(tmp_path):
    meter = GpuLikeMeter()
    outcome = measure_and_write(submission(), tmp_path, scenario="single-stream", device="cpu",
                                protocol=V1Run(FAST), meter=meter)
    record = outcome.record
    assert record.hardware == "nvidia-h100-80gb-hbm3"
    assert record.status == "refused"
    assert any(f"pids {os.getppid()}" in reason for reason in record.reasons)
    # Issue 11, failure 1: the check runs before the protocol, so a shared GPU costs seconds.
    assert record.energy is None and meter.reads == 0
    assert record.process_check == "refused"
    provenance = record.provenance
    assert provenance.gpu_name == "NVIDIA H100 80GB HBM3"
    assert provenance.gpu_uuid_sha256 == hashlib.sha256(meter.uuid.encode()).hexdigest()
    assert provenance.power_limit_w == 700.0 and provenance.driver == "575.51.03"
    assert provenance.throttle_reasons == ["sw_power_cap"]
    text = outcome.path.read_text()
    assert meter.uuid not in text and "12345678" not in text
    assert json.loads(text)["status"] == "refused"
    # a refused record is never a reason to skip
    rerun = measure_entry(submission(), tmp_path, scenario="single-stream", device="cpu",
                          protocol=V1Run(FAST), meter=GpuLikeMeter())
    assert not rerun.skipped


def test_pretrained_run_records_the_weights_digest(tmp_path, weights_file):
    path, _ = weights_file
    record = measure_entry(submission(), tmp_path, scenario="single-stream", device="cpu",
                           weights_mode="pretrained", weights_path=path, protocol=V1Run(FAST),
                           meter=CountingMeter()).record
    assert record.weights.kind == "pretrained"
    assert record.weights.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Hardware slugs


@pytest.mark.parametrize(("name", "slug"), [
    ("NVIDIA H100 80GB HBM3", "nvidia-h100-80gb-hbm3"),
    ("NVIDIA A100-SXM4-40GB", "nvidia-a100-sxm4-40gb"),
    ("NVIDIA GeForce RTX 4090", "nvidia-geforce-rtx-4090"),
    ("Tesla V100-PCIE-16GB", "tesla-v100-pcie-16gb"),
])
def test_hardware_slug_of_gpus(name, slug):
    assert hardware_slug(name) == slug
    assert re.fullmatch(HARDWARE_SLUG_PATTERN, slug)


def test_hardware_slug_of_cpus(monkeypatch):
    monkeypatch.setattr(runner, "cpu_name", lambda: "Intel(R) Xeon(R) Platinum 8480+")
    assert hardware_slug("cpu") == "cpu-intel-xeon-platinum-8480"
    monkeypatch.setattr(runner, "cpu_name", lambda: "")
    assert hardware_slug("cpu") == "cpu-unknown"
    monkeypatch.undo()
    assert re.fullmatch(HARDWARE_SLUG_PATTERN, hardware_slug("cpu"))
    assert hardware_slug("cpu").startswith("cpu-")


def test_a_model_that_cannot_be_built_on_the_device_is_built_on_the_host(monkeypatch):
    real, calls = workload_mod._create_model, []

    def picky(timm_module, entry):
        calls.append(entry.id)
        if len(calls) == 1:
            raise RuntimeError("this constructor wants host tensors")
        return real(timm_module, entry)

    monkeypatch.setattr(workload_mod, "_create_model", picky)
    model, _ = build_model(submission(), "random-init", "cpu", on_device=True)
    assert len(calls) == 2 and count_params_m(model) > 0
