"""Where the energy goes: layer-type attribution, ablation check, savings sweep, their records.

CPU tests run real timm models and torch.profiler on the CPU; energy comes from
``CpuTimeMeter`` (a test double: energy grows with CPU time). Recorded CPU profiler traces in
tests/data/traces/ (re-record with tests/data/traces/record_traces.py) test the attribution
without torch. GPU tests (marked ``gpu``) run the real path with NVML.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import timm
import torch

from leaderboard.analysis_records import (
    LAYER_TYPES,
    ProfileRecord,
    Variant,
    iter_analysis_records,
    profile_path,
    read_analysis_record,
    sweep_path,
    sweep_variants,
    write_analysis_record,
)
from leaderboard.measure.attribution import (
    ANNOTATION_PREFIX,
    TraceError,
    annotation_name,
    architecture_kind,
    attribute,
    busy_fraction,
    device_work,
    layer_type_of,
    layer_type_of_module_class,
    share_of_modules,
    time_by_layer_type,
)
from leaderboard.measure.profile import (
    attribute_workload,
    labelled_modules,
    profile_entry,
    record_trace,
    replace_with_identity,
    torch_layer_type,
)
from leaderboard.measure.protocol_v1 import V1Config, measure_v1
from leaderboard.measure.sweep import parse_variants, sweep_entry
from leaderboard.measure.workload import Workload, WorkloadError
from leaderboard.records_archive import export_records, import_records
from leaderboard.submission import Submission
from leaderboard.testing import CpuTimeMeter, synthetic_profile, synthetic_sweep

TRACES = Path(__file__).parent / "data" / "traces"
FAST = V1Config(idle_s=0.1, warmup_s=0.1, window_s=0.25, min_windows=3, max_windows=4,
                      max_gap_s=0.01, poll_period_s=0.002)
# For tests of the plumbing (statuses, records, refusals, resuming), whose assertions do not
# rest on how precise the energy is: a third of FAST's time. Batch 1 still costs ~1.5x batch 4
# per image in it, as in FAST. The ablation-agreement test keeps FAST's longer windows.
QUICK = V1Config(idle_s=0.05, warmup_s=0.05, window_s=0.1, min_windows=3, max_windows=3,
                       max_gap_s=0.01, poll_period_s=0.002)


def annotation(class_name: str, layer_type: str | None, index: int) -> str:
    return annotation_name(class_name, layer_type, index)


def submission(architecture: str = "test_resnet", img_size: int | None = None) -> Submission:
    data = {"schema_version": 1, "id": f"{architecture}.r160_in1k",
            "model": {"architecture": architecture,
                      "weights": {"hf_hub": {"repo": "timm/x", "revision": "0" * 40}}},
            "claims": {"top1": 50.0, "source": "test data"}, "submitter": {"name": "Tester"}}
    if img_size:
        data["eval"] = {"img_size": img_size}
    return Submission.model_validate(data)


def load_trace(name: str) -> dict:
    with gzip.open(TRACES / f"{name}.cpu.json.gz", "rt", encoding="utf-8") as handle:
        return json.load(handle)


# ---------------------------------------------------------------------------------------------
# Classifying work


def test_the_innermost_typed_module_decides():
    stack = [annotation("Block", None, 3), annotation("Attention", "attention", 7),
             annotation("Linear", "linear", 8), "aten::linear", "aten::addmm"]
    assert layer_type_of(stack) == ("linear", 8)


def test_attention_claims_what_its_typed_children_do_not():
    stack = [annotation("Block", None, 3), annotation("Attention", "attention", 7), "aten::matmul"]
    assert layer_type_of(stack) == ("attention", 7)
    assert layer_type_of(stack[:2] + ["aten::_softmax"]) == ("attention", 7)


@pytest.mark.parametrize(("ops", "expected"), [
    (["aten::conv2d", "aten::cudnn_convolution"], "convolution"),
    (["aten::scaled_dot_product_attention", "aten::_flash_attention_forward"], "attention"),
    (["aten::linear", "aten::addmm"], "linear"),
    (["aten::layer_norm", "aten::native_layer_norm"], "normalisation"),
    (["aten::gelu"], "activation"),
    (["aten::adaptive_avg_pool2d"], "pooling"),
    (["aten::add"], "other"),
    (["aten::softmax", "aten::_softmax"], "other"),  # a radix softmax, outside any attention
    ([], "other"),
])
def test_ops_outside_typed_modules_go_by_their_names(ops, expected):
    assert layer_type_of([annotation("Block", None, 1), *ops]) == (expected, None)


@pytest.mark.parametrize(("class_name", "expected"), [
    ("BatchNormAct2d", "normalisation"), ("LayerNorm2d", "normalisation"), ("RmsNorm", "normalisation"),
    ("FrozenBatchNorm2d", "normalisation"), ("ConvNormAct", None), ("WindowAttention", "attention"),
    ("ClassAttn", "attention"), ("SelectAdaptivePool2d", "pooling"), ("GELUTanh", "activation"),
    ("QuickGELU", "activation"), ("CondConv2d", "convolution"), ("Block", None),
    ("PatchEmbed", None), ("PosConv", None), ("Mlp", None),
    # CNN channel/spatial gates are not token attention.
    ("SplitAttn", None), ("SelectiveKernelAttn", None), ("ChannelAttn", None),
    ("SpatialAttn", None), ("CbamModule", None), ("EcaModule", None), ("SEModule", None),
])
def test_timm_module_classes_by_name(class_name, expected):
    assert layer_type_of_module_class(class_name) == expected


def test_torch_classes_by_isinstance_win_over_names():
    assert torch_layer_type(torch.nn.Conv2d(3, 3, 1)) == "convolution"
    assert torch_layer_type(torch.nn.ReLU6()) == "activation"
    assert torch_layer_type(torch.nn.AdaptiveAvgPool2d(1)) == "pooling"
    assert torch_layer_type(torch.nn.Sequential()) is None
    model = timm.create_model("test_efficientnet")
    kinds = {type(m).__name__: torch_layer_type(m) for m in model.modules()}
    assert kinds["BatchNormAct2d"] == "normalisation"
    assert kinds["Conv2dSame" if "Conv2dSame" in kinds else "Conv2d"] == "convolution"


# ---------------------------------------------------------------------------------------------
# Attribution arithmetic


def test_attribute_splits_energy_by_device_time():
    time_us = {"convolution": 600.0, "linear": 200.0, "activation": 150.0, "other": 50.0}
    shares = {s.layer_type: s for s in attribute(time_us, energy_j_per_image=0.02, batches=2)}
    assert [s for s in LAYER_TYPES] == list(shares)
    assert sum(s.share for s in shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert shares["convolution"].share == pytest.approx(0.6)
    assert shares["convolution"].energy_j_per_image == pytest.approx(0.012)
    assert shares["linear"].device_time_ms == pytest.approx(0.1)  # 200 µs over 2 batches
    assert shares["attention"].share == 0.0


def test_attribute_refuses_nothing_to_attribute():
    with pytest.raises(ValueError, match="no device time"):
        attribute(dict.fromkeys(LAYER_TYPES, 0.0), 0.01, 1)


def test_empty_trace_is_refused():
    with pytest.raises(TraceError):
        device_work({"traceEvents": []})
    with pytest.raises(TraceError):
        device_work({"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::add", "ts": 1,
                                      "dur": 0, "pid": 1, "tid": 1}]})


def gpu_trace() -> dict:
    """A GPU trace in torch.profiler's Chrome format, written by hand (no GPU here)."""
    def cpu(cat, name, ts, dur):
        return {"ph": "X", "cat": cat, "name": name, "pid": 100, "tid": 1, "ts": ts, "dur": dur}

    def launch(ts, correlation, cat="cuda_runtime"):
        return {"ph": "X", "cat": cat, "name": "cudaLaunchKernel", "pid": 100, "tid": 1, "ts": ts,
                "dur": 3, "args": {"correlation": correlation}}

    def kernel(name, ts, dur, correlation, cat="kernel"):
        return {"ph": "X", "cat": cat, "name": name, "pid": 0, "tid": 7, "ts": ts, "dur": dur,
                "args": {"correlation": correlation, "stream": 7}}

    return {"traceEvents": [
        cpu("user_annotation", annotation("Model", None, 0), 0, 1000),
        cpu("user_annotation", annotation("Conv2d", "convolution", 1), 10, 100),
        cpu("cpu_op", "aten::conv2d", 12, 90),
        cpu("cpu_op", "aten::cudnn_convolution", 15, 80),
        launch(20, 1), launch(40, 2, "cuda_driver"),
        cpu("user_annotation", annotation("ReLU", "activation", 2), 120, 30),
        cpu("cpu_op", "aten::relu_", 122, 20), launch(125, 3),
        cpu("user_annotation", annotation("Attention", "attention", 3), 200, 300),
        cpu("user_annotation", annotation("Linear", "linear", 4), 210, 50),
        cpu("cpu_op", "aten::linear", 212, 40), launch(215, 4),
        cpu("cpu_op", "aten::scaled_dot_product_attention", 300, 60), launch(310, 5),
        cpu("cpu_op", "aten::add", 600, 10), launch(602, 6),
        cpu("cpu_op", "aten::copy_", 700, 10), launch(702, 7),
        kernel("sm90_xmma_fprop_implicit_gemm", 1000, 400, 1),
        kernel("cudnn::bn_fw_inf", 1400, 20, 2),
        kernel("vectorized_elementwise_kernel<relu>", 1420, 30, 3),
        kernel("sm90_gemm_f16", 1450, 200, 4),
        kernel("flash_fwd_kernel", 1650, 250, 5),
        kernel("elementwise_add", 1900, 50, 6),
        kernel("Memcpy DtoD", 1950, 25, 7, cat="gpu_memcpy"),
        kernel("orphan_kernel", 1975, 25, 99),
        # Ranges the parser must ignore: GPU-side annotations and flow events.
        {"ph": "X", "cat": "gpu_user_annotation", "name": "x", "pid": 0, "tid": 7, "ts": 1000,
         "dur": 900},
        {"ph": "s", "cat": "ac2g", "name": "ac2g", "id": 1, "pid": 100, "tid": 1, "ts": 20},
    ]}


