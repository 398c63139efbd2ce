"""Strict YAML loading for contributor files.

Submissions are untrusted input. Beyond ``yaml.safe_load`` we refuse what makes a file
ambiguous or hard to review: duplicate keys (PyYAML silently keeps the last), anchors and
aliases (hidden sharing, "billion laughs"), non-standard tags, multi-document streams,
oversized files and files that are not regular files. Every refusal carries a line and column.

PyYAML resolves plain scalars by YAML 1.1 rules, which other tools (YAML 1.2, JSON Schema
editors) read differently: ``1:20`` is 80, ``0x50`` is 80, ``010`` is 8, ``on`` is true,
``2024-01-01`` is a date. Those forms are refused with a fix ("write the plain number" or
"quote the text"), and so are the non-finite numbers ``.inf`` and ``.nan``: a file means the
same thing to every reader or it is refused.

An alias is refused *before* anything expands it: the composer replaces it by an empty
scalar, so a 500-byte "billion laughs" file costs what its text costs, not what it expands to.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from leaderboard.errors import Problem

MAX_FILE_BYTES = 64 * 1024
# An alias bomb or a file of 20,000 duplicate keys says the same thing 20,000 times: report
# the first ones of each kind and count the rest.
MAX_PROBLEMS_PER_KIND = 10
# Digits in an integer: an all-digit sha256 (quoted-text mistake) still reads as a number so the
# schema can say "quote it"; far below Python's 4,300-digit str->int limit.
MAX_INT_DIGITS = 64

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


# The plain scalars YAML 1.1 and YAML 1.2 (core schema) read the same way.
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")
_PLAIN_BOOL = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})


class _ProblemLog:
    """Where a loader collects its problems, at most :data:`MAX_PROBLEMS_PER_KIND` of a kind."""

    file: str
    problems: list[Problem]
    _kind_counts: dict[str, int]

    def _report(self, kind: str, mark: yaml.Mark | None, message: str, fix: str) -> None:
        count = self._kind_counts.get(kind, 0) + 1
        self._kind_counts[kind] = count
        if count <= MAX_PROBLEMS_PER_KIND:
            self.problems.append(Problem(self.file, _where(mark), message, fix))

    def _summarise_overflow(self) -> None:
        for kind, count in self._kind_counts.items():
            if count > MAX_PROBLEMS_PER_KIND:
                self.problems.append(Problem(
                    self.file, "", f"{count - MAX_PROBLEMS_PER_KIND:,} more problem(s) of the "
                    f"kind '{kind}' not listed", "fix the ones listed and check again"))


class _DuplicateKeyCheck(_ProblemLog):
    """Constructor mixin: report duplicate mapping keys and YAML 1.1-only scalars."""

    def construct_mapping(self, node, deep=False):  # noqa: ANN001 - PyYAML's signature
        seen: dict[Any, yaml.Node] = {}
        merges = [k for k, _ in node.value if k.tag == "tag:yaml.org,2002:merge"]
        for key_node in merges:
            # Merge keys hide keys (and duplicates) from review, like aliases.
            self._report("merge key", key_node.start_mark, "merge key '<<' is not allowed",
                         "write the keys out in full")
        if merges:
            # Dropped, so PyYAML's own merge handling never sees them (nor what they point at).
            node.value = [(k, v) for k, v in node.value if k.tag != "tag:yaml.org,2002:merge"]
        kept = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                # A complex key (`? [a, b]`) is unhashable: PyYAML would stop the whole file
                # with a syntax error and hide every schema problem after it.
                kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
                self._report("key not text", key_node.start_mark, f"mapping key is a {kind}, not text",
                             "use a plain text key ('? ' starts a complex key)")
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                what = "empty (null)" if key is None else f"{type(key).__name__} {_short(str(key))!r}"
                self._report("key not text", key_node.start_mark, f"mapping key is {what}, not text",
                             "write the key as text (a field name from `leaderboard schema`); "
                             "a key of null, ~ or nothing before ':' is empty")
                continue
            kept.append((key_node, value_node))
            if key in seen:
                first = seen[key].start_mark
                self._report("duplicate key", key_node.start_mark,
                             f"duplicate key '{key}' (first defined at line {first.line + 1})",
                             "keep one of the two; YAML would silently use the last")
            else:
                seen[key] = key_node
        node.value = kept
        return super().construct_mapping(node, deep=deep)

    # Each scalar constructor below returns the text itself for a refused form, so the schema
    # check sees a value it would refuse too, never a silently converted number.

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:  # noqa: D102 - PyYAML hook
        text = str(node.value)
        if not _PLAIN_INT.fullmatch(text):
            self._report("YAML 1.1 number", node.start_mark,
                         f"'{_short(text)}' is a YAML 1.1 number form (hex, octal, base 60, "
                         "'_' or a leading zero) that other YAML readers read differently",
                         f"write the plain decimal number ({_decimal(text)}), or quote the "
                         "value if it is text")
            return text
        if len(text.lstrip("+-")) > MAX_INT_DIGITS:
            # Bounded before int(): Python refuses (ValueError) past 4,300 digits and a long
            # conversion costs time; no field needs more than a few digits.
            self._report("number too long", node.start_mark,
                         f"a number of {len(text.lstrip('+-')):,} digits",
                         f"write a number of at most {MAX_INT_DIGITS} digits (every field is far "
                         "smaller), or quote it if it is text")
            return text
        return int(text)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:  # noqa: D102 - PyYAML hook
        text = str(node.value)
        if text.lower().lstrip("+-") in (".inf", ".nan"):
            self._report("non-finite number", node.start_mark,
                         f"'{text}' is not a finite number",
                         "write a finite number; leave the field out when it is unknown")
            return text
        if not _PLAIN_FLOAT.fullmatch(text):
            self._report("YAML 1.1 number", node.start_mark,
                         f"'{_short(text)}' is a YAML 1.1 number form (base 60 or '_') that "
                         "other YAML readers read differently",
                         f"write the plain decimal number ({_decimal(text)}), or quote the "
                         "value if it is text")
            return text
        value = float(text)
        if not math.isfinite(value):  # 1.0e+400 overflows to inf
            self._report("non-finite number", node.start_mark,
                         f"'{_short(text)}' is too large for a number",
                         "write a finite number in the field's unit")
            return text
        return value

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> Any:  # noqa: D102 - PyYAML hook
        text = str(node.value)
        if text not in _PLAIN_BOOL:
            self._report("YAML 1.1 boolean", node.start_mark,
                         f"'{text}' is a YAML 1.1 boolean that other YAML readers read as text",
                         f"write true or false, or quote it (\"{text}\") if it is text")
            return text
        return text.lower() == "true"

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:  # noqa: D102 - PyYAML hook
        text = str(node.value)
        self._report("YAML 1.1 date", node.start_mark,
                     f"'{text}' reads as a YAML 1.1 date, not as text",
                     f"quote it (\"{text}\")")
        return text


def _short(text: str, limit: int = 80) -> str:
    # Echo a value, but not a 60 KiB one.
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _decimal(text: str) -> str:
    """What PyYAML's YAML 1.1 reading of ``text`` is, as a plain decimal (for the fix)."""
    if len(text) > 40:  # a huge base-60 or hex number is no example worth printing
        return "e.g. 80 or 80.5"
    try:
        # Safe: ``text`` is one plain scalar the resolver already read as a number.
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return "e.g. 80 or 80.5"
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "e.g. 80 or 80.5"
    return f"here {value!r}"


