"""Validator-owned measurement records: schema, atomic writer and reader.

One JSON file per (entry, hardware, scenario) at
``submissions/<id>/measurements/<hardware>--<scenario>.json``. One file per record keeps
merging results from many GPUs conflict-free.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leaderboard.atomic import atomic_write_text, interrupted_stage
from leaderboard.errors import Problem
from leaderboard.record_rules import NON_GPU_METERS, record_problems
from leaderboard.safe_yaml import load_yaml_file, read_limited
from leaderboard.vocabulary import PROTOCOL_VERSION, SCORED_STATUSES, Precision, Scenario, Status

__all__ = ["atomic_write_text"]  # re-exported: writers across the package import it from here

R = TypeVar("R")  # a record model: MeasurementRecord, ProfileRecord, SweepRecord

RECORD_SCHEMA_VERSION = 1
MEASUREMENTS_DIRNAME = "measurements"

HARDWARE_SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"


class _Record(BaseModel):
    # allow_inf_nan=False: one infinite energy would take the whole site build down.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


# Physical bounds, far outside any real measurement, so that every ratio the boards compute
# (excess factor, relative to ResNet-50, per-GFLOP) stays finite: 1e308 J or 5e-324 J per image
# are finite floats, but their ratios overflow and took the site build down.
MIN_J_PER_IMAGE = 1e-9
MAX_J_PER_IMAGE = 1e4
MAX_POWER_W = 1e5
MAX_RATE = 1e9


class EnergyStats(_Record):
    """Energy per image over the measurement windows."""

    gross_j_per_image: Annotated[float, Field(ge=MIN_J_PER_IMAGE, le=MAX_J_PER_IMAGE,
                                              description="Median gross J/image (headline).")]
    ci95_low_j: Annotated[float, Field(ge=0.0, le=MAX_J_PER_IMAGE,
                                       description="Truncated at 0 for very noisy windows.")]
    ci95_high_j: Annotated[float, Field(gt=0.0, le=MAX_J_PER_IMAGE)]
    cv: Annotated[float, Field(ge=0.0, le=MAX_RATE,
                               description="Coefficient of variation across windows.")]
    windows: Annotated[int, Field(ge=1)]
    idle_power_w: Annotated[float, Field(ge=0.0, le=MAX_POWER_W)]
    idle_subtracted_j_per_image: Annotated[float, Field(ge=0.0, le=MAX_J_PER_IMAGE)]
    avg_power_w: Annotated[float, Field(gt=0.0, le=MAX_POWER_W)]
    meter: Annotated[str, Field(description="Meter used, e.g. nvml-total-energy.")]


class Performance(_Record):
    """Speed of the measured run."""

    throughput_img_s: Annotated[float, Field(ge=1e-6, le=MAX_RATE)]
    batch_latency_ms: Annotated[float, Field(ge=1e-6, le=MAX_RATE,
                                             description="Median time of one batch.")]


class Preprocessing(_Record):
    """The evaluation transform actually used (timm's resolved data config with overrides)."""

    img_size: Annotated[int, Field(ge=1, description="Square input side, px.")]
    crop_pct: Annotated[float, Field(gt=0.0)]
    interpolation: str
    mean: list[float]
    std: list[float]
    crop_mode: str = "center"


class AccuracyResult(_Record):
    """Re-measured accuracy and the verdict against the claim."""

    top1: Annotated[float, Field(ge=0.0, le=100.0)]
    top5: Annotated[float, Field(ge=0.0, le=100.0)]
    images: Annotated[int, Field(ge=1)]
    dataset_fingerprint: str
    per_class: int | None = None
    verdict: Literal["verified", "rejected", "subset"]
    claim_delta_top1: float
    # Optional so that records written before these fields existed stay valid.
    top1_ci95_low: Annotated[float | None, Field(ge=0.0, le=100.0, description="Wilson 95% CI.")] = None
    top1_ci95_high: Annotated[float | None, Field(ge=0.0, le=100.0)] = None
    preprocessing: Preprocessing | None = None
    weights_sha256: Annotated[
        str | None, Field(pattern=r"^[0-9a-f]{64}$", description="The weights evaluated.")
    ] = None
    decode_path: Annotated[
        Literal["gpu", "cpu"] | None,
        Field(description="gpu: decode and resize on the device; cpu: timm's PIL transform."),
    ] = None


class MeasuredWeights(_Record):
    """Which weights were measured (the submission says where they come from: submission.Weights)."""

    kind: Literal["pretrained", "random-init"]
    sha256: Annotated[str | None, Field(pattern=r"^[0-9a-f]{64}$")] = None


class Provenance(_Record):
    """Everything needed to reproduce or distrust a number."""

    gpu_name: str
    gpu_uuid_sha256: str | None = None
    driver: str | None = None
    cuda: str | None = None
    torch: str | None = None
    timm: str | None = None
    nvidia_ml_py: str | None = None
    validator_version: str
    git_sha: str | None = None
    power_limit_w: float | None = None
    sm_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None
    temperature_c: float | None = None
    throttle_reasons: list[str] = Field(default_factory=list)


class RawWindow(_Record):
    """One measured window's raw figures (protocol v2 keeps them all)."""

    duration_s: Annotated[float, Field(gt=0.0)]
    images: Annotated[int, Field(ge=1)]
    batches: Annotated[int, Field(ge=1)]
    energy_j: Annotated[float, Field(ge=0.0)]
    power_w: Annotated[float, Field(ge=0.0)]
    ticks: Annotated[int, Field(ge=0, description="Energy-counter steps seen in the window.")]
    # The GPU right after the window (optional: earlier records stay valid).
    sm_clock_mhz: Annotated[float | None, Field(ge=0.0)] = None
    mem_clock_mhz: Annotated[float | None, Field(ge=0.0)] = None
    temperature_c: float | None = None
    throttle_reasons: list[str] = Field(default_factory=list)


class DriftCheck(_Record):
    """The reference model re-measured during a lease, to catch drift (temperature)."""

    reference_entry: str
    first_j_per_image: Annotated[float, Field(gt=0.0)]
    latest_j_per_image: Annotated[float, Field(gt=0.0)]
    ratio: Annotated[float, Field(gt=0.0, description="latest / first.")]
    models_since: Annotated[int, Field(ge=0, description="Models measured since the re-check.")]
    temperature_c: float | None = None


class ReferenceCheck(_Record):
    """The protocol checked against one long tick-aligned reference window on the same model."""

    reference_window_s: Annotated[float, Field(gt=0.0)]
    reference_j_per_image: Annotated[float, Field(gt=0.0)]
    ratio: Annotated[float, Field(gt=0.0, description="protocol J/image / reference J/image.")]


class CoolDown(_Record):
    """The wait before this model, until power was back near idle or a time bound passed."""

    waited_s: Annotated[float, Field(ge=0.0)]
    power_w: Annotated[float, Field(ge=0.0, description="Power when the wait ended.")]
    target_w: Annotated[float, Field(ge=0.0, description="Idle power x the rule's tolerance.")]
    reached: Annotated[bool, Field(description="False: the time bound ended the wait.")]


class ProtocolDetails(_Record):
    """How protocol v2 measured a record (absent on v1 records)."""

    window_mode: Literal["sub-windows", "v1-windows"]
    window_s: Annotated[float, Field(gt=0.0)]
    warmup_s: Annotated[float, Field(ge=0.0)]
    warmup_steady: bool
    ci_level: Annotated[float, Field(ge=0.0, le=1.0, description="Coverage of the median CI.")]
    idle_age_s: Annotated[float, Field(ge=0.0, description="Age of the worker's idle reading.")]
    parameters_from: Annotated[str, Field(description="probe or defaults.")]
    tick_uncertainty_s: Annotated[float, Field(ge=0.0)]
    counter_period_s: Annotated[float, Field(gt=0.0)]


class MeasurementRecord(_Record):
    """One validator measurement of one entry on one hardware and scenario."""

    schema_version: Literal[1] = RECORD_SCHEMA_VERSION
    protocol_version: str = PROTOCOL_VERSION
    entry_id: str
    hardware: Annotated[str, Field(pattern=HARDWARE_SLUG_PATTERN, description="e.g. nvidia-h100-sxm")]
    scenario: Scenario
    status: Status
    reasons: list[str] = Field(default_factory=list)
    measured_at: Annotated[str, Field(description="UTC time, ISO 8601.")]
    synthetic: Annotated[
        bool, Field(description="True for made-up test data; the published site refuses it.")
    ] = False
    weights: MeasuredWeights
    input_shape: list[int]
    batch_size: Annotated[int, Field(ge=1)]
    precision: Precision
    params_m: Annotated[float | None, Field(ge=0.0, le=MAX_RATE)] = None
    gflops: Annotated[float | None, Field(ge=0.0, le=MAX_RATE)] = None
    energy: EnergyStats | None = None
    performance: Performance | None = None
    accuracy: AccuracyResult | None = None
    provenance: Provenance
    skip_key: Annotated[
        str | None, Field(description="Digest of submission, weights, protocol and GPU.")
    ] = None
    # Added with protocol v2 (all optional: earlier records stay valid).
    requested_batch_size: Annotated[
        int | None, Field(ge=1, description="The scenario's batch before out-of-memory halving.")
    ] = None
    process_check: Annotated[
        str | None, Field(description="clear, unverifiable (pid namespace) or refused.")
    ] = None
    meter_bias: Annotated[str | None, Field(description="What the meter kind gets wrong.")] = None
    raw_windows: list[RawWindow] | None = None
    protocol_details: ProtocolDetails | None = None
    drift: DriftCheck | None = None
    window_seed: Annotated[
        int | None, Field(ge=0, description="Seed of this run's window de-phasing.")
    ] = None
    reference_check: ReferenceCheck | None = None
    cool_down: CoolDown | None = None

    @property
    def board(self) -> str:
        """The board this record belongs to: ``<hardware>--<scenario>``."""
        return f"{self.hardware}--{self.scenario}"


def parse_measured_at(value: object) -> datetime:
    """A record's ``measured_at`` as an aware datetime.

    Raises:
        ValueError: Not a string, not an ISO 8601 time that exists, or without a UTC offset.
    """
    if not isinstance(value, str):
        raise ValueError(f"measured_at: {value!r} is not an ISO 8601 time string")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"measured_at: {value!r} is not a time that exists ({exc})") from exc
    if when.tzinfo is None:
        raise ValueError(f"measured_at: {value!r} has no UTC offset; the validator writes UTC "
                         "times ending in Z")
    return when


