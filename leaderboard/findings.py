"""Findings computed from the measured entries: what the board says about energy and accuracy.

Pure functions over plain numbers (numpy; no torch, no site imports), so `leaderboard findings`
and the site's Findings page print the same numbers from the same code:

1. accuracy against energy with three fitted curves, compared by AIC;
2. Spearman rank correlations of energy with GFLOPs, parameters and activations;
3. energy per image at batch 1 over batch 256 (single-stream over offline);
4. the fraction of entries on or near the scoring frontier, by family and year.

Every finding says how many entries it rests on and, below its minimum, how many are missing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leaderboard.scoring import ACCURACY_BAND_POINTS, TIER_BOUNDS, Point, score_board

MEASURE_COMMAND = "leaderboard measure --all"
MEASURE_BOTH_COMMAND = "leaderboard measure --all --scenario offline --scenario single-stream"
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


# --- 1. fitted curves -----------------------------------------------------------------------


@dataclass(frozen=True)
class CurveModel:
    """A model of ln E (energy per image, J) as a function of top-1 a (percent)."""

    name: str
    label: str
    formula: str
    parameters: tuple[str, ...]


EXPONENTIAL = CurveModel("exponential", "single exponential", "E(a) = exp(α + β·a)",
                         ("alpha", "beta"))
DOUBLE_EXPONENTIAL = CurveModel("double-exponential", "double exponential",
                                "E(a) = exp(d + b·exp(c·a))", ("b", "c", "d"))
POWER_LAW = CurveModel("power-law", "power law in the error",
                       "E(a) = exp(α)·(100 − a)^k", ("alpha", "k"))
MODELS = (EXPONENTIAL, DOUBLE_EXPONENTIAL, POWER_LAW)


@dataclass(frozen=True)
class Fit:
    """One model fitted to (top-1, ln E) by least squares in ln E."""

    model: CurveModel
    params: dict[str, float]
    n: int
    rss: float
    tss: float
    centred: tuple[float, float] | None = None
    """Double exponential only: (a_ref, b·exp(c·a_ref)), to predict without overflow."""

    @property
    def k(self) -> int:
        """Estimated parameters, the residual variance included (as AIC counts them)."""
        return len(self.model.parameters) + 1

    @property
    def r2(self) -> float | None:
        """1 - RSS/TSS in ln E; None when every energy is the same."""
        return 1.0 - self.rss / self.tss if self.tss > 0 else None

    @property
    def rmse(self) -> float:
        """Root-mean-square residual in ln E (exp(rmse) is the typical factor off)."""
        return math.sqrt(self.rss / self.n)

    @property
    def aic(self) -> float:
        """Akaike's criterion for Gaussian residuals: n ln(RSS/n) + 2k (lower is better)."""
        # a perfect fit has RSS 0; floor it so AIC stays finite and still ranks it first
        return self.n * math.log(max(self.rss / self.n, 1e-300)) + 2 * self.k

    def log_energy(self, top1: np.ndarray) -> np.ndarray:
        """Predicted ln E at the given top-1 values."""
        p, a = self.params, np.asarray(top1, dtype=float)
        if self.model is EXPONENTIAL:
            return p["alpha"] + p["beta"] * a
        if self.model is DOUBLE_EXPONENTIAL:
            # exp(c·a) overflows for a steep c; the centred form is the same curve
            a_ref, b_ref = self.centred or (0.0, p["b"])
            return p["d"] + b_ref * np.exp(p["c"] * (a - a_ref))
        return p["alpha"] + p["k"] * np.log(100.0 - a)


def _lstsq(columns: Sequence[np.ndarray], y: np.ndarray) -> tuple[np.ndarray, float]:
    design = np.column_stack(columns)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return coef, float(resid @ resid)


