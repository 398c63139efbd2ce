"""The Compare page's data: every entry's facts and per-board results, compact.

The page (:mod:`leaderboard.site.pages.compare`) is a shell; ``assets/data/compare.js``
holds every entry's facts and per-board results in compact arrays, and
``assets/lb-compare.js`` draws the chosen ones (``compare.html?ids=a,b,c``, so a comparison
can be shared).
"""

from __future__ import annotations

from typing import Any

from leaderboard.boards import Boards
from leaderboard.site.render import board_title
from leaderboard.site.tables import shown_score

MAX_ENTRIES = 4
ENTRY_FIELDS = ["family", "top1", "accuracy", "params_m", "gmacs", "results"]
RESULT_FIELDS = ["energy_j", "tier", "score", "vs_resnet50", "throughput", "latency_ms", "status"]


def compare_data(data: Boards) -> dict[str, Any]:
    """Every entry's facts and, per board index, its result fields (see RESULT_FIELDS)."""
    boards = list(data.boards)
    index = {b: i for i, b in enumerate(boards)}
    entries: dict[str, list[Any]] = {}
    for entry in data.entries:
        results: dict[str, list[Any]] = {}
        for board, result in entry.results.items():
            record, score = result.record, result.score
            performance = record.performance
            results[str(index[board])] = [
                result.energy_j, score.tier if score else None,
                shown_score(score.score) if score else None,
                round(result.relative_to_reference, 3) if result.relative_to_reference else None,
                round(performance.throughput_img_s, 1) if performance else None,
                round(performance.batch_latency_ms, 3) if performance else None,
                record.status,
            ]
        entries[entry.id] = [entry.family, round(entry.top1, 3), entry.accuracy_status,
                             entry.params_m, entry.gmacs, results]
    return {"boards": [{"board": b, "title": board_title(b)} for b in boards],
            "entry_fields": ENTRY_FIELDS, "result_fields": RESULT_FIELDS,
            "max": MAX_ENTRIES, "entries": entries}