def record_path(submissions_dir: Path, entry_id: str, hardware: str, scenario: str) -> Path:
    """Where the record of an entry on a board lives."""
    return submissions_dir / entry_id / MEASUREMENTS_DIRNAME / f"{hardware}--{scenario}.json"


def write_record(submissions_dir: Path, record: MeasurementRecord) -> Path:
    """Atomically write a record to its canonical path and return the path.

    Raises:
        ValueError: The record breaks a rule of :func:`leaderboard.record_rules.record_problems`
            (the same rules `records import` and `check` apply when they read it).
    """
    gmacs, claimed_top1 = submission_facts(submissions_dir, record.entry_id)
    problems = record_problems(record, gmacs=gmacs, claimed_top1=claimed_top1, provenance=False)
    if problems:
        raise ValueError(f"{record.entry_id} on {record.board}: record not written: "
                         + "; ".join(problems))
    path = record_path(submissions_dir, record.entry_id, record.hardware, record.scenario)
    text = json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    atomic_write_text(path, text)
    return path


def _refuse_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} (JSON has no Infinity or NaN; records hold "
                     "finite numbers only)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to inf
        raise ValueError(f"number {text[:40]} is too large to be finite")
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            # json.loads keeps the last one silently: a reviewer reads the first.
            raise ValueError(f"duplicate key {key[:60]!r} in one object")
        seen[key] = value
    return seen


def loads_json(text: str) -> object:
    """``json.loads`` that refuses ``Infinity``, ``NaN``, numbers that overflow to them, and
    duplicate keys.

    Python's json module accepts all three numbers although JSON has none; a record holding one
    passes a schema that only checks types and crashes whatever adds it up later. A duplicate
    key is kept last by the parser while a reader of the file sees the first.

    Raises:
        ValueError: Not JSON (``json.JSONDecodeError``, with line), a non-finite number or a
            duplicate key.
    """
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                      object_pairs_hook=_unique_keys)


