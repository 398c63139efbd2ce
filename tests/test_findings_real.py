"""The findings on real-shaped data: published timm accuracies and RTX 5090 throughput
(tests/data/findings/README.md says where each number comes from).

Each subset below was picked because it shows one case the sentences must word exactly: a
double exponential whose rate runs to either limit, a gain of 1.97 AIC beside the 2 needed,
three fits within 2 AIC, families whose ρ are all 1.00 to two decimals. The fits are checked
against scipy's least squares where scipy is installed (it is no runtime dependency).
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest

from leaderboard.findings import (
    MeasuredEntry,
    SavingsPair,
    batching_savings,
    correlations,
    fit_curves,
    fit_double_exponential,
    frontier_fractions,
)
from leaderboard.findings.curve_fits import LOWER_BOUND, UPPER_BOUND
from leaderboard.findings.wording import beside

DATA = Path(__file__).parent / "data" / "findings" / "timm_rtx5090_throughput.csv"
BOARD_POWER_W = 575.0  # RTX 5090; J/image = W / (images/s), a proxy (see the README)


def _entries() -> list[MeasuredEntry]:
    with DATA.open(newline="") as fh:
        return [MeasuredEntry(r["id"], r["family"], float(r["top1"]),
                              BOARD_POWER_W / float(r["infer_samples_per_sec"]),
                              gflops=2 * float(r["gmacs"]), params_m=float(r["params_m"]))
                for r in csv.DictReader(fh)]


ENTRIES = _entries()
BY_TOP1 = sorted(ENTRIES, key=lambda e: e.top1)


def strided(start: int, n: int) -> list[MeasuredEntry]:
    """n entries, every 7th from ``start`` (a deterministic, irregular subset)."""
    return [ENTRIES[(start + 7 * i) % len(ENTRIES)] for i in range(n)]


SUBSETS = {
    "all": ENTRIES,
    "gain 1.97": strided(3, 31),
    "all three within 2": strided(0, 10),
    "rate to its lower limit": strided(5, 10),
    "rate to its upper limit": BY_TOP1[-10:],
}


def test_the_data_is_what_its_readme_says() -> None:
    assert len(ENTRIES) == 79 and len({e.entry_id for e in ENTRIES}) == 79
    assert all(40.0 < e.top1 < 90.0 and 0.0 < e.energy_j < 2.0 for e in ENTRIES)
    assert {"resnet", "vision_transformer", "deit", "convnext"} <= {e.family for e in ENTRIES}


@pytest.mark.parametrize("name", list(SUBSETS))
def test_double_exponential_is_at_least_as_good_as_scipys_optimum(name: str) -> None:
    optimize = pytest.importorskip("scipy.optimize")
    subset = SUBSETS[name]
    a = np.array([e.top1 for e in subset])
    y = np.log([e.energy_j for e in subset])
    fit = fit_double_exponential(a, np.exp(y))
    a_ref, span = a.max(), a.max() - a.min()
    best = math.inf
    for c0 in np.geomspace(1e-3, 1e3, 9) / span:  # many starts: scipy's is a local search
        result = optimize.least_squares(
            lambda p: p[0] + p[1] * np.exp(p[2] * (a - a_ref)) - y, [y.mean(), 0.1, c0],
            bounds=([-np.inf, -np.inf, 0.0], [np.inf, np.inf, np.inf]),
            xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=5000)
        best = min(best, float(result.fun @ result.fun))
    # AIC n·ln(RSS/n): ours may be lower (scipy stops short of a limit), never higher
    assert len(a) * math.log(fit.rss / best) <= 1e-9
    # and the reported rss is the residual of the reported curve
    resid = y - fit.log_energy(a)
    assert float(resid @ resid) == pytest.approx(fit.rss, rel=1e-9, abs=1e-12)


def test_a_rate_at_either_limit_is_said_and_the_curve_is_that_limit() -> None:
    low = fit_curves(SUBSETS["rate to its lower limit"])
    double, single = low.by_name("double-exponential"), low.by_name("exponential")
    assert double.bound == LOWER_BOUND
    # c → 0 is the single exponential: the same residuals to the bit, one parameter more,
    # so ΔAIC is 2 exactly and the sentence cannot fall either side of it by rounding noise
    assert double.rss == single.rss
    assert low.delta_aic(double) - low.delta_aic(single) == 2.0
    assert "ΔAIC 1.9999" not in low.sentence and "2.0" in low.sentence
    assert "lower limit (c → 0)" in low.sentence and "no upward bend" in low.sentence

    high = fit_curves(SUBSETS["rate to its upper limit"])
    double = high.by_name("double-exponential")
    assert double.bound == UPPER_BOUND
    top = [e for e in SUBSETS["rate to its upper limit"]
           if e.top1 == max(x.top1 for x in SUBSETS["rate to its upper limit"])]
    # a step: the top-accuracy entry is fitted exactly, the others at their mean
    assert double.log_energy(np.array([top[0].top1]))[0] == pytest.approx(
        math.log(top[0].energy_j), abs=1e-9)
    assert "upper limit (c → ∞)" in high.sentence and "step" in high.sentence
    # an interior optimum says nothing about limits
    assert fit_curves(ENTRIES).by_name("double-exponential").bound is None
    assert "limit" not in fit_curves(ENTRIES).sentence


def test_no_number_rounds_across_the_threshold_it_is_compared_with() -> None:
    assert beside(1.9646, 2.0) == "1.96"
    assert beside(2.04, 2.0) == "2.0" and beside(2.0, 2.0) == "2.0"
    assert beside(1.99996, 2.0) == "1.99996" and beside(0.4, 2.0) == "0.4"
    found = fit_curves(SUBSETS["gain 1.97"])
    gain = found.by_name("exponential").aic - found.by_name("double-exponential").aic
    assert 1.95 < gain < 2.0  # the real case: 1.965 would print as "2.0" at one decimal
    sentence = found.sentence
    assert f"only {beside(gain, 2.0)} below a single exponential's" in sentence
    assert "only 2.0 below" not in sentence
    for subset in SUBSETS.values():
        sentence = fit_curves(subset).sentence
        # every "below 2" claim shows a number under 2; every "by ΔAIC x" gain shows >= 2
        for shown in re.findall(r"ΔAIC (?:at most )?(\d+\.\d+), below 2", sentence):
            assert float(shown) < 2.0, sentence
        for shown in re.findall(r"by ΔAIC (\d+\.\d+)", sentence):
            assert float(shown) >= 2.0, sentence
        for shown in re.findall(r"only (\d+\.\d+) below", sentence):
            assert float(shown) < 2.0, sentence


def test_three_fits_within_2_aic_are_all_said_to_fit_equally_well() -> None:
    found = fit_curves(SUBSETS["all three within 2"])
    assert found.delta_aic(found.fits[-1]) < 2.0
    assert "all three curves fit about equally well" in found.sentence
    assert "the single exponential and the" not in found.sentence
    # two within 2 and the third beyond: only those two are named
    found = fit_curves(SUBSETS["rate to its lower limit"])
    assert found.delta_aic(found.fits[1]) < 2.0 <= found.delta_aic(found.fits[2])
    assert (f"the {found.fits[0].model.label} and the {found.fits[1].model.label} fit about "
            "equally well") in found.sentence


def test_correlations_that_round_alike_are_worded_as_a_tie() -> None:
    tied = [e for e in ENTRIES if e.family in {"vision_transformer", "deit", "convnext"}]
    sentence = correlations(tied).sentence
    assert "ρ with parameters is 1.00 in every one (equal to two decimals)" in sentence
    assert "ranges from 1.00" not in sentence
    # all five families: a real range, both ends named, the three tied at 1.00 together
    sentence = correlations(ENTRIES).sentence
    assert re.search(r"ranges from 0\.94 \(efficientnet\) to 1\.00 \(([a-z_]+, ){2}[a-z_]+\)",
                     sentence), sentence


def test_frontier_shares_range_names_both_ends_and_a_tie_is_said() -> None:
    sentence = frontier_fractions(ENTRIES).sentence
    assert "the share near the frontier ranges from 3% (resnet) to 83% (convnext)" in sentence
    # two families of five entries with the same accuracies and energies: equal shares
    same = [MeasuredEntry(f"{fam}{i}", fam, 70.0 + i, 0.01 * (1 + i) * (1 + 4 * (i % 2)))
            for fam in ("a", "b") for i in range(5)]
    found = frontier_fractions(same)
    shares = {f.group: f"{f.near_fraction:.0%}" for f in found.families}
    assert len(set(shares.values())) == 1, shares
    assert f"every one has the same share near the frontier ({shares['a']})" in found.sentence
    assert "ranges" not in found.sentence


def test_batching_ratios_that_round_alike_are_one_figure_not_a_range() -> None:
    pairs = [SavingsPair(f"e{i}", "fam", 0.01, 0.01 * (1.0 + i * 1e-4), 256, 1, "fp16", "fp16")
             for i in range(6)]
    sentence = batching_savings(pairs).sentence
    assert "costs 1.00× the energy it costs at batch 256 for every entry" in sentence
    assert "1.00× to 1.00×" not in sentence
    spread_pairs = [SavingsPair(f"e{i}", "fam", 0.01, 0.01 * (2.0 + i), 256, 1, "fp16", "fp16")
                    for i in range(6)]
    assert "range 2.00× to 7.00×" in batching_savings(spread_pairs).sentence
