"""`leaderboard build`: data -> Markdown pages and assets in a staging folder -> mkdocs build.

Generation is kept apart from the engine: everything mkdocs sees is a plain docs folder plus
the project's ``mkdocs.yml``, so moving to another engine that reads ``mkdocs.yml`` (Zensical)
stays a configuration change.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from leaderboard.errors import LeaderboardError
from leaderboard.site import files, pages
from leaderboard.site.data import load_site_data

log = logging.getLogger(__name__)


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


def generate_docs(submissions_dir: Path, site_source: Path, docs_dir: Path,
                  allow_synthetic: bool = False, site_url: str = "") -> tuple[int, int, int]:
    """Write every generated page and asset into ``docs_dir``.

    Returns:
        (pages written, entries, measured entries).
    """
    data = load_site_data(submissions_dir, allow_synthetic=allow_synthetic)
    hand_written = site_source / "docs"
    if hand_written.is_dir():
        shutil.copytree(hand_written, docs_dir, dirs_exist_ok=True)
    assets = resources.files("leaderboard.site").joinpath("assets")
    outputs: dict[str, str] = {
        "assets/leaderboard.js": assets.joinpath("leaderboard.js").read_text("utf-8"),
        "assets/leaderboard.css": assets.joinpath("leaderboard.css").read_text("utf-8"),
        "assets/vendor/vega-bundle.js": files.vega_bundle(),
        "assets/vendor/iframe-worker/shim.js":
            assets.joinpath("iframe-worker", "shim.js").read_text("utf-8"),
        "assets/vendor/iframe-worker/LICENSE":
            assets.joinpath("iframe-worker", "LICENSE").read_text("utf-8"),
    }
    downloads, csv_rows = files.downloads(data)
    outputs.update(downloads)
    outputs.update(files.badges(data))
    generated = [
        pages.home_page(data),
        *pages.leaderboard_pages(data),
        pages.tradeoffs_page(data),
        pages.methodology_page(),
        pages.submit_page(data.timm_version),
        pages.downloads_page(data, csv_rows, files.CSV_COLUMNS),
        *(pages.model_page(entry, data, site_url) for entry in data.entries),
    ]
    for path, text, extra in generated:
        outputs[path] = text
        outputs.update(extra)
    made_dirs: set[Path] = set()
    for rel_path, text in outputs.items():
        target = docs_dir / rel_path
        if target.parent not in made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(target.parent)
        target.write_text(text, encoding="utf-8")
    return len(generated), len(data.entries), data.measured_count()


def build_site(submissions_dir: Path, site_source: Path, output: Path,
               allow_synthetic: bool = False) -> BuildResult:
    """Build the static site into ``output`` (replaced as a whole).

    Raises:
        ProblemsFound: A submission or record is invalid (nothing is written).
        LeaderboardError: mkdocs refused the generated site (for example a broken link).
    """
    started = time.perf_counter()
    config_file = site_source / "mkdocs.yml"
    if not config_file.is_file():
        raise LeaderboardError(f"{config_file}: no mkdocs.yml; pass --site-source DIR")
    # mkdocs reads the build date from the environment; set it for this build only.
    previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = _source_date_epoch(site_source.resolve().parent)
    try:
        result = _build(submissions_dir, site_source, output, allow_synthetic, config_file, started)
    finally:
        if previous_epoch is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous_epoch
    return result


def _build(submissions_dir: Path, site_source: Path, output: Path, allow_synthetic: bool,
           config_file: Path, started: float) -> BuildResult:
    """Generate into a staging folder, run mkdocs beside ``output``, then swap it in."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="leaderboard-docs-", dir=_fast_scratch()) as staging_name, \
            tempfile.TemporaryDirectory(prefix=".site-", dir=output.parent) as site_tmp:
        staging = Path(staging_name)
        config = load_config(str(config_file), docs_dir=str(staging), site_dir=site_tmp)
        page_count, entries, measured = generate_docs(
            submissions_dir, site_source, staging, allow_synthetic, config.get("site_url") or ""
        )
        config["strict"] = True  # a broken internal link fails the build
        _quiet_mkdocs()
        try:
            mkdocs_build(config)
        except (MkDocsException, SystemExit) as exc:
            raise LeaderboardError(f"mkdocs build failed: {exc}") from exc
        # Build beside the target, then swap: a failed build never leaves a half-written site.
        if output.exists():
            shutil.rmtree(output)
        os.replace(site_tmp, output)
        Path(site_tmp).mkdir()  # TemporaryDirectory cleans up the (now empty) name
    return BuildResult(page_count, entries, measured, time.perf_counter() - started)


def _fast_scratch() -> str | None:
    """A memory-backed folder for the staging docs when there is one.

    The staging tree is thousands of small files written once and read once; on this
    project's machines a small-file write costs ~1 ms on disk and ~0.04 ms on tmpfs.
    """
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _quiet_mkdocs() -> None:
    # mkdocs logs every page at INFO; keep warnings (they fail the strict build anyway).
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