# A record is a few KiB; the archive import caps members at 1 MiB too.
MAX_RECORD_BYTES = 1024 * 1024


def read_json_file(path: Path) -> object:
    """Decoded JSON of a file; ``ValueError`` with file and line when it is not JSON.

    At most :data:`MAX_RECORD_BYTES` are read, from a regular file only (a record that is a
    symbolic link to ``/dev/zero`` is refused, not read forever).
    """
    raw, problem = read_limited(path, str(path), MAX_RECORD_BYTES,
                                "records are written by the validator; re-run it")
    if problem is not None:
        raise ValueError(f"{path}: {problem.message}")
    try:
        return loads_json(raw.decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from exc
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: byte {exc.start}: not UTF-8 text") from exc


def read_record(path: Path) -> MeasurementRecord:
    """Read and validate one record; raises ``ValueError`` with file and field on bad data."""
    data = read_json_file(path)
    try:
        return MeasurementRecord.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"{path}: invalid measurement record: {details}") from exc


# The provenance the Methodology page promises for every measured record: "GPU, driver, CUDA,
# torch, timm and validator versions, power limit, clocks, temperature, weights digest, input
# shape, batch and precision" (batch and precision are required by the schema itself).
PROVENANCE_FIELDS = ("gpu_name", "torch", "timm", "validator_version")
GPU_PROVENANCE_FIELDS = ("driver", "cuda", "power_limit_w", "sm_clock_mhz", "mem_clock_mhz",
                         "temperature_c")


