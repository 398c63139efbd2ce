"""Shareable SVGs per entry: a README badge and a label card, from the headline board.

The badge reads "energy | 1.23 mJ/img · A"; the label adds accuracy, hardware, scenario and the
measurement date, so it stands on its own wherever it is pasted. Both are static files written
beside the site (``badges/<id>.svg`` and ``badges/<id>-label.svg``).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from leaderboard.boards import Boards
from leaderboard.site.render import board_title, hardware_title
from leaderboard.vocabulary import NO_TIER_COLOR, TIER_COLORS, WHITE_TEXT_TIERS

AWAITING = "awaiting measurement"
FONT = "Verdana,DejaVu Sans,sans-serif"
# Verdana 11 px averages ~6.5 px a character; badge widths are estimated, not measured.
CHAR_W_PX = 6.5


@dataclass(frozen=True)
class BadgeFacts:
    """What a badge and label say about one entry on its headline board."""

    entry_id: str
    top1: float
    energy_j: float | None = None
    tier: str | None = None
    hardware: str | None = None
    scenario: str | None = None
    measured_on: str | None = None


def energy_text(energy_j: float) -> str:
    """J/image in the unit that keeps three significant figures readable (mJ below 1 J)."""
    if energy_j < 1.0:
        return f"{energy_j * 1000:.3g} mJ/img"
    return f"{energy_j:.3g} J/img"


def _tier_colours(tier: str | None) -> tuple[str, str]:
    if tier is None:
        return NO_TIER_COLOR, "#fff"
    return TIER_COLORS[tier], "#fff" if tier in WHITE_TEXT_TIERS else "#111"


def badge_svg(facts: BadgeFacts) -> str:
    """A flat README badge: 'energy | 1.23 mJ/img · A' in the tier colour."""
    label = "energy"
    value = (f"{energy_text(facts.energy_j)} · {facts.tier}"
             if facts.energy_j is not None and facts.tier else AWAITING)
    fill, text_color = _tier_colours(facts.tier if facts.energy_j is not None else None)
    left_w = round(CHAR_W_PX * len(label) + 12)
    right_w = round(CHAR_W_PX * len(value) + 14)
    width = left_w + right_w
    title = escape(f"{facts.entry_id}: {label} {value}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        f'<rect width="{left_w}" height="20" rx="3" fill="#444"/>'
        f'<rect x="{left_w}" width="{right_w}" height="20" rx="3" fill="{fill}"/>'
        f'<rect x="{left_w}" width="4" height="20" fill="{fill}"/>'
        f'<g font-family="{FONT}" font-size="11">'
        # The widths are estimates: textLength makes each text fit its box in any font, as bold
        # text (about 7.3 px a character) would otherwise overflow the right edge.
        f'<text x="{left_w / 2}" y="14" fill="#fff" text-anchor="middle" '
        f'textLength="{left_w - 12}" lengthAdjust="spacingAndGlyphs">{label}</text>'
        f'<text x="{left_w + right_w / 2}" y="14" fill="{text_color}" text-anchor="middle" '
        f'font-weight="bold" textLength="{right_w - 14}" lengthAdjust="spacingAndGlyphs">'
        f'{escape(value)}</text></g></svg>\n'
    )


def label_svg(facts: BadgeFacts) -> str:
    """A 360 × 110 label: entry, J/image and tier, top-1, hardware, scenario and date."""
    fill, text_color = _tier_colours(facts.tier if facts.energy_j is not None else None)
    measured = facts.energy_j is not None and facts.tier is not None
    big = energy_text(facts.energy_j) if measured and facts.energy_j is not None else AWAITING
    where = (f"{hardware_title(facts.hardware)}, {facts.scenario}"
             if facts.hardware and facts.scenario else "not measured yet")
    date = f"measured {facts.measured_on}" if facts.measured_on else ""
    title = escape(f"{facts.entry_id}: {big}, tier {facts.tier or '—'}, top-1 "
                   f"{facts.top1:.2f} %, {where}{', ' + date if date else ''}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="360" height="110" viewBox="0 0 360 110" '
        f'role="img" aria-label="{title}"><title>{title}</title>'
        '<rect width="360" height="110" rx="8" fill="#fff" stroke="#444" stroke-width="1.5"/>'
        f'<rect x="282" y="14" width="64" height="64" rx="6" fill="{fill}"/>'
        f'<g font-family="{FONT}">'
        f'<text x="314" y="60" fill="{text_color}" font-size="36" font-weight="bold" '
        f'text-anchor="middle">{escape(facts.tier or "–")}</text>'
        f'<text x="314" y="96" fill="#444" font-size="9" text-anchor="middle">energy tier</text>'
        f'<text x="14" y="24" fill="#111" font-size="12" font-weight="bold">'
        f'{escape(_shorten(facts.entry_id, 40))}</text>'
        f'<text x="14" y="56" fill="#111" font-size="24" font-weight="bold">{escape(big)}</text>'
        f'<text x="14" y="76" fill="#333" font-size="11">top-1 {facts.top1:.2f} % · '
        f'ImageNet inference</text>'
        f'<text x="14" y="94" fill="#333" font-size="10">{escape(where)}'
        f'{" · " + escape(date) if date else ""}</text>'
        '</g></svg>\n'
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def entry_facts(data: Boards) -> list[BadgeFacts]:
    """Every entry's facts on the headline board (energy and tier absent when unmeasured)."""
    board = data.headline_board
    hardware, _, scenario = (board or "").partition("--")
    facts = []
    for entry in data.entries:
        result = entry.results.get(board) if board else None
        if result and result.score and result.energy_j is not None:
            facts.append(BadgeFacts(entry.id, entry.top1, result.energy_j, result.score.tier,
                                    hardware, scenario, str(result.record.measured_at)[:10]))
        else:
            facts.append(BadgeFacts(entry.id, entry.top1))
    return facts


def badge_files(data: Boards) -> dict[str, str]:
    """``badges/<id>.svg`` and ``badges/<id>-label.svg`` for every entry."""
    files = {}
    for facts in entry_facts(data):
        files[f"badges/{facts.entry_id}.svg"] = badge_svg(facts)
        files[f"badges/{facts.entry_id}-label.svg"] = label_svg(facts)
    return files


def headline_title(data: Boards) -> str | None:
    """The board the badges describe, for the model page's text."""
    return board_title(data.headline_board) if data.headline_board else None
