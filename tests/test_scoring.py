"""Scoring v1: frontier energy within a 0.5-point accuracy band, excess factor, score and tier."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaderboard.scoring import (
    ACCURACY_BAND_POINTS,
    TIER_BOUNDS,
    TIERS,
    Point,
    pareto_frontier,
    score_board,
    tier_description,
    tier_for,
)


def board(*entries):
    """score_board over (id, top1, energy) triples."""
    return score_board([Point(entry_id, top1, energy) for entry_id, top1, energy in entries])


# ---------------------------------------------------------------------------------------------
# Examples


def test_band_is_half_a_point():
    assert ACCURACY_BAND_POINTS == 0.5
    assert TIERS == ("A", "B", "C", "D", "E", "F", "G")


@pytest.mark.parametrize("bound, tier, next_tier", [
    (1.25, "A", "B"), (1.6, "B", "C"), (2.0, "C", "D"), (3.0, "D", "E"), (5.0, "E", "F"), (10.0, "F", "G"),
])
def test_tier_boundaries_belong_to_the_better_tier(bound, tier, next_tier):
    assert tier_for(bound) == tier
    assert tier_for(bound * (1 + 1e-9)) == next_tier
    # The same through score_board: an entry at exactly `bound` times the frontier energy.
    scores = board(("cheap", 80.0, 1.0), ("at", 80.0, bound), ("above", 80.0, bound + 1e-9))
    assert (scores["at"].excess_factor, scores["at"].tier) == (bound, tier)
    assert scores["at"].score == pytest.approx(100 / bound)
    assert scores["above"].tier == next_tier


def test_tier_descriptions():
    assert tier_description("B") == ("uses at most 1.6x the energy of the most efficient entry of "
                                     "equal or better accuracy")
    assert tier_description("G").startswith("uses more than 10x the energy")


def test_single_entry_is_tier_a_with_score_100():
    score = board(("only", 71.2, 0.37))["only"]
    assert (score.excess_factor, score.score, score.tier) == (1.0, 100.0, "A")
    assert score.frontier_energy_j == 0.37
    assert score.cheaper_alternative is None


@pytest.mark.parametrize("accuracy_gain", [0.4, 0.6, 5.0])
def test_a_cheaper_more_accurate_entry_always_sets_the_frontier(accuracy_gain):
    scores = board(("me", 80.0, 2.0), ("better", 80.0 + accuracy_gain, 0.5))
    assert scores["me"].frontier_energy_j == 0.5
    assert scores["me"].excess_factor == 4.0
    assert scores["me"].cheaper_alternative == "better"
    assert scores["better"].tier == "A"


@pytest.mark.parametrize("accuracy_loss, counts", [(0.4, True), (0.5, True), (0.6, False), (3.0, False)])
def test_a_cheaper_less_accurate_entry_counts_only_within_the_band(accuracy_loss, counts):
    # F(a) = min E_j over a_j >= a - 0.5: up to half a point less accurate counts as equal.
    scores = board(("me", 80.0, 2.0), ("cheaper", 80.0 - accuracy_loss, 1.0))
    me = scores["me"]
    if counts:
        assert (me.frontier_energy_j, me.excess_factor, me.tier) == (1.0, 2.0, "C")
        assert me.cheaper_alternative == "cheaper"
    else:
        assert (me.frontier_energy_j, me.excess_factor, me.tier) == (2.0, 1.0, "A")
        assert me.cheaper_alternative is None
    assert scores["cheaper"].tier == "A"


def test_more_expensive_entries_never_affect_a_cheaper_one():
    scores = board(("cheap", 70.0, 0.1), ("mid", 75.0, 0.5), ("pricey", 70.2, 9.0))
    assert scores["cheap"].excess_factor == 1.0
    assert scores["mid"].excess_factor == 1.0
    assert scores["pricey"].cheaper_alternative == "cheap"
    assert scores["pricey"].excess_factor == pytest.approx(90.0)
    assert scores["pricey"].tier == "G"


def test_cheaper_alternative_is_the_cheapest_in_band_and_prefers_the_more_accurate():
    scores = board(("me", 80.0, 10.0), ("a", 79.8, 3.0), ("b", 81.0, 2.0), ("c", 85.0, 2.0),
                   ("far", 70.0, 0.01))
    me = scores["me"]
    assert me.frontier_energy_j == 2.0
    assert me.cheaper_alternative == "c"  # ties with "b" on energy, more accurate
    assert me.excess_factor == 5.0 and me.tier == "E"
    assert me.score == 20.0


def test_ties_in_energy_and_accuracy():
    scores = board(("twin1", 80.0, 1.0), ("twin2", 80.0, 1.0), ("same_energy_worse", 79.0, 1.0))
    for entry_id in scores:
        assert scores[entry_id].excess_factor == 1.0
        assert scores[entry_id].tier == "A"
        assert scores[entry_id].cheaper_alternative is None


def test_duplicate_ids_raise():
    with pytest.raises(ValueError, match="duplicate entry ids"):
        board(("x", 80.0, 1.0), ("y", 81.0, 2.0), ("x", 79.0, 0.5))


@pytest.mark.parametrize("energy", [0.0, -1.0, float("nan")])
def test_non_positive_energy_raises(energy):
    with pytest.raises(ValueError, match="energies must be positive"):
        board(("x", 80.0, 1.0), ("y", 81.0, energy))


def test_empty_board():
    assert score_board([]) == {}
    assert pareto_frontier([]) == []


def test_pareto_frontier_example():
    points = [Point("a", 70.0, 0.1), Point("b", 69.0, 0.2), Point("c", 75.0, 0.5), Point("d", 75.0, 0.5),
              Point("e", 80.0, 3.0), Point("f", 78.0, 4.0)]
    assert [p.entry_id for p in pareto_frontier(points)] == ["a", "c", "e"]


def test_pareto_frontier_entry_can_miss_tier_a_because_of_the_band():
    # "near" is on the Pareto frontier (nothing is cheaper AND as accurate), but an entry only
    # 0.3 points worse costs a third: within the band that counts as equally accurate.
    points = [Point("near", 80.0, 3.0), Point("cheap", 79.7, 1.0)]
    assert [p.entry_id for p in pareto_frontier(points)] == ["cheap", "near"]
    assert score_board(points)["near"].excess_factor == 3.0
    assert score_board(points, band=0.0)["near"].excess_factor == 1.0


# ---------------------------------------------------------------------------------------------
# Properties

ACCURACY = st.integers(0, 100_000).map(lambda n: n / 1000)  # 3 decimals, 0..100
ENERGY = st.floats(1e-4, 1e3)  # J/image; bounded, so no nan or inf
POINT = st.tuples(ACCURACY, ENERGY)
BOARDS = st.lists(POINT, min_size=1, max_size=30).map(
    lambda pairs: [Point(f"e{i:02d}", top1, energy) for i, (top1, energy) in enumerate(pairs)])
BANDS = st.sampled_from([0.0, ACCURACY_BAND_POINTS, 2.0])
SETTINGS = settings(max_examples=100, deadline=None)


def oracle_frontier(points, point, band):
    """The definition, by brute force: F(a) = min E_j over a_j >= a - band."""
    return min(q.energy_j for q in points if q.top1 >= point.top1 - band)


@SETTINGS
@given(BOARDS, BANDS)
def test_scores_match_the_definition(points, band):
    scores = score_board(points, band=band)
    assert set(scores) == {p.entry_id for p in points}
    for p in points:
        s = scores[p.entry_id]
        frontier = oracle_frontier(points, p, band)
        assert s.frontier_energy_j == frontier
        assert s.excess_factor == p.energy_j / frontier
        assert s.excess_factor >= 1.0
        assert s.score == 100.0 / s.excess_factor and 0 < s.score <= 100.0
        assert s.tier == tier_for(s.excess_factor)
        if s.cheaper_alternative is None:
            assert s.excess_factor == 1.0
        else:
            alt = next(q for q in points if q.entry_id == s.cheaper_alternative)
            assert alt.energy_j == frontier < p.energy_j
            assert alt.top1 >= p.top1 - band


@SETTINGS
@given(BOARDS)
def test_pareto_frontier_entries_are_tier_a_without_a_band(points):
    # With the default band this does not hold (see the example above).
    scores = score_board(points, band=0.0)
    frontier = pareto_frontier(points)
    assert frontier
    for p in frontier:
        assert scores[p.entry_id].excess_factor == 1.0
        assert scores[p.entry_id].tier == "A"
    assert [p.energy_j for p in frontier] == sorted(p.energy_j for p in frontier)
    assert [p.top1 for p in frontier] == sorted(p.top1 for p in frontier)
    # ...and nothing off the frontier beats a frontier entry on both axes.
    for q in points:
        assert not any(q.energy_j < p.energy_j and q.top1 >= p.top1 for p in frontier)


@SETTINGS
@given(BOARDS)
def test_cheapest_entry_is_always_tier_a(points):
    scores = score_board(points)
    cheapest = min(p.energy_j for p in points)
    for p in points:
        if p.energy_j == cheapest:
            assert scores[p.entry_id].excess_factor == 1.0


@SETTINGS
@given(BOARDS, st.data())
def test_adding_a_dominated_entry_changes_no_other_score(points, data):
    base = score_board(points)
    k = data.draw(st.sampled_from(points), label="dominating entry")
    top1 = data.draw(st.integers(0, round(k.top1 * 1000)).map(lambda n: n / 1000), label="top1")
    energy = data.draw(st.floats(k.energy_j, 1e3, allow_nan=False), label="energy")
    scores = score_board([*points, Point("dominated", top1, energy)])
    for entry_id, before in base.items():
        after = scores[entry_id]
        assert (after.frontier_energy_j, after.excess_factor, after.score, after.tier) == (
            before.frontier_energy_j, before.excess_factor, before.score, before.tier)


@SETTINGS
@given(BOARDS, ACCURACY, st.lists(ENERGY, min_size=2, max_size=6))
def test_at_equal_accuracy_score_falls_as_energy_rises(points, top1, energies):
    extra = [Point(f"same{i}", top1, energy) for i, energy in enumerate(energies)]
    scores = score_board([*points, *extra])
    ranked = sorted(extra, key=lambda p: p.energy_j)
    for cheaper, dearer in zip(ranked, ranked[1:], strict=False):
        assert scores[cheaper.entry_id].score >= scores[dearer.entry_id].score
        assert TIERS.index(scores[cheaper.entry_id].tier) <= TIERS.index(scores[dearer.entry_id].tier)
        assert scores[cheaper.entry_id].frontier_energy_j == scores[dearer.entry_id].frontier_energy_j


@SETTINGS
@given(BOARDS, st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_input_order(points, rnd):
    shuffled = list(points)
    rnd.shuffle(shuffled)
    assert score_board(shuffled) == score_board(points)
    assert pareto_frontier(shuffled) == pareto_frontier(points)


def test_tier_bounds_are_increasing():
    bounds = [bound for _, bound in TIER_BOUNDS]
    assert bounds == sorted(bounds) and bounds[0] > 1.0
    assert [tier_for(b) for b in bounds] == list(TIERS[:-1])
    assert tier_for(10.0001) == tier_for(1e6) == "G"
