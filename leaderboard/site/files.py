"""Non-page outputs: tier badges, CSV/JSON downloads and the vendored vega bundle."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from leaderboard.analysis_records import LAYER_TYPES
from leaderboard.boards import Boards
from leaderboard.findings import Findings
from leaderboard.records import atomic_write_text

CSV_COLUMNS: list[tuple[str, str]] = [
    ("entry_id", "entry id, `architecture.tag[-img_size]`"),
    ("architecture", "timm architecture"),
    ("family", "model family (timm module unless the submission says otherwise)"),
    ("top1", "top-1 used for scoring, percent"),
    ("top5", "top-5, percent"),
    ("accuracy_status", "claimed, verified or rejected"),
    ("params_m", "parameters, millions"),
    ("gmacs", "multiply-accumulates per image, billions"),
    ("img_size", "evaluation input size, px"),
    ("board", "hardware--scenario, empty when not measured"),
    ("status", "record status: ok, unstable, refused, error"),
    ("energy_j_per_image", "median gross energy per image, J"),
    ("ci95_low_j", "95% confidence interval, low, J"),
    ("ci95_high_j", "95% confidence interval, high, J"),
    ("idle_subtracted_j_per_image", "energy per image above idle power, J"),
    ("throughput_img_s", "images per second"),
    ("batch_size", "batch size used"),
    ("precision", "numeric precision"),
    ("weights", "pretrained or random-init"),
    ("excess_factor", "energy / frontier energy"),
    ("score", "efficiency score, 100 / excess factor"),
    ("tier", "efficiency tier A-G"),
    ("cheaper_alternative", "entry that sets the frontier energy"),
    ("relative_to_resnet50", "energy / ResNet-50's energy on the board"),
]


def downloads(data: Boards) -> tuple[dict[str, str], int]:
    """The CSV and JSON downloads and the CSV's row count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in CSV_COLUMNS])
    rows = 0
    entries_json: list[dict[str, Any]] = []
    for entry in data.entries:
        s = entry.submission
        base = [entry.id, s.model.architecture, entry.family, entry.top1, entry.top5,
                entry.accuracy_status, entry.params_m, entry.gmacs,
                s.eval.img_size if s.eval else None]
        boards: dict[str, Any] = {}
        for board in sorted(entry.results) or [None]:
            result = entry.results.get(board) if board else None
            record = result.record if result else None
            energy = record.energy if record else None
            score = result.score if result else None
            writer.writerow(_csv_cells(base + [
                board, record.status if record else None,
                energy.gross_j_per_image if energy else None,
                energy.ci95_low_j if energy else None, energy.ci95_high_j if energy else None,
                energy.idle_subtracted_j_per_image if energy else None,
                record.performance.throughput_img_s if record and record.performance else None,
                record.batch_size if record else None, record.precision if record else None,
                record.weights.kind if record else None,
                score.excess_factor if score else None, score.score if score else None,
                score.tier if score else None, score.cheaper_alternative if score else None,
                result.relative_to_reference if result else None,
            ]))
            rows += 1
            if result and record:
                boards[board] = {
                    "record": record.model_dump(mode="json"),
                    "score": None if score is None else {
                        "excess_factor": score.excess_factor, "score": score.score,
                        "tier": score.tier, "frontier_energy_j": score.frontier_energy_j,
                        "cheaper_alternative": score.cheaper_alternative},
                    "relative_to_resnet50": result.relative_to_reference,
                }
        entries_json.append({"id": entry.id, "family": entry.family, "top1": entry.top1,
                             "accuracy_status": entry.accuracy_status,
                             "submission": s.model_dump(mode="json"), "boards": boards})
    payload = {"timm_version": data.timm_version, "boards": data.boards,
               "entries": entries_json}
    return {
        "downloads/entries.csv": buffer.getvalue(),
        # compact: indent makes json use its pure-Python encoder (5x slower at 1,266 entries)
        "downloads/entries.json": json.dumps(payload, sort_keys=True, separators=(",", ":")) + "\n",
    }, rows


def findings_download(found: Findings) -> dict[str, str]:
    """The Findings page's numbers as JSON: what `leaderboard findings --json` prints."""
    return {"downloads/findings.json": found.to_json()}


PROFILE_CSV_COLUMNS: list[tuple[str, str]] = [
    ("entry_id", "entry id"),
    ("hardware", "GPU the profile ran on"),
    ("architecture_kind", "cnn, vit or hybrid"),
    ("status", "record status"),
    ("precision", "numeric precision of the profiled run"),
    ("batch_size", "batch size of the profiled run"),
    ("energy_j_per_image", "measured gross energy per image, J"),
    ("busy_fraction", "kernel time over wall time"),
    *[(f"share_{t}", f"share of kernel time (and so of energy) in {t} layers")
      for t in LAYER_TYPES],
]
SWEEP_CSV_COLUMNS: list[tuple[str, str]] = [
    ("entry_id", "entry id"),
    ("hardware", "GPU the sweep ran on"),
    ("variant", "variant slug, e.g. fp16-b256, fp16-b256-cl, fp16-b256-compile"),
    ("precision", "fp32, tf32, fp16 or bf16"),
    ("batch_size", "batch size used (below the variant's after out-of-memory halving)"),
    ("channels_last", "channels-last memory layout"),
    ("compiled", "torch.compile"),
    ("status", "record status"),
    ("energy_j_per_image", "median gross energy per image, J"),
    ("change_vs_headline", "energy / headline variant's energy - 1 (negative is a saving)"),
    ("throughput_img_s", "images per second"),
    ("top1", "top-1 measured at this variant's precision, percent"),
]


