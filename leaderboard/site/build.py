"""`leaderboard build`: data -> Markdown pages and assets in a staging folder -> mkdocs build.

Generation is kept apart from the engine: everything mkdocs sees is a plain docs folder plus
the project's ``mkdocs.yml``, so moving to another engine that reads ``mkdocs.yml`` (Zensical)
stays a configuration change.

Model pages (one per entry, thousands) do not go through the engine one by one: mkdocs spends
~7 ms a page on Markdown, theme and search, which made those pages most of the build. The
engine renders one placeholder model page, and its HTML is the shell every entry's body is
poured into. The shell is the theme's own output, so model pages look and behave like the
rest; the only coupling to the engine is the placeholder's id and content slot.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from leaderboard.atomic import (
    BUILD_MARKER,
    BUILD_STAGING_NAME,
    check_replaceable,
    has_stages,
    recover_dir,
    recover_staged,
    remove_stale_temp_files,
    replace_dir,
    scratch_dir,
    temp_dir_beside,
    tree_lock,
)
from leaderboard.boards import load_boards
from leaderboard.data_version import data_version, stamp_docs
from leaderboard.errors import LeaderboardError
from leaderboard.findings.from_boards import board_findings
from leaderboard.site import files, pages, search_index

log = logging.getLogger(__name__)

PolicyRows = Sequence[Mapping[str, str]]

if TYPE_CHECKING:
    from leaderboard.progress import ProgressFn

# What `leaderboard build` reports progress on, in order (the last one ends with the swap).
BUILD_STAGES = ("pages and charts", "mkdocs", "model pages and search", "downloads and swap")
MODEL_PLACEHOLDER_ID = "__lb_model__"
STAGING_NAME = BUILD_STAGING_NAME
MODEL_SLOT = '<div id="lb-model-slot"></div>'
MODEL_PLACEHOLDER_PAGE = f"""---
title: {MODEL_PLACEHOLDER_ID}
hide:
  - navigation
  - toc
search:
  exclude: true
---
{MODEL_SLOT}
"""


@dataclass
class GeneratedSite:
    """What generation produced, before the engine runs."""

    docs: dict[str, str]
    """Pages and assets for the engine's docs folder."""
    model_bodies: dict[str, str]
    """Entry id -> model page body (HTML), poured into the rendered shell."""
    direct: dict[str, str]
    """Files written straight into the built site (tier badges)."""
    entries: int
    measured: int
    search_docs: list[dict[str, str]] = field(default_factory=list)
    """Search documents for the model pages (they bypass the engine's search plugin)."""

    @property
    def pages(self) -> int:
        """Pages in the site, model pages included."""
        return sum(p.endswith(".md") for p in self.docs) - 1 + len(self.model_bodies)


@dataclass(frozen=True)
class BuildResult:
    """What a build produced."""

    pages: int
    entries: int
    measured: int
    seconds: float


