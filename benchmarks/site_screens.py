"""Screenshots and axe-core counts of every page kind, as a visitor sees them.

Builds the synthetic measured site (60 entries, three layer profiles, one savings sweep: what the
accessibility tests judge), or takes a built site, serves it on 127.0.0.1 and opens each page
kind in Debian's chromium at 1440 × 900 and 390 × 844, light and dark. For each it writes
``<kind>-<width>-<scheme>.png`` (the first screen) and prints axe-core's serious and critical
violations, the page's width (more than the screen: it scrolls sideways) and height.

    .venv/bin/python benchmarks/site_screens.py OUT [--site BUILT_SITE]

Needs playwright, chromium at /usr/bin/chromium and axe-core in .venv/axe-core
(``bash scripts/setup.sh --test``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
AXE_JS = Path(sys.prefix) / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = ((1440, 900), (390, 844))
SETTLE_MS = 1200  # charts and tables draw after load


def measured_site(root: Path) -> Path:
    """Build the synthetic measured site under ``root``; returns the site folder."""
    from leaderboard.analysis_records import write_analysis_record
    from leaderboard.policy import policy_table
    from leaderboard.site.build import build_site
    from leaderboard.testing import synthetic_profile, synthetic_sweep, write_synthetic_tree

    submissions = write_synthetic_tree(root, 60)
    ids = sorted(p.parent.name for p in submissions.glob("*/submission.yaml"))
    for entry_id, kind in zip(ids, ("cnn", "vit", "hybrid"), strict=False):
        write_analysis_record(submissions, synthetic_profile(entry_id, 0.2, kind))
    for record in synthetic_sweep(ids[0], 0.2):
        write_analysis_record(submissions, record)
    source = Path(__file__).resolve().parents[1] / "site"
    build_site(submissions, source, root / "site", allow_synthetic=True, policy_rows=policy_table())
    return root / "site"


def page_kinds(site: Path) -> dict[str, str]:
    """One page of each kind, with the chooser's answer shown where there is one."""
    ids = sorted(p.stem for p in (site / "models").glob("*.html"))
    headline = sorted(p.name for p in (site / "leaderboard").glob("*--*.html"))[0]
    return {"home": "index.html?top1=80", "boards": "leaderboard/index.html",
            "board": f"leaderboard/{headline}?top1=80", "tradeoffs": "tradeoffs.html",
            "model": f"models/{ids[0]}.html", "compare": "compare.html?ids=" + ",".join(ids[:3]),
            "energy": "energy.html", "findings": "findings.html",
            "methodology": "methodology.html", "submit": "submit.html",
            "downloads": "downloads.html", "about": "about.html"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the PNGs")
    parser.add_argument("--site", type=Path, help="a built site (default: build the measured one)")
    args = parser.parse_args()
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    from leaderboard.site.serve import serving

    if not AXE_JS.is_file():
        print(f"{AXE_JS} is missing: run `bash scripts/setup.sh --test`", file=sys.stderr)
        return 2
    axe = Axe(AXE_JS.read_text("utf-8"))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        site = args.site or measured_site(Path(scratch))
        with serving(site) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            print(f"{'page':12} {'viewport':9} {'scheme':6} {'serious':>7} {'width':>6} {'height':>6}")
            for kind, path in page_kinds(site).items():
                for width, height in VIEWPORTS:
                    for scheme in ("light", "dark"):
                        context = browser.new_context(viewport={"width": width, "height": height},
                                                      color_scheme=scheme)
                        page = context.new_page()
                        page.goto(url + path, wait_until="load")
                        page.wait_for_timeout(SETTLE_MS)
                        found = axe.run(page).response["violations"]
                        serious = sum(len(v["nodes"]) for v in found
                                      if v["impact"] in ("serious", "critical"))
                        page.screenshot(path=str(args.out / f"{kind}-{width}-{scheme}.png"))
                        size = page.evaluate("[document.documentElement.scrollWidth,"
                                             " document.documentElement.scrollHeight]")
                        print(f"{kind:12} {width}x{height:<5} {scheme:6} {serious:7} {size[0]:6}"
                              f" {size[1]:6}", flush=True)
                        context.close()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
