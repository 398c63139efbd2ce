"""Where the energy goes: the Energy page and the profile and sweep parts of model pages."""

from __future__ import annotations

from typing import Any

from leaderboard.analysis_records import LAYER_TYPES, ProfileRecord, SweepRecord, sweep_variants
from leaderboard.boards import Boards
from leaderboard.site import breakdown, charts
from leaderboard.site.pages.common import Page, render_template
from leaderboard.site.render import PageAssets, fmt, hardware_title, model_path
from leaderboard.site.tables import LINK, table_spec


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


def profile_context(record: ProfileRecord) -> dict[str, Any]:
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


def savings_context(sweep: dict[str, SweepRecord]) -> dict[str, Any]:
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
    {"key": "id", "label": "Model", "type": "link", "searchable": True},
    {"key": "hardware", "label": "Hardware", "type": "text"},
    {"key": "layer_type", "label": "Replaced by identity", "type": "text",
     "all": "all layer types"},
    {"key": "modules", "label": "Modules", "type": "num", "digits": 0},
    {"key": "predicted_mj", "label": "Predicted saving (mJ)", "type": "num", "sig": 3},
    {"key": "measured_mj", "label": "Measured saving (mJ)", "type": "num", "sig": 3},
    {"key": "agreement", "label": "Measured / predicted", "type": "num", "digits": 2},
]


def energy_page(data: Boards) -> Page:
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
        ablation_src = assets.table("ablations", table_spec(
            ABLATION_COLUMNS, [{
                "id": r.entry_id, "hardware": hardware_title(r.hardware),
                "layer_type": r.layer_type, "modules": r.modules_replaced,
                "predicted_mj": round(r.predicted_j * 1000, 6),
                "measured_mj": round(r.measured_j * 1000, 6),
                "agreement": None if r.agreement is None else round(r.agreement, 4),
                LINK: model_path(r.entry_id),
            } for r in ablations],
            sort="agreement", descending=False, filters=["layer_type"]))
    agreement = breakdown.median_agreement(ablations)
    switches = [{
        "label": s.variant.label, "entries": s.entries,
        "median": percent_change(s.median_change), "best": percent_change(s.best_change),
        "best_id": s.best_entry_id, "best_link": model_path(s.best_entry_id),
        "saving": s.median_change < 0,
    } for s in breakdown.switch_savings(data.entries, hardware)]
    text = render_template(
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
