"""Strict YAML loading for contributor files.

Submissions are untrusted input. Beyond ``yaml.safe_load`` we refuse what makes a file
ambiguous or hard to review: duplicate keys (PyYAML silently keeps the last), anchors and
aliases (hidden sharing, "billion laughs"), non-standard tags, multi-document streams and
oversized files. Every refusal carries a line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from leaderboard.errors import Problem

MAX_FILE_BYTES = 64 * 1024

# Tags the core schema resolves implicitly; anything else (``!!python/object``, ``!foo``)
# is refused.
_SAFE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
}


def _where(mark: yaml.Mark | None) -> str:
    if mark is None:
        return ""
    return f"line {mark.line + 1}, column {mark.column + 1}"


try:  # libyaml's parser is ~6x faster; our composer and constructor stay in Python.
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml

    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)


class _DuplicateKeyCheck:
    """Constructor mixin: report duplicate mapping keys instead of keeping the last."""

    file: str
    problems: list[Problem]

    def construct_mapping(self, node, deep=False):  # noqa: ANN001 - PyYAML's signature
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                # Merge keys hide keys (and duplicates) from review, like aliases.
                self.problems.append(
                    Problem(self.file, _where(key_node.start_mark), "merge key '<<' is not allowed",
                            "write the keys out in full")
                )
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                self.problems.append(
                    Problem(self.file, _where(key_node.start_mark), "mapping key must be a string",
                            "use a plain text key")
                )
                continue
            if key in seen:
                first = seen[key].start_mark
                self.problems.append(
                    Problem(
                        self.file,
                        _where(key_node.start_mark),
                        f"duplicate key '{key}' (first defined at line {first.line + 1})",
                        "keep one of the two; YAML would silently use the last",
                    )
                )
            else:
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


class _StrictLoader(_DuplicateKeyCheck, yaml.composer.Composer, _Parser,
                    yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """A safe loader that records structural problems instead of silently accepting them.

    The Python ``Composer`` comes first in the MRO so our ``compose_node`` sees every event
    (anchors, aliases, tags) even when libyaml parses.
    """

    def __init__(self, stream: str, file: str):
        _Parser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.file = file
        self.problems: list[Problem] = []

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            self.problems.append(
                Problem(
                    self.file,
                    _where(event.start_mark),
                    f"alias '*{event.anchor}' is not allowed",
                    "write the value out in full; anchors and aliases are refused",
                )
            )
        else:
            event = self.peek_event()
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                self.problems.append(
                    Problem(
                        self.file,
                        _where(event.start_mark),
                        f"anchor '&{anchor}' is not allowed",
                        "remove the anchor and write values out in full",
                    )
                )
            tag = getattr(event, "tag", None)
            if tag not in (None, "!") and self.resolve_tag(tag) not in _SAFE_TAGS:
                self.problems.append(
                    Problem(
                        self.file,
                        _where(event.start_mark),
                        f"tag '{tag}' is not allowed",
                        "remove the tag; plain YAML scalars, lists and mappings only",
                    )
                )
        return super().compose_node(parent, index)

    def resolve_tag(self, tag: str) -> str:
        if tag.startswith("!!"):
            return "tag:yaml.org,2002:" + tag[2:]
        return tag


def _construct_refused(loader: _StrictLoader, tag_suffix: str, node: yaml.Node) -> None:
    # Reached only for tags compose_node already reported; return None so loading goes on.
    return None


_StrictLoader.add_multi_constructor("", _construct_refused)
_StrictLoader.add_multi_constructor("!", _construct_refused)


class _FastLoader(_DuplicateKeyCheck, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml end to end, for text that cannot hold anchors, aliases or tags.

    Composing in Python costs ~1 ms a file; libyaml composes ~4x faster. Anchors (&),
    aliases (*) and tags (!) are invisible after libyaml composes, so text containing any of
    those characters (even inside a quoted string) takes the strict Python composer instead.
    """

    def __init__(self, stream: str, file: str):
        super().__init__(stream)
        self.file = file
        self.problems: list[Problem] = []


