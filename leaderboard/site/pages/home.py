"""The home page: "Choose a model" over the headline board and its chart, and tier counts."""

from __future__ import annotations

from typing import Any

from leaderboard.boards import Boards
from leaderboard.scoring import TIERS, tier_description
from leaderboard.site import charts, choose
from leaderboard.site.pages.common import Page, render_template, tradeoff_mount
from leaderboard.site.render import PageAssets, board_md, board_title, entry_chart_row, tier_counts

HOME_CHART = "home-tradeoff"


def home_page(data: Boards) -> Page:
    """Home: "Choose a model" over the headline board and its chart, or the claims chart."""
    assets = PageAssets(prefix="")
    board = data.headline_board
    context: dict[str, Any] = {"entries": len(data.entries), "measured": data.measured_count(),
                               "boards": len(data.boards),
                               "families": len({e.family for e in data.entries})}
    if board:
        # the headline board's data file is the board page's own (cached between the two)
        context["headline"] = {
            "title": board_title(board),
            "data_src": choose.table_src(board, ""),
            "chooser_html": choose.chooser_html(data, board, "", "home", HOME_CHART),
            "chart_html": tradeoff_mount(data, board, assets, HOME_CHART, "Accuracy against energy"),
            "link": board_md(board),
        }
        by_tier = tier_counts(data, board)
        context["tier_counts"] = [(t, tier_description(t), by_tier.get(t, 0)) for t in TIERS]
    else:
        rows = [entry_chart_row(e, "") for e in data.entries]
        chart = charts.compute_chart(rows, "gmacs", "GMACs per image (log scale)",
                                     "Claimed top-1 against compute", name="home")
        context["headline"] = None
        context["compute_chart_html"] = assets.chart("home-compute", chart,
                                                     "claimed accuracy against GMACs")
    return "index.md", render_template("home.md.j2", **context), assets.files