def _source_date_epoch(repo: Path) -> str:
    """A fixed build timestamp (sitemap dates), so the same input gives the same bytes."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        out = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%ct"],
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip() or "0"
    except (OSError, subprocess.SubprocessError):
        return "0"


def generate(submissions_dir: Path, site_source: Path, allow_synthetic: bool = False,
             site_url: str = "", *, policy_rows: PolicyRows) -> GeneratedSite:
    """Render every page, asset and download in memory.

    Args:
        policy_rows: What a submission pull request may change
            (:func:`leaderboard.policy.policy_table`), for the how-to-submit page.
    """
    data = load_boards(submissions_dir, allow_synthetic=allow_synthetic)
    docs: dict[str, str] = {
        **files.site_assets(),
        f"models/{MODEL_PLACEHOLDER_ID}.md": MODEL_PLACEHOLDER_PAGE,
    }
    downloads, csv_rows = files.downloads(data)
    docs.update(downloads)
    analysis_downloads, analysis_rows = files.analysis_downloads(data)
    docs.update(analysis_downloads)
    found = board_findings(data)
    docs.update(files.findings_download(found))
    for path, text, extra in [
        pages.home_page(data),
        *pages.leaderboard_pages(data),
        pages.tradeoffs_page(data),
        pages.compare_page(data),
        pages.energy_page(data),
        pages.findings_page(data, found),
        pages.methodology_page(),
        pages.submit_page(data.timm_version, policy_rows),
        pages.downloads_page(data, csv_rows, files.CSV_COLUMNS, analysis_rows),
    ]:
        docs[path] = text
        docs.update(extra)
    stamp_docs(docs, data_version(submissions_dir))  # date + commit of the data: downloads, pages
    bodies = {entry.id: pages.model_page_body(entry, data, site_url) for entry in data.entries}
    return GeneratedSite(docs, bodies, files.badges(data), len(data.entries),
                         data.measured_count(), search_index.model_documents(data))


def write_files(root: Path, outputs: dict[str, str]) -> None:
    """Write text files under ``root``, creating folders once each."""
    made_dirs: set[Path] = set()
    for rel_path, text in outputs.items():
        target = root / rel_path
        if target.parent not in made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(target.parent)
        target.write_text(text, encoding="utf-8")


def generate_docs(submissions_dir: Path, site_source: Path, docs_dir: Path,
                  allow_synthetic: bool = False, site_url: str = "", *,
                  policy_rows: PolicyRows) -> GeneratedSite:
    """Generate and write the engine's docs folder (hand-written pages included)."""
    site = generate(submissions_dir, site_source, allow_synthetic, site_url,
                    policy_rows=policy_rows)
    hand_written = site_source / "docs"
    if hand_written.is_dir():
        shutil.copytree(hand_written, docs_dir, dirs_exist_ok=True)
    write_files(docs_dir, site.docs)
    return site


def pour_model_pages(site_dir: Path, bodies: dict[str, str]) -> None:
    """Write one page per entry from the rendered placeholder shell, then drop the shell."""
    shell_path = site_dir / "models" / f"{MODEL_PLACEHOLDER_ID}.html"
    shell = shell_path.read_text("utf-8")
    if shell.count(MODEL_SLOT) != 1:
        raise LeaderboardError(f"{shell_path}: the theme did not keep the model slot; "
                               "model pages cannot be written")
    before, after = shell.split(MODEL_SLOT)
    write_files(site_dir, {
        f"models/{entry_id}.html": (before.replace(MODEL_PLACEHOLDER_ID, entry_id) + body
                                    + after.replace(MODEL_PLACEHOLDER_ID, entry_id))
        for entry_id, body in bodies.items()
    })
    shell_path.unlink()
    _pour_sitemap(site_dir, sorted(bodies))


def _pour_sitemap(site_dir: Path, entry_ids: list[str]) -> None:
    """Replace the placeholder's sitemap entry with one per model page."""
    sitemap = site_dir / "sitemap.xml"
    if not sitemap.is_file():
        return
    text = sitemap.read_text("utf-8")
    marker = text.find(MODEL_PLACEHOLDER_ID)
    if marker < 0:
        return
    start = text.rfind("<url>", 0, marker)
    end = text.find("</url>", marker) + len("</url>")
    block = text[start:end]
    expanded = "\n    ".join(block.replace(MODEL_PLACEHOLDER_ID, i) for i in entry_ids)
    text = text[:start] + expanded + text[end:]
    sitemap.write_text(text, encoding="utf-8")
    gz_path = site_dir / "sitemap.xml.gz"
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    with open(gz_path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=epoch,
                                                   filename="") as handle:
        handle.write(text.encode("utf-8"))


def build_site(submissions_dir: Path, site_source: Path, output: Path,
               allow_synthetic: bool = False, *, policy_rows: PolicyRows,
               force: bool = False, progress: ProgressFn | None = None) -> BuildResult:
    """Build the static site into ``output`` (replaced as a whole).

    Args:
        policy_rows: What a submission pull request may change, from
            :func:`leaderboard.policy.policy_table`. The caller passes it so that the site
            depends on the policy's output, not on the policy module.
        force: Replace ``output`` even when it is a non-empty folder that is not a previous
            build.
        progress: Called ``(stage, BUILD_STAGES, name)`` as each stage starts and once at the
            end (``leaderboard.progress``).

    Raises:
        ProblemsFound: A submission or record is invalid (nothing is written).
        LeaderboardError: mkdocs refused the generated site (for example a broken link), or
            ``output`` holds something other than a previous build and ``force`` is false.
    """
    started = time.perf_counter()
    config_file = site_source / "mkdocs.yml"
    if not config_file.is_file():
        raise LeaderboardError(f"{config_file}: no mkdocs.yml; the site's hand-written pages come "
                               "with a clone of the repository: run from its root or pass "
                               "--site-source DIR")
    # mkdocs reads the build date from the environment; set it for this build only.
    previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = _source_date_epoch(site_source.resolve().parent)
    try:
        result = _build(submissions_dir, site_source, output, allow_synthetic, config_file, started,
                        policy_rows, force, progress or (lambda _done, _total, _label: None))
    finally:
        if previous_epoch is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous_epoch
    return result


