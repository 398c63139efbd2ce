"""The static site as files: pages, links, offline assets, downloads, badges, determinism.

No browser here (see test_browser.py). Most tests share the session's synthetic site
(``synthetic_site`` in conftest.py, 60 entries on the ``synthetic-gpu`` boards).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from leaderboard.errors import ProblemsFound
from leaderboard.policy import policy_table
from leaderboard.site.badge import energy_text
from leaderboard.site.build import build_site
from leaderboard.testing import write_synthetic_tree

REPO = Path(__file__).resolve().parents[1]
HEADLINE = "synthetic-gpu--offline"
BUNDLE = "assets/vendor/vega-bundle.js"

# Tag -> attribute that loads a resource (anchors are links, not resources).
RESOURCE_ATTRS = {"script": "src", "link": "href", "img": "src", "iframe": "src",
                  "source": "src", "video": "src", "audio": "src", "embed": "src",
                  "object": "data"}
LAZY_SCRIPT_ATTRS = {"data-spec-src", "data-table-src", "data-vega-src"}
_JS_ASSIGN = re.compile(r'^\(window\.(\w+)=window\.\1\|\|\{\}\)\[("[^"]*")\]=(.*);\s*$', re.S)


class _Refs(HTMLParser):
    """Every (tag, attribute, value) that references another file, plus the h1 text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if (tag == "a" and name == "href") or RESOURCE_ATTRS.get(tag) == name:
                self.refs.append((tag, name, value))
            elif name in LAZY_SCRIPT_ATTRS:
                # a lazy chart's scripts, loaded by leaderboard.js when it comes into view
                self.refs.append(("script", name, value))
            elif name == "data-shared-src":
                # the data files a page's charts share, loaded once (space-separated)
                self.refs.extend(("script", name, src) for src in value.split())


