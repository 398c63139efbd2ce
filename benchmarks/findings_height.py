"""How tall the Findings page is when every family of the catalog has a row.

Builds a synthetic measured site where each of the shipped catalog's 98 families has
``--per-family`` entries (5 by default, the least a family needs for a row of its own), each
with a batch-1 pair, so every finding has a row per family (issue 22: the page was 16,830 px
tall on such data). Serves it on 127.0.0.1, opens the Findings page in Debian's chromium at
1440 × 900 and 390 × 844, waits until every chart is drawn, and prints the page's scroll height,
each chart's drawn height and the tallest rows of the folded tables; ``--shots DIR`` also writes
a full-page screenshot per viewport.

    .venv/bin/python benchmarks/findings_height.py [--per-family 5] [--families N] [--shots DIR]
                                                   [--site BUILT]

Exit status 0 when the desktop page is at most ``DESKTOP_LIMIT_PX`` tall, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
VIEWPORTS = ((1440, 900), (390, 844))
DESKTOP_LIMIT_PX = 6_000
READY_MS = 30_000


def many_families_site(root: Path, per_family: int, families: int | None = None) -> Path:
    """Build the synthetic site with ``per_family`` entries of every catalog family (or of the
    first ``families``)."""
    from leaderboard.policy import policy_table
    from leaderboard.site.build import build_site
    from leaderboard.testing import every_family_architectures, write_synthetic_tree

    architectures = every_family_architectures(per_family, families)
    submissions = write_synthetic_tree(root, len(architectures), single_stream_every=1,
                                       architectures=architectures)
    source = Path(__file__).resolve().parents[1] / "site"
    build_site(submissions, source, root / "site", allow_synthetic=True,
               policy_rows=policy_table())
    return root / "site"


# Every chart's name, readiness and the height it was drawn at.
CHARTS = """() => [...document.querySelectorAll('.lb-chart[data-spec]')].map(e => {
    const c = e.querySelector('canvas, svg');
    return [e.getAttribute('data-spec'), e.getAttribute('data-ready'),
            c ? Math.round(c.getBoundingClientRect().height) : 0];
})"""


def measure(page: object, url: str) -> tuple[int, list[list[object]]]:
    """Open the Findings page, wait for every chart, return (scroll height, charts)."""
    page.goto(url + "findings.html", wait_until="load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.lb-chart[data-spec]')]"
        ".every(e => e.getAttribute('data-ready') === 'true' || e.getAttribute('data-error'))",
        timeout=READY_MS)
    page.wait_for_timeout(300)  # the last chart's resize settles
    return page.evaluate("document.documentElement.scrollHeight"), page.evaluate(CHARTS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-family", type=int, default=5)
    parser.add_argument("--families", type=int, help="the first N families only (default: all)")
    parser.add_argument("--shots", type=Path, help="folder for full-page PNGs")
    parser.add_argument("--site", type=Path, help="a built site (default: build one)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from leaderboard.site.serve import serving

    heights = {}
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        site = args.site or many_families_site(Path(scratch), args.per_family, args.families)
        print(f"site ready in {time.perf_counter() - started:.1f} s: {site}")
        with serving(site) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for width, height in VIEWPORTS:
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                total, charts = measure(page, url)
                heights[width] = total
                print(f"{width}x{height}: findings page {total:,} px tall")
                for name, ready, drawn in charts:
                    print(f"    {name:24} ready={ready} drawn {drawn:,} px")
                if args.shots:
                    args.shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(args.shots / f"findings-{width}.png"), full_page=True)
                context.close()
            browser.close()
    passed = heights[VIEWPORTS[0][0]] <= DESKTOP_LIMIT_PX
    print(f"{'PASS' if passed else 'FAIL'}  desktop height <= {DESKTOP_LIMIT_PX:,} px "
          f"(got {heights[VIEWPORTS[0][0]]:,})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
