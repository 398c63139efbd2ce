"""Escape untrusted text (ids, paths, YAML keys and values) before it reaches a log.

A CI log turns any line that starts with ``::`` into a workflow command (``::error::``,
``::add-mask::``, ``::stop-commands::``). A folder named ``x\\n::error::owned`` or a YAML key
holding a newline would print one. :func:`log_safe` makes such text print on one line and
never start a command; :func:`workflow_command_data` and :func:`workflow_command_property`
escape the parts of a workflow command we write ourselves (annotations), as GitHub's
``@actions/core`` toolkit does (``escapeData`` and ``escapeProperty``).
"""

from __future__ import annotations

import unicodedata

# Line breaks Python's str.splitlines() and terminals honour besides \n and \r.
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _escape_char(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def log_safe(text: str) -> str:
    """``text`` on one line, control characters escaped, no ``::`` that could start a command.

    Backslash escapes (``\\n``, ``\\x1b``) keep the text readable and unambiguous; ``::`` becomes
    ``:\\:`` so even text printed at the start of a line is never a workflow command. Ordinary
    text (every valid id and path) comes back unchanged.
    """
    if text.isprintable() and "::" not in text:
        return text
    out = []
    for char in text:
        if char in _LINE_BREAKS or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(_escape_char(char))
        else:
            out.append(char)
    return "".join(out).replace("::", ":\\:")


def workflow_command_data(text: str) -> str:
    """Escape the message of a workflow command (``::error file=...::MESSAGE``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_command_property(text: str) -> str:
    """Escape a property value of a workflow command (``file=``, ``title=``)."""
    return (workflow_command_data(text).replace(":", "%3A").replace(",", "%2C"))
