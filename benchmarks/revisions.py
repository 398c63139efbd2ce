"""Another commit's code beside ours, for benchmarks that measure a baseline in the same run."""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class RevisionUnavailable(Exception):
    """``git archive`` could not export the revision (unknown name, not a git checkout)."""


@contextmanager
def exported(revision: str, prefix: str = "bench-baseline-") -> Iterator[Path]:
    """Yield a temporary folder holding ``revision``'s tracked files (``git archive``).

    Raises:
        RevisionUnavailable: when git cannot export it.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        tree = Path(name)
        archive = tree / "rev.tar"
        try:
            with open(archive, "wb") as handle:
                subprocess.run(["git", "-C", str(REPO), "archive", revision], stdout=handle,
                               stderr=subprocess.PIPE, check=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RevisionUnavailable(f"git archive {revision} failed: {exc}") from exc
        with tarfile.open(archive) as tar:
            tar.extractall(tree / "code", filter="data")
        archive.unlink()
        yield tree / "code"
