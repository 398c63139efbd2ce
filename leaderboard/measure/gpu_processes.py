"""Is anything else computing on the GPU? A baseline before our CUDA context, a verdict after.

NVML lists the compute processes of a GPU by PID, in the host's PID namespace. On a VM that is
ours; in a gVisor sandbox (nvproxy) the list shows the sandbox's host PID once any process in it
has a CUDA context, so our own context looks like a stranger. The check therefore:

* takes a baseline (listed PIDs, used memory) before this process creates a CUDA context;
* refuses a listed PID other than ours only when it is visible in our PID namespace (a real
  neighbour we can see);
* refuses a second new PID from outside our namespace (a sandbox shows as one host PID);
* cross-checks the device's used memory against the baseline plus what this process holds
  (NVML's own figure for our PID where it gives one), which catches a hidden neighbour;
* otherwise says plainly that the PID check could not be decided.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

CLEAR = "clear"
UNVERIFIABLE = "unverifiable (pid namespace)"
REFUSED = "refused"
CONTEXT_ALLOWANCE_MIB = 1024.0
"""What a CUDA context, cuBLAS/cuDNN workspaces and lazily loaded kernels take beyond
``torch.cuda.memory_reserved`` (about 500-900 MiB on an H100/H200)."""
MEMORY_SLACK_MIB = 2048.0
"""Used memory beyond the baseline, ours and the allowance above this is another process (room
for kernel images a long-lived worker loads lazily over a hundred models; a co-tenant that
computes holds far more)."""


@dataclass(frozen=True)
class ProcessBaseline:
    """The GPU before this process created a CUDA context.

    Attributes:
        pids: The compute PIDs NVML listed then.
        memory_used_mib: The device's used memory then, MiB (None where NVML does not say).
    """

    pids: frozenset[int]
    memory_used_mib: float | None


@dataclass(frozen=True)
class ProcessVerdict:
    """The process check's outcome.

    Attributes:
        verdict: ``clear``, ``unverifiable (pid namespace)`` or ``refused``.
        reason: Why it was refused, or what could not be decided (None when clear).
        foreign_pids: Visible PIDs of other processes on the GPU.
    """

    verdict: str
    reason: str | None = None
    foreign_pids: tuple[int, ...] = ()

    @property
    def refused(self) -> bool:
        """True when the measurement must be refused."""
        return self.verdict == REFUSED

    def describe(self) -> str:
        """``process check: <verdict>[ (<reason>)]`` for the record's reasons."""
        text = f"process check: {self.verdict}"
        return f"{text}: {self.reason}" if self.reason and self.verdict != REFUSED else text


def pid_visible(pid: int) -> bool:
    """True when ``pid`` exists in this process's PID namespace."""
    return pid > 0 and os.path.exists(f"/proc/{pid}")


def judge_processes(
    baseline: ProcessBaseline | None,
    listed_pids: Iterable[int],
    memory_used_mib: float | None,
    own_memory_mib: float | None,
    own_pids: Iterable[int] = (),
    visible: Callable[[int], bool] = pid_visible,
    slack_mib: float = MEMORY_SLACK_MIB,
    listed_memory_mib: Mapping[int, float] | None = None,
) -> ProcessVerdict:
    """Decide whether another process shares the GPU.

    Args:
        baseline: The state before our CUDA context (None: no baseline, PIDs only).
        listed_pids: The compute PIDs NVML lists now.
        memory_used_mib: The device's used memory now, MiB.
        own_memory_mib: What this process holds (reserved memory plus the context allowance).
        own_pids: Our PIDs (default: this process).
        visible: Whether a PID exists in our namespace.
        slack_mib: Used memory beyond baseline + ours tolerated before refusing.
        listed_memory_mib: NVML's per-process used memory, MiB, where it reports it; the entry
            of our PID (or of the one new PID a sandbox shows for us) is our usage.

    Returns:
        The verdict; ``refused`` names the PIDs or the unexplained memory.
    """
    own = set(own_pids) or {os.getpid()}
    listed = sorted(set(listed_pids))
    others = [pid for pid in listed if pid not in own]
    foreign = tuple(pid for pid in others if visible(pid))
    if foreign:
        return ProcessVerdict(REFUSED, "other compute processes on the GPU: pids "
                              + ", ".join(map(str, foreign)), foreign)
    appeared = [pid for pid in others if baseline is None or pid not in baseline.pids]
    if len(appeared) > 1:
        # A sandbox shows all its processes as one host PID: a second one is someone else.
        return ProcessVerdict(REFUSED, f"{len(appeared)} PIDs outside this namespace appeared on "
                              f"the GPU ({', '.join(map(str, appeared))}); at most one can be this "
                              "sandbox's")
    ours = [pid for pid in listed if pid in own] or appeared
    reported = [listed_memory_mib[pid] for pid in ours if listed_memory_mib and pid in listed_memory_mib]
    if reported:
        own_memory_mib = max(own_memory_mib or 0.0, sum(reported))
    base_mib = baseline.memory_used_mib if baseline is not None else None
    memory_known = None not in (base_mib, memory_used_mib, own_memory_mib)
    if memory_known:
        excess_mib = memory_used_mib - base_mib - own_memory_mib  # type: ignore[operator]
        if excess_mib > slack_mib:
            return ProcessVerdict(
                REFUSED,
                f"GPU memory in use is {excess_mib:.0f} MiB more than the baseline "
                f"({base_mib:.0f} MiB) and this process ({own_memory_mib:.0f} MiB) account for: "
                "another process is probably computing")
    if not others:
        return ProcessVerdict(CLEAR)
    invisible = ", ".join(map(str, others))
    detail = (f"pids {invisible} listed by NVML are not in this PID namespace (a sandbox's "
              "host PID looks like this)")
    detail += ("; used memory is consistent with this process alone" if memory_known
               else "; used memory could not be cross-checked")
    return ProcessVerdict(UNVERIFIABLE, detail)