def html_refs(path: Path) -> list[tuple[str, str, str]]:
    parser = _Refs()
    parser.feed(path.read_text("utf-8"))
    parser.close()
    return parser.refs


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def is_external(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def resolve(page: Path, url: str, site: Path) -> Path | None:
    """The file a relative URL on ``page`` points at, or None for non-file URLs."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:  # http:, mailto:, data:, //host
        return None
    path = unquote(parts.path)
    if not path:  # "#fragment" or "?query": the page itself
        return page
    if path.startswith("/"):
        return site / path.lstrip("/")
    target = page.parent / path
    if path.endswith("/"):
        target = target / "index.html"
    return target


def js_payload(path: Path) -> tuple[str, str, Any]:
    """(registry, name, value) of a ``(window.LB_X=...)["name"]={json};`` asset file.

    A table file sends its rows by column and turns them back into rows itself; so does this.
    """
    from leaderboard.site.render import DATASET_FROM_COLUMNS_JS, ROWS_FROM_COLUMNS_JS

    match = _JS_ASSIGN.match(path.read_text("utf-8"))
    assert match, f"{path}: not a LB_SPECS/LB_TABLES/LB_DATA assignment"
    registry, name, value = match.group(1), json.loads(match.group(2)), match.group(3)
    if registry == "LB_DATA":  # a shared dataset: columns back to row objects, links rebuilt
        decoder = f"({DATASET_FROM_COLUMNS_JS})("
        assert value.startswith(decoder) and value.endswith(")"), f"{path}: not by column"
        sent = json.loads(value[len(decoder):-1])
        rows = [{k: v for k, v in zip(sent["keys"], cells, strict=True) if v is not None}
                for cells in zip(*sent["columns"], strict=True)]
        for row in rows if sent["link"] else []:
            row["url"] = sent["link"].replace("{}", row["id"])
        return registry, name, rows
    decoder = f"({ROWS_FROM_COLUMNS_JS})("
    if registry != "LB_TABLES":
        return registry, name, json.loads(value)
    assert value.startswith(decoder) and value.endswith(")"), f"{path}: rows not sent by column"
    table = json.loads(value[len(decoder):-1])
    columns = table.pop("row_columns")
    assert len({len(column) for column in columns}) <= 1, f"{path}: columns of unequal length"
    table["rows"] = [list(row) for row in zip(*columns, strict=True)]
    return registry, name, table


def walk_json(value: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    """Every (key, scalar) pair of a JSON value, depth first."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk_json(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from walk_json(item, key)
    else:
        yield key, value


def loaders(site: Path) -> dict[Path, list[Path]]:
    """For every local script file: the pages that load it with <script src>."""
    found: dict[Path, list[Path]] = {}
    for page in html_files(site):
        for tag, _, url in html_refs(page):
            if tag == "script" and (target := resolve(page, url, site)) is not None:
                found.setdefault(target.resolve(), []).append(page)
    return found


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def entries_json(site: Path) -> dict[str, Any]:
    return json.loads((site / "downloads/entries.json").read_text("utf-8"))


def submission_ids(submissions: Path) -> list[str]:
    return sorted(p.parent.name for p in submissions.glob("*/submission.yaml"))


# --- pages and assets -----------------------------------------------------------------------


def test_every_page_kind_exists(synthetic_site: Path, synthetic_site_tree: Path) -> None:
    for rel in ["index.html", "leaderboard/index.html", f"leaderboard/{HEADLINE}.html",
                "leaderboard/synthetic-gpu--single-stream.html", "tradeoffs.html",
                "energy.html", "findings.html", "methodology.html", "submit.html",
                "downloads.html", "about.html",
                "downloads/entries.csv", "downloads/entries.json", "downloads/profiles.csv",
                "downloads/sweep.csv", "downloads/findings.json", BUNDLE,
                "assets/leaderboard.js", "assets/leaderboard.css"]:
        assert (synthetic_site / rel).is_file(), rel
    ids = submission_ids(synthetic_site_tree)
    assert len(ids) == 60
    assert sorted(p.stem for p in (synthetic_site / "models").glob("*.html")) == ids
    badges = sorted(p.stem for p in (synthetic_site / "badges").glob("*.svg"))
    assert [b for b in badges if not b.endswith("-label")] == ids
    assert [b.removesuffix("-label") for b in badges if b.endswith("-label")] == ids


def test_every_chart_the_build_writes_is_valid_vega_lite(synthetic_site: Path) -> None:
    # The build skips Altair's validation for speed (render.PageAssets.chart); this is where
    # the specs are checked, rows trimmed so the check is about structure.
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    schema = load_schema()
    charts = sorted((synthetic_site / "assets" / "charts").glob("*.js"))
    assert len(charts) >= 8
    for path in charts:
        registry, _, spec = js_payload(path)
        assert registry == "LB_SPECS"
        spec["datasets"] = {name: rows[:3] for name, rows in spec.get("datasets", {}).items()}
        validate_jsonschema(spec, schema)


def test_vega_bundle_is_written_once_and_loaded_only_by_chart_pages(synthetic_site: Path) -> None:
    bundles = [p.relative_to(synthetic_site).as_posix() for p in synthetic_site.rglob("*")
               if p.is_file() and "vega" in p.name.lower()]
    assert bundles == [BUNDLE]
    bundle_bytes = (synthetic_site / BUNDLE).read_bytes()
    assert len(bundle_bytes) > 100_000
    # no other file carries (a copy of) vega-embed
    for path in synthetic_site.rglob("*.js"):
        if path != synthetic_site / BUNDLE:
            assert b"window.vegaEmbed=" not in path.read_bytes(), path

    loading: dict[str, int] = {}
    for page in html_files(synthetic_site):
        count = sum(1 for tag, _, url in html_refs(page)
                    if tag == "script" and url.endswith("vega-bundle.js"))
        if count:
            loading[page.relative_to(synthetic_site).as_posix()] = count
    # board pages draw their chart; trade-offs loads vega with its first lazy chart (one
    # request however many charts name it)
    assert {page: n for page, n in loading.items() if page != "tradeoffs.html"} == {
        "index.html": 1, "findings.html": 1, f"leaderboard/{HEADLINE}.html": 1,
        "leaderboard/synthetic-gpu--single-stream.html": 1}
    assert loading["tradeoffs.html"] >= 1
    for page in ["methodology.html", "submit.html", "downloads.html", "about.html",
                 "leaderboard/index.html", *(f"models/{p.name}" for p in
                                            (synthetic_site / "models").glob("*.html"))]:
        assert "vega-bundle" not in (synthetic_site / page).read_text("utf-8"), page


def test_no_external_resources(synthetic_site: Path) -> None:
    external = []
    for page in html_files(synthetic_site):
        for tag, attr, url in html_refs(page):
            if tag != "a" and is_external(url.strip()):
                external.append(f"{page.relative_to(synthetic_site)}: <{tag} {attr}={url}>")
    assert external == []

    css_url = re.compile(r"""url\(\s*['"]?\s*(https?:)?//|@import\s+(url\()?\s*['"]?(https?:)?//""")
    for path in synthetic_site.rglob("*.css"):
        assert not css_url.search(path.read_text("utf-8")), path
    for path in synthetic_site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".js", ".css", ".json", ".xml", ".map"}:
            assert b"fonts.googleapis" not in path.read_bytes(), path
            assert b"fonts.gstatic" not in path.read_bytes(), path


