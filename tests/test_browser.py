"""The synthetic site in Debian's chromium, driven by Playwright, served from 127.0.0.1.

Every page checked must load with no console error, no page error and no request to any other
host. Playwright never downloads a browser here: it launches /usr/bin/chromium.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from leaderboard.site.serve import serving

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# Every host name and address but 127.0.0.1 (the test server) resolves to nothing, inside
# chromium: no request can reach the network, and none has to pass through Python to be stopped.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", OFFLINE]
# chromium renders the omnibox's popups of each new window, so of each new context, as web pages
# (WebUI): as much CPU again as the page under test. No test has an omnibox.
NO_OMNIBOX_POPUPS = ["WebUIOmniboxPopup", "WebUIOmniboxAimPopup"]
_LAUNCH_ARGS: list[str] = []  # CHROMIUM_ARGS and the --disable-features that launch_args finds
HEADLINE = "synthetic-gpu--offline"
READY_MS = 10_000
# A page is judged once no request has been in flight for QUIET_S: longer than the 200 ms a
# deferred request waits in test_assert_clean_catches_a_late_foreign_request, far shorter than
# Playwright's networkidle (500 ms). Requests still in flight after READY_MS fail the test.
QUIET_S = 0.3

# Wraps window.vegaEmbed (assigned by the vega bundle) to keep each chart's vega View, keyed by
# the mount's data-spec, so tests can read the scenegraph and find where a point is drawn.
CAPTURE_VIEWS = """
(() => {
  window.__lbViews = {};
  let embed;
  Object.defineProperty(window, "vegaEmbed", {
    configurable: true,
    get() { return embed; },
    set(fn) {
      embed = function (el, spec, opts) {
        return fn(el, spec, opts).then((result) => {
          window.__lbViews[el.getAttribute("data-spec")] = result.view;
          return result;
        });
      };
    },
  });
})();
"""

# Each .lb-chart's spec name, readiness, error and drawn canvas size.
CHART_STATES = """els => els.map(e => {
    const c = e.querySelector("canvas");
    return {spec: e.getAttribute("data-spec"), ready: e.getAttribute("data-ready"),
            visible: e.offsetParent !== null,
            error: e.getAttribute("data-error"),
            width: c ? c.getBoundingClientRect().width : 0,
            height: c ? c.getBoundingClientRect().height : 0};
})"""

# Every drawn point of a chart that links somewhere: its datum id/url and page coordinates.
CHART_POINTS = """
(name) => {
  const view = window.__lbViews[name];
  const canvas = document.querySelector(`.lb-chart[data-spec="${name}"] canvas`);
  const rect = canvas.getBoundingClientRect();
  const pad = view.padding();
  const origin = view.origin();
  const points = [];
  (function walk(mark, dx, dy) {
    if (mark.marktype === "group") {
      for (const group of mark.items || []) {
        for (const child of group.items || []) {
          walk(child, dx + (group.x || 0), dy + (group.y || 0));
        }
      }
      return;
    }
    if (mark.marktype !== "symbol") return;
    for (const item of mark.items || []) {
      if (item.datum && item.datum.url) {
        points.push({id: item.datum.id, url: item.datum.url,
                     x: rect.left + dx + item.x, y: rect.top + dy + item.y});
      }
    }
  })(view.scenegraph().root, origin[0] + pad.left, origin[1] + pad.top);
  return points;
}
"""


def _chromium_or_skip() -> None:
    if CHROMIUM.is_file():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def disabled_features(chromium: Any) -> list[list[str]]:
    """The features of each --disable-features switch chromium was started with, in order."""
    page = chromium.new_page()
    try:
        page.goto("chrome://version")
        command_line = page.locator("#command_line").inner_text()
    finally:
        page.close()
    return [value.split(",") for value in re.findall(r"--disable-features=(\S+)", command_line)]


def launch_args(playwright: Any) -> list[str]:
    """CHROMIUM_ARGS and one --disable-features: Playwright's own features and NO_OMNIBOX_POPUPS.

    chromium keeps only the last --disable-features, so ours repeats Playwright's, which change
    between releases: a first chromium, once a session, shows them on its chrome://version.
    """
    if not _LAUNCH_ARGS:
        probe = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            features = [f for switch in disabled_features(probe) for f in switch]
        finally:
            probe.close()
        merged = ",".join(dict.fromkeys([*features, *NO_OMNIBOX_POPUPS]))
        _LAUNCH_ARGS.extend([*CHROMIUM_ARGS, f"--disable-features={merged}"])
    return _LAUNCH_ARGS


@pytest.fixture(scope="module")
def server(synthetic_site: Path) -> Iterator[str]:
    with serving(synthetic_site) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _chromium_or_skip()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        if os.environ.get("CI") == "true":
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip(f"playwright is not installed: {exc}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=launch_args(playwright))
        try:
            yield chromium
        finally:
            chromium.close()


# chromium fetches the tab's icon after each load and each change of the URL (the tables and the
# chooser keep their state there): no page script waits on that fetch, so it does not hold back
# the judgement of a page (a foreign icon is still recorded as a foreign request).
FAVICON = re.compile(r"/favicon\.\w+$")


def _may_lead_to_more(request: Any) -> bool:
    """Whether a page script may act on this request's end: any but chromium's own icon fetch."""
    return not (request.resource_type == "other" and FAVICON.search(request.url))


class Traffic:
    """A context's requests in flight, and when a request last started or ended."""

    def __init__(self) -> None:
        self.in_flight: set[Any] = set()
        self.changed = time.monotonic()

    def started(self, request: Any) -> None:
        if _may_lead_to_more(request):
            self.in_flight.add(request)
            self.changed = time.monotonic()

    def ended(self, request: Any) -> None:
        if _may_lead_to_more(request):
            self.in_flight.discard(request)
            self.changed = time.monotonic()

    def quiet_left(self) -> float:
        """Seconds until the context has been quiet for QUIET_S (QUIET_S while one is in flight)."""
        if self.in_flight:
            return QUIET_S
        return QUIET_S - (time.monotonic() - self.changed)


