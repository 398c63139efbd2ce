"""Workers never outlive their campaign: they die with the parent process.

A worker left running after its campaign was killed (at a lease's time budget) keeps the GPU
busy, writes its record after the records were exported (it is lost) and shows up as a foreign
process to the next measurement. Linux's parent-death signal ends the worker when the parent
dies for any reason, SIGKILL included; the campaign also kills its workers on SIGTERM.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PARENT_PID_ENV = "LEADERBOARD_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; True where that worked.

    The campaign passes its PID in ``LEADERBOARD_PARENT_PID``: when the parent already died
    before this call (the signal would never come), exit at once.
    """
    expected = os.environ.get(PARENT_PID_ENV)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os._exit(1)
    return armed


def worker_environment() -> dict[str, str]:
    """The environment for a worker of this process (names the parent, see above)."""
    return {**os.environ, PARENT_PID_ENV: str(os.getpid())}


class Terminated(BaseException):
    """SIGTERM arrived (a budget's ``timeout``): unwind so that ``finally`` blocks kill workers."""


def raise_on_sigterm() -> object:
    """Turn SIGTERM into :class:`Terminated` in the main thread; returns the previous handler."""
    def handler(signum: int, frame: object) -> None:
        raise Terminated(f"terminated by signal {signum}")

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        return None


def restore_sigterm(previous: object) -> None:
    """Put back the handler :func:`raise_on_sigterm` replaced."""
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
