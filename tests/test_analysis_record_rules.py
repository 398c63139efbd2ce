"""Profile and sweep records get the record rules that apply to them, at import and in `check`.

A made-up record per broken rule is written to a tree, packed by `records export` and imported
into another tree (real files, the real archive code); `iter_analysis_records` (what `check` and
the build read) reports the same records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leaderboard.analysis_records import iter_analysis_records, write_analysis_record
from leaderboard.errors import Problem
from leaderboard.record_rules import analysis_record_problems
from leaderboard.records_archive import SYNTHETIC_REFUSAL, export_records, import_records
from leaderboard.testing import synthetic_profile, synthetic_sweep

ENTRY = "resnet50.a1_in1k"


def with_energy(record, **changes):
    return record.model_copy(update={"energy": record.energy.model_copy(update=changes)})


def broken_records():
    """(what is wrong, the record, the sentence its refusal must hold)."""
    profile = synthetic_profile(ENTRY, 0.01)
    sweep = synthetic_sweep(ENTRY, 0.01)
    future = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        ("future date", profile.model_copy(update={"measured_at": future}), "is in the future"),
        ("impossible date", sweep[0].model_copy(update={"measured_at": "2026-02-30T00:00:00Z"}),
         "measured_at"),
        ("unknown meter", with_energy(sweep[1], meter="NVML-Total-Energy"), "is not a known meter"),
        ("power above the limit", sweep[2].model_copy(update={
            "provenance": sweep[2].provenance.model_copy(update={"power_limit_w": 300.0})}),
         "above the power limit 300 W"),
        ("CI without its median", with_energy(sweep[3], ci95_low_j=0.02, ci95_high_j=0.03),
         "does not contain the median"),
    ]


def test_the_rules_name_each_problem():
    for what, record, sentence in broken_records():
        problems = analysis_record_problems(record)
        assert any(sentence in p for p in problems), (what, problems)
    assert analysis_record_problems(synthetic_profile(ENTRY, 0.01)) == []
    assert all(analysis_record_problems(r) == [] for r in synthetic_sweep(ENTRY, 0.01))


@pytest.fixture
def trees(tmp_path):
    source, target = tmp_path / "a", tmp_path / "b"
    for root in (source, target):
        (root / ENTRY).mkdir(parents=True)
        (root / ENTRY / "submission.yaml").write_text("x: 1\n", encoding="utf-8")
    return source, target


def test_import_refuses_each_broken_analysis_record(trees, tmp_path):
    source, target = trees
    broken = broken_records()
    for _, record, _ in broken:
        write_analysis_record(source, record)
    archive = tmp_path / "records.tar.gz"
    assert export_records(source, archive) == len(broken)
    result = import_records(archive, target, allow_synthetic=True)
    assert not result.written and list((target / ENTRY).iterdir()) == [target / ENTRY / "submission.yaml"]
    reasons = dict(result.refused)
    assert len(reasons) == len(broken)  # every problem at once, not the first only
    for what, _, sentence in broken:
        assert any(sentence in why for why in reasons.values()), (what, reasons)

    # `check` and the build read the tree through the same rules
    problems = [r for _, r in iter_analysis_records(source) if isinstance(r, Problem)]
    assert len(problems) == len(broken)
    for what, _, sentence in broken:
        assert any(sentence in f"{p.location}: {p.message}" for p in problems), what


def test_synthetic_analysis_records_only_with_allow_synthetic(trees, tmp_path):
    source, target = trees
    write_analysis_record(source, synthetic_profile(ENTRY, 0.01))
    archive = tmp_path / "records.tar.gz"
    export_records(source, archive)
    refused = import_records(archive, target)
    assert [why for _, why in refused.refused] == [SYNTHETIC_REFUSAL] and not refused.written
    assert import_records(archive, target, allow_synthetic=True).created
