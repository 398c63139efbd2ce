# ruff: noqa: F811 - the fixtures imported from test_browser are redefined as test parameters
"""What visitors of peer leaderboards ask for, on the synthetic site in Debian's chromium:
size classes (a filter and a chart colour), the measured date (newest first), precision (a
column and a filter), "Download this view"; and the trade-offs page's charts drawing one
shared copy of their data.

Shares the browser, server and page fixtures of tests/test_browser.py. One page load per test,
many assertions on it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_browser import (  # noqa: F401 - fixtures are used by name
    HEADLINE,
    Watched,
    browser,
    entries,
    open_page,
    server,
    wait_ready,
)

from leaderboard.vocabulary import SIZE_CLASS_LABELS, SIZE_CLASS_NAMES, size_class

pytestmark = pytest.mark.browser

BOARD_PAGE = f"leaderboard/{HEADLINE}.html"
TABLE = HEADLINE.replace("--", "-")
BOARD_CHART = f"board-tradeoff-{TABLE}"


def measured(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if HEADLINE in e["boards"]]


def record(entry: dict[str, Any]) -> dict[str, Any]:
    return entry["boards"][HEADLINE]["record"]


def column(page: Any, key: str) -> list[str]:
    return page.locator(f".lb-table tbody td[data-key='{key}']").all_inner_texts()


def test_size_classes_have_stated_edges() -> None:
    assert SIZE_CLASS_LABELS == ("tiny (< 10 M params)", "small (10–30 M params)",
                                 "base (30–100 M params)", "large (100–350 M params)",
                                 "huge (≥ 350 M params)")
    # an edge belongs to the class above it; ResNet-50 (25.6 M) is small, ViT-B (86 M) base
    assert [size_class(p) for p in (0.5, 9.99, 10.0, 25.6, 86.0, 304.0, 350.0, 1000.0)] == [
        SIZE_CLASS_NAMES[i] for i in (0, 0, 1, 1, 2, 3, 4, 4)]
    assert SIZE_CLASS_NAMES == ("tiny", "small", "base", "large", "huge")
    assert size_class(None) is None and size_class(float("nan")) is None


def test_board_table_filters_by_size_and_precision_sorts_newest_first_and_downloads_the_view(
        open_page: Callable[..., Watched], entries: list[dict[str, Any]]) -> None:
    board = measured(entries)
    sizes = {e["id"]: size_class(e["submission"]["compute"]["params_m"]) for e in board}
    watched = open_page(capture_views=True)
    watched.goto(BOARD_PAGE)
    page = watched.page
    wait_ready(page, ".lb-table")
    wait_ready(page, ".lb-chart")

    # size: a filter whose options are the classes present, smallest first, edges stated
    size_filter = page.locator("select.lb-filter[data-filter='size'] option")
    present = [name for name in SIZE_CLASS_NAMES if name in sizes.values()]
    labels = dict(zip(SIZE_CLASS_NAMES, SIZE_CLASS_LABELS, strict=True))
    assert size_filter.all_inner_texts() == ["all sizes", *(labels[n] for n in present)]
    assert size_filter.evaluate_all("els => els.map(e => e.value)") == ["", *present]
    assert len(present) >= 2
    chosen = present[1]
    page.locator("select.lb-filter[data-filter='size']").select_option(chosen)
    expected = sorted(i for i, s in sizes.items() if s == chosen)
    assert page.locator(".lb-count").inner_text().startswith(f"{len(expected)} of ")
    assert set(column(page, "size")) == {chosen}
    assert "size=" in page.url  # kept in the address like the other filters

    # measured: newest first on the first click, ties in the board's order
    page.locator("th[data-key='measured'] button").click()
    assert page.locator("th[data-key='measured']").get_attribute("aria-sort") == "descending"
    dates = column(page, "measured")
    want = sorted((record(e)["measured_at"][:10] for e in board if sizes[e["id"]] == chosen),
                  reverse=True)
    assert dates == want[:len(dates)] and dates[0] > dates[-1]

    # "Download this view": the filtered, sorted rows, with the data version and the view
    with page.expect_download() as info:
        page.get_by_role("button", name="Download this view").click()
    download = info.value
    assert download.suggested_filename == f"{TABLE}-view.csv"
    text = Path(download.path()).read_text("utf-8")
    version = re.search(r"Data version (\S+)", page.locator(".lb-data-version").inner_text())
    assert version is not None
    lines = text.splitlines()
    assert lines[0].endswith(f"; data version {version.group(1)}")
    assert f"{len(expected)} of {len(board)} rows; filtered by size={chosen}" in lines[1]
    assert "sorted by measured (descending)" in lines[1]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[2:]))))
    assert sorted(r["id"] for r in rows) == expected
    assert [r["measured"] for r in rows] == want
    assert [r["id"] for r in rows][:len(dates)] == column(page, "id")
    by_id = {e["id"]: e for e in board}
    for row in rows:  # raw figures, not the table's rounding
        assert float(row["energy_j"]) == pytest.approx(
            record(by_id[row["id"]])["energy"]["gross_j_per_image"], rel=1e-5)

    # precision: a detail column ("All columns") and a filter with every precision measured
    page.locator("select.lb-filter[data-filter='size']").select_option("")
    page.locator("button.lb-more").click()
    page.wait_for_selector("select.lb-filter[data-filter='precision']")
    precisions = sorted({record(e)["precision"] for e in board})
    assert precisions == ["bf16", "fp16"]
    assert page.locator("select.lb-filter[data-filter='precision'] option").all_inner_texts() == [
        "all precisions", *precisions]
    page.locator("select.lb-filter[data-filter='precision']").select_option("bf16")
    bf16 = [e for e in board if record(e)["precision"] == "bf16"]
    assert page.locator(".lb-count").inner_text().startswith(f"{len(bf16)} of ")
    assert set(column(page, "precision")) == {"bf16"}
    # the download follows: the detail columns are in it, the filter is named
    text = page.evaluate(f"LB.viewCsv(LB.table('{TABLE}'))")
    head, body = text.split("\r\n", 2)[1], text.split("\r\n", 2)[2]
    assert "filtered by precision=bf16" in head
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted(r["id"] for r in rows) == sorted(e["id"] for e in bf16)
    assert {r["precision"] for r in rows} == {"bf16"} and "gmacs" in rows[0]

    # the chart's colour option: size classes with their edges in the legend's scale
    colour = page.locator("select.lb-colour")
    assert colour.input_value() == "tier"
    colour.select_option("size")
    page.wait_for_function(
        "name => { const v = window.__lbViews[name]; return v && v.scale('color') && "
        "v.scale('color').domain().length === 5 }", arg=BOARD_CHART)
    domain = page.evaluate(f"window.__lbViews['{BOARD_CHART}'].scale('color').domain()")
    assert domain == list(SIZE_CLASS_NAMES)
    legend = page.evaluate(
        "name => { const out = []; const walk = (node) => { (node.items || []).forEach(item => {"
        " if (item.mark && item.mark.role === 'legend-label') out.push(item.text);"
        " walk(item); }); }; walk(window.__lbViews[name].scenegraph().root); return out; }",
        BOARD_CHART)
    assert legend == list(SIZE_CLASS_LABELS)  # each class with its edges
    assert "colour=size" in page.url  # a shared link keeps it (tests/test_browser_sketch.py)
    colour.select_option("tier")
    page.wait_for_function(
        "name => { const v = window.__lbViews[name]; return v && "
        "v.scale('color').domain()[0] === 'A' }", arg=BOARD_CHART)
    assert "colour=" not in page.url  # tier is the default: the address says nothing
    watched.assert_clean()


def test_tradeoffs_charts_share_one_copy_of_their_data(open_page: Callable[..., Watched],
                                                       entries: list[dict[str, Any]],
                                                       synthetic_site: Path) -> None:
    # the built spec files carry no rows the page's shared data file has
    charts = synthetic_site / "assets" / "charts"
    for name in ("acc-gmacs", "acc-params", "batch-savings", "energy-gmacs-0",
                 "energy-params-0"):
        spec = (charts / f"{name}.js").read_text("utf-8")
        assert "syn000" not in spec, name  # no entry id: no rows
    watched = open_page(capture_views=True)
    requested: list[str] = []
    watched.page.on("request", lambda request: requested.append(request.url))
    watched.goto("tradeoffs.html")
    page = watched.page
    for name in ("energy-gmacs-0", "energy-params-0", "batch-savings", "acc-gmacs",
                 "acc-params"):  # lazy: each loads when it comes near the screen
        page.locator(f".lb-chart[data-spec='{name}']").scroll_into_view_if_needed()
        wait_ready(page, f".lb-chart[data-spec='{name}']")
    watched.wait_quiet()
    data_files = [u for u in requested if "/assets/data/" in u]
    assert sum(u.endswith("/assets/data/entries.js") for u in data_files) == 1
    assert not [u for u in data_files if u.endswith("-details.js")]  # joined from entries
    points = {name: page.evaluate(f"window.__lbViews['{name}'].data('points').length")
              for name in ("acc-gmacs", "acc-params", "batch-savings")}
    assert points == {name: len(entries) for name in points}
    # what each chart draws: its own filter over the shared rows
    drawn = page.evaluate(
        "['acc-gmacs', 'batch-savings', 'energy-gmacs-0'].map(n => window.__lbViews[n]"
        ".scenegraph().root.items[0].items.filter(g => g.marktype === 'symbol')"
        ".reduce((s, g) => s + g.items.length, 0))")
    with_ratio = sum(1 for e in entries if len(e["boards"]) == 2)
    assert drawn == [len(entries), with_ratio, len(measured(entries))]
    first = page.evaluate("window.__lbViews['energy-gmacs-0'].data('points')[0]")
    entry = next(e for e in entries if e["id"] == first["id"])
    assert first["gmacs"] == entry["submission"]["compute"]["gmacs"]
    assert first["url"] == f"models/{first['id']}.html"
    watched.assert_clean()


def test_board_page_states_the_size_class_edges(synthetic_site: Path) -> None:
    text = (synthetic_site / BOARD_PAGE).read_text("utf-8")
    plain = " ".join(re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">")
                     .split())
    assert "Size classes go by parameter count: " + ", ".join(SIZE_CLASS_LABELS) in plain
    assert "Download this view" in plain and "Measured sorts newest first" in plain
