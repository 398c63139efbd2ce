"""Finding 1: accuracy against energy, three fitted curves compared by AIC."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from leaderboard.findings.common import AIC_SUPPORT, MIN_FIT_ENTRIES, MeasuredEntry, shortfall
from leaderboard.findings.wording import beside

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
    centred: tuple[float, float, float] | None = None
    """Double exponential only: (a_ref, ln E at a_ref, slope of ln E at a_ref), the same
    curve as ln E(a_ref) + slope·expm1(c·(a - a_ref))/c, which neither overflows for a steep c
    nor cancels for a nearly straight one."""
    bound: str | None = None
    """Double exponential only: LOWER_BOUND or UPPER_BOUND when the best rate c is a limit of
    the search (the residuals kept falling towards it), else None."""

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
            if self.centred is None:
                return p["d"] + p["b"] * np.exp(p["c"] * a)
            a_ref, at_ref, slope = self.centred
            if self.bound == LOWER_BOUND:  # the c → 0 limit itself: a straight line
                return at_ref + slope * (a - a_ref)
            return at_ref + slope * np.expm1(p["c"] * (a - a_ref)) / p["c"]
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


# c is searched as e-folds of exp(c·a) from a straight line (1e-6 e-folds across the accuracy
# range: the double exponential is then the single one to ~1e-12 in ln E) to a step: 40 e-folds
# across the smallest gap between two distinct accuracies (exp(-40) is 4e-18, so beyond it every
# entry below the top accuracy weighs nothing and the residuals no longer change).
_EFOLDS_LOW = 1e-6
_EFOLDS_STEP = 40.0
_GRID_PER_DECADE = 30
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
LOWER_BOUND = "lower"
"""The rate c went to its lower bound: the curve is the single exponential there."""
UPPER_BOUND = "upper"
"""The rate c went to its upper bound: the curve is a step at the top accuracy."""


def _rate_grid(a: np.ndarray) -> np.ndarray:
    """Log-spaced rates c from the straight-line limit to the step limit of these accuracies."""
    distinct = np.unique(a)
    span = max(float(distinct[-1] - distinct[0]), 1e-9)
    gap = float(np.min(np.diff(distinct))) if distinct.size > 1 else span
    low, high = _EFOLDS_LOW / span, _EFOLDS_STEP / gap
    steps = max(int(math.ceil(math.log10(high / low) * _GRID_PER_DECADE)) + 1, 3)
    return np.geomspace(low, high, steps)


def fit_double_exponential(top1: Sequence[float], energy_j: Sequence[float]) -> Fit:
    """E(a) = exp(d + b·exp(c·a)) with c > 0: ln E grows exponentially with accuracy.

    For fixed c the model is linear in (d, b), so a log-spaced grid over c with a linear
    least-squares solve each, refined by golden-section search around the best grid point,
    finds the least-squares fit (no starting values to get wrong). The grid runs from the
    single-exponential limit (c → 0) to the step limit (c → ∞, every point below the top
    accuracy weighted exp(-40) or less), so an optimum inside is found wherever it lies; when
    the residuals keep falling towards either limit the fit says so in ``bound``. Inside the
    fit accuracy is measured from its maximum so exp() never overflows.
    """
    a, y = _arrays(top1, energy_j)
    a_ref = float(a.max())
    ones = np.ones_like(a)

    def solve(c: float) -> tuple[np.ndarray, float]:
        # expm1(c·x)/c spans the same curves as exp(c·x) with the constant, and tends to x as
        # c → 0, so a nearly straight curve stays well conditioned down to the lower limit
        return _lstsq([ones, np.expm1(c * (a - a_ref)) / c], y)

    grid = _rate_grid(a)
    rss = np.array([solve(c)[1] for c in grid])
    best = int(np.argmin(rss))
    # flat to rounding at the step end means the residuals still fall (or stay) towards c → ∞
    flat = 1e-12 * max(float(rss[best]), _tss(y), 1e-300)
    bound = None
    if rss[-1] - rss[best] <= flat:
        best, bound = grid.size - 1, UPPER_BOUND
    elif best == 0:
        bound = LOWER_BOUND
    c_exp = float(grid[best])
    if bound is None:
        low, high = math.log(grid[best - 1]), math.log(grid[best + 1])
        refined = math.exp(_golden_min(lambda log_c: solve(math.exp(log_c))[1], low, high))
        if solve(refined)[1] <= rss[best]:
            c_exp = refined
    (at_ref, slope), rss_best = solve(c_exp)
    if bound == LOWER_BOUND:
        # the best is the limit c → 0, the single exponential: solved as fit_exponential
        # solves it, so the two residuals agree to the bit and ΔAIC is exactly the parameter
        (alpha, beta), rss_best = _lstsq([ones, a], y)
        at_ref, slope = alpha + beta * a_ref, beta
    # back to the documented form: at_ref + slope·(exp(c·(a - a_ref)) - 1)/c is
    # d + b·exp(c·a) with b = (slope/c)·exp(-c·a_ref) and d = at_ref - slope/c (at the step
    # end exp(-c·a_ref) underflows to 0; predictions use the centred form)
    b = float(slope) / c_exp * math.exp(-c_exp * a_ref)
    d = float(at_ref) - float(slope) / c_exp
    return Fit(DOUBLE_EXPONENTIAL, {"b": b, "c": c_exp, "d": d}, a.size, rss_best,
               _tss(y), centred=(a_ref, float(at_ref), float(slope)), bound=bound)


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
        return _aic_gap(fit.aic, self.fits[0].aic)

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
        gain = _aic_gap(self.by_name("exponential").aic, double.aic)
        return gain >= AIC_SUPPORT and self.delta_aic(double) < AIC_SUPPORT

    @property
    def sentence(self) -> str:
        """The finding in words, every number from the fits; a ΔAIC compared with
        AIC_SUPPORT is shown with as many decimals as keep it on its side of it."""
        if not self.ready:
            return shortfall(self.entries, self.needed)
        best, runner, last = self.fits[0], self.fits[1], self.fits[-1]
        gap, spread = self.delta_aic(runner), self.delta_aic(last)
        support = f"{AIC_SUPPORT:g}"
        if spread < AIC_SUPPORT:
            text = (f"Over {self.entries} entries, all three curves fit about equally well "
                    f"(ΔAIC at most {beside(spread, AIC_SUPPORT)}, below {support}); the "
                    f"{best.model.label} is ahead (R² {_r2(best)}).")
        elif gap < AIC_SUPPORT:
            text = (f"Over {self.entries} entries, the {best.model.label} and the "
                    f"{runner.model.label} fit about equally well (ΔAIC "
                    f"{beside(gap, AIC_SUPPORT)}, below {support}); the {best.model.label} is "
                    f"ahead (R² {_r2(best)}).")
        else:
            text = (f"Over {self.entries} entries, the {best.model.label} describes the data "
                    f"best (R² {_r2(best)}, AIC {beside(gap, AIC_SUPPORT)} below the "
                    f"{runner.model.label}).")
        double, single = self.by_name("double-exponential"), self.by_name("exponential")
        gain = _aic_gap(single.aic, double.aic)
        shown_gain = beside(gain, AIC_SUPPORT)
        if self.double_exponential_supported:
            text += (f" Yang et al.'s double-exponential growth is supported here: the double "
                     f"exponential beats a single exponential by ΔAIC {shown_gain}.")
        elif gain >= AIC_SUPPORT:
            text += (f" Yang et al.'s double-exponential growth is not supported here: the "
                     f"double exponential beats a single exponential by ΔAIC {shown_gain}, but "
                     f"the {best.model.label} fits better still (ΔAIC "
                     f"{beside(self.delta_aic(double), AIC_SUPPORT)}).")
        elif gain > 0:
            text += (f" Yang et al.'s double-exponential growth is not supported here: the double "
                     f"exponential's AIC is only {shown_gain} below a single exponential's (at "
                     f"least {support} needed).")
        else:
            text += (" Yang et al.'s double-exponential growth is not supported here: the double "
                     f"exponential fits no better than a single exponential (its AIC is "
                     f"{-gain:.1f} higher).")
        return text + _bound_note(double)


def _bound_note(double: Fit) -> str:
    """What a double exponential whose rate went to a limit of the search means."""
    if double.bound == LOWER_BOUND:
        return (" Its rate c went to the search's lower limit (c → 0), where the double "
                "exponential is a single exponential: the data show no upward bend.")
    if double.bound == UPPER_BOUND:
        return (" Its rate c went to the search's upper limit (c → ∞): its best curve is a "
                "step that fits the top-accuracy entries alone, not a smooth growth.")
    return ""


def _aic_gap(higher: float, lower: float) -> float:
    """An AIC difference to 9 decimals: floating-point noise (a double exponential at its
    c → 0 limit is 2.0 above the single one, give or take 1e-15) must not decide a ">= 2"."""
    return round(higher - lower, 9)


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
