"""Intake cost: the strict loader against plain PyYAML, and the worst inputs against a normal one.

Prints, measured side by side in this run:

* loading every shipped submission with ``load_yaml_file`` vs ``yaml.load(CSafeLoader)``
  (the ratio is the price of the strict checks: duplicate keys, YAML 1.1 forms, key lines);
* for each known worst case (alias bomb, 20,000 aliases, deep nesting, 9,000 duplicate keys,
  a 64 KiB base-60 number) the CPU time and Python peak memory of the full submission check,
  as a ratio to one normal submission. Before issue 13 the 542-byte alias bomb ran past 60 s
  and 3.85 GB.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/intake_worst_cases.py``
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml

from leaderboard.safe_yaml import MAX_FILE_BYTES, load_yaml_file
from leaderboard.submission import check_submission_file
from leaderboard.timm_catalog import load_catalog

REPO = Path(__file__).resolve().parents[1]


def _cpu(function, repeat: int = 1) -> float:
    started = time.process_time()
    for _ in range(repeat):
        function()
    return (time.process_time() - started) / repeat


def _peak(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def worst_cases() -> dict[str, str]:
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    return {
        "alias bomb (9**10 expansion)": bomb,
        "20,000 aliases": "a: &x 1\nb: [" + ", ".join(["*x"] * 20_000) + "]\n",
        "nesting 30,000 deep": "a: " + "[" * 30_000 + "]" * 30_000 + "\n",
        "9,000 duplicate keys": "".join(f"k: {i}\n" for i in range(9_000)),
        "64 KiB base-60 number": "x: " + "1:" * 30_000 + "1\n",
    }


def main() -> None:
    files = sorted((REPO / "submissions").glob("*/submission.yaml"))
    texts = [p.read_text("utf-8") for p in files]
    plain = _cpu(lambda: [yaml.load(t, Loader=yaml.CSafeLoader) for t in texts])  # noqa: S506
    strict = _cpu(lambda: [load_yaml_file(p) for p in files])
    print(f"{len(files)} shipped submissions: strict loader {strict:.3f} s CPU, plain CSafeLoader "
          f"{plain:.3f} s; ratio {strict / plain:.2f}x")

    architectures = load_catalog().architectures
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "resnet50.a1_in1k"
        folder.mkdir()
        path = folder / "submission.yaml"

        def check() -> None:
            check_submission_file(path, known_architectures=architectures)

        path.write_text(texts[0], encoding="utf-8")
        base_s, base_peak = _cpu(check, repeat=50), _peak(check)
        print(f"normal submission: {base_s * 1000:.2f} ms CPU, {base_peak / 1024:.0f} KiB peak")
        for name, text in worst_cases().items():
            path.write_bytes(text.encode("utf-8")[:MAX_FILE_BYTES])
            seconds, peak = _cpu(check), _peak(check)
            print(f"{name} ({len(text.encode()[:MAX_FILE_BYTES]):,} bytes): {seconds * 1000:.1f} ms "
                  f"CPU ({seconds / base_s:.0f}x), {peak / 2**20:.1f} MiB peak "
                  f"({peak / base_peak:.0f}x)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