def _register_scalar_checks(loader: type) -> None:
    for tag, name in (("int", "construct_yaml_int"), ("float", "construct_yaml_float"),
                      ("bool", "construct_yaml_bool"), ("timestamp", "construct_yaml_timestamp")):
        loader.add_constructor(f"tag:yaml.org,2002:{tag}", getattr(_DuplicateKeyCheck, name))


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
        self._kind_counts = {}

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            self._report("alias", event.start_mark, f"alias '*{_short(event.anchor)}' is not allowed",
                         "write the value out in full; anchors and aliases are refused")
            # Never resolved: the anchored node is not shared, so nothing downstream (the
            # constructor, the key-line walk) can expand an alias bomb.
            return yaml.ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._report("anchor", event.start_mark, f"anchor '&{_short(anchor)}' is not allowed",
                         "remove the anchor and write values out in full")
            # Forget the anchor: PyYAML would otherwise refuse a reused name as a syntax error.
            event.anchor = None
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and self.resolve_tag(tag) not in _SAFE_TAGS:
            self._report("tag", event.start_mark, f"tag '{_short(tag)}' is not allowed",
                         "remove the tag; plain YAML scalars, lists and mappings only")
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
_register_scalar_checks(_StrictLoader)


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
        self._kind_counts = {}


_register_scalar_checks(_FastLoader)

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
    raw, problem = read_limited(path, file, MAX_FILE_BYTES,
                                "a submission is a short YAML file; remove embedded data")
    if problem is not None:
        return None, [problem], {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(file, f"byte {exc.start}", "file is not valid UTF-8",
                              "save the file as UTF-8")], {}
    return load_yaml_text(text, file)


