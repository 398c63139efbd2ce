"""Sweeps: selection, sharding, and run_campaign against a fake worker that crashes on demand."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import install_fake_worker, unmeasured_synthetic_tree

from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.measure.campaign import (
    format_duration,
    parse_duration_s,
    parse_shard,
    run_campaign,
    select_entries,
    shard,
)
from leaderboard.records import read_record, record_path, write_record
from leaderboard.testing import synthetic_record

FAKE_HW = "fake-gpu"

# The fake worker speaks the real worker's protocol (a ready line, one JSON task per stdin line,
# one result line each, exit codes) without importing the leaderboard, so each start costs a
# bare interpreter. It logs its start and, per task, a line that names the entry first.
FAKE_WORKER = textwrap.dedent('''
    import json, os, sys, time
    args = sys.argv[1:]
    subs = args[args.index("--submissions") + 1]
    def log(line):
        with open(os.environ["FAKE_SPAWN_LOG"], "a") as f:
            f.write(line + "\\n")
    log("start " + " ".join(args))
    if os.environ.get("FAKE_NO_METER"):
        print("error: NVML could not start (NVML Shared Library Not Found)", file=sys.stderr)
        print(json.dumps({"ready": False, "status": "meter-unavailable",
                          "error": "NVML could not start (NVML Shared Library Not Found)"}))
        sys.exit(3)
    print(json.dumps({"ready": True, "hardware": "fake-gpu", "gpu_name": "Fake GPU",
                      "idle_power_w": None, "window_mode": "v1-windows",
                      "parameters_from": "protocol v1"}), flush=True)
    for raw in sys.stdin:
        task = json.loads(raw)
        entry, scenario = task["entry_id"], task["scenario"]
        flags = ["--force"] if task.get("force") else []
        if task.get("weights_path"):
            flags += ["--weights-path", task["weights_path"]]
        if task.get("reference_s"):
            flags += ["--reference-s", f"{task['reference_s']:g}"]
        if task.get("idle_power_w"):
            flags += ["--idle-w", f"{task['idle_power_w']:g}"]
        log(" ".join(["--entry", entry, "--scenario", scenario, *args, *flags]))
        behaviour = json.loads(os.environ.get("FAKE_BEHAVIOUR", "{}")).get(entry, "ok")
        time.sleep(float(os.environ.get("FAKE_SLEEP_S", "0")))
        if behaviour == "exit1":
            print("Traceback (most recent call last):", file=sys.stderr)
            print("torch.OutOfMemoryError: CUDA out of memory", file=sys.stderr, flush=True)
            print(json.dumps({"entry_id": entry, "scenario": scenario, "status": "error",
                              "error": "OutOfMemoryError: CUDA out of memory"}), flush=True)
            sys.exit(1)
        if behaviour == "abort":
            print("about to segfault", file=sys.stderr, flush=True)
            os.abort()
        if behaviour == "hang":
            time.sleep(60)
        if behaviour == "garbage":
            print("this is not a result line", flush=True)
            sys.exit(0)
        if behaviour == "nometer":
            print(json.dumps({"entry_id": entry, "scenario": scenario,
                              "status": "meter-unavailable",
                              "error": "NVML could not start (NVML Shared Library Not Found)"}))
            sys.exit(3)
        record = json.load(open(os.environ["FAKE_TEMPLATE"]))
        record.update(entry_id=entry, scenario=scenario, hardware="fake-gpu")
        path = os.path.join(subs, entry, "measurements", "fake-gpu--" + scenario + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(record, f)
        energy = record["energy"]["gross_j_per_image"]
        print("some library chatter on stdout")
        print(json.dumps({"entry_id": entry, "scenario": scenario, "status": "ok",
                          "skipped": False, "energy_j": energy, "idle_power_w": 61.5,
                          "record_path": path, "error": None}), flush=True)
''')


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Six synthetic entries with no measurements."""
    return unmeasured_synthetic_tree(tmp_path, 6)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The fake worker command; ``fake.spawns()`` lists the argv of every start."""
    script, log = install_fake_worker(tmp_path, monkeypatch, "fake_worker.py", FAKE_WORKER)

    class Fake:
        cmd = [sys.executable, str(script)]

        @staticmethod
        def behave(**by_entry: str) -> None:
            monkeypatch.setenv("FAKE_BEHAVIOUR", json.dumps(by_entry))

        @staticmethod
        def spawns() -> list[str]:
            return log.read_text().splitlines() if log.exists() else []

        @staticmethod
        def measured() -> list[str]:
            return [line for line in Fake.spawns() if line.startswith("--entry ")]

        @staticmethod
        def starts() -> int:
            return sum(line.startswith("start ") for line in Fake.spawns())

    return Fake


def ids_of(submissions: Path) -> list[str]:
    return sorted(p.name for p in submissions.iterdir())


# ---------------------------------------------------------------------------------------------
# Selection, sharding, durations


def test_shards_are_disjoint_cover_everything_and_are_stable():
    ids = [f"m{i:03d}.t" for i in range(103)]
    shards = [shard(ids, i, 4) for i in range(1, 5)]
    assert sorted(sum(shards, [])) == sorted(ids)
    assert sum(len(s) for s in shards) == len(ids)
    assert max(len(s) for s in shards) - min(len(s) for s in shards) <= 1
    # the order ids are given in does not matter
    assert [shard(list(reversed(ids)), i, 4) for i in range(1, 5)] == shards
    assert shard(ids, 1, 1) == sorted(ids)
    assert shard(ids[:2], 3, 3) == []


@pytest.mark.parametrize("text", ["3/2", "0/2", "a/b", "1/0", "2", "-1/2", ""])
def test_bad_shards_are_rejected(text):
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


def test_parse_shard():
    assert parse_shard("2/8") == (2, 8)
    assert parse_shard(" 1 / 1 ") == (1, 1)


def test_select_entries_with_ids_globs_and_all(tree):
    ids = ids_of(tree)
    assert select_entries(tree, [], all_entries=True) == ids
    assert select_entries(tree, [ids[3], ids[1]], all_entries=False) == sorted([ids[1], ids[3]])
    prefix = ids[0].split(".")[0]
    globbed = select_entries(tree, [f"{prefix}*", ids[0]], all_entries=False)
    assert globbed == sorted(i for i in ids if i.startswith(prefix))
    expected = sorted(i for i in ids if i.endswith(("syn00000", "syn00001", "syn00002")))
    assert len(expected) == 3
    assert select_entries(tree, ["*.syn0000[0-2]"], all_entries=False) == expected


def test_select_entries_lists_every_unknown_id(tree):
    known = ids_of(tree)[0]
    with pytest.raises(LeaderboardError) as info:
        select_entries(tree, [known, known + "x", "nothing*", "zzz.q"], all_entries=False)
    message = str(info.value)
    assert f"{known}x (did you mean {known}?)" in message
    assert "nothing* (glob matches nothing)" in message
    assert "zzz.q" in message


def test_select_entries_needs_ids_or_all_but_not_both(tree):
    with pytest.raises(UsageError, match="--all"):
        select_entries(tree, [], all_entries=False)
    with pytest.raises(UsageError, match="not both"):
        select_entries(tree, ["a*"], all_entries=True)
    with pytest.raises(LeaderboardError, match="no submissions folder"):
        select_entries(tree / "missing", [], all_entries=True)


@pytest.mark.parametrize("text, seconds", [("2h", 7200), ("90m", 5400), ("3600", 3600),
                                           ("1h30m", 5400), ("45s", 45), ("1.5h", 5400)])
def test_parse_duration(text, seconds):
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("text", ["", "2x", "h", "0", "-5m", "1h-2m"])
def test_bad_durations_are_rejected(text):
    with pytest.raises(UsageError, match="time budget"):
        parse_duration_s(text)


def test_format_duration():
    assert format_duration(9.84) == "9.8 s"
    assert format_duration(725) == "12m05s"
    assert format_duration(3 * 3600 + 12 * 60 + 20) == "3h12m"


# ---------------------------------------------------------------------------------------------
# run_campaign with a fake worker


def test_failures_are_isolated_recorded_and_the_sweep_goes_on(tree, fake, capsys):
    ids = ids_of(tree)
    fake.behave(**{ids[1]: "exit1", ids[2]: "abort", ids[3]: "hang", ids[4]: "garbage"})
    summary = run_campaign(ids, tree, scenarios=["offline"], device="cuda",
                           weights_mode="random-init", resume=False, force=False,
                           time_budget_s=None, worker_cmd=fake.cmd, timeout_per_model_s=1.5)
    assert summary.hardware == FAKE_HW
    assert summary.counts == {"ok": 2, "unstable": 0, "refused": 0, "error": 4}
    assert [r.entry_id for r in summary.errors] == ids[1:5]
    assert len(fake.measured()) == 6  # every model ran, after the failures too
    assert fake.starts() == 6  # protocol v1: a fresh worker for each model

    for entry_id in ids[1:5]:
        record = read_record(record_path(tree, entry_id, FAKE_HW, "offline"))
        assert record.status == "error"
        assert record.energy is None
        assert record.weights.kind == "random-init"
        assert record.provenance.gpu_name == "Fake GPU"
    reasons = {i: read_record(record_path(tree, i, FAKE_HW, "offline")).reasons for i in ids[1:5]}
    assert "exit code 1" in reasons[ids[1]][0]
    assert "OutOfMemoryError: CUDA out of memory" in reasons[ids[1]][0]
    assert "torch.OutOfMemoryError: CUDA out of memory" in reasons[ids[1]]
    assert "SIGABRT" in reasons[ids[2]][0] and "about to segfault" in reasons[ids[2]]
    assert "timed out" in reasons[ids[3]][0]
    assert "without a valid result line" in reasons[ids[4]][0]
    for entry_id in (ids[0], ids[5]):
        assert read_record(record_path(tree, entry_id, FAKE_HW, "offline")).status == "ok"

    progress = capsys.readouterr().err
    assert f"[1/6] {ids[0]} offline ok 0.0123 J/img" in progress
    assert f"[3/6] {ids[2]} offline error after " in progress
    assert ": worker failed (killed by SIGABRT)" in progress
    assert "ETA" in progress
    table = summary.format_summary()
    assert "error" in table and "models per hour" in table and ids[1] in table


def test_a_crash_does_not_replace_an_earlier_good_record(tree, fake):
    ids = ids_of(tree)[:2]
    good = synthetic_record(ids[0], 0.5, hardware=FAKE_HW).model_copy(update={"synthetic": False})
    path = write_record(tree, good)
    before = path.read_bytes()
    fake.behave(**{ids[0]: "exit1"})
    summary = run_campaign(ids, tree, scenarios=["offline"], resume=False, force=True,
                           time_budget_s=None, worker_cmd=fake.cmd, progress=False)
    assert path.read_bytes() == before
    assert "earlier record kept" in summary.errors[0].message
    assert any("--force" in line for line in fake.measured())


def test_resume_skips_measured_entries_without_spawning(tree, fake):
    ids = ids_of(tree)
    fake.behave(**{ids[2]: "exit1"})
    first = run_campaign(ids, tree, scenarios=["offline", "single-stream"], resume=False,
                         force=False, time_budget_s=None, worker_cmd=fake.cmd, progress=False)
    assert first.planned == 12 and first.counts["ok"] == 10 and first.counts["error"] == 2
    assert len(fake.measured()) == 12

    fake.behave()  # the broken model works now
    second = run_campaign(ids, tree, scenarios=["offline", "single-stream"], resume=True,
                          force=False, time_budget_s=None, worker_cmd=fake.cmd, progress=False)
    assert second.resumed == 10
    new_spawns = fake.measured()[12:]
    # only the entry with error records was started again, once per scenario
    assert len(new_spawns) == 2 and all(f"--entry {ids[2]} " in line for line in new_spawns)
    assert second.counts["ok"] == 2
    assert read_record(record_path(tree, ids[2], FAKE_HW, "single-stream")).status == "ok"


def test_resume_with_a_given_hardware_does_not_probe(tree, fake):
    ids = ids_of(tree)[:3]
    write_record(tree, synthetic_record(ids[0], 0.1, hardware=FAKE_HW).model_copy(
        update={"synthetic": False}))
    write_record(tree, synthetic_record(ids[1], 0.1, hardware="other-gpu").model_copy(
        update={"synthetic": False}))
    summary = run_campaign(ids, tree, scenarios=["offline"], resume=True, force=False,
                           time_budget_s=None, worker_cmd=fake.cmd, hardware=FAKE_HW, progress=False)
    assert fake.starts() == 2  # a fresh worker per task measured, none just to name the GPU
    # a record on other hardware does not count as measured here
    assert [line.split()[1] for line in fake.measured()] == ids[1:]
    assert summary.resumed == 1 and summary.counts["ok"] == 2


def test_time_budget_stops_starting_new_models(tree, fake, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_SLEEP_S", "0.4")
    ids = ids_of(tree)
    summary = run_campaign(ids, tree, scenarios=["offline"], resume=False, force=False,
                           time_budget_s=1.0, worker_cmd=fake.cmd)
    ran = len(fake.measured())
    assert 1 <= ran <= 3
    assert summary.not_started == len(ids) - ran
    assert len(summary.results) == ran
    assert f"{summary.not_started} task(s) not started" in capsys.readouterr().err
    assert "not started (budget)" in summary.format_summary()


def test_no_meter_at_the_probe_stops_before_any_model(tree, fake, monkeypatch):
    monkeypatch.setenv("FAKE_NO_METER", "1")
    summary = run_campaign(ids_of(tree), tree, scenarios=["offline"], resume=False, force=False,
                           time_budget_s=None, worker_cmd=fake.cmd, progress=False)
    assert "NVML could not start" in summary.stopped
    assert fake.measured() == [] and len(fake.spawns()) == 1
    assert summary.not_started == 6 and summary.results == []
    assert not list(tree.glob("*/measurements/*.json"))


def test_no_meter_in_the_first_worker_stops_the_sweep_at_once(tree, fake):
    ids = ids_of(tree)
    fake.behave(**{ids[0]: "nometer"})
    summary = run_campaign(ids, tree, scenarios=["offline"], resume=False, force=False,
                           time_budget_s=None, worker_cmd=fake.cmd, progress=False)
    assert "NVML could not start" in summary.stopped
    assert len(fake.measured()) == 1
    assert summary.not_started == 6
    assert not list(tree.glob("*/measurements/*.json"))  # no error records for a missing meter


def test_bad_arguments_are_rejected_before_anything_runs(tree, fake):
    with pytest.raises(UsageError, match="scenario"):
        run_campaign(ids_of(tree), tree, scenarios=["batch"], worker_cmd=fake.cmd)
    with pytest.raises(UsageError, match="weights mode"):
        run_campaign(ids_of(tree), tree, weights_mode="imagenet", worker_cmd=fake.cmd)
    with pytest.raises(UsageError, match="--weights-dir"):
        run_campaign(ids_of(tree), tree, weights_mode="pretrained", worker_cmd=fake.cmd)
    assert fake.spawns() == []
    empty = run_campaign([], tree, worker_cmd=fake.cmd)
    assert empty.planned == 0 and fake.spawns() == []


def test_pretrained_mode_passes_each_entry_its_weights_file(tree, fake, tmp_path):
    ids = ids_of(tree)[:2]
    run_campaign(ids, tree, weights_mode="pretrained", weights_dir=tmp_path / "w", hardware=FAKE_HW,
                 worker_cmd=fake.cmd, progress=False)
    for entry_id, line in zip(ids, fake.measured(), strict=True):
        assert f"--weights-mode pretrained --weights-path {tmp_path / 'w' / entry_id}.safetensors" in line


def test_three_reference_checks_run_first_and_only_for_them(tree, fake):
    ids = ids_of(tree)
    run_campaign(ids, tree, scenarios=["offline"], reference_s=0.5, worker_cmd=fake.cmd,
                 progress=False)
    measured = fake.measured()
    with_reference = [line.split()[1] for line in measured if "--reference-s 0.5" in line]
    assert len(with_reference) == 3 and len(measured) == len(ids)
    assert [line.split()[1] for line in measured[:3]] == with_reference  # early in the lease


def test_reference_entries_are_the_cheapest_a_resnet50_and_a_large_one():
    from leaderboard.measure.selection import estimated_cost, plan_references

    submissions = Path(__file__).resolve().parents[1] / "submissions"
    ids = sorted(p.name for p in submissions.iterdir() if (p / "submission.yaml").is_file())[::15]
    ids += ["resnet50.a1_in1k"]
    ordered, chosen = plan_references(submissions, ids)
    costs = sorted(estimated_cost(submissions, i) for i in ids)
    assert ordered[:3] == chosen and sorted(ordered) == sorted(ids)
    assert estimated_cost(submissions, chosen[0]) == costs[0]
    assert chosen[1].startswith("resnet50")
    assert estimated_cost(submissions, chosen[2]) >= costs[int(0.9 * len(costs)) - 1]


def test_each_fresh_v1_worker_cools_down_to_the_idle_the_last_one_reported(tree, fake):
    run_campaign(ids_of(tree)[:3], tree, scenarios=["offline"], worker_cmd=fake.cmd,
                 progress=False)
    measured = fake.measured()
    assert "--idle-w" not in measured[0]  # nothing seen yet
    assert all(line.endswith("--idle-w 61.5") for line in measured[1:])
