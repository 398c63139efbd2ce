"""A board's table data and the "Choose a model" mount that reads it.

One payload per board (``assets/data/<board>.js``) feeds the board's table, its accuracy/energy
chart and the chooser's answer in the browser, so the three cannot disagree and the rows are
sent once. The frontier is computed here, by :func:`leaderboard.scoring.pareto_frontier`.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from leaderboard.boards import Boards
from leaderboard.scoring import Point, pareto_frontier
from leaderboard.site.render import board_md, board_title, hardware_title, model_path
from leaderboard.site.tables import shown_score
from leaderboard.vocabulary import SIZE_CLASS_LABELS, SIZE_CLASS_NAMES, size_class

# "narrow": shown at phone widths too (Model, Top-1, J/image, Tier); the rest need a wide screen.
BOARD_COLUMNS: list[dict[str, Any]] = [
    {"key": "id", "label": "Model", "type": "link", "link": "../models/{}.html",
     "searchable": True, "narrow": True},
    {"key": "family", "label": "Family", "type": "text", "searchable": True,
     "all": "all families"},
    {"key": "top1", "label": "Top-1 %", "type": "num", "digits": 2, "descending": True,
     "narrow": True},
    {"key": "energy_j", "label": "J/image", "type": "num", "sig": 3, "narrow": True},
    {"key": "tier", "label": "Tier", "type": "tier", "all": "all tiers", "narrow": True},
    {"key": "score", "label": "Score", "type": "num", "digits": 1, "descending": True},
    {"key": "vs_resnet50", "label": "× ResNet-50", "type": "num", "digits": 2,
     "help": "energy relative to ResNet-50 on the same board"},
    {"key": "kwh_m", "label": "kWh / M img", "type": "cost", "of": "energy_j", "unit": "kwh",
     "help": "kWh per million images, with the PUE set above"},
    {"key": "co2_m", "label": "kg CO₂e / M img", "type": "cost", "of": "energy_j", "unit": "co2",
     "help": "kg CO₂e per million images at the grid intensity set above"},
    {"key": "money_m", "label": "Cost / M img", "type": "cost", "of": "energy_j", "unit": "money",
     "help": "electricity cost per million images at the price set above"},
    # what visitors of peer leaderboards ask for: a size filter and the newest (precision is
    # a detail column)
    {"key": "size", "label": "Size", "type": "text", "all": "all sizes",
     "values": list(SIZE_CLASS_NAMES),
     "value_labels": dict(zip(SIZE_CLASS_NAMES, SIZE_CLASS_LABELS, strict=True)),
     "help": "size class by parameter count: " + ", ".join(SIZE_CLASS_LABELS)},
    {"key": "measured", "label": "Measured", "type": "text", "descending": True,
     "help": "date of the measurement (UTC); sorts newest first"},
]
# Loaded when the visitor asks for them ("All columns", or a latency ceiling in the chooser):
# they were 40% of a 10,000-entry board's bytes and few visitors read them.
DETAIL_COLUMNS: list[dict[str, Any]] = [
    {"key": "ci", "label": "95% CI ±", "type": "num", "sig": 2},
    {"key": "excess", "label": "× frontier", "type": "num", "digits": 2},
    {"key": "throughput", "label": "Images/s", "type": "num", "digits": 0, "descending": True},
    {"key": "latency_ms", "label": "Latency (ms/batch)", "type": "num", "sig": 3},
    {"key": "batch", "label": "Batch", "type": "num", "digits": 0},
    {"key": "status", "label": "Status", "type": "text", "all": "all statuses"},
    {"key": "weights", "label": "Weights", "type": "text"},
    {"key": "params_m", "label": "Params (M)", "type": "num", "digits": 1},
    {"key": "gmacs", "label": "GMACs", "type": "num", "digits": 2},
    # a detail column: the base columns fill 1440 px, and most records run the headline fp16
    {"key": "precision", "label": "Precision", "type": "text", "all": "all precisions",
     "help": "numeric precision of the measured workload"},
]
assert BOARD_COLUMNS[0]["link"] == "../" + model_path("{}")


ENERGY_DIGITS = 6  # significant figures of J/image in the data (the table shows 3)


def sig(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant figures."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def table_name(board: str) -> str:
    """The name a board's table data is registered under (``LB_TABLES[name]``)."""
    return board.replace("--", "-")


