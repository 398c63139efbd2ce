"""The test suite's time against a baseline commit's suite, both run now, one after the other.

Issue 14 set a target for the whole suite (pytest alone) on a 2-core machine: at most 60% of
the time of the suite at the commit the issue was filed against. Machines and their load
differ from day to day, so this runs both suites in the same session: the baseline from a
``git archive`` export of ``--baseline``, ours from this checkout, each as
``python -m pytest -q -p no:cacheprovider --durations=0`` with this interpreter (so the same
torch, timm and chromium). It prints, for each: tests passed, wall seconds, CPU seconds of
pytest and everything it started, seconds per test; then the ratio of ours to the baseline,
per file for the files both suites have, and the time of the files only ours has.

    .venv/bin/python benchmarks/suite_time.py --baseline 197acbc    # about 6 minutes
    .venv/bin/python benchmarks/suite_time.py --baseline 197acbc --runs 2

Exit status 0 when ours takes at most ``--target`` (0.6) of the baseline's wall time, 1 when
not, 2 when a suite fails or the baseline cannot be exported.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from revisions import REPO, RevisionUnavailable, exported

DURATION = re.compile(r"^\s*([\d.]+)s (?:setup|call|teardown)\s+(tests/[^:]+)::", re.M)
PASSED = re.compile(r"(\d+) passed")


@dataclass
class SuiteRun:
    """One pytest run of a whole suite."""

    wall_s: float
    cpu_s: float  # pytest and every process it started and waited for
    passed: int
    file_s: dict[str, float] = field(default_factory=dict)  # per test file: setup+call+teardown


def run_suite(code: Path, label: str) -> SuiteRun:
    """Run the suite in ``code`` with this interpreter; raise SystemExit(2) if it fails."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--durations=0", "--durations-min=0"], cwd=code, env=env,
                          capture_output=True, text=True, timeout=3600)
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n")
        print(f"the {label} suite failed (exit {done.returncode})")
        raise SystemExit(2)
    file_s: dict[str, float] = collections.defaultdict(float)
    for seconds, path in DURATION.findall(done.stdout):
        file_s[path] += float(seconds)
    passed = PASSED.search(done.stdout)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return SuiteRun(wall_s, cpu_s, int(passed.group(1)) if passed else 0, dict(file_s))


def summarize(runs: list[SuiteRun]) -> SuiteRun:
    """The median of each figure over repeated runs of one suite."""
    files = set().union(*(r.file_s for r in runs))
    return SuiteRun(statistics.median(r.wall_s for r in runs),
                    statistics.median(r.cpu_s for r in runs), runs[-1].passed,
                    {f: statistics.median(r.file_s.get(f, 0.0) for r in runs) for f in files})


def report(baseline: SuiteRun, ours: SuiteRun, revision: str, target: float) -> bool:
    """Print the comparison; whether ours meets ``target`` (a fraction of the baseline's wall)."""
    print(f"\n{'suite':<22}{'tests':>7}{'wall_s':>9}{'cpu_s':>9}{'s/test':>8}")
    for name, run in ((f"baseline {revision}", baseline), ("ours (this checkout)", ours)):
        print(f"{name:<22}{run.passed:>7}{run.wall_s:>9.1f}{run.cpu_s:>9.1f}"
              f"{run.wall_s / max(run.passed, 1):>8.3f}")
    shared = sorted(set(baseline.file_s) & set(ours.file_s),
                    key=lambda f: -baseline.file_s[f])
    print(f"\n{'file (in both suites)':<44}{'baseline_s':>11}{'ours_s':>8}{'ratio':>7}")
    for name in shared:
        old, new = baseline.file_s[name], ours.file_s[name]
        ratio = f"{new / old:.2f}" if old >= 0.05 else "-"
        print(f"{name:<44}{old:>11.1f}{new:>8.1f}{ratio:>7}")
    old_total = sum(baseline.file_s[f] for f in shared)
    new_total = sum(ours.file_s[f] for f in shared)
    print(f"{'all files in both':<44}{old_total:>11.1f}{new_total:>8.1f}"
          f"{new_total / max(old_total, 1e-9):>7.2f}")
    only_ours = sorted(set(ours.file_s) - set(baseline.file_s), key=lambda f: -ours.file_s[f])
    print(f"files only ours has: {len(only_ours)}, {sum(ours.file_s[f] for f in only_ours):.1f} s"
          + "".join(f"\n  {ours.file_s[f]:6.1f} s  {f}" for f in only_ours[:8]))
    ratio = ours.wall_s / baseline.wall_s
    passed = ratio <= target
    print(f"\n{'PASS' if passed else 'FAIL'} whole suite wall {ours.wall_s:.1f} s = {ratio:.2f} x "
          f"the baseline's {baseline.wall_s:.1f} s (target <= {target:.2f})")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="197acbc",
                        help="commit whose suite is the baseline (default: issue 14's)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each suite, alternating")
    parser.add_argument("--target", type=float, default=0.6,
                        help="most of the baseline's wall time ours may take")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    try:
        with exported(args.baseline, prefix="suite-baseline-") as code:
            baseline_runs, our_runs = [], []
            for index in range(args.runs):
                for label, folder, runs in (("baseline", code, baseline_runs),
                                            ("ours", REPO, our_runs)):
                    runs.append(run_suite(folder, label))
                    print(f"run {index + 1} {label}: {runs[-1].passed} passed, "
                          f"{runs[-1].wall_s:.1f} s wall, {runs[-1].cpu_s:.1f} CPU-s", flush=True)
    except RevisionUnavailable as exc:
        print(exc)
        return 2
    return 0 if report(summarize(baseline_runs), summarize(our_runs), args.baseline,
                       args.target) else 1


if __name__ == "__main__":
    sys.exit(main())
