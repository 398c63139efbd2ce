"""Scoring v1: frontier energy, excess factor, efficiency score and tier. Pure functions.

Per board, for an entry with energy E (J/image) and top-1 accuracy a:

* frontier energy F(a) = min E_j over entries j with a_j >= a - band (band = 0.5 points, so
  accuracies that close count as equal and marginal gains bought with huge energy earn nothing);
* excess factor x = E / F(a) >= 1 (the entry itself is in the set);
* score = 100 / x; tier by the thresholds below.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from leaderboard.vocabulary import ACCURACY_BAND_POINTS

# (tier, largest excess factor in it); G takes everything above the last bound.
TIER_BOUNDS: tuple[tuple[str, float], ...] = (
    ("A", 1.25),
    ("B", 1.6),
    ("C", 2.0),
    ("D", 3.0),
    ("E", 5.0),
    ("F", 10.0),
)
TIERS: tuple[str, ...] = tuple(t for t, _ in TIER_BOUNDS) + ("G",)


@dataclass(frozen=True)
class Point:
    """One measured entry on one board."""

    entry_id: str
    top1: float
    energy_j: float


@dataclass(frozen=True)
class Score:
    """The scoring of one entry on one board."""

    entry_id: str
    frontier_energy_j: float
    excess_factor: float
    score: float
    tier: str
    cheaper_alternative: str | None
    """The entry that sets the frontier energy, when it is not this entry."""


def tier_for(excess_factor: float) -> str:
    """The tier of an excess factor (>= 1)."""
    for tier, bound in TIER_BOUNDS:
        if excess_factor <= bound:
            return tier
    return TIERS[-1]


def tier_description(tier: str) -> str:
    """A sentence that says what a tier means."""
    bounds = dict(TIER_BOUNDS)
    if tier in bounds:
        return (f"uses at most {bounds[tier]:g}x the energy of the most efficient entry of "
                f"equal or better accuracy")
    return (f"uses more than {TIER_BOUNDS[-1][1]:g}x the energy of the most efficient entry of "
            f"equal or better accuracy")


def score_board(points: Sequence[Point], band: float = ACCURACY_BAND_POINTS) -> dict[str, Score]:
    """Score every entry of one board.

    Args:
        points: Measured entries; ids must be unique and energies positive.
        band: Accuracy band in points within which accuracies count as equal.

    Returns:
        Scores by entry id.

    Raises:
        ValueError: On duplicate ids or a non-positive energy.
    """
    ids = [p.entry_id for p in points]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate entry ids on one board")
    if any(not p.energy_j > 0 for p in points):
        raise ValueError("energies must be positive")
    # Sort by accuracy descending; a suffix-minimum over that order answers
    # "cheapest entry with accuracy >= t" in O(log n) per query.
    order = sorted(points, key=lambda p: (-p.top1, p.energy_j, p.entry_id))
    neg_acc = [-p.top1 for p in order]
    best: list[Point] = []
    for p in order:
        if not best or p.energy_j < best[-1].energy_j:
            best.append(p)
        else:
            best.append(best[-1])
    scores: dict[str, Score] = {}
    for p in points:
        # entries with top1 >= p.top1 - band are order[: k]
        k = bisect.bisect_right(neg_acc, -(p.top1 - band))
        frontier = best[k - 1]
        factor = p.energy_j / frontier.energy_j
        cheaper = frontier.entry_id if frontier.energy_j < p.energy_j else None
        scores[p.entry_id] = Score(
            entry_id=p.entry_id,
            frontier_energy_j=frontier.energy_j,
            excess_factor=factor,
            score=100.0 / factor,
            tier=tier_for(factor),
            cheaper_alternative=cheaper,
        )
    return scores


def pareto_frontier(points: Sequence[Point]) -> list[Point]:
    """Entries no other entry beats on both energy (lower) and accuracy (higher or equal).

    Returned sorted by energy ascending, which is also accuracy ascending.
    """
    frontier: list[Point] = []
    for p in sorted(points, key=lambda q: (q.energy_j, -q.top1, q.entry_id)):
        if not frontier or p.top1 > frontier[-1].top1:
            frontier.append(p)
    return frontier
