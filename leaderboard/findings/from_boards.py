"""The findings' inputs from the scored boards: the headline board's entries and pairs.

`leaderboard findings` and the Findings page both call :func:`board_findings`, so the command
prints exactly the numbers the page shows.
"""

from __future__ import annotations

from leaderboard.boards import Boards
from leaderboard.findings.all_findings import Findings, compute_findings
from leaderboard.findings.common import MeasuredEntry, SavingsPair, year_from_paper
from leaderboard.vocabulary import OFFLINE, SINGLE_STREAM


def measured_entries(boards: Boards, board: str) -> list[MeasuredEntry]:
    """Every entry scored on ``board``, with the figures the findings use."""
    found = []
    for entry in boards.entries:
        result = entry.results.get(board)
        if not result or not result.score or result.energy_j is None:
            continue
        compute = entry.submission.compute
        gmacs = entry.gmacs
        found.append(MeasuredEntry(
            entry_id=entry.id, family=entry.family, top1=entry.top1, energy_j=result.energy_j,
            # measured FLOPs where the validator counted them, else 2 x the reference GMACs
            gflops=result.record.gflops if result.record.gflops is not None
            else (2.0 * gmacs if gmacs is not None else None),
            params_m=entry.params_m,
            activations_m=compute.activations_m if compute else None,
            year=year_from_paper(entry.submission.model.paper),
        ))
    return found


def savings_pairs(boards: Boards, hardware: str) -> list[SavingsPair]:
    """Entries scored both offline and single-stream on ``hardware``."""
    pairs = []
    for entry in boards.entries:
        offline = entry.results.get(f"{hardware}--{OFFLINE}")
        single = entry.results.get(f"{hardware}--{SINGLE_STREAM}")
        if not (offline and single and offline.score and single.score
                and offline.energy_j and single.energy_j):
            continue
        pairs.append(SavingsPair(
            entry_id=entry.id, family=entry.family, offline_j=offline.energy_j,
            single_stream_j=single.energy_j, offline_batch=offline.record.batch_size,
            single_stream_batch=single.record.batch_size,
            offline_precision=offline.record.precision,
            single_stream_precision=single.record.precision,
        ))
    return pairs


def board_findings(boards: Boards) -> Findings:
    """Every finding on the headline board (pairs on its hardware)."""
    board, hardware = boards.headline_board, boards.headline_hardware
    entries = measured_entries(boards, board) if board else []
    pairs = savings_pairs(boards, hardware) if hardware else []
    return compute_findings(board, entries, pairs)
