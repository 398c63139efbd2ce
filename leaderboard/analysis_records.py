"""Records of where an entry's energy goes (profile) and what each switch saves (sweep).

They sit beside the board records, in sub-folders the boards never read:

- ``submissions/<id>/measurements/profile/<hardware>.json``: one inference's measured energy
  attributed to layer types (:class:`ProfileRecord`);
- ``submissions/<id>/measurements/sweep/<hardware>--<variant>.json``: J/image of one variant of
  the headline workload: precision, batch size, channels-last, torch.compile
  (:class:`SweepRecord`).

Both are written atomically by the validator, like board records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leaderboard.errors import Problem
from leaderboard.records import (
    HARDWARE_SLUG_PATTERN,
    MEASUREMENTS_DIRNAME,
    EnergyStats,
    MeasuredWeights,
    Performance,
    Provenance,
    Status,
    atomic_write_text,
    iter_checked_records,
    read_json_file,
    rules_problem,
    submission_facts,
)
from leaderboard.vocabulary import (
    HEADLINE_PRECISION,
    HEADLINE_SCENARIO,
    PRECISIONS,
    SCENARIO_BATCH_SIZE,
    Precision,
)

PROFILE_DIRNAME = "profile"
SWEEP_DIRNAME = "sweep"

# Order is the order the site draws them in.
LAYER_TYPES = ("convolution", "linear", "attention", "normalisation", "activation", "pooling", "other")
LayerType = Literal["convolution", "linear", "attention", "normalisation", "activation", "pooling",
                    "other"]
ArchitectureKind = Literal["cnn", "vit", "hybrid"]

# The headline scenario's workload (protocol v1 offline); savings are relative to it.
HEADLINE_BATCH_SIZE = SCENARIO_BATCH_SIZE[HEADLINE_SCENARIO]
SWEEP_PRECISIONS: tuple[Precision, ...] = PRECISIONS
SWEEP_BATCH_SIZES = (1, 8, 32, 64, 128, 256)


class _Record(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


class LayerShare(_Record):
    """The share of one layer type in one batch's device time, and its energy."""

    layer_type: LayerType
    device_time_ms: Annotated[float, Field(ge=0.0, description="Kernel time per batch, ms.")]
    share: Annotated[float, Field(ge=0.0, le=1.0, description="Fraction of all kernel time.")]
    energy_j_per_image: Annotated[float, Field(ge=0.0, description="share x measured J/image.")]


class Ablation(_Record):
    """A check of the attribution: the same model with one layer type replaced by identity."""

    layer_type: LayerType
    replaced_with: Literal["identity"] = "identity"
    modules_replaced: Annotated[int, Field(ge=1)]
    baseline_j_per_image: Annotated[float, Field(gt=0.0)]
    ablated_j_per_image: Annotated[float, Field(gt=0.0)]
    predicted_saving_j: Annotated[
        float, Field(ge=0.0, description="Energy attributed to the replaced modules' work.")
    ]
    measured_saving_j: Annotated[float, Field(description="baseline - ablated; may be negative.")]

    @property
    def agreement(self) -> float | None:
        """Measured over predicted saving (1.0 is perfect); None when nothing was predicted."""
        if self.predicted_saving_j <= 0:
            return None
        return self.measured_saving_j / self.predicted_saving_j


class _MeasuredRecord(_Record):
    """What every validator record of one entry on one GPU says about the run."""

    schema_version: Literal[1] = 1
    entry_id: str
    hardware: Annotated[str, Field(pattern=HARDWARE_SLUG_PATTERN)]
    status: Status
    reasons: list[str] = Field(default_factory=list)
    measured_at: str
    synthetic: Annotated[
        bool, Field(description="True for made-up test data; the published site refuses it.")
    ] = False
    weights: MeasuredWeights
    input_shape: list[int]
    batch_size: Annotated[int, Field(ge=1, description="Used; below the asked one after OOM halving.")]
    energy: EnergyStats | None = None
    provenance: Provenance


class ProfileRecord(_MeasuredRecord):
    """One entry's measured energy per image, attributed to layer types by kernel time."""

    kind: Literal["profile"] = "profile"
    precision: Precision
    shares: list[LayerShare] = Field(default_factory=list)
    busy_fraction: Annotated[
        float | None,
        Field(ge=0.0, le=1.0, description="Kernel time over wall time of the profiled batches."),
    ] = None
    profiled_batches: Annotated[int, Field(ge=0)] = 0
    kernels_per_batch: Annotated[int, Field(ge=0)] = 0
    architecture_kind: ArchitectureKind | None = None
    ablations: list[Ablation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shares_are_whole(self) -> ProfileRecord:
        if self.shares:
            types = [s.layer_type for s in self.shares]
            if sorted(types) != sorted(LAYER_TYPES):
                raise ValueError(f"shares must list each layer type once: {', '.join(LAYER_TYPES)}")
            total = sum(s.share for s in self.shares)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"shares add up to {total:.6f}, not 1")
        return self

    def share_of(self, layer_type: str) -> float:
        """The share of ``layer_type`` (0 when there are no shares)."""
        return next((s.share for s in self.shares if s.layer_type == layer_type), 0.0)


class Variant(_Record):
    """One point of the savings sweep."""

    precision: Precision
    batch_size: Annotated[int, Field(ge=1)]
    channels_last: bool = False
    compiled: bool = False

    @property
    def slug(self) -> str:
        """File-name form, e.g. ``fp16-b256``, ``fp16-b256-cl``, ``fp16-b256-compile``."""
        return (f"{self.precision}-b{self.batch_size}" + ("-cl" if self.channels_last else "")
                + ("-compile" if self.compiled else ""))

    @property
    def is_headline(self) -> bool:
        """True for the workload the boards measure (offline: fp16, batch 256, NCHW, eager)."""
        return self == HEADLINE_VARIANT

    @property
    def label(self) -> str:
        """Human-readable description, e.g. ``fp16, batch 256, channels-last``."""
        parts = [self.precision, f"batch {self.batch_size}"]
        if self.channels_last:
            parts.append("channels-last")
        if self.compiled:
            parts.append("torch.compile")
        return ", ".join(parts)


