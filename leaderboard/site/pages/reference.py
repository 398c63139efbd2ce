"""The reference pages: methodology, how to submit (schema from code), downloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from leaderboard.analysis_records import HEADLINE_VARIANT, LAYER_TYPES, sweep_variants
from leaderboard.boards import Boards
from leaderboard.scoring import TIER_BOUNDS, TIERS, tier_description, tier_for
from leaderboard.site.cost import CURRENCY
from leaderboard.site.cost import DEFAULTS as COST_DEFAULTS
from leaderboard.site.pages.common import Page, render_template
from leaderboard.submission import Submission, schema_blocks
from leaderboard.vocabulary import (
    ACCURACY_BAND_POINTS,
    ACCURACY_TOLERANCE_POINTS,
    HEADLINE_PRECISION,
    PROTOCOL_VERSION,
    REPORT_MARKER,
    SCENARIO_BATCH_SIZE,
    SCENARIOS,
    SCORING_VERSION,
    UNSTABLE_CV,
)


def methodology_page() -> Page:
    """How energy is measured and scored, with the constants from the code."""
    tiers, low = [], 1.0
    for tier, high in TIER_BOUNDS:
        tiers.append((tier, f"{low:g}", f"{high:g}", tier_description(tier)))
        low = high
    tiers.append((TIERS[-1], f"above {low:g}", "∞", tier_description(TIERS[-1])))
    text = render_template(
        "methodology.md.j2", tiers=tiers, band=ACCURACY_BAND_POINTS,
        tolerance=ACCURACY_TOLERANCE_POINTS, unstable_cv=f"{UNSTABLE_CV:.0%}",
        batch=SCENARIO_BATCH_SIZE, precision=HEADLINE_PRECISION,
        example_tier=tier_for(0.50 / 0.20),  # the worked example's excess factor
        scoring_version=SCORING_VERSION, protocol_version=PROTOCOL_VERSION,
        layer_types=LAYER_TYPES, variants=sweep_variants(),
        headline=HEADLINE_VARIANT.label + ", NCHW, eager",
        cost_defaults=COST_DEFAULTS, currency=CURRENCY, floor=_floor_table())
    return "methodology.md", text, {}


def _floor_table() -> dict[str, object]:
    """The plausibility floor's figures and sources (leaderboard.gpu_peaks), for the page."""
    from leaderboard.gpu_peaks import GPU_PEAKS
    from leaderboard.record_rules import EFFICIENCY_MARGIN, energy_floor_j
    from leaderboard.vocabulary import POWER_LIMIT_FACTOR

    resnet50_flops = 2 * 4.11e9  # timm's resnet50 at 224 px: 4.11 GMACs
    rows = [{"key": key, "peak_tflops": f"{peak.peak_tflops:,.1f}".removesuffix(".0"),
             "tflop_per_j": f"{peak.flops_per_j / 1e12:.2f}",
             "basis": f"{peak.efficient_tflops:,.1f}".removesuffix(".0")
             + f" / {peak.efficient_power_w:g} W",
             "resnet_mj": f"{energy_floor_j(resnet50_flops, key) * 1e3:.2f}",
             "figures": peak.figures, "document": peak.document, "url": peak.url,
             "checked_against": peak.checked_against, "unverified": peak.unverified}
            for key, peak in GPU_PEAKS.items()]
    return {"margin": f"{EFFICIENCY_MARGIN:g}", "power_factor": f"{POWER_LIMIT_FACTOR:g}",
            "rows": rows}


EXAMPLE_SUBMISSION = {
    "schema_version": 1,
    "id": "resnet50.a1_in1k",
    "model": {
        "architecture": "resnet50",
        "weights": {"hf_hub": {"repo": "timm/resnet50.a1_in1k",
                               "revision": "0123456789abcdef0123456789abcdef01234567",
                               "filename": "model.safetensors"}},
        "family": "resnet",
        "paper": "https://arxiv.org/abs/2110.00476",
        "license": "apache-2.0",
    },
    "eval": {"img_size": 224, "crop_pct": 0.95, "interpolation": "bicubic"},
    "claims": {"top1": 80.38, "top5": 94.6, "source": "timm model card"},
    "submitter": {"name": "Ada Lovelace", "github": "ada"},
}


def submit_page(timm_version: str, policy_rows: Sequence[Mapping[str, str]]) -> Page:
    """How to submit, with a worked example and the schema reference generated from code.

    Args:
        timm_version: The timm whose architectures `check` accepts.
        policy_rows: What a submission pull request may change, as
            :func:`leaderboard.policy.policy_table` decides it (the CLI passes it in, so the
            site does not import the policy).
    """
    example = yaml.safe_dump(EXAMPLE_SUBMISSION, sort_keys=False).strip()
    text = render_template("submit.md.j2", example=example, blocks=schema_blocks(Submission),
                           timm_version=timm_version, policy_rows=policy_rows,
                           scenarios=SCENARIOS, protocol_version=PROTOCOL_VERSION,
                           unstable_cv=f"{UNSTABLE_CV:.0%}", report_marker=REPORT_MARKER)
    return "submit.md", text, {}


def downloads_page(data: Boards, csv_rows: int, columns: list[tuple[str, str]],
                   analysis_rows: dict[str, int] | None = None) -> Page:
    """Links to the CSV and JSON downloads."""
    from leaderboard.site.files import PROFILE_CSV_COLUMNS, SWEEP_CSV_COLUMNS

    text = render_template(
        "downloads.md.j2", csv_rows=csv_rows, entries=len(data.entries), columns=columns,
        analysis_rows=analysis_rows or {"profiles": 0, "sweep": 0},
        profile_columns=PROFILE_CSV_COLUMNS, sweep_columns=SWEEP_CSV_COLUMNS,
        scoring_version=SCORING_VERSION, protocol_version=PROTOCOL_VERSION,
        timm_version=data.timm_version)
    return "downloads.md", text, {}
