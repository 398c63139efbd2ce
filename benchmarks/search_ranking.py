"""Header search ranking (issue 22, Why 6): what a visitor sees after typing an architecture.

Builds the shipped ``submissions/`` twice, with this checkout and with ``--baseline REV``
(default ``main``, exported with ``git archive`` and built in a subprocess), types each query
into the header search of both sites in Debian's chromium (Material's own search worker), and
prints the model pages listed, in order, beside the search index's size (gzip level 6).

A query passes when the first results are that architecture's entries (the first
min(10, their count) results; Material lists 10 until the visitor scrolls). Exit status 0 when
every query passes on this checkout's site.

    .venv/bin/python benchmarks/search_ranking.py                     # resnet50, convnext_tiny
    .venv/bin/python benchmarks/search_ranking.py --query vit_base_patch16_224 --show 14
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from page_weight import build_baseline, build_ours
from site_build import launch_browser

REPO = Path(__file__).resolve().parents[1]
QUERIES = ("resnet50", "convnext_tiny")
LISTED = 10  # results Material shows before the visitor scrolls
MODELS = ("() => Array.from(document.querySelectorAll('.md-search-result__item > a'), "
          "a => a.getAttribute('href')).filter(h => h.includes('models/'))"
          ".map(h => h.slice(h.indexOf('models/') + 7).split('?')[0].replace(/\\.html$/, ''))")


def listed(browser: Any, base: str, query: str) -> list[str]:
    """The entry ids the header search lists for ``query``, once the list stops changing."""
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        page.goto(base + "methodology.html", wait_until="load")
        page.locator(".md-search__input").first.click()
        page.keyboard.type(query)  # Material searches on key events
        page.wait_for_selector(".md-search-result__item", timeout=15_000)
        shown, deadline = None, time.monotonic() + 15
        while time.monotonic() < deadline:  # the worker answers after the last key
            page.wait_for_timeout(500)
            now = page.evaluate(MODELS)
            if now == shown:
                break
            shown = now
        return shown or []
    finally:
        page.context.close()


def index_gzip_kb(site: Path) -> float:
    return len(gzip.compress((site / "search/search_index.json").read_bytes(), 6)) / 1000


def main(argv: list[str] | None = None) -> int:
    from leaderboard.site.serve import serving

    parser = argparse.ArgumentParser(description="Header search ranking (issue 22, Why 6).")
    parser.add_argument("--query", action="append", help=f"repeatable (default {QUERIES})")
    parser.add_argument("--baseline", default="main", help="revision to compare (empty: none)")
    parser.add_argument("--show", type=int, default=LISTED, help="results printed per site")
    args = parser.parse_args(argv)
    queries = args.query or list(QUERIES)
    submissions = REPO / "submissions"
    ids = sorted(p.parent.name for p in submissions.glob("*/submission.yaml"))
    with tempfile.TemporaryDirectory(prefix="search-ranking-") as name:
        sites = {"ours": Path(name) / "ours"}
        build_ours(submissions, sites["ours"])
        if args.baseline:
            sites[args.baseline] = Path(name) / "baseline"
            why = build_baseline(args.baseline, submissions, sites[args.baseline])
            if why:
                print(f"baseline skipped: {why}")
                del sites[args.baseline]
        for label, site in sites.items():
            print(f"{label}: search index {index_gzip_kb(site):.1f} KB gzip")
        passed = True
        with launch_browser() as browser:
            for query in queries:
                own = [i for i in ids if i.split(".", 1)[0] == query]
                wanted = min(LISTED, len(own))
                for label, site in sites.items():
                    with serving(site) as base:
                        shown = listed(browser, base, query)
                    ok = wanted > 0 and all(i in own for i in shown[:wanted])
                    print(f"\n{label} | {query!r}: first {wanted} are {query} entries: "
                          f"{'yes' if ok else 'NO'}")
                    for place, entry_id in enumerate(shown[:args.show], 1):
                        print(f"  {place:2d}. {entry_id}")
                    if label == "ours":
                        passed &= ok
    print("\nPASS" if passed else "\nFAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
