# ruff: noqa: F811 - the fixtures imported from test_browser are redefined as test parameters
"""The visitor's board, round 2 (issue 22), in Debian's chromium on the synthetic site.

Each test is one defect a visitor hit, checked the way they hit it: a phone-width Compare,
focus rings, charts by keyboard, touch and screen reader, tooltips, trade-offs links, search
ranking, phone chart labels, cost settings in the address, folded findings tables and the
chart's export button under the phone's search. Several assertions share each page load.

Shares the browser, server and page fixtures of tests/test_browser.py (one chromium per module).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from test_browser import (  # noqa: F401 - fixtures are used by name
    CHART_POINTS,
    HEADLINE,
    READY_MS,
    Watched,
    browser,
    entries,
    open_page,
    server,
    wait_ready,
)

from leaderboard.site.search_index import rank_key

pytestmark = pytest.mark.browser

SINGLE = "synthetic-gpu--single-stream"
BOARD_PAGE = f"leaderboard/{HEADLINE}.html"
PHONE = {"width": 390, "height": 844}


def normalise(text: str) -> str:
    """As LB.normalise: what a visitor types, without case and punctuation."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def energy_of(entry: dict[str, Any], board: str = HEADLINE) -> float | None:
    result = entry["boards"].get(board)
    if not result or result["score"] is None:
        return None
    return result["record"]["energy"]["gross_j_per_image"]


def prefix_case(entries: list[dict[str, Any]]) -> tuple[str, str, list[str]]:
    """An entry whose architecture starts other entries' ids: (its id, the name, the others)."""
    ids = sorted(e["id"] for e in entries)
    for entry_id in ids:
        name = entry_id.split(".")[0]
        others = [i for i in ids if i != entry_id and normalise(i).startswith(normalise(name))]
        if others:
            return entry_id, name, others
    raise AssertionError("the synthetic site has no architecture that prefixes another id")


def domain(page: Any, name: str, axis: str = "x") -> list[float]:
    return page.evaluate(f"window.LB.views[{name!r}].scale({axis!r}).domain()")


# --- Compare on a phone, and what a typed name finds ------------------------------------------


