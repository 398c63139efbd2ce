"""The data version a build stamps on its downloads and pages: the date and commit of the data.

"The board as of 2026-12-01" is only citable when the numbers can be found again. The version
names the last git commit that changed the submissions folder (submissions and records), and
that commit's date (UTC): the same data always gives the same version, on any machine and any
day, and a code-only commit does not make a new one. It needs the history (a full clone; a
shallow clone of depth 1 names its one commit). A build
from a work tree whose submissions differ from the commit says so (``-modified``): such data
cannot be found again from the commit alone and is never released.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

VERSION_FILE = "downloads/version.json"
STAMPED_JSON = "downloads/entries.json"
DOWNLOADS_PAGE = "downloads.md"
# Where releases live. CI builds take it from GitHub's environment; elsewhere the project's
# home (keep it equal to [project.urls] in pyproject.toml).
DEFAULT_REPOSITORY_URL = "https://github.com/imagenet-energy-leaderboard/leaderboard"


def repository_url() -> str:
    """The repository's web address: GitHub Actions' own when running there."""
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
        return f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{repository}"
    return DEFAULT_REPOSITORY_URL


@dataclass(frozen=True)
class DataVersion:
    """Which data a build shows.

    Attributes:
        date: ``YYYY-MM-DD`` (UTC) of the commit, or of the build where there is no commit.
        commit: The 40-hex commit of the data, or ``None`` outside a git checkout.
        modified: The submissions folder differs from that commit (uncommitted changes).
    """

    date: str
    commit: str | None
    modified: bool = False

    @property
    def label(self) -> str:
        """``2026-12-01-197acbc5d2e1``: date, then the commit's first 12 hex digits."""
        if self.commit is None:
            return f"{self.date}-uncommitted"
        return f"{self.date}-{self.commit[:12]}" + ("-modified" if self.modified else "")

    @property
    def releasable(self) -> bool:
        """Only data that a commit pins down can be released and cited."""
        return self.commit is not None and not self.modified

    @property
    def release_tag(self) -> str:
        """The git tag of the data release: ``data-<label>``."""
        return f"data-{self.label}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stamped into the downloads."""
        return {"label": self.label, "date": self.date, "commit": self.commit,
                "modified": self.modified, "release_tag": self.release_tag if self.releasable else None}


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def data_version(submissions_dir: Path, now: datetime | None = None) -> DataVersion:
    """The data version of a submissions folder, from git.

    Args:
        submissions_dir: The folder the build reads.
        now: The build time, used only outside a git checkout (default: ``SOURCE_DATE_EPOCH``
            when set, else the clock).
    """
    head = None
    if submissions_dir.is_dir():
        head = _git(submissions_dir, "log", "-1", "--format=%H %cI", "--", ".")
    if head and re.fullmatch(r"[0-9a-f]{40} \S+\n?", head):
        commit, stamp = head.split()
        date = datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%d")
        status = _git(submissions_dir, "status", "--porcelain", "--untracked-files=all", "--", ".")
        return DataVersion(date, commit, modified=bool(status))
    if now is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        now = datetime.fromtimestamp(int(epoch), UTC) if epoch and epoch.isdigit() else datetime.now(UTC)
    return DataVersion(now.astimezone(UTC).strftime("%Y-%m-%d"), None)


def stamp_json_download(text: str, version: DataVersion) -> str:
    """Put ``data_version`` first in a JSON object download, leaving the rest byte for byte."""
    if not text.startswith("{"):
        raise ValueError("a JSON download to stamp must be an object")
    stamp = json.dumps({"data_version": version.to_dict()}, sort_keys=True, separators=(",", ":"))
    rest = text[1:].lstrip()
    return stamp[:-1] + ("," + rest if not rest.startswith("}") else rest)


def version_manifest(downloads: dict[str, str], version: DataVersion) -> str:
    """``downloads/version.json``: the version and the sha256 of every download it covers."""
    files = {Path(name).name: {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                               "bytes": len(text.encode("utf-8"))}
             for name, text in sorted(downloads.items())}
    return json.dumps({"data_version": version.to_dict(), "files": files}, indent=2,
                      sort_keys=True) + "\n"


def citation_section(version: DataVersion) -> str:
    """The Downloads page's "how to cite" section for this build."""
    releases = f"{repository_url()}/releases/tag/{version.release_tag}"
    if version.releasable:
        where = (f"This build is data version **{version.label}** (commit `{version.commit}`, "
                 f"{version.date}). Its files are published as the release "
                 f"[`{version.release_tag}`]({releases}), "
                 "with these names plus the version.")
    else:
        where = (f"This build is data version **{version.label}**: it was not built from a "
                 "committed state of the data, so it has no release and cannot be cited; cite "
                 "a release instead.")
    return (
        "\n\n## Cite a release\n\n"
        f"{where} `version.json` lists the data version and the sha256 of every file here, "
        "and `entries.json` carries the version in its `data_version` field.\n\n"
        "Cite a release by its tag and commit, for example:\n\n"
        "```bibtex\n"
        f"@misc{{imagenet_energy_leaderboard_{version.date.replace('-', '_')},\n"
        "  title  = {ImageNet Energy Leaderboard: inference energy per image beside accuracy},\n"
        f"  note   = {{Data release {version.release_tag}, commit {version.commit or 'none'}}},\n"
        f"  year   = {{{version.date[:4]}}},\n"
        f"  url    = {{{releases}}}\n"
        "}\n"
        "```\n\n"
        "The repository's `CITATION.cff` cites the project and the two papers its method builds "
        "on (Yang, Adamek & Armour 2024; Yarally et al. 2023).\n"
    )


def page_stamp(version: DataVersion) -> str:
    """The line every generated page ends with (model pages through their shared shell)."""
    return (f'\n\n<p class="lb-data-version"><small>Data version {version.label}'
            + (f" (commit {version.commit[:12]})" if version.commit else "")
            + "; the Downloads page says how to cite it.</small></p>\n")


def stamp_docs(docs: dict[str, str], version: DataVersion) -> None:
    """Stamp a generated site in place: JSON download, version manifest, citation, page footers.

    Args:
        docs: The generated docs folder, path -> text (``leaderboard.site.build.generate``).
        version: The data version of this build.
    """
    if STAMPED_JSON in docs:
        docs[STAMPED_JSON] = stamp_json_download(docs[STAMPED_JSON], version)
    downloads = {name: text for name, text in docs.items()
                 if name.startswith("downloads/") and name != VERSION_FILE}
    docs[VERSION_FILE] = version_manifest(downloads, version)
    if DOWNLOADS_PAGE in docs:
        docs[DOWNLOADS_PAGE] = docs[DOWNLOADS_PAGE].rstrip("\n") + citation_section(version)
    stamp = page_stamp(version)
    for name in [n for n in docs if n.endswith(".md")]:
        docs[name] = docs[name].rstrip("\n") + stamp
