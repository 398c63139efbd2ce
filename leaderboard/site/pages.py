"""One function per kind of page: SiteData -> (docs path, Markdown) plus the files it needs."""

from __future__ import annotations

import math
import typing
from collections.abc import Iterator
from typing import Any

import yaml
from pydantic import BaseModel

from leaderboard.analysis_records import (
    HEADLINE_VARIANT,
    LAYER_TYPES,
    ProfileRecord,
    SweepRecord,
    sweep_variants,
)
from leaderboard.findings import (
    AIC_SUPPORT,
    ALL_ENTRIES,
    FACTORS,
    FINDINGS_COMMAND,
    MEASURE_BOTH_COMMAND,
    MEASURE_COMMAND,
    MIN_GROUP_ENTRIES,
    MODELS,
    NEAR_FRONTIER_FACTOR,
    Findings,
    FrontierShare,
    curve_points,
)
from leaderboard.records import PROTOCOL_VERSION
from leaderboard.scoring import (
    ACCURACY_BAND_POINTS,
    SCORING_VERSION,
    TIER_BOUNDS,
    TIERS,
    tier_description,
)
from leaderboard.site import breakdown, charts
from leaderboard.site.board_pages import board_page
from leaderboard.site.cost import CURRENCY
from leaderboard.site.cost import DEFAULTS as COST_DEFAULTS
from leaderboard.site.data import Entry, SiteData
from leaderboard.site.render import (
    PageAssets,
    board_md,
    board_title,
    entry_chart_row,
    environment,
    fmt,
    hardware_title,
    model_path,
)
from leaderboard.submission import Submission

Page = tuple[str, str, dict[str, str]]  # docs path, markdown, extra files (path -> text)


def _render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


CATALOG_COLUMNS = [
    {"key": "id", "label": "Model", "type": "link", "href": 11, "searchable": True,
     "narrow": True},
    {"key": "family", "label": "Family", "type": "text", "searchable": True,
     "all": "all families"},
    {"key": "top1", "label": "Top-1 %", "type": "num", "digits": 2, "descending": True,
     "narrow": True},
    {"key": "top5", "label": "Top-5 %", "type": "num", "digits": 2, "descending": True},
    {"key": "accuracy", "label": "Accuracy", "type": "text",
     "help": "claimed, or verified/rejected by the validator"},
    {"key": "params_m", "label": "Params (M)", "type": "num", "digits": 1},
    {"key": "gmacs", "label": "GMACs", "type": "num", "digits": 2},
    {"key": "energy_j", "label": "J/image", "type": "num", "sig": 3,
     "missing": "awaiting measurement", "narrow": True},
    {"key": "tier", "label": "Tier", "type": "tier", "all": "all tiers", "narrow": True},
    {"key": "score", "label": "Score", "type": "num", "digits": 0, "descending": True},
    {"key": "vs_resnet50", "label": "× ResNet-50", "type": "num", "digits": 2,
     "help": "energy relative to ResNet-50 on the same board"},
]


MEASURED_KEYS = frozenset({"energy_j", "tier", "score", "vs_resnet50"})


def _catalog_row(entry: Entry, board: str | None, prefix: str) -> list[Any]:
    result = entry.results.get(board) if board else None
    score = result.score if result else None
    return [
        entry.id, entry.family, round(entry.top1, 3),
        None if entry.top5 is None else round(entry.top5, 3),
        entry.accuracy_status, entry.params_m, entry.gmacs,
        result.energy_j if score else None,
        score.tier if score else None,
        round(score.score, 1) if score else None,
        round(result.relative_to_reference, 3) if score and result.relative_to_reference else None,
        prefix + model_path(entry.id),
    ]


