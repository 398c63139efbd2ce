"""`records merge`: per record file the newest measured_at wins, whatever the archives' order.

Issue 21, class 2: shards imported one after the other with ``--overwrite`` resolved collisions
by file order (``records-shard-2`` sorts after ``records-shard-10``), so a record of 2026-12-01
replaced one of 2026-12-05, reported as "1 updated"; overlapping shards went unnoticed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from leaderboard.cli import cli
from leaderboard.records import read_record, record_path, write_record
from leaderboard.records_archive import export_records
from leaderboard.testing import SYNTHETIC_HARDWARE, synthetic_record, write_synthetic_tree

OLD, NEW = "2026-12-01T10:00:00Z", "2026-12-05T10:00:00Z"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Three entries, no records."""
    source = write_synthetic_tree(tmp_path / "base", 3, single_stream_every=0)
    for folder in source.glob("*/measurements"):
        shutil.rmtree(folder)
    return source


def entries(tree: Path) -> list[str]:
    return sorted(p.name for p in tree.iterdir() if p.is_dir())


def shard(tmp_path: Path, tree: Path, name: str, records: dict[str, tuple[str, float]]) -> Path:
    """An archive named ``name`` holding, per entry, a record of (measured_at, energy)."""
    source = tmp_path / f"src-{name}"
    shutil.copytree(tree, source)
    for entry, (when, energy_j) in records.items():
        write_record(source, synthetic_record(entry, energy_j).model_copy(update={"measured_at": when}))
    archive = tmp_path / f"{name}.tar.gz"
    export_records(source, archive, list(records))
    return archive


def merge(tree: Path, *archives: Path):
    return CliRunner().invoke(cli, ["records", "merge", *map(str, archives), "--submissions", str(tree),
                                    "--allow-synthetic"])


def measured_at(tree: Path, entry: str) -> str:
    return read_record(record_path(tree, entry, SYNTHETIC_HARDWARE, "offline")).measured_at


def test_the_newest_record_wins_whatever_the_file_order(tmp_path, tree):
    first, second, third = entries(tree)
    newer = shard(tmp_path, tree, "records-shard-10", {first: (NEW, 0.02), second: (OLD, 0.05)})
    older = shard(tmp_path, tree, "records-shard-2", {first: (OLD, 0.01), third: (OLD, 0.03)})
    result = merge(tree, newer, older)  # the order a glob gives: shard-10 before shard-2
    assert result.exit_code == 0, result.output
    assert measured_at(tree, first) == NEW
    assert [measured_at(tree, e) for e in (second, third)] == [OLD, OLD]
    assert (f"replaced: {first} {SYNTHETIC_HARDWARE}--offline: 2026-12-01T10:00:00+00:00 "
            f"({older}) -> 2026-12-05T10:00:00+00:00 ({newer})") in result.output
    assert f"overlap: {newer} and {older} share 1 record(s), e.g. {first}/" in result.output
    assert "3 created, 0 updated, 0 unchanged; 1 older copy not used" in result.output

    again = merge(tree, older)  # the tree's copy is newer than the shard's: kept
    assert again.exit_code == 0, again.output
    assert measured_at(tree, first) == NEW
    assert f"kept the newer: {first} {SYNTHETIC_HARDWARE}--offline: 2026-12-01" in again.output
    assert "0 created, 0 updated, 2 unchanged" in again.output

    newest = shard(tmp_path, tree, "records-shard-3", {third: ("2026-12-06T00:00:00Z", 0.04)})
    update = merge(tree, newest)
    assert update.exit_code == 0, update.output
    assert f"replaced: {third} {SYNTHETIC_HARDWARE}--offline: 2026-12-01T10:00:00+00:00 (tree)" \
        in update.output
    assert "0 created, 1 updated, 0 unchanged" in update.output


def test_different_records_with_the_same_time_are_a_conflict_and_nothing_is_written(tmp_path, tree):
    first, second, _ = entries(tree)
    a = shard(tmp_path, tree, "a", {first: (NEW, 0.02), second: (NEW, 0.05)})
    b = shard(tmp_path, tree, "b", {first: (NEW, 0.03)})
    result = merge(tree, a, b)
    assert result.exit_code != 0
    assert (f"{first}/measurements/{SYNTHETIC_HARDWARE}--offline.json: conflict: different "
            f"records with the same measured_at 2026-12-05T10:00:00+00:00 in {a}, {b}") in result.output
    assert "1 conflict(s); nothing was written" in str(result.exception)
    assert not list(tree.glob("*/measurements/*.json"))


def test_identical_copies_in_two_shards_are_one_record(tmp_path, tree):
    first, _, _ = entries(tree)
    a = shard(tmp_path, tree, "a", {first: (NEW, 0.02)})
    b = shard(tmp_path, tree, "b", {first: (NEW, 0.02)})
    result = merge(tree, a, b)
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 unchanged; 0 older copies not used" in result.output
    assert "overlap:" in result.output  # still worth knowing: the shards were not disjoint


def test_import_overwrite_lists_each_replacement_and_never_takes_an_older_record(tmp_path, tree):
    first, _, _ = entries(tree)
    older = shard(tmp_path, tree, "older", {first: (OLD, 0.01)})
    newer = shard(tmp_path, tree, "newer", {first: (NEW, 0.02)})

    def run(archive: Path):
        return CliRunner().invoke(cli, ["records", "import", str(archive), "--overwrite",
                                        "--submissions", str(tree), "--allow-synthetic"])

    assert run(older).exit_code == 0
    replaced = run(newer)
    assert replaced.exit_code == 0, replaced.output
    assert (f"replaced: {first}/measurements/{SYNTHETIC_HARDWARE}--offline.json: "
            "2026-12-01T10:00:00+00:00 -> 2026-12-05T10:00:00+00:00") in replaced.output
    back = run(older)  # the file order of a shard loop: an older record must not win
    assert back.exit_code != 0
    assert "the record there is newer (2026-12-05T10:00:00+00:00) than this one" in back.output
    assert measured_at(tree, first) == NEW
