"""Move measurement records between machines as one .tar.gz: deterministic export, safe import.

A GPU runner measures, exports its records as an artifact, and the repository imports them.
The archive is untrusted data on the way in: every member must be a regular file at
``<id>/measurements/<hardware>--<scenario>.json`` (or a profile or sweep record under
``measurements/profile/`` or ``measurements/sweep/``), at most 1 MiB, listed in ``manifest.json``
with its sha256, a valid record whose fields match its path, for an entry that exists.
Nothing is extracted by ``tarfile`` itself (no paths, links or modes from the archive reach the
file system); contents are read into memory, checked, and written atomically. One bad member
refuses the whole archive, and the files are staged and then moved into place
(:func:`leaderboard.atomic.write_all_or_nothing`), so an import is applied completely or not at
all, even when it is killed.
"""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from leaderboard.analysis_records import (
    PROFILE_DIRNAME,
    SWEEP_DIRNAME,
    analysis_record_paths,
    canonical_path,
    parse_analysis_record,
    read_analysis_record,
)
from leaderboard.atomic import (
    atomic_write_bytes,
    recover_staged,
    remove_stale_build_staging,
    tree_lock,
    write_all_or_nothing,
)
from leaderboard.errors import LeaderboardError
from leaderboard.record_rules import analysis_record_problems, record_problems
from leaderboard.records import (
    HARDWARE_SLUG_PATTERN,
    MEASUREMENTS_DIRNAME,
    MeasurementRecord,
    loads_json,
    missing_provenance,
    parse_measured_at,
    read_record,
    submission_facts,
)
from leaderboard.records_pack import ARCHIVE_FORMAT, ARCHIVE_VERSION, MANIFEST_NAME, pack_members
from leaderboard.records_pack import sha256_hex as _sha256
from leaderboard.submission import ID_PATTERN, SUBMISSION_FILENAME
from leaderboard.vocabulary import SCENARIOS

MAX_MEMBER_BYTES = 1024 * 1024
MAX_MEMBERS = 200_000
# Members are held in memory until the manifest is checked: cap the total too.
MAX_TOTAL_BYTES = 256 * 1024 * 1024
_MEMBER_PATTERN = re.compile(
    "^(?P<entry>" + ID_PATTERN.strip("^$") + ")/" + re.escape(MEASUREMENTS_DIRNAME) + "/"
    "(?P<hardware>" + HARDWARE_SLUG_PATTERN.strip("^$") + ")--(?P<scenario>"
    + "|".join(SCENARIOS) + r")\.json$"
)
_ANALYSIS_MEMBER_PATTERN = re.compile(
    "^(?P<entry>" + ID_PATTERN.strip("^$") + ")/" + re.escape(MEASUREMENTS_DIRNAME) + "/"
    f"({PROFILE_DIRNAME}|{SWEEP_DIRNAME})/" + r"[a-z0-9][a-z0-9.-]*\.json$"
)


def _record_files(submissions_dir: Path, ids: Iterable[str] | None) -> list[Path]:
    if not submissions_dir.is_dir():
        raise LeaderboardError(f"{submissions_dir}: no submissions folder here; run from the root "
                               "of a clone of the repository or pass --submissions DIR")
    found = sorted(submissions_dir.glob(f"*/{MEASUREMENTS_DIRNAME}/*.json"))
    found += analysis_record_paths(submissions_dir)
    if ids is None:
        return sorted(found)
    wanted = sorted(set(ids))
    missing = [i for i in wanted if not (submissions_dir / i / SUBMISSION_FILENAME).is_file()]
    if missing:
        raise LeaderboardError(f"no such entr{'y' if len(missing) == 1 else 'ies'} in "
                               f"{submissions_dir}: {', '.join(missing)}")
    return sorted(p for p in found if p.relative_to(submissions_dir).parts[0] in wanted)


