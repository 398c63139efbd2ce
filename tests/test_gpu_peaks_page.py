"""The Methodology page prints the plausibility floor's figures with their sources (issue 21)."""

from __future__ import annotations

import html
from pathlib import Path

from leaderboard.gpu_peaks import GPU_PEAKS
from leaderboard.record_rules import energy_floor_j


def test_the_methodology_page_links_every_figure_to_its_document(synthetic_site: Path) -> None:
    page = html.unescape((synthetic_site / "methodology.html").read_text("utf-8"))
    assert "with sparsity" in page and "twice the dense rate" in page
    for key, peak in GPU_PEAKS.items():
        assert f'href="{peak.url}">{peak.document}</a>' in page, key
        assert peak.figures in page, key
        for url in peak.checked_against:
            assert f'href="{url}"' in page, (key, url)
        if peak.unverified:
            assert peak.unverified in page.replace("\n", " "), key
        # the floor the page states is the one the rules apply (ResNet-50 at 224 px)
        assert f"{energy_floor_j(2 * 4.11e9, key) * 1e3:.2f}" in page, key