def test_gpu_kernels_take_the_type_of_the_code_that_launched_them():
    work, kind = device_work(gpu_trace())
    assert kind == "gpu"
    by_name = {w.name: (w.layer_type, w.module_index) for w in work}
    assert by_name["sm90_xmma_fprop_implicit_gemm"] == ("convolution", 1)
    assert by_name["cudnn::bn_fw_inf"] == ("convolution", 1)  # launched through the driver API
    assert by_name["vectorized_elementwise_kernel<relu>"] == ("activation", 2)
    assert by_name["sm90_gemm_f16"] == ("linear", 4)
    assert by_name["flash_fwd_kernel"] == ("attention", 3)
    assert by_name["elementwise_add"] == ("other", None)
    assert by_name["Memcpy DtoD"] == ("other", None)
    assert by_name["orphan_kernel"] == ("other", None)  # no launch found
    time_us = time_by_layer_type(work)
    assert time_us["convolution"] == 420 and time_us["attention"] == 250
    assert sum(time_us.values()) == 1000
    assert busy_fraction(work, wall_us=1250) == pytest.approx(0.8)
    assert share_of_modules(work, {2}) == pytest.approx(0.03)
    assert architecture_kind(work) == "vit"  # attention beside a single convolution module


@pytest.mark.parametrize(("model", "kind", "largest"), [
    ("test_resnet", "cnn", "convolution"),
    ("test_vit", "vit", "linear"),
    ("test_coatnet", "hybrid", "convolution"),
])
def test_recorded_cpu_traces(model, kind, largest):
    trace = load_trace(model)
    work, trace_kind = device_work(trace)
    assert trace_kind == "cpu"
    assert architecture_kind(work) == kind
    time_us = time_by_layer_type(work)
    shares = {t: v / sum(time_us.values()) for t, v in time_us.items()}
    assert max(shares, key=shares.get) == largest
    assert shares["other"] < 0.1  # the module labels explain nearly all the work
    if kind == "cnn":
        assert shares["attention"] == 0.0
    else:
        assert shares["attention"] > 0.01
    # Self times never exceed the wall time of the recorded batches (one thread).
    assert 0.2 < busy_fraction(work, trace["leaderboard"]["wall_us"]) <= 1.0


