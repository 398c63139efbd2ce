"""Sortable tables as the browser's table script reads them: columns plus rows by column key.

Pages build each row as a dict keyed by column ``key`` plus the row's model-page link under
:data:`LINK`; :func:`table_spec` turns them into the compact list rows the script reads and
computes where the link cell is. A row with a key that no column has (or without one a
column has) is an error here, not a silently shifted cell on the page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

LINK = "link"  # the key of the cell that holds a row's model-page link


def shown_score(score: float) -> float:
    """An efficiency score to one decimal, rounded down: only the frontier (100) shows 100.

    Rounded to nearest, 99.96 would read "100.0" beside entries truly on the frontier, and
    the table's tie order (by accuracy) would look wrong between them.
    """
    return math.floor(score * 10 + 1e-9) / 10


def table_spec(columns: Sequence[Mapping[str, Any]], rows: Iterable[Mapping[str, Any]],
               **options: Any) -> dict[str, Any]:
    """The table's data: columns (link columns told their link cell), rows as lists, options.

    Args:
        columns: Column descriptions; ``type: "link"`` columns link to the row's :data:`LINK`.
        rows: One dict per row with exactly the columns' keys plus :data:`LINK`.
        **options: Passed through (``sort``, ``descending``, ``filters``).

    Raises:
        ValueError: A row's keys differ from the columns' keys plus :data:`LINK`.
    """
    keys = [column["key"] for column in columns]
    expected = {*keys, LINK}
    link_index = len(keys)  # the link travels after the visible cells
    described = [{**column, "href": link_index} if column["type"] == "link" else dict(column)
                 for column in columns]
    cells = []
    for row in rows:
        if row.keys() != expected:
            missing, extra = sorted(expected - row.keys()), sorted(row.keys() - expected)
            raise ValueError(f"table row {row.get('id')!r}: missing keys {missing}, "
                             f"unknown keys {extra}")
        cells.append([row[key] for key in keys] + [row[LINK]])
    return {"columns": described, "rows": cells, **options}
