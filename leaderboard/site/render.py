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

    def chart(self, name: str, chart: ChartSpec, label: str, min_height_px: int | None = None,
              table: str | None = None, lazy: bool = False, details: bool = False) -> str:
        """Write a chart's spec file and return the HTML that mounts it.

        ``min_height_px`` reserves the chart's height (default: the stylesheet's, for the tall
        scatter charts) so the page does not jump when it draws. ``table`` names the page's
        table whose rows are the chart's data (sent once for both); ``details`` says the chart
        needs the table's detail columns too. ``lazy`` leaves the spec (and vega) to be loaded
        by the page's script when the chart is wanted.
        """
        # Not validated here: Altair's schema check took a third of a small site's build, and
        # the structure is the same at every build. tests/test_site_build.py validates every
        # chart the build writes against the Vega-Lite schema.
        spec = chart.to_dict(validate=False)
        src = f"{self.prefix}assets/charts/{name}.js"
        self.files[f"assets/charts/{name}.js"] = js_assign("LB_SPECS", name, spec)
        mount = environment().get_template("_chart.md.j2").render(
            chart=name, label=label, min_height_px=min_height_px, table=table, details=details,
            prefix=self.prefix, src=src if lazy else None).strip()
        if lazy:
            return f"{mount}\n"
        bundle = ""
        if not self._has_chart:
            # vega is ~900 KB: only pages with a chart load it
            bundle = f'<script src="{self.vega_src}"></script>\n'
            self._has_chart = True
        return f'{bundle}<script src="{src}"></script>\n{mount}\n'

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
