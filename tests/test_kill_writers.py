"""SIGKILL every writer at random moments: each file is the old or the new version, never torn.

Writers covered: `import-timm` (many submission files), `records import` (all or nothing:
staged, then moved into place), one record written over and over, and the site build (the
output folder is swapped in whole). A SIGKILL gives a writer no chance to clean up, so a kill
may leave a temp file; each must be one git ignores (``.*.tmp``), and the next writer (or,
for a records import, its recovery) removes it. Kill counts are bounded to keep the file
within ~30 s on two cores.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

from leaderboard.atomic import (
    interrupted_stage,
    pid_alive,
    recover_staged,
    remove_stale_temp_files,
)
from leaderboard.import_timm import import_timm
from leaderboard.records import write_record
from leaderboard.records_archive import export_records
from leaderboard.testing import synthetic_record, write_synthetic_tree
from leaderboard.timm_catalog import load_catalog

WRITERS = r"""
import json
import os
import signal
import sys
import traceback
from pathlib import Path

from leaderboard.import_timm import import_timm
from leaderboard.policy import policy_table
from leaderboard.records import MeasurementRecord, write_record
from leaderboard.records_archive import import_records
from leaderboard.site.build import build_site


def writer(mode, args):
    if mode == "import-timm":
        return lambda: import_timm(Path(args[0]), Path(args[1]))
    if mode == "records-import":
        return lambda: import_records(Path(args[0]), Path(args[1]), overwrite=True, allow_synthetic=True)
    if mode == "record-write":
        versions = [MeasurementRecord.model_validate(json.loads(Path(p).read_text())) for p in args[1:]]
        def run():
            for i in range(10**9):
                write_record(Path(args[0]), versions[i % 2])
        return run
    if mode == "build":
        return lambda: build_site(Path(args[0]), Path(args[1]), Path(args[2]), allow_synthetic=True,
                                  policy_rows=policy_table())
    raise SystemExit(f"unknown writer {mode}")


print("started", flush=True)
while line := sys.stdin.readline():
    mode, *args = line.rstrip("\n").split("\t")
    run = writer(mode, args)
    pid = os.fork()
    if pid == 0:
        try:
            print("ready", flush=True)
            run()
            print("done", flush=True)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    word = sys.stdin.readline().strip()  # the test's word to kill
    os.kill(pid, signal.SIGKILL)
    if word == "kill-keep":
        # Left a zombie (killed, not reaped) until the test has run the next writer.
        print("killed", flush=True)
        sys.stdin.readline()
        os.waitpid(pid, 0)
        print("reaped", flush=True)
        continue
    os.waitpid(pid, 0)
    print("killed", flush=True)
"""
"""Starts each writer as a fork of one process that has imported what a writer imports.

A fresh interpreter per kill paid Python's start and these imports before each of the 23
kills; a fork starts where such a writer was when it printed "ready". This process does the
killing, so the pid it kills is its own unreaped child, never a reused one. The references the
writers' files are compared with are written by the test's process: another interpreter.
"""


@pytest.fixture(scope="module")
def writers() -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": "1767225600"}
    proc = subprocess.Popen([sys.executable, "-c", WRITERS], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=REPO, env=env)
    try:
        assert proc.stdout.readline() == "started\n"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
        proc.stdout.close()


def run_and_kill(writers: subprocess.Popen[str], args: list[str], delay_s: float,
                 reap: bool = True) -> bool:
    """Fork a writer, SIGKILL it ``delay_s`` after it is ready; True if it finished first.

    With ``reap=False`` the killed writer stays a zombie until :func:`reap` (as under a parent
    that has not waited for it yet).
    """
    writers.stdin.write("\t".join(args) + "\n")
    writers.stdin.flush()
    output = []
    try:
        assert writers.stdout.readline() == "ready\n"
        time.sleep(delay_s)
    finally:
        writers.stdin.write("kill\n" if reap else "kill-keep\n")
        writers.stdin.flush()
        while (line := writers.stdout.readline()) not in ("killed\n", ""):
            output.append(line)
    return "done\n" in output


def reap(writers: subprocess.Popen[str]) -> None:
    """Let the helper reap the zombie a ``reap=False`` kill left."""
    writers.stdin.write("reap\n")
    writers.stdin.flush()
    assert writers.stdout.readline() == "reaped\n"


def double_energy(submissions: Path) -> None:
    """Rewrite every record with twice the energy (its CI too, so the record stays valid)."""
    for path in submissions.glob("*/measurements/*.json"):
        record = json.loads(path.read_text())
        for key in ("gross_j_per_image", "ci95_low_j", "ci95_high_j"):
            record["energy"][key] *= 2
        path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def temp_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.tmp"))


def git_ignores(paths: list[Path], repo: Path = REPO) -> bool:
    """True when this repository's .gitignore ignores every one of ``paths`` (by name)."""
    if not paths:
        return True
    names = [f"submissions/x/{p.name}" for p in paths]
    proc = subprocess.run(["git", "-C", str(repo), "check-ignore", "--no-index", *names],
                          capture_output=True, text=True)
    return sorted(proc.stdout.split()) == sorted(names)


