"""`leaderboard report`: the pull-request comment rendered from fixture records."""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PINNED_SHA256, valid_submission_dict, write_submission

from leaderboard.cli import cli
from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.records import MeasurementRecord, write_record
from leaderboard.records_archive import export_records
from leaderboard.report import REPORT_MARKER, build_report, md, render_markdown
from leaderboard.testing import synthetic_record

HW = "synthetic-gpu"
NEW = "resnet34.a1_in1k"
HEAD = "0123456789abcdef0123456789abcdef01234567"


def entry(root: Path, entry_id: str, architecture: str, top1: float) -> None:
    data = valid_submission_dict(entry_id, architecture=architecture)
    data["claims"]["top1"], data["claims"]["top5"] = top1, None
    write_submission(root, data)


def record(entry_id: str, energy_j: float, scenario: str = "offline", **changes) -> MeasurementRecord:
    """A synthetic record with some fields replaced (and validated again)."""
    data = synthetic_record(entry_id, energy_j, scenario=scenario).model_dump()
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return MeasurementRecord.model_validate(data)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """The default branch: three measured entries on the offline board, ResNet-50 among them."""
    root = tmp_path / "base"
    for entry_id, architecture, top1, energy in [("resnet18.a1_in1k", "resnet18", 71.0, 0.002),
                                                 ("resnet50.a1_in1k", "resnet50", 80.0, 0.010),
                                                 ("resnet101.a1_in1k", "resnet101", 82.0, 0.020)]:
        entry(root, entry_id, architecture, top1)
        write_record(root / "submissions", synthetic_record(entry_id, energy))
    return root / "submissions"


@pytest.fixture
def pr(tmp_path: Path) -> Path:
    """The pull request's new entry with two records from the validator: the artifact's content."""
    root = tmp_path / "pr"
    data = valid_submission_dict(NEW, architecture="resnet34")
    data["claims"].update(top1=79.8, top5=94.9, energy_j_per_image=0.012, source="paper, table 2")
    write_submission(root, data)
    write_record(root / "submissions", record(
        NEW, 0.015,
        weights={"kind": "pretrained", "sha256": PINNED_SHA256},
        accuracy={"top1": 79.7, "top5": 94.8, "images": 50000, "dataset_fingerprint": "sha256:ab",
                  "verdict": "verified", "claim_delta_top1": -0.1},
        provenance={"gpu_name": "NVIDIA H100 80GB HBM3", "driver": "570.86.15", "cuda": "12.8",
                    "torch": "2.11.0", "timm": "1.0.31", "nvidia_ml_py": "12.575.51",
                    "validator_version": "0.1.0", "git_sha": "a" * 40, "power_limit_w": 700.0},
    ))
    write_record(root / "submissions", record(
        NEW, 0.2, scenario="single-stream", status="unstable",
        reasons=["CV 2.5% above 2%"], energy={"cv": 0.025},
        provenance={"throttle_reasons": ["sw_thermal_slowdown"]},
    ))
    return root / "submissions"


@pytest.fixture
def archive(pr: Path, tmp_path: Path) -> Path:
    path = tmp_path / "artifact" / "records.tar.gz"
    export_records(pr, path)
    return path


