"""The leaderboard pages: every entry on the headline board, and one page per board."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from leaderboard.boards import Boards, Entry
from leaderboard.site.pages.common import Page, render_template
from leaderboard.site.render import PageAssets, board_md, board_title, model_path
from leaderboard.site.tables import LINK, table_spec
from leaderboard.vocabulary import ACCURACY_BAND_POINTS

CATALOG_COLUMNS = [
    {"key": "id", "label": "Model", "type": "link", "searchable": True},
    {"key": "family", "label": "Family", "type": "text", "searchable": True,
     "all": "all families"},
    {"key": "top1", "label": "Top-1 %", "type": "num", "digits": 2, "descending": True},
    {"key": "top5", "label": "Top-5 %", "type": "num", "digits": 2, "descending": True},
    {"key": "accuracy", "label": "Accuracy", "type": "text",
     "help": "claimed, or verified/rejected by the validator"},
    {"key": "params_m", "label": "Params (M)", "type": "num", "digits": 1},
    {"key": "gmacs", "label": "GMACs", "type": "num", "digits": 2},
    {"key": "energy_j", "label": "J/image", "type": "num", "sig": 3,
     "missing": "awaiting measurement"},
    {"key": "tier", "label": "Tier", "type": "tier", "all": "all tiers"},
    {"key": "score", "label": "Score", "type": "num", "digits": 0, "descending": True},
    {"key": "vs_resnet50", "label": "× ResNet-50", "type": "num", "digits": 2,
     "help": "energy relative to ResNet-50 on the same board"},
]


def _catalog_row(entry: Entry, board: str | None, prefix: str) -> dict[str, Any]:
    result = entry.results.get(board) if board else None
    score = result.score if result else None
    return {
        "id": entry.id, "family": entry.family, "top1": round(entry.top1, 3),
        "top5": None if entry.top5 is None else round(entry.top5, 3),
        "accuracy": entry.accuracy_status, "params_m": entry.params_m, "gmacs": entry.gmacs,
        "energy_j": result.energy_j if score else None,
        "tier": score.tier if score else None,
        "score": round(score.score, 1) if score else None,
        "vs_resnet50": (round(result.relative_to_reference, 3)
                        if score and result.relative_to_reference else None),
        LINK: prefix + model_path(entry.id),
    }


def leaderboard_pages(data: Boards) -> Iterator[Page]:
    """The all-entries leaderboard and one page per board."""
    headline = data.headline_board
    assets = PageAssets(prefix="../")
    table = table_spec(CATALOG_COLUMNS, [_catalog_row(e, headline, "../") for e in data.entries],
                       sort="score" if headline else "top1", descending=True,
                       filters=["family", "tier"] if headline else ["family"])
    boards = [{"title": board_title(b), "link": f"{b}.md"} for b in data.boards]
    intro = (f"All {len(data.entries):,} entries. Energy, tier and score are from the headline "
             f"board, **{board_title(headline)}**; entries without a record there are awaiting "
             "measurement." if headline else
             f"All {len(data.entries):,} entries. No energy has been measured yet: every entry "
             "is **awaiting measurement** and has no tier. Accuracy is as claimed.")
    yield "leaderboard/index.md", render_template(
        "leaderboard.md.j2", title="Leaderboard", intro=intro, boards=boards,
        table="catalog", data_src=assets.table("catalog", table), prefix="../",
    ), assets.files
    for board in data.boards:
        yield _board_page(data, board)


BOARD_COLUMNS = [
    {"key": "id", "label": "Model", "type": "link", "searchable": True},
    {"key": "family", "label": "Family", "type": "text", "searchable": True,
     "all": "all families"},
    {"key": "top1", "label": "Top-1 %", "type": "num", "digits": 2, "descending": True},
    {"key": "energy_j", "label": "J/image", "type": "num", "sig": 3},
    {"key": "ci", "label": "95% CI ±", "type": "num", "sig": 2},
    {"key": "tier", "label": "Tier", "type": "tier", "all": "all tiers"},
    {"key": "score", "label": "Score", "type": "num", "digits": 0, "descending": True},
    {"key": "excess", "label": "× frontier", "type": "num", "digits": 2},
    {"key": "vs_resnet50", "label": "× ResNet-50", "type": "num", "digits": 2},
    {"key": "throughput", "label": "Images/s", "type": "num", "digits": 0, "descending": True},
    {"key": "batch", "label": "Batch", "type": "num", "digits": 0},
    {"key": "status", "label": "Status", "type": "text", "all": "all statuses"},
    {"key": "weights", "label": "Weights", "type": "text"},
    {"key": "gmacs", "label": "GMACs", "type": "num", "digits": 2},
]


def _board_page(data: Boards, board: str) -> Page:
    assets = PageAssets(prefix="../")
    rows = []
    for entry in data.entries:
        result = entry.results.get(board)
        if not result:
            continue
        record, score, energy = result.record, result.score, result.record.energy
        rows.append({
            "id": entry.id, "family": entry.family, "top1": round(entry.top1, 3),
            "energy_j": energy.gross_j_per_image if energy else None,
            "ci": (energy.ci95_high_j - energy.ci95_low_j) / 2 if energy else None,
            "tier": score.tier if score else None,
            "score": round(score.score, 1) if score else None,
            "excess": round(score.excess_factor, 3) if score else None,
            "vs_resnet50": (round(result.relative_to_reference, 3)
                            if result.relative_to_reference else None),
            "throughput": record.performance.throughput_img_s if record.performance else None,
            "batch": record.batch_size, "status": record.status, "weights": record.weights.kind,
            "gmacs": entry.gmacs, LINK: "../" + model_path(entry.id),
        })
    table = table_spec(BOARD_COLUMNS, rows, sort="score", descending=True,
                       filters=["family", "tier", "status"])
    title = f"Leaderboard: {board_title(board)}"
    intro = (f"{len(rows):,} entries measured on this board. Tiers compare each entry with the "
             f"cheapest entry of equal or better accuracy (within {ACCURACY_BAND_POINTS:g} points) "
             "on the same board.")
    name = board.replace("--", "-")
    text = render_template("leaderboard.md.j2", title=title, intro=intro, boards=[], table=name,
                   data_src=assets.table(name, table), prefix="../")
    return board_md(board), text, assets.files