HEADLINE_VARIANT = Variant(precision=HEADLINE_PRECISION, batch_size=HEADLINE_BATCH_SIZE)


def sweep_variants() -> list[Variant]:
    """The sweep: the headline, then one switch at a time away from it.

    Each precision at batch 256; each batch size at fp16; channels-last; torch.compile. One
    switch at a time keeps the sweep at 11 runs per entry and makes each saving attributable.
    """
    variants = [HEADLINE_VARIANT]
    variants += [Variant(precision=p, batch_size=HEADLINE_BATCH_SIZE)
                 for p in SWEEP_PRECISIONS if p != HEADLINE_PRECISION]
    variants += [Variant(precision=HEADLINE_PRECISION, batch_size=b)
                 for b in SWEEP_BATCH_SIZES if b != HEADLINE_BATCH_SIZE]
    variants.append(Variant(precision=HEADLINE_PRECISION, batch_size=HEADLINE_BATCH_SIZE,
                            channels_last=True))
    variants.append(Variant(precision=HEADLINE_PRECISION, batch_size=HEADLINE_BATCH_SIZE,
                            compiled=True))
    return variants


class VariantAccuracy(_Record):
    """Top-1/top-5 of the entry run at a variant's precision (the accuracy cost of a switch)."""

    top1: Annotated[float, Field(ge=0.0, le=100.0)]
    top5: Annotated[float, Field(ge=0.0, le=100.0)]
    images: Annotated[int, Field(ge=1)]
    dataset_fingerprint: str


class SweepRecord(_MeasuredRecord):
    """J/image of one variant of an entry's workload."""

    kind: Literal["sweep"] = "sweep"
    variant: Variant
    performance: Performance | None = None
    accuracy: VariantAccuracy | None = None


AnalysisRecord = ProfileRecord | SweepRecord


def profile_path(submissions_dir: Path, entry_id: str, hardware: str) -> Path:
    """Where an entry's profile on ``hardware`` lives."""
    return submissions_dir / entry_id / MEASUREMENTS_DIRNAME / PROFILE_DIRNAME / f"{hardware}.json"


def sweep_path(submissions_dir: Path, entry_id: str, hardware: str, variant: Variant) -> Path:
    """Where an entry's sweep point on ``hardware`` lives."""
    return (submissions_dir / entry_id / MEASUREMENTS_DIRNAME / SWEEP_DIRNAME
            / f"{hardware}--{variant.slug}.json")


def canonical_path(submissions_dir: Path, record: AnalysisRecord) -> Path:
    """The one path a record may live at."""
    if isinstance(record, ProfileRecord):
        return profile_path(submissions_dir, record.entry_id, record.hardware)
    return sweep_path(submissions_dir, record.entry_id, record.hardware, record.variant)


def write_analysis_record(submissions_dir: Path, record: AnalysisRecord) -> Path:
    """Atomically write a profile or sweep record to its canonical path."""
    path = canonical_path(submissions_dir, record)
    atomic_write_text(path, json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
    return path


def parse_analysis_record(data: object) -> AnalysisRecord:
    """Validate decoded JSON as a profile or sweep record (by its ``kind``)."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "profile":
        return ProfileRecord.model_validate(data)
    if kind == "sweep":
        return SweepRecord.model_validate(data)
    raise ValueError(f"kind is {kind!r}; expected 'profile' or 'sweep'")


def read_analysis_record(path: Path) -> AnalysisRecord:
    """Read and validate one profile or sweep record; ``ValueError`` names file and field."""
    data = read_json_file(path)
    try:
        return parse_analysis_record(data)
    except ValidationError as exc:
        details = "; ".join(_describe(e) for e in exc.errors())
        raise ValueError(f"{path}: invalid {data.get('kind')} record: {details}") from exc
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _describe(error: dict) -> str:
    """One validation error as ``field: message``; a whole-record check has no field."""
    message = str(error["msg"]).removeprefix("Value error, ")
    location = ".".join(str(p) for p in error["loc"])
    return f"{location}: {message}" if location else message


def analysis_record_paths(submissions_dir: Path) -> list[Path]:
    """Every profile and sweep record file under ``submissions/``."""
    found: list[Path] = []
    for sub in (PROFILE_DIRNAME, SWEEP_DIRNAME):
        found += submissions_dir.glob(f"*/{MEASUREMENTS_DIRNAME}/{sub}/*.json")
    return sorted(found)


def iter_analysis_records(submissions_dir: Path) -> Iterator[tuple[Path, AnalysisRecord | Problem]]:
    """Every profile and sweep record, or a Problem for each unreadable or misplaced one, or for
    one that breaks the record rules (:func:`leaderboard.record_rules.analysis_record_problems`,
    as `records import` applies them)."""
    from leaderboard.record_rules import analysis_record_problems

    for path, result in iter_checked_records(analysis_record_paths(submissions_dir),
                                             read_analysis_record,
                                             lambda r: canonical_path(submissions_dir, r)):
        if not isinstance(result, Problem):
            gmacs, _ = submission_facts(submissions_dir, result.entry_id)
            problems = analysis_record_problems(result, gmacs=gmacs)
            if problems:
                result = rules_problem(path, problems)
        yield path, result