def test_the_report_as_data_field_by_field(base, pr, archive):
    report = build_report(archive, base, [NEW], pr_submissions=pr, pr_number=7, head_sha=HEAD,
                          allow_synthetic=True)
    data = report.to_dict()
    assert data["refused"] == [] and data["pr_number"] == 7 and data["head_sha"] == HEAD
    assert (data["scoring_version"], data["protocol_version"]) == ("1", "1")
    [new] = data["entries"]
    assert new["entry_id"] == NEW and new["problems"] == []
    assert new["accuracy"] == {
        "claimed_top1": 79.8, "claimed_top5": 94.9, "claim_source": "paper, table 2",
        "measured_top1": 79.7, "measured_top5": 94.8, "images": 50000, "verdict": "verified",
        "delta_top1": -0.1, "board": f"{HW}--offline",
    }
    offline, single = new["boards"]
    # Scored with the verified 79.7: the frontier within 0.5 points is ResNet-50 at 0.010 J.
    expected_offline = {
        "board": f"{HW}--offline", "status": "ok", "reasons": [], "energy_j": 0.015,
        "ci95_low_j": 0.015 * 0.995, "ci95_high_j": 0.015 * 1.005, "cv": 0.004, "windows": 5,
        "avg_power_w": 350.0, "throughput_img_s": 350.0 / 0.015, "claimed_energy_j": 0.012,
        "tier": "B", "score": pytest.approx(100 / 1.5), "excess_factor": pytest.approx(1.5),
        "relative_to_reference": pytest.approx(1.5), "cheaper_alternative": "resnet50.a1_in1k",
        "cheaper_energy_j": 0.010, "cheaper_top1": 80.0, "board_entries": 4,
    }
    assert {k: offline[k] for k in expected_offline} == expected_offline
    assert offline["provenance"] == {
        "gpu": "NVIDIA H100 80GB HBM3", "driver": "570.86.15", "cuda": "12.8", "torch": "2.11.0",
        "timm": "1.0.31", "nvidia_ml_py": "12.575.51", "validator": "0.1.0", "git_sha": "a" * 40,
        "protocol": "1", "power_limit_w": 700.0, "batch_size": 256, "precision": "fp16",
        "input_shape": [256, 3, 224, 224], "weights": f"pretrained sha256 {PINNED_SHA256[:12]}",
        "measured_at": "2026-01-01T00:00:00Z",
    }
    # Alone on its board: tier A, nothing cheaper, no reference to compare with.
    assert (single["status"], single["tier"], single["excess_factor"], single["cheaper_alternative"],
            single["relative_to_reference"], single["board_entries"], single["claimed_energy_j"]) == (
        "unstable", "A", 1.0, None, None, 1, None)
    assert single["reasons"] == ["CV 2.5% above 2%"]
    assert new["warnings"] == [
        f"synthetic record (test data); the site never publishes it ({HW}--offline, "
        f"{HW}--single-stream)",
        f"unstable: CV 2.5% across windows (above 2%); the tier may move on a re-run "
        f"({HW}--single-stream)",
        f"energy measured with random-init weights: accuracy is not verified, the claim stands "
        f"until a run with the pinned weights ({HW}--single-stream)",
        f"the GPU throttled: sw_thermal_slowdown ({HW}--single-stream)",
    ]


def test_the_markdown_comment(base, pr, archive):
    text = render_markdown(build_report(archive, base, [NEW], pr_submissions=pr, head_sha=HEAD,
                                        allow_synthetic=True))
    lines = text.splitlines()
    assert lines[:4] == [REPORT_MARKER, "## Validator report", "",
                         "commit `0123456789ab` · 1 entry · protocol v1, scoring v1"]
    assert f"### `{NEW}`" in lines
    assert ("**Accuracy:** claimed top-1 79.80 / top-5 94.90 (paper, table 2); measured top-1 "
            "79.70 / top-5 94.80 on 50,000 images (Δ -0.10, verified).") in lines
    assert (f"| `{HW}--offline` | ok | 0.015 (0.01492–0.01507); claimed 0.012 | 0.40% | **B** (1.50x) "
            "| 66.7 | 1.50x | `resnet50.a1_in1k`: 0.01 J, top-1 80.00 |") in lines
    assert (f"| `{HW}--single-stream` | unstable | 0.2 (0.199–0.201) | 2.50% | **A** (1.00x) | 100.0 "
            "| — | none: most efficient at its accuracy |") in lines
    assert (f"Scored against 4 measured entries on `{HW}--offline`, 1 measured entry on "
            f"`{HW}--single-stream`.") in lines
    assert (f"- the GPU throttled: sw\\_thermal\\_slowdown \\({HW}--single-stream\\)") in lines
    assert (f"| `{HW}--offline` | NVIDIA H100 80GB HBM3 (700 W limit) | `570.86.15` | `12.8` | `2.11.0` "
            "| `1.0.31` | `12.575.51` | `0.1.0` (`aaaaaaaaaaaa`) | v1 | 256, fp16 "
            f"| pretrained sha256 {PINNED_SHA256[:12]} | 2026-01-01T00:00:00Z |") in lines
    assert any(line.startswith("Tiers: **A** uses at most 1.25x") and "**B** uses at most 1.6x" in line
               for line in lines)
    assert text.count(REPORT_MARKER) == 1


