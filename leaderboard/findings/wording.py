"""Numbers in sentences: never rounded across the threshold they are compared with, and
ties or ranges that round to one value said as such."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
_MAX_DECIMALS = 6
# A tie of more names than this names the first NAMED_OF_MANY and counts the rest ("and 49
# more"): on a board with every family measured, 53 families tied at 0% made one sentence of
# 16 lines. The table beside the sentence lists every one.
NAMED_AT_MOST = 5
NAMED_OF_MANY = 4


def beside(value: float, threshold: float, decimals: int = 1) -> str:
    """``value`` with the fewest decimals (from ``decimals``) that keep it on its side of
    ``threshold`` (below it, or at or above it, as the findings' tests are ``>=``): 1.9646
    against 2 reads "1.96", never "2.0"; 2.04 reads "2.0"."""
    for places in range(decimals, _MAX_DECIMALS + 1):
        text = f"{value:.{places}f}"
        shown = float(text)
        if (shown < threshold) == (value < threshold):
            return text
    # closer to the threshold than 6 decimals can show: say it exactly enough to differ
    return repr(float(value))


def names_at(items: Sequence[T], value: Callable[[T], str], name: Callable[[T], str],
             shown: str) -> str:
    """Every item whose formatted value is ``shown``, named: ties are listed, not picked
    (beyond NAMED_AT_MOST, the first NAMED_OF_MANY and how many more)."""
    names = [name(i) for i in items if value(i) == shown]
    if len(names) > NAMED_AT_MOST:
        return f"{', '.join(names[:NAMED_OF_MANY])} and {len(names) - NAMED_OF_MANY} more"
    return ", ".join(names)


def spread(items: Sequence[T], value: Callable[[T], float], name: Callable[[T], str],
           spec: str, unit: str = "") -> tuple[str, bool]:
    """"from LOW (a) to HIGH (b)" over the items, or "all equal to X" when the extremes round
    to the same text; the flag is True for the tie.

    Args:
        items: At least one item.
        value: The number each item has.
        name: What each item is called in the sentence.
        spec: The format of the numbers (e.g. ``".2f"``); the tie is judged on this text.
        unit: Appended to each number (e.g. ``"×"``).
    """
    def text(i: T) -> str:
        return format(value(i), spec)

    low, high = min(items, key=value), max(items, key=value)
    if text(low) == text(high):
        return f"{text(low)}{unit} for all {len(items)}", True
    return (f"from {text(low)}{unit} ({names_at(items, text, name, text(low))}) to "
            f"{text(high)}{unit} ({names_at(items, text, name, text(high))})"), False