def leaderboard_pages(data: SiteData) -> Iterator[Page]:
    """The all-entries leaderboard and one page per board."""
    headline = data.headline_board
    assets = PageAssets(prefix="../")
    rows = [_catalog_row(e, headline, "../") for e in data.entries]
    columns = CATALOG_COLUMNS
    if not headline:
        # nothing measured: no energy, tier or score columns of "awaiting measurement" cells
        keep = [i for i, c in enumerate(CATALOG_COLUMNS) if c["key"] not in MEASURED_KEYS]
        columns = [dict(CATALOG_COLUMNS[i]) for i in keep]
        columns[0]["href"] = len(keep)
        rows = [[row[i] for i in keep] + [row[-1]] for row in rows]
    table = {
        "columns": columns,
        "rows": rows,
        "sort": "score" if headline else "top1",
        "then": "top1",
        "descending": True,
        "filters": ["family", "tier"] if headline else ["family"],
        "caption": "Every entry",
    }
    boards = [{"title": board_title(b), "link": f"{b}.md"} for b in data.boards]
    intro = (f"All {len(data.entries):,} entries. Energy, tier and score are from the headline "
             f"board, **{board_title(headline)}**; entries without a record there are awaiting "
             "measurement." if headline else
             f"All {len(data.entries):,} entries. No energy has been measured yet: every entry "
             "is **awaiting measurement** and has no tier. Accuracy is as claimed.")
    yield "leaderboard/index.md", _render(
        "leaderboard.md.j2", title="Leaderboard", intro=intro, boards=boards,
        filters=" or ".join(table["filters"]),
        table="catalog", data_src=assets.table("catalog", table), prefix="../",
    ), assets.files
    for board in data.boards:
        yield board_page(data, board)


def model_page_body(entry: Entry, data: SiteData, site_url: str) -> str:
    """The HTML body of an entry's page: facts, energy per board, accuracy, badge, provenance."""
    prefix = "../"
    by_id = data.by_id()
    results, provenance, measured_accuracy = [], [], []
    for board in sorted(entry.results):
        result = entry.results[board]
        record, score, energy = result.record, result.score, result.record.energy
        cheaper = None
        if score and score.cheaper_alternative:
            alt_entry = by_id[score.cheaper_alternative]
            cheaper = {
                "id": alt_entry.id,
                "link": f"{alt_entry.id}.html",
                "top1": alt_entry.top1,
                "energy": fmt(score.frontier_energy_j, ".3g"),
                "factor": fmt(score.excess_factor, ".2f"),
            }
        results.append({
            "title": board_title(board),
            "link": f"{prefix}{board_md(board)[:-3]}.html",
            "energy_j": energy.gross_j_per_image if energy else None,
            "energy": (f"{energy.gross_j_per_image:.4g} ({energy.ci95_low_j:.4g}–"
                       f"{energy.ci95_high_j:.4g})") if energy else "—",
            "tier": score.tier if score else None,
            "score": fmt(score.score if score else None, ".0f"),
            "excess": fmt(score.excess_factor if score else None, ".2f") + ("×" if score else ""),
            "relative": fmt(result.relative_to_reference, ".2f") +
                        ("×" if result.relative_to_reference else ""),
            "throughput": fmt(record.performance.throughput_img_s
                              if record.performance else None, ",.0f"),
            "batch": record.batch_size,
            "status": record.status + (f" ({'; '.join(record.reasons)})" if record.reasons else ""),
            "cheaper": cheaper,
            "random_init": record.weights.kind == "random-init",
        })
        if record.accuracy:
            measured_accuracy.append({
                "board": board_title(board), "top1": record.accuracy.top1,
                "top5": record.accuracy.top5, "verdict": record.accuracy.verdict,
                "images": record.accuracy.images, "delta": record.accuracy.claim_delta_top1,
            })
        prov = record.provenance
        provenance.append({"title": f"{board_title(board)}, measured {record.measured_at}",
                           "rows": [(k, str(v)) for k, v in [
                               ("GPU", prov.gpu_name), ("driver", prov.driver), ("CUDA", prov.cuda),
                               ("torch", prov.torch), ("timm", prov.timm),
                               ("nvidia-ml-py", prov.nvidia_ml_py),
                               ("validator", prov.validator_version), ("git", prov.git_sha),
                               ("power limit (W)", prov.power_limit_w),
                               ("SM clock (MHz)", prov.sm_clock_mhz),
                               ("temperature (°C)", prov.temperature_c),
                               ("throttle reasons", ", ".join(prov.throttle_reasons) or "none"),
                               ("precision", record.precision),
                               ("input shape", "×".join(map(str, record.input_shape))),
                               ("weights", record.weights.kind + (
                                   f" sha256 {record.weights.sha256[:16]}…"
                                   if record.weights.sha256 else "")),
                               ("windows", energy.windows if energy else None),
                               ("CV", f"{energy.cv:.2%}" if energy else None),
                               ("idle power (W)", energy.idle_power_w if energy else None),
                               ("protocol", record.protocol_version),
                           ] if v is not None]})
    submission = entry.submission
    evaluation = submission.eval
    input_desc = ", ".join(part for part in [
        f"{evaluation.img_size} px" if evaluation and evaluation.img_size else "timm default size",
        f"crop {evaluation.crop_pct:g}" if evaluation and evaluation.crop_pct else "",
        evaluation.interpolation if evaluation and evaluation.interpolation else "",
    ] if part)
    weights = submission.model.weights
    if weights.hf_hub:
        weights_desc = (f"Hugging Face Hub {weights.hf_hub.repo} "
                        + (f"@ {weights.hf_hub.revision[:12]}" if weights.hf_hub.revision
                           else "(not pinned yet)"))
    else:
        weights_desc = f"{weights.url.url} " + (
            f"sha256 {weights.url.sha256[:12]}…" if weights.url.sha256 else "(not pinned yet)")
    base = site_url.rstrip("/") + "/" if site_url else ""
    # Most entries have neither: skip the look-ups so their pages cost what they did before.
    profile = breakdown.entry_profile(entry, data.headline_hardware) if entry.profiles else None
    sweep = breakdown.entry_sweep(entry, data.headline_hardware) if entry.sweeps else {}
    return _render(
        "model.html.j2", e=entry, prefix=prefix, results=results, provenance=provenance,
        measured_accuracy=measured_accuracy, input_desc=input_desc, weights_desc=weights_desc,
        badge_url=f"{base}badges/{entry.id}.svg", page_url=f"{base}{model_path(entry.id)}",
        label_url=f"{base}badges/{entry.id}-label.svg", currency=CURRENCY,
        badge_board=board_title(data.headline_board) if data.headline_board else None,
        absolute_urls=bool(base),
        profile=_profile_context(profile) if profile else None,
        savings=_savings_context(sweep) if sweep else None,
    )