def missing_provenance(record: MeasurementRecord) -> list[str]:
    """The provenance fields a measured record lacks (dotted paths); empty when complete.

    Only measured records (status ``ok`` or ``unstable`` with energy) are published with
    numbers, so only they must carry it; error and refused records say why they have none.
    Records measured with any meter that is not a known CPU or test meter must also carry the
    GPU's driver, CUDA, power limit, clocks and temperature. Synthetic records are exempt: the
    published build refuses them.
    """
    if record.synthetic or record.status not in SCORED_STATUSES or record.energy is None:
        return []
    wanted = list(PROVENANCE_FIELDS)
    if record.energy.meter not in NON_GPU_METERS:  # by kind: unknown spellings count as GPU
        wanted += GPU_PROVENANCE_FIELDS
    missing = [f"provenance.{name}" for name in wanted
               if getattr(record.provenance, name) in (None, "")]
    if record.weights.kind == "pretrained" and record.weights.sha256 is None:
        missing.append("weights.sha256")
    if not record.input_shape:
        missing.append("input_shape")
    return missing


def provenance_problem(path: Path | str, missing: list[str]) -> Problem:
    """The problem of a measured record that lacks the provenance fields ``missing``."""
    return Problem(str(path), ", ".join(missing),
                   f"measured record lacks provenance: {', '.join(missing)}",
                   "re-measure the entry with the validator, which records every field the "
                   "Methodology page lists")


def iter_records(submissions_dir: Path) -> Iterator[tuple[Path, MeasurementRecord | Problem]]:
    """Every record under ``submissions/``, or a Problem for each unreadable one.

    A measured record without the full provenance (:func:`missing_provenance`) is a Problem
    too, so `check` and the site build refuse it, naming the missing fields; so is a records
    import that was killed while moving its files into place.
    """
    stage = interrupted_stage(submissions_dir)
    if stage is not None:
        yield stage, Problem(str(stage), "", "a records import was interrupted while moving its "
                             "files into place", "run `leaderboard records import` again (any "
                             "archive, even the same one): it finishes the interrupted import first")
    for path, result in iter_checked_records(
            sorted(submissions_dir.glob(f"*/{MEASUREMENTS_DIRNAME}/*.json")), read_record,
            lambda r: record_path(submissions_dir, r.entry_id, r.hardware, r.scenario)):
        if isinstance(result, Problem):
            yield path, result
            continue
        gmacs, claimed_top1 = submission_facts(submissions_dir, result.entry_id)
        problems = record_problems(result, gmacs=gmacs, claimed_top1=claimed_top1)
        missing = missing_provenance(result)
        if missing and len(problems) == 1:
            yield path, provenance_problem(path, missing)
            continue
        if problems:
            yield path, rules_problem(path, problems)
            continue
        yield path, result


def rules_problem(path: Path | str, problems: list[str]) -> Problem:
    """The Problem of a record that breaks the record rules (``field: what`` sentences)."""
    field, _, rest = problems[0].partition(": ")
    if len(problems) > 1 or not rest or " " in field:
        field, rest = "", "; ".join(problems)
    return Problem(str(path), field, rest, "records are written by the validator, which applies "
                   "the same rules; re-measure the entry")


def submission_facts(submissions_dir: Path, entry_id: str) -> tuple[float | None, float | None]:
    """The submission's ``compute.gmacs`` and ``claims.top1`` (``None`` where absent or unreadable).

    The record rules need them (energy floor, accuracy verdict); the submission's own problems
    are `check`'s business, so a broken file gives ``None`` here rather than a second report.
    """
    path = submissions_dir / entry_id / "submission.yaml"
    if not path.is_file():
        return None, None
    document, _problems, _lines = load_yaml_file(path)
    if not isinstance(document, dict):
        return None, None

    def number(section: str, key: str) -> float | None:
        value = document.get(section, {}).get(key) if isinstance(document.get(section), dict) else None
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return number("compute", "gmacs"), number("claims", "top1")


def iter_checked_records(paths: Iterable[Path], read: Callable[[Path], R],
                         expected_path: Callable[[R], Path]) -> Iterator[tuple[Path, R | Problem]]:
    """Read each file with ``read``; a Problem where it fails or the record is not where it
    belongs (``expected_path``), else the record."""
    for path in paths:
        try:
            record = read(path)
        except ValueError as exc:
            yield path, Problem(str(path), "", str(exc).removeprefix(f"{path}: "),
                                "records are written by the validator; re-run it for this entry")
            continue
        expected = expected_path(record)
        if expected != path:
            yield path, Problem(str(path), "entry_id", f"record belongs at {expected}",
                                "do not rename or move records by hand")
            continue
        yield path, record