def test_generated_scripts_reference_no_external_urls(synthetic_site: Path) -> None:
    """Chart specs and table data carry only relative links (the $schema id is not fetched)."""
    for folder in ("charts", "data"):
        files = sorted((synthetic_site / "assets" / folder).glob("*.js"))
        assert files, folder
        for path in files:
            _, _, value = js_payload(path)
            bad = [(k, v) for k, v in walk_json(value)
                   if isinstance(v, str) and "//" in v and k != "$schema"]
            assert bad == [], path
    text = (synthetic_site / "assets/leaderboard.js").read_text("utf-8")
    assert "http://" not in text and "https://" not in text


# --- links ----------------------------------------------------------------------------------


def test_every_internal_link_resolves(synthetic_site: Path) -> None:
    broken, checked = [], 0
    for page in html_files(synthetic_site):
        for tag, attr, url in html_refs(page):
            target = resolve(page, url.strip(), synthetic_site)
            if target is None:
                continue
            checked += 1
            if not target.is_file():
                broken.append(f"{page.relative_to(synthetic_site)}: <{tag} {attr}={url}>")
    assert broken == []
    assert checked > 60 * 5  # every model page links its badge, boards, downloads, leaderboard


# Charts of groups of entries (families), not of entries: no point links to a model page.
AGGREGATE_CHARTS = {"findings-correlations", "findings-frontier"}


def test_chart_and_table_links_resolve_from_the_pages_that_load_them(
        synthetic_site: Path) -> None:
    loaded_by = loaders(synthetic_site)
    table_fed = {m.group(1) for page in html_files(synthetic_site)
                 for m in re.finditer(r'data-spec="([^"]+)"[^>]*data-(?:table|shared)="',
                                      page.read_text("utf-8"))}
    assert f"board-tradeoff-{HEADLINE.replace('--', '-')}" in table_fed
    broken, checked = [], 0
    for path in sorted((synthetic_site / "assets").glob("*/*.js")):
        if path.parent.name not in ("charts", "data"):
            continue
        if path.stem.endswith("-details"):
            # a board's detail columns, loaded on demand by leaderboard.js (test_browser_visitor)
            board_table = path.with_name(path.name.replace("-details", ""))
            assert f'"src":"assets/data/{path.name}"' in board_table.read_text("utf-8"), path
            continue
        pages = loaded_by.get(path.resolve(), [])
        assert pages, f"{path.relative_to(synthetic_site)} is loaded by no page"
        registry, name, value = js_payload(path)
        if registry == "LB_COMPARE":
            continue  # ids only; lb-compare.js builds the links (tests/test_browser.py)
        if registry == "LB_SPECS" and name in table_fed:
            # the chart's rows are its table's (checked below with the table's links)
            assert "points" not in value.get("datasets", {}), path
            continue
        if registry == "LB_SPECS":
            urls = [v for k, v in walk_json(value) if k == "url"]
        elif registry == "LB_DATA":
            urls = [row["url"] for row in value]
        else:
            assert registry == "LB_TABLES"
            link = next((c for c in value["columns"] if c["type"] == "link"), None)
            if "link" in link:  # a template filled with the cell's value (board tables)
                index = value["columns"].index(link)
                urls = [link["link"].replace("{}", row[index]) for row in value["rows"]]
            else:
                assert link["href"] == len(value["columns"]), "the link is the rows' last element"
                urls = [row[-1] for row in value["rows"]]
        if name in AGGREGATE_CHARTS:
            assert urls == [], path
            continue
        assert urls, path
        for page in pages:
            for url in urls:
                assert url.endswith(".html") and not is_external(url), url
                if registry == "LB_TABLES" and page.parent == synthetic_site:
                    # a board's rows link from leaderboard/; leaderboard.js rewrites them for
                    # the root pages that draw the board (data-prefix="")
                    url = re.sub(r"^(\.\./)+", "", url)
                checked += 1
                target = resolve(page, url, synthetic_site)
                if target is None or not target.is_file():
                    broken.append(f"{path.name} on {page.relative_to(synthetic_site)}: {url}")
    assert broken == []
    assert checked >= 60 * 4


