"""Two `records import`s into one tree at once: every printed count is on disk, 30 runs of 30.

Issue 21, class 1: with one fixed stage name and no lock, concurrent imports of disjoint
archives printed "N created" with only part of their records on disk, or died with
FileExistsError / "Directory not empty". Each run here forks two CLI imports of disjoint
archives into a fresh copy of one tree, the second 0..1.5 import-times after the first, from
one helper process that has already imported the CLI (a fork per import costs milliseconds,
an interpreter per import ~1 s); the disk is then compared with what each printed.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO

from leaderboard.records_archive import export_records
from leaderboard.testing import write_synthetic_tree

RUNS = 30
RECORDS_PER_ARCHIVE = 6

PAIR_RUNNER = r"""
import json
import os
import sys
import time

from leaderboard.cli import cli


def run_import(archive, submissions, out):
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        cli.main(args=["records", "import", archive, "--submissions", submissions,
                       "--allow-synthetic"],
                 prog_name="leaderboard", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


for line in sys.stdin:
    job = json.loads(line)
    pids = []
    for number, (archive, out) in enumerate(zip(job["archives"], job["outs"])):
        if number:
            time.sleep(job["delay_s"])
        pid = os.fork()
        if pid == 0:
            run_import(archive, job["submissions"], out)
        pids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    print(json.dumps(codes), flush=True)
"""

COUNTS = re.compile(r"^imported .*: (\d+) created, (\d+) updated, (\d+) unchanged$", re.M)


def records_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.glob("*/measurements/*.json"))}


def test_concurrent_imports_never_print_a_count_that_is_not_on_disk(tmp_path):
    source = write_synthetic_tree(tmp_path / "src", 2 * RECORDS_PER_ARCHIVE, single_stream_every=0)
    entries = sorted(p.name for p in source.iterdir() if p.is_dir())
    archives = [tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"]
    halves = [entries[:RECORDS_PER_ARCHIVE], entries[RECORDS_PER_ARCHIVE:]]
    for archive, ids in zip(archives, halves, strict=True):
        assert export_records(source, archive, ids) == RECORDS_PER_ARCHIVE
    expected = [{k: v for k, v in records_of(source).items() if k.split("/")[0] in ids}
                for ids in halves]
    empty = tmp_path / "empty"
    shutil.copytree(source, empty)
    for folder in empty.glob("*/measurements"):
        shutil.rmtree(folder)

    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    helper = subprocess.Popen([sys.executable, "-c", PAIR_RUNNER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=REPO, env=env)
    rng = random.Random(21)
    waited = 0
    try:
        def run(number: int, delay_s: float) -> tuple[Path, list[int], list[str]]:
            tree = tmp_path / f"run{number:02d}"
            shutil.copytree(empty, tree)
            outs = [tmp_path / f"run{number:02d}.{side}.out" for side in "ab"]
            helper.stdin.write(json.dumps({"archives": [str(a) for a in archives],
                                           "submissions": str(tree), "delay_s": delay_s,
                                           "outs": [str(o) for o in outs]}) + "\n")
            helper.stdin.flush()
            codes = json.loads(helper.stdout.readline())
            return tree, codes, [o.read_text() for o in outs]

        started = time.perf_counter()
        run(RUNS, 0.0)  # sizes the window in which the second import starts
        window_s = (time.perf_counter() - started) / 2
        failures = []
        for number in range(RUNS):
            tree, codes, outputs = run(number, rng.uniform(0.0, 1.5 * window_s))
            on_disk = records_of(tree)
            for side, (code, output) in enumerate(zip(codes, outputs, strict=True)):
                counts = COUNTS.findall(output)
                mine = {k: v for k, v in on_disk.items() if k in expected[side]}
                if code != 0 or len(counts) != 1:
                    last = output.strip().splitlines()[-1:] or [""]
                    failures.append(f"run {number} import {side}: exit {code}: {last[0]}")
                elif int(counts[0][0]) != len(mine) or mine != expected[side]:
                    failures.append(f"run {number} import {side} printed {counts[0][0]} created, "
                                    f"{len(mine)} of its records are on disk")
                waited += "waiting for it to finish" in output
            if on_disk != {**expected[0], **expected[1]}:
                failures.append(f"run {number}: {len(on_disk)} records on disk")
            leftovers = [p.name for p in tree.iterdir() if p.name.startswith(".")]
            if leftovers:
                failures.append(f"run {number}: left {leftovers}")
        assert failures == [], f"{len(failures)} failure(s) in {RUNS} runs:\n" + "\n".join(failures)
    finally:
        helper.stdin.close()
        helper.wait(timeout=60)
        helper.stdout.close()
    # The second import met the first's lock in at least some runs (the delays overlap them).
    assert waited > 0
