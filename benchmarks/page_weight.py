"""Page weight for benchmarks/site_build.py: what a first visit to a page transfers.

A page is opened in a fresh browser context (no cache) at 1440 × 900, left until the network
is idle and one more second has passed (so charts in view, which load lazily, are counted),
and every file it requested from the site is weighed twice: as stored (``raw``) and gzip-
compressed at level 6 (``gzip``, what a static host such as GitHub Pages sends for text). Files
are read from the built site, so the figures do not depend on the local server's headers.

The baseline is the same measurement of a site built, in the same run and from the same
synthetic tree, by another revision of this repository (``--weight-baseline``, default
``main``): its code is exported with ``git archive`` and run in a subprocess.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from revisions import RevisionUnavailable, exported

VIEWPORT = {"width": 1440, "height": 900}
SETTLE_MS = 1000
WEIGHT_ENTRIES = 10000  # the size whose pages are weighed
# Targets at 10,000 entries (issue 12), on the gzip figure.
WEIGHT_TARGETS_KB = {"tradeoffs": 1500.0, "board": 600.0}
CHART_TARGET_MS = 800.0


def pages(headline: str) -> dict[str, str]:
    """The pages weighed: label -> path."""
    return {"home": "index.html", "board": f"leaderboard/{headline}.html",
            "tradeoffs": "tradeoffs.html"}


@dataclass(frozen=True)
class Weight:
    """What one visit to a page requested."""

    requests: int
    raw_bytes: int
    gzip_bytes: int


def _file_of(url: str, base: str, site: Path) -> Path | None:
    if not url.startswith(base):
        return None
    path = unquote(urlsplit(url).path).lstrip("/")
    target = site / (path or "index.html")
    return target if target.is_file() else None


def weigh(browser: Any, base: str, site: Path, path: str) -> Weight:
    """Open ``path`` once, fresh, and weigh every site file it requested."""
    context = browser.new_context(viewport=VIEWPORT)
    requested: list[str] = []
    try:
        page = context.new_page()
        page.on("requestfinished", lambda request: requested.append(request.url))
        page.goto(base + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(SETTLE_MS)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    files = [f for url in requested if (f := _file_of(url, base, site)) is not None]
    raw = gz = 0
    for file in files:
        data = file.read_bytes()
        raw += len(data)
        gz += len(gzip.compress(data, 6, mtime=0))
    return Weight(len(files), raw, gz)


def weigh_site(browser: Any, site: Path, headline: str) -> dict[str, Weight]:
    """Every page of :func:`pages`, served from ``site``."""
    from leaderboard.site.serve import serving

    with serving(site) as base:
        return {label: weigh(browser, base, site, path)
                for label, path in pages(headline).items()}


def build_baseline(revision: str, submissions: Path, output: Path) -> str | None:
    """Build ``submissions`` with ``revision``'s code into ``output``; None, or why not."""
    try:
        with exported(revision) as code:
            return _build_with(revision, code, submissions, output)
    except RevisionUnavailable as exc:
        return str(exc)


def _build_with(revision: str, code: Path, submissions: Path, output: Path) -> str | None:
    """Build ``submissions`` with the exported ``code`` of ``revision``; None, or why not."""
    # revisions differ in build_site's keywords (policy_rows arrived with the thin CLI)
    script = ("import inspect, sys; from pathlib import Path; "
              "from leaderboard.site.build import build_site; "
              "kw = {}\n"
              "if 'policy_rows' in inspect.signature(build_site).parameters:\n"
              "    from leaderboard.policy import policy_table; kw['policy_rows'] = policy_table()\n"
              "build_site(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), "
              "allow_synthetic=True, **kw)")
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, "-c", script, str(submissions),
                           str(code / "site"), str(output)], cwd=code, env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        return f"the {revision} build failed: {done.stderr.strip()[-400:]}"
    return None


def kb(value: int) -> str:
    """Bytes as KB with no decimals."""
    return f"{value / 1000:,.0f}"


def report(ours: dict[str, Weight], baseline: dict[str, Weight] | None, revision: str,
           entries: int, log: Any) -> list[tuple[str, bool]]:
    """Print the weights beside the baseline's; return (target, met) for the targeted pages."""
    log("")
    log(f"page weight at {entries} entries (first visit, 1440 x 900; KB = 1,000 bytes)")
    log(f"{'page':>10}  {'requests':>8}  {'raw_KB':>8}  {'gzip_KB':>8}  "
        f"{revision + '_raw_KB':>14}  {revision + '_gzip_KB':>15}  {'gzip_ratio':>10}  "
        f"{'target_KB':>9}")
    checks = []
    for label, weight in ours.items():
        base = (baseline or {}).get(label)
        ratio = f"{weight.gzip_bytes / base.gzip_bytes:.2f}" if base else "-"
        target = WEIGHT_TARGETS_KB.get(label)
        log(f"{label:>10}  {weight.requests:>8}  {kb(weight.raw_bytes):>8}  "
            f"{kb(weight.gzip_bytes):>8}  {kb(base.raw_bytes) if base else '-':>14}  "
            f"{kb(base.gzip_bytes) if base else '-':>15}  {ratio:>10}  "
            f"{f'{target:,.0f}' if target else '-':>9}")
        if target is not None:
            checks.append((f"{label} page at {entries} <= {target:,.0f} KB gzip "
                           f"(got {kb(weight.gzip_bytes)} KB; raw {kb(weight.raw_bytes)} KB)",
                           weight.gzip_bytes <= target * 1000))
    return checks
