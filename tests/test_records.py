"""Measurement records: round trip, readable errors, canonical paths, crash-safe writes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import REPO

from leaderboard.errors import Problem
from leaderboard.records import (
    AccuracyResult,
    EnergyStats,
    MeasuredWeights,
    MeasurementRecord,
    Performance,
    Provenance,
    atomic_write_text,
    iter_records,
    read_record,
    record_path,
    write_record,
)


def full_record(entry_id="resnet50.a1_in1k", hardware="nvidia-h100-sxm", scenario="offline"):
    """A record with every optional block filled in."""
    return MeasurementRecord(
        entry_id=entry_id, hardware=hardware, scenario=scenario, status="unstable",
        reasons=["cv above 2%"], measured_at="2026-01-02T03:04:05Z",
        weights=MeasuredWeights(kind="pretrained", sha256="0123456789abcdef" * 4),
        input_shape=[256, 3, 224, 224], batch_size=256, precision="bf16",
        params_m=25.557, gflops=4.109,
        energy=EnergyStats(gross_j_per_image=0.0123456789, ci95_low_j=0.0121, ci95_high_j=0.0126,
                           cv=0.021, windows=7, idle_power_w=71.5, idle_subtracted_j_per_image=0.0099,
                           avg_power_w=412.25, meter="nvml-total-energy"),
        performance=Performance(throughput_img_s=33394.5, batch_latency_ms=7.66),
        accuracy=AccuracyResult(top1=80.37, top5=94.6, images=50000, dataset_fingerprint="sha256:abc",
                                verdict="verified", claim_delta_top1=-0.012),
        provenance=Provenance(gpu_name="NVIDIA H100 80GB HBM3", driver="580.1", cuda="13.0",
                              torch="2.11.0", timm="1.0.31", validator_version="0.1.0",
                              power_limit_w=700.0, sm_clock_mhz=1980.0, mem_clock_mhz=2619.0,
                              temperature_c=41.0, throttle_reasons=["sw_power_cap"]),
        skip_key="5" * 64,
    )


def record_json(record):
    return json.loads(json.dumps(record.model_dump(mode="json")))


def test_write_then_read_round_trips(tmp_path):
    record = full_record()
    path = write_record(tmp_path, record)
    assert path == tmp_path / "resnet50.a1_in1k" / "measurements" / "nvidia-h100-sxm--offline.json"
    assert path == record_path(tmp_path, record.entry_id, record.hardware, record.scenario)
    assert record.board == "nvidia-h100-sxm--offline"
    assert read_record(path) == record
    text = path.read_text("utf-8")
    assert text.endswith("}\n")
    assert list(json.loads(text)) == sorted(json.loads(text))  # stable key order, small diffs
    write_record(tmp_path, record)
    assert path.read_text("utf-8") == text  # deterministic bytes
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_read_record_on_bad_json_names_file_and_line(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{\n  "entry_id": "x",\n  oops\n}\n', encoding="utf-8")
    with pytest.raises(ValueError) as info:
        read_record(path)
    assert str(info.value) == (f"{path}: line 3: not valid JSON: "
                               "Expecting property name enclosed in double quotes")


def test_read_record_on_schema_violations_names_file_and_fields(tmp_path):
    data = record_json(full_record())
    data["energy"]["gross_j_per_image"] = 0
    data["scenario"] = "batch"
    data["batch_size"] = "256"
    del data["provenance"]
    data["colour"] = "red"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError) as info:
        read_record(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid measurement record: ")
    details = message.removeprefix(f"{path}: invalid measurement record: ").split("; ")
    assert sorted(details) == sorted([
        "scenario: Input should be 'offline' or 'single-stream'",
        "batch_size: Input should be a valid integer",
        "energy.gross_j_per_image: Input should be greater than or equal to 0.000000001",
        "provenance: Field required",
        "colour: Extra inputs are not permitted",
    ])


def test_iter_records_yields_records_and_problems(tmp_path):
    good = write_record(tmp_path, full_record())
    moved = tmp_path / "resnet18.a1_in1k" / "measurements" / "nvidia-h100-sxm--offline.json"
    moved.parent.mkdir(parents=True)
    moved.write_text(good.read_text("utf-8"), encoding="utf-8")
    renamed = good.with_name("nvidia-a100--offline.json")
    renamed.write_text(good.read_text("utf-8"), encoding="utf-8")
    broken = tmp_path / "resnet50.a1_in1k" / "measurements" / "x--offline.json"
    broken.write_text("[", encoding="utf-8")
    (tmp_path / "resnet50.a1_in1k" / "measurements" / "notes.txt").write_text("ignored", "utf-8")

    results = dict(iter_records(tmp_path))
    assert set(results) == {good, moved, renamed, broken}
    assert results[good] == full_record()
    for wrong in (moved, renamed):
        problem = results[wrong]
        assert isinstance(problem, Problem)
        assert (problem.file, problem.location) == (str(wrong), "entry_id")
        assert problem.message == f"record belongs at {good}"
        assert problem.fix == "do not rename or move records by hand"
    assert isinstance(results[broken], Problem)
    assert results[broken].file == str(broken)
    assert results[broken].message.startswith("line 1: not valid JSON: ")


def test_atomic_write_replaces_content_and_cleans_up_on_failure(tmp_path):
    path = tmp_path / "deep" / "er" / "file.txt"
    atomic_write_text(path, "old\n")
    assert path.read_text("utf-8") == "old\n"
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(path, "half written \ud800 never lands")
    assert path.read_text("utf-8") == "old\n"
    assert [p.name for p in path.parent.iterdir()] == ["file.txt"]


WRITER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from leaderboard.records import atomic_write_text

    target, size = Path(sys.argv[1]), int(sys.argv[2])
    payloads = [chr(97 + n) * size for n in range(26)]  # built once: the loop is all writing
    i = json.loads(target.read_text())["i"]
    while True:
        i += 1
        atomic_write_text(target, '{"i": %d, "payload": "%s"}' % (i, payloads[i % 26]))
        if i % 5 == 0:
            print(i, flush=True)
""")