_NEEDS_STRICT_COMPOSER = frozenset("&*!%")


Lines = dict[tuple[str, ...], int]


def load_yaml_file(path: Path, display: str | None = None) -> tuple[Any, list[Problem], Lines]:
    """Load one YAML file strictly.

    Args:
        path: File to read.
        display: How to name the file in messages (defaults to ``str(path)``).

    Returns:
        The loaded mapping (``None`` when there is no mapping to check; possibly present even
        with problems, so callers must look at the problems), every problem found, and
        the 1-based line of each mapping key by its path, so schema errors can name a line.
    """
    file = display or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, [Problem(file, "", f"cannot read file: {exc.strerror}", "check the path")], {}
    if size > MAX_FILE_BYTES:
        return None, [
            Problem(
                file,
                "",
                f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit",
                "a submission is a short YAML file; remove embedded data",
            )
        ], {}
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(file, f"byte {exc.start}", "file is not valid UTF-8",
                              "save the file as UTF-8")], {}
    return load_yaml_text(text, file)


def load_yaml_text(text: str, file: str) -> tuple[Any, list[Problem], Lines]:
    """Load YAML from a string strictly; see :func:`load_yaml_file`."""
    strict = not _NEEDS_STRICT_COMPOSER.isdisjoint(text)
    loader = _StrictLoader(text, file) if strict else _FastLoader(text, file)
    try:
        if strict:
            document = yaml.composer.Composer.get_single_node(loader)
        else:
            document = loader.get_single_node()
        data = loader.construct_document(document) if document is not None else None
    except yaml.composer.ComposerError as exc:
        if "expected a single document" in str(exc):
            return None, [
                Problem(file, _where(exc.problem_mark), "more than one YAML document in the file",
                        "remove the '---' separator and keep one document")
            ], {}
        return None, loader.problems + [_syntax_problem(file, exc)], {}
    except yaml.YAMLError as exc:
        return None, loader.problems + [_syntax_problem(file, exc)], {}
    except RecursionError:
        return None, [_too_deep(file)], {}
    finally:
        loader.dispose()
    problems = list(loader.problems)
    if data is None:
        problems.append(Problem(file, "", "file is empty",
                                "write a YAML mapping; see `leaderboard schema`"))
    elif not isinstance(data, dict):
        problems.append(
            Problem(file, "", f"top level is a {type(data).__name__}, not a mapping",
                    "the file must be a YAML mapping of keys to values")
        )
    lines: Lines = {}
    if document is not None:
        try:
            _collect_key_lines(document, (), lines)
        except RecursionError:
            return None, [_too_deep(file)], {}
    # Structural problems (duplicate keys, anchors, tags) still leave a usable mapping: return it
    # so the schema check can report its problems in the same run.
    return (data if isinstance(data, dict) else None), problems, lines


def _collect_key_lines(node: yaml.Node, path: tuple[str, ...], out: Lines) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = path + (str(key_node.value),)
            out.setdefault(key_path, key_node.start_mark.line + 1)
            _collect_key_lines(value_node, key_path, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out.setdefault(path + (str(index),), item.start_mark.line + 1)
            _collect_key_lines(item, path + (str(index),), out)


def _too_deep(file: str) -> Problem:
    return Problem(file, "", "values are nested too deeply",
                   "a submission needs only a few levels of nesting")


def _syntax_problem(file: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if "maximum nesting depth" in problem:
        # Newer PyYAML (6.0.4 here) caps nesting in its scanner, before our RecursionError guard would.
        return Problem(file, _where(mark), _too_deep(file).message, _too_deep(file).fix)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return Problem(file, _where(mark), message,
                   "fix the YAML syntax at that position (indentation, quotes, colons)")
