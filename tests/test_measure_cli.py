"""`leaderboard measure` and `leaderboard records` from the command line.

On a machine without an NVIDIA driver, measuring must fail loudly (exit 3, NVML's message)
and never report 0 J. Those tests skip where a GPU is present, so they never start a real run.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from leaderboard.cli import cli
from leaderboard.measure.meters import MeterUnavailable, open_meter
from leaderboard.testing import write_synthetic_tree

REPO = Path(__file__).resolve().parents[1]
ENTRY = "resnet50.a1_in1k"


def _has_gpu_meter() -> bool:
    try:
        open_meter("cuda").close()
    except MeterUnavailable:
        return False
    return True


needs_no_gpu = pytest.mark.skipif(_has_gpu_meter(), reason="a GPU is present: would really measure")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A synthetic tree plus the shipped resnet50.a1_in1k submission, without records."""
    submissions = write_synthetic_tree(tmp_path, 2)
    shutil.copytree(REPO / "submissions" / ENTRY, submissions / ENTRY,
                    ignore=shutil.ignore_patterns("measurements"))
    for folder in submissions.glob("*/measurements"):
        shutil.rmtree(folder)
    return submissions


@needs_no_gpu
def test_measure_without_a_gpu_fails_with_the_nvml_message(tree):
    result = CliRunner().invoke(cli, ["measure", ENTRY, "--submissions", str(tree)],
                                standalone_mode=False)
    assert isinstance(result.exception, MeterUnavailable)
    message = str(result.exception)
    assert "NVML" in message and "nothing was measured" in message
    assert "0 J" in message  # says it will not report zero energy
    assert not list(tree.glob("*/measurements/*"))