# ---------------------------------------------------------------------------------------------
# Profiling real models on the CPU


def test_labels_wrap_every_module_and_are_removed_after():
    model = timm.create_model("test_vit").eval()
    workload = Workload(model, (3, 160, 160), 1, "cpu", "fp32")
    trace, wall_us = record_trace(workload, batches=1, warmup_batches=0)
    names = {e["name"] for e in trace["traceEvents"] if e.get("cat") == "user_annotation"}
    labelled = {n for n in names if n.startswith(ANNOTATION_PREFIX)}
    assert annotation_name("VisionTransformer", None, 0) in labelled
    assert any("::attention::" in n for n in labelled)
    assert wall_us > 0
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_a_forward_that_raises_leaves_no_range_open():
    from torch.profiler import ProfilerActivity, profile

    class Boom(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), Boom())
    after = torch.nn.Linear(4, 4)
    with profile(activities=[ProfilerActivity.CPU]) as prof, labelled_modules(model):
        with pytest.raises(RuntimeError, match="boom"):
            model(torch.randn(2, 4))
        after(torch.randn(2, 4))  # runs after the failed call, outside the model
    events = [e for e in prof.events() if e.name.startswith(ANNOTATION_PREFIX)]
    linear_op = next(e for e in prof.events() if e.name == "aten::linear"
                     and e.time_range.start > max(r.time_range.end for r in events))
    # No Sequential/Boom range is still open around the later call.
    assert all(r.time_range.end <= linear_op.time_range.start for r in events)


