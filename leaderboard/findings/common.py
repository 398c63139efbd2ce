"""What every finding shares: the commands it points to, its minimum sizes, its inputs."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from leaderboard.scoring import TIER_BOUNDS
from leaderboard.vocabulary import SCENARIOS

MEASURE_COMMAND = "leaderboard measure --all"
MEASURE_BOTH_COMMAND = MEASURE_COMMAND + "".join(f" --scenario {s}" for s in SCENARIOS)
FINDINGS_COMMAND = "leaderboard findings"

# A 3-parameter curve through fewer points than this says more about the noise than the field.
MIN_FIT_ENTRIES = 10
MIN_CORRELATION_ENTRIES = 5
MIN_SAVINGS_PAIRS = 5
MIN_FRONTIER_ENTRIES = 5
# Families (and years) with fewer measured entries get no row of their own.
MIN_GROUP_ENTRIES = 5
ALL_ENTRIES = "all entries"
NEAR_FRONTIER_FACTOR = TIER_BOUNDS[0][1]  # tier A: at most 1.25x the frontier energy
# ΔAIC below 2 is the usual "no real support for either" line (Burnham & Anderson).
AIC_SUPPORT = 2.0
SIGNIFICANT_DIGITS = 6


def shortfall(have: int, needed: int, command: str = MEASURE_COMMAND) -> str:
    """The message a finding shows until it has enough entries."""
    return (f"Not enough measured entries yet: {have} of {needed} needed. "
            f"`{command}` produces them.")


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredEntry:
    """One entry measured on the board the findings are computed for."""

    entry_id: str
    family: str
    top1: float
    """Top-1 used for scoring, percent."""
    energy_j: float
    """Median gross energy per image, J."""
    gflops: float | None = None
    params_m: float | None = None
    activations_m: float | None = None
    year: int | None = None
    """Publication year where known (from an arXiv link), else None."""


@dataclass(frozen=True)
class SavingsPair:
    """An entry's offline and single-stream records on the same hardware."""

    entry_id: str
    family: str
    offline_j: float
    single_stream_j: float
    offline_batch: int
    single_stream_batch: int
    offline_precision: str
    single_stream_precision: str

    @property
    def ratio(self) -> float:
        """Single-stream J/image over offline J/image (above 1: batching saves)."""
        return self.single_stream_j / self.offline_j


_ARXIV_ID = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{2})(\d{2})\.\d{4,5}", re.IGNORECASE)


def year_from_paper(url: str | None) -> int | None:
    """The year of an arXiv paper link (new-style ids start with YYMM), else None."""
    match = _ARXIV_ID.search(url or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return 2000 + int(match.group(1))


def groups_of(items: Sequence[Any], key: Callable[[Any], Any]) -> list[tuple[Any, list[Any]]]:
    """Groups with at least MIN_GROUP_ENTRIES members, largest first then by key."""
    groups: dict[Any, list[Any]] = {}
    for item in items:
        if (k := key(item)) is not None:
            groups.setdefault(k, []).append(item)
    kept = [(k, v) for k, v in groups.items() if len(v) >= MIN_GROUP_ENTRIES]
    return sorted(kept, key=lambda kv: (-len(kv[1]), str(kv[0])))