@dataclass
class ExportResult:
    """What an export packed and what it left out.

    Attributes:
        count: Records packed.
        skipped: One line per record left out: its path and why import would refuse it.
    """

    count: int
    skipped: list[str] = field(default_factory=list)


def _exportable(submissions_dir: Path,
                ids: Iterable[str] | None) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The records import would accept (name, bytes), and one problem line per other record."""
    members: list[tuple[str, bytes]] = []
    problems: list[str] = []
    for path in _record_files(submissions_dir, ids):
        name = path.relative_to(submissions_dir).as_posix()
        try:
            data = path.read_bytes()
        except OSError as exc:  # e.g. removed since the listing
            problems.append(f"{path}: unreadable ({exc})")
            continue
        try:
            if _ANALYSIS_MEMBER_PATTERN.fullmatch(name):
                expected = _canonical_name(read_analysis_record(path))
            else:
                record = read_record(path)
                expected = f"{record.entry_id}/{MEASUREMENTS_DIRNAME}/{record.board}.json"
                missing = missing_provenance(record)
                if missing:
                    raise ValueError(f"{path}: measured record lacks provenance: "
                                     f"{', '.join(missing)}")
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if name != expected:
            problems.append(f"{path}: record belongs at {expected}")
            continue
        members.append((name, data))
    return members, problems


def export_records(submissions_dir: Path, archive: Path, ids: Iterable[str] | None = None) -> int:
    """Pack records into a .tar.gz; the same records always give the same bytes.

    Members are sorted, with mtime 0, owner 0:0, mode 0644 and no gzip timestamp or name;
    ``manifest.json`` comes first and lists each file's sha256
    (:func:`leaderboard.records_pack.pack_members`). Files are packed as they are on disk (not
    re-serialised), so the digests match the repository's files.

    Args:
        submissions_dir: The submissions folder.
        archive: The .tar.gz to write (atomically).
        ids: Only these entries (all when ``None``).

    Returns:
        The number of records packed.

    Raises:
        LeaderboardError: An unknown id, or a record that is invalid or misplaced (an archive
            that import would refuse is not written).
    """
    members, problems = _exportable(submissions_dir, ids)
    if problems:
        raise LeaderboardError("not exported; fix or re-measure these records first:\n"
                               + "\n".join(problems))
    atomic_write_bytes(archive, pack_members(members))  # fsyncs the folder too
    return len(members)


def export_valid_records(submissions_dir: Path, archive: Path,
                         ids: Iterable[str] | None = None) -> ExportResult:
    """Like :func:`export_records`, but a record import would refuse is left out and listed.

    For the GPU lease: one record lacking a provenance field must not cost all the others.

    Returns:
        The number packed and one line (path and why) per record left out.

    Raises:
        LeaderboardError: An unknown id or no submissions folder.
    """
    members, problems = _exportable(submissions_dir, ids)
    atomic_write_bytes(archive, pack_members(members))
    return ExportResult(count=len(members), skipped=problems)


def _canonical_name(record: object) -> str:
    """The archive member name of a profile or sweep record."""
    return canonical_path(Path("."), record).as_posix()  # type: ignore[arg-type]


@dataclass
class ImportResult:
    """What an import did (or, when anything was refused, would have done).

    Attributes:
        created: Record paths (relative to the submissions folder) that did not exist.
        updated: Existing records replaced (only with ``overwrite``).
        unchanged: Records identical to the file already there.
        refused: ``(member, reason)`` pairs; when any, nothing was written.
        replaced: ``(record, old measured_at, new measured_at)`` of each update.
    """

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def written(self) -> bool:
        """True when the import was applied."""
        return not self.refused


def _member_kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"a symlink (to {member.linkname!r})"
    if member.islnk():
        return f"a hard link (to {member.linkname!r})"
    if member.isdir():
        return "a directory"
    if member.isfile():
        return "a regular file"
    return "a device, FIFO or other special file"


def _path_problem(name: str) -> str | None:
    """Why a member name is not acceptable, or ``None``."""
    if name.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", name):
        return "absolute path"
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        return "path goes outside the submissions folder ('..')"
    if (name != MANIFEST_NAME and not _MEMBER_PATTERN.fullmatch(name)
            and not _ANALYSIS_MEMBER_PATTERN.fullmatch(name)):
        return (f"not a record path; expected <id>/{MEASUREMENTS_DIRNAME}/"
                "<hardware>--<scenario>.json (or a profile/ or sweep/ record)")
    return None


def _check_analysis_record(name: str, document: object, submissions_dir: Path) -> str:
    """Why a profile or sweep member is not acceptable, or ''."""
    try:
        record = parse_analysis_record(document)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return f"invalid record: {details}"
    except ValueError as exc:
        return str(exc)
    if _canonical_name(record) != name:
        return f"record belongs at {_canonical_name(record)}"
    if not (submissions_dir / record.entry_id / SUBMISSION_FILENAME).is_file():
        return f"no submission '{record.entry_id}' in {submissions_dir}"
    # The rules of measurement records that apply to analysis records too (as `check` applies).
    gmacs, _ = submission_facts(submissions_dir, record.entry_id)
    return "; ".join(analysis_record_problems(record, gmacs=gmacs))


SYNTHETIC_REFUSAL = ("record is marked synthetic (made-up test data), which the published build "
                     "refuses; only a test tree takes it (--allow-synthetic)")


def _check_record(name: str, data: bytes, submissions_dir: Path,
                  allow_synthetic: bool = False) -> tuple[MeasurementRecord | None, str]:
    """Validate a record's bytes against the schema, its path and the submissions."""
    try:
        document = loads_json(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"line {exc.lineno}: not valid JSON: {exc.msg}"
    except ValueError as exc:
        return None, f"not valid JSON: {exc}"
    if _ANALYSIS_MEMBER_PATTERN.fullmatch(name):
        if isinstance(document, dict) and document.get("synthetic") is True and not allow_synthetic:
            return None, SYNTHETIC_REFUSAL
        return None, _check_analysis_record(name, document, submissions_dir)
    try:
        record = MeasurementRecord.model_validate(document)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return None, f"invalid measurement record: {details}"
    match = _MEMBER_PATTERN.fullmatch(name)
    assert match is not None  # the name was checked before
    for key, value in (("entry_id", record.entry_id), ("hardware", record.hardware),
                       ("scenario", record.scenario)):
        path_value = match.group({"entry_id": "entry"}.get(key, key))
        if value != path_value:
            return None, f"{key} is {value!r} but the path says {path_value!r}"
    canonical = f"{record.entry_id}/{MEASUREMENTS_DIRNAME}/{record.board}.json"
    if name != canonical:
        return None, f"record belongs at {canonical}"
    if not (submissions_dir / record.entry_id / SUBMISSION_FILENAME).is_file():
        return None, f"no submission '{record.entry_id}' in {submissions_dir}"
    if record.synthetic and not allow_synthetic:
        return None, SYNTHETIC_REFUSAL
    # The same rules as the validator's writer and `check` (leaderboard.record_rules).
    gmacs, claimed_top1 = submission_facts(submissions_dir, record.entry_id)
    problems = record_problems(record, gmacs=gmacs, claimed_top1=claimed_top1)
    if problems:
        return None, "; ".join(problems)
    return record, ""


def _read_members(archive: Path, result: ImportResult) -> dict[str, bytes]:
    """Every acceptable member's bytes; refusals go to ``result``."""
    contents: dict[str, bytes] = {}
    total_bytes = 0
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise LeaderboardError(f"{archive}: not a readable .tar.gz ({exc})") from exc
    with tar:
        try:
            for count, member in enumerate(tar, 1):
                if count > MAX_MEMBERS:
                    result.refused.append((member.name, f"more than {MAX_MEMBERS} members"))
                    break
                name = member.name
                problem = _path_problem(name)
                if problem is None and not member.isfile():
                    problem = f"{_member_kind(member)}, not a regular file"
                if problem is None and member.size > MAX_MEMBER_BYTES:
                    problem = f"{member.size} bytes is over the {MAX_MEMBER_BYTES} byte limit"
                if problem is None and name in contents:
                    problem = "appears twice in the archive"
                if problem:
                    result.refused.append((name, problem))
                    continue
                total_bytes += member.size
                if total_bytes > MAX_TOTAL_BYTES:
                    result.refused.append((name, f"the members add up to more than "
                                                 f"{MAX_TOTAL_BYTES // 2**20} MiB"))
                    break
                handle = tar.extractfile(member)
                assert handle is not None  # regular file
                contents[name] = handle.read(MAX_MEMBER_BYTES + 1)
        except (OSError, tarfile.TarError, EOFError) as exc:
            result.refused.append((str(archive), f"corrupt archive ({exc})"))
    return contents


def _check_manifest(contents: dict[str, bytes], result: ImportResult) -> None:
    raw = contents.pop(MANIFEST_NAME, None)
    if raw is None:
        result.refused.append((MANIFEST_NAME, "missing; archives come from `leaderboard records export`"))
        return
    try:
        manifest = json.loads(raw.decode("utf-8"))
        files = manifest["files"]
        if manifest.get("format") != ARCHIVE_FORMAT or not isinstance(files, dict):
            raise ValueError("not a records manifest")
        if manifest.get("version") != ARCHIVE_VERSION:
            raise ValueError(f"unsupported version {manifest.get('version')!r}")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        result.refused.append((MANIFEST_NAME, f"unreadable manifest ({exc})"))
        return
    for name, data in contents.items():
        expected = files.get(name)
        if expected is None:
            result.refused.append((name, "not listed in the manifest"))
        elif _sha256(data) != expected:
            result.refused.append((name, f"sha256 {_sha256(data)[:12]}... does not match the "
                                         f"manifest's {str(expected)[:12]}..."))
    for name in sorted(set(files) - set(contents)):
        if not any(member == name for member, _ in result.refused):
            result.refused.append((name, "listed in the manifest but missing from the archive"))


def import_records(archive: Path, submissions_dir: Path, overwrite: bool = False,
                   on_wait: Callable[[str], None] | None = None,
                   allow_synthetic: bool = False,
                   progress: Callable[[int, int, str], None] | None = None) -> ImportResult:
    """Check every member of an archive and, when all pass, write the records atomically.

    Args:
        archive: A .tar.gz from :func:`export_records`.
        submissions_dir: The submissions folder to import into.
        overwrite: Replace existing records whose content differs (else those are refused).
        on_wait: Told when another import holds the tree's lock (this one waits for it).
        allow_synthetic: Take records marked synthetic (test trees only; the build refuses them).
        progress: Called ``(checked, members, name)`` as each member is checked
            (``leaderboard.progress``).

    Returns:
        What was (or, when anything was refused, would have been) created, updated and left
        unchanged, and every refusal with its reason.

    Raises:
        LeaderboardError: The archive cannot be opened at all, or the written files are not
            on disk as planned (then no count is reported).
    """
    result = ImportResult()
    contents, result.refused = read_archive(archive, submissions_dir, allow_synthetic)
    if not submissions_dir.is_dir():
        raise LeaderboardError(f"{submissions_dir}: no submissions folder here")
    # One import per tree at a time, from the comparison with the files there to the last
    # write: two imports interleaved would each count files the other then changes.
    with tree_lock(submissions_dir, on_wait):
        # A killed earlier import is finished first, so "exists already" means what it says.
        recover_staged(submissions_dir)
        _plan_and_write(contents, submissions_dir, overwrite, result, progress)
    remove_stale_build_staging()  # and what a killed site build left in the scratch folder
    return result


def _plan_and_write(contents: dict[str, bytes], submissions_dir: Path, overwrite: bool,
                    result: ImportResult,
                    progress: Callable[[int, int, str], None] | None = None) -> None:
    """Compare the checked members with the tree and write them (caller holds the lock)."""
    plan: list[tuple[Path, bytes, str]] = []
    for checked, name in enumerate(sorted(contents), start=1):
        if progress is not None:
            progress(checked, len(contents), name)
        data = contents[name]
        target = submissions_dir / name
        problem = outside_problem(target, submissions_dir)
        if problem:
            result.refused.append((name, problem))
            continue
        if not target.exists():
            plan.append((target, data, "created"))
        elif target.is_file() and target.read_bytes() == data:
            result.unchanged.append(name)
        elif overwrite:
            problem, times = _older_problem(target.read_bytes(), data)
            if problem:
                result.refused.append((name, problem))
            else:
                plan.append((target, data, "updated"))
                result.replaced.append((name, *times))
        else:
            result.refused.append((name, "a different record exists there; pass --overwrite "
                                         "to replace it"))
    for target, _data, kind in plan:
        getattr(result, kind).append(target.relative_to(submissions_dir).as_posix())
    if result.refused:
        return
    write_checked(submissions_dir, {target.relative_to(submissions_dir).as_posix(): data
                                    for target, data, _kind in plan})


def _older_problem(current: bytes, incoming: bytes) -> tuple[str, tuple[str, str]]:
    """Why ``incoming`` must not replace ``current`` (older by measured_at), or '' and the two
    times (old, new) for the list of replacements."""
    try:
        old = parse_measured_at(loads_json(current.decode("utf-8")).get("measured_at"))  # type: ignore[union-attr]
        new = parse_measured_at(loads_json(incoming.decode("utf-8")).get("measured_at"))  # type: ignore[union-attr]
    except (ValueError, AttributeError) as exc:
        return f"cannot compare measured_at with the record there ({exc})", ("", "")
    if new < old:
        return (f"the record there is newer ({old.isoformat()}) than this one "
                f"({new.isoformat()}); --overwrite only replaces older records"), ("", "")
    # The same time: --overwrite says so (`records merge` calls it a conflict).
    return "", (old.isoformat(), new.isoformat())


def outside_problem(target: Path, submissions_dir: Path) -> str:
    """Why writing ``target`` would leave the submissions folder, or ''."""
    # A symlinked measurements folder in the tree must not redirect writes elsewhere.
    if not target.parent.resolve().is_relative_to(submissions_dir.resolve()):
        return f"{target.parent} resolves outside {submissions_dir}"
    return ""


def write_checked(submissions_dir: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` all or nothing, then read them back (the caller holds the tree lock).

    Raises:
        LeaderboardError: A file is not on disk as written; then no count is reported.
    """
    # Staged, then moved into place: a kill before the commit writes nothing, one after it is
    # finished by the next import (and reported by `check` until then).
    write_all_or_nothing(submissions_dir, files)
    # The counts printed are the files read back, not the plan.
    missing = [name for name, data in sorted(files.items())
               if not (submissions_dir / name).is_file()
               or (submissions_dir / name).read_bytes() != data]
    if missing:
        raise LeaderboardError(f"{len(missing)} record(s) are not on disk as written (another "
                               f"writer in this tree?): {', '.join(missing[:5])}")


def read_archive(archive: Path, submissions_dir: Path,
                 allow_synthetic: bool = False) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """The checked records of an archive, and every refusal ``(member, reason)``.

    Every member is checked (path, type, size, manifest digest, record schema and rules, entry
    exists); nothing is written.

    Raises:
        LeaderboardError: The archive cannot be opened at all.
    """
    result = ImportResult()
    contents = _read_members(archive, result)
    _check_manifest(contents, result)
    refused_names = {name for name, _ in result.refused}
    checked = {}
    for name in sorted(contents):
        if name in refused_names:
            continue
        _, problem = _check_record(name, contents[name], submissions_dir, allow_synthetic)
        if problem:
            result.refused.append((name, problem))
        else:
            checked[name] = contents[name]
    return checked, result.refused