def read_limited(path: Path, file: str, max_bytes: int, fix: str) -> tuple[bytes, Problem | None]:
    """The bytes of a regular file of at most ``max_bytes``, or the problem that stops reading.

    The size is checked on the open file, and at most ``max_bytes + 1`` bytes are read: a
    symbolic link to ``/dev/zero`` or a FIFO reports a size of 0, and must be refused, not read
    forever (or, for a FIFO, waited on: the file is opened non-blocking).

    Args:
        path: The file (a symbolic link is followed).
        file: How to name it in the problem.
        max_bytes: The size limit.
        fix: What to tell a user whose file is too large.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return b"", Problem(file, "", f"cannot read file: {exc.strerror}", "check the path")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return b"", Problem(file, "", "is not a regular file (a device, FIFO, socket or "
                                "folder, perhaps through a symbolic link)",
                                "replace it with a regular file")
        if info.st_size > max_bytes:
            return b"", Problem(file, "", f"file is {info.st_size:,} bytes, over the "
                                f"{max_bytes:,}-byte limit", fix)
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:  # grew while we read it
            return b"", Problem(file, "", f"file is over the {max_bytes:,}-byte limit", fix)
        return b"".join(chunks), None
    except OSError as exc:
        return b"", Problem(file, "", f"cannot read file: {exc.strerror}", "check the path")
    finally:
        os.close(fd)


# C0 controls but tab, LF and CR; DEL; C1 controls (U+0085 NEXT LINE among them); the Unicode
# line and paragraph separators; bidirectional overrides and isolates. YAML reads U+2028/U+2029
# and U+0085 as line breaks inside a quoted string, while a diff shows one line, so a claim can
# hide from the reviewer; the bidi controls reorder what the reviewer sees.
_HIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
                                "\u202a-\u202e\u2066-\u2069\ufeff]")
_CHARACTER_NAMES = {"\x85": "NEXT LINE (NEL)", "\u2028": "LINE SEPARATOR",
                    "\u2029": "PARAGRAPH SEPARATOR", "\ufeff": "ZERO WIDTH NO-BREAK SPACE (BOM)"}


def hidden_character_problems(text: str, file: str) -> list[Problem]:
    """A problem (with line and column) for each control or line-separator character.

    A leading byte-order mark is allowed (editors write one).
    """
    problems: list[Problem] = []
    matches = [m for m in _HIDDEN_CHARACTERS.finditer(text)
               if not (m.start() == 0 and m.group() == "\ufeff")]
    for match in matches[:MAX_PROBLEMS_PER_KIND]:
        char = match.group()
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        bidi = "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069"
        name = _CHARACTER_NAMES.get(char, "a bidirectional text control" if bidi else "a control character")
        problems.append(Problem(
            file, f"line {line}, column {column}", f"character U+{ord(char):04X} ({name}) is not "
            "allowed: YAML may read it as a line break or a diff may not show it",
            "delete it (retype the text around it); use plain spaces and line breaks"))
    if len(matches) > MAX_PROBLEMS_PER_KIND:
        problems.append(Problem(file, "", f"{len(matches) - MAX_PROBLEMS_PER_KIND:,} more "
                                "such character(s) not listed", "fix the ones listed and check again"))
    return problems


def load_yaml_text(text: str, file: str) -> tuple[Any, list[Problem], Lines]:
    """Load YAML from a string strictly; see :func:`load_yaml_file`."""
    hidden = hidden_character_problems(text, file)
    if hidden:
        return None, hidden, {}
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
        return None, _listed(loader) + [_syntax_problem(file, exc)], {}
    except yaml.YAMLError as exc:
        return None, _listed(loader) + [_syntax_problem(file, exc)], {}
    except RecursionError:
        return None, [_too_deep(file)], {}
    finally:
        loader.dispose()
    problems = _listed(loader)
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


def _listed(loader: _ProblemLog) -> list[Problem]:
    loader._summarise_overflow()
    return list(loader.problems)


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
