"""Pages that show boards: home (chooser and headline chart), one page per board, trade-offs.

Each board's rows are written once (``assets/data/<board>.js``, :mod:`leaderboard.site.choose`)
and feed that board's table, charts and "Choose a model" answer in the browser.
"""

from __future__ import annotations

from typing import Any

from leaderboard.scoring import TIERS, tier_description
from leaderboard.site import charts, choose
from leaderboard.site.data import SiteData
from leaderboard.site.render import (
    PageAssets,
    board_md,
    board_title,
    entry_chart_row,
    environment,
    tier_counts,
)

Page = tuple[str, str, dict[str, str]]  # docs path, markdown, extra files (path -> text)
HOME_CHART = "home-tradeoff"
BOARD_CHART = "board-tradeoff"


def _render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def _families(data: SiteData, board: str) -> list[str]:
    return sorted({e.family for e in data.entries if board in e.results})


def _family_rows(data: SiteData, board: str) -> list[dict[str, Any]]:
    # Only the families reach the spec (its family picker); the rows come from the table.
    return [{"family": f} for f in _families(data, board)]


def tradeoff_mount(data: SiteData, board: str, assets: PageAssets, name: str, title: str,
                   lazy: bool = False) -> str:
    """The accuracy/energy chart of a board, drawn from the board's table data."""
    chart = charts.tradeoff_chart(_family_rows(data, board), [], title)
    spec = charts.ChartSpec(chart.chart, {})
    return assets.chart(name, spec, f"accuracy against energy on {board_title(board)}",
                        table=choose.table_name(board), lazy=lazy)


def _board_table_files(data: SiteData, board: str, assets: PageAssets) -> tuple[str, int, int]:
    """Write a board's table and detail files; returns the table's src, rows and scored rows."""
    table, details = choose.board_table(data, board)
    assets.table(choose.details_name(board), details)
    scored = sum(r[4] is not None for r in table["rows"])
    return assets.table(choose.table_name(board), table), len(table["rows"]), scored


def home_page(data: SiteData) -> Page:
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
    return "index.md", _render("home.md.j2", **context), assets.files


def board_page(data: SiteData, board: str) -> Page:
    """One board: chooser, cost settings, chart and the table of every record on it."""
    assets = PageAssets(prefix="../")
    data_src, entries, scored = _board_table_files(data, board, assets)
    title = f"Leaderboard: {board_title(board)}"
    chart_name = f"{BOARD_CHART}-{choose.table_name(board)}"  # spec files are per board
    text = _render(
        "board.md.j2", title=title, board_title=board_title(board), entries=entries,
        scored=scored, data_src=data_src,
        table=choose.table_name(board), prefix="../",
        chooser_html=choose.chooser_html(data, board, "../", "board", chart_name),
        chart_html=tradeoff_mount(data, board, assets, chart_name,
                                  f"Accuracy against energy — {board_title(board)}"),
        other_boards=[{"title": board_title(b), "link": f"{b}.md"} for b in data.boards
                      if b != board],
    )
    return board_md(board), text, assets.files


def tradeoffs_page(data: SiteData, savings_rows: list[dict[str, Any]]) -> Page:
    """Trade-offs: one board at a time (its data load when it is chosen), then the claims.

    Args:
        data: The site data.
        savings_rows: Batch-1 against batch-256 rows (one per entry with both).
    """
    assets = PageAssets(prefix="")
    boards = []
    for index, board in enumerate(data.boards):
        title = board_title(board)
        families = _family_rows(data, board)
        table = choose.table_name(board)
        gmacs_chart = charts.compute_chart(
            families, "gmacs", "GMACs per image (log)", f"Energy against compute — {title}",
            y_field="energy_j", y_title="energy per image (J, log)", name=f"b{index}g")
        params_chart = charts.compute_chart(
            families, "params_m", "parameters (M, log)", f"Energy against parameters — {title}",
            y_field="energy_j", y_title="energy per image (J, log)", name=f"b{index}p")
        boards.append({
            "board": board, "title": title,
            "tradeoff_html": tradeoff_mount(data, board, assets, f"tradeoff-{index}",
                                            f"Accuracy against energy — {title}", lazy=True),
            "energy_vs_gmacs_html": assets.chart(
                f"energy-gmacs-{index}", charts.ChartSpec(gmacs_chart.chart, {}),
                f"energy against GMACs on {title}", table=table, lazy=True, details=True),
            "energy_vs_params_html": assets.chart(
                f"energy-params-{index}", charts.ChartSpec(params_chart.chart, {}),
                f"energy against parameters on {title}", table=table, lazy=True,
                details=True),
        })
    savings_html = ""
    if savings_rows:
        savings_html = assets.chart("batch-savings", charts.savings_chart(
            savings_rows, "Batch 1 against batch 256, per image"),
            "batch-1 against batch-256 energy", lazy=True)
    rows = [entry_chart_row(e, "") for e in data.entries]
    acc_gmacs = assets.chart("acc-gmacs", charts.compute_chart(
        rows, "gmacs", "GMACs per image (log)", "Claimed top-1 against GMACs", name="ag"),
        "claimed accuracy against GMACs", lazy=True)
    acc_params = assets.chart("acc-params", charts.compute_chart(
        rows, "params_m", "parameters (M, log)", "Claimed top-1 against parameters", name="ap"),
        "claimed accuracy against parameters", lazy=True)
    text = _render("tradeoffs.md.j2", boards=boards, headline=data.headline_board,
                   savings_html=savings_html, acc_vs_gmacs_html=acc_gmacs,
                   acc_vs_params_html=acc_params)
    return "tradeoffs.md", text, assets.files


def batch_savings_rows(data: SiteData) -> list[dict[str, Any]]:
    """One row per entry with both an offline and a single-stream record on one hardware."""
    rows = []
    for entry in data.entries:
        for board, result in sorted(entry.results.items()):
            if not board.endswith("--offline") or not result.score:
                continue
            single = entry.results.get(board.replace("--offline", "--single-stream"))
            if single and single.score and single.energy_j and result.energy_j:
                row = entry_chart_row(entry, "")
                row["ratio"] = single.energy_j / result.energy_j
                rows.append(row)
                break
    return rows