def test_model_pages_show_their_records(synthetic_site: Path) -> None:
    payload = entries_json(synthetic_site)
    entry = next(e for e in payload["entries"] if len(e["boards"]) == 2)
    text = (synthetic_site / "models" / f"{entry['id']}.html").read_text("utf-8")
    assert re.search(rf"<h1[^>]*>{re.escape(entry['id'])}<", text)
    assert "Awaiting measurement" not in text
    assert f'href="../leaderboard/{HEADLINE}.html"' in text
    assert 'href="../leaderboard/synthetic-gpu--single-stream.html"' in text
    assert f'src="../badges/{entry["id"]}.svg"' in text


# --- determinism and refusal ----------------------------------------------------------------


def test_build_is_byte_for_byte_deterministic(synthetic_site_tree: Path, synthetic_site: Path,
                                              site_source: Path, tmp_path: Path) -> None:
    # A copy of the session's input at another path, built into another folder, gives the
    # session's site byte for byte (one more build, not two).
    elsewhere = tmp_path / "elsewhere" / "submissions"
    shutil.copytree(synthetic_site_tree, elsewhere)
    build_site(elsewhere, site_source, tmp_path / "out", allow_synthetic=True,
               policy_rows=policy_table())
    one, two = tree_digest(synthetic_site), tree_digest(tmp_path / "out")
    assert len(one) > 60 * 2
    assert sorted(one) == sorted(two)
    assert [k for k in one if one[k] != two[k]] == []


