"""The Compare page: two to four entries side by side across every board (compare.html?ids=)."""

from __future__ import annotations

from leaderboard.boards import Boards
from leaderboard.site.compare import MAX_ENTRIES, compare_data
from leaderboard.site.pages.common import Page, render_template
from leaderboard.site.render import js_assign


def compare_page(data: Boards) -> Page:
    """The Compare page and its data file (``assets/data/compare.js``)."""
    text = render_template("compare.md.j2", max_entries=MAX_ENTRIES,
                           example=[e.id for e in data.entries[:2]])
    return "compare.md", text, {"assets/data/compare.js": js_assign("LB_COMPARE", "data",
                                                                      compare_data(data))}
