"""The leaderboard's words and numbers, said once: scenarios, statuses, precisions, versions,
tolerances, exit codes and tier colours.

Every other module (schemas, scoring, pages, templates, the CLI) takes these from here, so a
change of a batch size or a threshold is one edit and every page that prints it follows.
Pure constants: importing this module costs nothing and pulls in no other module.
"""

from __future__ import annotations

import math
import typing
from typing import Literal

# --- scenarios (MLPerf's words) and their workloads -----------------------------------------

Scenario = Literal["offline", "single-stream"]
SCENARIOS: tuple[Scenario, ...] = typing.get_args(Scenario)
OFFLINE: Scenario = "offline"
"""Throughput-bound: large batches (the headline boards)."""
SINGLE_STREAM: Scenario = "single-stream"
"""Latency-bound: one image at a time."""
HEADLINE_SCENARIO: Scenario = OFFLINE
SCENARIO_BATCH_SIZE: dict[Scenario, int] = {"offline": 256, "single-stream": 1}
"""Images per batch; offline halves on out-of-memory and records the size it used."""

# --- record statuses ------------------------------------------------------------------------

Status = Literal["ok", "unstable", "refused", "error"]
STATUSES: tuple[Status, ...] = typing.get_args(Status)
SCORED_STATUSES: tuple[Status, ...] = ("ok", "unstable")
"""Records with a usable energy: scored, shown and not measured again on resume."""
FAILED_STATUSES: tuple[Status, ...] = ("refused", "error")
"""Records that say why nothing was measured: retried on resume."""

# --- numeric precisions ---------------------------------------------------------------------

Precision = Literal["fp32", "tf32", "fp16", "bf16"]
PRECISIONS: tuple[Precision, ...] = typing.get_args(Precision)
HEADLINE_PRECISION: Precision = "fp16"
"""AMP autocast precision of the headline workload (bf16 where a model needs it)."""

QUANTISED_PRECISIONS: tuple[str, ...] = ("int8", "fp8")
"""Planned, not measured: quantised precisions a sweep would add as variants of the headline
workload. They are not yet in ``Precision``, so no record can claim one. What the validator would
need before they join it, so that a quantised record compares with the fp16 one:

* the sweep variant (``leaderboard sweep --variants int8``) quantises weights and activations
  of the pinned weights the same way for every entry (``int8``: per-channel symmetric weights,
  per-tensor activations calibrated on a fixed, named set of ImageNet train images; ``fp8``:
  E4M3 weights and activations with per-tensor scales, on GPUs with fp8 tensor cores), and the
  record names the scheme and calibration set (a new ``quantisation`` block) beside
  ``precision``;
* energy per image is measured exactly as for fp16 (same batch, windows, meter), and top-1 is
  re-measured on ImageNet val at that precision (``--imagenet``), since quantisation moves
  accuracy and a saving without its accuracy cost would mislead;
* entries whose kernels fall back to fp16/fp32 for some layers say so (the profile's layer
  split shows where the energy went).
"""

# --- model size classes ---------------------------------------------------------------------

SIZE_CLASSES: tuple[tuple[str, float], ...] = (
    ("tiny", 10.0), ("small", 30.0), ("base", 100.0), ("large", 350.0), ("huge", math.inf))
"""Size classes by parameter count: (name, upper edge in millions of parameters, exclusive).
The edges fall between the usual families' sizes: MobileNets and EfficientNet-B0 are tiny,
ResNet-50 (25.6 M) small, ViT-B (86 M) base, ViT-L (304 M) large."""


def size_class_label(name: str) -> str:
    """A size class with its edges, as the board's filter and chart legend show it."""
    names = [n for n, _ in SIZE_CLASSES]
    index = names.index(name)
    low = 0.0 if index == 0 else SIZE_CLASSES[index - 1][1]
    high = SIZE_CLASSES[index][1]
    if index == 0:
        return f"{name} (< {high:g} M params)"
    if math.isinf(high):
        return f"{name} (≥ {low:g} M params)"
    return f"{name} ({low:g}–{high:g} M params)"


SIZE_CLASS_NAMES: tuple[str, ...] = tuple(n for n, _ in SIZE_CLASSES)
"""Every size class's name, smallest first (the filter's order; what a table cell shows)."""
SIZE_CLASS_LABELS: tuple[str, ...] = tuple(size_class_label(n) for n in SIZE_CLASS_NAMES)
"""Every size class with its edges, smallest first (filter options, legend, page text)."""


def size_class(params_m: float | None) -> str | None:
    """The name of the size class of a model with ``params_m`` million parameters; None when
    the parameter count is unknown."""
    if params_m is None or not math.isfinite(params_m) or params_m < 0:
        return None
    for name, high in SIZE_CLASSES:
        if params_m < high:
            return name
    return SIZE_CLASS_NAMES[-1]


# --- versions -------------------------------------------------------------------------------

PROTOCOL_VERSION = "1"
"""The measurement protocol new records are written under."""
PROTOCOL_VERSION_V2 = "2"
"""Protocol v2 (opt-in): one long-lived worker, warm-up until steady, back-to-back sub-windows."""
PROTOCOL_VERSIONS: tuple[str, ...] = (PROTOCOL_VERSION, PROTOCOL_VERSION_V2)
"""Every protocol a campaign can run under (``--protocol``)."""
SCORING_VERSION = "1"

# --- tolerances and thresholds --------------------------------------------------------------

ACCURACY_BAND_POINTS = 0.5
"""Top-1 points within which accuracies count as equal when scoring (the frontier band)."""
ACCURACY_TOLERANCE_POINTS = 0.3
"""A claim is verified when the measured full-set top-1 is within this many points of it."""
UNSTABLE_CV = 0.02
"""Coefficient of variation across windows above which a record is flagged unstable."""

POWER_LIMIT_FACTOR = 1.05
"""Average power above the GPU's power limit times this is refused: when the validator writes a
record and when a record is imported or checked (sensor error stays well within 5%)."""

# --- exit codes of the `leaderboard` command ------------------------------------------------

EXIT_OK = 0
EXIT_FAILED = 1
"""Errors found, or some models failed (their records say why)."""
EXIT_USAGE = 2
EXIT_NO_METER = 3
"""No usable energy meter (no NVIDIA driver / NVML): nothing was measured."""
EXIT_ABORTED = 130
"""Interrupted (Ctrl-C)."""
EXIT_TERMINATED = 143
"""Stopped by SIGTERM (a lease's budget): workers were killed first, no record is pending."""

# --- the pull-request comment -------------------------------------------------------------

REPORT_MARKER = "<!-- leaderboard-report -->"
"""Hidden first line of the validator's comment; the report workflow updates the comment that
has it."""

# --- tiers ----------------------------------------------------------------------------------

TIER_COLORS: dict[str, str] = {
    "A": "#1a9850", "B": "#66bd63", "C": "#a6d96a", "D": "#fee08b",
    "E": "#fdae61", "F": "#f46d43", "G": "#d73027",
}
"""Tier -> colour, green to red (charts, badges and the stylesheet's .lb-tier-X classes)."""
NO_TIER_COLOR = "#9f9f9f"
"""Badge colour of an entry that has no tier yet."""
WHITE_TEXT_TIERS = ("A", "F", "G")
"""Tiers whose colour is dark enough to need white text (badges, chips)."""
