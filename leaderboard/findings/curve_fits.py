"""Finding 1: accuracy against energy, three fitted curves compared by AIC."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from leaderboard.findings.common import AIC_SUPPORT, MIN_FIT_ENTRIES, MeasuredEntry, shortfall

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
