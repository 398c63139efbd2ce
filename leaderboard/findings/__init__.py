"""Findings computed from the measured entries: what the board says about energy and accuracy.

Pure functions over plain numbers (numpy; no torch, no site imports), so `leaderboard findings`
and the site's Findings page print the same numbers from the same code, one module each:

1. ``curve_fits``: accuracy against energy with three fitted curves, compared by AIC;
2. ``rank_correlations``: Spearman rank correlations of energy with GFLOPs, parameters and activations;
3. ``batching``: energy per image at batch 1 over batch 256 (single-stream over offline);
4. ``frontier_shares``: the fraction of entries on or near the scoring frontier, by family and year.

Every finding says how many entries it rests on and, below its minimum, how many are missing.
``from_boards`` picks the inputs from scored boards, ``all_findings`` holds the four together
and ``text`` prints them for the command line.
"""

from leaderboard.findings.all_findings import Findings, compute_findings
from leaderboard.findings.batching import RatioStats, SavingsFinding, batching_savings
from leaderboard.findings.common import (
    AIC_SUPPORT,
    ALL_ENTRIES,
    FINDINGS_COMMAND,
    MEASURE_BOTH_COMMAND,
    MEASURE_COMMAND,
    MIN_GROUP_ENTRIES,
    NEAR_FRONTIER_FACTOR,
    MeasuredEntry,
    SavingsPair,
    year_from_paper,
)
from leaderboard.findings.curve_fits import (
    MODELS,
    FitFinding,
    curve_points,
    fit_curves,
    fit_double_exponential,
    fit_exponential,
    fit_power_law,
)
from leaderboard.findings.frontier_shares import FrontierFinding, FrontierShare, frontier_fractions
from leaderboard.findings.rank_correlations import (
    FACTORS,
    CorrelationFinding,
    average_ranks,
    correlations,
    spearman,
)

__all__ = [
    "AIC_SUPPORT", "ALL_ENTRIES", "FACTORS", "FINDINGS_COMMAND", "MEASURE_BOTH_COMMAND",
    "MEASURE_COMMAND", "MIN_GROUP_ENTRIES", "MODELS", "NEAR_FRONTIER_FACTOR", "CorrelationFinding",
    "Findings", "FitFinding", "FrontierFinding", "FrontierShare", "MeasuredEntry", "RatioStats",
    "SavingsFinding", "SavingsPair", "average_ranks", "batching_savings", "compute_findings",
    "correlations", "curve_points", "fit_curves", "fit_double_exponential", "fit_exponential",
    "fit_power_law", "frontier_fractions", "spearman", "year_from_paper",
]