@dataclass
class Watched:
    """A page with what went wrong on it: console errors, page errors, foreign requests."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    traffic: Traffic = field(default_factory=Traffic)

    def url(self, path: str) -> str:
        return self.base + path

    def goto(self, path: str) -> None:
        response = self.page.goto(self.url(path), wait_until="load")
        if self.base.startswith("http"):
            assert response is not None and response.status == 200, path

    def wait_quiet(self, timeout_ms: int = READY_MS) -> None:
        """Let late requests (search index, lazy data) start and end before judging the page."""
        deadline = time.monotonic() + timeout_ms / 1000
        while (left := self.traffic.quiet_left()) > 0:
            if time.monotonic() > deadline:
                pending = sorted(request.url for request in self.traffic.in_flight)
                raise AssertionError(f"requests still in flight after {timeout_ms} ms: {pending}")
            # Playwright delivers request events to Python only while it waits on the browser
            self.page.wait_for_timeout(left * 1000)

    def assert_clean(self) -> None:
        self.wait_quiet()
        assert self.errors == [], self.errors
        assert self.external == [], self.external


@pytest.fixture
def open_page(browser: Any, server: str) -> Iterator[Callable[..., Watched]]:
    """Factory: a fresh page (own context) that records errors and foreign requests.

    chromium cannot reach other hosts (OFFLINE); each request to one is recorded here.
    """
    contexts = []

    def make(capture_views: bool = False, base: str = server, width: int = 1280,
             height: int = 900, color_scheme: str = "light", touch: bool = False) -> Watched:
        # touch: a phone's screen (touch events, a coarse pointer), for pinch and hints
        context = browser.new_context(viewport={"width": width, "height": height},
                                      color_scheme=color_scheme, has_touch=touch, is_mobile=touch)
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page, base)

        def on_console(message: Any) -> None:
            if message.type == "error":
                watched.errors.append(f"console: {message.text} @ {message.location}")

        def on_request(request: Any) -> None:
            watched.traffic.started(request)
            if not request.url.startswith((base, "data:", "blob:")):
                watched.external.append(request.url)

        page.on("console", on_console)
        page.on("pageerror", lambda error: watched.errors.append(f"pageerror: {error}"))
        # on the context, so requests of workers (Material's search) are seen too
        context.on("request", on_request)
        context.on("requestfinished", watched.traffic.ended)
        context.on("requestfailed", watched.traffic.ended)
        if capture_views:
            page.add_init_script(CAPTURE_VIEWS)
        return watched

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def entries(synthetic_site: Path) -> list[dict[str, Any]]:
    payload = json.loads((synthetic_site / "downloads/entries.json").read_text("utf-8"))
    return payload["entries"]


def h1_text(page: Any) -> str:
    """The page title without mkdocs' permalink anchor."""
    return page.locator("h1").first.evaluate(
        "h => Array.from(h.childNodes).filter(n => !(n.classList && "
        "n.classList.contains('headerlink'))).map(n => n.textContent).join('').trim()")


