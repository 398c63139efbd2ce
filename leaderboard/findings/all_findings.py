"""All four findings of one board together, as data for the page, the CLI and downloads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leaderboard.findings.batching import RatioStats, SavingsFinding, batching_savings
from leaderboard.findings.common import (
    ALL_ENTRIES,
    FINDINGS_COMMAND,
    NEAR_FRONTIER_FACTOR,
    SIGNIFICANT_DIGITS,
    MeasuredEntry,
    SavingsPair,
)
from leaderboard.findings.curve_fits import FitFinding, fit_curves
from leaderboard.findings.frontier_shares import FrontierFinding, FrontierShare, frontier_fractions
from leaderboard.findings.rank_correlations import CorrelationFinding, correlations
from leaderboard.vocabulary import ACCURACY_BAND_POINTS

# --- all of them ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Findings:
    """Every finding for one board."""

    board: str | None
    fits: FitFinding
    correlations: CorrelationFinding
    savings: SavingsFinding
    frontier: FrontierFinding
    entries: tuple[MeasuredEntry, ...] = ()
    """The measured entries the findings rest on (for charts; not in :meth:`to_dict`)."""

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON with sorted keys (a few hundred numbers)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False,
                          allow_nan=False) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The numbers as JSON-ready data (6 significant digits), for the CLI and downloads."""
        return {
            "board": self.board,
            "command": FINDINGS_COMMAND,
            "fits": {
                "entries": self.fits.entries, "needed": self.fits.needed,
                "response": "ln(energy J/image) against top-1 (percent)",
                "best": self.fits.best.model.name if self.fits.best else None,
                "double_exponential_supported": self.fits.double_exponential_supported,
                "models": [{
                    "model": f.model.name, "formula": f.model.formula,
                    "params": {k: _round(v) for k, v in f.params.items()},
                    "n": f.n, "k": f.k, "r2": _round(f.r2), "rmse_ln": _round(f.rmse),
                    "aic": _round(f.aic), "delta_aic": _round(self.fits.delta_aic(f)),
                } for f in self.fits.fits],
                "sentence": self.fits.sentence,
            },
            "correlations": {
                "entries": self.correlations.entries, "needed": self.correlations.needed,
                "method": "spearman, average ranks for ties, pairwise complete",
                "rows": [{"group": r.group, "factor": r.factor, "n": r.n, "rho": _round(r.rho)}
                         for r in self.correlations.rows],
                "sentence": self.correlations.sentence,
            },
            "savings": {
                "entries": self.savings.entries, "needed": self.savings.needed,
                "ratio": "single-stream J/image / offline J/image, same hardware",
                "precisions": self.savings.precisions,
                "same_precision": self.savings.same_precision,
                "offline_batches": self.savings.offline_batches,
                "groups": [_stats_dict(s) for s in
                           ([self.savings.overall] if self.savings.overall else [])
                           + self.savings.families],
                "sentence": self.savings.sentence,
            },
            "frontier": {
                "entries": self.frontier.entries, "needed": self.frontier.needed,
                "band_points": ACCURACY_BAND_POINTS, "near_factor": NEAR_FRONTIER_FACTOR,
                "with_year": self.frontier.with_year,
                "groups": [_share_dict(s, "family") for s in
                           ([self.frontier.overall] if self.frontier.overall else [])
                           + self.frontier.families]
                          + [_share_dict(s, "year") for s in self.frontier.years],
                "sentence": self.frontier.sentence,
                "year_sentence": self.frontier.year_sentence,
            },
        }


def _stats_dict(s: RatioStats) -> dict[str, Any]:
    return {"group": s.group, "n": s.n, "median": _round(s.median), "q1": _round(s.q1),
            "q3": _round(s.q3), "min": _round(s.low), "max": _round(s.high)}


def _share_dict(s: FrontierShare, kind: str) -> dict[str, Any]:
    return {"group": s.group, "kind": "all" if s.group == ALL_ENTRIES else kind, "n": s.n,
            "on_frontier": s.on_frontier, "near": s.near,
            "on_fraction": _round(s.on_fraction), "near_fraction": _round(s.near_fraction)}


def _round(value: float | None) -> float | None:
    """Six significant digits: stable across machines, and what the text prints from."""
    return None if value is None else float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def compute_findings(board: str | None, entries: Sequence[MeasuredEntry],
                     pairs: Sequence[SavingsPair]) -> Findings:
    """Every finding from the measured entries of one board and the batching pairs."""
    return Findings(board, fit_curves(entries), correlations(entries), batching_savings(pairs),
                    frontier_fractions(entries), tuple(entries))
