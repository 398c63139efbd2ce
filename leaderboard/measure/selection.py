"""Which entries a sweep measures: ids and globs, shards of a job array, cost order, budgets."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.submission import SUBMISSION_FILENAME
from leaderboard.vocabulary import HEADLINE_SCENARIO, SCENARIO_BATCH_SIZE

_GLOB_CHARS = re.compile(r"[*?\[]")


def list_entries(submissions_dir: Path) -> list[str]:
    """Ids of every entry (a folder with a submission file), sorted."""
    if not submissions_dir.is_dir():
        raise LeaderboardError(f"{submissions_dir}: no submissions folder here; run from the "
                               "root of a clone of the repository or pass --submissions DIR")
    return sorted(p.parent.name for p in submissions_dir.glob(f"*/{SUBMISSION_FILENAME}"))


def select_entries(submissions_dir: Path, patterns: Sequence[str], all_entries: bool) -> list[str]:
    """The entry ids named by exact ids and fnmatch globs (``resnet*``), or all of them.

    Args:
        submissions_dir: The submissions folder.
        patterns: Entry ids or globs; each must match at least one entry.
        all_entries: Select every entry (``--all``); exclusive with ``patterns``.

    Returns:
        Matching ids, sorted and without duplicates.

    Raises:
        UsageError: Neither or both of ``patterns`` and ``all_entries``.
        LeaderboardError: Some ids or globs match no entry (all are listed).
    """
    if all_entries and patterns:
        raise UsageError("give entry ids/globs or --all, not both")
    if not all_entries and not patterns:
        raise UsageError("name the entries to measure (ids or globs such as 'resnet*') or pass --all")
    known = list_entries(submissions_dir)
    if all_entries:
        return known
    known_set = set(known)
    selected: set[str] = set()
    unknown: list[str] = []
    for pattern in patterns:
        if _GLOB_CHARS.search(pattern):
            matches = fnmatch.filter(known, pattern)
            if not matches:
                unknown.append(f"{pattern} (glob matches nothing)")
            selected.update(matches)
        elif pattern in known_set:
            selected.add(pattern)
        else:
            unknown.append(pattern + _did_you_mean(pattern, known))
    if unknown:
        raise LeaderboardError(
            f"no such entr{'y' if len(unknown) == 1 else 'ies'} in {submissions_dir}: "
            + ", ".join(unknown)
        )
    return sorted(selected)


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``--shard i/n`` (1-based ``i``) into ``(i, n)``.

    Raises:
        UsageError: Not two integers, ``n < 1`` or ``i`` outside ``1..n``.
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise UsageError(f"--shard {text!r}: expected i/n with integers, e.g. 1/4")
    index, count = int(match.group(1)), int(match.group(2))
    _check_shard(index, count)
    return index, count


def _check_shard(index: int, count: int) -> None:
    if count < 1:
        raise UsageError(f"--shard {index}/{count}: the number of shards must be at least 1")
    if not 1 <= index <= count:
        raise UsageError(f"--shard {index}/{count}: the shard index must be between 1 and {count} "
                         "(it is 1-based)")


def shard(ids: Sequence[str], index: int, count: int,
          cost: Callable[[str], float] | None = None) -> list[str]:
    """Shard ``index`` of ``count`` (1-based), balanced by ``cost``; sorted ids.

    Greedy longest-first: ids in order of falling cost (then name) each go to the shard whose
    cost so far is least (then the lowest index). Deterministic, so every task of a job array
    computes the same split on its own; the shards are disjoint and together cover every id.
    An id without a known cost (infinite or not positive) counts as the median known cost;
    without ``cost`` every id costs 1.
    """
    _check_shard(index, count)
    unique = sorted(set(ids))
    costs = {entry_id: cost(entry_id) if cost is not None else 1.0 for entry_id in unique}
    known = sorted(c for c in costs.values() if 0 < c < float("inf"))
    fallback = known[len(known) // 2] if known else 1.0
    costs = {k: c if 0 < c < float("inf") else fallback for k, c in costs.items()}
    loads = [0.0] * count
    mine: list[str] = []
    for entry_id in sorted(unique, key=lambda k: (-costs[k], k)):
        target = min(range(count), key=lambda i: (loads[i], i))
        loads[target] += costs[entry_id]
        if target == index - 1:
            mine.append(entry_id)
    return sorted(mine)


def shard_by_cost(submissions_dir: Path, ids: Sequence[str], index: int, count: int) -> list[str]:
    """:func:`shard` weighted by each entry's :func:`estimated_cost` (GMACs x batch)."""
    return shard(ids, index, count, cost=lambda entry_id: estimated_cost(submissions_dir, entry_id))