def test_profile_and_sweep_refuse_a_shared_gpu(tmp_path):
    from leaderboard.measure.meters import GpuState

    class SharedGpuMeter(CpuTimeMeter):
        def state(self) -> GpuState:
            return GpuState(name="NVIDIA H200", uuid="GPU-1", driver="580", power_limit_w=None,
                            sm_clock_mhz=None, mem_clock_mhz=None, temperature_c=None,
                            throttle_reasons=(), other_compute_pids=(os.getppid(),), mig_enabled=False)

    torch.set_num_threads(1)
    record = profile_entry(submission("test_resnet", 64), device="cpu", batch_size=4, config=QUICK,
                           meter=SharedGpuMeter(), profiled_batches=1, ablate=())
    assert record.status == "refused"
    assert any("other compute processes" in r for r in record.reasons)
    points = sweep_entry(submission("test_resnet", 64), tmp_path, device="cpu", config=QUICK,
                         variants=[Variant(precision="fp32", batch_size=4)], meter=SharedGpuMeter())
    assert points[0].record.status == "refused"


def test_labelled_modules_index_matches_modules_order():
    model = timm.create_model("test_resnet")
    with labelled_modules(model) as modules:
        assert list(modules.values()) == list(model.modules())


@pytest.mark.parametrize("layer_type", ["activation", "normalisation"])
def test_replace_with_identity_keeps_shapes_and_the_original(layer_type):
    model = timm.create_model("test_efficientnet").eval()
    before = {i for i, m in enumerate(model.modules()) if torch_layer_type(m) == layer_type}
    ablated, replaced = replace_with_identity(model, layer_type)
    assert replaced and replaced <= before
    assert sum(1 for m in ablated.modules() if torch_layer_type(m) == layer_type) < len(before)
    # The original is untouched, and the ablated model still runs.
    assert {i for i, m in enumerate(model.modules()) if torch_layer_type(m) == layer_type} == before
    x = torch.randn(1, 3, 160, 160)
    with torch.inference_mode():
        assert ablated(x).shape == model(x).shape
    if layer_type == "normalisation":
        # BatchNormAct2d loses its norm but keeps its activation.
        assert any(isinstance(m, torch.nn.Sequential) and any(torch_layer_type(c) == "activation"
                                                              for c in m.children())
                   for m in ablated.modules())


