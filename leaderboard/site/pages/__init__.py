"""The generated pages, one module per kind; each function returns (docs path, Markdown, files).

The build calls the functions re-exported here; each page kind keeps its table columns,
chart choices and template context in its own module.
"""

from leaderboard.site.pages.common import Page
from leaderboard.site.pages.compare import compare_page
from leaderboard.site.pages.energy import energy_page
from leaderboard.site.pages.findings import findings_page
from leaderboard.site.pages.home import home_page
from leaderboard.site.pages.leaderboards import leaderboard_pages
from leaderboard.site.pages.model import model_page_body
from leaderboard.site.pages.reference import downloads_page, methodology_page, submit_page
from leaderboard.site.pages.tradeoffs import tradeoffs_page

__all__ = ["Page", "compare_page", "downloads_page", "energy_page", "findings_page", "home_page",
           "leaderboard_pages", "methodology_page", "model_page_body", "submit_page",
           "tradeoffs_page"]
