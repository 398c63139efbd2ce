# ruff: noqa: F811 - the fixtures imported from test_browser are redefined as test parameters
"""What a visitor does on the synthetic site, in Debian's chromium: choose a model, price it,
compare, search, read it on a phone; and every page loads cleanly with no serious
accessibility violation (axe-core).

Shares the browser, server and page fixtures of tests/test_browser.py (one chromium per module).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import (  # noqa: F401 - fixtures are used by name
    HEADLINE,
    READY_MS,
    Watched,
    browser,
    entries,
    h1_text,
    open_page,
    server,
    wait_ready,
)

from leaderboard.site.cost import per_million
from leaderboard.site.tables import shown_score

pytestmark = pytest.mark.browser

SINGLE = "synthetic-gpu--single-stream"
BOARD_PAGE = f"leaderboard/{HEADLINE}.html"
BOARD_CHART = f"board-tradeoff-{HEADLINE.replace('--', '-')}"


def energy_of(entry: dict[str, Any], board: str) -> float | None:
    result = entry["boards"].get(board)
    if not result or result["score"] is None:
        return None
    return result["record"]["energy"]["gross_j_per_image"]


def cheapest_meeting(entries: list[dict[str, Any]], board: str, min_top1: float) -> list[str]:
    """The scored entries with top-1 >= min_top1, cheapest first: the true frontier answer."""
    scored = [(energy_of(e, board), -e["top1"], e["id"]) for e in entries
              if energy_of(e, board) is not None and round(e["top1"], 3) >= min_top1]
    return [entry_id for _, _, entry_id in sorted(scored)]


def answer_ids(page: Any) -> list[str]:
    return page.locator(".lb-answer-item").evaluate_all("els => els.map(e => e.dataset.id)")


def wait_answer(page: Any) -> None:
    page.wait_for_function("() => document.querySelector('.lb-choose[data-ready=\"true\"]')",
                           timeout=10_000)


# --- Choose a model -------------------------------------------------------------------------


@pytest.mark.parametrize("min_top1", [60.0, 72.5, 80.0, 85.0])
def test_choose_answers_with_the_frontier_entry(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]], min_top1: float) -> None:
    expected = cheapest_meeting(entries, HEADLINE, min_top1)
    assert expected, min_top1
    # the answer is on the Pareto frontier: nothing at least as accurate is cheaper
    best = next(e for e in entries if e["id"] == expected[0])
    assert not [e for e in entries if energy_of(e, HEADLINE) is not None
                and e["top1"] >= best["top1"] and energy_of(e, HEADLINE) < energy_of(best, HEADLINE)]
    watched = open_page()
    watched.goto(f"{BOARD_PAGE}?top1={min_top1:g}")
    page = watched.page
    wait_answer(page)
    wait_ready(page, ".lb-chart")
    assert answer_ids(page) == expected[:3]
    title = page.locator(".lb-answer-title").inner_text()
    assert f"{len(expected)} of 60 entries qualify" in title
    first = page.locator(".lb-answer-item").first
    assert f"{energy_of(best, HEADLINE):.3g} J/image" in first.inner_text()
    # the most accurate entry, and the saving against it
    top = max(entries, key=lambda e: (e["top1"], -energy_of(e, HEADLINE)))
    if top["id"] != best["id"]:
        saving = 1 - energy_of(best, HEADLINE) / energy_of(top, HEADLINE)
        text = first.locator(".lb-answer-saving").inner_text()
        assert f"{round(saving * 1000) / 10:g} % less energy" in text and top["id"] in text
    # the table follows: only qualifying entries, cheapest first
    page.wait_for_function("n => document.querySelector('.lb-count').textContent"
                           ".startsWith(n + ' of ')", arg=len(expected))
    shown = page.locator(".lb-table tbody td[data-key='id']").all_inner_texts()
    assert shown == expected[:50]
    # and the chart: the answer is ringed, the threshold set
    page.wait_for_function(
        "([name, id]) => window.LB.views[name] && window.LB.views[name].signal('answer_id') === id",
        arg=[BOARD_CHART, expected[0]], timeout=10_000)
    assert page.evaluate(f"window.LB.views['{BOARD_CHART}'].signal('min_top1')") == min_top1
    watched.assert_clean()


def test_choose_state_is_in_the_url_and_survives_a_reload(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    watched = open_page()
    watched.goto(BOARD_PAGE)
    page = watched.page
    wait_answer(page)
    assert answer_ids(page) == []  # nothing chosen: a hint, no answer
    page.locator("#lb-choose-top1").fill("78")
    page.locator("#lb-choose-maxj").fill("0.5")
    page.wait_for_function("() => location.search.includes('top1=78')")
    assert "maxj=0.5" in page.url
    expected = [i for i in cheapest_meeting(entries, HEADLINE, 78.0)
                if energy_of(next(e for e in entries if e["id"] == i), HEADLINE) <= 0.5]
    assert answer_ids(page) == expected[:3]
    shared = page.url
    watched.goto(shared.removeprefix(watched.base))
    wait_answer(page)
    assert page.locator("#lb-choose-top1").input_value() == "78"
    assert answer_ids(page) == expected[:3]
    # an impossible choice says so
    page.locator("#lb-choose-top1").fill("99.9")
    assert "no measured entry qualifies" in page.locator(".lb-answer").inner_text()
    assert page.locator(".lb-empty").is_visible()
    watched.assert_clean()


def test_choose_with_a_latency_ceiling_loads_the_detail_columns(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    latency = {e["id"]: e["boards"][HEADLINE]["record"]["performance"]["batch_latency_ms"]
               for e in entries}
    ordered = sorted(latency.values())
    ceiling = (ordered[40] + ordered[41]) / 2  # between two entries: rounding cannot cross it
    expected = [i for i in cheapest_meeting(entries, HEADLINE, 65.0) if latency[i] <= ceiling]
    assert expected and expected != cheapest_meeting(entries, HEADLINE, 65.0)
    watched = open_page()
    watched.goto(f"{BOARD_PAGE}?top1=65&maxms={ceiling:.6g}")
    page = watched.page
    page.wait_for_selector("th[data-key='latency_ms']")  # loaded because the choice needs it
    wait_answer(page)
    assert answer_ids(page) == expected[:3]
    shown = page.locator(".lb-table tbody td[data-key='id']").all_inner_texts()
    assert shown == expected[:50]
    watched.assert_clean()


def test_home_chooser_switches_board_in_place(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    watched = open_page(capture_views=True)
    watched.goto("index.html?top1=70")
    page = watched.page
    wait_answer(page)
    assert answer_ids(page) == cheapest_meeting(entries, HEADLINE, 70.0)[:3]
    page.locator("#lb-choose-scenario").select_option("single-stream")
    page.wait_for_function("() => location.search.includes('board=synthetic-gpu--single-stream')")
    wait_answer(page)
    assert answer_ids(page) == cheapest_meeting(entries, SINGLE, 70.0)[:3]
    assert page.url.endswith("index.html?top1=70&board=synthetic-gpu--single-stream")
    # the chart now draws the single-stream board (12 of the 60 entries have it)
    wait_ready(page, ".lb-chart")
    count = page.evaluate("window.LB.views['home-tradeoff'].data('points').length")
    assert count == sum(energy_of(e, SINGLE) is not None for e in entries)
    watched.assert_clean()


# --- cost and carbon ------------------------------------------------------------------------


def numbers(texts: list[str]) -> list[float]:
    return [float(t.replace(",", "")) for t in texts]


def test_model_page_prices_a_million_images_and_follows_the_settings(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    entry = next(e for e in entries if len(e["boards"]) == 2)
    watched = open_page()
    watched.goto(f"models/{entry['id']}.html")
    page = watched.page
    page.wait_for_selector(".lb-cost-settings[data-ready='true']")
    rows = page.locator(".lb-cost-table tbody tr")
    assert rows.count() == 2
    boards = sorted(entry["boards"])
    for index, board in enumerate(boards):
        cells = numbers(rows.nth(index).locator("td.lb-num").all_inner_texts())
        want = per_million(energy_of(entry, board))
        assert cells == pytest.approx([want.kwh, want.co2_kg, want.money], rel=0.02)
    # a visitor's grid: 100 g/kWh instead of the world average, kept in the URL
    field = page.locator("input[data-cost-setting='grid_g_per_kwh']")
    field.fill("100")
    field.dispatch_event("change")
    assert "grid=100" in page.url
    co2 = numbers([rows.nth(0).locator("td.lb-num").nth(1).inner_text()])[0]
    assert co2 == pytest.approx(per_million(energy_of(entry, boards[0]),
                                            grid_g_per_kwh=100).co2_kg, rel=0.02)
    watched.assert_clean()


def test_board_table_has_cost_columns_that_rank_as_energy(open_page: Callable[..., Watched],
                                                          entries: list[dict[str, Any]]) -> None:
    watched = open_page()
    watched.goto(BOARD_PAGE)
    page = watched.page
    wait_ready(page, ".lb-table")
    page.locator("th[data-key='co2_m'] button").click()
    ids = page.locator(".lb-table tbody td[data-key='id']").all_inner_texts()
    by_energy = sorted((e for e in entries if energy_of(e, HEADLINE) is not None),
                       key=lambda e: energy_of(e, HEADLINE))
    assert ids == [e["id"] for e in by_energy][:50]
    first = numbers([page.locator(".lb-table tbody td[data-key='co2_m']").first.inner_text()])[0]
    assert first == pytest.approx(per_million(energy_of(by_energy[0], HEADLINE)).co2_kg, rel=0.02)
    watched.assert_clean()


# --- compare --------------------------------------------------------------------------------


def test_compare_shows_entries_side_by_side_on_every_board(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    both = [e for e in entries if len(e["boards"]) == 2][:2]
    one = next(e for e in entries if len(e["boards"]) == 1)
    chosen = [*both, one]
    watched = open_page()
    watched.goto("compare.html?ids=" + ",".join(e["id"] for e in chosen))
    page = watched.page
    page.wait_for_selector(".lb-compare[data-ready='true']")
    heads = page.locator(".lb-compare-table thead th[data-id]").evaluate_all(
        "els => els.map(e => e.dataset.id)")
    assert heads == [e["id"] for e in chosen]
    energy_rows = page.locator(".lb-compare-table tbody tr", has_text="J/image")
    assert energy_rows.count() == 2  # one per board
    for index, board in enumerate(sorted({b for e in entries for b in e["boards"]})):
        cells = energy_rows.nth(index).locator("td").all_inner_texts()
        for cell, entry in zip(cells, chosen, strict=True):
            energy = energy_of(entry, board)
            if energy is None:
                assert cell == "not measured", (board, entry["id"])
            else:
                assert float(cell) == pytest.approx(energy, rel=1e-2), (board, entry["id"])
    # remove one; the URL follows
    page.locator(f".lb-compare-remove[aria-label='Remove {one['id']}']").click()
    assert page.evaluate("new URLSearchParams(location.search).get('ids')") == ",".join(
        e["id"] for e in both)
    # "ResNet-50"-style typing: case and punctuation do not matter when the match is unique
    target = one["id"]
    page.locator("#lb-compare-add").fill(target.upper().replace("_", "-"))
    page.locator(".lb-compare-pick button[type='submit']").click()
    page.wait_for_function("id => new URLSearchParams(location.search).get('ids').endsWith(id)",
                           arg=target)
    watched.assert_clean()


# --- tables: URL state, search, empty result -------------------------------------------------


def test_table_search_is_in_the_url_and_ignores_punctuation(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    expected = sorted(e["id"] for e in entries if "syn0001" in e["id"])
    watched = open_page()
    watched.goto("leaderboard/index.html?search=SYN-0001")  # as "ResNet-50" finds "resnet50"
    page = watched.page
    wait_ready(page, ".lb-table")
    assert page.locator("input.lb-search").input_value() == "SYN-0001"
    shown = sorted(page.locator(".lb-table tbody td[data-key='id']").all_inner_texts())
    assert shown == expected
    page.locator("input.lb-search").fill("no-such-model")
    empty = page.locator(".lb-empty")
    assert empty.is_visible() and "No entry matches “no-such-model”" in empty.inner_text()
    assert "search=no-such-model" in page.url
    empty.locator("button").click()
    page.wait_for_function("() => document.querySelector('.lb-count').textContent"
                           ".startsWith('60 of ')")
    assert "search=" not in page.url
    watched.assert_clean()


def test_board_default_order_breaks_score_ties_by_accuracy(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    watched = open_page()
    watched.goto(BOARD_PAGE)
    page = watched.page
    wait_ready(page, ".lb-table")
    ranked = sorted((e for e in entries if energy_of(e, HEADLINE) is not None),
                    key=lambda e: (-shown_score(e["boards"][HEADLINE]["score"]["score"]), -e["top1"]))
    shown = page.locator(".lb-table tbody td[data-key='id']").all_inner_texts()
    assert shown[:10] == [e["id"] for e in ranked[:10]]
    assert page.locator(".lb-table tbody td.lb-rank").first.inner_text() == "1"
    # one decimal, never "100.0" for a score below 100 (99.93 read "100" beside the frontier)
    by_id = {e["id"]: e["boards"][HEADLINE]["score"]["score"] for e in ranked}
    texts = page.locator(".lb-table tbody td[data-key='score']").all_inner_texts()
    assert all(re.fullmatch(r"\d+\.\d", t) for t in texts), texts
    for entry_id, text in zip(shown, texts, strict=True):
        assert float(text) <= by_id[entry_id] < float(text) + 0.1 + 1e-9, (entry_id, text)
    watched.assert_clean()


# --- phones ---------------------------------------------------------------------------------


def visible_columns(page: Any) -> list[str]:
    return page.locator(".lb-table thead th[data-key]").evaluate_all(
        "els => els.filter(e => e.offsetParent !== null && e.getBoundingClientRect().right"
        " <= window.innerWidth).map(e => e.dataset.key)")


@pytest.mark.parametrize("path", [BOARD_PAGE, "leaderboard/index.html"])
def test_phone_shows_top1_and_energy_columns(open_page: Callable[..., Watched],
                                             path: str) -> None:
    watched = open_page(width=390, height=844)
    watched.goto(path)
    page = watched.page
    wait_ready(page, ".lb-table")
    assert visible_columns(page) == ["id", "top1", "energy_j", "tier"]
    cells = page.locator(".lb-table tbody tr").first.locator("td").evaluate_all(
        "els => els.filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().right)")
    assert max(cells) <= 390
    watched.assert_clean()


def test_phone_home_chart_starts_on_the_first_screen(open_page: Callable[..., Watched]) -> None:
    watched = open_page(width=390, height=844)
    watched.goto("index.html")
    page = watched.page
    wait_ready(page, ".lb-chart")
    top = page.locator(".lb-chart").first.evaluate("e => e.getBoundingClientRect().top")
    assert top < 844, top
    watched.assert_clean()


# --- search, charts, dark mode --------------------------------------------------------------


def test_header_search_finds_model_pages(open_page: Callable[..., Watched],
                                         entries: list[dict[str, Any]]) -> None:
    entry = entries[0]
    architecture = entry["submission"]["model"]["architecture"]  # e.g. "aimv2_1b_patch14_224"
    watched = open_page()
    watched.goto("methodology.html")
    page = watched.page
    page.locator(".md-search__input").first.click()
    page.keyboard.type(architecture)  # Material searches on key events
    page.wait_for_selector(".md-search-result__item", timeout=10_000)
    hrefs = page.locator(".md-search-result__item a").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))")
    assert any(re.search(rf"models/{re.escape(entry['id'])}\.html", h) for h in hrefs), hrefs
    with page.expect_navigation():
        page.locator(f".md-search-result__item a[href*='models/{entry['id']}.html']").first.click()
    assert page.url.split("?")[0].endswith(f"models/{entry['id']}.html")
    # the search worker logs a warning while its index loads; only errors fail a page
    watched.assert_clean()


@pytest.mark.parametrize("engage", ["click", "shortcut"])
def test_search_index_is_requested_only_when_the_visitor_goes_to_search(
        open_page: Callable[..., Watched], engage: str) -> None:
    """The index (one document per model page) and the theme's search worker are held back
    until the search is wanted."""
    watched = open_page()
    index_requests: list[str] = []
    worker_requests: list[str] = []
    page = watched.page
    page.on("request", lambda request: index_requests.append(request.url)
            if "search/search_index" in request.url else None)
    # on the context: a worker's script is not a request of the page
    page.context.on("request", lambda request: worker_requests.append(request.url)
                    if "/workers/search." in request.url else None)
    watched.goto(BOARD_PAGE)
    wait_ready(page, ".lb-table")
    page.wait_for_load_state("networkidle")
    assert index_requests == [] and worker_requests == []
    with page.expect_response(lambda response: "search/search_index.json" in response.url) as got:
        if engage == "click":
            page.locator(".md-search__input").first.click()
        else:
            page.locator("body").press("s")  # the theme's shortcut that opens the search
    assert got.value.status == 200 and len(index_requests) == 1
    page.wait_for_function("() => performance.getEntriesByType('resource')"
                           ".some(e => e.name.includes('/workers/search.'))", timeout=10_000)
    assert len(worker_requests) == 1
    page.keyboard.type("resnet")
    page.wait_for_selector(".md-search-result__item", timeout=10_000)
    watched.assert_clean()


def test_wheel_over_a_chart_scrolls_the_page(open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    watched.goto("index.html")
    page = watched.page
    wait_ready(page, ".lb-chart")
    chart = page.locator(".lb-chart canvas").first
    chart.scroll_into_view_if_needed()
    domain = "window.LB.views['home-tradeoff'].scale('x').domain()"
    before_domain = page.evaluate(domain)
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    before = page.evaluate("window.scrollY")
    page.mouse.wheel(0, 300)
    page.wait_for_function("y => window.scrollY > y", arg=before, timeout=5_000)
    assert page.evaluate(domain) == before_domain  # no zoom
    # shift + wheel zooms, and the reset button puts the axes back
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.down("Shift")
    page.mouse.wheel(0, -200)
    page.keyboard.up("Shift")
    page.wait_for_function(f"d => JSON.stringify({domain}) !== JSON.stringify(d)",
                           arg=before_domain, timeout=5_000)
    page.locator(".lb-reset").first.click()
    wait_ready(page, ".lb-chart")
    assert page.evaluate(domain) == pytest.approx(before_domain)
    watched.assert_clean()


def test_dark_mode_toggle_redraws_charts(open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    watched.goto(BOARD_PAGE)
    page = watched.page
    wait_ready(page, ".lb-chart")
    assert page.evaluate("document.body.dataset.mdColorScheme") == "default"
    assert page.locator(".lb-chart").first.get_attribute("data-scheme") == "light"
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    page.wait_for_function("() => document.body.dataset.mdColorScheme === 'slate'")
    colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert colour != "rgb(255, 255, 255)"
    # the chart was drawn again, themed for the dark background
    page.wait_for_selector(".lb-chart[data-scheme='dark'][data-ready='true']")
    watched.assert_clean()


# --- every page: loads cleanly, no serious accessibility violation ----------------------------

# Every page kind of the measured site (profiles and a sweep: the model page's breakdown and
# savings tables, the Energy page's charts), with the chooser's answer shown where there is one.
PAGE_KINDS = {"home": "index.html?top1=80", "boards": "leaderboard/index.html",
              "board": f"{BOARD_PAGE}?top1=80", "tradeoffs": "tradeoffs.html", "model": "MODEL",
              "compare": "COMPARE", "energy": "energy.html", "findings": "findings.html",
              "methodology": "methodology.html", "submit": "submit.html",
              "downloads": "downloads.html", "about": "about.html"}
# Pages of one section: no left sidebar that would hold only a link to themselves.
SINGLE_PAGES = {"methodology", "submit", "downloads", "about", "energy", "findings", "compare"}
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}

# scripts/setup.sh --test installs this axe-core from npm (axe-playwright-python bundles 4.12).
AXE_CORE_VERSION = "4.14.1"
AXE_CORE_JS = Path(sys.prefix) / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"


@functools.cache
def axe_core_script() -> str:
    """The pinned axe-core, or a failure that says how to install it."""
    if not AXE_CORE_JS.is_file():
        pytest.fail(f"{AXE_CORE_JS} is missing: run `bash scripts/setup.sh --test`")
    script = AXE_CORE_JS.read_text(encoding="utf-8")
    assert f"axe v{AXE_CORE_VERSION}" in script[:200], f"{AXE_CORE_JS} is not axe-core {AXE_CORE_VERSION}"
    return script


def serious_violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    """axe-core's serious and critical violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import DEFAULT_OPTIONS, Axe

    if page.evaluate("() => window.axe && window.axe.version") == AXE_CORE_VERSION:
        # injected by an earlier check of this document: Axe.run would parse its 0.5 MB again
        response = page.evaluate("options => axe.run(options)", DEFAULT_OPTIONS)
    else:
        response = Axe(axe_core_script()).run(page, options=DEFAULT_OPTIONS).response
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def measured_server(measured_site: Path) -> Iterator[str]:
    from leaderboard.site.serve import serving

    with serving(measured_site) as url:
        yield url