@needs_no_gpu
def test_measure_console_script_exits_3_with_a_clear_message(tree):
    proc = subprocess.run(
        [sys.executable, "-c", "from leaderboard.cli import main; main()", "measure", ENTRY,
         "--submissions", str(tree), "--scenario", "offline", "--scenario", "single-stream"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 3
    assert proc.stderr.startswith("error: cannot measure on cuda: NVML could not start")
    assert "NVIDIA driver" in proc.stderr
    assert "J/img" not in proc.stdout + proc.stderr
    assert not list(tree.glob("*/measurements/*"))


@needs_no_gpu
def test_worker_reports_the_missing_meter_in_its_ready_line():
    proc = subprocess.run([sys.executable, "-m", "leaderboard.measure.worker", "--protocol", "v1"],
                          input="", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "NVML could not start" in proc.stderr
    line = json.loads(proc.stdout.strip().splitlines()[-1])
    assert line["ready"] is False and line["status"] == "meter-unavailable"
    assert "NVML" in line["error"]


def test_worker_reports_a_broken_submission_as_an_error_and_goes_on(tmp_path, monkeypatch, capsys):
    from leaderboard.measure import meters, worker
    from leaderboard.testing import FakeMeter

    path = tmp_path / "submissions" / "bad.x" / "submission.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("schema_version: 1\nid: bad.x\n", "utf-8")
    monkeypatch.setattr(meters, "open_meter", lambda device, kind=None: FakeMeter())
    task = json.dumps({"entry_id": "bad.x", "scenario": "offline"}) + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(task * 2))
    code = worker.main(["--protocol", "v1", "--device", "cpu",
                        "--submissions", str(tmp_path / "submissions")])
    assert code == 0  # a bad task is one error line; the worker goes on until its input ends
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    ready, *results = lines
    assert ready["ready"] and ready["idle_power_w"] is None  # v1 reads idle per model
    assert len(results) == 2
    for line in results:
        assert line["entry_id"] == "bad.x" and line["status"] == "error"
        assert "the submission has errors" in line["error"]


@pytest.mark.parametrize("args, message", [
    (["measure"], "--all"),
    (["measure", "nope.x"], "no such entry"),
    (["measure", ENTRY, "--shard", "0/2"], "between 1 and 2"),
    (["measure", ENTRY, "--time-budget", "soon"], "time budget"),
])
def test_measure_usage_errors(tree, args, message):
    result = CliRunner().invoke(cli, [*args, "--submissions", str(tree)], standalone_mode=False)
    assert message in str(result.exception)


def test_help_documents_every_option():
    runner = CliRunner()
    text = runner.invoke(cli, ["measure", "--help"], terminal_width=200).output
    for option in ("--all", "--scenario", "offline|single-stream", "--device", "--shard I/N",
                   "--resume", "--force", "--time-budget", "--weights-mode",
                   "random-init|pretrained", "--weights-dir", "--submissions",
                   "--timeout-per-model", "--log-dir", "IDS_OR_GLOBS", "Exit codes"):
        assert option in text, option
    assert "export" in runner.invoke(cli, ["records", "--help"]).output
    assert "--submissions" in runner.invoke(cli, ["records", "export", "--help"]).output
    assert "--overwrite" in runner.invoke(cli, ["records", "import", "--help"]).output


def test_records_export_and_import_commands(tmp_path):
    source = write_synthetic_tree(tmp_path / "a", 3)
    target = tmp_path / "b" / "submissions"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("measurements"))
    archive = tmp_path / "records.tar.gz"
    runner = CliRunner()
    exported = runner.invoke(cli, ["records", "export", str(archive), "--submissions", str(source)])
    assert exported.exit_code == 0 and "exported 4 record(s)" in exported.output
    imported = runner.invoke(cli, ["records", "import", str(archive), "--submissions", str(target),
                                      "--allow-synthetic"])
    assert imported.exit_code == 0, imported.output
    assert "4 created, 0 updated, 0 unchanged" in imported.output
    again = runner.invoke(cli, ["records", "import", str(archive), "--submissions", str(target),
                                      "--allow-synthetic"])
    assert "0 created, 0 updated, 4 unchanged" in again.output


# ---------------------------------------------------------------------------------------------
# The worker's glue around the runner (in process, with the runner stubbed)


def _run_worker_main(monkeypatch, capsys, tree: Path, outcome) -> tuple[int, dict, str]:
    from leaderboard.measure import meters, runner, worker
    from leaderboard.testing import FakeMeter

    def fake_measure_and_write(submission, submissions_dir, **kwargs):
        assert submission.id == ENTRY and kwargs["scenario"] == "single-stream"
        assert kwargs["force"] is True and kwargs["weights_mode"] == "random-init"
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(runner, "measure_and_write", fake_measure_and_write)
    monkeypatch.setattr(meters, "open_meter", lambda device, kind=None: FakeMeter())
    task = {"entry_id": ENTRY, "scenario": "single-stream", "force": True}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(task) + "\n"))
    code = worker.main(["--protocol", "v1", "--device", "cpu", "--submissions", str(tree)])
    captured = capsys.readouterr()
    return code, json.loads(captured.out.strip().splitlines()[-1]), captured.err


def test_worker_prints_the_result_line_of_the_runner(tree, monkeypatch, capsys):
    from leaderboard.measure.runner import EntryResult
    from leaderboard.records import record_path
    from leaderboard.testing import synthetic_record

    record = synthetic_record(ENTRY, 0.0042, scenario="single-stream", hardware="nvidia-h100")
    path = record_path(tree, ENTRY, "nvidia-h100", "single-stream")
    code, line, _ = _run_worker_main(monkeypatch, capsys, tree, EntryResult(record, True, path))
    assert code == 0
    assert line == {"entry_id": ENTRY, "scenario": "single-stream", "status": "ok", "skipped": True,
                    "energy_j": 0.0042, "idle_power_w": record.energy.idle_power_w,
                    "record_path": str(path), "reasons": [], "error": None}


def test_worker_exit_codes_for_a_missing_meter_and_a_crash(tree, monkeypatch, capsys):
    code, line, err = _run_worker_main(monkeypatch, capsys, tree, MeterUnavailable("no NVML here"))
    assert code == 3 and line["status"] == "meter-unavailable" and "no NVML here" in err
    code, line, err = _run_worker_main(monkeypatch, capsys, tree, RuntimeError("CUDA error"))
    assert code == 1 and line["error"] == "RuntimeError: CUDA error" and line["fatal"] is True
    assert "Traceback" in err
