"""Render page contexts and Jinja templates into Markdown pages for mkdocs."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jinja2

from leaderboard.boards import Boards, Entry
from leaderboard.site.charts import ChartSpec

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|])")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja environment over the package's templates."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("leaderboard.site", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        # *.html.j2 hold raw HTML and are escaped; Markdown templates put free text through
        # md_text() themselves.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False, default=False),
        trim_blocks=False,
    )


def md_text(text: str) -> str:
    """Escape contributor free text for Markdown and HTML (it lands in pages verbatim)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False)).replace("\n", " ")


def hardware_title(hardware: str) -> str:
    """``nvidia-h100-sxm`` -> ``NVIDIA H100 SXM``."""
    return " ".join(w.upper() if len(w) <= 4 or w == "nvidia" else w.capitalize()
                    for w in hardware.split("-"))


def board_title(board: str) -> str:
    """``nvidia-h100-sxm--offline`` -> ``NVIDIA H100 SXM, offline``."""
    hardware, _, scenario = board.partition("--")
    return f"{hardware_title(hardware)}, {scenario}"


def model_path(entry_id: str) -> str:
    """Site path of a model page (HTML, for links written into data and charts)."""
    return f"models/{entry_id}.html"


def board_md(board: str) -> str:
    """Docs path of a board's leaderboard page."""
    return f"leaderboard/{board}.md"


@dataclass
class PageAssets:
    """Scripts a page needs: chart specs and table data, written as .js files."""

    prefix: str
    files: dict[str, str] = field(default_factory=dict)
    _has_chart: bool = False
    _has_sketch: bool = False
    _loaded_data: set[str] = field(default_factory=set)

    def dataset(self, name: str, rows: list[dict[str, Any]]) -> str:
        """Write rows that several charts of the page draw, once, as ``window.LB_DATA[name]``;
        return the data name to pass to :meth:`chart` as ``shared``.

        Sent by column, and a ``url`` that is the entry's model page is rebuilt from ``id`` in
        the browser rather than sent (see :func:`dataset_script`).
        """
        self.files[f"assets/data/{name}.js"] = dataset_script(
            name, rows, self.prefix + model_path("{}"))
        return name

    def chart(self, name: str, chart: ChartSpec, label: str, min_height_px: int | None = None,
              table: str | None = None, lazy: bool = False, details: bool = False,
              shared: dict[str, str] | None = None, join: str | None = None) -> str:
        """Write a chart's spec file and return the HTML that mounts it.

        ``min_height_px`` reserves the chart's height (default: the stylesheet's, for the tall
        scatter charts) so the page does not jump when it draws. ``table`` names the page's
        table whose rows are the chart's data (sent once for both); ``details`` says the chart
        needs the table's detail columns too. ``lazy`` leaves the spec (and vega) to be loaded
        by the page's script when the chart is wanted. ``shared`` maps the spec's dataset names
        to data written by :meth:`dataset`: those rows leave the spec, and the page loads
        them once for every chart that draws them. ``join`` names such data whose fields
        the table's rows lack are joined to them by id (a chart drawing GMACs and parameters
        takes them from the page's entries rather than loading the table's detail columns).
        """
        # Not validated here: Altair's schema check took a third of a small site's build, and
        # the structure is the same at every build. tests/test_site_build.py validates every
        # chart the build writes against the Vega-Lite schema.
        spec = chart.to_dict(validate=False)
        for dataset in shared or {}:
            spec["datasets"].pop(dataset, None)
        src = f"{self.prefix}assets/charts/{name}.js"
        self.files[f"assets/charts/{name}.js"] = js_assign("LB_SPECS", name, spec)
        data_names = set((shared or {}).values()) | ({join} if join else set())
        data_srcs = [f"{self.prefix}assets/data/{d}.js" for d in sorted(data_names)]
        mount = environment().get_template("_chart.md.j2").render(
            chart=name, label=label, min_height_px=min_height_px, table=table, details=details,
            prefix=self.prefix, src=src if lazy else None,
            shared=json.dumps(shared, sort_keys=True) if shared else None, join=join,
            shared_srcs=" ".join(data_srcs)).strip()
        if lazy:
            return f"{mount}\n"
        # a shared data file is loaded by the first chart of the page that draws it
        before = "".join(f'<script src="{d}"></script>\n' for d in data_srcs
                         if d not in self._loaded_data)
        self._loaded_data.update(data_srcs)
        after = ""
        if table and not self._has_sketch:
            # lb-sketch.js draws a table-drawn chart's first picture from the table the page
            # already has, before the vega bundle below it is even parsed (see that file); no
            # page has a second table-drawn chart drawn at load (the others are lazy)
            after += f'<script src="{self.prefix}assets/lb-sketch.js"></script>\n'
            self._has_sketch = True
        if not self._has_chart:
            # vega is ~900 KB: only pages with a chart load it, deferred (run once the page is
            # parsed, before the charts start at DOMContentLoaded) so that it holds back neither
            # the page's nor the sketch's first paint
            after += f'<script defer src="{self.vega_src}"></script>\n'
            self._has_chart = True
        return f'{before}<script src="{src}"></script>\n{mount}\n{after}'

    @property
    def vega_src(self) -> str:
        """Where the vendored vega bundle is, from this page."""
        return f"{self.prefix}assets/vendor/vega-bundle.js"

    def table(self, name: str, table: dict[str, Any]) -> str:
        """Write a table's data file and return its script src."""
        self.files[f"assets/data/{name}.js"] = table_script(name, table)
        return f"{self.prefix}assets/data/{name}.js"


