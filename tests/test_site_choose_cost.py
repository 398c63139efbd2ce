"""The site's cost arithmetic, board payloads, badges and search documents (no browser)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from leaderboard.boards import Boards, load_boards
from leaderboard.policy import policy_table
from leaderboard.scoring import Point, pareto_frontier
from leaderboard.site import choose, cost
from leaderboard.site.badge import BadgeFacts, badge_svg, energy_text, label_svg
from leaderboard.site.build import build_site
from leaderboard.site.search_index import (
    JS_PREFIX,
    add_model_pages,
    lunr_idf,
    model_documents,
    tokens,
)
from leaderboard.testing import write_synthetic_tree

HEADLINE = "synthetic-gpu--offline"


def test_per_million_images_from_joules() -> None:
    # 1 J/image: a million images are 10^6 J = 0.2778 kWh at the GPU, times PUE at the wall
    figures = cost.per_million(1.0, grid_g_per_kwh=480.0, pue=1.5, price_per_kwh=0.2)
    assert figures.kwh == pytest.approx(1e6 * 1.5 / 3.6e6)
    assert figures.co2_kg == pytest.approx(figures.kwh * 0.480)
    assert figures.money == pytest.approx(figures.kwh * 0.2)
    assert cost.per_million(0.0).kwh == 0.0


def test_cost_defaults_script_carries_every_default_with_a_source() -> None:
    text = cost.defaults_script()
    payload = json.loads(re.fullmatch(r"window\.LB_COST_DEFAULTS=(.*);\n", text).group(1))
    assert payload == {"grid_g_per_kwh": cost.GRID.value, "pue": cost.PUE.value,
                       "price_per_kwh": cost.PRICE.value, "currency": cost.CURRENCY}
    for default in cost.DEFAULTS:
        assert default.value > 0 and default.source and re.search(r"20\d\d", default.source)


def test_sig_rounds_to_significant_figures() -> None:
    assert choose.sig(0.123456789, 3) == 0.123
    assert choose.sig(123456.0, 2) == 120000.0
    assert choose.sig(0.0, 3) == 0.0


@pytest.fixture(scope="module")
def site_data(tmp_path_factory: pytest.TempPathFactory) -> Boards:
    tree = write_synthetic_tree(tmp_path_factory.mktemp("choose"), 40)
    return load_boards(tree, allow_synthetic=True)


def test_board_table_rows_details_and_frontier(site_data: Boards) -> None:
    table, details = choose.board_table(site_data, HEADLINE)
    keys = [c["key"] for c in table["columns"]]
    assert len(table["rows"]) == len(details["rows"]) == 40
    assert all(len(r) == len(keys) for r in table["rows"])
    assert all(len(r) == len(details["columns"]) for r in details["rows"])
    assert table["details"]["src"] == f"assets/data/{choose.details_name(HEADLINE)}.js"
    # the frontier is scoring's, over the records' own (unrounded) energies
    points = [Point(e.id, e.top1, e.results[HEADLINE].energy_j) for e in site_data.entries]
    assert table["frontier"] == [p.entry_id for p in pareto_frontier(points)]
    # phones keep Model, Top-1, J/image and Tier
    assert [c["key"] for c in table["columns"] if c.get("narrow")] == ["id", "top1", "energy_j",
                                                                          "tier"]
    energy = keys.index("energy_j")
    by_id = {e.id: e for e in site_data.entries}
    for row in table["rows"]:
        exact = by_id[row[0]].results[HEADLINE].energy_j
        assert row[energy] == pytest.approx(exact, rel=1e-5)


def test_badge_and_label_say_energy_tier_hardware_scenario_and_date() -> None:
    facts = BadgeFacts("resnet50.a1_in1k", 80.38, 0.0151, "B", "nvidia-h100-sxm", "offline",
                       "2026-03-01")
    assert energy_text(0.0151) == "15.1 mJ/img" and energy_text(1.76) == "1.76 J/img"
    badge = badge_svg(facts)
    assert ">15.1 mJ/img · B</text>" in badge
    label = label_svg(facts)
    for text in ("15.1 mJ/img", ">B</text>", "top-1 80.38 %", "NVIDIA H100 SXM, offline",
                 "measured 2026-03-01"):
        assert text in label, text
    waiting = badge_svg(BadgeFacts("x.y", 70.0))
    assert "awaiting measurement" in waiting


def test_model_pages_join_the_search_index(tmp_path: Path, site_data: Boards) -> None:
    assert add_model_pages(tmp_path, []) == 0  # no index: a build without the search plugin
    index = {"config": {"lang": ["en"]}, "docs": [{"location": "index.html", "title": "Home",
                                                   "text": ""}]}
    (tmp_path / "search").mkdir()
    (tmp_path / "search/search_index.json").write_text(json.dumps(index), "utf-8")
    (tmp_path / "search/search_index.js").write_text(JS_PREFIX + json.dumps(index), "utf-8")
    documents = model_documents(site_data)
    assert add_model_pages(tmp_path, documents) == 40
    written = json.loads((tmp_path / "search/search_index.json").read_text("utf-8"))
    assert written["docs"][0]["title"] == "Home" and len(written["docs"]) == 41
    assert {d["location"] for d in written["docs"][1:]} == {
        f"models/{e.id}.html" for e in site_data.entries}
    js = (tmp_path / "search/search_index.js").read_text("utf-8")
    assert js.startswith(JS_PREFIX) and json.loads(js[len(JS_PREFIX):]) == written


def test_model_pages_rank_by_architecture_then_id_whatever_the_word_rarity(
        tmp_path: Path) -> None:
    """lunr scored "resnet50" matches by word rarity: the few resnet50d/resnet50s ids first."""
    ids = ["resnet50d.ra2_in1k", "resnet50.a1_in1k-288", "resnet50s.gluon_in1k",
           "resnet50.tv_in1k", "resnet50.a1_in1k"]
    page = {"location": "findings.html#cheap", "title": "Cheap",
            "text": "<p>The <code>resnet50.tv_in1k</code> is cheap</p>"}
    index = {"config": {"lang": ["en"], "separator": r"[\s\-]+"}, "docs": [page]}
    (tmp_path / "search").mkdir()
    (tmp_path / "search/search_index.json").write_text(json.dumps(index), "utf-8")
    documents = [{"location": f"models/{i}.html", "title": i, "text": ""} for i in ids]
    assert add_model_pages(tmp_path, documents) == 5
    written = json.loads((tmp_path / "search/search_index.json").read_text("utf-8"))
    assert written["docs"][0] == page  # the theme's own documents keep their weight
    separator = re.compile(r"[\s\-]+")
    assert tokens(page["text"], separator) == ["the", "resnet50.tv_in1k", "is", "cheap"]
    # the documents (fields) holding each page's first word: "-288" splits off a second word,
    # and the findings text names resnet50.tv_in1k
    holding = {"resnet50.a1_in1k": 2, "resnet50.a1_in1k-288": 2, "resnet50.tv_in1k": 2,
               "resnet50d.ra2_in1k": 1, "resnet50s.gluon_in1k": 1}
    score = {d["title"]: d["boost"] * lunr_idf(holding[d["title"]], 6)  # as lunr weighs a match
             for d in written["docs"][1:]}
    assert sorted(score, key=score.get, reverse=True) == [
        "resnet50.a1_in1k", "resnet50.a1_in1k-288", "resnet50.tv_in1k", "resnet50d.ra2_in1k",
        "resnet50s.gluon_in1k"]
    # boosts keep only the digits that tell neighbours apart (3 for 5 pages)
    assert 1.0 < min(score.values()) and max(score.values()) == pytest.approx(2.0, rel=1e-2)


def test_build_warns_when_site_url_is_unset(tmp_path: Path, site_source: Path,
                                            caplog: pytest.LogCaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    tree = write_synthetic_tree(tmp_path, 3)
    monkeypatch.delenv("LEADERBOARD_SITE_URL", raising=False)
    with caplog.at_level(logging.WARNING, logger="leaderboard.site.build"):
        build_site(tree, site_source, tmp_path / "site", allow_synthetic=True,
                   policy_rows=policy_table())
    assert any("site_url is not set" in r.getMessage() for r in caplog.records)
    page = (tmp_path / "site/models").glob("*.html").__next__().read_text("utf-8")
    assert "links above are relative" in page
    caplog.clear()
    monkeypatch.setenv("LEADERBOARD_SITE_URL", "https://example.org/board/")
    with caplog.at_level(logging.WARNING, logger="leaderboard.site.build"):
        build_site(tree, site_source, tmp_path / "site2", allow_synthetic=True,
                   policy_rows=policy_table())
    assert not any("site_url is not set" in r.getMessage() for r in caplog.records)
    page = next((tmp_path / "site2/models").glob("*.html"))
    text = page.read_text("utf-8")
    assert f"https://example.org/board/badges/{page.stem}-label.svg" in text
    assert f"(https://example.org/board/models/{page.stem}.html)" in text