@pytest.fixture(scope="module")
def cpu_profile() -> ProfileRecord:
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    return profile_entry(submission("test_resnet", 96), device="cpu", batch_size=8, config=QUICK,
                         meter=CpuTimeMeter(), profiled_batches=2)


def test_profile_entry_on_cpu_attributes_and_checks(cpu_profile, tmp_path):
    record = cpu_profile
    assert record.status in ("ok", "unstable")
    assert record.architecture_kind == "cnn"
    assert sum(s.share for s in record.shares) == pytest.approx(1.0)
    energy = record.energy.gross_j_per_image
    assert sum(s.energy_j_per_image for s in record.shares) == pytest.approx(energy)
    assert record.share_of("convolution") > 0.3
    assert {a.layer_type for a in record.ablations} == {"activation", "normalisation"}
    norm = next(a for a in record.ablations if a.layer_type == "normalisation")
    assert norm.baseline_j_per_image == energy
    assert 0 < norm.predicted_saving_j < energy
    assert norm.ablated_j_per_image > 0 and norm.modules_replaced > 0
    path = write_analysis_record(tmp_path, record)
    assert path == profile_path(tmp_path, record.entry_id, record.hardware)
    assert read_analysis_record(path) == record


def test_ablation_agrees_with_the_attribution_where_the_type_matters():
    # Normalisation and activation each take about a third of this model's CPU time, well
    # above the run-to-run noise, so removing them must save energy of the predicted order.
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)

    def block() -> torch.nn.Module:
        return torch.nn.Sequential(torch.nn.Conv2d(16, 16, 1), torch.nn.GroupNorm(4, 16),
                                   torch.nn.GELU())

    model = torch.nn.Sequential(*[block() for _ in range(6)]).eval()
    meter = CpuTimeMeter(idle_power_w=0.5)

    def measure(work: Workload):
        return measure_v1(work.run_batch, work.batch_size, meter, work.synchronize, FAST)

    workload = Workload(model, (16, 48, 48), 8, "cpu", "fp32")
    baseline = measure(workload)
    found = attribute_workload(workload, baseline.median_j, measure, profiled_batches=2)
    shares = {s.layer_type: s.share for s in found.shares}
    assert shares["normalisation"] > 0.15 and shares["activation"] > 0.15
    assert shares["convolution"] > 0.15
    assert found.architecture_kind == "cnn"
    for ablation in found.ablations:
        assert ablation.modules_replaced == 6
        assert 0.3 < ablation.agreement < 3.0, ablation


def test_profile_refuses_layer_types_that_change_shapes():
    with pytest.raises(WorkloadError, match="cannot ablate convolution"):
        profile_entry(submission(), device="cpu", ablate=("convolution",), meter=CpuTimeMeter())


# ---------------------------------------------------------------------------------------------
# Workload switches and the sweep


def test_workload_channels_last_and_tf32_rules():
    model = timm.create_model("test_resnet")
    work = Workload(model, (3, 32, 32), 2, "cpu", "fp32", channels_last=True)
    assert work.inputs.is_contiguous(memory_format=torch.channels_last)
    with pytest.raises(WorkloadError, match="tf32"):
        Workload(model, (3, 32, 32), 2, "cpu", "tf32")