# A table's rows are written column by column and turned back into rows by the file itself, so
# the scripts reading LB_TABLES see rows as before. gzip finds the repeats inside a column (ids
# of one architecture, numbers of one magnitude) far better than across a row: the headline
# board's 10,000 rows shrank from 178 to 145 KB gzip.
ROWS_FROM_COLUMNS_JS = ("function(t){var c=t.row_columns;t.rows=c.length?c[0].map(function(_,i){"
                        "return c.map(function(k){return k[i]})}):[];delete t.row_columns;"
                        "return t}")


def table_script(name: str, table: dict[str, Any]) -> str:
    """``js_assign`` of a table (columns, rows as lists, options) with its rows sent by column."""
    rows = table["rows"]
    by_column = [list(column) for column in zip(*rows, strict=True)] if rows else []
    sent = {**{k: v for k, v in table.items() if k != "rows"}, "row_columns": by_column}
    return js_assign("LB_TABLES", name, sent, through=ROWS_FROM_COLUMNS_JS)


# A shared dataset (PageAssets.dataset) is sent as {keys, columns, link} and turned back into
# row objects by the file itself; link rebuilds each row's url from its id.
DATASET_FROM_COLUMNS_JS = (
    "function(d){var n=d.columns.length?d.columns[0].length:0,rows=[];"
    "for(var i=0;i<n;i++){var r={};for(var j=0;j<d.keys.length;j++){var v=d.columns[j][i];"
    "if(v!==null)r[d.keys[j]]=v}if(d.link)r.url=d.link.replace('{}',r.id);rows.push(r)}"
    "return rows}")


def dataset_script(name: str, rows: list[dict[str, Any]], link: str) -> str:
    """``js_assign`` of rows (``LB_DATA``) sent by column; a ``url`` equal to ``link`` with the
    row's id in place of ``{}`` is left out and rebuilt, and a missing value is null."""
    keys = sorted({k for row in rows for k in row})
    rebuilt = "url" in keys and all(row.get("url") == link.replace("{}", str(row.get("id")))
                                    for row in rows)
    if rebuilt:
        keys.remove("url")
    sent = {"keys": keys, "columns": [[row.get(k) for row in rows] for k in keys],
            "link": link if rebuilt else None}
    return js_assign("LB_DATA", name, sent, through=DATASET_FROM_COLUMNS_JS)


def js_assign(registry: str, name: str, value: Any, through: str | None = None) -> str:
    """A script that registers ``value`` as ``window[registry][name]`` (works from file:// too).

    ``through``: a JavaScript function the value is passed through first.
    """
    payload = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    if through:
        payload = f"({through})({payload})"
    return f"(window.{registry}=window.{registry}||{{}})[{json.dumps(name)}]={payload};\n"


def fmt(value: float | None, spec: str, missing: str = "—") -> str:
    """Format a number, or a dash when missing."""
    return missing if value is None else format(value, spec)


def entry_chart_row(entry: Entry, prefix: str) -> dict[str, Any]:
    """The fields every chart row of an entry carries."""
    return {
        "id": entry.id,
        "family": entry.family,
        "top1": round(entry.top1, 3),
        "params_m": entry.params_m,
        "gmacs": entry.gmacs,
        "url": prefix + model_path(entry.id),
    }


def tier_counts(data: Boards, board: str) -> dict[str, int]:
    """How many entries of a board are in each tier."""
    counts: dict[str, int] = {}
    for entry in data.entries:
        result = entry.results.get(board)
        if result and result.score:
            counts[result.score.tier] = counts.get(result.score.tier, 0) + 1
    return counts
