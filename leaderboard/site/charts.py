"""Chart builders: rows (plain dicts) -> Altair charts. Pure functions, no I/O.

Every selection parameter is named explicitly: Altair numbers anonymous ones from a global
counter, which would make the same input render different bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt

from leaderboard.scoring import TIERS
from leaderboard.vocabulary import TIER_COLORS

CHART_WIDTH = "container"
CHART_HEIGHT = 420

Row = dict[str, Any]

# The wheel alone scrolls the page; shift + wheel zooms (leaderboard.js adds a reset button).
ZOOM_WHEEL = "wheel![event.shiftKey]"


def _zoom(name: str) -> alt.Parameter:
    """Pan by dragging, zoom with shift + wheel, bound to the scales."""
    return alt.selection_interval(name=name, bind="scales", zoom=ZOOM_WHEEL)


@dataclass(frozen=True)
class ChartSpec:
    """An Altair chart over named datasets, and the datasets' rows.

    Rows are kept out of the Altair object: validating and converting thousands of inline
    rows through Altair's schema machinery took seconds per chart, while the chart's structure
    is all that needs validating. The rows join the spec as Vega-Lite top-level ``datasets``.
    """

    chart: alt.TopLevelMixin
    datasets: dict[str, list[Row]]

    def to_dict(self, validate: bool = True) -> dict[str, Any]:
        """The Vega-Lite spec with the rows inlined; ``validate`` checks the structure."""
        spec = self.chart.to_dict(validate=validate)
        spec["datasets"] = {**spec.get("datasets", {}), **self.datasets}
        return spec


def _tooltip(*extra: alt.Tooltip) -> list[alt.Tooltip]:
    return [
        alt.Tooltip("id:N", title="model"),
        alt.Tooltip("family:N"),
        alt.Tooltip("top1:Q", title="top-1 (%)", format=".2f"),
        *extra,
        alt.Tooltip("params_m:Q", title="params (M)", format=".1f"),
        alt.Tooltip("gmacs:Q", title="GMACs", format=".2f"),
    ]


def _family_filter(families: Sequence[str], name: str) -> alt.Parameter:
    options = [None, *sorted(set(families))]
    labels = ["all families", *sorted(set(families))]
    return alt.selection_point(
        name=name,
        fields=["family"],
        bind=alt.binding_select(options=options, labels=labels, name="Family "),
    )


def tradeoff_chart(rows: Sequence[Row], frontier: Sequence[Row], title: str) -> ChartSpec:
    """Accuracy against energy per image (log axis), tiers coloured, with the Pareto frontier.

    Args:
        rows: One dict per scored entry with id, family, top1, energy_j, tier, url,
            params_m, gmacs. Empty when the page feeds the chart from its table
            (leaderboard.js fills the ``points`` and ``frontier`` datasets).
        frontier: The Pareto-frontier rows, sorted by energy.
        title: Chart title.

    Interactions: hover tooltips; click a legend tier to filter; pick a family; drag to pan and
    shift + wheel to zoom; click a point to open the model page. "Choose a model" sets the
    ``min_top1`` signal (entries below it fade, a rule marks it) and ``answer_id`` (the answer
    is ringed); frontier points carry their names.
    """
    tier_pick = alt.selection_point(name="tier_pick", fields=["tier"], bind="legend")
    family_pick = _family_filter([r["family"] for r in rows], "family_pick")
    zoom = _zoom("zoom")
    min_top1 = alt.param(name="min_top1", value=0)
    answer_id = alt.param(name="answer_id", value="")
    label_split = alt.param(name="label_split", value=0.35)
    x = alt.X("energy_j:Q", title="energy per image (J, log scale)",
              scale=alt.Scale(type="log"))
    y = alt.Y("top1:Q", title="ImageNet top-1 (%)", scale=alt.Scale(zero=False))
    both = tier_pick & family_pick
    below = "datum.top1 < min_top1"
    points = (
        alt.Chart(alt.Data(name="points"))
        .mark_circle(size=60, stroke="#333", strokeWidth=0.3)
        .encode(
            x=x,
            y=y,
            color=alt.Color("tier:N", title="tier",
                            scale=alt.Scale(domain=list(TIERS),
                                            range=[TIER_COLORS[t] for t in TIERS])),
            opacity=alt.when(below).then(alt.value(0.08))
            .when(both).then(alt.value(0.9)).otherwise(alt.value(0.06)),
            tooltip=_tooltip(alt.Tooltip("energy_j:Q", title="energy (J/image)", format=".4g"),
                             alt.Tooltip("tier:N"),
                             alt.Tooltip("score:Q", title="score", format=".1f")),
            href="url:N",
        )
        .add_params(tier_pick, family_pick, zoom, min_top1, answer_id, label_split)
    )
    frontier_line = (
        alt.Chart(alt.Data(name="frontier"))
        .mark_line(interpolate="step-after", color="#888", strokeDash=[4, 3], strokeWidth=1.5)
        .encode(x=x, y=y, order="energy_j:Q")
    )
    # names of the frontier entries: the points a visitor would choose between. Up and to the
    # left of a frontier point nothing is drawn (nothing is cheaper and more accurate), so a
    # name goes there, clear of the dense points and of the right edge on a phone; only the
    # cheapest third (by log energy), near the left axis, is named to the right of its point.
    # (label_split: that share; lb-plots.js raises it on a phone, where names are long for the
    # plot's width)
    near_left = "log(datum.energy_j) - log(datum.lo) < label_split * (log(datum.hi) - log(datum.lo))"
    label_base = (alt.Chart(alt.Data(name="frontier_labels"))
                  .transform_joinaggregate(lo="min(energy_j)", hi="max(energy_j)"))
    label_opacity = alt.when(below).then(alt.value(0.25)).otherwise(alt.value(0.9))
    frontier_labels = alt.layer(
        label_base.transform_filter(f"!({near_left})")
        .mark_text(align="right", baseline="bottom", dx=-6, dy=-4, fontSize=10)
        .encode(x=x, y=y, text="id:N", opacity=label_opacity),
        label_base.transform_filter(near_left)
        .mark_text(align="left", baseline="bottom", dx=6, dy=-4, fontSize=10)
        .encode(x=x, y=y, text="id:N", opacity=label_opacity),
    )
    trend = (
        alt.Chart(alt.Data(name="points"))
        .transform_regression("energy_j", "top1", method="log")
        .mark_line(color="#5e4fa2", opacity=0.6)
        .encode(x=x, y=y)
    )
    threshold = (
        alt.Chart(alt.Data(values=[{}]))
        .transform_filter("min_top1 > 0")
        .transform_calculate(top1="min_top1")
        .mark_rule(color="#c2185b", strokeDash=[2, 2])
        .encode(y=y)
    )
    answer_ring = (
        alt.Chart(alt.Data(name="points"))
        .transform_filter("datum.id === answer_id")
        .mark_point(size=420, shape="circle", color="#c2185b", strokeWidth=2.5, filled=False)
        .encode(x=x, y=y, tooltip=alt.Tooltip("id:N", title="answer"), href="url:N")
    )
    chart = (
        alt.layer(points, frontier_line, frontier_labels, trend, threshold, answer_ring)
        .properties(title=title, width=CHART_WIDTH, height=CHART_HEIGHT)
        .configure_view(stroke=None)
    )
    return ChartSpec(chart, {"points": list(rows), "frontier": list(frontier),
                             "frontier_labels": frontier_labels_rows(frontier)})


LABEL_STEP_TOP1 = 2.0  # labelled frontier points are at least this many points of top-1 apart


def frontier_labels_rows(frontier: Sequence[Row]) -> list[Row]:
    """The frontier points that get a name on the chart: names closer together overlap.

    Walks the frontier from the most accurate down (a visitor reads the chart from the top) and
    keeps a point when it is LABEL_STEP_TOP1 below the last kept one. leaderboard.js repeats
    this for charts fed from a table.
    """
    kept: list[Row] = []
    for row in sorted(frontier, key=lambda r: -r["top1"]):
        if not kept or kept[-1]["top1"] - row["top1"] >= LABEL_STEP_TOP1:
            kept.append(row)
    return kept


def compute_chart(rows: Sequence[Row], x_field: str, x_title: str, title: str,
                  y_field: str = "top1", y_title: str = "ImageNet top-1 (%)",
                  name: str = "c") -> ChartSpec:
    """A scatter of one figure against another, log x, coloured by family, linked to pages.

    Args:
        rows: One dict per entry with id, family, url, top1, params_m, gmacs and the fields.
        x_field: Quantitative field on the (log) x axis.
        x_title: Its axis title.
        title: Chart title.
        y_field: Quantitative field on the y axis.
        y_title: Its axis title.
        name: Prefix for parameter names, unique per page.
    """
    family_pick = _family_filter([r["family"] for r in rows], f"{name}_family")
    zoom = _zoom(f"{name}_zoom")
    log_y = y_field != "top1"
    chart = (
        alt.Chart(alt.Data(name="points"))
        .mark_circle(size=45, color="#2c7fb8", stroke="#333", strokeWidth=0.2)
        .encode(
            x=alt.X(f"{x_field}:Q", title=x_title, scale=alt.Scale(type="log")),
            y=alt.Y(f"{y_field}:Q", title=y_title,
                    scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False)),
            opacity=alt.condition(family_pick, alt.value(0.75), alt.value(0.05)),
            tooltip=_tooltip(alt.Tooltip(f"{y_field}:Q", title=y_title, format=".4g"))
            if log_y else _tooltip(),
            href="url:N",
        )
        # log axes cannot show zero or missing values; filtered in the spec too, so the chart
        # can draw rows it shares with other charts of its page (PageAssets.dataset)
        .transform_filter(_positive(x_field, y_field))
        .add_params(family_pick, zoom)
        .properties(title=title, width=CHART_WIDTH, height=CHART_HEIGHT)
        .configure_view(stroke=None)
    )
    return ChartSpec(chart, {"points": [r for r in rows if r.get(x_field) and r.get(y_field)]})


def _positive(*fields: str) -> str:
    """A Vega expression: every field is a number above zero."""
    return " && ".join(f"isValid(datum.{f}) && datum.{f} > 0" for f in fields)


def savings_chart(rows: Sequence[Row], title: str) -> ChartSpec:
    """Energy per image at batch 1 relative to batch 256, against GMACs.

    Args:
        rows: Dicts with id, family, url, gmacs, params_m, top1 and ratio.
        title: Chart title.
    """
    zoom = _zoom("savings_zoom")
    chart = (
        alt.Chart(alt.Data(name="points"))
        .mark_circle(size=55, color="#d95f02")
        .encode(
            x=alt.X("gmacs:Q", title="GMACs per image (log)", scale=alt.Scale(type="log")),
            y=alt.Y("ratio:Q", title="energy at batch 1 / energy at batch 256 (log)",
                    scale=alt.Scale(type="log")),
            tooltip=_tooltip(alt.Tooltip("ratio:Q", title="batch-1 / batch-256", format=".2f")),
            href="url:N",
        )
        # rows shared with the page's other charts carry no ratio where there is no pair
        .transform_filter(_positive("gmacs", "ratio"))
        .add_params(zoom)
        .properties(title=title, width=CHART_WIDTH, height=CHART_HEIGHT)
        .configure_view(stroke=None)
    )
    return ChartSpec(chart, {"points": list(rows)})


# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), one per layer
# type in LAYER_TYPES order; the model pages' HTML bars use the same ones.
LAYER_COLORS = ("#0072b2", "#e69f00", "#cc79a7", "#009e73", "#f0e442", "#56b4e9", "#999999")
# Text drawn on each colour (share labels inside the bars), for contrast.
LAYER_TEXT_COLORS = ("#fff", "#111", "#111", "#111", "#111", "#111", "#111")  # 4.5:1 or more
LAYER_CHART_ROW_HEIGHT = 46


def layer_share_chart(rows: Sequence[Row], layer_types: Sequence[str], title: str) -> ChartSpec:
    """Mean share of each layer type per architecture kind, one stacked horizontal bar per kind.

    Args:
        rows: One dict per kind and layer type with kind (label with entry count), layer_type,
            order (the type's index), share (0..1) and entries.
        layer_types: Every layer type, in drawing order (fixes the colours).
        title: Chart title.
    """
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    chart = (
        alt.Chart(alt.Data(name="shares"))
        .mark_bar(stroke="#fff", strokeWidth=0.5)
        .encode(
            x=alt.X("share:Q", title="mean share of inference energy",
                    axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("kind:N", title=None, sort=kinds),
            color=alt.Color("layer_type:N", title="layer type",
                            scale=alt.Scale(domain=list(layer_types), range=list(LAYER_COLORS)),
                            legend=alt.Legend(orient="bottom", columns=4)),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("kind:N", title="architecture"),
                     alt.Tooltip("layer_type:N", title="layer type"),
                     alt.Tooltip("share:Q", title="mean share", format=".1%"),
                     alt.Tooltip("entries:Q", title="entries")],
        )
        .properties(title=title, width=CHART_WIDTH,
                    height=LAYER_CHART_ROW_HEIGHT * max(1, len(kinds)))
        .configure_view(stroke=None)
    )
    return ChartSpec(chart, {"shares": list(rows)})


# --- Findings page --------------------------------------------------------------------------

# Okabe-Ito again: single exponential, double exponential, power law.
FIT_COLORS = ("#0072b2", "#d55e00", "#009e73")
FINDINGS_ROW_HEIGHT = 26


def _title(title: str, subtitle: str | None) -> str | alt.TitleParams:
    """The chart's title, with a line under it where there is one."""
    return title if subtitle is None else alt.TitleParams(title, subtitle=subtitle)


def fit_chart(rows: Sequence[Row], curves: Sequence[Row], models: Sequence[str],
              title: str) -> ChartSpec:
    """Accuracy against energy (log axis) with fitted curves drawn over the points.

    Args:
        rows: One dict per measured entry with id, family, url, top1, energy_j, params_m, gmacs.
        curves: Dicts with model (label), top1 and energy_j along each fitted curve.
        models: The curve labels, in legend order (fixes the colours).
        title: Chart title.
    """
    zoom = _zoom("fit_zoom")
    # The axis spans the measured energies, not where a curve runs off to at the extremes.
    energies = [r["energy_j"] for r in rows]
    domain = [min(energies) / 1.5, max(energies) * 1.5] if energies else alt.Undefined
    x = alt.X("energy_j:Q", title="energy per image (J, log scale)",
              scale=alt.Scale(type="log", domain=domain))
    y = alt.Y("top1:Q", title="ImageNet top-1 (%)", scale=alt.Scale(zero=False))
    points = (
        alt.Chart(alt.Data(name="points"))
        .mark_circle(size=40, color="#777", opacity=0.55)
        .encode(x=x, y=y, href="url:N",
                tooltip=_tooltip(alt.Tooltip("energy_j:Q", title="energy (J/image)",
                                             format=".4g")))
        .add_params(zoom)
    )
    lines = (
        alt.Chart(alt.Data(name="curves"))
        .mark_line(strokeWidth=2.2, clip=True)
        .encode(x=x, y=y, order="top1:Q",
                color=alt.Color("model:N", title="fit",
                                scale=alt.Scale(domain=list(models),
                                                range=list(FIT_COLORS[:len(models)])),
                                legend=alt.Legend(orient="bottom-right")),
                # dashes too, so the curves differ without colour; one merged legend
                strokeDash=alt.StrokeDash("model:N", title="fit",
                                          scale=alt.Scale(domain=list(models),
                                                          range=[[1, 0], [6, 3], [2, 2]]),
                                          legend=alt.Legend(orient="bottom-right")))
    )
    chart = (alt.layer(points, lines)
             .properties(title=title, width=CHART_WIDTH, height=CHART_HEIGHT)
             .configure_view(stroke=None))
    return ChartSpec(chart, {"points": list(rows), "curves": list(curves)})


def correlation_chart(rows: Sequence[Row], groups: Sequence[str], factors: Sequence[str],
                      title: str, subtitle: str | None = None) -> ChartSpec:
    """Spearman's ρ of energy with each factor, one row per group, as a labelled heatmap.

    Args:
        rows: Dicts with group, factor (label), rho (or None), n and label (the cell text).
        groups: Row order.
        factors: Column order.
        title: Chart title.
        subtitle: A line under it (which of the groups the chart shows), or None.
    """
    base = alt.Chart(alt.Data(name="cells")).encode(
        x=alt.X("factor:N", title=None, sort=list(factors), axis=alt.Axis(orient="top",
                                                                          labelAngle=0)),
        y=alt.Y("group:N", title=None, sort=list(groups)),
        tooltip=[alt.Tooltip("group:N", title="entries"), alt.Tooltip("factor:N"),
                 alt.Tooltip("rho:Q", title="Spearman ρ", format=".3f"),
                 alt.Tooltip("n:Q", title="n")],
    )
    cells = base.mark_rect(stroke="#fff", strokeWidth=1).encode(
        color=alt.Color("rho:Q", title="ρ", scale=alt.Scale(domain=[-1, 1], scheme="blueorange"),
                        legend=alt.Legend(orient="right")),
    ).transform_filter("isValid(datum.rho)")
    missing = base.mark_rect(color="#eee", stroke="#fff", strokeWidth=1).transform_filter(
        "!isValid(datum.rho)")
    text = base.mark_text(fontSize=12).encode(
        text="label:N",
        color=alt.condition("isValid(datum.rho) && abs(datum.rho) > 0.6", alt.value("#fff"),
                            alt.value("#111")),
    )
    chart = (alt.layer(cells, missing, text)
             .properties(title=_title(title, subtitle), width=CHART_WIDTH,
                         height=FINDINGS_ROW_HEIGHT * max(1, len(groups)))
             .configure_view(stroke=None))
    return ChartSpec(chart, {"cells": list(rows)})


def ratio_chart(stats: Sequence[Row], points: Sequence[Row], groups: Sequence[str],
                title: str, subtitle: str | None = None) -> ChartSpec:
    """Single-stream / offline energy per group: range, quartile box, median, and every entry.

    The boxes are drawn from the computed quartiles (not Vega-Lite's own boxplot), so the chart
    shows exactly the numbers in the page's table.

    Args:
        stats: Dicts with group, n, median, q1, q3, low, high.
        points: Dicts with group, ratio and the entry's chart fields (one per group it is in).
        groups: Row order.
        title: Chart title.
        subtitle: A line under it (which of the groups the chart shows), or None.
    """
    y = alt.Y("group:N", title=None, sort=list(groups))
    # log scales round out to powers of ten ("nice"); a 3x..12x spread would sit in a corner
    lows, highs = [s["low"] for s in stats], [s["high"] for s in stats]
    scale = (alt.Scale(type="log", nice=False, domain=[min(lows) / 1.2, max(highs) * 1.2])
             if stats else alt.Scale(type="log"))
    stats_base = alt.Chart(alt.Data(name="stats")).encode(
        y=y, tooltip=[alt.Tooltip("group:N", title="entries"), alt.Tooltip("n:Q"),
                      alt.Tooltip("median:Q", format=".2f"),
                      alt.Tooltip("q1:Q", title="lower quartile", format=".2f"),
                      alt.Tooltip("q3:Q", title="upper quartile", format=".2f")])
    whisker = stats_base.mark_rule(color="#555").encode(
        x=alt.X("low:Q", scale=scale, title="energy per image, batch 1 / batch 256 (log)"),
        x2="high:Q")
    box = stats_base.mark_bar(color="#fdb863", size=14, opacity=0.85).encode(x="q1:Q", x2="q3:Q")
    median = stats_base.mark_tick(color="#b35806", thickness=3, size=18).encode(x="median:Q")
    dots = (alt.Chart(alt.Data(name="points"))
            .mark_circle(size=22, color="#333", opacity=0.45)
            .encode(x=alt.X("ratio:Q", scale=scale), y=y, href="url:N",
                    tooltip=_tooltip(alt.Tooltip("ratio:Q", title="batch 1 / batch 256",
                                                 format=".2f"))))
    chart = (alt.layer(whisker, box, median, dots)
             .properties(title=_title(title, subtitle), width=CHART_WIDTH,
                         height=FINDINGS_ROW_HEIGHT * 1.6 * max(1, len(groups)))
             .configure_view(stroke=None))
    return ChartSpec(chart, {"stats": list(stats), "points": list(points)})


def frontier_share_chart(rows: Sequence[Row], groups: Sequence[str], parts: Sequence[str],
                         title: str, subtitle: str | None = None) -> ChartSpec:
    """Share of each group on and near the frontier, as stacked horizontal bars.

    Args:
        rows: Dicts with group, part, order (the part's index), fraction (0..1), count and n.
        groups: Row order.
        parts: Stack order (fixes the colours).
        title: Chart title.
        subtitle: A line under it (which of the groups the chart shows), or None.
    """
    chart = (
        alt.Chart(alt.Data(name="shares"))
        .mark_bar(stroke="#fff", strokeWidth=0.5)
        .encode(
            x=alt.X("fraction:Q", title="share of the group's measured entries",
                    axis=alt.Axis(format="%", tickCount=5), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("group:N", title=None, sort=list(groups)),
            color=alt.Color("part:N", title=None,
                            scale=alt.Scale(domain=list(parts), range=["#1a9850", "#a6d96a"]),
                            legend=alt.Legend(orient="bottom")),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("group:N", title="entries"), alt.Tooltip("part:N"),
                     alt.Tooltip("fraction:Q", title="share", format=".1%"),
                     alt.Tooltip("count:Q", title="entries in it"),
                     alt.Tooltip("n:Q", title="measured entries")],
        )
        .properties(title=_title(title, subtitle), width=CHART_WIDTH,
                    height=FINDINGS_ROW_HEIGHT * max(1, len(groups)))
        .configure_view(stroke=None)
    )
    return ChartSpec(chart, {"shares": list(rows)})