def test_tf32_switches_follow_the_workload_that_runs():
    # Two CUDA workloads alive at once: each run sets the process-wide switches for itself.
    model = timm.create_model("test_resnet")
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    fp32 = Workload(model, (3, 32, 32), 1, "cpu", "fp32")
    tf32 = Workload(model, (3, 32, 32), 1, "cpu", "fp32")
    for work, precision in ((fp32, "fp32"), (tf32, "tf32")):
        work._device_type, work.precision = "cuda", precision  # no GPU here: only the switches
    try:
        tf32._set_tf32()
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        fp32._set_tf32()
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def test_sweep_variants_move_one_switch_at_a_time():
    variants = sweep_variants()
    assert len(variants) == 11 and variants[0].is_headline
    assert len({v.slug for v in variants}) == 11
    headline = variants[0]
    for variant in variants[1:]:
        differences = sum([variant.precision != headline.precision,
                           variant.batch_size != headline.batch_size,
                           variant.channels_last, variant.compiled])
        assert differences == 1, variant.slug
    assert parse_variants("fp32-b256, fp16-b1") == [Variant(precision="fp32", batch_size=256),
                                                   Variant(precision="fp16", batch_size=1)]
    with pytest.raises(ValueError, match="unknown variant 'fp16-b3'; known: fp16-b256"):
        parse_variants("fp16-b3")


def test_sweep_entry_writes_each_variant_and_resumes(tmp_path):
    torch.set_num_threads(1)
    variants = [Variant(precision="fp32", batch_size=4), Variant(precision="fp32", batch_size=1),
                Variant(precision="fp32", batch_size=4, channels_last=True),
                Variant(precision="fp16", batch_size=4), Variant(precision="tf32", batch_size=4)]
    entry = submission("test_resnet", 64)
    lines: list[str] = []
    points = sweep_entry(entry, tmp_path, device="cpu", variants=variants, config=QUICK,
                         meter=CpuTimeMeter(), progress=lines.append)
    assert [p.skipped for p in points] == [False] * 5
    by_slug = {p.record.variant.slug: p.record for p in points}
    for slug in ("fp32-b4", "fp32-b1", "fp32-b4-cl"):
        assert by_slug[slug].status in ("ok", "unstable")
        assert by_slug[slug].energy.gross_j_per_image > 0
    # On the CPU, fp16 autocast and tf32 do not exist: error records that say why.
    assert by_slug["fp16-b4"].status == "error" and "fp16" in by_slug["fp16-b4"].reasons[0]
    assert by_slug["tf32-b4"].status == "error" and "tf32" in by_slug["tf32-b4"].reasons[0]
    # Batch 1 costs more per image than batch 4 (fixed per-batch overhead).
    assert by_slug["fp32-b1"].energy.gross_j_per_image > by_slug["fp32-b4"].energy.gross_j_per_image
    for point in points:
        assert point.path == sweep_path(tmp_path, entry.id, point.record.hardware, point.record.variant)
        assert read_analysis_record(point.path) == point.record
    assert len(lines) == 5
    # A second run keeps the good records and retries the failed ones.
    again = sweep_entry(entry, tmp_path, device="cpu", variants=variants, config=QUICK,
                        meter=CpuTimeMeter())
    assert [p.skipped for p in again] == [True, True, True, False, False]


# ---------------------------------------------------------------------------------------------
# Records: schema, check, archive


def test_profile_record_shares_must_be_whole():
    record = synthetic_profile("resnet50.a1_in1k", 0.01)
    data = record.model_dump(mode="json")
    data["shares"] = data["shares"][:-1]
    with pytest.raises(ValueError, match="each layer type once"):
        ProfileRecord.model_validate(data)
    data = record.model_dump(mode="json")
    data["shares"][0]["share"] += 0.1
    with pytest.raises(ValueError, match="add up to"):
        ProfileRecord.model_validate(data)