def test_phone_compare_fits_the_screen_and_finds_the_entry_named(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    watched = open_page(**PHONE)
    page = watched.page
    three = [e["id"] for e in entries[:3]]
    watched.goto("compare.html?ids=" + ",".join(three))
    wait_ready(page, ".lb-compare")
    # the page never scrolls sideways (it was 734-875 px wide) and the header spans it
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator(".md-header").bounding_box()["width"] >= PHONE["width"] - 1
    box = page.locator(".lb-compare-table")
    assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
    assert box.get_attribute("aria-label")
    # a name that is an architecture and the start of other ids adds that architecture's entry
    entry_id, name, others = prefix_case(entries)
    field = page.locator("#lb-compare-add")
    field.fill(name)
    field.press("Enter")
    page.wait_for_function("id => new URLSearchParams(location.search).get('ids').split(',')"
                           ".includes(id)", arg=entry_id, timeout=READY_MS)
    assert field.input_value() == ""
    assert page.locator(f".lb-compare-table th[data-id='{entry_id}']").count() == 1
    # an ambiguous name stays in the box, and the candidates are offered best first
    page.locator(f".lb-compare-remove[aria-label='Remove {entry_id}']").click()
    field.fill(name[:6])
    field.press("Enter")
    assert field.input_value() == name[:6]
    choices = page.locator(".lb-compare-choice").all_inner_texts()
    candidates = sorted(i for i in (e["id"] for e in entries)
                        if normalise(i).startswith(normalise(name[:6])))
    assert sorted(choices) == candidates[:6] or len(choices) == 6, choices
    assert "matches" in page.locator(".lb-compare-message").inner_text()
    watched.assert_clean()


def test_table_search_ranks_the_named_entry_first_in_any_order(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    entry_id, name, others = prefix_case(entries)
    watched = open_page()
    page = watched.page
    watched.goto(f"{BOARD_PAGE}?search={name}")
    wait_ready(page, ".lb-table")
    for _ in range(2):  # top-1 descending, then ascending: the named entry leads both
        page.locator("th[data-key='top1'] .lb-sort").click()
        shown = page.locator(".lb-table tbody td[data-key='id']").all_inner_texts()
        assert shown[0] == entry_id, shown
        assert sorted(shown) == sorted([entry_id, *others]), shown
    watched.assert_clean()


# the model pages the header search lists, in order (Material shows 10 until one scrolls)
SEARCH_MODELS = ("() => Array.from(document.querySelectorAll('.md-search-result__item > a'), "
                 "a => a.getAttribute('href')).filter(h => h.includes('models/'))"
                 ".map(h => h.slice(h.indexOf('models/')).split('?')[0])")


def test_header_search_lists_the_named_architecture_first(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    """Typing an architecture that starts other ids (as "resnet50" starts "resnet50d.*") lists
    that architecture's pages first, then the others in a fixed order, not by word rarity."""
    entry_id, name, _others = prefix_case(entries)  # coat_lite_medium (+ coat_lite_medium_384)
    family = name.split("_")[0] + "_"  # "coat_": shorter architectures first
    watched = open_page()
    watched.goto("methodology.html")
    page = watched.page
    field = page.locator(".md-search__input").first
    field.click()
    for query in (name, family):
        field.fill("")
        page.keyboard.type(query)  # Material searches on key events, not on fill()
        matching = sorted((e["id"] for e in entries if e["id"].startswith(query)), key=rank_key)
        expected = [f"models/{i}.html" for i in matching][:10]
        deadline = time.monotonic() + 10
        while (shown := page.evaluate(SEARCH_MODELS)[:10]) != expected:
            if time.monotonic() > deadline:  # the worker answers after the last key
                break
            page.wait_for_timeout(100)
        assert shown == expected, (query, shown)
    assert expected[0] != f"models/{entry_id}.html"  # the family query is not a tautology
    watched.assert_clean()


# --- focus rings ------------------------------------------------------------------------------

RING = {"light": "rgb(11, 93, 30)", "dark": "rgb(165, 229, 176)"}  # --lb-focus


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_control_shows_a_focus_ring(open_page: Callable[..., Watched], scheme: str) -> None:
    watched = open_page(color_scheme=scheme)
    page = watched.page
    watched.goto(BOARD_PAGE)
    wait_ready(page, ".lb-table")
    wait_ready(page, ".lb-chart")
    controls = ["#lb-choose-top1", ".lb-cost-field input", ".lb-search", ".lb-filter",
                ".lb-chart"]
    for selector in controls:
        target = page.locator(selector).first
        target.focus()
        if selector in (".lb-filter", ".lb-chart"):  # focus-visible: reached by keyboard
            page.keyboard.press("Shift+Tab")
            page.keyboard.press("Tab")
        style = target.evaluate("e => { const s = getComputedStyle(e); return "
                                "[s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor,"
                                " document.activeElement === e]; }")
        assert style[3], selector
        assert style[0] == "solid" and style[1] >= 2 and style[2] == RING[scheme], (selector, style)
    watched.assert_clean()


# --- charts by keyboard, screen reader and touch ------------------------------------------------


def test_chart_points_are_reached_read_zoomed_and_opened_by_keyboard(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    watched = open_page()
    page = watched.page
    watched.goto(BOARD_PAGE)
    wait_ready(page, ".lb-chart")
    chart = page.locator(".lb-chart").first
    name = chart.get_attribute("data-spec")
    # Tab reaches the chart from the chooser
    page.locator("#lb-choose-top1").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('lb-chart')"):
            break
    else:
        pytest.fail("Tab never reached the chart")
    # a name and a summary instead of "Vega visualization"
    assert "Accuracy against energy" in chart.get_attribute("aria-label")
    assert page.locator("[aria-label='Vega visualization']").count() == 0
    summary_id = chart.get_attribute("aria-describedby").split()[0]
    summary = page.locator(f"#{summary_id}").inner_text()
    scored = sorted((e for e in entries if energy_of(e) is not None), key=energy_of)
    frontier = page.evaluate(f"window.LB_TABLES[{chart.get_attribute('data-table')!r}].frontier")
    assert f"{len(scored)} points" in summary and f"Pareto frontier ({len(frontier)})" in summary
    # arrows step through the points by energy; the status line reads the point
    status = page.locator(f"#{chart.get_attribute('aria-describedby').split()[1]}")
    page.keyboard.press("ArrowRight")
    assert status.inner_text().startswith(f"model {scored[0]['id']},")
    assert "on the Pareto frontier" in status.inner_text()  # the cheapest always is
    cursor = page.locator(".lb-chart-cursor").first
    ring, box = cursor.bounding_box(), chart.bounding_box()
    assert cursor.is_visible() and box["x"] <= ring["x"] <= box["x"] + box["width"]
    page.keyboard.press("End")
    assert status.inner_text().startswith(f"model {scored[-1]['id']},")
    assert f"({len(scored)} of {len(scored)})" in status.inner_text()
    # + zooms in, 0 puts the axes back
    before = domain(page, name)
    page.keyboard.press("+")
    page.wait_for_function("([n, d]) => JSON.stringify(window.LB.views[n].scale('x').domain())"
                           " !== JSON.stringify(d)", arg=[name, before], timeout=5_000)
    after = domain(page, name)
    assert after[1] / after[0] < before[1] / before[0]
    page.keyboard.press("0")
    page.wait_for_function("([n, d]) => JSON.stringify(window.LB.views[n].scale('x').domain())"
                           " === JSON.stringify(d)", arg=[name, before], timeout=5_000)
    # keys on the family select inside the chart stay the select's
    family = page.locator(".lb-chart .vega-bindings select").first
    family.focus()
    status_before = status.inner_text()
    page.keyboard.press("ArrowDown")
    assert status.inner_text() == status_before
    assert family.evaluate("e => e.selectedIndex") == 1
    page.keyboard.press("ArrowUp")
    chart.focus()
    # Enter opens the point's model page
    page.keyboard.press("Home")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.split("?")[0].endswith(f"models/{scored[0]['id']}.html")
    watched.assert_clean()


def test_phone_chart_pinches_to_zoom_and_tells_phones_no_shift_wheel(
        open_page: Callable[..., Watched]) -> None:
    watched = open_page(touch=True, **PHONE)
    page = watched.page
    watched.goto("index.html")
    wait_ready(page, ".lb-chart")
    hint = page.locator(".lb-chart-hint").first.inner_text()
    assert "Pinch" in hint and "Shift" not in hint and "wheel" not in hint, hint
    words = page.locator("article").inner_text().lower()
    assert "wheel" not in words and "a pinch" in words  # the page's own text too
    canvas = page.locator(".lb-chart canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = domain(page, "home-tradeoff")
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, spread: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": x - spread, "y": y, "id": 1},
                                                 {"x": x + spread, "y": y, "id": 2}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 20)
    for spread in (35, 50, 65, 80):
        touch("touchMove", spread)
    touch("touchEnd", 0)
    page.wait_for_function("d => JSON.stringify(window.LB.views['home-tradeoff'].scale('x')"
                           ".domain()) !== JSON.stringify(d)", arg=before, timeout=5_000)
    after = domain(page, "home-tradeoff")
    assert after[1] / after[0] < before[1] / before[0]  # fingers apart: zoomed in
    watched.assert_clean()


def test_phone_chart_title_and_frontier_names_stay_inside_the_chart(
        open_page: Callable[..., Watched]) -> None:
    watched = open_page(**PHONE)
    page = watched.page
    watched.goto(BOARD_PAGE)
    wait_ready(page, ".lb-chart")
    name = page.locator(".lb-chart").first.get_attribute("data-spec")
    texts = page.evaluate("""name => {
      const view = window.LB.views[name];
      const out = [];
      (function walk(mark, dx) {
        for (const item of mark.items || []) {
          if (mark.marktype === "group") {
            for (const child of item.items || []) walk(child, dx + (item.x || 0));
          } else if (mark.marktype === "text" && item.text && item.bounds) {
            out.push({text: String(item.text), x1: dx + item.bounds.x1, x2: dx + item.bounds.x2});
          }
        }
      })(view.scenegraph().root, view.origin()[0]);
      return {texts: out, width: view.width() + view.padding().left + view.padding().right
              + view.origin()[0] * 2};
    }""", name)
    canvas_width = page.locator(".lb-chart canvas").first.bounding_box()["width"]
    assert texts["texts"], "no text drawn"
    cut = [t for t in texts["texts"] if t["x1"] < -1 or t["x2"] > canvas_width + 1]
    assert cut == [], cut
    watched.assert_clean()


def test_tooltips_never_read_nan_and_show_parameters_and_gmacs(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    watched = open_page(capture_views=True)
    page = watched.page
    watched.goto(BOARD_PAGE)
    wait_ready(page, ".lb-chart")
    name = page.locator(".lb-chart").first.get_attribute("data-spec")
    page.locator(".lb-chart canvas").first.scroll_into_view_if_needed()
    points = page.evaluate(CHART_POINTS, name)
    point = points[len(points) // 2]
    entry = next(e for e in entries if e["id"] == point["id"])
    tip = page.locator("#vg-tooltip-element")
    page.mouse.move(point["x"], point["y"])
    tip.wait_for(state="visible", timeout=5_000)
    assert "NaN" not in tip.inner_text()  # before its details load, and after
    compute = entry["submission"]["compute"]
    for _ in range(20):  # the details arrive on the first pointing; point again to read them
        page.mouse.move(point["x"] + 40, point["y"] + 40)
        page.mouse.move(point["x"], point["y"])
        if "params (M)" in tip.inner_text():
            break
        page.wait_for_timeout(100)
    text = tip.inner_text()
    assert "NaN" not in text
    assert f"{compute['params_m']:.1f}" in text and f"{compute['gmacs']:.2f}" in text, text
    watched.assert_clean()


# --- trade-offs links, cost settings -----------------------------------------------------------


def test_tradeoffs_board_links_open_their_board(open_page: Callable[..., Watched]) -> None:
    watched = open_page(width=1440)
    page = watched.page
    watched.goto(f"tradeoffs.html#{SINGLE}")  # a shared #<board> link
    section = page.locator(f"[data-board-section='{SINGLE}']")
    assert section.is_visible()
    assert page.locator("#lb-board-pick").input_value() == SINGLE
    assert -5 <= section.bounding_box()["y"] < 300  # scrolled to, not left at the top
    # the table of contents' link to the other board's heading chooses that board
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(".md-sidebar--secondary a.md-nav__link[href='#synthetic-gpu-offline']").click()
    assert page.locator("#lb-board-pick").input_value() == HEADLINE
    heading = page.locator("#synthetic-gpu-offline")
    assert heading.is_visible() and heading.bounding_box()["y"] < 300
    assert page.locator(f"[data-board-section='{SINGLE}']").is_hidden()
    watched.assert_clean()


def test_cost_settings_follow_typing_and_stay_in_the_address(
        open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    page = watched.page
    watched.goto(BOARD_PAGE)
    wait_ready(page, ".lb-table")
    cell = page.locator(".lb-table tbody td[data-key='co2_m']").first
    before = cell.inner_text()
    grid = page.locator(".lb-cost-field input[data-cost-setting='grid_g_per_kwh']").first
    grid.click()
    grid.press("Control+a")
    page.keyboard.type("100")  # no Tab, no Enter
    page.wait_for_function("() => new URLSearchParams(location.search).get('grid') === '100'",
                           timeout=5_000)
    assert cell.inner_text() != before
    # kept in the browser: a page opened without them puts them in its address too
    watched.goto(BOARD_PAGE)
    wait_ready(page, ".lb-table")
    page.wait_for_function("() => new URLSearchParams(location.search).get('grid') === '100'",
                           timeout=5_000)
    watched.assert_clean()


# --- findings, single pages, the export button under the phone's search -------------------------


def test_findings_tables_fold_under_their_charts(open_page: Callable[..., Watched]) -> None:
    watched = open_page(width=1440)
    page = watched.page
    watched.goto("findings.html")
    folded = page.locator("details.lb-numbers")
    assert folded.count() >= 3
    assert all(not d.get_attribute("open") for d in folded.all())
    assert all(t.is_hidden() for t in page.locator("details.lb-numbers table").all())
    watched.assert_clean()


def test_phone_search_covers_the_chart_export_button(open_page: Callable[..., Watched]) -> None:
    watched = open_page(**PHONE)
    page = watched.page
    watched.goto("index.html")
    wait_ready(page, ".lb-chart")
    summary = page.locator(".lb-chart summary").first
    summary.scroll_into_view_if_needed()
    box = summary.bounding_box()
    page.locator("label.md-header__button[for='__search']").click()
    page.locator(".md-search__inner").first.wait_for(state="visible")
    on_top = page.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y); "
                           "return e ? e.closest('.vega-embed') === null : true; }",
                           [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert on_top, "the chart's export button shows through the search"
    watched.assert_clean()


# --- the Findings page with many families (issue 22: 16,830 px tall with 98) -------------------

MANY_FAMILIES = 25  # more than the charts show (12); before they stopped at 12 the page was 5,913 px
FINDINGS_MAX_PX = 5_000  # at 1440 x 900: 4,705 px with 25 families, 4,680 with all 98
GROUP_CHART_MAX_PX = 700  # a chart by family, drawn: 613 px at most with 12 families shown


@pytest.fixture(scope="module")
def many_families_site(tmp_path_factory: pytest.TempPathFactory, site_source: Any) -> Any:
    """A measured site where MANY_FAMILIES families have 5 entries each, all with a batch-1
    pair: every finding has a row per family."""
    from leaderboard.policy import policy_table
    from leaderboard.site.build import build_site
    from leaderboard.testing import every_family_architectures, write_synthetic_tree

    root = tmp_path_factory.mktemp("many-families")
    architectures = every_family_architectures(5, MANY_FAMILIES)
    submissions = write_synthetic_tree(root, len(architectures), single_stream_every=1,
                                       architectures=architectures)
    build_site(submissions, site_source, root / "site", allow_synthetic=True,
               policy_rows=policy_table())
    return root / "site"


def test_findings_height_is_bounded_with_many_families(
        open_page: Callable[..., Watched], many_families_site: Any) -> None:
    from test_browser import CHART_STATES

    from leaderboard.site.serve import serving

    with serving(many_families_site) as base:
        watched = open_page(base=base, width=1440, height=900)
        page = watched.page
        watched.goto("findings.html")
        assert wait_ready(page, ".lb-chart") == 4
        charts = {c["spec"]: c for c in page.eval_on_selector_all(".lb-chart", CHART_STATES)}
        for name in ("findings-correlations", "findings-savings", "findings-frontier"):
            assert 0 < charts[name]["height"] <= GROUP_CHART_MAX_PX, charts[name]
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= FINDINGS_MAX_PX, f"the Findings page is {height} px tall"
        # the families the charts leave out are in the folded tables: all entries + each family
        folded = page.locator("details.lb-numbers")
        assert folded.count() == 3
        for index in range(3):
            details = folded.nth(index)
            assert f"All {MANY_FAMILIES} families" in details.locator("summary").inner_text()
            assert details.locator("tbody tr").count() == MANY_FAMILIES + 1
        watched.assert_clean()