def mj(energy_j: float | None) -> str:
    """Joules as millijoules, three significant figures, never in exponent form."""
    if energy_j is None:
        return "—"
    value = energy_j * 1000.0
    if value == 0:
        return "0"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2 if abs(value) >= 0.1 else 4
    return f"{value:,.{digits}f}"


def percent_change(change: float | None) -> str:
    """A relative change as a signed percentage (negative is a saving)."""
    if change is None:
        return "—"
    return f"{change * 100:+,.{0 if abs(change) >= 1 else 1}f} %".replace("-", "−")


def layer_legend() -> list[dict[str, str]]:
    """Every layer type with its colour, in drawing order."""
    return [{"type": t, "color": c} for t, c in zip(LAYER_TYPES, charts.LAYER_COLORS, strict=True)]


def _profile_context(record: ProfileRecord) -> dict[str, Any]:
    """What the model page's "Where the energy goes" section shows of one profile."""
    context: dict[str, Any] = {
        "hardware": hardware_title(record.hardware),
        "usable": breakdown.usable_profile(record),
        "status": record.status + (f" ({'; '.join(record.reasons)})" if record.reasons else ""),
        "measured_at": record.measured_at,
        "precision": record.precision,
        "batch": record.batch_size,
        "busy": fmt(record.busy_fraction, ".0%"),
        "kind": breakdown.KIND_LABELS.get(record.architecture_kind or "", "not classified"),
        "batches": record.profiled_batches,
        "kernels": record.kernels_per_batch,
        "energy_mj": mj(record.energy.gross_j_per_image if record.energy else None),
    }
    segments, rows = [], []
    by_type = {s.layer_type: s for s in record.shares}
    for layer_type, color, text_color in zip(LAYER_TYPES, charts.LAYER_COLORS,
                                             charts.LAYER_TEXT_COLORS, strict=True):
        share = by_type.get(layer_type)
        if share is None:
            continue
        energy = mj(share.energy_j_per_image)
        rows.append({"type": layer_type, "color": color, "share": f"{share.share:.1%}",
                     "mj": energy, "time_ms": f"{share.device_time_ms:.3g}"})
        if share.share > 0:
            segments.append({
                "type": layer_type, "color": color, "text_color": text_color,
                "width": f"{share.share * 100:.3f}",
                # a label only where it fits; every segment has its title and aria-label
                "text": f"{share.share:.0%}" if share.share >= 0.07 else "",
                "title": f"{layer_type}: {share.share:.1%} of kernel time, {energy} mJ/image",
            })
    context["segments"], context["rows"] = segments, rows
    context["ablations"] = [{
        "type": a.layer_type, "modules": a.modules_replaced,
        "predicted": mj(a.predicted_saving_j), "measured": mj(a.measured_saving_j),
        "agreement": fmt(a.agreement, ".2f") + ("×" if a.agreement is not None else ""),
    } for a in record.ablations]
    return context


