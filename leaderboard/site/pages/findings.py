"""The Findings page: fitted curves, correlations, batching savings, frontier shares."""

from __future__ import annotations

import math
from typing import Any

from leaderboard.boards import Boards
from leaderboard.findings import (
    AIC_SUPPORT,
    ALL_ENTRIES,
    FACTORS,
    FINDINGS_COMMAND,
    MEASURE_BOTH_COMMAND,
    MEASURE_COMMAND,
    MIN_GROUP_ENTRIES,
    MODELS,
    NEAR_FRONTIER_FACTOR,
    Findings,
    FrontierShare,
    curve_points,
)
from leaderboard.site import charts
from leaderboard.site.pages.common import Page, render_template
from leaderboard.site.render import PageAssets, board_title, entry_chart_row, fmt
from leaderboard.vocabulary import ACCURACY_BAND_POINTS

FRONTIER_PARTS = ("on the frontier", f"within {NEAR_FRONTIER_FACTOR:g}× of it")
# A chart with a row per family grows without bound: with every family of the catalog measured
# (98) the three charts by family were 2,600 to 4,200 px tall each and the page 12,800 px. They
# show all entries and the CHART_FAMILIES families with the most measured entries (the findings
# list families largest first); the folded table under each chart has every family.
CHART_FAMILIES = 12
TABLE_SUMMARY = "The chart's numbers, as a table"


def charted_families(families: list[str]) -> tuple[list[str], str | None, str]:
    """The families a chart shows, the chart's subtitle when some are left out (else None),
    and the summary of the folded table under it."""
    shown = families[:CHART_FAMILIES]
    if len(shown) == len(families):
        return shown, None, TABLE_SUMMARY
    return (shown, f"all entries and the {len(shown)} largest of {len(families)} families",
            f"All {len(families)} families, as a table (the chart shows the {len(shown)} "
            "largest)")


def findings_page(data: Boards, found: Findings) -> Page:
    """What the measurements say: fitted curves, correlations, batching, frontier shares.

    Every number comes from ``found`` (:func:`leaderboard.findings.from_boards.board_findings`),
    the same object `leaderboard findings` prints.
    """
    assets = PageAssets(prefix="")
    board = found.board
    rows_by_id = {e.id: entry_chart_row(e, "") for e in data.entries}
    text = render_template(
        "findings.md.j2",
        board=board_title(board) if board else None,
        command=FINDINGS_COMMAND,
        measure_command=MEASURE_COMMAND,
        measure_both_command=MEASURE_BOTH_COMMAND,
        fits=_fits_context(found, rows_by_id, assets),
        correlations=_correlations_context(found, assets),
        savings=_savings_finding_context(found, rows_by_id, assets),
        frontier=_frontier_context(found, assets),
        min_group=MIN_GROUP_ENTRIES,
        band=ACCURACY_BAND_POINTS,
        near=f"{NEAR_FRONTIER_FACTOR:g}",
        aic_support=f"{AIC_SUPPORT:g}",
    )
    return "findings.md", text, assets.files


def _fits_context(found: Findings, rows_by_id: dict[str, dict[str, Any]],
                  assets: PageAssets) -> dict[str, Any]:
    finding = found.fits
    context: dict[str, Any] = {"ready": finding.ready, "sentence": finding.sentence,
                               "models": [{"label": m.label, "formula": m.formula}
                                          for m in MODELS]}
    if not finding.ready or found.board is None:
        return context
    # the curves span the accuracies measured, not beyond: a fit says nothing past its data
    points = [{**rows_by_id[e.entry_id], "energy_j": e.energy_j} for e in found.entries]
    top1s = [e.top1 for e in found.entries if e.top1 < 100.0]  # as fit_curves takes them
    low, high = min(top1s), max(top1s)
    curves = [{"model": fit.model.label, "top1": round(a, 4), "energy_j": energy}
              for fit in finding.fits for a, energy in curve_points(fit, low, high)]
    labels = [m.label for m in MODELS]
    chart = charts.fit_chart(points, curves, labels,
                             f"Accuracy against energy with fitted curves — {board_title(found.board)}")
    context["chart_html"] = assets.chart("findings-fits", chart,
                                         "accuracy against energy with three fitted curves")
    context["rows"] = [{
        "label": fit.model.label, "formula": fit.model.formula,
        "params": ", ".join(f"{k} = {v:.4g}" for k, v in fit.params.items()),
        "r2": fmt(fit.r2, ".3f"), "rmse": f"{fit.rmse:.3f}", "factor": f"{math.exp(fit.rmse):.2f}",
        "aic": f"{fit.aic:.1f}", "delta": f"{finding.delta_aic(fit):.1f}",
        "best": fit is finding.best,
    } for fit in finding.fits]
    return context


