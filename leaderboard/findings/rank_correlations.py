"""Finding 2: Spearman rank correlations of energy with GFLOPs, parameters, activations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from leaderboard.findings.common import (
    ALL_ENTRIES,
    MIN_CORRELATION_ENTRIES,
    MIN_GROUP_ENTRIES,
    MeasuredEntry,
    groups_of,
    shortfall,
)
from leaderboard.findings.wording import spread

# --- 2. rank correlations -------------------------------------------------------------------


FACTORS: tuple[tuple[str, str], ...] = (
    ("gflops", "GFLOPs"),
    ("params_m", "parameters"),
    ("activations_m", "activations"),
)


def average_ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n, tied values sharing the average of the ranks they span."""
    _, inverse, counts = np.unique(np.asarray(values, dtype=float), return_inverse=True,
                                   return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + 1 + ends) / 2.0)[inverse]


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's ρ: Pearson's correlation of the average ranks; None when undefined."""
    if len(x) != len(y):
        raise ValueError("x and y differ in length")
    if len(x) < 2:
        return None
    rx, ry = average_ranks(x), average_ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    norm = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry) / norm if norm > 0 else None


@dataclass(frozen=True)
class Correlation:
    """Spearman's ρ of energy with one factor over one group of entries."""

    group: str
    factor: str
    n: int
    rho: float | None


@dataclass(frozen=True)
class CorrelationFinding:
    """How strongly energy tracks each factor, over all entries and per family."""

    entries: int
    needed: int = MIN_CORRELATION_ENTRIES
    rows: list[Correlation] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """True when at least one factor has an overall correlation."""
        return any(r.rho is not None for r in self.overall)

    @property
    def overall(self) -> list[Correlation]:
        """The all-entries row of each factor."""
        return [r for r in self.rows if r.group == ALL_ENTRIES]

    @property
    def families(self) -> list[str]:
        """The families with a row, in order."""
        return list(dict.fromkeys(r.group for r in self.rows if r.group != ALL_ENTRIES))

    def get(self, group: str, factor: str) -> Correlation | None:
        """The row of one group and factor."""
        return next((r for r in self.rows if r.group == group and r.factor == factor), None)

    @property
    def sentence(self) -> str:
        """The finding in words."""
        if not self.ready:
            return shortfall(self.entries, self.needed)
        labels = dict(FACTORS)
        ranked = sorted((r for r in self.overall if r.rho is not None), key=lambda r: -r.rho)
        parts = [f"{labels[r.factor]} (ρ = {r.rho:.2f}, {r.n} entries)" for r in ranked]
        text = "Energy per image ranks most closely with " + parts[0]
        if len(parts) > 1:
            text += ", then " + ", ".join(parts[1:])
        text += "."
        missing = [labels[r.factor] for r in self.overall if r.rho is None]
        if missing:
            text += (f" Too few entries have {' or '.join(missing)} for a correlation "
                     f"(at least {self.needed} needed).")
        top = ranked[0].factor
        within = [(r.rho, g) for g in self.families
                  if (r := self.get(g, top)) is not None and r.rho is not None]
        if within:
            # families whose ρ rounds alike are named together; all alike is said as such
            span, tied = spread(within, lambda w: w[0], lambda w: w[1], ".2f")
            where = (f"Within the {len(within)} "
                     f"{'family' if len(within) == 1 else 'families'} with at least "
                     f"{MIN_GROUP_ENTRIES} measured entries")
            if len(within) == 1:
                text += f" {where}, ρ with {labels[top]} is {within[0][0]:.2f} ({within[0][1]})."
            elif tied:
                text += (f" {where}, ρ with {labels[top]} is {within[0][0]:.2f} in every one "
                         f"(equal to two decimals).")
            else:
                text += f" {where}, ρ with {labels[top]} ranges {span}."
        return text


def _values(entry: MeasuredEntry, factor: str) -> float | None:
    value = getattr(entry, factor)
    return value if value is not None and value > 0 else None


def _group_correlations(group: str, entries: Sequence[MeasuredEntry]) -> list[Correlation]:
    rows = []
    for factor, _ in FACTORS:
        pairs = [(v, e.energy_j) for e in entries if (v := _values(e, factor)) is not None]
        rho = (spearman([p[0] for p in pairs], [p[1] for p in pairs])
               if len(pairs) >= MIN_CORRELATION_ENTRIES else None)
        rows.append(Correlation(group, factor, len(pairs), rho))
    return rows


def correlations(entries: Sequence[MeasuredEntry]) -> CorrelationFinding:
    """Spearman's ρ of energy with each factor, all entries and per family (5+ entries)."""
    rows = _group_correlations(ALL_ENTRIES, entries)
    for family, members in groups_of(entries, lambda e: e.family):
        rows.extend(_group_correlations(family, members))
    return CorrelationFinding(len(entries), rows=rows)
