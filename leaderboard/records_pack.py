"""The records archive's bytes: a deterministic .tar.gz with a sha256 manifest (stdlib only).

:mod:`leaderboard.records_archive` validates records and packs them with :func:`pack_members`;
the GPU lease's exporter (:mod:`leaderboard.measure.lease_export`) packs raw record files with the same
function when the validator itself cannot be imported there (a missing wheel), so even that
archive is one ``leaderboard records import`` reads, and checks, at home. Nothing here may
import pydantic or anything that does.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

MANIFEST_NAME = "manifest.json"
ARCHIVE_FORMAT = "leaderboard-records"
ARCHIVE_VERSION = 1
MEASUREMENTS_GLOB = "*/measurements/**/*.json"
"""Every record file under a submissions folder: boards, profile/ and sweep/ records."""


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def pack_members(members: list[tuple[str, bytes]]) -> bytes:
    """A .tar.gz of ``members`` (name, bytes) with ``manifest.json`` first; same input, same bytes.

    Members are sorted, with mtime 0, owner 0:0, mode 0644 and no gzip timestamp or name; the
    manifest lists each member's sha256.
    """
    members = sorted(members)
    manifest = {"format": ARCHIVE_FORMAT, "version": ARCHIVE_VERSION,
                "files": {name: sha256_hex(data) for name, data in members}}
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    buffer = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of the temp name and the time.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in [(MANIFEST_NAME, manifest_bytes), *members]:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = 0
                info.mode = 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def raw_record_files(submissions_dir: Path) -> list[Path]:
    """Every record file under ``submissions_dir`` (sorted), unchecked."""
    return sorted(p for p in submissions_dir.glob(MEASUREMENTS_GLOB) if p.is_file())
