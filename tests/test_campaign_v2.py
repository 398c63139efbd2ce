"""Protocol v2's campaign: one long-lived worker; a crash or CUDA error costs one error record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import install_fake_worker, unmeasured_synthetic_tree

from leaderboard.measure.campaign import run_campaign
from leaderboard.records import read_record, record_path

# Speaks the worker's protocol (a ready line, then one JSON task per stdin line) without
# importing the leaderboard; logs every start so the tests can count workers.
FAKE_LEASE_WORKER = textwrap.dedent('''
    import json, os, sys, time
    args = sys.argv[1:]
    subs = args[args.index("--submissions") + 1]
    with open(os.environ["FAKE_SPAWN_LOG"], "a") as log:
        log.write(f"start {os.getpid()}\\n")
    if os.environ.get("FAKE_NO_METER"):
        print(json.dumps({"ready": False, "status": "meter-unavailable", "error": "NVML could not start"}))
        sys.exit(3)
    print(json.dumps({"ready": True, "hardware": "fake-gpu", "gpu_name": "Fake GPU",
                      "idle_power_w": 90.0, "window_mode": "sub-windows", "parameters_from": "probe"}),
          flush=True)
    behaviour = json.loads(os.environ.get("FAKE_BEHAVIOUR", "{}"))
    for line in sys.stdin:
        task = json.loads(line)
        entry, scenario = task["entry_id"], task["scenario"]
        what = behaviour.get(entry, "ok")
        if what == "abort":
            print("segfault now", file=sys.stderr, flush=True)
            os.abort()
        if what == "cuda":
            print("RuntimeError: CUDA error: an illegal memory access", file=sys.stderr, flush=True)
            print(json.dumps({"entry_id": entry, "scenario": scenario, "status": "error",
                              "error": "RuntimeError: CUDA error: illegal memory access",
                              "fatal": True}), flush=True)
            sys.exit(1)
        if what == "hang":
            time.sleep(120)
        record = json.load(open(os.environ["FAKE_TEMPLATE"]))
        record.update(entry_id=entry, scenario=scenario, hardware="fake-gpu")
        path = os.path.join(subs, entry, "measurements", "fake-gpu--" + scenario + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(record, f)
        with open(os.environ["FAKE_SPAWN_LOG"], "a") as log:
            log.write(f"measured {entry} in {os.getpid()}\\n")
        print(json.dumps({"entry_id": entry, "scenario": scenario, "status": "ok", "skipped": False,
                          "energy_j": 0.0123, "record_path": path, "reasons": [], "error": None}),
              flush=True)
''')


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return unmeasured_synthetic_tree(tmp_path, 5)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    script, log = install_fake_worker(tmp_path, monkeypatch, "fake_lease_worker.py", FAKE_LEASE_WORKER)

    class Fake:
        cmd = [sys.executable, str(script)]

        @staticmethod
        def behave(**by_entry: str) -> None:
            monkeypatch.setenv("FAKE_BEHAVIOUR", json.dumps(by_entry))

        @staticmethod
        def starts() -> int:
            return sum(line.startswith("start") for line in log.read_text().splitlines())

        @staticmethod
        def measured_in() -> dict[str, str]:
            lines = [line.split() for line in log.read_text().splitlines() if line.startswith("measured")]
            return {parts[1]: parts[3] for parts in lines}

    return Fake


def ids_of(submissions: Path) -> list[str]:
    return sorted(p.name for p in submissions.iterdir())


def v2(tree: Path, fake, ids: list[str], **kwargs):
    return run_campaign(ids, tree, protocol="2", worker_cmd=fake.cmd, progress=False, **kwargs)


def test_one_worker_measures_model_after_model(tree, fake):
    ids = ids_of(tree)
    summary = v2(tree, fake, ids)
    assert summary.counts["ok"] == len(ids) and summary.hardware == "fake-gpu"
    assert fake.starts() == 1
    assert len(set(fake.measured_in().values())) == 1  # every model in the same process


def test_a_crash_costs_one_error_record_and_a_fresh_worker_goes_on(tree, fake):
    ids = ids_of(tree)
    fake.behave(**{ids[1]: "abort", ids[3]: "cuda"})
    summary = v2(tree, fake, ids)
    assert summary.counts == {"ok": 3, "unstable": 0, "refused": 0, "error": 2}
    assert fake.starts() == 3  # the first, after the abort, after the CUDA error
    crashed = read_record(record_path(tree, ids[1], "fake-gpu", "offline"))
    assert crashed.status == "error" and "killed by SIGABRT" in crashed.reasons[0]
    assert any("segfault now" in r for r in crashed.reasons)
    cuda = read_record(record_path(tree, ids[3], "fake-gpu", "offline"))
    assert cuda.status == "error" and "CUDA error" in cuda.reasons[0]
    measured_in = fake.measured_in()
    assert measured_in[ids[0]] != measured_in[ids[2]] != measured_in[ids[4]]


def test_a_hung_model_is_killed_at_its_timeout(tree, fake):
    ids = ids_of(tree)[:2]
    fake.behave(**{ids[0]: "hang"})
    started = time.monotonic()
    summary = v2(tree, fake, ids, timeout_per_model_s=2.0)
    assert time.monotonic() - started < 30
    assert summary.counts["error"] == 1 and summary.counts["ok"] == 1
    hung = read_record(record_path(tree, ids[0], "fake-gpu", "offline"))
    assert "timed out" in hung.reasons[0]


def test_no_meter_at_start_stops_before_any_model(tree, fake, monkeypatch):
    monkeypatch.setenv("FAKE_NO_METER", "1")
    summary = v2(tree, fake, ids_of(tree))
    assert summary.stopped == "NVML could not start" and summary.not_started == 5
    assert not list(tree.glob("*/measurements/*"))


def test_resume_keeps_good_records_without_sending_them(tree, fake):
    ids = ids_of(tree)
    v2(tree, fake, ids[:2])
    summary = v2(tree, fake, ids, resume=True)
    assert summary.resumed == 2 and summary.counts["ok"] == 3


def test_sigterm_kills_the_worker_before_the_campaign_exits(tree, fake, tmp_path):
    # Issue 11, failure 3: a campaign killed at the budget left its worker running.
    ids = ids_of(tree)
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f'''
        import json, sys
        from pathlib import Path
        from leaderboard.measure.campaign import run_campaign
        summary = run_campaign({ids!r}, Path({str(tree)!r}), protocol="2",
                               worker_cmd={fake.cmd!r}, progress=False)
        print(json.dumps({{"terminated": summary.terminated, "not_started": summary.not_started}}))
    '''), "utf-8")
    env = {**os.environ, "FAKE_BEHAVIOUR": json.dumps({ids[1]: "hang"}),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, str(driver)], stdout=subprocess.PIPE, text=True, env=env)
    log = Path(os.environ["FAKE_SPAWN_LOG"])
    deadline = time.monotonic() + 60
    while not (log.exists() and "measured" in log.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    worker_pid = int(log.read_text().splitlines()[0].split()[1])
    time.sleep(0.5)  # the hanging model is running now
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert json.loads(out.strip().splitlines()[-1]) == {"terminated": True, "not_started": 4}
    assert not Path(f"/proc/{worker_pid}").exists() or \
        Path(f"/proc/{worker_pid}/stat").read_text().split()[2] == "Z"
