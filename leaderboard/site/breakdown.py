"""Where the energy goes and what each switch saves: profile and sweep records -> page figures.

Pure functions over the records attached to :class:`~leaderboard.boards.Entry`; the pages
format what they return. A share of kernel time is also the share of energy: the profile
gives each layer type the measured energy in proportion to its kernel time.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from leaderboard.analysis_records import (
    LAYER_TYPES,
    ProfileRecord,
    SweepRecord,
    Variant,
    sweep_variants,
)
from leaderboard.boards import Entry
from leaderboard.vocabulary import SCORED_STATUSES

KIND_ORDER = ("cnn", "vit", "hybrid")
KIND_LABELS = {"cnn": "CNN", "vit": "ViT", "hybrid": "hybrid"}


def _pick(by_hardware: dict[str, object], hardware: str | None) -> str | None:
    """The hardware to show: the headline board's when it is there, else the first by name."""
    if not by_hardware:
        return None
    return hardware if hardware in by_hardware else min(by_hardware)


def usable_profile(record: ProfileRecord) -> bool:
    """True when a profile has shares from a run that passed the checks."""
    return record.status in SCORED_STATUSES and bool(record.shares) and record.energy is not None


def entry_profile(entry: Entry, hardware: str | None = None) -> ProfileRecord | None:
    """The profile an entry's page shows (on ``hardware`` when there is one there)."""
    picked = _pick(entry.profiles, hardware)
    return entry.profiles[picked] if picked else None


def entry_sweep(entry: Entry, hardware: str | None = None) -> dict[str, SweepRecord]:
    """The sweep points an entry's page shows, by variant slug (on ``hardware`` when there)."""
    picked = _pick(entry.sweeps, hardware)
    return entry.sweeps[picked] if picked else {}


# --- shares per architecture kind -----------------------------------------------------------


@dataclass(frozen=True)
class KindShares:
    """Mean and median share of each layer type over the profiled entries of one kind."""

    kind: str
    entries: int
    mean: dict[str, float]
    median: dict[str, float]

    @property
    def label(self) -> str:
        """``CNN``, ``ViT`` or ``hybrid``."""
        return KIND_LABELS[self.kind]


def kind_shares(profiles: Sequence[ProfileRecord]) -> list[KindShares]:
    """Shares per kind (CNN, ViT, hybrid order; kinds without profiles left out).

    Every entry counts once, whatever its energy: the question is how a typical model of a kind
    spends its energy, not where the field's joules go in total. Profiles without a kind or
    without shares are left out.
    """
    found = []
    for kind in KIND_ORDER:
        group = [p for p in profiles if p.architecture_kind == kind and usable_profile(p)]
        if not group:
            continue
        columns = {t: [p.share_of(t) for p in group] for t in LAYER_TYPES}
        found.append(KindShares(kind, len(group),
                                {t: statistics.fmean(v) for t, v in columns.items()},
                                {t: statistics.median(v) for t, v in columns.items()}))
    return found


@dataclass(frozen=True)
class ConvolutionCheck:
    """Yarally et al. (CAIN 2023) found convolutions dominate *training* energy; for inference?"""

    cnns: int
    conv_mean: float | None
    conv_median: float | None
    conv_largest: int
    """CNNs in which convolution is the largest layer type."""
    vits: int
    linear_mean: float | None
    linear_median: float | None
    attention_mean: float | None

    @property
    def holds(self) -> bool | None:
        """Convolution is the largest type in more than half the CNNs; None without CNNs."""
        return self.conv_largest * 2 > self.cnns if self.cnns else None

    @property
    def sentence(self) -> str:
        """The finding in one or two sentences, every number from the data."""
        if not self.cnns and not self.vits:
            return ("No CNN or ViT has been profiled yet, so Yarally et al.'s finding (CAIN 2023: "
                    "convolutional layers dominate training energy) cannot be checked for "
                    "inference.")
        parts = []
        if self.cnns:
            parts.append(
                f"In {self.cnns} {'CNN' if self.cnns == 1 else 'CNNs'}, convolutions take "
                f"{self.conv_mean:.0%} of inference energy on average (median "
                f"{self.conv_median:.0%}) and are the largest layer type in {self.conv_largest} "
                f"of {self.cnns}")
        if self.vits:
            vit_text = (f"{self.vits} {'ViT' if self.vits == 1 else 'ViTs'}, linear layers take "
                        f"{self.linear_mean:.0%} (median {self.linear_median:.0%}) and attention "
                        f"{self.attention_mean:.0%}")
            parts.append(f"in {vit_text}" if parts else f"In {vit_text}")
        text = "; ".join(parts) + "."
        if self.holds is None:
            return text + (" No CNN has been profiled yet, so Yarally et al.'s finding for "
                           "training (convolutional layers dominate) cannot be checked for "
                           "inference.")
        verdict = "holds" if self.holds else "does not hold"
        return text + (f" Yarally et al. (CAIN 2023) found that convolutional layers dominate "
                       f"training energy; on these measurements the finding {verdict} for "
                       f"inference.")


