"""Seed entries from timm's published ImageNet results.

Each row of ``results-imagenet.csv`` becomes ``submissions/<id>/submission.yaml`` with its
accuracy as a claim sourced to that file and commit. Rows at a non-default resolution get
their own entry, ``<model>-<img_size>``. Params, GMACs and activations are joined from timm's
inference benchmark on (architecture, image size). Running it twice changes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from leaderboard.atomic import atomic_write_text, remove_stale_temp_files
from leaderboard.errors import LeaderboardError
from leaderboard.safe_yaml import load_yaml_file
from leaderboard.submission import SUBMISSION_FILENAME
from leaderboard.timm_catalog import TimmCatalog, load_catalog

TIMM_REPOSITORY = "huggingface/pytorch-image-models"
TIMM_RESULTS_COMMIT = "aa4b5850c1543fa488abf260f18390eda46cf85d"
RESULTS_COLUMNS = {"model", "img_size", "top1", "top5", "param_count", "crop_pct", "interpolation"}
BENCHMARK_COLUMNS = {"model", "infer_img_size", "param_count", "infer_gmacs", "infer_macts"}


@dataclass
class ImportSummary:
    """What an import did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _number(text: str) -> float:
    # timm writes thousands with a comma: "1,014.45"
    return float(text.replace(",", ""))


def _read_csv(path: Path, required: set[str]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = required - set(reader.fieldnames or [])
            if missing:
                raise LeaderboardError(
                    f"{path}: missing column(s) {', '.join(sorted(missing))}; is this a timm "
                    "results file?"
                )
            return list(reader)
    except FileNotFoundError as exc:
        raise LeaderboardError(f"{path}: no such file") from exc


def load_benchmark(path: Path) -> dict[tuple[str, int], dict[str, float]]:
    """Params (M), GMACs and activations (M) by (architecture, image size)."""
    table: dict[tuple[str, int], dict[str, float]] = {}
    for row in _read_csv(path, BENCHMARK_COLUMNS):
        table[(row["model"], int(row["infer_img_size"]))] = {
            "params_m": _number(row["param_count"]),
            "gmacs": _number(row["infer_gmacs"]),
            "activations_m": _number(row["infer_macts"]),
        }
    return table


def build_entries(
    results_csv: Path,
    benchmark_csv: Path | None,
    catalog: TimmCatalog,
    commit: str = TIMM_RESULTS_COMMIT,
) -> dict[str, dict[str, Any]]:
    """Turn the results CSV into submission documents, keyed by entry id."""
    rows = _read_csv(results_csv, RESULTS_COLUMNS)
    benchmark = load_benchmark(benchmark_csv) if benchmark_csv else {}
    entries: dict[str, dict[str, Any]] = {}
    for line_number, row in enumerate(rows, start=2):
        name = row["model"]
        architecture = name.split(".", 1)[0]
        img_size = int(row["img_size"])
        defaults = catalog.pretrained.get(name)
        if defaults is None:
            raise LeaderboardError(
                f"{results_csv}: line {line_number}: '{name}' is not a pretrained tag of "
                f"timm {catalog.timm_version}; regenerate the catalog with the timm pin that "
                "produced this file"
            )
        entry_id = name if img_size == defaults.img_size else f"{name}-{img_size}"
        if entry_id in entries:
            raise LeaderboardError(f"{results_csv}: line {line_number}: duplicate entry {entry_id}")
        if defaults.hf_hub_id:
            weights: dict[str, Any] = {
                "hf_hub": {"repo": defaults.hf_hub_id, "revision": None,
                           "filename": "model.safetensors"}
            }
        else:
            weights = {"url": {"url": defaults.url, "sha256": None}}
        model: dict[str, Any] = {
            "architecture": architecture,
            "weights": weights,
            "family": catalog.family_of(architecture),
        }
        if defaults.license and defaults.license != "unknown":
            model["license"] = defaults.license
        compute = {"params_m": _number(row["param_count"])}
        compute.update(benchmark.get((architecture, img_size), {}))
        compute_source = (
            "timm benchmark-infer-amp-nchw-pt291-cu130-5090.csv"
            if (architecture, img_size) in benchmark
            else "timm results-imagenet.csv"
        )
        entries[entry_id] = {
            "schema_version": 1,
            "id": entry_id,
            "model": model,
            "eval": {
                "img_size": img_size,
                "crop_pct": float(row["crop_pct"]),
                "interpolation": row["interpolation"],
            },
            "claims": {
                "top1": float(row["top1"]),
                "top5": float(row["top5"]),
                "source": f"timm results-imagenet.csv ({TIMM_REPOSITORY}@{commit[:8]})",
            },
            "compute": {**compute, "source": compute_source},
            "submitter": {"name": "timm results import"},
            "imported_from": {
                "file": "results/results-imagenet.csv",
                "repository": TIMM_REPOSITORY,
                "commit": commit,
                "row": line_number,
            },
        }
    return entries


def _keep_pins(new: dict[str, Any], old_path: Path) -> None:
    """Keep weight pins a maintainer added by hand; the CSV does not know them."""
    # The strict loader: the old file may hold a contributor's edit (an alias bomb, a tag).
    old, _, _ = load_yaml_file(old_path)
    try:
        old_weights = old["model"]["weights"]
    except (KeyError, TypeError):
        return
    if not isinstance(old_weights, dict):
        return
    for kind, pin in (("hf_hub", "revision"), ("url", "sha256")):
        old_value = (old_weights.get(kind) or {}).get(pin)
        if old_value and kind in new["model"]["weights"]:
            new["model"]["weights"][kind][pin] = old_value


def render_submission(document: dict[str, Any]) -> str:
    """YAML text of a submission, keys in schema order."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def import_timm(
    results_csv: Path,
    submissions_dir: Path,
    benchmark_csv: Path | None = None,
    commit: str = TIMM_RESULTS_COMMIT,
    catalog: TimmCatalog | None = None,
) -> ImportSummary:
    """Write one submission per results row; rewrite only files whose content changes."""
    entries = build_entries(results_csv, benchmark_csv, catalog or load_catalog(), commit)
    summary = ImportSummary()
    # A killed earlier run may have left temp files in any entry's folder, not only in the
    # folders this run writes to.
    for folder in sorted(submissions_dir.glob("*/")):
        remove_stale_temp_files(folder, SUBMISSION_FILENAME)
    for entry_id, document in entries.items():
        path = submissions_dir / entry_id / SUBMISSION_FILENAME
        if path.exists():
            _keep_pins(document, path)
            text = render_submission(document)
            if path.read_text("utf-8") == text:
                summary.unchanged.append(entry_id)
                continue
            summary.updated.append(entry_id)
        else:
            text = render_submission(document)
            summary.created.append(entry_id)
        atomic_write_text(path, text)
    return summary
