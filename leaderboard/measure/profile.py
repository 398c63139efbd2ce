"""`leaderboard profile`: where one entry's inference energy goes, by layer type.

1. Measure the headline workload's energy per image with protocol v1.
2. Record a few batches with torch.profiler while every module's forward runs inside a
   ``record_function`` range naming its class, layer type and instance
   (:func:`labelled_modules`), and attribute the measured energy to layer types by device time
   (:mod:`leaderboard.measure.attribution`).
3. Check the attribution: for each ablated layer type, replace its modules with identity,
   measure real energy again, and compare the saving with the energy the attribution gave
   those modules.
"""

from __future__ import annotations

import contextlib
import copy
import json
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from leaderboard.analysis_records import Ablation, LayerShare, ProfileRecord
from leaderboard.measure.attribution import (
    annotation_name,
    architecture_kind,
    attribute,
    busy_fraction,
    device_work,
    layer_type_of_module_class,
    share_of_modules,
    time_by_layer_type,
)
from leaderboard.measure.protocol_v1 import PROTOCOL_V1, V1Config, measure_v1
from leaderboard.measure.runner import (
    EntryBuild,
    EntrySetup,
    energy_stats,
    utc_now,
)
from leaderboard.measure.windows import EnergyMeasurement
from leaderboard.measure.workload import (
    Workload,
    WorkloadError,
    default_precision,
    make_workload,
    resolve_input,
)
from leaderboard.records import MeasuredWeights
from leaderboard.submission import Submission
from leaderboard.vocabulary import OFFLINE, SCENARIO_BATCH_SIZE, Precision

if TYPE_CHECKING:
    import torch

ABLATABLE_LAYER_TYPES = ("activation", "normalisation")
DEFAULT_PROFILED_BATCHES = 5


def torch_layer_type(module: torch.nn.Module) -> str | None:
    """The layer type of a module: torch's own classes by ``isinstance``, timm's by name."""
    from torch import nn

    checks: tuple[tuple[tuple[type, ...], str], ...] = (
        ((nn.modules.conv._ConvNd,), "convolution"),
        ((nn.Linear, nn.Bilinear), "linear"),
        ((nn.MultiheadAttention,), "attention"),
        ((nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm,
          getattr(nn, "RMSNorm", nn.LayerNorm)), "normalisation"),
        ((nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
          nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd), "pooling"),
        ((nn.ReLU, nn.ReLU6, nn.GELU, nn.SiLU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh,
          nn.Mish, nn.ELU, nn.LeakyReLU, nn.PReLU, nn.Softplus, nn.SELU, nn.CELU), "activation"),
    )
    for classes, layer_type in checks:
        if isinstance(module, classes):
            return layer_type
    return layer_type_of_module_class(type(module).__name__)


@contextlib.contextmanager
def labelled_modules(model: torch.nn.Module) -> Iterator[dict[int, torch.nn.Module]]:
    """Run every module's forward inside a named ``record_function`` range while inside.

    Yields:
        The modules by the index their ranges carry (position in ``model.modules()``).
    """
    from torch.autograd.profiler import record_function

    modules = dict(enumerate(model.modules()))
    open_ranges: dict[int, list[Any]] = {}
    handles = []

    def enter(index: int, name: str) -> Callable[..., None]:
        def hook(module: Any, inputs: Any) -> None:
            rf = record_function(name)
            rf.__enter__()
            open_ranges.setdefault(index, []).append(rf)
        return hook

    def leave(index: int) -> Callable[..., None]:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            stack = open_ranges.get(index)
            if stack:
                stack.pop().__exit__(None, None, None)
        return hook

    try:
        for index, module in modules.items():
            name = annotation_name(type(module).__name__, torch_layer_type(module), index)
            handles.append(module.register_forward_pre_hook(enter(index, name)))
            # always_call: a forward that raises still closes its range.
            handles.append(module.register_forward_hook(leave(index), always_call=True))
        yield modules
    finally:
        for handle in handles:
            handle.remove()
        for stack in open_ranges.values():
            while stack:
                stack.pop().__exit__(None, None, None)


