"""Page weight for benchmarks/site_build.py: what a first visit to a page transfers.

A page is opened in a fresh browser context (no cache) at 1440 × 900, left until the network
is idle and one more second has passed (so charts in view, which load lazily, are counted),
and every file it requested from the site is weighed twice: as stored (``raw``) and gzip-
compressed at level 6 (``gzip``, what a static host such as GitHub Pages sends for text). Files
are read from the built site, so the figures do not depend on the local server's headers.

The baseline is the same measurement of a site built, in the same run and from the same
synthetic tree, by another revision of this repository (``--weight-baseline``, default
``main``): its code is exported with ``git archive`` and run in a subprocess.

Run on its own (``python benchmarks/page_weight.py``), it writes a 10,000-entry synthetic tree,
builds it and a bare mkdocs-material site (``site/mkdocs.yml``'s theme, plain pages; from
``site_build.py``), and prints the three figures of issue 22 against their targets:

1. ``tradeoffs_end``: gzip KB a first visit to the trade-offs page transfers once it has been
   scrolled to the end (every lazy chart in view once), at most 700 KB;
2. the home and headline-board pages' first chart ready (ms from navigation start until the
   first ``.lb-chart`` gets ``data-ready``), each over the bare site's home page load
   (``loadEventEnd``), medians of fresh loads at 1440 × 900 in the same browser: at most 2x.
   A chart of more than 1,000 points first draws a stated sample (the frontier, both axes'
   extremes and every k-th entry; the page says so under the chart) and then every point:
   ``data-ready`` is that first draw, and the time until every point is drawn
   (``data-complete``) is printed beside it as ``all points``, not hidden;
3. the same first-chart time on a phone (390 × 844) with the CPU slowed 4x (Chrome DevTools
   ``Emulation.setCPUThrottlingRate``): at most 1,500 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from revisions import RevisionUnavailable, exported

VIEWPORT = {"width": 1440, "height": 900}
SETTLE_MS = 1000
WEIGHT_ENTRIES = 10000  # the size whose pages are weighed
# Targets at 10,000 entries (issue 12, then issue 22 for tradeoffs_end), on the gzip figure.
WEIGHT_TARGETS_KB = {"tradeoffs": 1500.0, "board": 600.0, "tradeoffs_end": 700.0}
CHART_TARGET_MS = 800.0
# issue 22: first chart within 2x the bare mkdocs-material page's load, same run; on a phone
# with the CPU slowed 4x within 1.5 s
CHART_TO_BARE_TARGET = 2.0
PHONE = {"width": 390, "height": 844}
PHONE_CPU_SLOWDOWN = 4
PHONE_CHART_TARGET_MS = 1500.0
SCROLL_STEP_MS = 400
LOAD_TIMEOUT_MS = 120_000
# When the page's first chart is first shown, as performance.now() at the start of the frame
# that paints it (a requestAnimationFrame callback after the mark is set, so a busy main thread
# that delays the paint delays the figure too): ``__lbChartAt`` the first picture (lb-sketch.js's
# still picture, data-sketched, or vega's first draw, data-ready, whichever comes first),
# ``__lbChartReadyAt`` vega's interactive first draw, ``__lbChartCompleteAt`` every point drawn.
# Installed before any page script runs (as site_build.READY_OBSERVER, charts only).
CHART_OBSERVER = """
(() => {
  const painted = (name) => {
    if (window[name] !== undefined) return;
    window[name] = null;
    requestAnimationFrame(() => { window[name] = performance.now(); });
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      const node = m.target;
      if (!node.classList.contains("lb-chart")) continue;
      const drawn = node.getAttribute("data-ready") === "true";
      if (drawn || node.getAttribute("data-sketched") === "true") painted("__lbChartAt");
      if (drawn) painted("__lbChartReadyAt");
      if (node.getAttribute("data-complete") === "true") painted("__lbChartCompleteAt");
    }
  }).observe(document, {subtree: true, attributes: true,
                        attributeFilter: ["data-sketched", "data-ready", "data-complete"]});
})();
"""


def pages(headline: str) -> dict[str, str]:
    """The pages weighed: label -> path."""
    return {"home": "index.html", "board": f"leaderboard/{headline}.html",
            "tradeoffs": "tradeoffs.html", "tradeoffs_end": "tradeoffs.html#end"}


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
    """Open ``path`` once, fresh, and weigh every site file it requested.

    A path ending in ``#end`` is scrolled to its end a screen at a time first, so every lazy
    chart on it comes into view once (and loads what it needs).
    """
    path, _, anchor = path.partition("#")
    context = browser.new_context(viewport=VIEWPORT)
    requested: list[str] = []
    try:
        page = context.new_page()
        page.on("requestfinished", lambda request: requested.append(request.url))
        page.goto(base + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(SETTLE_MS)
        if anchor == "end":
            while page.evaluate("window.scrollY + window.innerHeight < "
                                "document.documentElement.scrollHeight - 2"):
                page.evaluate("window.scrollBy(0, window.innerHeight)")
                page.wait_for_timeout(SCROLL_STEP_MS)
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


# --- speed against the bare page (issue 22) ---------------------------------------------------


@dataclass(frozen=True)
class ChartTimes:
    """ms from navigation start until a page's first chart is shown: ``first`` its first
    picture (the still sketch or vega's first draw), ``ready`` vega's interactive first draw,
    ``complete`` every point drawn (each the same as the one before when nothing is split)."""

    first: float
    ready: float
    complete: float


def first_chart_ms(browser: Any, url: str, viewport: dict[str, int],
                   cpu_slowdown: int = 1) -> ChartTimes:
    """The first chart's :class:`ChartTimes` on one load of ``url`` in a fresh context."""
    context = browser.new_context(viewport=viewport)
    try:
        context.add_init_script(CHART_OBSERVER)
        page = context.new_page()
        if cpu_slowdown > 1:
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
        page.goto(url, wait_until="commit")
        page.wait_for_selector(".lb-chart[data-complete=true], .lb-chart[data-error]",
                               timeout=LOAD_TIMEOUT_MS)
        error = page.eval_on_selector(".lb-chart", "el => el.getAttribute('data-error')")
        if error:
            raise RuntimeError(f"{url}: chart failed: {error}")
        page.wait_for_function("window.__lbChartCompleteAt", timeout=LOAD_TIMEOUT_MS)
        times = page.evaluate("[window.__lbChartAt, window.__lbChartReadyAt, "
                              "window.__lbChartCompleteAt]")
        return ChartTimes(*(float(t) for t in times))
    finally:
        context.close()


def load_ms(browser: Any, url: str, viewport: dict[str, int]) -> float:
    """ms from navigation start to the end of the load event, in a fresh context."""
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        return float(page.evaluate(
            "() => new Promise(done => setTimeout(() => done("
            "performance.getEntriesByType('navigation')[0].loadEventEnd), 0))"))
    finally:
        context.close()


@dataclass(frozen=True)
class Speed:
    """The bare page's load times (ms), and the home and board pages' first-chart times on a
    desktop and on a slowed phone, measured between them."""

    bare_ms: list[float]
    desktop: dict[str, list[ChartTimes]]
    phone: dict[str, list[ChartTimes]]


def measure_speed(browser: Any, site: Path, bare_site: Path, headline: str,
                  repeats: int) -> Speed:
    """Fresh loads, interleaved page by page so drift in the machine's load hits all alike."""
    from leaderboard.site.serve import serving

    targets = {"home": "index.html", "board": f"leaderboard/{headline}.html"}
    bare: list[float] = []
    desktop: dict[str, list[ChartTimes]] = {k: [] for k in targets}
    phone: dict[str, list[ChartTimes]] = {k: [] for k in targets}
    with serving(site) as base, serving(bare_site) as bare_base:
        for _ in range(repeats):
            bare.append(load_ms(browser, bare_base + "index.html", VIEWPORT))
            for label, path in targets.items():
                desktop[label].append(first_chart_ms(browser, base + path, VIEWPORT))
                phone[label].append(first_chart_ms(browser, base + path, PHONE,
                                                   PHONE_CPU_SLOWDOWN))
    return Speed(bare, desktop, phone)


def speed_report(speed: Speed, log: Any) -> list[tuple[str, bool]]:
    """Print the first-chart figures against their targets; return (target, met).

    The targets are on the first picture; vega's interactive first draw and the time until
    every point is drawn are printed beside it, so neither is hidden.
    """
    bare = statistics.median(speed.bare_ms)
    log("")
    log(f"bare mkdocs-material page load (loadEventEnd) ms: {_samples(speed.bare_ms)}")
    checks = []
    for label, runs in speed.desktop.items():
        first = [t.first for t in runs]
        ratio = statistics.median(first) / bare
        log(f"{label} first chart ms (1440 x 900): {_samples(first)}; / bare = {ratio:.2f}; "
            f"interactive ms: {_samples([t.ready for t in runs])}; "
            f"all points ms: {_samples([t.complete for t in runs])}")
        checks.append((f"{label} first chart <= {CHART_TO_BARE_TARGET:g}x the bare page's load "
                       f"(got {ratio:.2f}x: {statistics.median(first):.0f} / {bare:.0f} ms)",
                       ratio <= CHART_TO_BARE_TARGET))
    for label, runs in speed.phone.items():
        first = [t.first for t in runs]
        got = statistics.median(first)
        log(f"{label} first chart ms (390 x 844, CPU {PHONE_CPU_SLOWDOWN}x slower): "
            f"{_samples(first)}; interactive ms: {_samples([t.ready for t in runs])}; "
            f"all points ms: {_samples([t.complete for t in runs])}")
        checks.append((f"{label} first chart on a phone, CPU {PHONE_CPU_SLOWDOWN}x slower, "
                       f"<= {PHONE_CHART_TARGET_MS:,.0f} ms (got {got:,.0f} ms)",
                       got <= PHONE_CHART_TARGET_MS))
    return checks


def _samples(values: list[float]) -> str:
    return f"median {statistics.median(values):.0f} ({', '.join(f'{v:.0f}' for v in values)})"


# --- standalone run ---------------------------------------------------------------------------


def build_ours(submissions: Path, output: Path) -> None:
    """This checkout's build of ``submissions``, as ``leaderboard build`` makes it."""
    from leaderboard.policy import policy_table
    from leaderboard.site.build import build_site

    repo = Path(__file__).resolve().parents[1]
    build_site(submissions, repo / "site", output, allow_synthetic=True,
               policy_rows=policy_table())


def build_bare(root: Path) -> Path:
    """A bare mkdocs-material site of a few plain pages with our theme settings."""
    import site_build

    repo = Path(__file__).resolve().parents[1]
    config_file, _ = site_build.write_bare_docs(root, 20, repo / "site", 1500)
    site_build.time_bare(config_file, root / "docs", root / "site")
    return root / "site"


@contextlib.contextmanager
def _browser() -> Iterator[Any]:
    import site_build

    with site_build.launch_browser() as browser:
        yield browser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Page weight and first-chart speed (issue 22).")
    parser.add_argument("--entries", type=int, default=WEIGHT_ENTRIES)
    parser.add_argument("--site", type=Path, help="a built site to measure (else built here)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh loads per figure")
    parser.add_argument("--headline", default="synthetic-gpu--offline")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="page-weight-") as name:
        tmp = Path(name)
        site = args.site
        if site is None:
            from leaderboard.testing import write_synthetic_tree

            site = tmp / "site"
            build_ours(write_synthetic_tree(tmp / "tree", args.entries), site)
        bare = build_bare(tmp / "bare")
        with _browser() as browser:
            print(f"chromium {browser.version}, headless; {args.repeats} fresh loads a figure")
            weights = weigh_site(browser, site, args.headline)
            checks = report(weights, None, "baseline", args.entries, print)
            checks += speed_report(measure_speed(browser, site, bare, args.headline,
                                                 args.repeats), print)
    print("")
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
