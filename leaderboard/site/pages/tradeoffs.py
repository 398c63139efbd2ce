"""The trade-offs page: one board at a time (its data load when it is chosen), then the claims."""

from __future__ import annotations

from typing import Any

from leaderboard.boards import Boards
from leaderboard.site import charts, choose
from leaderboard.site.pages.common import Page, family_rows, render_template, tradeoff_mount
from leaderboard.site.render import PageAssets, board_title, entry_chart_row


def tradeoffs_page(data: Boards) -> Page:
    """Trade-offs: one board at a time (its data load when it is chosen), then the claims."""
    assets = PageAssets(prefix="")
    # the claimed-accuracy charts and the batching chart draw every entry (the batching one
    # those with a ratio), and the boards' compute charts take GMACs and parameters from the
    # same rows: they are sent once, for all of them
    savings_rows = batch_savings_rows(data)
    # three significant figures: the tooltip shows two decimals
    ratios = {row["id"]: choose.sig(row["ratio"], 3) for row in savings_rows}
    # top-1 to two decimals, as the tooltips show it (the third was 5 KB gzip at 10,000)
    rows = [{**entry_chart_row(e, ""), "top1": round(e.top1, 2), "ratio": ratios.get(e.id)}
            for e in data.entries]
    entries = assets.dataset("entries", rows)
    boards = []
    for index, board in enumerate(data.boards):
        title = board_title(board)
        families = family_rows(data, board)
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
                f"energy against GMACs on {title}", table=table, lazy=True, join=entries),
            "energy_vs_params_html": assets.chart(
                f"energy-params-{index}", charts.ChartSpec(params_chart.chart, {}),
                f"energy against parameters on {title}", table=table, lazy=True,
                join=entries),
        })
    claims = {"points": entries}
    savings_html = ""
    if savings_rows:
        savings_html = assets.chart("batch-savings", charts.ChartSpec(charts.savings_chart(
            savings_rows, "Batch 1 against batch 256, per image").chart, {}),
            "batch-1 against batch-256 energy", lazy=True, shared=claims)
    acc_gmacs = assets.chart("acc-gmacs", charts.compute_chart(
        rows, "gmacs", "GMACs per image (log)", "Claimed top-1 against GMACs", name="ag"),
        "claimed accuracy against GMACs", lazy=True, shared=claims)
    acc_params = assets.chart("acc-params", charts.compute_chart(
        rows, "params_m", "parameters (M, log)", "Claimed top-1 against parameters", name="ap"),
        "claimed accuracy against parameters", lazy=True, shared=claims)
    text = render_template("tradeoffs.md.j2", boards=boards, headline=data.headline_board,
                   savings_html=savings_html, acc_vs_gmacs_html=acc_gmacs,
                   acc_vs_params_html=acc_params)
    return "tradeoffs.md", text, assets.files


def batch_savings_rows(data: Boards) -> list[dict[str, Any]]:
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