def _build(submissions_dir: Path, site_source: Path, output: Path, allow_synthetic: bool,
           config_file: Path, started: float, policy_rows: PolicyRows,
           force: bool, progress: ProgressFn) -> BuildResult:
    """Generate into a staging folder, run mkdocs beside ``output``, then swap it in."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    scratch = scratch_dir()
    # First, what killed builds and imports left: their staging folders here and beside the
    # output (named like atomic's temp files, removed once their writer is dead), a half-done
    # swap of the output, and a records import's stage in the tree (finished or dropped under
    # the import lock), so the next run leaves none, whatever stops this one.
    remove_stale_temp_files(scratch, STAGING_NAME)
    remove_stale_temp_files(output.parent, output.name)
    recover_dir(output)
    if has_stages(submissions_dir):
        with tree_lock(submissions_dir):
            recover_staged(submissions_dir)
    with tempfile.TemporaryDirectory(prefix=f".{STAGING_NAME}.{os.getpid()}.", suffix=".tmp",
                                     dir=scratch) as staging_name:
        staging = Path(staging_name)
        config = load_config(str(config_file), docs_dir=str(staging))
        progress(0, len(BUILD_STAGES), BUILD_STAGES[0])
        site = generate_docs(submissions_dir, site_source, staging, allow_synthetic,
                             config.get("site_url") or "", policy_rows=policy_rows)
        if not config.get("site_url"):
            log.warning("site_url is not set (site/mkdocs.yml or LEADERBOARD_SITE_URL): badge "
                        "and label embed snippets will carry relative links that break in a "
                        "README. Expected for a local preview; for a published site set "
                        "LEADERBOARD_SITE_URL to its address")
        check_replaceable(output, force)
        # Build beside the target, then swap: a failed or killed build never leaves a
        # half-written site (leaderboard/atomic.py).
        site_tmp = temp_dir_beside(output)
        try:
            config["site_dir"] = str(site_tmp)
            config["strict"] = True  # a broken internal link fails the build
            _quiet_mkdocs()
            progress(1, len(BUILD_STAGES), BUILD_STAGES[1])
            try:
                mkdocs_build(config)
            except (MkDocsException, SystemExit) as exc:
                raise LeaderboardError(f"mkdocs build failed: {exc}") from exc
            progress(2, len(BUILD_STAGES), BUILD_STAGES[2])
            pour_model_pages(site_tmp, site.model_bodies)
            search_index.add_model_pages(site_tmp, site.search_docs)
            progress(3, len(BUILD_STAGES), BUILD_STAGES[3])
            write_files(site_tmp, site.direct)
            (site_tmp / BUILD_MARKER).write_text("built by `leaderboard build`\n", encoding="utf-8")
            replace_dir(site_tmp, output)
            progress(len(BUILD_STAGES), len(BUILD_STAGES), "done")
        except BaseException:
            shutil.rmtree(site_tmp, ignore_errors=True)
            raise
    return BuildResult(site.pages, site.entries, site.measured, time.perf_counter() - started)


def _fast_scratch() -> str | None:
    """The memory-backed scratch folder, or ``None`` (see :func:`leaderboard.atomic.scratch_dir`)."""
    scratch = scratch_dir()
    return str(scratch) if scratch == Path("/dev/shm") else None


def _quiet_mkdocs() -> None:
    # mkdocs logs every page at INFO; keep warnings (they fail the strict build anyway).
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
