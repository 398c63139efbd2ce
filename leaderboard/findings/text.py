"""`leaderboard findings` as plain text: each finding's sentence and its table."""

from __future__ import annotations

import math

from leaderboard.findings.all_findings import Findings
from leaderboard.findings.common import ALL_ENTRIES, NEAR_FRONTIER_FACTOR
from leaderboard.findings.rank_correlations import FACTORS


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell; the first left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def findings_text(found: Findings) -> str:
    """Every finding: a heading, the sentence, and the numbers as a table."""
    out = [f"Findings on {found.board or 'no board (nothing measured yet)'}", ""]

    out += ["1. Accuracy against energy (fits of ln E against top-1)", found.fits.sentence]
    if found.fits.ready:
        out += _table(["model", "parameters", "R2", "RMSE ln E", "factor", "AIC", "dAIC"], [
            [f.model.label, ", ".join(f"{k}={v:.4g}" for k, v in f.params.items()),
             _num(f.r2, ".3f"), f"{f.rmse:.3f}", f"{math.exp(f.rmse):.2f}", f"{f.aic:.1f}",
             f"{found.fits.delta_aic(f):.1f}"] for f in found.fits.fits])
    out.append("")

    corr = found.correlations
    out += ["2. Spearman rank correlation of energy with compute", corr.sentence]
    if corr.ready:
        rows = []
        for group in [ALL_ENTRIES, *corr.families]:
            cells = [corr.get(group, factor) for factor, _ in FACTORS]
            rows.append([group, *(f"{_num(c.rho, '.2f')} ({c.n})" if c else "-" for c in cells)])
        out += _table(["entries", *(f"rho {label} (n)" for _, label in FACTORS)], rows)
    out.append("")

    sav = found.savings
    out += ["3. Energy per image, batch 1 / batch 256 (same GPU)", sav.sentence]
    if sav.ready:
        stats = ([sav.overall] if sav.overall else []) + sav.families
        out += _table(["entries", "n", "median", "q1", "q3", "min", "max"], [
            [s.group, str(s.n), f"{s.median:.2f}", f"{s.q1:.2f}", f"{s.q3:.2f}",
             f"{s.low:.2f}", f"{s.high:.2f}"] for s in stats])
    out.append("")

    fr = found.frontier
    out += ["4. Entries on or near the frontier", fr.sentence]
    if fr.ready:
        shares = ([fr.overall] if fr.overall else []) + fr.families
        rows = [[s.group, str(s.n), str(s.on_frontier), f"{s.on_fraction:.0%}", str(s.near),
                 f"{s.near_fraction:.0%}"] for s in shares]
        rows += [[f"year {s.group}", str(s.n), str(s.on_frontier), f"{s.on_fraction:.0%}",
                  str(s.near), f"{s.near_fraction:.0%}"] for s in fr.years]
        out += _table(["entries", "n", "on", "share", f"within {NEAR_FRONTIER_FACTOR:g}x",
                       "share"], rows)
        out.append(fr.year_sentence)
    return "\n".join(out) + "\n"
