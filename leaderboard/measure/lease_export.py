"""Keep a GPU lease's results in ``$OUT`` while it runs: records, summary, logs, every few seconds.

    python -m leaderboard.measure.lease_export --submissions DIR --out OUT [--logs DIR] [--probe FILE]
                                       [--every-s 10] [--once]

``scripts/gpu_session.sh`` starts this loop beside the campaign, independent of its code. Each
pass rewrites, each atomically (temp file in ``OUT``, then rename, so a kill leaves the old file
or the new one, never a torn one):

* ``records.tar.gz``: every record that ``leaderboard records import`` would accept (repacked
  only when a record file changed); a record it would refuse is left out and listed in the
  summary, never sinking the others. Where the validator cannot be imported (a wheel gap: no
  pydantic), the raw record files are packed unchecked with the same deterministic format
  (:mod:`leaderboard.records_pack`), and the import at home checks them;
* ``summary.txt``: records by status, seconds between records, what was left out and why, the
  probe's verdicts;
* ``logs.tar.gz``: the lease's log folder.

So a SIGKILL of the whole lease at any moment leaves every record finished ``every_s`` plus one
pass's time before it. The loop ends when its parent (the lease script) is gone. Stdlib only
until the validator is imported, so it runs wherever the lease does.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import statistics
import sys
import tarfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from leaderboard.atomic import atomic_write_bytes, atomic_write_text
from leaderboard.records_pack import pack_members, raw_record_files

RECORDS_NAME = "records.tar.gz"
SUMMARY_NAME = "summary.txt"
LOGS_NAME = "logs.tar.gz"
DEFAULT_EVERY_S = 10.0
"""Pass period: with a pass under a few seconds, a record reaches ``$OUT`` within ~12 s of being
written, well inside the 30 s the lease promises."""


@dataclass
class ExportPass:
    """What one pass put in ``$OUT``.

    Attributes:
        packed: Records in ``records.tar.gz``.
        left_out: One line per record left out (path and why).
        mode: ``checked`` (the validator's export) or ``raw (...why...)``.
        statuses: Record files by status (all of them, packed or not).
        seconds_between: Gaps between consecutive records' ``measured_at``, s.
    """

    packed: int = 0
    left_out: list[str] = field(default_factory=list)
    mode: str = "checked"
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds_between: list[float] = field(default_factory=list)


def _fingerprint(submissions_dir: Path) -> tuple[tuple[str, int, int], ...]:
    found = []
    for path in raw_record_files(submissions_dir):
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def export_records_now(submissions_dir: Path, archive: Path) -> tuple[int, list[str], str]:
    """Write ``archive``: checked records where the validator imports, else raw files.

    Returns:
        Records packed, lines for those left out, and the mode (``checked`` or ``raw (why)``).
    """
    try:
        from leaderboard.records_archive import export_valid_records
    except Exception as exc:  # noqa: BLE001 - any import failure means: pack raw files
        why = f"validator not importable here: {type(exc).__name__}: {exc}"
        members = []
        for path in raw_record_files(submissions_dir):
            try:
                members.append((path.relative_to(submissions_dir).as_posix(), path.read_bytes()))
            except OSError:
                continue
        atomic_write_bytes(archive, pack_members(members))
        return len(members), [], f"raw, unchecked ({why}); `records import` checks them"
    result = export_valid_records(submissions_dir, archive)
    return result.count, result.skipped, "checked"


def _statuses(submissions_dir: Path) -> tuple[collections.Counter[str], list[float]]:
    counts: collections.Counter[str] = collections.Counter()
    times = []
    for path in raw_record_files(submissions_dir):
        if path.parent.name != "measurements":  # profile/ and sweep/ records
            continue
        try:
            record = json.loads(path.read_text("utf-8"))
            counts[str(record.get("status", "?"))] += 1
            times.append(datetime.fromisoformat(str(record["measured_at"]).replace("Z", "+00:00")))
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            counts["unreadable"] += 1
    times.sort()
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    return counts, gaps


def format_summary(result: ExportPass, probe_path: Path | None, final: bool) -> str:
    """The lease's ``summary.txt``."""
    rows = [(f"records {k}", str(v)) for k, v in sorted(result.statuses.items())] or [("records", "none")]
    rows.append(("exported", f"{result.packed} record(s) in {RECORDS_NAME}, {result.mode}"))
    if result.left_out:
        rows.append(("left out", f"{len(result.left_out)} record(s) import would refuse (below)"))
    if result.seconds_between:
        rows.append(("seconds between records", f"median {statistics.median(result.seconds_between):.1f} "
                                                 f"over {len(result.seconds_between)}"))
    rows.extend(_probe_rows(probe_path))
    rows.append(("as of", f"{time.strftime('%H:%M:%S')}, {'final' if final else 'lease still running'}"))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    lines += [f"left out: {line}" for line in result.left_out]
    return "\n".join(lines) + "\n"


def _probe_rows(probe_path: Path | None) -> list[tuple[str, str]]:
    if probe_path is None:
        return []
    try:
        probe = json.loads(probe_path.read_text("utf-8"))
    except (OSError, ValueError):
        return [("probe", f"no {probe_path.name}")]
    counter = probe.get("counter") or {}
    driver = ((probe.get("nvml") or {}).get("nvmlSystemGetDriverVersion") or {}).get("value")
    rows = [("probe", f"counter {counter.get('status')}, update "
                      f"{(counter.get('update_period_s') or 0) * 1000:.0f} ms, lag {counter.get('lag')}, "
                      f"pids after context {probe.get('pids_after_context')}")]
    if driver and "rehearsal" in str(driver):
        rows.append(("REHEARSAL", "fake NVML and cuda-on-CPU: these records are not measurements"))
    return rows


def pack_logs(logs_dir: Path, archive: Path) -> None:
    """``logs_dir`` as a .tar.gz (files read whole first: a log growing meanwhile is fine)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(logs_dir.rglob("*")):
            if not path.is_file():
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            info = tarfile.TarInfo(f"logs/{path.relative_to(logs_dir).as_posix()}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    atomic_write_bytes(archive, buffer.getvalue())


class LeaseExporter:
    """One lease's exporter: :meth:`run_pass` as often as wanted; records repacked on change."""

    def __init__(self, submissions_dir: Path, out_dir: Path, logs_dir: Path | None = None,
                 probe_path: Path | None = None):
        self.submissions_dir, self.out_dir = submissions_dir, out_dir
        self.logs_dir, self.probe_path = logs_dir, probe_path
        self._last_fingerprint: tuple[tuple[str, int, int], ...] | None = None
        self._last = ExportPass()

    def run_pass(self, final: bool = False) -> ExportPass:
        """Refresh records (when changed), summary and logs in ``out_dir``."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fingerprint = _fingerprint(self.submissions_dir)
        if final or fingerprint != self._last_fingerprint or not (self.out_dir / RECORDS_NAME).exists():
            packed, left_out, mode = export_records_now(self.submissions_dir,
                                                        self.out_dir / RECORDS_NAME)
            statuses, gaps = _statuses(self.submissions_dir)
            self._last = ExportPass(packed, left_out, mode, statuses, gaps)
            self._last_fingerprint = fingerprint
        atomic_write_text(self.out_dir / SUMMARY_NAME, format_summary(self._last, self.probe_path, final))
        if self.logs_dir is not None and self.logs_dir.is_dir():
            pack_logs(self.logs_dir, self.out_dir / LOGS_NAME)
        return self._last


def main(argv: list[str] | None = None) -> int:
    """Run passes every ``--every-s`` until the parent is gone (or one, ``--once``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--logs", type=Path)
    parser.add_argument("--probe", type=Path)
    parser.add_argument("--every-s", type=float, default=DEFAULT_EVERY_S)
    parser.add_argument("--once", action="store_true", help="One final pass, then exit.")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        print(f"lease_export: {args.submissions}: no submissions folder", file=sys.stderr)
        return 2
    exporter = LeaseExporter(args.submissions, args.out, args.logs, args.probe)
    if args.once:
        result = exporter.run_pass(final=True)
        print(f"exported {result.packed} record(s) to {args.out / RECORDS_NAME} ({result.mode})"
              + (f"; left out {len(result.left_out)}, see {SUMMARY_NAME}" if result.left_out else ""))
        return 0
    parent = os.getppid()
    while os.getppid() == parent:  # orphaned: the lease script is gone, so is the lease
        started = time.monotonic()
        try:
            exporter.run_pass()
        except Exception as exc:  # noqa: BLE001 - a failed pass must not end the loop
            print(f"lease_export: pass failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        time.sleep(max(0.0, args.every_s - (time.monotonic() - started)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
