"""Boards: records joined to their submissions and scored, as the site, report and findings see them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import valid_submission_dict, write_submission

from leaderboard.boards import load_boards
from leaderboard.errors import ProblemsFound
from leaderboard.records import MeasurementRecord, write_record
from leaderboard.testing import synthetic_record

HW = "synthetic-gpu"


def _entry(root: Path, entry_id: str, architecture: str, top1: float) -> None:
    data = valid_submission_dict(entry_id, architecture=architecture)
    data["claims"]["top1"] = top1
    write_submission(root, data)


def _with(record: MeasurementRecord, **changes: object) -> MeasurementRecord:
    return MeasurementRecord.model_validate({**record.model_dump(), **changes})


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """ResNet-18/50/101 measured offline; ResNet-101 also single-stream and once unstable."""
    for entry_id, architecture, top1 in [("resnet18.a1_in1k", "resnet18", 71.0),
                                         ("resnet50.a1_in1k", "resnet50", 80.0),
                                         ("resnet101.a1_in1k", "resnet101", 80.3)]:
        _entry(tmp_path, entry_id, architecture, top1)
    submissions = tmp_path / "submissions"
    write_record(submissions, synthetic_record("resnet18.a1_in1k", 0.002))
    write_record(submissions, synthetic_record("resnet50.a1_in1k", 0.010))
    write_record(submissions, synthetic_record("resnet101.a1_in1k", 0.030, status="unstable"))
    write_record(submissions, synthetic_record("resnet101.a1_in1k", 0.2, scenario="single-stream"))
    return submissions


def test_entries_are_joined_scored_and_compared_with_resnet50(tree: Path) -> None:
    boards = load_boards(tree, allow_synthetic=True)
    assert [e.id for e in boards.entries] == ["resnet101.a1_in1k", "resnet18.a1_in1k",
                                              "resnet50.a1_in1k"]
    assert boards.boards == [f"{HW}--offline", f"{HW}--single-stream"]
    assert (boards.headline_board, boards.headline_hardware) == (f"{HW}--offline", HW)
    assert boards.measured_count() == 3
    by_id = boards.by_id()
    big = by_id["resnet101.a1_in1k"].results[f"{HW}--offline"]
    # unstable records are scored; ResNet-50 (80.0) is within the 0.5-point band of 80.3
    assert big.score is not None and big.score.cheaper_alternative == "resnet50.a1_in1k"
    assert big.score.excess_factor == pytest.approx(3.0) and big.score.tier == "D"
    assert big.relative_to_reference == pytest.approx(3.0)
    assert by_id["resnet18.a1_in1k"].results[f"{HW}--offline"].score.tier == "A"
    alone = by_id["resnet101.a1_in1k"].results[f"{HW}--single-stream"]
    assert alone.score.tier == "A" and alone.relative_to_reference is None  # no ResNet-50 there


def test_failed_records_are_shown_but_not_scored(tree: Path) -> None:
    refused = _with(synthetic_record("resnet50.a1_in1k", 0.010), status="refused",
                    energy=None, performance=None, reasons=["another process on the GPU"])
    write_record(tree, refused)
    boards = load_boards(tree, allow_synthetic=True)
    result = boards.by_id()["resnet50.a1_in1k"].results[f"{HW}--offline"]
    assert result.score is None and result.energy_j is None and result.record.status == "refused"
    # without ResNet-50 scored there is no reference, and ResNet-101's frontier is itself
    big = boards.by_id()["resnet101.a1_in1k"].results[f"{HW}--offline"]
    assert big.relative_to_reference is None and big.score.tier == "A"


def test_a_verified_accuracy_on_one_board_scores_the_entry_on_every_board(tree: Path) -> None:
    verified = _with(synthetic_record("resnet101.a1_in1k", 0.2, scenario="single-stream"),
                     accuracy={"top1": 81.0, "top5": 95.0, "images": 50_000,
                               "dataset_fingerprint": "sha256:ab", "verdict": "verified",
                               "claim_delta_top1": 0.7})
    write_record(tree, verified)
    boards = load_boards(tree, allow_synthetic=True)
    entry = boards.by_id()["resnet101.a1_in1k"]
    assert entry.top1 == 81.0 and entry.accuracy_status == "verified"
    # at 81.0 ResNet-50 (80.0) is outside the band: ResNet-101 sets its own frontier offline
    assert entry.results[f"{HW}--offline"].score.cheaper_alternative is None


def test_synthetic_records_are_refused_unless_allowed_and_problems_come_together(tree: Path) -> None:
    (tree / "resnet18.a1_in1k" / "measurements" / f"{HW}--offline.json").write_text("{", "utf-8")
    with pytest.raises(ProblemsFound) as caught:
        load_boards(tree, allow_synthetic=False)
    locations = sorted(p.location for p in caught.value.problems)
    assert locations == ["", "synthetic", "synthetic", "synthetic"]  # unreadable + 3 synthetic
    assert all("--allow-synthetic" in p.fix for p in caught.value.problems
               if p.location == "synthetic")
