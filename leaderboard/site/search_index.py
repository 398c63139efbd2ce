"""Model pages in the header search.

Model pages are poured into the theme's shell outside mkdocs (see build.py), so the search
plugin never sees them; without this the header search finds no model ("convnext_tiny" returned
nothing). After the engine has written ``search/search_index.json`` (and the offline plugin its
``search_index.js`` copy), one short document per model page is appended to both. Documents are
kept small: the index is loaded by every page that opens the search.
"""

from __future__ import annotations

import json
from pathlib import Path

from leaderboard.boards import Boards
from leaderboard.site.render import model_path

INDEX_JSON = Path("search") / "search_index.json"
INDEX_JS = Path("search") / "search_index.js"
JS_PREFIX = "var __index = "  # what mkdocs-material's offline plugin writes before the JSON


def model_documents(data: Boards) -> list[dict[str, str]]:
    """One search document per entry: its id as the title and no text.

    The search matches the start of the id ("convnext_tiny" finds convnext_tiny.fb_in1k). The
    id's parts as text would also find "tiny" or "in1k", but cost 40 KB (gzip) of index at
    10,000 entries on every page, and the board tables already search inside ids.
    """
    documents = []
    for entry in data.entries:
        documents.append({"location": model_path(entry.id), "title": entry.id, "text": ""})
    return documents


def add_model_pages(site_dir: Path, documents: list[dict[str, str]]) -> int:
    """Append ``documents`` to the built site's search index; returns how many were added.

    A site built without the search plugin has no index, and nothing is added.
    """
    index_path = site_dir / INDEX_JSON
    if not index_path.is_file():
        return 0
    index = json.loads(index_path.read_text("utf-8"))
    index["docs"].extend(documents)
    text = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    index_path.write_text(text, encoding="utf-8")
    js_path = site_dir / INDEX_JS
    if js_path.is_file():
        js_path.write_text(JS_PREFIX + text, encoding="utf-8")
    return len(documents)