def wait_drawn(page: Any) -> None:
    if page.locator(".lb-chart:not([data-lazy])").count():
        wait_ready(page, ".lb-chart:not([data-lazy])")
    if page.locator(".lb-table").count():
        wait_ready(page, ".lb-table")


# Material's data-md-color-scheme of each scheme the accessibility check judges.
SCHEMES = {"light": "default", "dark": "slate"}
# Every chart that was started (drawn on load, or a lazy one that came near the screen) is drawn
# in the scheme, or failed (which assert_clean reports): none still drawing in the old one.
DRAWN_IN = """scheme => Array.from(document.querySelectorAll('.lb-chart'))
    .filter(e => !e.hasAttribute('data-lazy') || e.hasAttribute('data-loading'))
    .every(e => e.hasAttribute('data-error')
                || (e.dataset.ready === 'true' && e.dataset.scheme === scheme))"""


def switch_scheme(page: Any, scheme: str) -> None:
    """The theme's palette toggle, as a visitor clicks it; waits for every chart to be redrawn."""
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    page.wait_for_function("s => document.body.dataset.mdColorScheme === s", arg=SCHEMES[scheme])
    page.wait_for_function(DRAWN_IN, arg=scheme, timeout=READY_MS)


def resize(page: Any, width: int, height: int) -> None:
    """Resize the viewport and wait until the page has run its resize handlers (a frame later)."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function("w => window.innerWidth === w", arg=width)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


@pytest.mark.parametrize("kind", list(PAGE_KINDS))
def test_every_page_kind_loads_cleanly_with_no_serious_accessibility_violation(
        open_page: Callable[..., Watched], measured_site: Path, measured_server: str,
        kind: str) -> None:
    """No console or page error, no foreign request, a title, and no serious or critical
    axe-core violation on a desktop and on a phone, each in light and then in dark.

    One load a page kind (a fresh load per viewport cost half of this file's time): the desktop
    page, light then dark, is resized to the phone's viewport (the theme lays out by CSS media
    queries; leaderboard.js redoes its scroll boxes on resize) and judged light then dark. The
    charts size themselves when drawn, and the switch of scheme after the resize draws every
    one again at the phone's width, so each phone check judges charts drawn for a phone.
    """
    path = PAGE_KINDS[kind]
    ids = sorted(p.stem for p in (measured_site / "models").glob("*.html"))
    if path == "MODEL":
        path = f"models/{ids[0]}.html"  # profiled and swept
    if path == "COMPARE":
        path = "compare.html?ids=" + ",".join(ids[:3])
    assert list(VIEWPORTS)[0] == "desktop"  # loaded at its size: the sidebar check is for it
    width, height = VIEWPORTS["desktop"]
    watched = open_page(base=measured_server, width=width, height=height)
    watched.goto(path)
    page = watched.page
    wait_drawn(page)
    assert h1_text(page)
    if kind in SINGLE_PAGES:
        assert page.locator(".md-sidebar--primary").is_hidden(), "a sidebar of one link"
    found: dict[str, list[tuple[str, str, list[Any]]]] = {}
    for index, (viewport, (width, height)) in enumerate(VIEWPORTS.items()):
        if index:
            resize(page, width, height)
        for scheme in ("light", "dark"):
            # Every check but the load's first follows a switch (dark -> light after a resize),
            # so each viewport's checks judge charts drawn at its width.
            if (index, scheme) != (0, "light"):
                switch_scheme(page, scheme)
            found[f"{viewport} {scheme}"] = serious_violations(page)
    failed = {case: violations for case, violations in found.items() if violations}
    assert failed == {}, failed  # names each (viewport, scheme) that failed
    watched.assert_clean()
