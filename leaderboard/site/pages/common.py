"""What every page kind shares: the page tuple, template rendering, scored chart rows."""

from __future__ import annotations

from typing import Any

from leaderboard.boards import Boards
from leaderboard.scoring import Point, pareto_frontier
from leaderboard.site import charts
from leaderboard.site.render import PageAssets, board_title, entry_chart_row, environment

Page = tuple[str, str, dict[str, str]]  # docs path, markdown, extra files (path -> text)


def render_template(template: str, **context: Any) -> str:
    """Render one of the package's Jinja templates."""
    return environment().get_template(template).render(**context)


def scored_rows(data: Boards, board: str, prefix: str) -> list[dict[str, Any]]:
    """Chart rows of the entries with a score on ``board``."""
    rows = []
    for entry in data.entries:
        result = entry.results.get(board)
        if result and result.score:
            row = entry_chart_row(entry, prefix)
            row.update(energy_j=result.energy_j, tier=result.score.tier,
                       score=round(result.score.score, 1),
                       gflops=result.record.gflops)
            rows.append(row)
    return rows


def tradeoff_chart_html(data: Boards, board: str, prefix: str, assets: PageAssets,
                        name: str) -> str:
    """The accuracy-against-energy chart of ``board`` with its Pareto frontier."""
    rows = scored_rows(data, board, prefix)
    frontier_ids = {p.entry_id for p in pareto_frontier(
        [Point(r["id"], r["top1"], r["energy_j"]) for r in rows])}
    frontier = sorted((r for r in rows if r["id"] in frontier_ids), key=lambda r: r["energy_j"])
    chart = charts.tradeoff_chart(rows, frontier, f"Accuracy against energy — {board_title(board)}")
    return assets.chart(name, chart, f"accuracy against energy on {board_title(board)}")
