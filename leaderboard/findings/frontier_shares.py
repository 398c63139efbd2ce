"""Finding 4: the share of entries on or near the scoring frontier, by family and year."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from leaderboard.findings.common import (
    ALL_ENTRIES,
    MIN_FRONTIER_ENTRIES,
    MIN_GROUP_ENTRIES,
    NEAR_FRONTIER_FACTOR,
    MeasuredEntry,
    groups_of,
    shortfall,
)
from leaderboard.findings.wording import spread
from leaderboard.scoring import Point, score_board
from leaderboard.vocabulary import ACCURACY_BAND_POINTS

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
            among = (f" Among the {len(self.families)} "
                     f"{'family' if len(self.families) == 1 else 'families'} with at least "
                     f"{MIN_GROUP_ENTRIES} entries, ")
            span, tied = spread(self.families, lambda f: f.near_fraction, lambda f: f.group,
                                ".0%")
            if len(self.families) == 1:
                f = self.families[0]
                text += f"{among}{f.group} has {f.near_fraction:.0%} near the frontier."
            elif tied:
                text += (f"{among}every one has the same share near the frontier "
                         f"({self.families[0].near_fraction:.0%}).")
            else:
                # ties at either end are all named ("a, b") rather than one picked
                text += f"{among}the share near the frontier ranges {span}."
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
    families = [_share(f, m) for f, m in groups_of(scored, lambda s: s[0].family)]
    years = sorted((_share(str(y), m) for y, m in groups_of(scored, lambda s: s[0].year)),
                   key=lambda s: s.group)
    return FrontierFinding(len(entries), overall=_share(ALL_ENTRIES, scored), families=families,
                           years=years, with_year=sum(e.year is not None for e in entries))