def table_src(board: str, prefix: str) -> str:
    """Where a board's table data file is, from a page at ``prefix``."""
    return f"{prefix}assets/data/{table_name(board)}.js"


def details_name(board: str) -> str:
    """The name a board's detail columns are registered under."""
    return f"{table_name(board)}-details"


def board_table(data: Boards, board: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every record of a board as table rows, and their detail columns (same row order).

    The first payload carries the Pareto frontier's entry ids and where the details are
    (relative to the site root: the board page and the home page both load the data).
    """
    rows, details, points = [], [], []
    for entry in data.entries:
        result = entry.results.get(board)
        if not result:
            continue
        record, score, energy = result.record, result.score, result.record.energy
        performance = record.performance
        cost_cells: list[Any] = [None, None, None]  # computed in the browser from energy_j
        # Figures are rounded to what the table shows (and a little more, so the chooser
        # ranks as the records do): full floats made a 10,000-entry board 2.4 MB.
        rows.append([
            entry.id, entry.family, round(entry.top1, 3),
            sig(energy.gross_j_per_image, ENERGY_DIGITS) if energy else None,
            score.tier if score else None,
            shown_score(score.score) if score else None,
            round(result.relative_to_reference, 3) if result.relative_to_reference else None,
            *cost_cells,
            size_class(entry.params_m), record.measured_at[:10],
        ])
        details.append([
            sig((energy.ci95_high_j - energy.ci95_low_j) / 2, 2) if energy else None,
            sig(score.excess_factor, 3) if score else None,
            sig(performance.throughput_img_s, 4) if performance else None,
            sig(performance.batch_latency_ms, 4) if performance else None,
            record.batch_size, record.status, record.weights.kind, entry.params_m, entry.gmacs,
            record.precision,
        ])
        if score and result.energy_j is not None:
            points.append(Point(entry.id, entry.top1, result.energy_j))
    table = {"columns": BOARD_COLUMNS, "rows": rows, "sort": "score", "descending": True,
             "then": "top1", "filters": ["family", "tier", "size", "precision", "status"],
             "caption": f"Entries measured on {board_title(board)}",
             "frontier": [p.entry_id for p in pareto_frontier(points)],
             "details": {"name": details_name(board),
                         "src": f"assets/data/{details_name(board)}.js"}}
    return table, {"columns": DETAIL_COLUMNS, "rows": details}


def chooser_boards(data: Boards, prefix: str) -> list[dict[str, str]]:
    """Every board the chooser offers, with where its data and page are from ``prefix``."""
    boards = []
    for board in data.boards:
        hardware, _, scenario = board.partition("--")
        boards.append({"board": board, "title": board_title(board), "hardware": hardware,
                       "hardware_title": hardware_title(hardware), "scenario": scenario,
                       "table": table_name(board), "src": table_src(board, prefix),
                       "page": f"{prefix}{board_md(board)[:-3]}.html"})
    return boards


def chooser_html(data: Boards, board: str, prefix: str, mode: str, chart: str) -> str:
    """The mount lb-choose.js fills: inputs, the answer, and the board list it switches between.

    ``mode`` is ``board`` (a board page: switching boards opens the other board's page) or
    ``home`` (the home page: the chosen board's data is loaded in place).
    """
    boards = json.dumps(chooser_boards(data, prefix), sort_keys=True, separators=(",", ":"))
    return (f'<div class="lb-choose" data-boards="{html.escape(boards)}" data-board="{board}" '
            f'data-default-board="{board}" data-mode="{mode}" data-chart="{chart}" '
            f'data-prefix="{prefix}" data-compare="{prefix}compare.html"></div>')
