"""Attribute an inference's measured energy to layer types from a profiler trace.

The trace is torch.profiler's Chrome trace (``export_chrome_trace``) of a few batches, recorded
while every module's forward is wrapped in a ``record_function`` range named by
:func:`annotation_name` (see :mod:`leaderboard.measure.profile`). Each unit of device work is
then given one layer type:

- GPU traces: every kernel, memcpy and memset (``cat`` ``kernel``/``gpu_memcpy``/``gpu_memset``)
  with its duration; its CPU launch (same ``correlation``) tells which ops and module ranges
  were open when it was queued.
- CPU traces (no kernels): every ``cpu_op`` with its self time (duration minus its child ops).

The layer type comes from the innermost typed module around the work (a ``Conv2d`` is
convolution, a ``Linear`` linear, ...); work inside an attention module but in no typed child
(QK^T, softmax, AV, fused SDPA, their reshapes) is attention; work outside any typed module
(residual adds, casts) goes by the aten op's name, else ``other``.

Energy: each type gets the measured energy per image in proportion to its device time. This
assumes equal power across kernels, and spreads the energy of idle gaps between kernels pro
rata; ``busy_fraction`` (kernel time over wall time) says how much of the window that covers.
This module has no torch import: it is pure trace arithmetic.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from leaderboard.analysis_records import LAYER_TYPES, LayerShare

ANNOTATION_PREFIX = "lb.module::"
TYPED_LAYER_TYPES = ("convolution", "linear", "normalisation", "activation", "pooling")
DEVICE_CATEGORIES = ("kernel", "gpu_memcpy", "gpu_memset")
_RANGE_CATEGORIES = ("cpu_op", "user_annotation")
_LAUNCH_CATEGORIES = ("cuda_runtime", "cuda_driver")

# Ops outside any typed module, by aten name (first match wins; checked outermost op first).
_OP_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"conv|cudnn_convolution"), "convolution"),
    # A bare softmax is not attention (ResNeSt's radix softmax); inside an attention module
    # the module decides before these rules are read.
    (re.compile(r"scaled_dot_product|flash_attention|efficient_attention"), "attention"),
    (re.compile(r"aten::(linear|addmm|mm|bmm|baddbmm|matmul|einsum)$"), "linear"),
    (re.compile(r"norm"), "normalisation"),
    (re.compile(r"relu|gelu|silu|sigmoid|hardswish|hardsigmoid|tanh|mish|elu|softplus|prelu"),
     "activation"),
    (re.compile(r"pool"), "pooling"),
)

# Module classes by name, for classes that are not subclasses of torch's (timm's own layers).
_NAME_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(Std|Scaled|Mixed|Cond)?Conv\dd(Same)?$"), "convolution"),
    (re.compile(r"Attention|Attn$|^Attn"), "attention"),
    (re.compile(r"^(Quick)?GELU(Tanh)?$|^(Leaky)?ReLU\d?$|^SiLU$|^Swish$|^Mish$|^Sigmoid$|^Tanh$|"
                r"^Hard(Swish|Sigmoid|Mish)$|^StarReLU$|^PReLU$|^ELU$|^Softplus$|^GELUTanh$",
                re.IGNORECASE), "activation"),
    (re.compile(r"^(?!Conv|Pos|Patch).*Norm(\d?d|Act\dd)?(\d)?$|^RmsNorm|^SimpleNorm"), "normalisation"),
    (re.compile(r"Pool(\dd)?$|^SelectAdaptivePool"), "pooling"),
)


# Channel and spatial "attention" gates of CNNs (squeeze-excite relatives): their convs, linears
# and sigmoids are typed by their own children, and they do no token attention.
_CHANNEL_ATTENTION = re.compile(
    r"^(Split|SelectiveKernel|Channel|Spatial|LightChannel|LightSpatial|Eca|CecaModule|Cbam|"
    r"LightCbam|GatherExcite|GlobalContext|Squeeze|SE|EffectiveSE|Bam)"
)


def layer_type_of_module_class(class_name: str, torch_type: str | None = None) -> str | None:
    """The layer type of a module class, or None for containers (blocks, stages, models).

    Args:
        class_name: The module's class name.
        torch_type: The type from ``isinstance`` checks against torch's own classes, when the
            caller has the module (it wins over the name).
    """
    if torch_type is not None:
        return torch_type
    if _CHANNEL_ATTENTION.match(class_name):
        return None
    for pattern, layer_type in _NAME_RULES:
        if pattern.search(class_name):
            return layer_type
    return None


def annotation_name(class_name: str, layer_type: str | None, module_index: int) -> str:
    """The ``record_function`` name a module's forward runs under.

    ``module_index`` is the module's position in ``model.modules()``, so work can be traced
    back to one module instance (an ablation replaces instances).
    """
    return f"{ANNOTATION_PREFIX}{class_name}::{layer_type or ''}::{module_index}"


def _parse_annotation(name: str) -> tuple[str | None, int | None]:
    """(layer type or None, module index or None) of an annotation name."""
    parts = name.removeprefix(ANNOTATION_PREFIX).split("::")
    layer_type = parts[1] if len(parts) > 1 and parts[1] else None
    index = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    return layer_type, index


def layer_type_of(stack: Sequence[str]) -> tuple[str, int | None]:
    """The layer type of work done under ``stack`` (range names, outermost first).

    Module annotations decide, innermost first: a typed module wins; an attention module
    claims what its typed children do not. Otherwise the aten ops' names decide, outermost
    op first (``aten::conv2d`` before its ``aten::cudnn_convolution``), else ``other``.

    Returns:
        ``(layer_type, module_index)``: the index of the module that decided, or None when
        an op name (or nothing) did.
    """
    for name in reversed(stack):
        if name.startswith(ANNOTATION_PREFIX):
            layer_type, index = _parse_annotation(name)
            if layer_type in TYPED_LAYER_TYPES or layer_type == "attention":
                return layer_type, index
    for name in stack:
        if name.startswith(ANNOTATION_PREFIX):
            continue
        for pattern, layer_type in _OP_RULES:
            if pattern.search(name):
                return layer_type, None
    return "other", None


@dataclass(frozen=True)
class DeviceWork:
    """One unit of device time, its layer type and the module instance that decided it."""

    name: str
    duration_us: float
    layer_type: str
    module_index: int | None = None


@dataclass
class _Range:
    start: float
    end: float
    name: str
    is_op: bool
    child_us: float = 0.0


class TraceError(ValueError):
    """The trace is not one this module can read."""


def _ranges_by_thread(events: Iterable[dict]) -> dict[tuple, list[_Range]]:
    threads: dict[tuple, list[_Range]] = defaultdict(list)
    for event in events:
        if event.get("ph") == "X" and event.get("cat") in _RANGE_CATEGORIES:
            start = float(event["ts"])
            threads[(event.get("pid"), event.get("tid"))].append(
                _Range(start, start + float(event.get("dur", 0.0)), str(event["name"]),
                       event["cat"] == "cpu_op"))
    for ranges in threads.values():
        # Parents first: earlier start, then the longer range.
        ranges.sort(key=lambda r: (r.start, -r.end))
    return threads


def _stacks_at(ranges: list[_Range], times: list[float]) -> list[list[str]]:
    """The names of the ranges open at each time (times sorted), outermost first."""
    stacks: list[list[str]] = []
    open_ranges: list[_Range] = []
    index = 0
    for t in times:
        while index < len(ranges) and ranges[index].start <= t:
            candidate = ranges[index]
            while open_ranges and open_ranges[-1].end <= candidate.start:
                open_ranges.pop()
            open_ranges.append(candidate)
            index += 1
        while open_ranges and open_ranges[-1].end < t:
            open_ranges.pop()
        stacks.append([r.name for r in open_ranges if r.start <= t <= r.end])
    return stacks


def _gpu_work(events: list[dict]) -> list[DeviceWork]:
    launches: dict[object, dict] = {}
    for event in events:
        if event.get("cat") in _LAUNCH_CATEGORIES and "correlation" in event.get("args", {}):
            launches[event["args"]["correlation"]] = event
    device = [e for e in events if e.get("ph") == "X" and e.get("cat") in DEVICE_CATEGORIES]
    threads = _ranges_by_thread(events)
    # Group the device events by the thread that launched them, in launch order.
    queries: dict[tuple, list[tuple[float, dict]]] = defaultdict(list)
    unlaunched: list[DeviceWork] = []
    for event in device:
        launch = launches.get(event.get("args", {}).get("correlation"))
        if launch is None:
            unlaunched.append(DeviceWork(str(event["name"]), float(event.get("dur", 0.0)), "other"))
            continue
        queries[(launch.get("pid"), launch.get("tid"))].append((float(launch["ts"]), event))
    work = list(unlaunched)
    for thread, items in queries.items():
        items.sort(key=lambda item: item[0])
        stacks = _stacks_at(threads.get(thread, []), [t for t, _ in items])
        for (_, event), stack in zip(items, stacks, strict=True):
            work.append(DeviceWork(str(event["name"]), float(event.get("dur", 0.0)), *layer_type_of(stack)))
    return work


def _cpu_work(events: list[dict]) -> list[DeviceWork]:
    work: list[DeviceWork] = []
    for ranges in _ranges_by_thread(events).values():
        open_ranges: list[_Range] = []
        typed: list[tuple[_Range, list[str]]] = []
        for candidate in ranges:
            while open_ranges and open_ranges[-1].end <= candidate.start:
                open_ranges.pop()
            if candidate.is_op:
                parent_op = next((r for r in reversed(open_ranges) if r.is_op), None)
                if parent_op is not None:
                    parent_op.child_us += candidate.end - candidate.start
                typed.append((candidate, [r.name for r in open_ranges] + [candidate.name]))
            open_ranges.append(candidate)
        for op, stack in typed:
            self_us = max(0.0, (op.end - op.start) - op.child_us)
            if self_us > 0:
                work.append(DeviceWork(op.name, self_us, *layer_type_of(stack)))
    return work


def device_work(trace: dict) -> tuple[list[DeviceWork], str]:
    """Every unit of device time in a Chrome trace, typed; and ``gpu`` or ``cpu``.

    Raises:
        TraceError: The trace has no events or no timed work.
    """
    events = trace.get("traceEvents") if isinstance(trace, dict) else None
    if not isinstance(events, list) or not events:
        raise TraceError("the trace has no traceEvents")
    if any(e.get("cat") in DEVICE_CATEGORIES for e in events):
        work, kind = _gpu_work(events), "gpu"
    else:
        work, kind = _cpu_work(events), "cpu"
    if not work or sum(w.duration_us for w in work) <= 0:
        raise TraceError("the trace has no timed device work (kernels or CPU ops)")
    return work, kind


def time_by_layer_type(work: Iterable[DeviceWork]) -> dict[str, float]:
    """Device time per layer type, µs, every type present (0 when absent)."""
    totals = dict.fromkeys(LAYER_TYPES, 0.0)
    for item in work:
        totals[item.layer_type] += item.duration_us
    return totals


def attribute(time_us: dict[str, float], energy_j_per_image: float, batches: int) -> list[LayerShare]:
    """Split the measured energy per image across layer types by their device time.

    Args:
        time_us: Device time per layer type over all profiled batches, µs.
        energy_j_per_image: The measured (gross) energy per image of the same workload.
        batches: Number of profiled batches (to report time per batch).

    Raises:
        ValueError: No device time, or a bad batch count.
    """
    total = sum(time_us.values())
    if total <= 0:
        raise ValueError("no device time to attribute")
    if batches < 1:
        raise ValueError("at least one profiled batch is needed")
    shares = [time_us.get(t, 0.0) / total for t in LAYER_TYPES]
    # Put rounding residue in the largest share so the shares add up to exactly 1.
    largest = max(range(len(shares)), key=shares.__getitem__)
    shares[largest] += 1.0 - sum(shares)
    return [LayerShare(layer_type=t, device_time_ms=time_us.get(t, 0.0) / batches / 1000.0,
                       share=min(1.0, max(0.0, s)), energy_j_per_image=energy_j_per_image * max(0.0, s))
            for t, s in zip(LAYER_TYPES, shares, strict=True)]


def share_of_modules(work: Iterable[DeviceWork], module_indices: set[int]) -> float:
    """The fraction of device time decided by the given module instances (an ablation's prediction)."""
    items = list(work)
    total = sum(w.duration_us for w in items)
    if total <= 0:
        return 0.0
    return sum(w.duration_us for w in items if w.module_index in module_indices) / total


def busy_fraction(work: Iterable[DeviceWork], wall_us: float) -> float | None:
    """Device time over the wall time of the profiled batches (capped at 1; CPU ops can overlap)."""
    if wall_us <= 0:
        return None
    return min(1.0, sum(w.duration_us for w in work) / wall_us)


def architecture_kind(work: Iterable[DeviceWork]) -> str:
    """``cnn``, ``vit`` or ``hybrid`` from which modules did the work.

    No attention work is a CNN. Attention with at most one convolution module (a ViT's patch
    embedding) is a ViT. Attention beside several convolution modules (conv stems and stages,
    CoAtNet, MaxViT, LeViT) is a hybrid. Module counts, not time shares: a small ViT's patch
    embedding can take a tenth of the time without making it a hybrid.
    """
    convolutions: set[int | None] = set()
    attention = False
    for item in work:
        if item.layer_type == "attention" and item.duration_us > 0:
            attention = True
        elif item.layer_type == "convolution":
            convolutions.add(item.module_index)
    if not attention:
        return "cnn"
    return "vit" if len(convolutions) <= 1 else "hybrid"