_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?"
)


def parse_duration_s(text: str) -> float:
    """Parse ``2h``, ``90m``, ``1h30m``, ``45s`` or plain seconds (``3600``) into seconds.

    Raises:
        UsageError: Unparseable or not positive.
    """
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or not match or not any(match.groupdict().values()):
        raise UsageError(f"time budget {text!r}: use e.g. 2h, 90m, 1h30m or seconds (3600)")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    seconds = parts.get("h", 0.0) * 3600 + parts.get("m", 0.0) * 60 + parts.get("s", 0.0)
    if seconds <= 0:
        raise UsageError(f"time budget {text!r} must be positive")
    return seconds


def format_duration(seconds: float) -> str:
    """``9.8 s``, ``12m05s`` or ``3h12m``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(round(seconds)) // 60
    if minutes < 60:
        return f"{minutes}m{int(round(seconds)) % 60:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


ORDERS = ("name", "cheapest")


def estimated_cost(submissions_dir: Path, entry_id: str) -> float:
    """An entry's inference cost: its submission's ``compute.gmacs`` x the headline batch
    (inf if unknown).

    Read with the project's strict YAML loader and no schema validation: ordering 1,500 entries
    must cost well under a second of a lease, and a broken file sorts last (its worker then
    reports the problem).
    """
    from leaderboard.safe_yaml import load_yaml_file

    data, problems, _ = load_yaml_file(submissions_dir / entry_id / SUBMISSION_FILENAME)
    compute = data.get("compute") if isinstance(data, dict) and not problems else None
    gmacs = compute.get("gmacs") if isinstance(compute, dict) else None
    if not isinstance(gmacs, int | float) or gmacs <= 0:
        return float("inf")
    return float(gmacs) * SCENARIO_BATCH_SIZE[HEADLINE_SCENARIO]


def order_entries(submissions_dir: Path, ids: Sequence[str], order: str) -> list[str]:
    """``ids`` in the order to measure them: ``name`` (sorted) or ``cheapest`` (GMACs first).

    Cheapest first turns a short GPU lease into as many records as possible before the budget
    ends; ties and unknown costs fall back to the name.

    Raises:
        UsageError: Unknown order.
    """
    if order not in ORDERS:
        raise UsageError(f"unknown order '{order}'; use {' or '.join(ORDERS)}")
    if order == "name":
        return sorted(ids)
    return sorted(ids, key=lambda entry_id: (estimated_cost(submissions_dir, entry_id), entry_id))


RESNET50_GMACS = 4.1
"""ResNet-50 at 224 px: the size class a reference check should cover."""


def plan_references(submissions_dir: Path, ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """Three entries to check the protocol on, moved to the front: ``(ids, chosen)``.

    The cheapest, a resnet50-class one (a ``resnet50*`` network, else the GMACs nearest
    ResNet-50's) and a large one (the 90th percentile of cost): every lease checks its
    protocol early across sizes. Fewer when there are fewer ids; the rest keep their order.
    """
    if not ids:
        return [], []
    costs = {entry_id: estimated_cost(submissions_dir, entry_id) for entry_id in ids}
    by_cost = sorted(ids, key=lambda entry_id: (costs[entry_id], entry_id))
    resnets = [i for i in ids if i.split(".")[0].startswith("resnet50")]
    resnet = resnets[0] if resnets else min(
        ids, key=lambda i: (abs(costs[i] / SCENARIO_BATCH_SIZE[HEADLINE_SCENARIO]
                                - RESNET50_GMACS), i))
    large = by_cost[min(int(0.9 * len(by_cost)), len(by_cost) - 1)]
    chosen = list(dict.fromkeys([by_cost[0], resnet, large]))
    return chosen + [i for i in ids if i not in chosen], chosen