def _correlations_context(found: Findings, assets: PageAssets) -> dict[str, Any]:
    finding = found.correlations
    labels = dict(FACTORS)
    groups = [ALL_ENTRIES, *finding.families]
    shown, subtitle, summary = charted_families(finding.families)
    table = []
    for group in groups:
        cells = [finding.get(group, factor) for factor, _ in FACTORS]
        table.append({"group": group, "cells": [
            {"rho": fmt(c.rho, ".2f") if c else "—", "n": c.n if c else 0} for c in cells]})
    context: dict[str, Any] = {"ready": finding.ready, "sentence": finding.sentence,
                               "factors": [label for _, label in FACTORS], "rows": table,
                               "summary": summary}
    if finding.ready:
        charted = [ALL_ENTRIES, *shown]
        cells = [{"group": r.group, "factor": labels[r.factor], "n": r.n,
                  "rho": None if r.rho is None else round(r.rho, 4),
                  "label": fmt(r.rho, ".2f", f"n={r.n}")}
                 for r in finding.rows if r.group in charted]
        chart = charts.correlation_chart(cells, charted, [label for _, label in FACTORS],
                                         "Spearman ρ of energy per image with each factor",
                                         subtitle)
        context["chart_html"] = assets.chart(
            "findings-correlations", chart, "rank correlation of energy with compute figures",
            min_height_px=charts.FINDINGS_ROW_HEIGHT * len(charted) + 90)
    return context


def _savings_finding_context(found: Findings, rows_by_id: dict[str, dict[str, Any]],
                             assets: PageAssets) -> dict[str, Any]:
    finding = found.savings
    stats = ([finding.overall] if finding.overall else []) + finding.families
    shown, subtitle, summary = charted_families([s.group for s in finding.families])
    context: dict[str, Any] = {
        "summary": summary,
        "ready": finding.ready, "sentence": finding.sentence, "pairs": finding.entries,
        "precisions": " and ".join(finding.precisions) or "—",
        "offline_batches": ", ".join(str(b) for b in finding.offline_batches) or "—",
        "rows": [{"group": s.group, "n": s.n, "median": f"{s.median:.2f}",
                  "q1": f"{s.q1:.2f}", "q3": f"{s.q3:.2f}", "low": f"{s.low:.2f}",
                  "high": f"{s.high:.2f}"} for s in stats],
    }
    if finding.ready:
        groups = [ALL_ENTRIES, *shown]
        stats = [s for s in stats if s.group in groups]
        points = []
        for pair in finding.pairs:
            for group in (ALL_ENTRIES, pair.family):
                if group in groups:
                    points.append({**rows_by_id[pair.entry_id], "group": group,
                                   "ratio": round(pair.ratio, 6)})
        chart = charts.ratio_chart(
            [{"group": s.group, "n": s.n, "median": s.median, "q1": s.q1, "q3": s.q3,
              "low": s.low, "high": s.high} for s in stats], points, groups,
            "Energy per image at batch 1 over batch 256", subtitle)
        context["chart_html"] = assets.chart(
            "findings-savings", chart, "batch-1 over batch-256 energy per family",
            min_height_px=int(charts.FINDINGS_ROW_HEIGHT * 1.6 * len(groups)) + 90)
    return context


def _frontier_context(found: Findings, assets: PageAssets) -> dict[str, Any]:
    finding = found.frontier
    shares = ([finding.overall] if finding.overall else []) + finding.families
    shown, subtitle, summary = charted_families([s.group for s in finding.families])
    context: dict[str, Any] = {
        "ready": finding.ready, "sentence": finding.sentence, "summary": summary,
        "year_sentence": finding.year_sentence,
        "rows": [_share_row(s) for s in shares],
        "years": [_share_row(s) for s in finding.years],
    }
    if finding.ready:
        # years stay: one row a year, as many as the years measured (a dozen), not families
        shares = [s for s in shares if s.group in (ALL_ENTRIES, *shown)]
        groups = [s.group for s in shares] + [f"year {s.group}" for s in finding.years]
        rows = []
        for share in [*shares, *finding.years]:
            group = share.group if share in shares else f"year {share.group}"
            for order, (part, count) in enumerate(
                    zip(FRONTIER_PARTS, (share.on_frontier, share.near - share.on_frontier),
                        strict=True)):
                rows.append({"group": group, "part": part, "order": order, "count": count,
                             "n": share.n, "fraction": round(count / share.n, 6)})
        chart = charts.frontier_share_chart(rows, groups, FRONTIER_PARTS,
                                            "Share of entries on or near the frontier", subtitle)
        context["chart_html"] = assets.chart(
            "findings-frontier", chart, "share of entries on or near the frontier per family",
            min_height_px=charts.FINDINGS_ROW_HEIGHT * len(groups) + 110)
    return context


def _share_row(share: FrontierShare) -> dict[str, Any]:
    return {"group": share.group, "n": share.n, "on": share.on_frontier,
            "on_fraction": f"{share.on_fraction:.0%}", "near": share.near,
            "near_fraction": f"{share.near_fraction:.0%}"}
