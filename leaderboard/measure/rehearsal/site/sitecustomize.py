"""Rehearsal: run torch's "cuda" on the CPU once torch is imported (leaderboard.measure.rehearsal)."""

from leaderboard.measure.rehearsal.cuda_shim import install_on_import

install_on_import()
