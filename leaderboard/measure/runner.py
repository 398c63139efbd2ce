"""Measure one entry end to end: workload, the given protocol, GPU checks, provenance, record.

``measure_entry`` returns an :class:`EntryResult` ``(record, skipped, path)``; ``skipped`` is
true when an existing ok/unstable record with the same skip key made measuring unnecessary (the
existing record is returned). ``measure_and_write`` also writes a new record atomically.
Records with status ``refused`` are written too, with their reasons, so the site can say why.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict, Unpack

import leaderboard
from leaderboard.measure.gpu_processes import CONTEXT_ALLOWANCE_MIB, ProcessVerdict, judge_processes
from leaderboard.measure.kept_records import kept_record
from leaderboard.measure.meters import EnergyMeter, GpuState, MeterUnavailable, open_meter
from leaderboard.measure.protocol_v1 import V1Run
from leaderboard.measure.windows import EnergyMeasurement, ProtocolRun, check_gpu_state
from leaderboard.measure.workload import (
    WeightsInfo,
    WeightsMode,
    build_model,
    count_gflops,
    count_params_m,
    default_precision,
    make_workload,
    resolve_input,
    weights_info,
)
from leaderboard.records import (
    CoolDown,
    EnergyStats,
    MeasuredWeights,
    MeasurementRecord,
    Performance,
    Provenance,
    RawWindow,
    ReferenceCheck,
    read_record,
    record_path,
    write_record,
)
from leaderboard.submission import Submission
from leaderboard.vocabulary import PROTOCOL_VERSION, SCENARIO_BATCH_SIZE, Precision

if TYPE_CHECKING:
    import torch


class EntrySetup(TypedDict, total=False):
    """How an entry is built and metered: keyword arguments that :func:`measure_entry`,
    :func:`~leaderboard.measure.profile.profile_entry` and
    :func:`~leaderboard.measure.sweep.sweep_entry` all take (defaults in :class:`EntryBuild`).

    Keys:
        device: ``cuda``, ``cuda:N`` or ``cpu``.
        weights_mode: ``random-init`` or ``pretrained`` (needs ``weights_path``).
        weights_path: Local ``.safetensors`` file of the pretrained weights.
        meter: The energy meter; by default ``open_meter(device)``, closed afterwards.
    """

    device: str
    weights_mode: WeightsMode
    weights_path: Path | None
    meter: EnergyMeter | None


@dataclass(frozen=True)
class EntryBuild:
    """An :class:`EntrySetup` with its defaults, and the steps measure, profile and sweep share."""

    device: str = "cuda"
    weights_mode: WeightsMode = "random-init"
    weights_path: Path | None = None
    meter: EnergyMeter | None = None

    def weights(self, submission: Submission) -> WeightsInfo:
        """The weights' provenance, checked before the device is touched: a missing file fails fast."""
        return weights_info(submission, self.weights_mode, self.weights_path)

    def session(self) -> contextlib.AbstractContextManager[MeterSession]:
        """The open meter session (see :func:`metered`)."""
        return metered(self.device, self.meter)

    def model(self, submission: Submission, weights: WeightsInfo, *,
              on_device: bool = False) -> tuple[torch.nn.Module, WeightsInfo]:
        """The entry's model in eval mode on the device (see :func:`build_model`)."""
        return build_model(submission, self.weights_mode, self.device, self.weights_path,
                           weights=weights, on_device=on_device)


class EntryResult(NamedTuple):
    """What :func:`measure_entry` produced.

    Attributes:
        record: The new record, or the existing one when skipped.
        skipped: True when nothing was measured because an up-to-date record exists.
        path: Where the record is on disk (the existing file when skipped; set by
            :func:`measure_and_write` after writing; None when not written yet).
    """

    record: MeasurementRecord
    skipped: bool
    path: Path | None = None


def skip_key(submission: Submission, weights: WeightsInfo, gpu_identity: str, scenario: str,
             precision: str | None = None, *, protocol: ProtocolRun | None = None) -> str:
    """Digest of everything that makes a rerun give a different record.

    sha256 over canonical JSON of the submission, the weights digest (or ``random-init``), the
    protocol version, the GPU name, the scenario and its batch size; also the precision when
    given, and the protocol parameters when they are not the protocol's defaults (a quick run
    with short windows must not stand in for a real one).
    """
    run = protocol or V1Run()
    payload: dict[str, Any] = {
        "submission": submission.model_dump(mode="json"),
        "weights": weights.sha256 or "random-init",
        "protocol": run.version,
        "gpu": gpu_identity,
        "scenario": scenario,
        "batch_size": SCENARIO_BATCH_SIZE.get(scenario),
    }
    if precision is not None:
        payload["precision"] = precision
    parameters = run.key_parameters()
    if parameters is not None:
        payload["protocol_config"] = parameters
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _slug(text: str) -> str:
    # Trademark marks carry no identity: "Intel(R) Xeon(R)" -> "intel-xeon".
    text = re.sub(r"\((r|tm|c)\)", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``, else ``platform.processor()``), or ``unknown``."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor().strip() or "unknown"


