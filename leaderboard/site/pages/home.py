"""The home page: the headline trade-off chart and tier counts."""

from __future__ import annotations

from leaderboard.boards import Boards
from leaderboard.scoring import TIERS, tier_description
from leaderboard.site import charts
from leaderboard.site.pages.common import Page, render_template, tradeoff_chart_html
from leaderboard.site.render import PageAssets, board_title, entry_chart_row, tier_counts


def home_page(data: Boards) -> Page:
    """The home page: headline chart and tier counts, or the claims chart before measurements."""
    assets = PageAssets(prefix="")
    headline = None
    compute_chart_html = ""
    counts: list[tuple[str, str, int]] = []
    board = data.headline_board
    if board:
        headline = {"title": board_title(board),
                    "chart_html": tradeoff_chart_html(data, board, "", assets, "home-tradeoff")}
        by_tier = tier_counts(data, board)
        counts = [(t, tier_description(t), by_tier.get(t, 0)) for t in TIERS]
    else:
        rows = [entry_chart_row(e, "") for e in data.entries]
        chart = charts.compute_chart(rows, "gmacs", "GMACs per image (log scale)",
                                     "Claimed top-1 against compute", name="home")
        compute_chart_html = assets.chart("home-compute", chart, "claimed accuracy against GMACs")
    text = render_template(
        "home.md.j2",
        entries=data.entries,
        measured=data.measured_count(),
        boards=data.boards,
        families=len({e.family for e in data.entries}),
        headline=headline,
        tier_counts=counts,
        compute_chart_html=compute_chart_html,
    )
    return "index.md", text, assets.files