def record_trace(workload: Workload, batches: int = DEFAULT_PROFILED_BATCHES,
                 warmup_batches: int = 2) -> tuple[dict, float]:
    """Profile ``batches`` batches of a workload with its modules labelled.

    Returns:
        ``(chrome_trace, wall_us)``: the trace as exported by torch.profiler, and the wall time
        of the profiled batches (synchronised), µs.
    """
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU]
    if workload.device.startswith("cuda"):
        activities.append(ProfilerActivity.CUDA)
    with labelled_modules(workload.model):
        for _ in range(warmup_batches):
            workload.run_batch()
        workload.synchronize()
        with profile(activities=activities) as prof:
            start = time.perf_counter()
            for _ in range(batches):
                workload.run_batch()
            workload.synchronize()
            wall_us = (time.perf_counter() - start) * 1e6
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "trace.json"
        prof.export_chrome_trace(str(path))
        trace = json.loads(path.read_text("utf-8"))
    return trace, wall_us


def replace_with_identity(model: torch.nn.Module, layer_type: str) -> tuple[torch.nn.Module, set[int]]:
    """A copy of ``model`` with the modules of ``layer_type`` made identity.

    Leaf modules become ``nn.Identity``. A normalisation with child modules (timm's
    ``BatchNormAct2d``, ``GroupNormAct``, ``LayerNormAct``: norm, then drop and activation)
    keeps its children in order, so only the normalisation goes. Other typed modules with
    children are left alone.

    Returns:
        ``(copy, indices)``: the indices (in the original's ``modules()``) of replaced modules.
    """
    from torch import nn

    replaced: set[int] = set()
    clone = copy.deepcopy(model)
    originals = list(model.modules())
    # deepcopy keeps the order of modules(), so an index names the same module in both.
    clone_index = {id(m): i for i, m in enumerate(clone.modules())}

    def visit(parent: nn.Module) -> None:
        for name, child in list(parent.named_children()):
            index = clone_index[id(child)]
            if torch_layer_type(originals[index]) == layer_type:
                children = list(child.children())
                if not children:
                    setattr(parent, name, nn.Identity())
                elif layer_type == "normalisation" and type(child).__name__.endswith(("Act", "Act2d")):
                    setattr(parent, name, nn.Sequential(*children))
                else:
                    visit(child)
                    continue
                replaced.add(index)
                continue
            visit(child)

    visit(clone)
    return clone, replaced


@dataclass
class WorkloadAttribution:
    """Where one workload's energy goes, and the ablation checks of that."""

    shares: list[LayerShare]
    busy_fraction: float | None
    kernels_per_batch: int
    architecture_kind: str
    ablations: list[Ablation] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def attribute_workload(workload: Workload, energy_j_per_image: float,
                       measure: Callable[[Workload], EnergyMeasurement],
                       ablate: Sequence[str] = ABLATABLE_LAYER_TYPES,
                       profiled_batches: int = DEFAULT_PROFILED_BATCHES) -> WorkloadAttribution:
    """Attribute a measured workload's energy to layer types and check it by ablation.

    Args:
        workload: The measured workload.
        energy_j_per_image: Its measured energy per image.
        measure: Measures a workload's energy (protocol v1 with the caller's meter).
        ablate: Layer types to replace with identity and measure again.
        profiled_batches: Batches recorded by the profiler.
    """
    trace, wall_us = record_trace(workload, profiled_batches)
    work, _ = device_work(trace)
    found = WorkloadAttribution(
        shares=attribute(time_by_layer_type(work), energy_j_per_image, profiled_batches),
        busy_fraction=busy_fraction(work, wall_us),
        kernels_per_batch=round(len(work) / profiled_batches),
        architecture_kind=architecture_kind(work))
    input_shape = tuple(workload.inputs.shape[1:])
    for layer_type in ablate:
        ablated_model, replaced = replace_with_identity(workload.model, layer_type)
        if not replaced:
            found.reasons.append(f"ablation of {layer_type}: no module of that type to replace")
            continue
        ablated = make_workload(ablated_model, input_shape, workload.device, workload.precision,
                                batch_size=workload.batch_size)
        if ablated.batch_size != workload.batch_size:
            # J/image depends on the batch: a saving across two batch sizes would mix two effects.
            found.reasons.append(f"ablation of {layer_type}: batch {workload.batch_size} did not "
                                 f"fit beside the baseline (got {ablated.batch_size}); not measured")
            del ablated, ablated_model
            continue
        result = measure(ablated)
        ablated_j = _energy_j_per_image(result)
        del ablated, ablated_model
        if ablated_j is None:
            found.reasons.append(f"ablation of {layer_type}: measurement refused: "
                                 + "; ".join(result.reasons))
            continue
        found.ablations.append(Ablation(
            layer_type=layer_type, modules_replaced=len(replaced),
            baseline_j_per_image=energy_j_per_image, ablated_j_per_image=ablated_j,
            predicted_saving_j=energy_j_per_image * share_of_modules(work, replaced),
            measured_saving_j=energy_j_per_image - ablated_j))
    return found