def test_a_folder_of_records_reads_like_the_archive(base, pr, archive, tmp_path):
    from_archive = build_report(archive, base, [NEW], pr_submissions=pr, allow_synthetic=True).to_dict()
    folder = tmp_path / "records"
    (folder / NEW).mkdir(parents=True)
    (pr / NEW / "measurements").rename(folder / NEW / "measurements")
    from_folder = build_report(folder, base, [NEW], pr_submissions=pr, allow_synthetic=True)
    assert from_folder.to_dict() == from_archive


def test_a_record_for_an_entry_outside_the_pull_request_refuses_the_artifact(base, pr, tmp_path):
    write_record(pr, synthetic_record("resnet50.a1_in1k", 0.0001))  # would make ResNet-50 tier A
    write_submission(pr.parent, valid_submission_dict())
    archive = tmp_path / "records.tar.gz"
    export_records(pr, archive)
    report = build_report(archive, base, [NEW], pr_submissions=pr, allow_synthetic=True)
    assert report.refused == [f"resnet50.a1_in1k/measurements/{HW}--offline.json: no submission "
                              "'resnet50.a1_in1k' in the pull request"]
    assert report.entries[0].boards == []
    text = render_markdown(report)
    assert "> The validation artifact was refused and nothing from it is shown:" in text
    assert "| Board |" not in text


def test_a_tampered_archive_is_refused(base, pr, archive, tmp_path):
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(forged, "w:gz") as tar:
        for member, data in members:
            if member.name.endswith("--offline.json"):
                data = data.replace(b'"gross_j_per_image": 0.015', b'"gross_j_per_image": 0.001')
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    report = build_report(forged, base, [NEW], pr_submissions=pr, allow_synthetic=True)
    assert len(report.refused) == 1 and "does not match the manifest" in report.refused[0]
    assert report.entries[0].boards == []


def test_an_invalid_pull_request_submission_is_reported_not_scored(base, pr, archive):
    path = pr / NEW / "submission.yaml"
    path.write_text(path.read_text().replace("top1: 79.8", "top1: '79.8'"))
    report = build_report(archive, base, [NEW], pr_submissions=pr, allow_synthetic=True)
    [new] = report.entries
    assert new.boards == [] and new.accuracy is None
    assert new.problems == ["claims.top1 (line 17): expected a number, got '79.8'"]
    assert "**The submission has errors; run `leaderboard check` on it:**" in render_markdown(report)


def test_untrusted_text_is_inert_in_the_comment():
    text = md("@maintainers see [this](https://x.example) <img src=x onerror=1> a|b `code`\n# H")
    assert "\n" not in text and "@maintainers" not in text and "@\u200bmaintainers" in text
    assert "<" not in text and ">" not in text and "&lt;img" in text
    assert re.findall(r"(?<!\\)[\[\]()|`#]", text) == []  # every markup character is escaped
    assert len(md("x" * 1000)) == 300