def wait_ready(page: Any, selector: str) -> int:
    """Wait until every element matching selector has data-ready="true"; return their count."""
    count = page.locator(selector).count()
    assert count > 0, f"no {selector} on {page.url}"
    page.wait_for_function(
        "sel => Array.from(document.querySelectorAll(sel)).every("
        "e => e.getAttribute('data-ready') === 'true' || e.hasAttribute('data-error'))",
        arg=selector, timeout=READY_MS)
    return count


# --- the page fixture itself -----------------------------------------------------------------


# A request made 200 ms after load (a deferred script, a lazy widget), and a foreign tab icon
# (chromium's own fetch, which the wait for quiet does not wait for), still fail the page.
LATE_OR_ICON = {
    "https://cdn.example.com/late.js": "<script>addEventListener('load', () => setTimeout("
                                       "() => fetch('https://cdn.example.com/late.js')"
                                       ".catch(() => {}), 200));</script>",
    "https://cdn.example.com/favicon.ico": '<link rel="icon" href="https://cdn.example.com/favicon.ico">',
}


@pytest.mark.parametrize("foreign", LATE_OR_ICON)
def test_assert_clean_catches_a_late_foreign_request(open_page: Callable[..., Watched],
                                                     tmp_path: Path, foreign: str) -> None:
    (tmp_path / "page.html").write_text(
        f"<!doctype html><title>late</title>{LATE_OR_ICON[foreign]}", "utf-8")
    with serving(tmp_path) as base:
        watched = open_page(base=base)
        watched.goto("page.html")
        with pytest.raises(AssertionError, match=re.escape(foreign)):
            watched.assert_clean()