def _savings_context(sweep: dict[str, SweepRecord]) -> dict[str, Any]:
    """What the model page's "How to save" table shows of one hardware's sweep."""
    rows = []
    for row in breakdown.saving_rows(sweep):
        record, variant = row.record, row.variant
        label = variant.label
        if record.batch_size != variant.batch_size:
            label += f" (ran at batch {record.batch_size})"
        if row.energy_j is None:
            label += f" — {record.status}" + (f": {'; '.join(record.reasons)}" if record.reasons
                                               else "")
        if variant.is_headline:
            top1 = (f"reference ({record.accuracy.top1:.2f} %)" if record.accuracy
                    else "not measured")
        else:
            top1 = "not measured" if row.top1_delta is None else f"{row.top1_delta:+.2f}"
        rows.append({"label": label, "headline": variant.is_headline, "mj": mj(row.energy_j),
                     "change": "reference" if variant.is_headline else percent_change(row.change),
                     "saving": row.change is not None and row.change < 0,
                     "throughput": fmt(row.throughput_img_s, ",.0f"),
                     "top1": top1.replace("-", "−")})
    hardware = next(iter(sweep.values())).hardware
    return {"hardware": hardware_title(hardware), "rows": rows,
            "has_headline": any(r["headline"] for r in rows),
            "missing": len(sweep_variants()) - sum(r.variant in sweep_variants()
                                                   for r in sweep.values())}


ABLATION_COLUMNS = [
    {"key": "id", "label": "Model", "type": "link", "href": 7, "searchable": True},
    {"key": "hardware", "label": "Hardware", "type": "text"},
    {"key": "layer_type", "label": "Replaced by identity", "type": "text",
     "all": "all layer types"},
    {"key": "modules", "label": "Modules", "type": "num", "digits": 0},
    {"key": "predicted_mj", "label": "Predicted saving (mJ)", "type": "num", "sig": 3},
    {"key": "measured_mj", "label": "Measured saving (mJ)", "type": "num", "sig": 3},
    {"key": "agreement", "label": "Measured / predicted", "type": "num", "digits": 2},
]