def test_atomic_write_survives_sigkill_mid_write(tmp_path):
    """SIGKILL a writer looping over atomic_write_text at random moments.

    The target is always a complete version (old or new), never torn. SIGKILL gives the writer
    no chance to delete its temp file, so each kill may leave one `.<name>.<pid>.*.tmp` behind
    (git ignores it); the next write of that file removes it (tests/test_kill_writers.py).
    """
    size = 2_000_000
    target = tmp_path / "record.json"
    target.write_text(json.dumps({"i": 0, "payload": "a" * size}), encoding="utf-8")
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    rng = random.Random(20260101)
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's leaderboard, installed or not
    kills, last = 5, 0
    for kill in range(1, kills + 1):
        writer = subprocess.Popen([sys.executable, str(script), str(target), str(size)],
                                  stdout=subprocess.PIPE, text=True, cwd=REPO, env=env)
        try:
            line = writer.stdout.readline()
            assert line, "writer died before writing"
            written = int(line)  # this version was complete before the writer printed its number
            time.sleep(rng.uniform(0.0, 0.05))
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=30)
            writer.stdout.close()
        assert writer.returncode == -signal.SIGKILL

        document = json.loads(target.read_text("utf-8"))  # parses: not torn
        i = document["i"]
        assert i >= written > last
        assert document["payload"] == chr(97 + i % 26) * size
        last = i
        strays = sorted(p.name for p in tmp_path.iterdir() if p.name not in {target.name, script.name})
        assert len(strays) <= kill
        assert all(name.startswith(".record.json.") and name.endswith(".tmp") for name in strays)


# ---------------------------------------------------------------------------------------------
# Issue 13: non-finite numbers and incomplete provenance are refused where records are read


@pytest.mark.parametrize("literal, phrase", [("Infinity", "non-finite number Infinity"),
                                             ("-Infinity", "non-finite number -Infinity"),
                                             ("NaN", "non-finite number NaN"),
                                             ("1e400", "too large to be finite")])
def test_non_finite_numbers_are_refused_with_the_file(tmp_path, literal, phrase):
    path = write_record(tmp_path, full_record())
    text = path.read_text()
    path.write_text(text.replace('"gross_j_per_image": 0.0123456789', f'"gross_j_per_image": {literal}'))
    with pytest.raises(ValueError, match=phrase) as caught:
        read_record(path)
    assert str(caught.value).startswith(f"{path}: not valid JSON: ")
    [(_, problem)] = list(iter_records(tmp_path))
    assert isinstance(problem, Problem) and phrase in problem.message


def test_non_finite_numbers_are_refused_by_the_schema_too():
    with pytest.raises(ValueError, match="finite number"):
        full_record().model_validate({**record_json(full_record()),
                                      "gflops": float("inf")})


@pytest.mark.parametrize("drop, named", [
    ("driver", "provenance.driver"), ("timm", "provenance.timm"),
    ("temperature_c", "provenance.temperature_c"), ("power_limit_w", "provenance.power_limit_w"),
])
def test_a_measured_record_without_full_provenance_is_refused(tmp_path, drop, named):
    record = full_record()
    record = record.model_copy(update={"provenance": record.provenance.model_copy(update={drop: None})})
    write_record(tmp_path, record)
    [(path, problem)] = list(iter_records(tmp_path))
    assert isinstance(problem, Problem)
    assert problem.location == named
    assert problem.message == f"measured record lacks provenance: {named}"
    assert "re-measure" in problem.fix


def test_only_gpu_name_and_validator_version_is_refused_naming_every_missing_field(tmp_path):
    record = full_record().model_copy(update={
        "provenance": Provenance(gpu_name="NVIDIA H100", validator_version="0.1.0"),
        "weights": MeasuredWeights(kind="pretrained"), "input_shape": []})
    write_record(tmp_path, record)
    [(_, problem)] = list(iter_records(tmp_path))
    assert problem.location.split(", ") == [
        "provenance.torch", "provenance.timm", "provenance.driver", "provenance.cuda",
        "provenance.power_limit_w", "provenance.sm_clock_mhz", "provenance.mem_clock_mhz",
        "provenance.temperature_c", "weights.sha256", "input_shape"]


def test_error_records_need_no_measurement_provenance(tmp_path):
    record = full_record().model_copy(update={
        "status": "error", "energy": None,
        "provenance": Provenance(gpu_name="NVIDIA H100", validator_version="0.1.0")})
    write_record(tmp_path, record)
    [(_, result)] = list(iter_records(tmp_path))
    assert isinstance(result, MeasurementRecord)


def test_a_record_that_is_a_link_to_dev_zero_is_refused_not_read(tmp_path):
    path = record_path(tmp_path, "resnet50.a1_in1k", "nvidia-h100-sxm", "offline")
    path.parent.mkdir(parents=True)
    path.symlink_to("/dev/zero")
    with pytest.raises(ValueError, match="is not a regular file"):
        read_record(path)
    [(_, problem)] = list(iter_records(tmp_path))
    assert isinstance(problem, Problem) and "not a regular file" in problem.message