def test_misplaced_and_broken_analysis_records_are_problems(tmp_path):
    record = synthetic_profile("resnet50.a1_in1k", 0.01)
    path = write_analysis_record(tmp_path, record)
    moved = path.with_name("other-gpu.json")
    path.rename(moved)
    (moved.parent / "broken.json").write_text('{"kind": "profile"}', encoding="utf-8")
    problems = {p.name: r for p, r in iter_analysis_records(tmp_path)}
    assert "record belongs at" in problems["other-gpu.json"].message
    assert "invalid profile record" in problems["broken.json"].message


def test_archive_carries_profile_and_sweep_records(tmp_path):
    source = tmp_path / "a"
    target = tmp_path / "b"
    for root in (source, target):
        (root / "resnet50.a1_in1k").mkdir(parents=True)
        (root / "resnet50.a1_in1k" / "submission.yaml").write_text("x: 1\n", encoding="utf-8")
    paths = [write_analysis_record(source, synthetic_profile("resnet50.a1_in1k", 0.01))]
    paths += [write_analysis_record(source, r) for r in synthetic_sweep("resnet50.a1_in1k", 0.01)]
    archive = tmp_path / "records.tar.gz"
    assert export_records(source, archive) == 12
    result = import_records(archive, target, allow_synthetic=True)
    assert result.written and len(result.created) == 12
    for path in paths:
        assert (target / path.relative_to(source)).read_bytes() == path.read_bytes()


def test_archive_refuses_a_sweep_record_at_the_wrong_path(tmp_path):
    source = tmp_path / "a"
    (source / "resnet50.a1_in1k").mkdir(parents=True)
    (source / "resnet50.a1_in1k" / "submission.yaml").write_text("x: 1\n", encoding="utf-8")
    record = synthetic_sweep("resnet50.a1_in1k", 0.01)[0]
    path = write_analysis_record(source, record)
    path.rename(path.with_name("synthetic-gpu--fp32-b256.json"))
    with pytest.raises(Exception, match="record belongs at"):
        export_records(source, tmp_path / "x.tar.gz")


# ---------------------------------------------------------------------------------------------
# CLI


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from leaderboard.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_refuses_bad_ablation_and_variant_before_touching_a_meter():
    result = run_cli("profile", "resnet50.a1_in1k", "--ablate", "convolution")
    assert result.returncode == 2
    assert "only activation, normalisation" in result.stderr
    result = run_cli("sweep", "resnet50.a1_in1k", "--variants", "fp16-b3")
    assert result.returncode == 2
    assert "known: fp16-b256" in result.stderr


# ---------------------------------------------------------------------------------------------
# GPU


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible to torch")
def test_profile_and_sweep_on_a_gpu(tmp_path):
    record = profile_entry(submission("test_vit"), device="cuda", batch_size=64,
                           profiled_batches=3)
    assert record.status in ("ok", "unstable"), record.reasons
    assert record.architecture_kind == "vit"
    assert record.share_of("linear") + record.share_of("attention") > 0.3
    assert record.busy_fraction and record.busy_fraction > 0.05
    assert {a.layer_type for a in record.ablations} == {"activation", "normalisation"}
    points = sweep_entry(submission("test_vit"), tmp_path, device="cuda",
                         variants=parse_variants("fp16-b256,fp32-b256,fp16-b1"))
    assert all(p.record.status in ("ok", "unstable") for p in points), [p.record.reasons for p in points]
    energy = {p.record.variant.slug: p.record.energy.gross_j_per_image for p in points}
    assert energy["fp16-b1"] > energy["fp16-b256"]


@pytest.fixture
def cli_tree(tmp_path, monkeypatch):
    """A submissions tree with one test_resnet entry; the CLI's meter is CpuTimeMeter, quick protocol."""
    import leaderboard.measure.profile as profile_module
    import leaderboard.measure.runner as runner_module
    import leaderboard.measure.sweep as sweep_module
    from leaderboard.import_timm import render_submission

    torch.set_num_threads(1)
    monkeypatch.setattr(runner_module, "open_meter", lambda device: CpuTimeMeter())
    monkeypatch.setattr(profile_module, "PROTOCOL_V1", QUICK)
    monkeypatch.setattr(sweep_module, "PROTOCOL_V1", QUICK)
    entry = submission("test_resnet", 64)
    folder = tmp_path / "submissions" / entry.id
    folder.mkdir(parents=True)
    (folder / "submission.yaml").write_text(render_submission(entry.model_dump(mode="json",
                                                                              exclude_none=True)),
                                            encoding="utf-8")
    return tmp_path / "submissions", entry.id


