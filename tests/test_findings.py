"""The Findings: fits, rank correlations, batching ratios, frontier shares, CLI and page.

The computation tests use inputs whose answers can be read off (or are generated from known
parameters); the page and CLI tests use the session's synthetic site (conftest.py).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from leaderboard import findings
from leaderboard.boards import load_boards
from leaderboard.cli import cli
from leaderboard.errors import ProblemsFound
from leaderboard.findings import (
    MeasuredEntry,
    SavingsPair,
    average_ranks,
    batching_savings,
    compute_findings,
    correlations,
    fit_curves,
    fit_double_exponential,
    fit_exponential,
    fit_power_law,
    frontier_fractions,
    spearman,
    year_from_paper,
)
from leaderboard.findings.from_boards import board_findings
from leaderboard.site import pages
from leaderboard.testing import write_synthetic_tree

# --- helpers --------------------------------------------------------------------------------

TRUE_PARAMS = {
    "exponential": {"alpha": -30.0, "beta": 0.35},
    "double-exponential": {"b": 1.88e-4, "c": 0.12, "d": -6.25},
    "power-law": {"alpha": 8.0, "k": -4.0},
}


def log_energy_of(model: str, a: np.ndarray) -> np.ndarray:
    p = TRUE_PARAMS[model]
    if model == "exponential":
        return p["alpha"] + p["beta"] * a
    if model == "double-exponential":
        return p["d"] + p["b"] * np.exp(p["c"] * a)
    return p["alpha"] + p["k"] * np.log(100.0 - a)


def generated(model: str, n: int = 400, noise: float = 0.03, seed: int = 1
              ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.uniform(60.0, 88.0, n)
    return a, np.exp(log_energy_of(model, a) + rng.normal(0.0, noise, n))


def entry(entry_id: str, top1: float, energy_j: float, family: str = "fam",
          **extra: float | int | None) -> MeasuredEntry:
    return MeasuredEntry(entry_id=entry_id, family=family, top1=top1, energy_j=energy_j,
                         **extra)  # type: ignore[arg-type]


def pair(entry_id: str, ratio: float, family: str = "fam", offline_j: float = 0.01,
         precisions: tuple[str, str] = ("fp16", "fp16")) -> SavingsPair:
    return SavingsPair(entry_id, family, offline_j, offline_j * ratio, 256, 1, *precisions)


# --- 1. fits --------------------------------------------------------------------------------

FITTERS = {"exponential": fit_exponential, "double-exponential": fit_double_exponential,
           "power-law": fit_power_law}


@pytest.mark.parametrize("model", list(TRUE_PARAMS))
def test_each_fit_recovers_the_parameters_of_data_from_its_model(model: str) -> None:
    a, energy = generated(model)
    fit = FITTERS[model](a, energy)
    for name, true in TRUE_PARAMS[model].items():
        assert fit.params[name] == pytest.approx(true, rel=0.05), name
    assert fit.r2 is not None and fit.r2 > 0.99
    assert fit.rmse == pytest.approx(0.03, rel=0.15)  # the noise put in, in ln E
    # the fitted curve is the true curve over the data's range
    grid = np.linspace(60, 88, 50)
    assert np.max(np.abs(fit.log_energy(grid) - log_energy_of(model, grid))) < 0.05


@pytest.mark.parametrize("model", list(TRUE_PARAMS))
def test_aic_picks_the_model_that_generated_the_data(model: str) -> None:
    a, energy = generated(model)
    found = fit_curves([entry(f"e{i}", x, e) for i, (x, e) in enumerate(zip(a, energy, strict=True))])
    assert found.best is not None and found.best.model.name == model
    assert [f.aic for f in found.fits] == sorted(f.aic for f in found.fits)
    if model == "double-exponential":
        assert found.double_exponential_supported
        assert "is supported here" in found.sentence
    else:
        assert not found.double_exponential_supported
        assert "is not supported here" in found.sentence


def test_fit_statistics_follow_their_definitions() -> None:
    a, energy = generated("power-law", n=50, noise=0.2, seed=3)
    fit = fit_power_law(a, energy)
    y = np.log(energy)
    resid = y - fit.log_energy(a)
    rss = float(resid @ resid)
    assert fit.rmse == pytest.approx(math.sqrt(rss / 50))
    assert fit.r2 == pytest.approx(1 - rss / float(((y - y.mean()) ** 2).sum()))
    assert fit.k == 3  # alpha, k and the residual variance
    assert fit.aic == pytest.approx(50 * math.log(rss / 50) + 2 * 3)


def test_double_exponential_never_fits_worse_than_the_single_one_it_nests() -> None:
    a, energy = generated("exponential", noise=0.05)
    single, double = fit_exponential(a, energy), fit_double_exponential(a, energy)
    assert double.rss <= single.rss * 1.0001
    assert double.aic - single.aic <= 2.0 + 0.01  # at most the price of one more parameter


def test_power_law_refuses_top1_of_100() -> None:
    with pytest.raises(ValueError, match="below 100"):
        fit_power_law([50.0, 70.0, 100.0], [0.1, 0.2, 0.3])


def test_findings_of_thousands_of_entries_in_many_families_are_all_ready() -> None:
    # How the time grows with the entries is benchmarks/findings_scale.py's question.
    a, energy = generated("double-exponential", n=2_000, noise=0.3)
    entries = [entry(f"e{i}", float(x), float(e), family=f"f{i % 40}",
                     gflops=float(e) * 3, params_m=float(e) * 7, activations_m=None)
               for i, (x, e) in enumerate(zip(a, energy, strict=True))]
    pairs = [pair(f"e{i}", 2.0 + i % 7) for i in range(400)]
    found = compute_findings("b--offline", entries, pairs)
    assert found.fits.ready and found.correlations.ready and found.frontier.ready
    assert found.fits.best is not None and len(found.correlations.families) == 40
    assert found.savings.overall is not None and found.savings.overall.n == 400


# --- 2. rank correlations -------------------------------------------------------------------


def test_average_ranks_share_ties() -> None:
    assert average_ranks([10, 20, 20, 5, 20]).tolist() == [2.0, 4.0, 4.0, 1.0, 4.0]


def test_spearman_matches_a_hand_computed_case_with_ties() -> None:
    # ranks x: 1, 2.5, 2.5, 4, 5; ranks y: 1, 2, 3.5, 3.5, 5; centred products sum to 8.75,
    # both sums of squares are 9.5
    assert spearman([1, 2, 2, 3, 4], [10, 20, 30, 30, 50]) == pytest.approx(8.75 / 9.5)


def test_spearman_edge_cases() -> None:
    assert spearman([1, 2, 3, 4], [1, 8, 27, 1000]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [5, 5, 5]) is None
    assert spearman([1], [2]) is None
    with pytest.raises(ValueError):
        spearman([1, 2], [1])


def test_correlations_overall_and_per_family_with_enough_entries() -> None:
    entries = [entry(f"a{i}", 70, 0.01 * (i + 1), family="big", gflops=float(i + 1),
                     params_m=float(10 - i)) for i in range(6)]
    entries += [entry(f"b{i}", 70, 0.5 * (i + 1), family="small", gflops=float(i + 1))
                for i in range(3)]
    found = correlations(entries)
    assert found.families == ["big"]  # "small" has 3 entries, fewer than 5
    big = found.get("big", "gflops")
    assert big is not None and big.rho == pytest.approx(1.0) and big.n == 6
    params = found.get("big", "params_m")
    assert params is not None and params.rho == pytest.approx(-1.0)
    overall = found.get(findings.ALL_ENTRIES, "gflops")
    assert overall is not None and overall.n == 9
    expected = spearman([e.gflops for e in entries], [e.energy_j for e in entries])
    assert overall.rho == pytest.approx(expected)
    activations = found.get(findings.ALL_ENTRIES, "activations_m")
    assert activations is not None and (activations.n, activations.rho) == (0, None)
    assert "Too few entries have activations" in found.sentence


# --- 3. batching savings --------------------------------------------------------------------


def test_savings_ratio_statistics_on_a_known_input() -> None:
    ratios = [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    found = batching_savings([pair(f"e{i}", r, family="a" if i < 5 else "b")
                              for i, r in enumerate(ratios)])
    s = found.overall
    assert s is not None
    # numpy's linear quartiles: positions 1.25, 2.5, 3.75 of 0..5
    assert (s.n, s.median, s.q1, s.q3, s.low, s.high) == (6, 7.0, 4.5, 9.5, 2.0, 12.0)
    assert [(f.group, f.n, f.median) for f in found.families] == [("a", 5, 6.0)]
    assert found.same_precision == 6 and found.precisions == ["fp16"]
    assert "median 7.00×" in found.sentence and "batching alone" in found.sentence


def test_savings_says_when_a_pair_mixes_precisions() -> None:
    pairs = [pair(f"e{i}", 3.0) for i in range(4)] + [pair("x", 5.0,
                                                           precisions=("fp16", "fp32"))]
    found = batching_savings(pairs)
    assert found.same_precision == 4
    assert "In 1 of 5 pairs the two records ran at different precisions" in found.sentence


# --- 4. frontier fractions ------------------------------------------------------------------


def test_frontier_fractions_on_a_hand_scored_board() -> None:
    entries = [
        entry("a", 80.0, 1.0),    # cheapest at >= 79.5: on
        entry("b", 79.8, 1.1),    # a (80 >= 79.3) is cheaper: 1.1x, near
        entry("c", 70.0, 0.1),    # on
        entry("d", 75.0, 0.5),    # on
        entry("e", 74.8, 2.0),    # d is cheaper: 4x, neither
        entry("f", 60.0, 0.05),   # on
    ]
    found = frontier_fractions(entries)
    s = found.overall
    assert s is not None and (s.n, s.on_frontier, s.near) == (6, 4, 5)
    assert [(f.group, f.on_frontier, f.near) for f in found.families] == [("fam", 4, 5)]
    assert found.years == [] and found.with_year == 0
    assert "4 (67%) set the frontier energy" in found.sentence
    assert "no breakdown by year" in found.year_sentence


def test_frontier_by_year_where_a_year_is_known() -> None:
    entries = [entry(f"e{i}", 70 + i, 0.1 * (i + 1), year=2021 if i < 5 else None)
               for i in range(7)]
    found = frontier_fractions(entries)
    assert [(y.group, y.n) for y in found.years] == [("2021", 5)]
    assert found.with_year == 5 and "5 of 7 measured entries have a year" in found.year_sentence


def test_year_from_an_arxiv_link() -> None:
    assert year_from_paper("https://arxiv.org/abs/2110.00476") == 2021
    assert year_from_paper("https://arxiv.org/pdf/1512.03385v1") == 2015
    assert year_from_paper("https://arxiv.org/abs/2113.00001") is None  # month 13
    assert year_from_paper("https://openreview.net/forum?id=x") is None
    assert year_from_paper(None) is None


# --- too few records ------------------------------------------------------------------------


def test_zero_records_say_how_many_are_missing_and_how_to_measure() -> None:
    found = compute_findings(None, [], [])
    for finding, needed in [(found.fits, 10), (found.correlations, 5), (found.savings, 5),
                            (found.frontier, 5)]:
        assert not finding.ready
        assert f"Not enough measured entries yet: 0 of {needed} needed." in finding.sentence
        assert "`leaderboard measure --all" in finding.sentence
    assert "--scenario single-stream" in found.savings.sentence
    data = found.to_dict()
    assert data["fits"]["models"] == [] and data["savings"]["groups"] == []
    assert json.loads(found.to_json()) == data


def test_too_few_for_a_fit_but_enough_for_the_rest() -> None:
    entries = [entry(f"e{i}", 60 + 3 * i, 0.01 * 2 ** i, gflops=float(i + 1))
               for i in range(7)]
    found = compute_findings("b--offline", entries, [])
    assert found.fits.sentence.startswith("Not enough measured entries yet: 7 of 10 needed.")
    assert found.correlations.ready and found.frontier.ready


# --- CLI and page ---------------------------------------------------------------------------


def test_cli_json_equals_the_pages_numbers(synthetic_site: Path,
                                           synthetic_site_tree: Path) -> None:
    result = CliRunner().invoke(cli, ["findings", "--submissions", str(synthetic_site_tree),
                                      "--allow-synthetic", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == json.loads((synthetic_site / "downloads/findings.json").read_text("utf-8"))
    page = html.unescape((synthetic_site / "findings.html").read_text("utf-8"))
    for key in ("fits", "correlations", "savings", "frontier"):
        assert printed[key]["sentence"] in page, key
    assert printed["board"] == "synthetic-gpu--offline"
    assert len(printed["fits"]["models"]) == 3
    for model in printed["fits"]["models"]:
        assert model["formula"] in page
        assert f"{model['aic']:.1f}" in page and f"{model['r2']:.3f}" in page
    overall = printed["savings"]["groups"][0]
    assert overall["group"] == "all entries" and f"{overall['median']:.2f}×" in page
    assert "leaderboard findings" in page


def test_cli_text_has_every_finding(synthetic_site_tree: Path) -> None:
    result = CliRunner().invoke(cli, ["findings", "--submissions", str(synthetic_site_tree),
                                      "--allow-synthetic"])
    assert result.exit_code == 0, result.output
    for heading in ("1. Accuracy against energy", "2. Spearman", "3. Energy per image",
                    "4. Entries on or near the frontier"):
        assert heading in result.output
    assert "double exponential" in result.output and "all entries" in result.output


def test_cli_refuses_synthetic_records_without_the_flag(synthetic_site_tree: Path) -> None:
    result = CliRunner().invoke(cli, ["findings", "--submissions", str(synthetic_site_tree)])
    assert isinstance(result.exception, ProblemsFound)


def test_cli_and_page_with_no_records(tmp_path: Path) -> None:
    submissions = write_synthetic_tree(tmp_path, 4, single_stream_every=0)
    for record in submissions.glob("*/measurements/*.json"):
        record.unlink()
    result = CliRunner().invoke(cli, ["findings", "--submissions", str(submissions)])
    assert result.exit_code == 0, result.output
    assert "Not enough measured entries yet: 0 of 10 needed" in result.output
    data = load_boards(submissions)
    path, text, files = pages.findings_page(data, board_findings(data))
    assert path == "findings.md" and files == {}  # no chart, so no vega bundle either
    assert text.count('!!! info "Not enough data"') == 4
    assert "`leaderboard measure --all`" in text
    assert "`leaderboard measure --all --scenario offline --scenario single-stream`" in text


def test_findings_page_in_the_built_site(synthetic_site: Path) -> None:
    page = html.unescape((synthetic_site / "findings.html").read_text("utf-8"))
    for spec in ("findings-fits", "findings-correlations", "findings-savings",
                 "findings-frontier"):
        assert f'data-spec="{spec}"' in page
        assert (synthetic_site / f"assets/charts/{spec}.js").is_file()
    assert "Not enough measured entries" not in page
    assert "same precision" in page and 'href="energy.html#what-each-switch-saves"' in page
    assert "Submissions carry no publication year" in page
    nav = html.unescape((synthetic_site / "index.html").read_text("utf-8"))
    assert 'href="findings.html"' in nav


def test_a_long_tie_names_four_and_counts_the_rest() -> None:
    """53 families tied at 0% near the frontier made one sentence of 16 lines (issue 22)."""
    from leaderboard.findings.wording import names_at, spread

    def at(items: list[tuple[str, float]]) -> str:
        return spread(items, lambda i: i[1], lambda i: i[0], ".0%")[0]

    few = [(f"f{i}", 0.0) for i in range(5)] + [("top", 0.6)]
    assert at(few) == "from 0% (f0, f1, f2, f3, f4) to 60% (top)"
    many = [(f"f{i:02d}", 0.0) for i in range(53)] + [("top", 0.6)]
    assert at(many) == "from 0% (f00, f01, f02, f03 and 49 more) to 60% (top)"
    assert names_at(many, lambda i: f"{i[1]:.0%}", lambda i: i[0], "60%") == "top"
    # in a finding's sentence: six families all on the frontier, one far above it
    entries = [MeasuredEntry(f"{fam}{i}", fam, 70.0 + i, 1.0 + i) for fam in "abcdef"
               for i in range(5)] + [MeasuredEntry(f"z{i}", "z", 70.0 + i, 100.0 * (1 + i))
                                     for i in range(5)]
    assert ("the share near the frontier ranges from 0% (z) to 100% (a, b, c, d and 2 more)."
            in frontier_fractions(entries).sentence)


def test_findings_charts_with_a_subtitle_are_valid_vega_lite() -> None:
    """The subtitle saying which families a chart shows (the build skips validation)."""
    from leaderboard.site import charts
    from leaderboard.site.pages.findings import CHART_FAMILIES, charted_families

    families = [f"f{i:02d}" for i in range(CHART_FAMILIES + 3)]
    shown, subtitle, summary = charted_families(families)
    assert shown == families[:CHART_FAMILIES]
    assert subtitle == f"all entries and the {CHART_FAMILIES} largest of {len(families)} families"
    assert summary == (f"All {len(families)} families, as a table (the chart shows the "
                       f"{CHART_FAMILIES} largest)")
    assert charted_families(families[:2]) == (families[:2], None, "The chart's numbers, as a table")
    groups = ["all entries", *shown]
    specs = [
        charts.correlation_chart([{"group": g, "factor": "GFLOPs", "n": 5, "rho": 0.5,
                                   "label": "0.50"} for g in groups], groups, ["GFLOPs"],
                                 "t", subtitle),
        charts.ratio_chart([{"group": g, "n": 5, "median": 2.0, "q1": 1.5, "q3": 3.0,
                             "low": 1.0, "high": 4.0} for g in groups], [], groups, "t", subtitle),
        charts.frontier_share_chart([{"group": g, "part": "on", "order": 0, "fraction": 0.2,
                                      "count": 1, "n": 5} for g in groups], groups, ["on"],
                                    "t", subtitle),
    ]
    for spec in specs:
        assert spec.to_dict(validate=True)["title"] == {"text": "t", "subtitle": subtitle}