def hardware_slug(gpu_name: str) -> str:
    """The board's hardware key for a device name.

    ``"NVIDIA H100 80GB HBM3"`` -> ``"nvidia-h100-80gb-hbm3"``; ``"cpu"`` -> ``"cpu-"`` plus a
    slug of this machine's CPU model name (``cpu-unknown`` when it has none).
    """
    if gpu_name.strip().lower() == "cpu":
        return "cpu-" + (_slug(cpu_name()) or "unknown")
    return _slug(gpu_name) or "unknown-device"


def device_name(device: str, state: GpuState | None) -> str:
    """The device's name: the GPU state's, torch's for a GPU without one, else ``cpu``."""
    if state is not None:
        return state.name
    if device.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(torch.device(device))
        return "unknown-gpu"
    return "cpu"


def _git_sha() -> str | None:
    """HEAD of the checkout the validator runs from, or None (not a checkout, no git)."""
    root = Path(leaderboard.__file__).resolve().parent.parent
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", sha) else None


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def utc_now() -> str:
    """Now, UTC, as the records write it (``2026-01-01T00:00:00Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def make_provenance(device_label: str, before: GpuState | None, after: GpuState | None) -> Provenance:
    """The record's provenance from the GPU's state before and after a measurement."""
    import torch

    # The power limit is what was enforced when the run started; clocks and temperature right
    # after the last window describe the loaded state better than the idle state before it.
    late = after or before
    throttles = sorted(set(before.throttle_reasons if before else ())
                       | set(after.throttle_reasons if after else ()))
    return Provenance(
        gpu_name=device_label,
        gpu_uuid_sha256=(hashlib.sha256(before.uuid.encode("utf-8")).hexdigest()
                         if before is not None else None),
        driver=before.driver if before is not None else None,
        cuda=torch.version.cuda,
        torch=_version("torch"),
        timm=_version("timm"),
        nvidia_ml_py=_version("nvidia-ml-py"),
        validator_version=leaderboard.__version__,
        git_sha=_git_sha(),
        power_limit_w=_optional_float(before.power_limit_w) if before is not None else None,
        sm_clock_mhz=_optional_float(late.sm_clock_mhz) if late is not None else None,
        mem_clock_mhz=_optional_float(late.mem_clock_mhz) if late is not None else None,
        temperature_c=_optional_float(late.temperature_c) if late is not None else None,
        throttle_reasons=throttles,
    )


def energy_stats(result: EnergyMeasurement) -> EnergyStats | None:
    """The record's energy section, or None when no window was measured."""
    if not result.windows:
        return None
    low, high = result.ci95_j
    return EnergyStats(
        gross_j_per_image=result.median_j,
        # A CI of a positive quantity is truncated at zero (only with very noisy windows).
        ci95_low_j=max(low, 0.0),
        ci95_high_j=high,
        cv=result.cv,
        windows=len(result.windows),
        # A negative idle reading needs a counter that went backwards, which refuses the
        # record anyway; keep the record valid.
        idle_power_w=max(result.idle_power_w, 0.0),
        idle_subtracted_j_per_image=result.idle_subtracted_j,
        avg_power_w=result.avg_power_w,
        meter=result.meter,
    )


def performance_of(result: EnergyMeasurement) -> Performance | None:
    """The record's performance section, or None when no window was measured."""
    if not result.windows:
        return None
    return Performance(throughput_img_s=result.throughput_img_s,
                       batch_latency_ms=result.batch_latency_ms)


@dataclass
class MeterSession:
    """An open energy meter and what it said about the device when opened.

    Attributes:
        meter: The meter.
        before: The GPU's state at the start (None for meters without ``state()``).
        device_label: The device's name for provenance (the CPU's model on a CPU).
        hardware: The board's hardware slug.
        device: The torch device the workloads run on.
    """

    meter: EnergyMeter
    before: GpuState | None
    device_label: str
    hardware: str
    device: str = "cuda"

    @property
    def power_limit_w(self) -> float | None:
        """The enforced power limit at the start, for the protocol's sanity check."""
        return self.before.power_limit_w if self.before is not None else None

    def state_now(self) -> GpuState | None:
        """The GPU's state now (None for meters without ``state()``)."""
        state = getattr(self.meter, "state", None)
        return state() if callable(state) else None

    def processes(self, state: GpuState | None = None) -> ProcessVerdict | None:
        """The process check against the meter's baseline (None without GPU state)."""
        state = state or self.state_now()
        if state is None:
            return None
        return judge_processes(getattr(self.meter, "baseline", None),
                               state.compute_pids or state.other_compute_pids,
                               state.memory_used_mib, _own_memory_mib(self.device),
                               listed_memory_mib=dict(state.compute_memory_mib))

    def check(self, result: EnergyMeasurement) -> GpuState | None:
        """Refuse or flag ``result`` by the GPU's state now against the start (MIG, other
        processes, throttling); returns the state now."""
        after, _ = self.check_verdict(result)
        return after

    def check_verdict(self, result: EnergyMeasurement) -> tuple[GpuState | None, ProcessVerdict | None]:
        """:meth:`check`, also returning the process verdict."""
        after = self.state_now()
        if self.before is None or after is None:
            return after, None
        return after, check_gpu_state(result, self.before, after, self.processes(after))

    def provenance(self) -> Provenance:
        """Provenance with the state at the start and now."""
        return make_provenance(self.device_label, self.before, self.state_now())