def test_cli_profile_and_sweep_write_records_as_a_maintainer_would(cli_tree):
    from click.testing import CliRunner

    from leaderboard.cli import cli

    submissions, entry_id = cli_tree
    runner = CliRunner()
    result = runner.invoke(cli, ["profile", entry_id, "--device", "cpu", "--batch-size", "4",
                                 "--profiled-batches", "1", "--ablate", "normalisation",
                                 "--submissions", str(submissions)])
    assert result.exit_code == 0, result.output
    # the attribution is the report (stdout); what it is doing meanwhile goes to stderr
    assert "convolution" in result.stdout and "normalisation: predicted" in result.stdout
    assert "convolution" not in result.stderr
    (path, record), = iter_analysis_records(submissions)
    assert isinstance(record, ProfileRecord) and record.batch_size == 4
    again = runner.invoke(cli, ["profile", entry_id, "--device", "cpu",
                                "--submissions", str(submissions)])
    assert again.exit_code == 0 and "kept" in again.output

    result = runner.invoke(cli, ["sweep", entry_id, "--device", "cpu", "--variants", "fp16-b8,bf16-b256",
                                 "--submissions", str(submissions)])
    # fp16 autocast does not exist on the CPU: that variant fails with a record, exit 1.
    assert result.exit_code == 1, result.output
    assert "1 entr(ies) x 2 variant(s); 1 failed" in result.stdout
    kinds = sorted(type(r).__name__ for _, r in iter_analysis_records(submissions))
    assert kinds == ["ProfileRecord", "SweepRecord", "SweepRecord"]


def test_cli_profile_runs_through_the_task_loop(cli_tree, monkeypatch):
    """profile's entries go through measure's loop: ETA lines, one failure reported, resume, SIGTERM."""
    from click.testing import CliRunner

    import leaderboard.measure.profile as profile_module
    from leaderboard.cli import cli
    from leaderboard.vocabulary import EXIT_TERMINATED

    submissions, entry_id = cli_tree
    (submissions / "broken").mkdir()
    (submissions / "broken" / "submission.yaml").write_text("id: broken\n", encoding="utf-8")
    runner = CliRunner()
    args = ["profile", "broken", entry_id, "--device", "cpu", "--batch-size", "4",
            "--profiled-batches", "1", "--ablate", "", "--time-budget", "1h",
            "--submissions", str(submissions)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    broken = next(line for line in lines if line.startswith("[1/2] broken profile "))
    assert "error after" in broken and "broken" in broken.split("error after", 1)[1]
    assert "ETA" in broken  # one entry left
    assert any(line.startswith(f"[2/2] {entry_id} profile ") for line in lines), lines
    assert "1 of 2 entr(ies) failed:\nbroken: " in str(result.exception)
    assert f"{entry_id}: " in result.stdout  # the profile's own line

    # a second run resumes the kept profile without building its model
    again = runner.invoke(cli, args)
    assert f"[2/2] {entry_id} profile resumed" in again.stderr, again.output

    def terminated(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not unwind the profile")

    monkeypatch.setattr(profile_module, "profile_entry", terminated)
    before = signal.getsignal(signal.SIGTERM)
    killed = runner.invoke(cli, [*args[:1], entry_id, *args[3:], "--force"])
    # main() exits with the error's code: 143, as measure does on SIGTERM
    assert getattr(killed.exception, "exit_code", None) == EXIT_TERMINATED, killed.output
    assert "terminated (SIGTERM)" in killed.stderr
    assert signal.getsignal(signal.SIGTERM) is before
