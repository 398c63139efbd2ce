"""Validator-owned measurement records: schema, atomic writer and reader.

One JSON file per (entry, hardware, scenario) at
``submissions/<id>/measurements/<hardware>--<scenario>.json``. One file per record keeps
merging results from many GPUs conflict-free.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leaderboard.errors import Problem
from leaderboard.vocabulary import PROTOCOL_VERSION, Precision, Scenario, Status

R = TypeVar("R")  # a record model: MeasurementRecord, ProfileRecord, SweepRecord

RECORD_SCHEMA_VERSION = 1
MEASUREMENTS_DIRNAME = "measurements"

HARDWARE_SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"


class _Record(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class EnergyStats(_Record):
    """Energy per image over the measurement windows."""

    gross_j_per_image: Annotated[float, Field(gt=0.0, description="Median gross J/image (headline).")]
    ci95_low_j: Annotated[float, Field(ge=0.0, description="Truncated at 0 for very noisy windows.")]
    ci95_high_j: Annotated[float, Field(gt=0.0)]
    cv: Annotated[float, Field(ge=0.0, description="Coefficient of variation across windows.")]
    windows: Annotated[int, Field(ge=1)]
    idle_power_w: Annotated[float, Field(ge=0.0)]
    idle_subtracted_j_per_image: Annotated[float, Field(ge=0.0)]
    avg_power_w: Annotated[float, Field(gt=0.0)]
    meter: Annotated[str, Field(description="Meter used, e.g. nvml-total-energy.")]


class Performance(_Record):
    """Speed of the measured run."""

    throughput_img_s: Annotated[float, Field(gt=0.0)]
    batch_latency_ms: Annotated[float, Field(gt=0.0, description="Median time of one batch.")]


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


class Weights(_Record):
    """Which weights were measured."""

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
    weights: Weights
    input_shape: list[int]
    batch_size: Annotated[int, Field(ge=1)]
    precision: Precision
    params_m: Annotated[float | None, Field(ge=0.0)] = None
    gflops: Annotated[float | None, Field(ge=0.0)] = None
    energy: EnergyStats | None = None
    performance: Performance | None = None
    accuracy: AccuracyResult | None = None
    provenance: Provenance
    skip_key: Annotated[
        str | None, Field(description="Digest of submission, weights, protocol and GPU.")
    ] = None

    @property
    def board(self) -> str:
        """The board this record belongs to: ``<hardware>--<scenario>``."""
        return f"{self.hardware}--{self.scenario}"


def record_path(submissions_dir: Path, entry_id: str, hardware: str, scenario: str) -> Path:
    """Where the record of an entry on a board lives."""
    return submissions_dir / entry_id / MEASUREMENTS_DIRNAME / f"{hardware}--{scenario}.json"


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text the way :func:`atomic_write_bytes` writes bytes."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so readers see the old or the new content, never a torn one.

    Temp file in the same directory, fsync, ``os.replace``, then fsync the directory so the
    rename itself survives a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_record(submissions_dir: Path, record: MeasurementRecord) -> Path:
    """Atomically write a record to its canonical path and return the path."""
    path = record_path(submissions_dir, record.entry_id, record.hardware, record.scenario)
    text = json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    atomic_write_text(path, text)
    return path


def read_json_file(path: Path) -> object:
    """Decoded JSON of a file; ``ValueError`` with file and line when it is not JSON."""
    try:
        return json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from exc


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


def iter_records(submissions_dir: Path) -> Iterator[tuple[Path, MeasurementRecord | Problem]]:
    """Every record under ``submissions/``, or a Problem for each unreadable one."""
    yield from iter_checked_records(
        sorted(submissions_dir.glob(f"*/{MEASUREMENTS_DIRNAME}/*.json")), read_record,
        lambda r: record_path(submissions_dir, r.entry_id, r.hardware, r.scenario))


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