def test_the_command_writes_markdown_or_json(base, pr, archive, tmp_path, monkeypatch):
    out = tmp_path / "comment.md"
    result = CliRunner().invoke(cli, [
        "report", "--allow-synthetic", "--records", str(archive), "--pr-entries", f"{NEW}, ",
        "--submissions", str(base),
        "--pr-submissions", str(pr), "--head-sha", HEAD, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr == "report: 1 entry, 2 record(s), 0 refused member(s)\n"
    assert out.read_text().startswith(REPORT_MARKER + "\n")
    result = CliRunner().invoke(cli, [
        "report", "--allow-synthetic", "--records", str(archive), "--pr-entries", NEW,
        "--submissions", str(base),
        "--pr-submissions", str(pr), "--format", "json"])
    assert json.loads(result.stdout)["entries"][0]["boards"][0]["tier"] == "B"


@pytest.mark.parametrize(("args", "message"), [
    (["--pr-entries", "../etc"], "--pr-entries: not an entry id: '../etc'"),
    (["--pr-entries", " "], "--pr-entries: name at least one entry id"),
    (["--pr-entries", NEW, "--head-sha", "main; rm -rf /"], "expected a hex commit id"),
])
def test_bad_arguments_are_refused(base, archive, args, message):
    result = CliRunner().invoke(cli, ["report", "--allow-synthetic", "--records", str(archive),
                                      "--submissions", str(base),
                                      *args])
    assert isinstance(result.exception, UsageError)
    assert message in str(result.exception)


def test_a_symlink_in_a_records_folder_is_refused(base, pr, tmp_path):
    folder = tmp_path / "records" / NEW / "measurements"
    folder.mkdir(parents=True)
    (folder / f"{HW}--offline.json").symlink_to("/etc/hostname")
    with pytest.raises(LeaderboardError, match="a symbolic link"):
        build_report(tmp_path / "records", base, [NEW], pr_submissions=pr, allow_synthetic=True)


def test_a_failed_run_and_unpinned_weights_are_warned_about(base, tmp_path):
    root = tmp_path / "pr2"
    data = valid_submission_dict(NEW, architecture="resnet34",
                                 imported_from={"file": "results/results-imagenet.csv",
                                                "repository": "huggingface/pytorch-image-models",
                                                "commit": "a" * 40, "row": 3})
    data["model"]["weights"]["hf_hub"]["revision"] = None
    write_submission(root, data)
    failed = record(NEW, 0.01, status="error", energy=None, performance=None,
                    reasons=["worker failed (exit -9, killed: out of memory?)", "Traceback ..."])
    write_record(root / "submissions", failed)
    archive = tmp_path / "records.tar.gz"
    export_records(root / "submissions", archive)
    report = build_report(archive, base, [NEW], pr_submissions=root / "submissions", allow_synthetic=True)
    [board] = report.entries[0].boards
    assert (board.status, board.energy_j, board.tier, board.score) == ("error", None, None, None)
    assert report.entries[0].warnings[:2] == [
        "weights are not pinned (model.weights.hf_hub.revision is missing): pretrained weights "
        "cannot be verified until they are",
        f"error: worker failed (exit -9, killed: out of memory?); Traceback ... ({HW}--offline)",
    ]
    assert f"| `{HW}--offline` | error | — | — | not scored | — | — | — |" in render_markdown(report)


def test_profile_and_sweep_records_in_the_artifact_are_left_out_not_a_crash(base, pr, tmp_path):
    # A validation run that also profiled and swept the entry: those records are not on a
    # board, and reading them as board records was a traceback.
    from leaderboard.analysis_records import write_analysis_record
    from leaderboard.testing import synthetic_profile, synthetic_sweep

    write_analysis_record(pr, synthetic_profile(NEW, 0.015))
    write_analysis_record(pr, synthetic_sweep(NEW, 0.015)[0])
    path = tmp_path / "artifact" / "with-analysis.tar.gz"
    export_records(pr, path)
    report = build_report(path, base, [NEW], pr_submissions=pr, allow_synthetic=True)
    assert report.refused == []
    [new] = report.entries
    assert [b.board for b in new.boards] == [f"{HW}--offline", f"{HW}--single-stream"]
    assert new.boards[0].tier == "B"
