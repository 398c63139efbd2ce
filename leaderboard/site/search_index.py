"""Model pages in the header search.

Model pages are poured into the theme's shell outside mkdocs (see build.py), so the search
plugin never sees them; without this the header search finds no model ("convnext_tiny" returned
nothing). After the engine has written ``search/search_index.json`` (and the offline plugin its
``search_index.js`` copy), one short document per model page is appended to both. Documents are
kept small: the index is loaded by every page that opens the search.

The theme's search (lunr in a web worker) turns "resnet50" into the prefix query "resnet50*"
and scores each match by how rare its word is, so the few ``resnet50d``/``resnet50s`` ids came
before the 31 ``resnet50.*`` ones. Each model document therefore gets a ``boost`` (a field the
theme reads per document) that cancels that rarity and ranks model pages by a fixed order:
shorter architecture first, then architecture, then id. A typed architecture or id then lists
its own entries first, since every other id it is a prefix of has a longer architecture.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from leaderboard.boards import Boards
from leaderboard.site.render import model_path

INDEX_JSON = Path("search") / "search_index.json"
INDEX_JS = Path("search") / "search_index.js"
JS_PREFIX = "var __index = "  # what mkdocs-material's offline plugin writes before the JSON
# The theme's defaults where an index's config leaves them out (material/plugins/search).
DEFAULT_SEPARATOR = r"[\s\-]+"
DEFAULT_FIELDS = ("title", "text", "tags")
TAG = re.compile(r"<[^>]*>")  # the theme's tokenizer reads text between tags, not the tags


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
    # by id: neighbours share most of their text and boost, so the index gzips smaller (10,000
    # synthetic entries: 160 KB in board order, 136 KB so; 111 KB without boosts; gzip -6)
    index["docs"].extend(sorted(documents, key=lambda document: document["title"]))
    set_model_boosts(index, {document["location"] for document in documents})
    text = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    index_path.write_text(text, encoding="utf-8")
    js_path = site_dir / INDEX_JS
    if js_path.is_file():
        js_path.write_text(JS_PREFIX + text, encoding="utf-8")
    return len(documents)


def tokens(value: object, separator: re.Pattern[str]) -> list[str]:
    """The words lunr indexes for one field value, as the theme's tokenizer splits them."""
    values = value if isinstance(value, list) else [value]
    words = []
    for item in values:
        for block in TAG.split(str(item)):
            words.extend(word.lower() for word in separator.split(block) if word)
    return words


def lunr_idf(documents_with_word: int, document_count: int) -> float:
    """lunr.idf (lunr 2.3): how rare a word is; a match scores this times the boosts."""
    ratio = (document_count - documents_with_word + 0.5) / (documents_with_word + 0.5)
    return math.log(1 + abs(ratio))


def rank_key(entry_id: str) -> tuple[int, str, str]:
    """Order of model pages among equal matches: shorter architecture, architecture, id.

    The architecture is the id before its first dot (timm's ``architecture.tag``).
    """
    architecture = entry_id.split(".", 1)[0]
    return len(architecture), architecture, entry_id


def set_model_boosts(index: dict, model_locations: set[str]) -> None:
    """Give each model document in ``index`` a ``boost`` so that it scores by :func:`rank_key`.

    A model page is found through the first word of its title (its id; "-288" and the like
    split off as a second word). lunr weighs a matched word by its idf, counted over every
    field of every document, times the document's boost; the boost is set to the page's place
    in the fixed order divided by that idf, so every model page matching a query scores by its
    place alone (between 1 and 2 times the title's weight). Words are counted as the theme
    splits them (the index's ``separator``); ids pass site/mkdocs.yml's pipeline (stop words
    only) unchanged, so a count here is lunr's count.
    """
    config = index.get("config", {})
    separator = re.compile(config.get("separator") or DEFAULT_SEPARATOR)
    fields = list(config.get("fields") or DEFAULT_FIELDS)
    models = sorted((doc for doc in index["docs"] if doc["location"] in model_locations),
                    key=lambda doc: rank_key(doc["title"]))
    first_words = {}
    for doc in models:
        words = tokens(doc["title"], separator)
        if words:
            first_words[doc["location"]] = words[0]
    wanted = set(first_words.values())
    documents_with = dict.fromkeys(wanted, 0)
    for doc in index["docs"]:  # lunr counts a word once per field that holds it
        for name in fields:
            if name in doc:
                for word in wanted.intersection(tokens(doc[name], separator)):
                    documents_with[word] += 1
    count = len(index["docs"])
    # neighbours differ by at least 1 part in 2 * len(models): the digits that keep them apart
    # after rounding, and no more (each digit costs bytes in an index every search loads)
    digits = len(str(2 * len(models))) + 1
    for place, doc in enumerate(models):
        word = first_words.get(doc["location"])
        if word is not None:
            target = 2.0 - place / len(models)  # 2 for the first, just above 1 for the last
            doc["boost"] = float(f"{target / lunr_idf(documents_with[word], count):.{digits}g}")
