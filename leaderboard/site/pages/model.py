"""One page per model: facts, energy on every board, accuracy, badge, provenance."""

from __future__ import annotations

from leaderboard.boards import Boards, Entry
from leaderboard.site import breakdown
from leaderboard.site.cost import CURRENCY
from leaderboard.site.pages.common import render_template
from leaderboard.site.pages.energy import profile_context, savings_context
from leaderboard.site.render import board_md, board_title, fmt, model_path
from leaderboard.site.tables import shown_score
from leaderboard.vocabulary import ACCURACY_BAND_POINTS


def model_page_body(entry: Entry, data: Boards, site_url: str) -> str:
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
            "score": fmt(shown_score(score.score) if score else None, ".1f"),
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
    return render_template(
        "model.html.j2", e=entry, prefix=prefix, results=results, provenance=provenance,
        band=ACCURACY_BAND_POINTS,
        measured_accuracy=measured_accuracy, input_desc=input_desc, weights_desc=weights_desc,
        badge_url=f"{base}badges/{entry.id}.svg", page_url=f"{base}{model_path(entry.id)}",
        label_url=f"{base}badges/{entry.id}-label.svg", currency=CURRENCY,
        badge_board=board_title(data.headline_board) if data.headline_board else None,
        absolute_urls=bool(base),
        profile=profile_context(profile) if profile else None,
        savings=savings_context(sweep) if sweep else None,
    )
