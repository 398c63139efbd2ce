"""Finding 3: energy per image at batch 1 over batch 256 (single-stream over offline)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from leaderboard.findings.common import (
    ALL_ENTRIES,
    MEASURE_BOTH_COMMAND,
    MIN_SAVINGS_PAIRS,
    SavingsPair,
    groups_of,
    shortfall,
)

# --- 3. batching savings --------------------------------------------------------------------


@dataclass(frozen=True)
class RatioStats:
    """Median and quartiles of single-stream / offline energy over one group."""

    group: str
    n: int
    median: float
    q1: float
    q3: float
    low: float
    high: float


def ratio_stats(group: str, ratios: Sequence[float]) -> RatioStats:
    """Median, quartiles (linear interpolation, numpy's default) and range."""
    values = np.asarray(ratios, dtype=float)
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return RatioStats(group, values.size, float(median), float(q1), float(q3),
                      float(values.min()), float(values.max()))


@dataclass(frozen=True)
class SavingsFinding:
    """Batch 1 against batch 256 on the same hardware, per image."""

    pairs: list[SavingsPair]
    needed: int = MIN_SAVINGS_PAIRS
    overall: RatioStats | None = None
    families: list[RatioStats] = field(default_factory=list)

    @property
    def entries(self) -> int:
        """Entries with both records."""
        return len(self.pairs)

    @property
    def ready(self) -> bool:
        """True when there are enough pairs for quartiles."""
        return self.overall is not None

    @property
    def same_precision(self) -> int:
        """Pairs whose two records ran at the same precision."""
        return sum(p.offline_precision == p.single_stream_precision for p in self.pairs)

    @property
    def precisions(self) -> list[str]:
        """Every precision either record of a pair ran at."""
        return sorted({p.offline_precision for p in self.pairs}
                      | {p.single_stream_precision for p in self.pairs})

    @property
    def offline_batches(self) -> list[int]:
        """The offline batch sizes actually used (256, or less after out-of-memory halving)."""
        return sorted({p.offline_batch for p in self.pairs})

    @property
    def sentence(self) -> str:
        """The finding in words."""
        if not self.ready:
            return shortfall(self.entries, self.needed, MEASURE_BOTH_COMMAND)
        s = self.overall
        assert s is not None
        if f"{s.low:.2f}" == f"{s.high:.2f}":
            # every ratio rounds alike: a range "1.00× to 1.00×" would read as a misprint
            text = (f"Over {s.n} entries, one image at batch 1 costs {s.median:.2f}× the "
                    f"energy it costs at batch 256 for every entry (equal to two decimals).")
        else:
            text = (f"Over {s.n} entries, one image at batch 1 costs a median {s.median:.2f}× "
                    f"the energy it costs at batch 256 (quartiles {s.q1:.2f}× to "
                    f"{s.q3:.2f}×, range {s.low:.2f}× to {s.high:.2f}×).")
        if self.same_precision == len(self.pairs):
            text += (f" Both records of every pair ran at {' and '.join(self.precisions)}, so "
                     "this is the saving of batching alone.")
        else:
            text += (f" In {len(self.pairs) - self.same_precision} of {len(self.pairs)} pairs "
                     "the two records ran at different precisions, so those ratios mix batching "
                     "with precision.")
        return text


def batching_savings(pairs: Sequence[SavingsPair]) -> SavingsFinding:
    """Ratio statistics over all pairs and per family (5+ pairs)."""
    pairs = sorted(pairs, key=lambda p: p.entry_id)
    if len(pairs) < MIN_SAVINGS_PAIRS:
        return SavingsFinding(pairs)
    families = [ratio_stats(family, [p.ratio for p in members])
                for family, members in groups_of(pairs, lambda p: p.family)]
    return SavingsFinding(pairs, overall=ratio_stats(ALL_ENTRIES, [p.ratio for p in pairs]),
                          families=families)
