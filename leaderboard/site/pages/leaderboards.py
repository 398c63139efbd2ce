"""The leaderboard pages: every entry on the headline board, and one page per board."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from leaderboard.boards import Boards, Entry
from leaderboard.site import choose
from leaderboard.site.pages.common import Page, render_template, tradeoff_mount
from leaderboard.site.render import PageAssets, board_md, board_title, md_text, model_path
from leaderboard.site.tables import LINK, shown_score, table_spec
from leaderboard.vocabulary import ACCURACY_BAND_POINTS, SIZE_CLASS_LABELS

CATALOG_COLUMNS = [
    {"key": "id", "label": "Model", "type": "link", "searchable": True, "narrow": True},
    {"key": "family", "label": "Family", "type": "text", "searchable": True,
     "all": "all families"},
    {"key": "top1", "label": "Top-1 %", "type": "num", "digits": 2, "descending": True,
     "narrow": True},
    {"key": "top5", "label": "Top-5 %", "type": "num", "digits": 2, "descending": True},
    {"key": "accuracy", "label": "Accuracy", "type": "text",
     "help": "claimed, or verified/rejected by the validator"},
    {"key": "params_m", "label": "Params (M)", "type": "num", "digits": 1},
    {"key": "gmacs", "label": "GMACs", "type": "num", "digits": 2},
    {"key": "energy_j", "label": "J/image", "type": "num", "sig": 3,
     "missing": "awaiting measurement", "narrow": True},
    {"key": "tier", "label": "Tier", "type": "tier", "all": "all tiers", "narrow": True},
    {"key": "score", "label": "Score", "type": "num", "digits": 1, "descending": True},
    {"key": "vs_resnet50", "label": "× ResNet-50", "type": "num", "digits": 2,
     "help": "energy relative to ResNet-50 on the same board"},
]


MEASURED_KEYS = frozenset({"energy_j", "tier", "score", "vs_resnet50"})


def _catalog_row(entry: Entry, board: str | None, prefix: str) -> dict[str, Any]:
    result = entry.results.get(board) if board else None
    score = result.score if result else None
    return {
        "id": entry.id, "family": entry.family, "top1": round(entry.top1, 3),
        "top5": None if entry.top5 is None else round(entry.top5, 3),
        "accuracy": entry.accuracy_status, "params_m": entry.params_m, "gmacs": entry.gmacs,
        "energy_j": result.energy_j if score else None,
        "tier": score.tier if score else None,
        "score": shown_score(score.score) if score else None,
        "vs_resnet50": (round(result.relative_to_reference, 3)
                        if score and result.relative_to_reference else None),
        LINK: prefix + model_path(entry.id),
    }


def leaderboard_pages(data: Boards) -> Iterator[Page]:
    """The all-entries leaderboard and one page per board."""
    headline = data.headline_board
    assets = PageAssets(prefix="../")
    columns, rows = CATALOG_COLUMNS, [_catalog_row(e, headline, "../") for e in data.entries]
    if not headline:
        # nothing measured: no energy, tier or score columns of "awaiting measurement" cells
        # (they clipped the table at 1280 px)
        columns = [c for c in CATALOG_COLUMNS if c["key"] not in MEASURED_KEYS]
        rows = [{k: v for k, v in row.items() if k not in MEASURED_KEYS} for row in rows]
    table = table_spec(columns, rows, sort="score" if headline else "top1", then="top1",
                       descending=True, filters=["family", "tier"] if headline else ["family"],
                       caption="Every entry")
    boards = [{"title": board_title(b), "link": f"{b}.md"} for b in data.boards]
    intro = (f"All {len(data.entries):,} entries. Energy, tier and score are from the headline "
             f"board, **{board_title(headline)}**; entries without a record there are awaiting "
             "measurement." if headline else
             f"All {len(data.entries):,} entries. No energy has been measured yet: every entry "
             "is **awaiting measurement** and has no tier. Accuracy is as claimed.")
    yield "leaderboard/index.md", render_template(
        "leaderboard.md.j2", title="Leaderboard", intro=intro, boards=boards,
        filters=" or ".join(table["filters"]),
        table="catalog", data_src=assets.table("catalog", table), prefix="../",
    ), assets.files
    for board in data.boards:
        yield board_page(data, board)


BOARD_CHART = "board-tradeoff"


def _board_table_files(data: Boards, board: str, assets: PageAssets) -> tuple[str, int, int]:
    """Write a board's table and detail files; returns the table's src, rows and scored rows."""
    table, details = choose.board_table(data, board)
    assets.table(choose.details_name(board), details)
    scored = sum(r[4] is not None for r in table["rows"])
    return assets.table(choose.table_name(board), table), len(table["rows"]), scored


def board_page(data: Boards, board: str) -> Page:
    """One board: chooser, cost settings, chart and the table of every record on it."""
    assets = PageAssets(prefix="../")
    data_src, entries, scored = _board_table_files(data, board, assets)
    title = f"Leaderboard: {board_title(board)}"
    chart_name = f"{BOARD_CHART}-{choose.table_name(board)}"  # spec files are per board
    text = render_template(
        "board.md.j2", title=title, board_title=board_title(board), entries=entries,
        scored=scored, data_src=data_src, band=f"{ACCURACY_BAND_POINTS:g}",
        table=choose.table_name(board), prefix="../",
        size_classes=", ".join(md_text(label) for label in SIZE_CLASS_LABELS),
        chooser_html=choose.chooser_html(data, board, "../", "board", chart_name),
        chart_html=tradeoff_mount(data, board, assets, chart_name,
                                  f"Accuracy against energy — {board_title(board)}"),
        other_boards=[{"title": board_title(b), "link": f"{b}.md"} for b in data.boards
                      if b != board],
    )
    return board_md(board), text, assets.files