def _energy_j_per_image(result: EnergyMeasurement) -> float | None:
    return result.median_j if result.windows and result.status != "refused" else None


def profile_entry(
    submission: Submission,
    *,
    precision: Precision | None = None,
    batch_size: int = SCENARIO_BATCH_SIZE[OFFLINE],
    ablate: Sequence[str] = ABLATABLE_LAYER_TYPES,
    profiled_batches: int = DEFAULT_PROFILED_BATCHES,
    config: V1Config | None = None,
    **setup: Unpack[EntrySetup],
) -> ProfileRecord:
    """Measure, profile and (optionally) ablate one entry; the record is not written.

    Args:
        submission: The entry.
        precision: Default: the headline's (fp16 on CUDA, fp32 on CPU).
        batch_size: First batch size tried (halved on out-of-memory).
        ablate: Layer types to check by replacing them with identity.
        profiled_batches: Batches recorded by the profiler.
        config: Energy protocol parameters (default: protocol v1).
        **setup: device, weights and meter (:class:`~leaderboard.measure.runner.EntrySetup`).

    Raises:
        WorkloadError, MeterUnavailable, TraceError.
    """
    unknown = sorted(set(ablate) - set(ABLATABLE_LAYER_TYPES))
    if unknown:
        raise WorkloadError(f"cannot ablate {', '.join(unknown)}: only "
                            f"{', '.join(ABLATABLE_LAYER_TYPES)} keep the shapes when removed")
    how = EntryBuild(**setup)
    device = how.device
    precision = precision or default_precision(device)
    config = config or PROTOCOL_V1
    weights = how.weights(submission)
    with how.session() as session:
        model, weights = how.model(submission, weights)
        resolved = resolve_input(submission, model)
        workload = make_workload(model, resolved.input_shape, device, precision, batch_size=batch_size)

        def measure(work: Workload) -> EnergyMeasurement:
            result = measure_v1(work.run_batch, work.batch_size, session.meter,
                                    work.synchronize, config, session.power_limit_w)
            session.check(result)  # MIG, other processes, throttling: like every board record
            return result

        baseline = measure(workload)
        baseline_j = _energy_j_per_image(baseline)
        common: dict[str, Any] = dict(
            entry_id=submission.id, hardware=session.hardware, measured_at=utc_now(),
            weights=MeasuredWeights(kind=weights.kind, sha256=weights.sha256),
            input_shape=[workload.batch_size, *resolved.input_shape],
            batch_size=workload.batch_size, precision=precision, energy=energy_stats(baseline))
        if baseline_j is None:
            return ProfileRecord(status="refused", reasons=list(baseline.reasons),
                                 provenance=session.provenance(), **common)
        found = attribute_workload(workload, baseline_j, measure, ablate, profiled_batches)
        return ProfileRecord(
            status=baseline.status, reasons=list(baseline.reasons) + found.reasons,
            shares=found.shares, busy_fraction=found.busy_fraction,
            profiled_batches=profiled_batches, kernels_per_batch=found.kernels_per_batch,
            architecture_kind=found.architecture_kind, ablations=found.ablations,
            provenance=session.provenance(), **common)
