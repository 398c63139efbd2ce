"""Merge shard archives into a tree: per record file the newest ``measured_at`` wins.

A sweep's shards each export an archive; the merge job brings them together. Importing them one
after the other with ``--overwrite`` let the file order decide (``records-shard-2`` sorts after
``records-shard-10``), so an older record could replace a newer one. Here every archive is read
and checked first, then for each record path the newest record (by ``measured_at``, among the
archives and the file already in the tree) is kept:

* identical bytes are unchanged;
* two different records with the same time are a conflict: reported, and nothing is written;
* every replacement is listed (entry, board, old and new time), and so is every record kept
  because the tree's copy is newer;
* archives that hold the same record paths (overlapping shards) are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from leaderboard.atomic import recover_staged, remove_stale_build_staging, tree_lock
from leaderboard.errors import LeaderboardError
from leaderboard.records import loads_json, parse_measured_at
from leaderboard.records_archive import outside_problem, read_archive, write_checked


@dataclass(frozen=True)
class Version:
    """One copy of a record: where it comes from, its time and its bytes."""

    source: str
    measured_at: datetime
    data: bytes


@dataclass(frozen=True)
class Replacement:
    """A record replaced by a newer one (or kept because it is newer)."""

    name: str
    old: Version
    new: Version

    def describe(self) -> str:
        """``<entry> <board>: <old time> (<source>) -> <new time> (<source>)``."""
        entry, _, rest = self.name.partition("/")
        board = rest.removeprefix("measurements/").removesuffix(".json")
        return (f"{entry} {board}: {self.old.measured_at.isoformat()} ({self.old.source}) -> "
                f"{self.new.measured_at.isoformat()} ({self.new.source})")


@dataclass
class MergeResult:
    """What a merge did (or, when anything was refused or conflicts, would have done)."""

    created: list[str] = field(default_factory=list)
    replaced: list[Replacement] = field(default_factory=list)
    kept_newer: list[Replacement] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    overlaps: list[tuple[str, str, list[str]]] = field(default_factory=list)
    conflicts: list[tuple[str, list[Version]]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def written(self) -> bool:
        """True when the merge was applied."""
        return not self.refused and not self.conflicts


def _time_of(data: bytes) -> datetime:
    document = loads_json(data.decode("utf-8"))
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return parse_measured_at(document.get("measured_at"))


def _newest(name: str, versions: list[Version], result: MergeResult) -> Version | None:
    """The newest version; ``None`` (and a conflict) when different versions share that time."""
    latest = max(v.measured_at for v in versions)
    top = [v for v in versions if v.measured_at == latest]
    if len({v.data for v in top}) > 1:
        result.conflicts.append((name, top))
        return None
    return top[0]


def merge_records(archives: Sequence[Path], submissions_dir: Path,
                  on_wait: Callable[[str], None] | None = None,
                  allow_synthetic: bool = False) -> MergeResult:
    """Check every archive, then write the newest version of each record, all or nothing.

    Args:
        archives: Archives from ``records export`` (a sweep's shards).
        submissions_dir: The submissions folder to merge into.
        on_wait: Told when another import holds the tree's lock (this merge waits for it).
        allow_synthetic: Take records marked synthetic (test trees only).

    Returns:
        What was (or would have been) created, replaced, kept and left unchanged; overlaps,
        conflicts and refusals. Nothing is written when any archive has a refusal or any record
        a conflict.

    Raises:
        LeaderboardError: An archive cannot be opened, or no submissions folder.
    """
    result = MergeResult()
    versions: dict[str, list[Version]] = {}
    members: dict[str, set[str]] = {}
    for archive in archives:
        checked, refused = read_archive(archive, submissions_dir, allow_synthetic)
        result.refused += [(f"{archive}: {name}", reason) for name, reason in refused]
        members[str(archive)] = set(checked)
        for name, data in checked.items():
            versions.setdefault(name, []).append(Version(str(archive), _time_of(data), data))
    sources = sorted(members)
    for index, first in enumerate(sources):
        for second in sources[index + 1:]:
            shared = sorted(members[first] & members[second])
            if shared:
                result.overlaps.append((first, second, shared))
    if not submissions_dir.is_dir():
        raise LeaderboardError(f"{submissions_dir}: no submissions folder here")
    with tree_lock(submissions_dir, on_wait):
        recover_staged(submissions_dir)
        files = _plan(versions, submissions_dir, result)
        if result.written:
            write_checked(submissions_dir, files)
    remove_stale_build_staging()  # what a killed site build left in the scratch folder
    return result


def _plan(versions: dict[str, list[Version]], submissions_dir: Path,
          result: MergeResult) -> dict[str, bytes]:
    """The files to write; fills ``result`` (the caller holds the tree lock)."""
    files: dict[str, bytes] = {}
    for name in sorted(versions):
        target = submissions_dir / name
        problem = outside_problem(target, submissions_dir)
        if problem:
            result.refused.append((name, problem))
            continue
        candidates = list(versions[name])
        current = None
        if target.is_file():
            data = target.read_bytes()
            try:
                current = Version("tree", _time_of(data), data)
            except ValueError as exc:
                result.refused.append((name, f"the record in the tree is unreadable ({exc}); "
                                             "fix or remove it first"))
                continue
            candidates.append(current)
        newest = _newest(name, candidates, result)
        if newest is None:
            continue
        stale = [v for v in versions[name] if v.data != newest.data]
        if current is not None and newest.data == current.data:
            result.kept_newer += [Replacement(name, v, current) for v in stale]
            result.unchanged.append(name)
            continue
        files[name] = newest.data
        if current is None:
            result.created.append(name)
        else:
            result.replaced.append(Replacement(name, current, newest))
        # Shard copies older than the winner are replacements too, each listed.
        result.replaced += [Replacement(name, v, newest) for v in stale]
    return files
