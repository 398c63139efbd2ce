"""The SLURM job-array script: each task measures its shard and exports only its own records.

`leaderboard measure` is replaced by a fake that writes synthetic records (no GPU here); the
script's sharding, node-local copies, export and the merge by import are real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from leaderboard.records_archive import import_records
from leaderboard.testing import write_synthetic_tree

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "slurm" / "sweep.sbatch"

FAKE = '''
import sys
from pathlib import Path

from leaderboard.cli import main

args = sys.argv[1:]
if args[:1] != ["measure"]:
    sys.argv = ["leaderboard", *args]
    main()
    sys.exit(0)
import argparse

from leaderboard.measure.selection import parse_shard, select_entries, shard_by_cost
from leaderboard.records import write_record
from leaderboard.testing import synthetic_record

parser = argparse.ArgumentParser()
parser.add_argument("command")
parser.add_argument("entries", nargs="*")
for flag in ("--all", "--resume"):
    parser.add_argument(flag, action="store_true")
for option in ("--shard", "--time-budget", "--log-dir", "--scenario"):
    parser.add_argument(option)
parser.add_argument("--submissions", type=Path)
ns = parser.parse_args(args)
ids = shard_by_cost(ns.submissions, select_entries(ns.submissions, ns.entries, ns.all),
                    *parse_shard(ns.shard))
for entry_id in ids:
    write_record(ns.submissions, synthetic_record(entry_id, 0.01, hardware="fake-gpu"))
print("measured", ns.shard, " ".join(ids))
'''


@pytest.fixture
def fake_leaderboard(tmp_path: Path) -> Path:
    path = tmp_path / "fake-leaderboard"
    path.write_text(f"#!{sys.executable}\n{FAKE}")
    path.chmod(0o755)
    return path


def run_task(cwd: Path, task: int, count: int, leaderboard: Path, *args: str, **env: str):
    environment = {**os.environ, "SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_COUNT": str(count),
                   "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": str(count),
                   "SLURM_ARRAY_JOB_ID": "42", "SLURM_SUBMIT_DIR": str(cwd),
                   "LEADERBOARD": str(leaderboard), **env}
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120)


def fake_records(submissions: Path) -> set[str]:
    return {p.parent.parent.name for p in submissions.glob("*/measurements/fake-gpu--offline.json")}


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_node_local_shards_export_disjoint_records_that_merge(tmp_path, fake_leaderboard):
    root = tmp_path / "repo"
    submissions = write_synthetic_tree(root, 7, single_stream_every=0)
    out = tmp_path / "out"
    for task in (1, 2, 3):
        result = run_task(root, task, 3, fake_leaderboard, RECORDS_OUT=str(out),
                          TMPDIR=str(tmp_path / "node"))
        assert result.returncode == 0, result.stderr
        assert f"measured {task}/3 " in result.stdout
    assert fake_records(submissions) == set()  # the checkout itself is untouched
    archives = sorted(out.glob("records-shard-*.tar.gz"))
    assert [a.name for a in archives] == [f"records-shard-{i}.tar.gz" for i in (1, 2, 3)]
    per_shard = []
    for archive in archives:
        with tarfile.open(archive) as tar:
            names = [n for n in tar.getnames() if n.endswith(".json") and n != "manifest.json"]
        # Only what the task wrote: its entries' new records (their old ones come along, unchanged).
        per_shard.append({n.split("/")[0] for n in names if n.endswith("fake-gpu--offline.json")})
    assert sum(len(s) for s in per_shard) == 7 and set.union(*per_shard) == {
        p.name for p in submissions.iterdir()}
    for archive in archives:
        result = import_records(archive, submissions, overwrite=True, allow_synthetic=True)
        assert result.written, result.refused
    assert len(fake_records(submissions)) == 7
    assert not list((tmp_path / "node").glob("leaderboard-sweep-*"))  # node-local copies removed


def test_on_a_shared_file_system_tasks_write_in_place(tmp_path, fake_leaderboard):
    root = tmp_path / "repo"
    submissions = write_synthetic_tree(root, 5, single_stream_every=0)
    for task in (1, 2):
        result = run_task(root, task, 2, fake_leaderboard, "*.syn0000[0-3]")
        assert result.returncode == 0, result.stderr
    assert len(fake_records(submissions)) == 4


def test_the_array_must_be_numbered_from_one(tmp_path, fake_leaderboard):
    result = run_task(tmp_path, 2, 3, fake_leaderboard, SLURM_ARRAY_TASK_MIN="0")
    assert result.returncode == 2
    assert "submit the array as --array=1-N" in result.stderr


def test_one_task_of_an_array_can_be_rerun_alone(tmp_path, fake_leaderboard):
    root = tmp_path / "repo"
    write_synthetic_tree(root, 7, single_stream_every=0)
    first = run_task(root, 3, 4, fake_leaderboard)
    assert first.returncode == 0, first.stderr
    alone = {"SLURM_ARRAY_TASK_COUNT": "1", "SLURM_ARRAY_TASK_MIN": "3", "SLURM_ARRAY_TASK_MAX": "3"}
    refused = run_task(root, 3, 4, fake_leaderboard, **alone)
    assert refused.returncode == 2 and "SHARDS=N sbatch --array=i" in refused.stderr
    rerun = run_task(root, 3, 4, fake_leaderboard, SHARDS="4", **alone)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout == first.stdout  # the same shard: "measured 3/4 <its ids>"
    beyond = run_task(root, 5, 4, fake_leaderboard, SHARDS="4", **alone)
    assert beyond.returncode == 2 and "not a shard of 4" in beyond.stderr


def test_shards_of_the_shipped_entries_are_balanced_by_cost():
    from leaderboard.measure.selection import estimated_cost, list_entries, shard

    submissions = REPO / "submissions"
    ids = list_entries(submissions)
    costs = {entry_id: estimated_cost(submissions, entry_id) for entry_id in ids}
    assert len(ids) > 1000 and all(0 < c < float("inf") for c in costs.values())
    for count in range(2, 17):
        shards = [shard(ids, i, count, cost=costs.__getitem__) for i in range(1, count + 1)]
        assert sorted(sum(shards, [])) == sorted(ids)
        loads = [sum(costs[entry_id] for entry_id in part) for part in shards]
        assert max(loads) / min(loads) <= 1.05, (count, loads)