def analysis_downloads(data: Boards) -> tuple[dict[str, str], dict[str, int]]:
    """Profile shares and sweep points as CSV (every record, every hardware), with row counts."""
    from leaderboard.site.breakdown import saving_rows

    profiles, sweeps = _csv_writer(PROFILE_CSV_COLUMNS), _csv_writer(SWEEP_CSV_COLUMNS)
    counts = {"profiles": 0, "sweep": 0}
    for entry in data.entries:
        for hardware in sorted(entry.profiles):
            p = entry.profiles[hardware]
            profiles[1].writerow(_csv_cells([
                entry.id, hardware, p.architecture_kind, p.status, p.precision, p.batch_size,
                p.energy.gross_j_per_image if p.energy else None, p.busy_fraction,
                *[p.share_of(t) if p.shares else None for t in LAYER_TYPES]]))
            counts["profiles"] += 1
        for hardware in sorted(entry.sweeps):
            for row in saving_rows(entry.sweeps[hardware]):
                r = row.record
                sweeps[1].writerow(_csv_cells([
                    entry.id, hardware, r.variant.slug, r.variant.precision, r.batch_size,
                    r.variant.channels_last, r.variant.compiled, r.status, row.energy_j,
                    row.change, row.throughput_img_s, r.accuracy.top1 if r.accuracy else None]))
                counts["sweep"] += 1
    return {"downloads/profiles.csv": profiles[0].getvalue(),
            "downloads/sweep.csv": sweeps[0].getvalue()}, counts


def _csv_writer(columns: list[tuple[str, str]]) -> tuple[io.StringIO, Any]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    return buffer, writer


def _csv_cells(values: list[Any]) -> list[str]:
    return ["" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v)) for v in values]


def badges(data: Boards) -> dict[str, str]:
    """One badge and one label per entry, for its headline-board figures."""
    from leaderboard.site.badge import badge_files

    return badge_files(data)


SCRIPTS = ("lb-util.js", "lb-cost.js", "leaderboard.js", "lb-plots.js", "lb-access.js",
           "lb-choose.js", "lb-compare.js")
"""The site's own scripts, in the order mkdocs.yml's extra_javascript loads them."""


def site_assets() -> dict[str, str]:
    """Scripts, stylesheet, cost defaults and vendored files, by their path in the docs."""
    from importlib import resources

    from leaderboard.site.cost import defaults_script

    assets = resources.files("leaderboard.site").joinpath("assets")
    files = {f"assets/{name}": assets.joinpath(name).read_text("utf-8") for name in SCRIPTS}
    files.update({
        "assets/leaderboard.css": assets.joinpath("leaderboard.css").read_text("utf-8"),
        "assets/cost-defaults.js": defaults_script(),
        # loaded by render.py right after a table-drawn chart's mount, not by mkdocs.yml
        "assets/lb-sketch.js": assets.joinpath("lb-sketch.js").read_text("utf-8"),
        "assets/lb-search-on-demand.js":  # listed under extra.polyfills, before the theme
            assets.joinpath("lb-search-on-demand.js").read_text("utf-8"),
        "assets/vendor/vega-bundle.js": vega_bundle(),
        "assets/vendor/iframe-worker/shim.js":
            assets.joinpath("iframe-worker", "shim.js").read_text("utf-8"),
        "assets/vendor/iframe-worker/LICENSE":
            assets.joinpath("iframe-worker", "LICENSE").read_text("utf-8"),
    })
    return files


def vega_bundle() -> str:
    """vega + vega-lite + vega-embed as one script, cached per vl-convert version.

    Generating it takes ~1.6 s, so it is kept in the user's cache directory.
    """
    import altair as alt
    import vl_convert

    version = f"{getattr(vl_convert, '__version__', 'unknown')}-vl{alt.SCHEMA_VERSION}"
    cache_root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    cache = cache_root / "leaderboard" / f"vega-bundle-{version}.js"
    if cache.is_file():
        return cache.read_text("utf-8")
    # vl-convert names versions "6.4"; Altair's schema is "v6.4.1"
    vl_version = ".".join(alt.SCHEMA_VERSION.removeprefix("v").split(".")[:2])
    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    try:
        atomic_write_text(cache, bundle)
    except OSError:
        pass  # a read-only home only costs the regeneration next time
    return bundle
