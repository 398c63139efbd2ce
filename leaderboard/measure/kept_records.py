"""Which record already on disk is worth keeping: readable and scored (ok or unstable).

The campaign's resume, the runner's skip of unchanged entries and the sweep's resume all ask
this before measuring; an unreadable file, a refused or an error record is measured again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from leaderboard.vocabulary import SCORED_STATUSES

R = TypeVar("R")


def kept_record(path: Path, keep: Callable[[R], Any], read: Callable[[Path], R]) -> R | None:
    """The record at ``path`` (read with ``read``, e.g. :func:`~leaderboard.records.read_record`)
    when it is readable, scored and ``keep(record)`` says so."""
    if not path.is_file():
        return None
    try:
        record = read(path)
    except ValueError:
        return None  # unreadable: measure again and replace it
    return record if getattr(record, "status", None) in SCORED_STATUSES and keep(record) else None
