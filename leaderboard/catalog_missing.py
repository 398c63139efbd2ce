"""`leaderboard timm-catalog --missing`: timm's pretrained tags that have no entry yet.

A contributor looking for the next model to submit wants the tags of the shipped catalog
(``leaderboard.timm_catalog``) that no ``submissions/<tag>[-<img_size>]/`` holds, with what
helps choose one: family, input size, GMACs and timm's top-1.

timm publishes GMACs and top-1 per *measured* tag only (its results and benchmark CSVs), and
every tag in those files was imported already. So for a missing tag:

* ``gmacs`` comes from timm's inference benchmark, shipped as ``data/timm_gmacs.json`` (the
  same CSV the seed entries' compute figures come from, keyed by architecture and input size:
  MACs depend on the network and its input, not on the weights), else from a submitted entry
  with the same architecture and input size, else it is unknown;
* ``top1`` is timm's published ImageNet-1k top-1 (``results-imagenet.csv``). Every tag in that
  file at the pinned commit was imported, so a missing tag has none: it stays unknown
  (``None``), never invented. Most missing tags are pretraining or other-label-space
  checkpoints (``*.apple_pt``, ``*_in22k``), or newer than the pinned results.

Regenerate the GMACs file from a timm checkout's ``results/`` folder with
``leaderboard timm-catalog --write-gmacs leaderboard/data/timm_gmacs.json --benchmark CSV``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from leaderboard.errors import UsageError
from leaderboard.timm_catalog import TimmCatalog

GMACS_RESOURCE = "timm_gmacs.json"
SORT_KEYS = ("name", "gmacs", "top1")
_SIZE_SUFFIX = re.compile(r"-(\d+)$")


@dataclass(frozen=True)
class MissingTag:
    """One pretrained tag of the catalog without an entry."""

    tag: str
    family: str | None
    img_size: int
    gmacs: float | None
    top1: float | None


@dataclass(frozen=True)
class SubmittedFacts:
    """What the submissions folder says, indexed for the lookups above."""

    tags: frozenset[str]
    gmacs_by_network: dict[tuple[str, int], float]


def tag_of(entry_id: str) -> str:
    """``resnet50.a1_in1k-288`` -> ``resnet50.a1_in1k`` (the catalog's key)."""
    return _SIZE_SUFFIX.sub("", entry_id)


def submitted_facts(submissions_dir: Path) -> SubmittedFacts:
    """Read every ``<id>/submission.yaml`` under ``submissions_dir`` (strict loader).

    Raises:
        UsageError: The folder does not exist (the wheel ships no submissions: this needs a
            clone of the repository).
    """
    from leaderboard.safe_yaml import load_yaml_file
    from leaderboard.submission import SUBMISSION_FILENAME

    if not submissions_dir.is_dir():
        raise UsageError(f"{submissions_dir}: no submissions folder here; --missing compares the "
                         "catalog with the submissions of a clone of the repository: run it in "
                         "the clone's root or pass --submissions DIR")
    tags: set[str] = set()
    gmacs: dict[tuple[str, int], float] = {}
    for path in sorted(submissions_dir.glob(f"*/{SUBMISSION_FILENAME}")):
        tag = tag_of(path.parent.name)
        tags.add(tag)
        data, _, _ = load_yaml_file(path, str(path))
        if not isinstance(data, dict):
            continue  # `leaderboard check` reports it; a listing only skips it
        model, evaluation = data.get("model") or {}, data.get("eval") or {}
        compute = data.get("compute") or {}
        architecture, img_size = model.get("architecture"), evaluation.get("img_size")
        if isinstance(architecture, str) and isinstance(img_size, int) and \
                isinstance(compute.get("gmacs"), int | float):
            gmacs.setdefault((architecture, img_size), float(compute["gmacs"]))
    return SubmittedFacts(frozenset(tags), gmacs)


def _network_key(architecture: str, img_size: int) -> str:
    return f"{architecture}@{img_size}"


def load_benchmark_gmacs() -> dict[str, float]:
    """The shipped GMACs of timm's benchmark, keyed ``architecture@img_size``."""
    from importlib import resources

    text = resources.files("leaderboard.data").joinpath(GMACS_RESOURCE).read_text("utf-8")
    return {key: float(value) for key, value in json.loads(text)["gmacs"].items()}


def write_benchmark_gmacs(benchmark_csv: Path, path: Path, source: str) -> int:
    """Write ``data/timm_gmacs.json`` from timm's ``benchmark-infer-*.csv``; return the rows."""
    from leaderboard.import_timm import load_benchmark
    from leaderboard.records import atomic_write_text

    table = load_benchmark(benchmark_csv)
    gmacs = {_network_key(arch, size): figures["gmacs"] for (arch, size), figures in sorted(table.items())}
    atomic_write_text(path, json.dumps({"source": source, "gmacs": gmacs}, indent=0) + "\n")
    return len(gmacs)


def missing_tags(catalog: TimmCatalog, facts: SubmittedFacts, benchmark_gmacs: dict[str, float],
                 sort: str = "name") -> list[MissingTag]:
    """The catalog's pretrained tags without an entry, sorted by ``sort``.

    ``gmacs`` sorts cheapest first and ``top1`` best first; unknown values go last, and ties
    keep name order.
    """
    if sort not in SORT_KEYS:
        raise UsageError(f"--sort {sort!r}: use one of {', '.join(SORT_KEYS)}")
    rows = []
    for tag, defaults in sorted(catalog.pretrained.items()):
        if tag in facts.tags:
            continue
        architecture = tag.split(".", 1)[0]
        gmacs = benchmark_gmacs.get(_network_key(architecture, defaults.img_size),
                                    facts.gmacs_by_network.get((architecture, defaults.img_size)))
        rows.append(MissingTag(tag, catalog.family_of(architecture), defaults.img_size, gmacs,
                               top1=None))
    if sort == "gmacs":
        rows.sort(key=lambda r: (r.gmacs is None, r.gmacs or 0.0))
    elif sort == "top1":
        rows.sort(key=lambda r: (r.top1 is None, -(r.top1 or 0.0)))
    return rows


def _figure(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def missing_text(rows: Iterable[MissingTag], total: int, timm_version: str) -> str:
    """An aligned table and a count line (``-`` where a figure is unknown)."""
    rows = list(rows)
    header = ("tag", "family", "img_size", "gmacs", "top1")
    table = [header] + [(r.tag, r.family or "-", str(r.img_size), _figure(r.gmacs, 2),
                         _figure(r.top1, 2)) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip()
             for line in table]
    lines.append(f"{len(rows)} of {total} pretrained tags of timm {timm_version} have no entry; "
                 "start one with `leaderboard new TAG` (gmacs: timm's benchmark for the network and "
                 "input size; top1: timm's results-imagenet.csv has none of these tags)")
    return "\n".join(lines)


def missing_json(rows: Iterable[MissingTag], total: int, timm_version: str) -> str:
    """The same as data: ``{"timm_version", "pretrained_tags", "missing", "tags": [...]}``."""
    rows = list(rows)
    payload: dict[str, Any] = {"timm_version": timm_version, "pretrained_tags": total,
                               "missing": len(rows), "tags": [asdict(r) for r in rows]}
    return json.dumps(payload, indent=2)
