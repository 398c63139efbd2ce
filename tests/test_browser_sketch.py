# ruff: noqa: F811 - the fixtures imported from test_browser are redefined as test parameters
"""A board chart's first picture (lb-sketch.js), drawn before vega, in Debian's chromium.

The home and board pages draw their chart's points on a plain canvas from the table the page
already has, before the vega bundle is parsed; vega's chart then replaces the picture. Checked:
the picture comes with vega blocked altogether, it holds every tier the table has in the chart's
own colours, on a phone in the dark scheme too, it comes before vega's chart, stays over vega's
first draw (a sample of a big chart) and is gone once vega holds every point, and a colouring
it does not know (?colour=size) waits for vega instead.

Shares the browser, server and page fixtures of tests/test_browser.py (one chromium per module).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_browser import (  # noqa: F401 - fixtures are used by name
    HEADLINE,
    READY_MS,
    Watched,
    browser,
    open_page,
    server,
    wait_ready,
)

pytestmark = pytest.mark.browser

BOARD_PAGE = f"leaderboard/{HEADLINE}.html"
PHONE = {"width": 390, "height": 844}

# The sketch's exact colours in its pixels: RGB of every pixel, as #rrggbb, once each.
CANVAS_COLOURS = """
root => {
  const canvas = root.querySelector('canvas.lb-chart-sketch');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const seen = new Set();
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 255) seen.add('#' + [data[i], data[i + 1], data[i + 2]]
      .map(v => v.toString(16).padStart(2, '0')).join(''));
  }
  return Array.from(seen);
}
"""

# The tiers the mount's table holds (entries with an energy), and the spec's colour of each.
TIER_COLOURS = """
root => {
  const table = LB_TABLES[root.getAttribute('data-table')];
  const keys = table.columns.map(c => c.key);
  const tiers = new Set(table.rows.filter(r => typeof r[keys.indexOf('energy_j')] === 'number')
    .map(r => r[keys.indexOf('tier')]).filter(t => t));
  const spec = LB_SPECS[root.getAttribute('data-spec')];
  const layer = spec.layer.find(l => l.data && l.data.name === 'points' && l.encoding.color);
  const scale = layer.encoding.color.scale;
  return Array.from(tiers).map(t => [t, scale.range[scale.domain.indexOf(t)]]);
}
"""

# Order of the first chart's marks: lb-sketch.js's picture, then vega's first draw; and the
# scheme the first picture was drawn in.
MARK_ORDER = """
(() => {
  window.__lbMarks = [];
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.target.classList.contains('lb-chart') && m.target.getAttribute(m.attributeName) === 'true') {
        window.__lbMarks.push(m.attributeName);
        if (m.attributeName === 'data-ready' && window.__lbFirstCount === undefined) {
          // what vega's first draw holds, before any later additions
          window.__lbFirstCount = LB.views[m.target.getAttribute('data-spec')].data('points').length;
          window.__lbPictureOver = !!m.target.querySelector('canvas.lb-chart-sketch-over');
          window.__lbNote = !!document.querySelector('.lb-chart-progress');
        }
        const sketch = m.target.querySelector('canvas.lb-chart-sketch');
        if (sketch && window.__lbFirstDark === undefined) {
          window.__lbFirstDark = sketch.getAttribute('data-dark');  // the first picture's scheme
        }
      }
    }
  }).observe(document, {subtree: true, attributes: true,
                        attributeFilter: ['data-sketched', 'data-ready']});
})();
"""


def sketched_without_vega(watched: Watched, path: str) -> Any:
    """Open ``path`` with the vega bundle refused; return the chart mount once sketched."""
    page = watched.page
    page.route("**/vega-bundle.js", lambda route: route.abort())
    watched.goto(path)
    page.wait_for_selector(".lb-chart[data-sketched=true]", timeout=READY_MS)
    return page.locator(".lb-chart").first


def assert_every_tier_drawn(page: Any, root: Any) -> None:
    colours = set(root.evaluate(CANVAS_COLOURS))
    tiers = root.evaluate(TIER_COLOURS)
    assert len(tiers) >= 3, tiers
    missing = [tier for tier, colour in tiers if colour.lower() not in colours]
    assert missing == [], f"tiers with no point drawn in their colour: {missing}"


def test_the_board_chart_is_pictured_before_vega_loads(
        open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    page = watched.page
    root = sketched_without_vega(watched, BOARD_PAGE)
    canvas = root.locator("canvas.lb-chart-sketch")
    assert canvas.get_attribute("aria-hidden") == "true"  # the mount's own label names it
    assert canvas.get_attribute("data-dark") == "false"
    box, mount = canvas.bounding_box(), root.bounding_box()
    assert box["width"] == pytest.approx(mount["width"], abs=1) and box["height"] > 300
    assert_every_tier_drawn(page, root)
    # vega never came: the mount is not marked drawn, the picture stays
    assert root.get_attribute("data-ready") is None
    assert page.evaluate("typeof window.vegaEmbed") == "undefined"


def test_the_home_chart_is_pictured_on_a_dark_phone(open_page: Callable[..., Watched]) -> None:
    # a fresh visitor whose system is dark: the theme turns the page dark only later, from its
    # bundle, so the picture must take the scheme from the system's setting itself
    watched = open_page(color_scheme="dark", **PHONE)
    page = watched.page
    page.add_init_script(MARK_ORDER)
    root = sketched_without_vega(watched, "index.html")
    canvas = root.locator("canvas.lb-chart-sketch")
    assert page.evaluate("window.__lbFirstDark") == "true"  # dark from the first picture on
    assert canvas.get_attribute("data-dark") == "true"
    assert canvas.bounding_box()["width"] <= PHONE["width"]
    assert_every_tier_drawn(page, root)
    colours = set(root.evaluate(CANVAS_COLOURS))
    assert "#e2e4e9" in colours  # the dark scheme's axis text, as vega's chart has it
    assert "#222222" not in colours  # not the light scheme's


def test_vega_replaces_the_picture_and_a_colouring_it_lacks_waits(
        open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    page = watched.page
    # a first-draw budget the 60 entries exceed, as 10,000 exceed the site's 1,000
    page.add_init_script("window.LB = {firstDrawPoints: 20};" + MARK_ORDER)
    watched.goto(BOARD_PAGE)
    wait_ready(page, ".lb-chart")
    marks = page.evaluate("window.__lbMarks")
    assert marks[:2] == ["data-sketched", "data-ready"], marks
    # vega's first draw is a sample (the budget is 20 here): the picture of every point stays
    # over it, with no "drawing N of M first" note, until vega holds every point
    drawn, table = page.evaluate(
        "() => { const root = document.querySelector('.lb-chart');"
        " const t = LB_TABLES[root.getAttribute('data-table')];"
        " const keys = t.columns.map(c => c.key);"
        " return [window.__lbFirstCount, t.rows.filter(r => typeof r[keys.indexOf('energy_j')]"
        "  === 'number' && r[keys.indexOf('tier')]).length]; }")
    assert 20 <= drawn < table
    assert page.evaluate("[window.__lbPictureOver, window.__lbNote]") == [True, False]
    page.wait_for_selector(".lb-chart[data-complete=true]", timeout=READY_MS)
    assert page.locator(".lb-chart-sketch").count() == 0
    assert page.locator(".lb-chart-progress").count() == 0
    assert page.locator(".lb-chart canvas").count() >= 1  # vega's own
    watched.assert_clean()

    # coloured by size class from a shared link: no tier picture first, vega draws it
    watched.goto(BOARD_PAGE + "?colour=size")
    wait_ready(page, ".lb-chart")
    assert page.evaluate("window.__lbMarks") == ["data-ready"]
    assert page.locator("select.lb-colour").input_value() == "size"
    watched.assert_clean()


def test_the_picture_and_the_chart_share_their_theme_colours() -> None:
    # lb-sketch.js runs before lb-plots.js, so each names the text and grid colours itself
    assets = Path(__file__).resolve().parents[1] / "leaderboard" / "site" / "assets"

    def colours(name: str) -> list[str]:
        text = (assets / name).read_text("utf-8")
        return re.findall(r'var (?:fg|grid) = \w+(?:\(\))? \? ("#\w+") : ("#\w+");', text)

    assert colours("lb-sketch.js") == colours("lb-plots.js") != []