def _own_memory_mib(device: str) -> float | None:
    """What this process holds on ``device``: torch's reserved memory plus a context allowance."""
    if not device.startswith("cuda"):
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.memory_reserved(torch.device(device)) / 2**20 + CONTEXT_ALLOWANCE_MIB


def verify_meter_device(session: MeterSession) -> None:
    """Check that the meter reads the GPU torch runs on (by UUID), once a context exists.

    UUIDs are compared as their 32 hex digits (NVML writes ``GPU-<uuid>``, torch the bare
    UUID); where either side gives no UUID the check cannot be made and is skipped.

    Raises:
        MeterUnavailable: The UUIDs differ (CUDA_VISIBLE_DEVICES / CUDA_DEVICE_ORDER mismatch).
    """
    meter_uuid = getattr(session.meter, "uuid", None)
    if not session.device.startswith("cuda") or not meter_uuid:
        return
    import torch

    if not torch.cuda.is_available():
        return
    torch_uuid = getattr(torch.cuda.get_device_properties(torch.device(session.device)), "uuid", None)

    def digits(text: object) -> str:
        return re.sub(r"[^0-9a-f]", "", str(text).lower().removeprefix("gpu-").removeprefix("mig-"))

    theirs, ours = digits(torch_uuid), digits(meter_uuid)
    if len(theirs) != 32 or len(ours) != 32:
        return
    if theirs != ours:
        raise MeterUnavailable(
            f"the meter reads GPU {meter_uuid} but torch runs {session.device} on {torch_uuid}; "
            "set CUDA_DEVICE_ORDER=PCI_BUS_ID or name GPUs by UUID in CUDA_VISIBLE_DEVICES")


@contextlib.contextmanager
def metered(device: str, meter: EnergyMeter | None = None) -> Iterator[MeterSession]:
    """Open ``device``'s meter (or use ``meter``) and name the device; close what was opened.

    Raises:
        MeterUnavailable: No meter for the device.
    """
    own_meter = meter is None
    active: EnergyMeter = open_meter(device) if meter is None else meter
    try:
        yield open_session(device, active)
    finally:
        if own_meter:
            active.close()


def open_session(device: str, meter: EnergyMeter) -> MeterSession:
    """A :class:`MeterSession` for an open meter (the long-lived worker keeps one)."""
    state = getattr(meter, "state", None)
    before: GpuState | None = state() if callable(state) else None
    name = device_name(device, before)
    return MeterSession(meter, before, cpu_name() if name == "cpu" else name, hardware_slug(name),
                        device)