def energy_page(data: SiteData) -> Page:
    """Where the energy goes across entries, whether the attribution holds, what switches save."""
    assets = PageAssets(prefix="")
    hardware = data.headline_hardware
    profiles = [p for e in data.entries if e.profiles
                and (p := breakdown.entry_profile(e, hardware)) is not None]
    usable = [p for p in profiles if breakdown.usable_profile(p)]
    kinds = breakdown.kind_shares(usable)
    chart_html = ""
    if kinds:
        rows = [{"kind": f"{k.label} ({k.entries})", "layer_type": t, "order": i,
                 "share": round(k.mean[t], 6), "entries": k.entries}
                for k in kinds for i, t in enumerate(LAYER_TYPES)]
        chart = charts.layer_share_chart(rows, LAYER_TYPES,
                                         "Mean share of inference energy by layer type")
        chart_html = assets.chart(
            "layer-shares", chart, "mean share of inference energy per layer type, by architecture",
            min_height_px=charts.LAYER_CHART_ROW_HEIGHT * len(kinds) + 110)
    ablations = breakdown.ablation_rows(usable)
    ablation_src = ""
    if ablations:
        ablation_src = assets.table("ablations", {
            "columns": ABLATION_COLUMNS, "sort": "agreement", "descending": False,
            "filters": ["layer_type"],
            "rows": [[r.entry_id, hardware_title(r.hardware), r.layer_type, r.modules_replaced,
                      round(r.predicted_j * 1000, 6), round(r.measured_j * 1000, 6),
                      None if r.agreement is None else round(r.agreement, 4),
                      model_path(r.entry_id)] for r in ablations],
        })
    agreement = breakdown.median_agreement(ablations)
    switches = [{
        "label": s.variant.label, "entries": s.entries,
        "median": percent_change(s.median_change), "best": percent_change(s.best_change),
        "best_id": s.best_entry_id, "best_link": model_path(s.best_entry_id),
        "saving": s.median_change < 0,
    } for s in breakdown.switch_savings(data.entries, hardware)]
    text = _render(
        "energy.md.j2", profiled=len(profiles), usable=len(usable),
        unclassified=sum(p.architecture_kind is None for p in usable),
        kinds=[{"label": k.label, "entries": k.entries,
                "shares": [f"{k.mean[t]:.1%}" for t in LAYER_TYPES]} for k in kinds],
        layer_types=LAYER_TYPES, legend=layer_legend(), chart_html=chart_html,
        check=breakdown.convolution_check(usable), ablations=len(ablations),
        ablation_src=ablation_src,
        agreement=fmt(agreement, ".2f"), switches=switches,
        swept=sum(bool(e.sweeps) for e in data.entries),
        hardware=hardware_title(hardware) if hardware else None,
    )
    return "energy.md", text, assets.files


def methodology_page() -> Page:
    """How energy is measured and scored, with the constants from the code."""
    tiers, low = [], 1.0
    for tier, high in TIER_BOUNDS:
        tiers.append((tier, f"{low:g}", f"{high:g}", tier_description(tier)))
        low = high
    tiers.append((TIERS[-1], f"above {low:g}", "∞", tier_description(TIERS[-1])))
    text = _render("methodology.md.j2", tiers=tiers, band=ACCURACY_BAND_POINTS,
                   scoring_version=SCORING_VERSION, protocol_version=PROTOCOL_VERSION,
                   layer_types=LAYER_TYPES, variants=sweep_variants(),
                   headline=HEADLINE_VARIANT.label + ", NCHW, eager",
                   cost_defaults=COST_DEFAULTS, currency=CURRENCY)
    return "methodology.md", text, {}


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


def _type_name(annotation: Any) -> str:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _type_name(args[0])
    if typing.get_origin(annotation) is typing.Literal:
        return " or ".join(f"`{a!r}`" for a in args)
    if args:
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in args else "")
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return {str: "text", int: "integer", float: "number", bool: "true/false"}.get(
        annotation, getattr(annotation, "__name__", str(annotation)))


