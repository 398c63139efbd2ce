"""Record archives: deterministic export, round trip, and an import that refuses bad members."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from leaderboard.errors import LeaderboardError
from leaderboard.records import write_record
from leaderboard.records_archive import (
    MANIFEST_NAME,
    MAX_MEMBER_BYTES,
    export_records,
    import_records,
)
from leaderboard.testing import SYNTHETIC_HARDWARE, synthetic_record, write_synthetic_tree


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """Five entries with offline records (one also single-stream)."""
    return write_synthetic_tree(tmp_path / "a", 5)


@pytest.fixture
def fresh(source: Path, tmp_path: Path) -> Path:
    """The same submissions without any record."""
    target = tmp_path / "b" / "submissions"
    shutil.copytree(source, target)
    for folder in target.glob("*/measurements"):
        shutil.rmtree(folder)
    return target


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def records_of(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(root).items() if "/measurements/" in k}


def test_round_trip_into_a_fresh_tree(source, fresh, tmp_path):
    archive = tmp_path / "records.tar.gz"
    count = export_records(source, archive)
    assert count == len(records_of(source)) == 6
    result = import_records(archive, fresh, allow_synthetic=True)
    assert result.written and not result.refused
    assert sorted(result.created) == sorted(records_of(source))
    assert records_of(fresh) == records_of(source)

    again = import_records(archive, fresh, allow_synthetic=True)
    assert again.written and again.created == [] and len(again.unchanged) == 6


def test_same_records_give_the_same_bytes(source, tmp_path):
    first, second, third = (tmp_path / f"{n}.tar.gz" for n in ("one", "two", "three"))
    export_records(source, first)
    for path in source.glob("*/measurements/*.json"):
        os.utime(path, (1_000_000, 1_000_000))
    export_records(source, second)
    copy = tmp_path / "elsewhere" / "submissions"
    shutil.copytree(source, copy)
    export_records(copy, third)
    assert first.read_bytes() == second.read_bytes() == third.read_bytes()

    with tarfile.open(first, "r:gz") as tar:
        members = tar.getmembers()
        assert members[0].name == MANIFEST_NAME
        assert [m.name for m in members[1:]] == sorted(m.name for m in members[1:])
        assert {m.mtime for m in members} == {0}
        manifest = json.loads(tar.extractfile(members[0]).read())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((source / name).read_bytes()).hexdigest() == digest


def test_export_of_some_ids_and_unknown_ids(source, tmp_path):
    entry = sorted(p.name for p in source.iterdir())[0]
    archive = tmp_path / "some.tar.gz"
    assert export_records(source, archive, [entry]) == 2  # offline and single-stream
    with pytest.raises(LeaderboardError, match="no such entry"):
        export_records(source, archive, ["nope.x"])


def test_export_refuses_invalid_records(source, tmp_path):
    bad = next(source.glob("*/measurements/*.json"))
    bad.write_text("{}", "utf-8")
    with pytest.raises(LeaderboardError, match="not exported"):
        export_records(source, tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()


def test_export_refuses_a_record_without_provenance(source, tmp_path):
    bad = next(source.glob("*/measurements/*.json"))
    bad.write_text(bad.read_text().replace('"synthetic": true', '"synthetic": false'))
    with pytest.raises(LeaderboardError, match="lacks provenance: provenance.torch"):
        export_records(source, tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()


def test_a_killed_import_is_finished_by_the_next_and_reported_meanwhile(source, fresh, tmp_path):
    """The commit point in slow motion: a committed stage is visible to check, then finished."""
    from leaderboard.atomic import STAGE_DIRNAME, recover_staged
    from leaderboard.records import iter_records

    archive = tmp_path / "a.tar.gz"
    export_records(source, archive)
    stage = fresh / STAGE_DIRNAME
    stage.mkdir()
    name = next(iter(records_of(source)))
    (stage / "000000").write_bytes(records_of(source)[name])
    (stage / "plan.json").write_text(json.dumps([[name, "000000"]]))
    problems = [r for _, r in iter_records(fresh) if not hasattr(r, "entry_id")]
    assert [p.message for p in problems] == [
        "a records import was interrupted while moving its files into place"]
    assert recover_staged(fresh) is True
    assert records_of(fresh) == {name: records_of(source)[name]}
    assert not stage.exists()
    # The rest, now that nothing is pending.
    assert import_records(archive, fresh, allow_synthetic=True).written
    assert records_of(fresh) == records_of(source)


def test_overwrite_is_needed_to_replace_a_different_record(source, fresh, tmp_path):
    archive = tmp_path / "records.tar.gz"
    export_records(source, archive)
    entry = sorted(p.name for p in fresh.iterdir())[0]
    existing = write_record(fresh, synthetic_record(entry, 1.5))
    before = snapshot(fresh)

    refused = import_records(archive, fresh, allow_synthetic=True)
    assert not refused.written
    assert [(name, "--overwrite" in reason) for name, reason in refused.refused] == [
        (existing.relative_to(fresh).as_posix(), True)]
    assert snapshot(fresh) == before

    updated = import_records(archive, fresh, overwrite=True, allow_synthetic=True)
    assert updated.written and updated.updated == [existing.relative_to(fresh).as_posix()]
    assert len(updated.created) == 5
    assert records_of(fresh) == records_of(source)


# ---------------------------------------------------------------------------------------------
# Hostile archives


def record_bytes(entry_id: str, hardware: str = SYNTHETIC_HARDWARE, scenario: str = "offline") -> bytes:
    record = synthetic_record(entry_id, 0.01, scenario=scenario, hardware=hardware)
    return (json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True) + "\n").encode()


def build_archive(path: Path, members: list[tuple[str, bytes | tarfile.TarInfo]],
                  manifest: dict[str, str] | None = None, with_manifest: bool = True) -> Path:
    """A .tar.gz with the given members; the manifest lists the real digests unless given."""
    if manifest is None:
        manifest = {name: hashlib.sha256(data).hexdigest() for name, data in members
                    if isinstance(data, bytes)}
    with tarfile.open(path, "w:gz") as tar:
        if with_manifest:
            text = json.dumps({"format": "leaderboard-records", "version": 1, "files": manifest})
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
        for name, data in members:
            if isinstance(data, tarfile.TarInfo):
                tar.addfile(data)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


@pytest.fixture
def entries(fresh: Path) -> list[str]:
    return sorted(p.name for p in fresh.iterdir())


def good(entry: str) -> tuple[str, bytes]:
    return f"{entry}/measurements/{SYNTHETIC_HARDWARE}--offline.json", record_bytes(entry)


CASES = {
    "traversal": (lambda e: [("../x", b"{}")], "../x", "'..'"),
    "traversal_inside": (lambda e: [(f"{e[0]}/measurements/../../../evil.json", b"{}")],
                         None, "'..'"),
    "absolute": (lambda e: [("/tmp/evil.json", b"{}")], "/tmp/evil.json", "absolute path"),
    "symlink": (lambda e: [("", symlink(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                                        "/etc/passwd"))],
                None, "symlink"),
    "other_file": (lambda e: [(f"{e[1]}/submission.yaml", b"id: x\n")], None, "not a record path"),
    "wrong_path": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                               record_bytes(e[2]))], None, "entry_id is"),
    "wrong_scenario": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                                   record_bytes(e[1], scenario="single-stream"))],
                       None, "scenario is 'single-stream' but the path says 'offline'"),
    "invalid_json": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                                 b"{not json")], None, "not valid JSON"),
    "invalid_schema": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                                   json.dumps({"entry_id": e[1], "status": "great"}).encode())],
                       None, "invalid measurement record"),
    "unknown_entry": (lambda e: [(f"zzz.unknown/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                                  record_bytes("zzz.unknown"))], None, "no submission 'zzz.unknown'"),
    "too_big": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                            b" " * (MAX_MEMBER_BYTES + 1))], None, "byte limit"),
    # Issue 13: Python's json reads Infinity/NaN and 1e400 (inf); JSON and records have none.
    "infinity": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                             record_bytes(e[1]).replace(b'"gross_j_per_image": 0.01',
                                                        b'"gross_j_per_image": Infinity'))],
                 None, "non-finite number Infinity"),
    "nan": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                        record_bytes(e[1]).replace(b'"cv": 0.004', b'"cv": NaN'))],
            None, "non-finite number NaN"),
    "overflow": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                             record_bytes(e[1]).replace(b'"cv": 0.004', b'"cv": 1e400'))],
                 None, "too large to be finite"),
    "no_provenance": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json",
                                  record_bytes(e[1]).replace(b'"synthetic": true',
                                                             b'"synthetic": false'))],
                      None, "measured record lacks provenance: provenance.torch, provenance.timm"),
    # `$` in a regex also matches before a final newline: the name must match whole.
    "trailing_newline": (lambda e: [(f"{e[1]}/measurements/{SYNTHETIC_HARDWARE}--offline.json\n",
                                     record_bytes(e[1]))], None, "not a record path"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_members_are_refused_and_nothing_is_written(case, fresh, entries, tmp_path):
    make, name, reason = CASES[case]
    bad = make(entries)
    archive = build_archive(tmp_path / "bad.tar.gz", [good(entries[0]), *bad])
    before = snapshot(fresh)
    result = import_records(archive, fresh, allow_synthetic=True)
    assert not result.written
    assert snapshot(fresh) == before  # the good member was not written either
    expected_name = name or (bad[0][1].name if isinstance(bad[0][1], tarfile.TarInfo) else bad[0][0])
    assert any(member == expected_name and reason in why for member, why in result.refused), \
        result.refused
    assert all(member != good(entries[0])[0] for member, _ in result.refused)
    assert not (tmp_path / "x").exists() and not (tmp_path / "evil.json").exists()


def test_members_adding_up_past_the_total_cap_are_refused(fresh, entries, tmp_path, monkeypatch):
    import leaderboard.records_archive as archive_module

    monkeypatch.setattr(archive_module, "MAX_TOTAL_BYTES", 3_000)
    members = [good(entry) for entry in entries[:4]]
    assert sum(len(data) for _, data in members) > 3_000
    result = import_records(build_archive(tmp_path / "big.tar.gz", members), fresh, allow_synthetic=True)
    assert not result.written
    assert any("add up to more than" in why for _, why in result.refused)


def test_digest_mismatch_is_refused(fresh, entries, tmp_path):
    name, data = good(entries[1])
    archive = build_archive(tmp_path / "bad.tar.gz", [good(entries[0]), (name, data)],
                            manifest={good(entries[0])[0]: hashlib.sha256(good(entries[0])[1]).hexdigest(),
                                      name: "0" * 64})
    result = import_records(archive, fresh, allow_synthetic=True)
    assert not result.written and result.refused == [
        (name, f"sha256 {hashlib.sha256(data).hexdigest()[:12]}... does not match the "
               f"manifest's {'0' * 12}...")]
    assert records_of(fresh) == {}


def test_manifest_must_exist_and_list_every_member(fresh, entries, tmp_path):
    no_manifest = build_archive(tmp_path / "a.tar.gz", [good(entries[0])], with_manifest=False)
    result = import_records(no_manifest, fresh, allow_synthetic=True)
    assert [m for m, _ in result.refused] == [MANIFEST_NAME]

    unlisted = build_archive(tmp_path / "b.tar.gz", [good(entries[0]), good(entries[1])],
                             manifest={good(entries[0])[0]: hashlib.sha256(good(entries[0])[1]).hexdigest(),
                                       "ghost/measurements/x-y--offline.json": "1" * 64})
    reasons = dict(import_records(unlisted, fresh, allow_synthetic=True).refused)
    assert reasons[good(entries[1])[0]] == "not listed in the manifest"
    assert "missing from the archive" in reasons["ghost/measurements/x-y--offline.json"]
    assert records_of(fresh) == {}


def test_duplicate_members_and_unreadable_archives(fresh, entries, tmp_path):
    dup = build_archive(tmp_path / "d.tar.gz", [good(entries[0]), good(entries[0])])
    assert "twice" in dict(import_records(dup, fresh, allow_synthetic=True).refused)[good(entries[0])[0]]
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    with pytest.raises(LeaderboardError, match="not a readable"):
        import_records(junk, fresh, allow_synthetic=True)
    assert records_of(fresh) == {}


def test_a_symlinked_measurements_folder_is_not_followed(fresh, entries, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (fresh / entries[0] / "measurements").symlink_to(outside, target_is_directory=True)
    archive = build_archive(tmp_path / "s.tar.gz", [good(entries[0])])
    result = import_records(archive, fresh, allow_synthetic=True)
    assert "resolves outside" in dict(result.refused)[good(entries[0])[0]]
    assert list(outside.iterdir()) == []


def test_export_fsyncs_the_archive_and_its_folder(source, tmp_path, monkeypatch):
    # Like a record write: the rename that publishes the archive must survive a crash too.
    import os
    import stat

    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    archive = tmp_path / "out" / "records.tar.gz"
    export_records(source, archive)
    assert archive.is_file() and synced == ["file", "dir"]
