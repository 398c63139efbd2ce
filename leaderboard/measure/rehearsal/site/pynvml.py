"""The rehearsal's stand-in for nvidia-ml-py (see leaderboard.measure.rehearsal)."""

from leaderboard.measure.rehearsal.fake_nvml import *  # noqa: F403
from leaderboard.measure.rehearsal.fake_nvml import NVMLError  # noqa: F401