def schema_blocks(model: type[BaseModel] = Submission) -> list[dict[str, Any]]:
    """Every model of the submission schema with its fields, for the reference tables."""
    blocks: list[dict[str, Any]] = []
    queue, seen = [model], set()
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        fields = []
        for name, info in current.model_fields.items():
            description = info.description or ""
            for meta in info.metadata:
                pattern = getattr(meta, "pattern", None)
                if pattern:
                    description += f" Pattern `{pattern}`."
                for bound, word in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
                    if getattr(meta, bound, None) is not None:
                        description += f" {word} {getattr(meta, bound)}."
            fields.append({"name": name, "type": _type_name(info.annotation),
                           "required": info.is_required(), "description": description.strip()})
            for candidate in (info.annotation, *typing.get_args(info.annotation)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    queue.append(candidate)
        blocks.append({"name": current.__name__,
                       "doc": (current.__doc__ or "").strip().splitlines()[0], "fields": fields})
    return blocks


def submit_page(timm_version: str) -> Page:
    """How to submit, with a worked example and the schema reference generated from code."""
    from leaderboard.measure.campaign import SCENARIOS
    from leaderboard.policy import policy_table
    from leaderboard.report import REPORT_MARKER, UNSTABLE_CV

    example = yaml.safe_dump(EXAMPLE_SUBMISSION, sort_keys=False).strip()
    text = _render("submit.md.j2", example=example, blocks=schema_blocks(),
                   timm_version=timm_version, policy_rows=policy_table(),
                   scenarios=SCENARIOS, protocol_version=PROTOCOL_VERSION,
                   unstable_cv=f"{UNSTABLE_CV:.0%}", report_marker=REPORT_MARKER)
    return "submit.md", text, {}


def downloads_page(data: SiteData, csv_rows: int, columns: list[tuple[str, str]],
                   analysis_rows: dict[str, int] | None = None) -> Page:
    """Links to the CSV and JSON downloads."""
    from leaderboard.site.files import PROFILE_CSV_COLUMNS, SWEEP_CSV_COLUMNS

    text = _render("downloads.md.j2", csv_rows=csv_rows, entries=len(data.entries),
                   columns=columns, analysis_rows=analysis_rows or {"profiles": 0, "sweep": 0},
                   profile_columns=PROFILE_CSV_COLUMNS, sweep_columns=SWEEP_CSV_COLUMNS,
                   scoring_version=SCORING_VERSION,
                   protocol_version=PROTOCOL_VERSION, timm_version=data.timm_version)
    return "downloads.md", text, {}


FRONTIER_PARTS = ("on the frontier", f"within {NEAR_FRONTIER_FACTOR:g}× of it")


def findings_page(data: SiteData, found: Findings) -> Page:
    """What the measurements say: fitted curves, correlations, batching, frontier shares.

    Every number comes from ``found`` (:func:`leaderboard.site.findings_data.site_findings`),
    the same object `leaderboard findings` prints.
    """
    assets = PageAssets(prefix="")
    board = found.board
    rows_by_id = {e.id: entry_chart_row(e, "") for e in data.entries}
    text = _render(
        "findings.md.j2",
        board=board_title(board) if board else None,
        command=FINDINGS_COMMAND,
        measure_command=MEASURE_COMMAND,
        measure_both_command=MEASURE_BOTH_COMMAND,
        fits=_fits_context(found, rows_by_id, assets),
        correlations=_correlations_context(found, assets),
        savings=_savings_finding_context(found, rows_by_id, assets),
        frontier=_frontier_context(found, assets),
        min_group=MIN_GROUP_ENTRIES,
        band=ACCURACY_BAND_POINTS,
        near=f"{NEAR_FRONTIER_FACTOR:g}",
        aic_support=f"{AIC_SUPPORT:g}",
    )
    return "findings.md", text, assets.files


def _fits_context(found: Findings, rows_by_id: dict[str, dict[str, Any]],
                  assets: PageAssets) -> dict[str, Any]:
    finding = found.fits
    context: dict[str, Any] = {"ready": finding.ready, "sentence": finding.sentence,
                               "models": [{"label": m.label, "formula": m.formula}
                                          for m in MODELS]}
    if not finding.ready or found.board is None:
        return context
    # the curves span the accuracies measured, not beyond: a fit says nothing past its data
    points = [{**rows_by_id[e.entry_id], "energy_j": e.energy_j} for e in found.entries]
    top1s = [e.top1 for e in found.entries if e.top1 < 100.0]  # as fit_curves takes them
    low, high = min(top1s), max(top1s)
    curves = [{"model": fit.model.label, "top1": round(a, 4), "energy_j": energy}
              for fit in finding.fits for a, energy in curve_points(fit, low, high)]
    labels = [m.label for m in MODELS]
    chart = charts.fit_chart(points, curves, labels,
                             f"Accuracy against energy with fitted curves — {board_title(found.board)}")
    context["chart_html"] = assets.chart("findings-fits", chart,
                                         "accuracy against energy with three fitted curves")
    context["rows"] = [{
        "label": fit.model.label, "formula": fit.model.formula,
        "params": ", ".join(f"{k} = {v:.4g}" for k, v in fit.params.items()),
        "r2": fmt(fit.r2, ".3f"), "rmse": f"{fit.rmse:.3f}", "factor": f"{math.exp(fit.rmse):.2f}",
        "aic": f"{fit.aic:.1f}", "delta": f"{finding.delta_aic(fit):.1f}",
        "best": fit is finding.best,
    } for fit in finding.fits]
    return context


def _correlations_context(found: Findings, assets: PageAssets) -> dict[str, Any]:
    finding = found.correlations
    labels = dict(FACTORS)
    groups = [ALL_ENTRIES, *finding.families]
    table = []
    for group in groups:
        cells = [finding.get(group, factor) for factor, _ in FACTORS]
        table.append({"group": group, "cells": [
            {"rho": fmt(c.rho, ".2f") if c else "—", "n": c.n if c else 0} for c in cells]})
    context: dict[str, Any] = {"ready": finding.ready, "sentence": finding.sentence,
                               "factors": [label for _, label in FACTORS], "rows": table}
    if finding.ready:
        cells = [{"group": r.group, "factor": labels[r.factor], "n": r.n,
                  "rho": None if r.rho is None else round(r.rho, 4),
                  "label": fmt(r.rho, ".2f", f"n={r.n}")} for r in finding.rows]
        chart = charts.correlation_chart(cells, groups, [label for _, label in FACTORS],
                                         "Spearman ρ of energy per image with each factor")
        context["chart_html"] = assets.chart(
            "findings-correlations", chart, "rank correlation of energy with compute figures",
            min_height_px=charts.FINDINGS_ROW_HEIGHT * len(groups) + 90)
    return context


def _savings_finding_context(found: Findings, rows_by_id: dict[str, dict[str, Any]],
                             assets: PageAssets) -> dict[str, Any]:
    finding = found.savings
    stats = ([finding.overall] if finding.overall else []) + finding.families
    context: dict[str, Any] = {
        "ready": finding.ready, "sentence": finding.sentence, "pairs": finding.entries,
        "precisions": " and ".join(finding.precisions) or "—",
        "offline_batches": ", ".join(str(b) for b in finding.offline_batches) or "—",
        "rows": [{"group": s.group, "n": s.n, "median": f"{s.median:.2f}",
                  "q1": f"{s.q1:.2f}", "q3": f"{s.q3:.2f}", "low": f"{s.low:.2f}",
                  "high": f"{s.high:.2f}"} for s in stats],
    }
    if finding.ready:
        groups = [s.group for s in stats]
        points = []
        for pair in finding.pairs:
            for group in (ALL_ENTRIES, pair.family):
                if group in groups:
                    points.append({**rows_by_id[pair.entry_id], "group": group,
                                   "ratio": round(pair.ratio, 6)})
        chart = charts.ratio_chart(
            [{"group": s.group, "n": s.n, "median": s.median, "q1": s.q1, "q3": s.q3,
              "low": s.low, "high": s.high} for s in stats], points, groups,
            "Energy per image at batch 1 over batch 256")
        context["chart_html"] = assets.chart(
            "findings-savings", chart, "batch-1 over batch-256 energy per family",
            min_height_px=int(charts.FINDINGS_ROW_HEIGHT * 1.6 * len(groups)) + 90)
    return context


def _frontier_context(found: Findings, assets: PageAssets) -> dict[str, Any]:
    finding = found.frontier
    shares = ([finding.overall] if finding.overall else []) + finding.families
    context: dict[str, Any] = {
        "ready": finding.ready, "sentence": finding.sentence,
        "year_sentence": finding.year_sentence,
        "rows": [_share_row(s) for s in shares],
        "years": [_share_row(s) for s in finding.years],
    }
    if finding.ready:
        groups = [s.group for s in shares] + [f"year {s.group}" for s in finding.years]
        rows = []
        for share in [*shares, *finding.years]:
            group = share.group if share in shares else f"year {share.group}"
            for order, (part, count) in enumerate(
                    zip(FRONTIER_PARTS, (share.on_frontier, share.near - share.on_frontier),
                        strict=True)):
                rows.append({"group": group, "part": part, "order": order, "count": count,
                             "n": share.n, "fraction": round(count / share.n, 6)})
        chart = charts.frontier_share_chart(rows, groups, FRONTIER_PARTS,
                                            "Share of entries on or near the frontier")
        context["chart_html"] = assets.chart(
            "findings-frontier", chart, "share of entries on or near the frontier per family",
            min_height_px=charts.FINDINGS_ROW_HEIGHT * len(groups) + 110)
    return context


def _share_row(share: FrontierShare) -> dict[str, Any]:
    return {"group": share.group, "n": share.n, "on": share.on_frontier,
            "on_fraction": f"{share.on_fraction:.0%}", "near": share.near,
            "near_fraction": f"{share.near_fraction:.0%}"}