def measure_entry(
    submission: Submission,
    submissions_dir: Path,
    *,
    scenario: str,
    precision: Precision | None = None,
    force: bool = False,
    protocol: ProtocolRun | None = None,
    session: MeterSession | None = None,
    **setup: Unpack[EntrySetup],
) -> EntryResult:
    """Measure one entry on one device and scenario, unless an up-to-date record exists.

    Args:
        submission: The entry.
        submissions_dir: The ``submissions/`` folder (read for the existing record only).
        scenario: ``offline`` (batch 256, halved on OOM) or ``single-stream`` (batch 1).
        precision: ``fp16``/``bf16`` autocast or ``fp32``; default fp16 on CUDA, fp32 on CPU.
        force: Measure even when an up-to-date record exists.
        protocol: The protocol to run (default protocol v1 with its defaults).
        session: An open meter session kept by a long-lived worker (then ``meter`` is unused).
        **setup: device, weights and meter (:class:`EntrySetup`).

    Returns:
        ``EntryResult(record, skipped, path)``; the record is not written (see
        :func:`measure_and_write`).

    Raises:
        WorkloadError: Weights missing or unusable, bad precision, out of memory at batch 1.
        MeterUnavailable: No meter for the device, or it reads another GPU than torch's.
    """
    if scenario not in SCENARIO_BATCH_SIZE:
        raise ValueError(f"unknown scenario '{scenario}'; use one of {sorted(SCENARIO_BATCH_SIZE)}")
    how = EntryBuild(**setup)
    device = how.device
    precision = precision or default_precision(device)
    run = protocol or V1Run()
    weights = how.weights(submission)
    with contextlib.nullcontext(session) if session is not None else how.session() as active:
        key = skip_key(submission, weights, active.device_label, scenario, precision, protocol=run)
        path = record_path(submissions_dir, submission.id, active.hardware, scenario)
        existing = None if force else kept_record(path, lambda r: r.skip_key == key, read_record)
        if existing is not None:
            return EntryResult(existing, True, path)
        on_device = run.version != PROTOCOL_VERSION  # v2 builds and draws on the GPU
        model, weights = how.model(submission, weights, on_device=on_device)
        resolved = resolve_input(submission, model)
        params_m = count_params_m(model)
        gflops = count_gflops(model, resolved.input_shape)
        requested = SCENARIO_BATCH_SIZE[scenario]
        workload = make_workload(model, resolved.input_shape, device, precision,
                                 batch_size=requested, draw_on_device=on_device)
        verify_meter_device(active)
        # The process check runs before the protocol: a shared GPU fails in seconds.
        first = active.processes()
        if first is not None and first.refused:
            result = EnergyMeasurement(meter=active.meter.name, idle_power_w=0.0, windows=[])
            result.refuse(first.reason or "another process shares the GPU")
            after, verdict = active.state_now(), first
        else:
            result = run.measure(workload, active.meter, active.power_limit_w)
            after, verdict = active.check_verdict(result)
        if workload.batch_size < requested:
            result.reasons.append(f"batch halved from {requested} to {workload.batch_size} "
                                  "after out-of-memory")
        rehearsal = bool(getattr(active.meter, "rehearsal", False))
        if rehearsal:
            result.reasons.append("rehearsal: fake NVML and cuda on the CPU, not a measurement")
        record = MeasurementRecord(
            protocol_version=run.version,
            synthetic=rehearsal,
            entry_id=submission.id,
            hardware=active.hardware,
            scenario=scenario,
            status=result.status,
            reasons=list(result.reasons),
            measured_at=utc_now(),
            weights=MeasuredWeights(kind=weights.kind, sha256=weights.sha256),
            input_shape=[workload.batch_size, *resolved.input_shape],
            batch_size=workload.batch_size,
            precision=precision,
            params_m=params_m,
            gflops=gflops,
            energy=energy_stats(result),
            performance=performance_of(result),
            provenance=make_provenance(active.device_label, active.before, after),
            skip_key=key,
            requested_batch_size=requested,
            process_check=verdict.verdict if verdict is not None else None,
            meter_bias=getattr(active.meter, "bias", None),
            raw_windows=_raw_windows(result),
            window_seed=result.seed,
            reference_check=_reference_check(result),
            cool_down=(CoolDown(waited_s=result.cool_down.waited_s,
                                power_w=max(result.cool_down.power_w, 0.0),
                                target_w=max(result.cool_down.target_w, 0.0),
                                reached=result.cool_down.reached)
                       if result.cool_down is not None else None),
            protocol_details=run.details(result),
            drift=run.drift(),
        )
        del workload, model
        return EntryResult(record, False, None)


def _reference_check(result: EnergyMeasurement) -> ReferenceCheck | None:
    """Protocol J/image over the reference window's, when one was measured."""
    reference = result.reference
    if reference is None or reference.j_per_image <= 0 or not result.windows:
        return None
    return ReferenceCheck(reference_window_s=reference.window_s,
                          reference_j_per_image=reference.j_per_image,
                          ratio=result.median_j / reference.j_per_image)


def _raw_windows(result: EnergyMeasurement) -> list[RawWindow] | None:
    if not result.windows:
        return None
    return [RawWindow(duration_s=float(w.duration_s), images=w.images, batches=w.batches,
                      energy_j=float(w.power_w * w.duration_s), power_w=float(w.power_w),
                      ticks=w.ticks, sm_clock_mhz=w.sm_clock_mhz, mem_clock_mhz=w.mem_clock_mhz,
                      temperature_c=w.temperature_c, throttle_reasons=list(w.throttle_reasons))
            for w in result.windows]


def measure_and_write(submission: Submission, submissions_dir: Path, **kwargs: Any) -> EntryResult:
    """:func:`measure_entry`, then write the new record atomically (refused ones too).

    Args:
        submission: The entry.
        submissions_dir: The ``submissions/`` folder.
        **kwargs: Keyword arguments of :func:`measure_entry`.

    Returns:
        ``EntryResult(record, skipped, path)`` with the path of the record on disk.
    """
    outcome = measure_entry(submission, submissions_dir, **kwargs)
    if outcome.skipped:
        return outcome
    path = write_record(submissions_dir, outcome.record)
    return outcome._replace(path=path)