def test_synthetic_records_are_refused_without_allow_synthetic(
        synthetic_site_tree: Path, site_source: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "never-made"
    with pytest.raises(ProblemsFound) as caught:
        build_site(synthetic_site_tree, site_source, fresh, allow_synthetic=False, policy_rows=policy_table())
    problems = caught.value.problems
    assert len(problems) == 60 + 12  # every record: 60 offline, 12 single-stream
    assert {p.location for p in problems} == {"synthetic"}
    assert not fresh.exists()

    existing = tmp_path / "published"
    existing.mkdir()
    (existing / "index.html").write_text("the published site\n", encoding="utf-8")
    before = tree_digest(existing)
    with pytest.raises(ProblemsFound):
        build_site(synthetic_site_tree, site_source, existing, allow_synthetic=False,
                   policy_rows=policy_table())
    assert tree_digest(existing) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published"]  # no staging left


# --- downloads and badges -------------------------------------------------------------------


def test_downloads_have_a_row_per_entry_and_board(synthetic_site: Path,
                                                  synthetic_site_tree: Path) -> None:
    payload = entries_json(synthetic_site)
    ids = submission_ids(synthetic_site_tree)
    assert [e["id"] for e in payload["entries"]] == ids
    assert payload["boards"] == [HEADLINE, "synthetic-gpu--single-stream"]
    expected = sorted((e["id"], b) for e in payload["entries"] for b in e["boards"])
    assert len(expected) == 60 + 12

    text = (synthetic_site / "downloads/entries.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    pairs = sorted((r["entry_id"], r["board"]) for r in rows)
    assert pairs == expected  # one row per (entry, board), no duplicates
    for row in rows:
        board = next(e for e in payload["entries"] if e["id"] == row["entry_id"])["boards"][
            row["board"]]
        assert float(row["energy_j_per_image"]) == pytest.approx(
            board["record"]["energy"]["gross_j_per_image"], rel=1e-5)
        assert row["tier"] == board["score"]["tier"]
    downloads_page = (synthetic_site / "downloads.html").read_text("utf-8")
    assert re.search(r">\s*72\s*<", downloads_page), "downloads page states the CSV row count"


def test_every_entry_has_a_badge_with_its_headline_tier(synthetic_site: Path) -> None:
    payload = entries_json(synthetic_site)
    tiers = set()
    for entry in payload["entries"]:
        tier = entry["boards"][HEADLINE]["score"]["tier"]
        tiers.add(tier)
        energy = energy_text(entry["boards"][HEADLINE]["record"]["energy"]["gross_j_per_image"])
        svg = (synthetic_site / "badges" / f"{entry['id']}.svg").read_text("utf-8")
        assert svg.startswith("<svg ")
        assert f'aria-label="{entry["id"]}: energy {energy} · {tier}"' in svg, entry["id"]
        # the bold value is drawn fitted to its box (textLength), so it never overflows the badge
        assert re.search(rf'font-weight="bold" textLength="\d+" lengthAdjust="spacingAndGlyphs">'
                         rf'{re.escape(energy)} · {tier}</text>', svg), entry["id"]
        label = (synthetic_site / "badges" / f"{entry['id']}-label.svg").read_text("utf-8")
        assert f">{energy}</text>" in label and f">{tier}</text>" in label, entry["id"]
        assert "Synthetic GPU, offline" in label and "measured 20" in label
    assert len(tiers) >= 3  # the synthetic data spreads over several tiers


# --- before any measurement -----------------------------------------------------------------


@pytest.fixture(scope="module")
def awaiting_site(tmp_path_factory: pytest.TempPathFactory, site_source: Path) -> Path:
    root = tmp_path_factory.mktemp("awaiting")
    submissions = write_synthetic_tree(root, 12)
    for folder in submissions.glob("*/measurements"):
        shutil.rmtree(folder)
    output = root / "site"
    result = build_site(submissions, site_source, output, allow_synthetic=False, policy_rows=policy_table())
    assert (result.entries, result.measured) == (12, 0)
    return output


def test_awaiting_measurement_build(awaiting_site: Path) -> None:
    _, _, catalog = js_payload(awaiting_site / "assets/data/catalog.js")
    keys = [c["key"] for c in catalog["columns"]]
    assert len(catalog["rows"]) == 12
    # no column of "awaiting measurement" cells (they clipped the table at 1280 px)
    for key in ("energy_j", "tier", "score", "vs_resnet50"):
        assert key not in keys
    assert all(len(row) == len(keys) + 1 for row in catalog["rows"])
    assert catalog["filters"] == ["family"]
    assert sorted(p.name for p in (awaiting_site / "leaderboard").iterdir()) == ["index.html"]
    # entries.js: the trade-offs page's claimed-accuracy charts draw every entry, measured or not
    assert sorted(p.name for p in (awaiting_site / "assets/data").iterdir()) == [
        "catalog.js", "compare.js", "entries.js"]

    models = sorted((awaiting_site / "models").glob("*.html"))
    assert len(models) == 12
    for page in models:
        assert "Awaiting measurement" in page.read_text("utf-8"), page.name
    for badge in (awaiting_site / "badges").glob("*.svg"):
        assert "awaiting measurement" in badge.read_text("utf-8")

    home = (awaiting_site / "index.html").read_text("utf-8")
    assert 'data-spec="home-compute"' in home
    assert 'data-spec="home-tradeoff"' not in home
    assert "Awaiting measurement" in home
    # nothing is ranked by energy yet, and the home page does not say it is
    assert "ranked by the energy" not in home and "awaiting energy measurement" in home
    catalog_page = (awaiting_site / "leaderboard/index.html").read_text("utf-8")
    assert "tier" not in catalog_page.split("Click a column header")[1].split("</p>")[0]
    assert "Awaiting measurement" in (awaiting_site / "tradeoffs.html").read_text("utf-8")
    payload = entries_json(awaiting_site)
    assert payload["boards"] == [] and all(e["boards"] == {} for e in payload["entries"])


# --- the shipped submissions ----------------------------------------------------------------


@pytest.mark.slow
def test_shipped_submissions_build(tmp_path: Path, site_source: Path) -> None:
    submissions = REPO / "submissions"
    ids = submission_ids(submissions)
    assert len(ids) >= 1556
    result = build_site(submissions, site_source, tmp_path / "site", allow_synthetic=False,
                        policy_rows=policy_table())
    site = tmp_path / "site"
    assert (result.entries, result.measured) == (len(ids), 0)
    assert sorted(p.stem for p in (site / "models").glob("*.html")) == ids
    home = (site / "index.html").read_text("utf-8")
    assert 'data-spec="home-compute"' in home and 'data-spec="home-tradeoff"' not in home
    downloads = (site / "downloads/entries.json").read_text("utf-8")
    assert "synthetic" not in downloads.lower()
    assert [e["id"] for e in json.loads(downloads)["entries"]] == ids


# ---------------------------------------------------------------------------------------------
# Model pages poured into the theme's rendered shell


def test_model_pages_carry_the_theme_and_no_placeholder(synthetic_site: Path,
                                                         synthetic_site_tree: Path) -> None:
    from leaderboard.site.build import MODEL_PLACEHOLDER_ID

    ids = sorted(p.name for p in synthetic_site_tree.iterdir() if p.is_dir())
    pages = sorted(p.stem for p in (synthetic_site / "models").glob("*.html"))
    assert pages == ids  # one page per entry, and the shell itself is gone
    leftovers = [str(p) for p in synthetic_site.rglob("*")
                 if p.is_file() and MODEL_PLACEHOLDER_ID in p.read_text("utf-8", errors="ignore")]
    assert leftovers == []
    html = (synthetic_site / "models" / f"{ids[0]}.html").read_text("utf-8")
    assert f"<title>{ids[0]} - " in html  # the theme's title, with this entry's id
    assert html.count(f"<h1>{ids[0]}</h1>") == 1  # the theme's heading, once
    assert 'class="md-header' in html and "assets/leaderboard.js" in html


def test_every_page_links_the_source_repository_without_asking_github(
        synthetic_site: Path) -> None:
    """The header links the repository; the theme's stars-and-forks lookup (an api.github.com
    request from every page) is switched off by the source partial."""
    from leaderboard.data_version import DEFAULT_REPOSITORY_URL

    pages = [synthetic_site / "index.html", synthetic_site / "methodology.html",
             next((synthetic_site / "models").glob("*.html"))]
    for page in pages:
        html = page.read_text("utf-8")
        assert f'href="{DEFAULT_REPOSITORY_URL}"' in html and 'class="md-source"' in html, page
        assert 'data-md-component="source"' not in html, page


def test_a_theme_without_the_slot_fails_loudly(tmp_path: Path) -> None:
    from leaderboard.errors import LeaderboardError
    from leaderboard.site.build import MODEL_PLACEHOLDER_ID, pour_model_pages

    shell = tmp_path / "models" / f"{MODEL_PLACEHOLDER_ID}.html"
    shell.parent.mkdir()
    shell.write_text("<html><body>no slot here</body></html>")
    with pytest.raises(LeaderboardError, match="did not keep the model slot"):
        pour_model_pages(tmp_path, {"a.b": "<p>body</p>"})


def test_sitemap_lists_every_model_page_when_the_site_has_an_address(tmp_path: Path) -> None:
    import gzip

    from leaderboard.site.build import MODEL_PLACEHOLDER_ID, MODEL_SLOT, pour_model_pages

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / f"{MODEL_PLACEHOLDER_ID}.html").write_text(f"<p>{MODEL_SLOT}</p>")
    (tmp_path / "sitemap.xml").write_text(
        "<urlset>\n    <url><loc>https://x.org/index.html</loc></url>\n"
        f"    <url><loc>https://x.org/models/{MODEL_PLACEHOLDER_ID}.html</loc></url>\n</urlset>\n")
    pour_model_pages(tmp_path, {"b.two": "2", "a.one": "1"})
    sitemap = (tmp_path / "sitemap.xml").read_text()
    assert "https://x.org/models/a.one.html" in sitemap
    assert "https://x.org/models/b.two.html" in sitemap
    assert MODEL_PLACEHOLDER_ID not in sitemap and sitemap.count("<url>") == 3
    assert gzip.decompress((tmp_path / "sitemap.xml.gz").read_bytes()).decode() == sitemap
    assert (tmp_path / "models" / "a.one.html").read_text() == "<p>1</p>"


# --- tables: cells addressed by column key --------------------------------------------------


def test_table_rows_follow_their_columns_and_link_cell_by_key() -> None:
    from leaderboard.site.tables import LINK, table_spec

    columns = [{"key": "id", "label": "Model", "type": "link"},
               {"key": "top1", "label": "Top-1 %", "type": "num"}]
    table = table_spec(columns, [{"top1": 80.1, LINK: "models/a.html", "id": "a"}], sort="top1")
    assert table == {"columns": [{"key": "id", "label": "Model", "type": "link", "href": 2},
                                 {"key": "top1", "label": "Top-1 %", "type": "num"}],
                     "rows": [["a", 80.1, "models/a.html"]], "sort": "top1"}


def test_a_table_file_sends_rows_by_column_and_rebuilds_them(tmp_path: Path) -> None:
    from leaderboard.site.render import table_script

    table = {"columns": [{"key": "id"}, {"key": "top1"}], "rows": [["a", 80.1], ["b", None]],
             "sort": "top1"}
    for name, value in (("full", table), ("empty", {**table, "rows": []})):
        path = tmp_path / f"{name}.js"
        path.write_text(table_script(name, value), "utf-8")
        assert '"row_columns":' in path.read_text("utf-8")
        assert js_payload(path) == ("LB_TABLES", name, value)
    assert '"row_columns":[["a","b"],[80.1,null]]' in (tmp_path / "full.js").read_text("utf-8")


def test_a_table_row_that_does_not_match_its_columns_is_refused() -> None:
    from leaderboard.site.tables import LINK, table_spec

    columns = [{"key": "id", "label": "Model", "type": "link"}]
    with pytest.raises(ValueError, match=r"'a': missing keys \['link'\], unknown keys \['top1'\]"):
        table_spec(columns, [{"id": "a", "top1": 80.1}])
    with pytest.raises(ValueError, match=r"missing keys \['id'\]"):
        table_spec(columns, [{LINK: "x"}])


# --- one vocabulary ---------------------------------------------------------------------------


def test_the_stylesheet_tier_chips_use_the_vocabulary_colours() -> None:
    # The chips' colours live in a static stylesheet; this keeps them the charts' and badges'.
    from importlib import resources

    from leaderboard.vocabulary import TIER_COLORS, WHITE_TEXT_TIERS

    css = resources.files("leaderboard.site").joinpath("assets", "leaderboard.css").read_text("utf-8")
    rules = dict(re.findall(r"\.lb-tier-([A-G]) \{ ([^}]*)\}", css))
    assert sorted(rules) == sorted(TIER_COLORS)
    for tier, rule in rules.items():
        assert f"background: {TIER_COLORS[tier]};" in rule, tier
        assert ("color: #fff;" in rule) == (tier in WHITE_TEXT_TIERS), tier


def test_pages_print_the_numbers_the_code_uses(synthetic_site: Path) -> None:
    from leaderboard.vocabulary import (
        ACCURACY_BAND_POINTS,
        ACCURACY_TOLERANCE_POINTS,
        SCENARIO_BATCH_SIZE,
        UNSTABLE_CV,
    )

    methodology = (synthetic_site / "methodology.html").read_text("utf-8")
    assert f"is within {ACCURACY_TOLERANCE_POINTS:g} points." in methodology
    assert f"CV above {UNSTABLE_CV:.0%} marks the record" in methodology
    assert f"at least\n{80.0 - ACCURACY_BAND_POINTS:.1f} % uses" in methodology
    assert f"<td>offline</td>\n<td style=\"text-align: right;\">{SCENARIO_BATCH_SIZE['offline']} (" \
        in methodology
    models = list((synthetic_site / "models").glob("*.html"))
    assert any(f"(within {ACCURACY_BAND_POINTS:g} points of this model or better)"
               in p.read_text("utf-8") for p in models)


def test_scores_show_one_decimal_rounded_down_so_only_the_frontier_reads_100() -> None:
    from leaderboard.site.tables import shown_score

    assert shown_score(100.0) == 100.0
    assert shown_score(99.96) == 99.9  # rounded to nearest it read "100.0" beside the frontier
    assert shown_score(99.93) == 99.9
    assert shown_score(40.0) == 40.0  # exact tenths stay (no 39.9 from 399.99999...)
    assert shown_score(12.34) == 12.3
