"""The data version: date + commit of the data, stamped on downloads and pages."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leaderboard.data_version import (
    VERSION_FILE,
    DataVersion,
    citation_section,
    data_version,
    stamp_docs,
    stamp_json_download,
)

COMMIT = "197acbc5d2e1" + "0" * 28


def git(repo: Path, *args: str, date: str = "2026-11-30T23:30:00-02:00") -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "submissions" / "a.b").mkdir(parents=True)
    (root / "submissions" / "a.b" / "submission.yaml").write_text("id: a.b\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "data")
    return root


def test_the_version_is_the_last_data_commit_and_its_utc_date(repo):
    data_commit = git(repo, "rev-parse", "HEAD")
    # a code-only commit later does not make a new data version
    (repo / "README.md").write_text("docs\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "docs", date="2026-12-05T10:00:00+00:00")
    version = data_version(repo / "submissions")
    # 23:30 at UTC-2 is the next day in UTC
    assert version == DataVersion("2026-12-01", data_commit, modified=False)
    assert version.label == f"2026-12-01-{data_commit[:12]}"
    assert version.release_tag == f"data-2026-12-01-{data_commit[:12]}"
    assert version.releasable


def test_uncommitted_data_is_marked_modified_and_not_releasable(repo):
    (repo / "submissions" / "c.d").mkdir()
    (repo / "submissions" / "c.d" / "submission.yaml").write_text("id: c.d\n")
    version = data_version(repo / "submissions")
    assert version.modified and not version.releasable
    assert version.label.endswith("-modified")
    assert version.to_dict()["release_tag"] is None


def test_outside_git_the_build_date_is_used(tmp_path):
    (tmp_path / "submissions").mkdir()
    version = data_version(tmp_path / "submissions", now=datetime(2026, 3, 4, 23, 59, tzinfo=UTC))
    assert version == DataVersion("2026-03-04", None)
    assert version.label == "2026-03-04-uncommitted" and not version.releasable


def test_a_json_download_gets_the_version_first_and_stays_valid():
    version = DataVersion("2026-12-01", COMMIT)
    stamped = stamp_json_download('{"boards":[],"entries":[{"id":"a.b"}]}\n', version)
    payload = json.loads(stamped)
    assert payload["data_version"] == {"label": "2026-12-01-197acbc5d2e1", "date": "2026-12-01",
                                       "commit": COMMIT, "modified": False,
                                       "release_tag": "data-2026-12-01-197acbc5d2e1"}
    assert payload["entries"] == [{"id": "a.b"}]
    assert json.loads(stamp_json_download("{}", version)) == {"data_version": version.to_dict()}
    with pytest.raises(ValueError):
        stamp_json_download("[1]", version)


def test_stamp_docs_adds_a_manifest_with_digests_and_the_citation():
    version = DataVersion("2026-12-01", COMMIT)
    docs = {"downloads/entries.csv": "entry_id\na.b\n", "downloads/entries.json": '{"entries":[]}\n',
            "downloads.md": "# Downloads\n", "index.md": "# Home\n"}
    stamp_docs(docs, version)
    manifest = json.loads(docs[VERSION_FILE])
    assert manifest["data_version"]["label"] == version.label
    assert manifest["files"]["entries.csv"] == {
        "sha256": hashlib.sha256(b"entry_id\na.b\n").hexdigest(), "bytes": 13}
    # the digest is of the stamped JSON, the bytes a reader downloads
    assert manifest["files"]["entries.json"]["sha256"] == hashlib.sha256(
        docs["downloads/entries.json"].encode()).hexdigest()
    assert "## Cite a release" in docs["downloads.md"]
    assert "releases/tag/data-2026-12-01-197acbc5d2e1" in docs["downloads.md"]
    # every generated page ends with the version, the citation before it on Downloads
    assert docs["index.md"].startswith("# Home\n\n<p class=\"lb-data-version\">")
    assert "Data version 2026-12-01-197acbc5d2e1 (commit 197acbc5d2e1)" in docs["index.md"]
    assert docs["downloads.md"].index("## Cite a release") < docs["downloads.md"].index("lb-data-version")
    assert "lb-data-version" not in docs["downloads/entries.csv"]


def test_the_citation_says_when_a_build_cannot_be_cited():
    text = citation_section(DataVersion("2026-12-01", COMMIT, modified=True))
    assert "cannot be cited" in text


def test_the_release_link_follows_the_repository_ci_builds_from(monkeypatch):
    monkeypatch.setenv("GITHUB_REPOSITORY", "someone/board")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    text = citation_section(DataVersion("2026-12-01", COMMIT))
    assert "https://github.example/someone/board/releases/tag/data-2026-12-01-197acbc5d2e1" in text


def test_a_real_build_stamps_downloads_and_every_page(synthetic_site: Path):
    manifest = json.loads((synthetic_site / VERSION_FILE).read_text("utf-8"))
    label = manifest["data_version"]["label"]
    assert label.endswith("-uncommitted")  # the synthetic tree is not a git checkout
    assert set(manifest["files"]) == {"entries.csv", "entries.json", "profiles.csv", "sweep.csv",
                                      "findings.json"}
    for name, facts in manifest["files"].items():
        data = (synthetic_site / "downloads" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == facts["sha256"], name
    entries = json.loads((synthetic_site / "downloads/entries.json").read_text("utf-8"))
    assert entries["data_version"]["label"] == label
    model_page = next((synthetic_site / "models").glob("*.html")).read_text("utf-8")
    for page in (synthetic_site / "index.html", synthetic_site / "downloads.html"):
        assert f"Data version {label}" in page.read_text("utf-8"), page
    assert f"Data version {label}" in model_page
    assert "Cite a release" in (synthetic_site / "downloads.html").read_text("utf-8")
