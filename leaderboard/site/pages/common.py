"""What every page kind shares: the page tuple, template rendering, board charts."""

from __future__ import annotations

from typing import Any

from leaderboard.boards import Boards
from leaderboard.site import charts, choose
from leaderboard.site.render import PageAssets, board_title, environment

Page = tuple[str, str, dict[str, str]]  # docs path, markdown, extra files (path -> text)


def render_template(template: str, **context: Any) -> str:
    """Render one of the package's Jinja templates."""
    return environment().get_template(template).render(**context)


def family_rows(data: Boards, board: str) -> list[dict[str, Any]]:
    """One row per family measured on ``board``: all a table-fed chart's spec needs (its
    family picker); the points come from the board's table data in the browser."""
    return [{"family": f} for f in sorted({e.family for e in data.entries if board in e.results})]


def tradeoff_mount(data: Boards, board: str, assets: PageAssets, name: str, title: str,
                   lazy: bool = False) -> str:
    """The accuracy/energy chart of ``board``, drawn from the board's table data.

    The Pareto frontier comes with the table (:func:`leaderboard.site.choose.board_table`).
    """
    chart = charts.tradeoff_chart(family_rows(data, board), [], title)
    spec = charts.ChartSpec(chart.chart, {})
    return assets.chart(name, spec, f"accuracy against energy on {board_title(board)}",
                        table=choose.table_name(board), lazy=lazy)