def convolution_check(profiles: Sequence[ProfileRecord]) -> ConvolutionCheck:
    """Check Yarally et al.'s training finding against the inference profiles."""
    cnns = [p for p in profiles if p.architecture_kind == "cnn" and usable_profile(p)]
    vits = [p for p in profiles if p.architecture_kind == "vit" and usable_profile(p)]
    conv = [p.share_of("convolution") for p in cnns]
    linear = [p.share_of("linear") for p in vits]
    largest = sum(max(LAYER_TYPES, key=p.share_of) == "convolution" for p in cnns)
    return ConvolutionCheck(
        cnns=len(cnns),
        conv_mean=statistics.fmean(conv) if conv else None,
        conv_median=statistics.median(conv) if conv else None,
        conv_largest=largest,
        vits=len(vits),
        linear_mean=statistics.fmean(linear) if linear else None,
        linear_median=statistics.median(linear) if linear else None,
        attention_mean=statistics.fmean(p.share_of("attention") for p in vits) if vits else None,
    )


# --- ablation checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class AblationRow:
    """One check of the attribution: predicted against measured saving."""

    entry_id: str
    hardware: str
    layer_type: str
    modules_replaced: int
    predicted_j: float
    measured_j: float
    agreement: float | None


def ablation_rows(profiles: Sequence[ProfileRecord]) -> list[AblationRow]:
    """Every ablation of the given profiles, by entry then layer type."""
    rows = [AblationRow(p.entry_id, p.hardware, a.layer_type, a.modules_replaced,
                        a.predicted_saving_j, a.measured_saving_j, a.agreement)
            for p in profiles for a in p.ablations]
    return sorted(rows, key=lambda r: (r.entry_id, r.hardware, LAYER_TYPES.index(r.layer_type)))


def median_agreement(rows: Sequence[AblationRow]) -> float | None:
    """Median of measured / predicted saving over the checks that predicted a saving."""
    values = [r.agreement for r in rows if r.agreement is not None]
    return statistics.median(values) if values else None


# --- the savings sweep ----------------------------------------------------------------------


def _energy_j(record: SweepRecord | None) -> float | None:
    if record is None or record.status not in SCORED_STATUSES or record.energy is None:
        return None
    return record.energy.gross_j_per_image


@dataclass(frozen=True)
class SavingRow:
    """One variant of an entry's workload against the headline variant."""

    variant: Variant
    record: SweepRecord
    energy_j: float | None
    change: float | None
    """(variant - headline) / headline energy; negative is a saving."""
    top1_delta: float | None
    """Top-1 at this variant minus top-1 at the headline variant, points."""

    @property
    def throughput_img_s(self) -> float | None:
        """Images per second of this variant's run."""
        return self.record.performance.throughput_img_s if self.record.performance else None


def _variant_order(variant: Variant) -> tuple[int, str]:
    order = sweep_variants()
    return (order.index(variant), "") if variant in order else (len(order), variant.slug)


def saving_rows(sweep: dict[str, SweepRecord]) -> list[SavingRow]:
    """One row per sweep point, in sweep order (headline first), with its change and top-1 cost."""
    headline = next((r for r in sweep.values() if r.variant.is_headline), None)
    base_j = _energy_j(headline)
    base_acc = headline.accuracy if headline else None
    rows = []
    for record in sorted(sweep.values(), key=lambda r: _variant_order(r.variant)):
        energy_j = _energy_j(record)
        change = energy_j / base_j - 1.0 if energy_j is not None and base_j else None
        delta = (record.accuracy.top1 - base_acc.top1
                 if record.accuracy is not None and base_acc is not None else None)
        rows.append(SavingRow(record.variant, record, energy_j, change, delta))
    return rows


@dataclass(frozen=True)
class SwitchSaving:
    """One switch away from the headline, across entries: the median and best change."""

    variant: Variant
    entries: int
    median_change: float
    best_change: float
    best_entry_id: str


def switch_savings(entries: Sequence[Entry], hardware: str | None = None) -> list[SwitchSaving]:
    """Per non-headline variant: the median and best change over entries that have both it and
    the headline measured on the same hardware (each entry's shown hardware)."""
    changes: dict[Variant, list[tuple[float, str]]] = {}
    for entry in entries:
        for row in saving_rows(entry_sweep(entry, hardware)):
            if row.change is not None and not row.variant.is_headline:
                changes.setdefault(row.variant, []).append((row.change, entry.id))
    found = []
    for variant in sorted(changes, key=_variant_order):
        values = changes[variant]
        best_change, best_entry = min(values)
        found.append(SwitchSaving(variant, len(values), statistics.median(v for v, _ in values),
                                  best_change, best_entry))
    return found