def _arrays(top1: Sequence[float], energy_j: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(top1, dtype=float)
    y = np.log(np.asarray(energy_j, dtype=float))
    if a.shape != y.shape or a.size < 3:
        raise ValueError("need at least 3 (top-1, energy) pairs of equal length")
    return a, y


def _tss(y: np.ndarray) -> float:
    centred = y - y.mean()
    return float(centred @ centred)


def fit_exponential(top1: Sequence[float], energy_j: Sequence[float]) -> Fit:
    """E(a) = exp(α + β·a): ln E linear in accuracy."""
    a, y = _arrays(top1, energy_j)
    (alpha, beta), rss = _lstsq([np.ones_like(a), a], y)
    return Fit(EXPONENTIAL, {"alpha": float(alpha), "beta": float(beta)}, a.size, rss, _tss(y))


def fit_power_law(top1: Sequence[float], energy_j: Sequence[float]) -> Fit:
    """E(a) = exp(α)·(100 − a)^k: the top-1 error falls as a power of energy.

    Raises:
        ValueError: When a top-1 is 100 or more (the error must be positive).
    """
    a, y = _arrays(top1, energy_j)
    if np.any(a >= 100.0):
        raise ValueError("power law in the error needs every top-1 below 100")
    (alpha, k), rss = _lstsq([np.ones_like(a), np.log(100.0 - a)], y)
    return Fit(POWER_LAW, {"alpha": float(alpha), "k": float(k)}, a.size, rss, _tss(y))


# c is searched as e-folds of exp(c·a) across the observed accuracy range: from nearly a
# straight line (0.001, where the double exponential becomes the single one) to very convex.
_EFOLDS_GRID = np.geomspace(1e-3, 60.0, 141)
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def fit_double_exponential(top1: Sequence[float], energy_j: Sequence[float]) -> Fit:
    """E(a) = exp(d + b·exp(c·a)) with c > 0: ln E grows exponentially with accuracy.

    For fixed c the model is linear in (d, b), so a log-spaced grid over c with a linear
    least-squares solve each, refined by golden-section search around the best grid point,
    finds the global least-squares fit (no starting values to get wrong). Inside the fit
    accuracy is measured from its maximum so exp() never overflows.
    """
    a, y = _arrays(top1, energy_j)
    a_ref = float(a.max())
    span = max(float(a.max() - a.min()), 1e-9)
    ones = np.ones_like(a)

    def solve(c: float) -> tuple[np.ndarray, float]:
        return _lstsq([ones, np.exp(c * (a - a_ref))], y)

    grid = _EFOLDS_GRID / span
    rss = np.array([solve(c)[1] for c in grid])
    best = int(np.argmin(rss))
    low = math.log(grid[max(best - 1, 0)])
    high = math.log(grid[min(best + 1, grid.size - 1)])
    c = _golden_min(lambda log_c: solve(math.exp(log_c))[1], low, high)
    if solve(c_exp := math.exp(c))[1] > rss[best]:
        c_exp = float(grid[best])
    (d, b_ref), rss_best = solve(c_exp)
    # back to the documented form: b·exp(c·(a - a_ref)) = (b_ref·exp(-c·a_ref))·exp(c·a)
    b = float(b_ref) * math.exp(-c_exp * a_ref)
    return Fit(DOUBLE_EXPONENTIAL, {"b": b, "c": c_exp, "d": float(d)}, a.size, rss_best,
               _tss(y), centred=(a_ref, float(b_ref)))


def _golden_min(f: Callable[[float], float], low: float, high: float, steps: int = 60) -> float:
    """The minimum of a unimodal function on [low, high] by golden-section search."""
    x1, x2 = high - _GOLDEN * (high - low), low + _GOLDEN * (high - low)
    f1, f2 = f(x1), f(x2)
    for _ in range(steps):
        if f1 <= f2:
            high, x2, f2 = x2, x1, f1
            x1 = high - _GOLDEN * (high - low)
            f1 = f(x1)
        else:
            low, x1, f1 = x1, x2, f2
            x2 = low + _GOLDEN * (high - low)
            f2 = f(x2)
    return (low + high) / 2.0


@dataclass(frozen=True)
class FitFinding:
    """Accuracy against energy: the three fits on one board, best first by AIC."""

    entries: int
    needed: int = MIN_FIT_ENTRIES
    fits: list[Fit] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """True when there were enough entries to fit."""
        return bool(self.fits)

    @property
    def best(self) -> Fit | None:
        """The fit with the lowest AIC."""
        return self.fits[0] if self.fits else None

    def delta_aic(self, fit: Fit) -> float:
        """How much worse (higher) a fit's AIC is than the best's."""
        return fit.aic - self.fits[0].aic

    def by_name(self, name: str) -> Fit:
        """The fit of one model."""
        return next(f for f in self.fits if f.model.name == name)

    @property
    def double_exponential_supported(self) -> bool | None:
        """Does the double exponential beat the single one by at least AIC_SUPPORT, with no
        model clearly better than it?"""
        if not self.fits:
            return None
        double = self.by_name("double-exponential")
        gain = self.by_name("exponential").aic - double.aic
        return gain >= AIC_SUPPORT and self.delta_aic(double) < AIC_SUPPORT

    @property
    def sentence(self) -> str:
        """The finding in words, every number from the fits."""
        if not self.ready:
            return shortfall(self.entries, self.needed)
        best, runner = self.fits[0], self.fits[1]
        gap = self.delta_aic(runner)
        if gap < AIC_SUPPORT:
            text = (f"Over {self.entries} entries, the {best.model.label} and the "
                    f"{runner.model.label} fit about equally well (ΔAIC {gap:.1f}, below "
                    f"{AIC_SUPPORT:g}); the {best.model.label} is ahead (R² {_r2(best)}).")
        else:
            text = (f"Over {self.entries} entries, the {best.model.label} describes the data "
                    f"best (R² {_r2(best)}, AIC {gap:.1f} below the {runner.model.label}).")
        double, single = self.by_name("double-exponential"), self.by_name("exponential")
        gain = single.aic - double.aic
        if self.double_exponential_supported:
            text += (f" Yang et al.'s double-exponential growth is supported here: the double "
                     f"exponential beats a single exponential by ΔAIC {gain:.1f}.")
        elif gain >= AIC_SUPPORT:
            text += (f" Yang et al.'s double-exponential growth is not supported here: the "
                     f"double exponential beats a single exponential by ΔAIC {gain:.1f}, but "
                     f"the {best.model.label} fits better still (ΔAIC "
                     f"{self.delta_aic(double):.1f}).")
        elif gain > 0:
            text += (f" Yang et al.'s double-exponential growth is not supported here: the double "
                     f"exponential's AIC is only {gain:.1f} below a single exponential's (at "
                     f"least {AIC_SUPPORT:g} needed).")
        else:
            text += (" Yang et al.'s double-exponential growth is not supported here: the double "
                     f"exponential fits no better than a single exponential (its AIC is "
                     f"{-gain:.1f} higher).")
        return text


def _r2(fit: Fit) -> str:
    return "—" if fit.r2 is None else f"{fit.r2:.3f}"


def fit_curves(entries: Sequence[MeasuredEntry]) -> FitFinding:
    """All three fits over the entries (top-1 below 100), sorted by AIC."""
    usable = [e for e in entries if e.top1 < 100.0 and e.energy_j > 0]
    if len(usable) < MIN_FIT_ENTRIES:
        return FitFinding(len(usable))
    top1 = [e.top1 for e in usable]
    energy = [e.energy_j for e in usable]
    fits = [fit_exponential(top1, energy), fit_double_exponential(top1, energy),
            fit_power_law(top1, energy)]
    return FitFinding(len(usable), fits=sorted(fits, key=lambda f: f.aic))


def curve_points(fit: Fit, top1_low: float, top1_high: float,
                 steps: int = 80) -> list[tuple[float, float]]:
    """(top-1, energy J) along a fitted curve, for drawing it."""
    a = np.linspace(top1_low, top1_high, steps)
    energy = np.exp(fit.log_energy(a))
    return [(float(x), float(e)) for x, e in zip(a, energy, strict=True) if math.isfinite(e)]


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
            low, high = min(within), max(within)
            text += (f" Within the {len(within)} "
                     f"{'family' if len(within) == 1 else 'families'} with at least "
                     f"{MIN_GROUP_ENTRIES} measured entries, ρ with {labels[top]} ranges from "
                     f"{low[0]:.2f} ({low[1]}) to {high[0]:.2f} ({high[1]}).")
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
    for family, members in _groups(entries, lambda e: e.family):
        rows.extend(_group_correlations(family, members))
    return CorrelationFinding(len(entries), rows=rows)


def _groups(items: Sequence[Any], key: Callable[[Any], Any]) -> list[tuple[Any, list[Any]]]:
    """Groups with at least MIN_GROUP_ENTRIES members, largest first then by key."""
    groups: dict[Any, list[Any]] = {}
    for item in items:
        if (k := key(item)) is not None:
            groups.setdefault(k, []).append(item)
    kept = [(k, v) for k, v in groups.items() if len(v) >= MIN_GROUP_ENTRIES]
    return sorted(kept, key=lambda kv: (-len(kv[1]), str(kv[0])))


# --- 3. batching savings --------------------------------------------------------------------


@dataclass(frozen=True)
class RatioStats:
    """Median and quartiles of single-stream / offline energy over one group."""

    group: str
    n: int
    median: float
    q1: float
    q3: float
    low: float
    high: float


def ratio_stats(group: str, ratios: Sequence[float]) -> RatioStats:
    """Median, quartiles (linear interpolation, numpy's default) and range."""
    values = np.asarray(ratios, dtype=float)
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return RatioStats(group, values.size, float(median), float(q1), float(q3),
                      float(values.min()), float(values.max()))


@dataclass(frozen=True)
class SavingsFinding:
    """Batch 1 against batch 256 on the same hardware, per image."""

    pairs: list[SavingsPair]
    needed: int = MIN_SAVINGS_PAIRS
    overall: RatioStats | None = None
    families: list[RatioStats] = field(default_factory=list)

    @property
    def entries(self) -> int:
        """Entries with both records."""
        return len(self.pairs)

    @property
    def ready(self) -> bool:
        """True when there are enough pairs for quartiles."""
        return self.overall is not None

    @property
    def same_precision(self) -> int:
        """Pairs whose two records ran at the same precision."""
        return sum(p.offline_precision == p.single_stream_precision for p in self.pairs)

    @property
    def precisions(self) -> list[str]:
        """Every precision either record of a pair ran at."""
        return sorted({p.offline_precision for p in self.pairs}
                      | {p.single_stream_precision for p in self.pairs})

    @property
    def offline_batches(self) -> list[int]:
        """The offline batch sizes actually used (256, or less after out-of-memory halving)."""
        return sorted({p.offline_batch for p in self.pairs})

    @property
    def sentence(self) -> str:
        """The finding in words."""
        if not self.ready:
            return shortfall(self.entries, self.needed, MEASURE_BOTH_COMMAND)
        s = self.overall
        assert s is not None
        text = (f"Over {s.n} entries, one image at batch 1 costs a median {s.median:.2f}× the "
                f"energy it costs at batch 256 (quartiles {s.q1:.2f}× to {s.q3:.2f}×, range "
                f"{s.low:.2f}× to {s.high:.2f}×).")
        if self.same_precision == len(self.pairs):
            text += (f" Both records of every pair ran at {' and '.join(self.precisions)}, so "
                     "this is the saving of batching alone.")
        else:
            text += (f" In {len(self.pairs) - self.same_precision} of {len(self.pairs)} pairs "
                     "the two records ran at different precisions, so those ratios mix batching "
                     "with precision.")
        return text


def batching_savings(pairs: Sequence[SavingsPair]) -> SavingsFinding:
    """Ratio statistics over all pairs and per family (5+ pairs)."""
    pairs = sorted(pairs, key=lambda p: p.entry_id)
    if len(pairs) < MIN_SAVINGS_PAIRS:
        return SavingsFinding(pairs)
    families = [ratio_stats(family, [p.ratio for p in members])
                for family, members in _groups(pairs, lambda p: p.family)]
    return SavingsFinding(pairs, overall=ratio_stats(ALL_ENTRIES, [p.ratio for p in pairs]),
                          families=families)


# --- 4. frontier fractions ------------------------------------------------------------------


@dataclass(frozen=True)
class FrontierShare:
    """How many entries of a group are on or near the scoring frontier."""

    group: str
    n: int
    on_frontier: int
    """Entries that set the frontier energy at their accuracy (excess factor 1)."""
    near: int
    """Entries within NEAR_FRONTIER_FACTOR of it (tier A), those on it included."""

    @property
    def on_fraction(self) -> float:
        """Share on the frontier."""
        return self.on_frontier / self.n

    @property
    def near_fraction(self) -> float:
        """Share on or near the frontier."""
        return self.near / self.n


@dataclass(frozen=True)
class FrontierFinding:
    """Fractions on or near the frontier, overall, per family and per year where known."""

    entries: int
    needed: int = MIN_FRONTIER_ENTRIES
    overall: FrontierShare | None = None
    families: list[FrontierShare] = field(default_factory=list)
    years: list[FrontierShare] = field(default_factory=list)
    with_year: int = 0

    @property
    def ready(self) -> bool:
        """True when there are enough entries."""
        return self.overall is not None

    @property
    def sentence(self) -> str:
        """The finding in words."""
        if not self.ready:
            return shortfall(self.entries, self.needed)
        s = self.overall
        assert s is not None
        text = (f"Of {s.n} measured entries, {s.on_frontier} ({s.on_fraction:.0%}) set the "
                f"frontier energy at their accuracy and {s.near} ({s.near_fraction:.0%}) are "
                f"within {NEAR_FRONTIER_FACTOR:g}× of it (tier A).")
        if self.families:
            best = max(self.families, key=lambda f: (f.near_fraction, f.n))
            worst = min(self.families, key=lambda f: (f.near_fraction, -f.n))
            text += (f" Among the {len(self.families)} "
                     f"{'family' if len(self.families) == 1 else 'families'} with at least "
                     f"{MIN_GROUP_ENTRIES} entries, {best.group} has the largest share near the "
                     f"frontier ({best.near_fraction:.0%}) and {worst.group} the smallest "
                     f"({worst.near_fraction:.0%}).")
        return text

    @property
    def year_sentence(self) -> str:
        """Whether a year is known, and for how many entries."""
        if self.years:
            return (f"{self.with_year} of {self.entries} measured entries have a year (from an "
                    f"arXiv link in the submission's `model.paper`).")
        return (f"Submissions carry no publication year; a year is read from an arXiv link in "
                f"`model.paper` where there is one. {self.with_year} of {self.entries} measured "
                f"entries have one, too few for a row per year (at least {MIN_GROUP_ENTRIES} "
                "per year needed), so there is no breakdown by year.")


def _share(group: str, members: Sequence[tuple[MeasuredEntry, float]]) -> FrontierShare:
    return FrontierShare(group, len(members),
                         sum(factor == 1.0 for _, factor in members),
                         sum(factor <= NEAR_FRONTIER_FACTOR for _, factor in members))


def frontier_fractions(entries: Sequence[MeasuredEntry],
                       band: float = ACCURACY_BAND_POINTS) -> FrontierFinding:
    """Score the entries as the board does, then count those on and near the frontier."""
    if len(entries) < MIN_FRONTIER_ENTRIES:
        return FrontierFinding(len(entries))
    scores = score_board([Point(e.entry_id, e.top1, e.energy_j) for e in entries], band)
    scored = [(e, scores[e.entry_id].excess_factor) for e in entries]
    families = [_share(f, m) for f, m in _groups(scored, lambda s: s[0].family)]
    years = sorted((_share(str(y), m) for y, m in _groups(scored, lambda s: s[0].year)),
                   key=lambda s: s.group)
    return FrontierFinding(len(entries), overall=_share(ALL_ENTRIES, scored), families=families,
                           years=years, with_year=sum(e.year is not None for e in entries))


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