def snapshot(root: Path, pattern: str) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.glob(pattern))}


def results_csv(path: Path, top1: float, rows: int = 120) -> Path:
    """A timm results CSV of ``rows`` real pretrained tags at their default size."""
    catalog = load_catalog()
    lines = ["model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation"]
    for name in sorted(catalog.pretrained)[:rows]:
        defaults = catalog.pretrained[name]
        lines.append(f"{name},{defaults.img_size},{top1:.3f},0,{top1 + 10:.3f},0,10.0,"
                     f"{defaults.crop_pct},{defaults.interpolation}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_timm_killed_leaves_each_file_old_or_new(tmp_path, writers):
    submissions = tmp_path / "submissions"
    csvs = [results_csv(tmp_path / "v0.csv", 70.0), results_csv(tmp_path / "v1.csv", 71.0)]
    versions = []
    for csv in csvs:
        import_timm(csv, submissions)
        versions.append(snapshot(submissions, "*/submission.yaml"))
    started = time.perf_counter()
    import_timm(csvs[0], submissions)  # a full rewrite, to size the kill window
    window_s = time.perf_counter() - started
    rng = random.Random(13)
    for kill in range(6):
        target = (kill + 1) % 2
        run_and_kill(writers, ["import-timm", str(csvs[target]), str(submissions)],
                     rng.uniform(0.0, window_s * 1.5))
        now = snapshot(submissions, "*/submission.yaml")
        assert sorted(now) == sorted(versions[0])
        for name, data in now.items():
            assert data in (versions[0][name], versions[1][name]), name
        assert git_ignores(temp_files(submissions))
        import_timm(csvs[target], submissions)  # the next run finishes and cleans up
        assert snapshot(submissions, "*/submission.yaml") == versions[target]
        assert temp_files(submissions) == []
    modes = {oct(p.stat().st_mode & 0o777) for p in submissions.glob("*/submission.yaml")}
    assert modes == {oct(0o666 & ~_umask())}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_records_import_killed_is_all_or_nothing(tmp_path, writers):
    source = write_synthetic_tree(tmp_path / "src", 80)
    archives = [tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"]
    export_records(source, archives[0])
    double_energy(source)
    export_records(source, archives[1])
    target = tmp_path / "dst" / "submissions"
    shutil.copytree(source, target)
    for folder in target.glob("*/measurements"):
        shutil.rmtree(folder)
    states = []
    from leaderboard.records_archive import import_records

    for archive in archives:
        assert import_records(archive, target, overwrite=True, allow_synthetic=True).written
        states.append(snapshot(target, "*/measurements/*.json"))
    states.append({})  # before the first import
    for folder in target.glob("*/measurements"):
        shutil.rmtree(folder)
    started = time.perf_counter()
    import_records(archives[0], target, overwrite=True, allow_synthetic=True)
    window_s = time.perf_counter() - started
    rng = random.Random(7)
    outcomes = set()
    for kill in range(8):
        archive = archives[kill % 2]
        before = snapshot(target, "*/measurements/*.json")
        finished = run_and_kill(writers, ["records-import", str(archive), str(target)],
                                rng.uniform(0.0, window_s * 3 + 0.3))
        assert git_ignores(temp_files(target))
        interrupted = interrupted_stage(target) is not None
        recover_staged(target)  # what the next import does first
        after = snapshot(target, "*/measurements/*.json")
        assert after in (before, states[kill % 2]), "a partial import is visible"
        assert temp_files(target) == [] and not list(target.glob(".*"))
        outcomes.add("new" if after == states[kill % 2] and after != before else "old")
        if finished:
            outcomes.add("finished")
        if interrupted:
            outcomes.add("rolled forward")
    # Where the kills land depends on the machine's load; the invariants above hold for all.
    # On an idle 2-core machine the eight kills cover before the commit, after it (rolled
    # forward) and after the end.
    assert outcomes


def test_record_write_killed_leaves_the_old_or_the_new_record(tmp_path, writers):
    submissions = tmp_path / "submissions"
    versions = [synthetic_record("resnet50.a1_in1k", energy) for energy in (0.01, 0.02)]
    sources = []
    for number, record in enumerate(versions):
        path = tmp_path / f"v{number}.json"
        path.write_text(json.dumps(record.model_dump(mode="json")))
        sources.append(str(path))
    target = write_record(submissions, versions[0])
    texts = {target.read_bytes(), write_record(submissions, versions[1]).read_bytes()}
    rng = random.Random(3)
    for _ in range(6):
        run_and_kill(writers, ["record-write", str(submissions), *sources], rng.uniform(0.05, 0.3))
        assert target.read_bytes() in texts
        assert git_ignores(temp_files(submissions))
        write_record(submissions, versions[0])  # the next write removes a killed one's temp file
        assert temp_files(submissions) == []


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_site_build_killed_leaves_the_old_or_the_new_site(tmp_path, writers, site_source,
                                                          monkeypatch):
    from leaderboard.policy import policy_table
    from leaderboard.site.build import build_site

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    trees = [write_synthetic_tree(tmp_path / "a", 6, seed=1),
             write_synthetic_tree(tmp_path / "b", 6, seed=2)]
    output = tmp_path / "out" / "site"
    digests = []
    started = time.perf_counter()
    for tree in trees:
        build_site(tree, site_source, output, allow_synthetic=True, policy_rows=policy_table())
        digests.append(_digest(output))
    window_s = (time.perf_counter() - started) / 2 + 1.0  # + the child's imports
    assert digests[0] != digests[1]
    rng = random.Random(5)
    seen = set()
    for kill in range(3):
        tree = trees[(kill + 1) % 2]
        run_and_kill(writers, ["build", str(tree), str(site_source), str(output)],
                     rng.uniform(0.3 * window_s, window_s * 1.2))
        digest = _digest(output)
        assert digest in digests, "the output folder is neither the old nor the new build"
        seen.add(digests.index(digest))
        leftovers = [p for p in output.parent.iterdir() if p != output]
        assert all(p.name.startswith(".site.") and p.name.endswith(".tmp") for p in leftovers)
        remove_stale_temp_files(output.parent, output.name)  # what the next build does first
        assert list(output.parent.iterdir()) == [output]
    # The killed builds' staging folders (in /dev/shm where writable) are removed by the next
    # build, which also leaves none of its own.
    build_site(trees[0], site_source, output, allow_synthetic=True, policy_rows=policy_table())
    assert stale_staging() == []


def stale_staging() -> list[str]:
    import tempfile

    from leaderboard.site.build import STAGING_NAME, _fast_scratch

    scratch = Path(_fast_scratch() or tempfile.gettempdir())
    return [p.name for p in scratch.glob(f".{STAGING_NAME}.*.tmp")
            if not _alive(int(p.name.split(".")[2]))]


def _alive(pid: int) -> bool:
    """A running process: not gone, not a zombie (killed, not reaped yet)."""
    return pid_alive(pid)


KILLS_BEFORE_A_BUILD = 3  # import, build, import: each next build costs ~2 s


def test_after_any_kill_the_next_build_leaves_no_staging_anywhere(tmp_path, writers, site_source,
                                                                 monkeypatch):
    """Issue 21, class 8: kills of `records import` and `build` at random points, each writer
    left a zombie (not reaped yet) while the next build runs; afterwards no stage, temp or
    staging folder is left in the tree, beside the output or in the scratch folder (/dev/shm)."""
    from leaderboard.policy import policy_table
    from leaderboard.records_archive import import_records
    from leaderboard.site.build import build_site

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    source = write_synthetic_tree(tmp_path / "src", 6, seed=3)
    archives = [tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"]
    export_records(source, archives[0])
    double_energy(source)
    export_records(source, archives[1])
    tree = tmp_path / "dst" / "submissions"
    shutil.copytree(source, tree)
    output = tmp_path / "out" / "site"

    def build() -> None:
        build_site(tree, site_source, output, allow_synthetic=True, policy_rows=policy_table())

    started = time.perf_counter()
    build()
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    import_records(archives[0], tree, overwrite=True, allow_synthetic=True)
    import_s = time.perf_counter() - started
    rng = random.Random(21)
    for kill in range(KILLS_BEFORE_A_BUILD):
        if kill % 2:
            args, delay_s = (["build", str(tree), str(site_source), str(output)],
                             rng.uniform(0.2, build_s + 1.0))
        else:
            args, delay_s = (["records-import", str(archives[kill // 2 % 2]), str(tree)],
                             rng.uniform(0.0, import_s * 2))
        run_and_kill(writers, args, delay_s, reap=False)
        try:
            if args[0] == "build":
                # The next run is an import: it too removes the killed build's scratch staging
                # (only the next build knows the output folder, so it removes the rest).
                import_records(archives[0], tree, overwrite=True, allow_synthetic=True)
                assert stale_staging() == [], kill
            build()  # the next run, while the killed writer is still a zombie
        finally:
            reap(writers)
        assert temp_files(tree) == [] and not list(tree.glob(".*")), kill
        assert list(output.parent.iterdir()) == [output], kill
        assert stale_staging() == [], kill