def test_a_request_that_never_ends_fails_the_page(open_page: Callable[..., Watched],
                                                  tmp_path: Path) -> None:
    """The wait for quiet gives up loudly, naming the request, instead of hanging."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        hanging = f"http://127.0.0.1:{silent.getsockname()[1]}/hangs"
        (tmp_path / "hang.html").write_text(
            f"<!doctype html><title>hang</title><script>fetch('{hanging}')</script>", "utf-8")
        with serving(tmp_path) as base:
            watched = open_page(base=base)
            watched.goto("hang.html")
            with pytest.raises(AssertionError, match=f"still in flight.*{re.escape(hanging)}"):
                watched.wait_quiet(timeout_ms=500)


def test_chromium_keeps_playwrights_disabled_features_and_opens_no_omnibox_popup(
        browser: Any) -> None:
    switches = disabled_features(browser)
    assert len(switches) == 2, switches  # Playwright's, then launch_args'
    playwrights, ours = switches
    assert set(playwrights) | set(NO_OMNIBOX_POPUPS) <= set(ours)
    context = browser.new_context()
    try:
        context.new_page()
        session = browser.new_browser_cdp_session()
        targets = session.send("Target.getTargets", {"filter": [{}]})["targetInfos"]
    finally:
        context.close()
    assert [t["url"] for t in targets if "omnibox" in t["url"]] == []


# --- every page loads cleanly ---------------------------------------------------------------
# Checked with each page's accessibility, one load for both (test_browser_visitor.py,
# test_every_page_loads_cleanly_with_no_serious_accessibility_violation).


# --- charts ---------------------------------------------------------------------------------


def scroll_through(page: Any) -> None:
    """Bring every visible chart into view in turn, so lazy charts load."""
    charts = page.locator(".lb-chart")
    for index in range(charts.count()):
        chart = charts.nth(index)
        if chart.is_visible():
            chart.scroll_into_view_if_needed()
            if chart.get_attribute("data-lazy") is not None:
                # seen, its IntersectionObserver marks it loading: only then scroll on
                chart.and_(page.locator("[data-loading]")).wait_for(timeout=READY_MS)


@pytest.mark.parametrize("path, expected", [("index.html", 1), ("tradeoffs.html", 9)])
def test_charts_draw(open_page: Callable[..., Watched], path: str, expected: int) -> None:
    watched = open_page(capture_views=True)
    watched.goto(path)
    page = watched.page
    if path == "tradeoffs.html":
        # one board at a time: the other board's charts (and data) load only once it is chosen
        scroll_through(page)
        wait_ready(page, ".lb-chart[data-loading]")
        assert page.locator(".lb-chart[data-loading]").count() == 6  # 3 of board 1 + claims
        page.locator("select.lb-board-pick").select_option("synthetic-gpu--single-stream")
        assert "board=synthetic-gpu--single-stream" in page.url
        scroll_through(page)
    assert wait_ready(page, ".lb-chart") == expected
    charts = page.eval_on_selector_all(".lb-chart", CHART_STATES)
    for chart in charts:
        assert chart["error"] is None, chart
        assert chart["ready"] == "true", chart
        if not chart["visible"]:  # the board not chosen now (drawn while it was)
            continue
        assert chart["width"] > 0 and chart["height"] > 0, chart
        # every drawn point links to a model page (vega's href channel)
        points = page.evaluate(CHART_POINTS, chart["spec"])
        assert points, chart["spec"]
        assert all(re.fullmatch(r"models/[^/]+\.html", p["url"]) for p in points), chart["spec"]
    watched.assert_clean()


def test_findings_charts_draw(open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    watched.goto("findings.html")
    page = watched.page
    assert wait_ready(page, ".lb-chart") == 4
    charts = page.eval_on_selector_all(".lb-chart", CHART_STATES)
    assert [c["spec"] for c in charts] == ["findings-fits", "findings-correlations",
                                           "findings-savings", "findings-frontier"]
    for chart in charts:
        assert chart["error"] is None and chart["ready"] == "true", chart
        assert chart["width"] > 0 and chart["height"] > 0, chart
    watched.assert_clean()


def test_clicking_a_chart_point_opens_its_model_page(
        open_page: Callable[..., Watched]) -> None:
    watched = open_page(capture_views=True)
    watched.goto("index.html")
    page = watched.page
    wait_ready(page, ".lb-chart")
    page.evaluate("document.querySelector('.lb-chart canvas').scrollIntoView({block: 'center'})")
    points = page.evaluate(CHART_POINTS, "home-tradeoff")
    assert len(points) == 60
    # the point farthest from any other, so the click cannot land on a neighbour
    target = max(points, key=lambda p: min(math.hypot(p["x"] - q["x"], p["y"] - q["y"])
                                           for q in points if q is not p))
    page.evaluate("""() => {
        window.__hovered = null;
        window.__lbViews["home-tradeoff"].addEventListener("mouseover", (event, item) => {
            window.__hovered = item && item.datum ? item.datum.id : null;
        });
    }""")
    page.mouse.move(target["x"], target["y"])
    page.wait_for_function("id => window.__hovered === id", arg=target["id"], timeout=READY_MS)
    with page.expect_navigation():
        page.mouse.click(target["x"], target["y"])
    assert page.url == watched.url(target["url"])
    assert h1_text(page) == target["id"]
    watched.assert_clean()


# What the first draw of a chart showed (the moment its mount gets data-ready) and its x domain.
FIRST_DRAW = """
new MutationObserver((mutations) => {
  for (const m of mutations) {
    const root = m.target;
    if (!root.classList.contains("lb-chart") || window.__firstDraw) continue;
    if (root.getAttribute("data-ready") !== "true") continue;
    const view = window.LB.views[root.getAttribute("data-spec")];
    const note = root.parentNode.querySelector(".lb-chart-progress");
    window.__firstDraw = {ids: view.data("points").map(r => r.id),
                          x: view.scale("x").domain(), y: view.scale("y").domain(),
                          note: note && note.textContent,
                          complete: root.getAttribute("data-complete")};
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-ready"]});
document.addEventListener("lb-chart-complete", (event) => {
  window.__completeEvent = event.detail.view.data("points").length;
});
"""


def test_a_big_chart_draws_a_stated_sample_first_then_every_point(
        open_page: Callable[..., Watched]) -> None:
    """Past LB.firstDrawPoints (1,000 on the site; 20 here, for 60 entries) the first draw
    is the frontier, both axes' extremes and every k-th entry, said so under the chart; the
    rest follow, with the axes unmoved, and the note goes. (Coloured by size class the home
    chart is not pictured first by lb-sketch.js; a pictured chart keeps its picture over the
    sample instead of the note: tests/test_browser_sketch.py.)"""
    watched = open_page()
    page = watched.page
    page.add_init_script("window.LB = {firstDrawPoints: 20};" + FIRST_DRAW)
    watched.goto("index.html?colour=size")
    wait_ready(page, ".lb-chart")
    first = page.evaluate("window.__firstDraw")
    frontier = page.evaluate("LB_TABLES[document.querySelector('.lb-chart')"
                             ".getAttribute('data-table')].frontier")
    assert first["complete"] is None
    assert 20 <= len(first["ids"]) < 60
    assert set(frontier) <= set(first["ids"])
    assert first["note"] == (f"Drawing {len(first['ids'])} of 60 points first (the frontier and "
                             "every 3rd entry); the rest follow in a moment.")
    page.wait_for_selector(".lb-chart[data-complete=true]", timeout=READY_MS)
    ids = page.evaluate("LB.views['home-tradeoff'].data('points').map(r => r.id)")
    assert len(ids) == len(set(ids)) == 60 and set(first["ids"]) < set(ids)
    assert page.evaluate("LB.views['home-tradeoff'].scale('x').domain()") == first["x"]
    assert page.evaluate("LB.views['home-tradeoff'].scale('y').domain()") == first["y"]
    assert page.locator(".lb-chart-progress").count() == 0
    assert page.evaluate("window.__completeEvent") == 60
    # what a screen reader hears counts every point, not the first draw's
    summary = page.evaluate("document.getElementById(document.querySelector('.lb-chart')"
                            ".getAttribute('aria-describedby').split(' ')[0]).textContent")
    assert ": 60 points." in summary, summary
    watched.assert_clean()


# --- the leaderboard table ------------------------------------------------------------------


def column(page: Any, key: str) -> list[str]:
    return page.locator(f".lb-table tbody td[data-key='{key}']").all_inner_texts()


def count_text(page: Any) -> tuple[int, int]:
    text = page.locator(".lb-count").inner_text()
    match = re.fullmatch(r"(\d+) of (\d+) entries", text.strip())
    assert match, text
    return int(match.group(1)), int(match.group(2))


@pytest.fixture
def table_page(open_page: Callable[..., Watched]) -> Iterator[Watched]:
    watched = open_page()
    watched.goto("leaderboard/index.html")
    wait_ready(watched.page, ".lb-table")
    yield watched
    watched.assert_clean()


def test_table_renders_a_page_of_rows(table_page: Watched, entries: list[dict[str, Any]]) -> None:
    page = table_page.page
    assert count_text(page) == (60, 60)
    assert page.locator(".lb-table tbody tr").count() == 50
    assert page.locator(".lb-pager-top .lb-page").inner_text() == "page 1 of 2"
    assert page.locator(".lb-pager-bottom .lb-page").inner_text() == "page 1 of 2"
    assert page.locator(".lb-pager-top .lb-prev").is_disabled()
    # default order: headline score, descending
    assert page.locator("th[data-key='score']").get_attribute("aria-sort") == "descending"
    scores = [float(s) for s in column(page, "score")]
    assert scores == sorted(scores, reverse=True)
    ids = {e["id"] for e in entries}
    assert set(column(page, "id")) <= ids


def test_table_sorts_by_a_clicked_column(table_page: Watched,
                                         entries: list[dict[str, Any]]) -> None:
    page = table_page.page
    header = page.locator("th[data-key='top1']")
    top1 = sorted(e["top1"] for e in entries)
    seen = []
    for _ in range(2):
        header.click()
        direction = header.get_attribute("aria-sort")
        assert direction in ("ascending", "descending")
        assert page.locator("th[data-key='score']").get_attribute("aria-sort") == "none"
        values = [float(v) for v in column(page, "top1")]
        assert len(values) == 50
        expected = sorted(values, reverse=direction == "descending")
        assert values == expected, direction
        # the first row is the extreme of all 60 entries, not only of the page
        extreme = top1[-1] if direction == "descending" else top1[0]
        assert values[0] == pytest.approx(extreme, abs=0.006)
        seen.append(direction)
    assert seen == ["descending", "ascending"]  # top-1 starts descending; a second click flips
    # headers sort from the keyboard too
    gmacs = page.locator("th[data-key='gmacs']")
    gmacs.locator("button").focus()
    page.keyboard.press("Enter")
    assert gmacs.get_attribute("aria-sort") == "ascending"
    values = [float(v) for v in column(page, "gmacs")]
    assert values == sorted(values)


def test_table_search_filters_rows(table_page: Watched, entries: list[dict[str, Any]]) -> None:
    page = table_page.page
    fragment = "syn0001"  # syn00010 .. syn00019; no family contains it
    expected = sorted(e["id"] for e in entries if fragment in e["id"])
    assert 0 < len(expected) < 60
    page.locator("input.lb-search").fill(fragment)
    page.wait_for_function("n => document.querySelector('.lb-count').textContent"
                           ".startsWith(n + ' of ')", arg=len(expected))
    assert count_text(page) == (len(expected), 60)
    shown = column(page, "id")
    assert sorted(shown) == expected
    assert all(fragment in text for text in shown)
    page.locator("input.lb-search").fill("")
    page.wait_for_function("() => document.querySelector('.lb-count').textContent"
                           ".startsWith('60 of ')")


def test_table_family_filter(table_page: Watched, entries: list[dict[str, Any]]) -> None:
    page = table_page.page
    families: dict[str, int] = {}
    for entry in entries:
        families[entry["family"]] = families.get(entry["family"], 0) + 1
    family = max(sorted(families), key=lambda f: families[f])
    assert 1 < families[family] < 60
    select = page.locator("select.lb-filter[data-filter='family']")
    options = select.locator("option").all_inner_texts()
    assert options == ["all families", *sorted(families)]
    select.select_option(family)
    assert count_text(page) == (families[family], 60)
    assert set(column(page, "family")) == {family}
    assert page.locator(".lb-table tbody tr").count() == min(50, families[family])


def test_table_pager_shows_the_next_rows(table_page: Watched) -> None:
    page = table_page.page
    first = column(page, "id")
    page.locator(".lb-pager-top .lb-next").click()
    assert page.locator(".lb-pager-top .lb-page").inner_text() == "page 2 of 2"
    assert "page=2" in page.url  # the page is in the URL, so it can be shared
    second = column(page, "id")
    assert len(second) == 10
    assert not set(first) & set(second)
    assert page.locator(".lb-pager-top .lb-next").is_disabled()
    page.locator(".lb-pager-top .lb-prev").click()
    assert column(page, "id") == first
    # the bottom pager moves to the next page and brings the table's top into view
    page.locator(".lb-pager-bottom .lb-next").click()
    assert page.locator(".lb-pager-bottom .lb-page").inner_text() == "page 2 of 2"
    top = page.locator(".lb-table").evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"] / 2, top
    # a search or filter goes back to the first page of its results
    page.locator("input.lb-search").fill("syn0000")  # syn00000 .. syn00009
    page.wait_for_function("() => document.querySelector('.lb-count').textContent"
                           ".startsWith('10 of ')")
    assert page.locator(".lb-pager-bottom .lb-page").inner_text() == "page 1 of 1"
    assert len(column(page, "id")) == 10


def test_table_link_opens_the_model_page(table_page: Watched) -> None:
    page = table_page.page
    link = page.locator(".lb-table tbody td[data-key='id'] a").first
    entry_id = link.inner_text()
    with page.expect_navigation():
        link.click()
    assert page.url == table_page.url(f"models/{entry_id}.html")
    assert h1_text(page) == entry_id


def test_model_page_family_link_preselects_the_filter(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    entry = entries[0]
    family = entry["family"]
    watched = open_page()
    watched.goto(f"models/{entry['id']}.html")
    page = watched.page
    with page.expect_navigation():
        page.locator(f"a[href$='leaderboard/index.html?family={family}']").first.click()
    wait_ready(page, ".lb-table")
    assert page.locator("select.lb-filter[data-filter='family']").input_value() == family
    expected = sum(e["family"] == family for e in entries)
    assert count_text(page) == (expected, 60)
    assert set(column(page, "id")) == {e["id"] for e in entries if e["family"] == family}
    watched.assert_clean()


def test_board_table_has_status_filter_and_every_record(
        open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    watched.goto(f"leaderboard/{HEADLINE}.html")
    page = watched.page
    wait_ready(page, ".lb-table")
    assert count_text(page) == (60, 60)
    filters = "els => els.map(e => e.getAttribute('data-filter'))"
    # status is a detail column: its filter comes with "All columns" (loaded on demand)
    assert page.locator("select.lb-filter").evaluate_all(filters) == ["family", "tier", "size"]
    page.locator("button.lb-more").click()
    page.wait_for_selector("th[data-key='status']")
    assert "columns=all" in page.url
    assert page.locator("select.lb-filter").evaluate_all(filters) == [
        "family", "tier", "size", "precision", "status"]
    assert set(column(page, "status")) == {"ok"}
    tiers = page.locator("select.lb-filter[data-filter='tier']")
    tier = tiers.locator("option").nth(1).get_attribute("value")
    tiers.select_option(tier)
    shown, total = count_text(page)
    assert 0 < shown < total
    assert set(column(page, "tier")) == {tier}
    watched.assert_clean()


# --- opened as local files ------------------------------------------------------------------


def test_tables_and_charts_work_from_local_files(
        open_page: Callable[..., Watched], synthetic_site: Path) -> None:
    """mkdocs.yml promises the site works opened from disk: data comes in <script> files."""
    watched = open_page(base=synthetic_site.as_uri() + "/")
    page = watched.page
    watched.goto("index.html")
    assert wait_ready(page, ".lb-chart") == 1
    assert page.locator(".lb-chart[data-error]").count() == 0
    watched.goto("leaderboard/index.html")
    wait_ready(page, ".lb-table")
    assert count_text(page) == (60, 60)
    link = page.locator(".lb-table tbody td[data-key='id'] a").first
    entry_id = link.inner_text()
    with page.expect_navigation():
        link.click()
    assert h1_text(page) == entry_id
    watched.assert_clean()


def test_local_files_load_without_errors_and_search_works(
        open_page: Callable[..., Watched], synthetic_site: Path) -> None:
    # From file:// the search worker runs through the vendored iframe-worker shim and the
    # inlined search index that Material's offline plugin writes; nothing leaves the machine.
    watched = open_page(base=synthetic_site.as_uri() + "/")
    watched.goto("methodology.html")
    page = watched.page
    page.locator(".md-search__input").first.click()
    page.keyboard.type("frontier")  # Material searches on key events, not on fill()
    page.wait_for_selector(".md-search-result__item", timeout=10_000)
    assert page.locator(".md-search-result__item").count() >= 1
    watched.assert_clean()
