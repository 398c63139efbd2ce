"""The record rules (issue 21, classes 3 and 4): one function, applied by the writer, import and check.

Each case is a record that main imported, passed `check` and published (or crashed the build
with). Each is refused here by `records import` and by `check` with the same message, and,
where it can be a record object at all, by the validator's writer (``write_record``).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import valid_submission_dict, write_submission
from test_records import full_record

from leaderboard.check import check_paths
from leaderboard.gpu_peaks import GPU_PEAKS, UNKNOWN_GPU
from leaderboard.record_rules import energy_floor_j, record_problems
from leaderboard.records import MeasurementRecord, loads_json, write_record
from leaderboard.records_archive import import_records

NAME = "resnet50.a1_in1k/measurements/nvidia-h100-sxm--offline.json"
LONG_SLUG = "nvidia-h100-" + "x" * 220


def _set(path: str, value: object) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        target = document
        for key in parents:
            target = target[key]
        target[last] = value
    return change


def _energy(**values: float) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        document["energy"].update(values)
    return change


def _meter_spelled_otherwise(document: dict) -> None:
    document["energy"]["meter"] = "NVML-total-energy"
    document["provenance"]["driver"] = None


CASES = {
    # name: (change to the record's JSON, the message that refuses it)
    "energy below the physical floor": (
        _energy(gross_j_per_image=2e-5, ci95_low_j=1.9e-5, ci95_high_j=2.1e-5,
                idle_subtracted_j_per_image=1e-5),
        "energy.gross_j_per_image: 2e-05 J is below the physical floor 0.000204 J for 4.11 "
        "GFLOPs/image on nvidia-h100-sxm (NVIDIA H100 Tensor Core GPU datasheet: FP8 Tensor "
        "Core with sparsity 3,958 TFLOPS (SXM, up to 700 W); 3,341 TFLOPS (NVL, 350-400 W); "
        "3,026 TFLOPS (PCIe, 300-350 W), x2)"),
    "power above the limit": (
        _energy(avg_power_w=900.0),
        "energy.avg_power_w: 900 W is above the power limit 700 W x 1.05"),
    "unknown protocol": (
        _set("protocol_version", "7"),
        "protocol_version: '7' does not exist; known: 1, 2"),
    "identifier format": (
        _set("provenance.gpu_uuid_sha256", "GPU-1234"),
        "provenance.gpu_uuid_sha256: 'GPU-1234' is not 64 lowercase hex digits"),
    "GPU name against the board": (
        _set("provenance.gpu_name", "NVIDIA A100-SXM4-80GB"),
        "provenance.gpu_name: 'NVIDIA A100-SXM4-80GB' is not the GPU of the board 'nvidia-h100-sxm'"),
    "CI excludes the median": (
        _energy(ci95_low_j=0.02, ci95_high_j=0.03),
        "energy: the 95% CI [0.02, 0.03] J does not contain the median 0.0123457 J"),
    "a date that does not exist": (
        _set("measured_at", "2026-02-30T00:00:00Z"),
        "measured_at: '2026-02-30T00:00:00Z' is not a time that exists"),
    "a date in the future": (
        _set("measured_at", "2099-01-01T00:00:00Z"),
        "measured_at: 2099-01-01T00:00:00Z is in the future"),
    "meter spelled to skip GPU provenance": (
        _meter_spelled_otherwise,
        "energy.meter: 'NVML-total-energy' is not a known meter"),
    "verified far from the claim": (
        _set("accuracy", {"top1": 78.0, "top5": 94.0, "images": 50000,
                          "dataset_fingerprint": "sha256:abc", "verdict": "verified",
                          "claim_delta_top1": -0.01}),
        "accuracy.verdict: 'verified' but the measured top-1 78 is -2.382 points from the claim"),
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rules")
    write_submission(root, valid_submission_dict())
    return root / "submissions"


def record_document() -> dict:
    return json.loads(json.dumps(full_record().model_dump(mode="json")))


def archive_of(path: Path, name: str, data: bytes) -> Path:
    manifest = json.dumps({"format": "leaderboard-records", "version": 1,
                           "files": {name: hashlib.sha256(data).hexdigest()}}).encode()
    with tarfile.open(path, "w:gz") as tar:
        for member, content in (("manifest.json", manifest), (name, data)):
            info = tarfile.TarInfo(member)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def refusals(tree: Path, tmp_path: Path, name: str, data: bytes) -> tuple[str, str]:
    """What import and check say of a record with these bytes at ``name``."""
    fresh = tmp_path / "import" / "submissions"
    shutil.copytree(tree, fresh)
    result = import_records(archive_of(tmp_path / "a.tar.gz", name, data), fresh)
    assert not result.written and not list(fresh.glob("*/measurements/*.json"))
    checked = tmp_path / "check" / "submissions"
    shutil.copytree(tree, checked)
    (checked / name).parent.mkdir(parents=True, exist_ok=True)
    (checked / name).write_bytes(data)
    # `field: message`, as import words it (check prints the field as the problem's location).
    problems = [f"{p.location}: {p.message}" if p.location else p.message
                for p in check_paths([], checked).problems if p.file == str(checked / name)]
    return "; ".join(reason for _, reason in result.refused), "; ".join(problems)


def test_the_unchanged_record_passes_import_and_check(tree, tmp_path):
    data = (json.dumps(record_document(), indent=2) + "\n").encode()
    fresh = tmp_path / "submissions"
    shutil.copytree(tree, fresh)
    assert import_records(archive_of(tmp_path / "a.tar.gz", NAME, data), fresh).written
    assert [p for p in check_paths([], fresh).problems if p.severity == "error"] == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_import_check_and_writer_refuse_the_same(case, tree, tmp_path):
    change, message = CASES[case]
    document = record_document()
    change(document)
    imported, checked = refusals(tree, tmp_path, NAME, (json.dumps(document) + "\n").encode())
    assert message in imported
    assert message in checked
    try:
        record = MeasurementRecord.model_validate(document)
    except ValueError:
        return  # not even a record object: the writer cannot be handed one
    writer_tree = tmp_path / "writer" / "submissions"
    shutil.copytree(tree, writer_tree)
    with pytest.raises(ValueError, match="record not written") as refused:
        write_record(writer_tree, record)
    if "provenance" not in message:  # the writer leaves provenance to the readers
        assert message in str(refused.value)


def test_duplicate_keys_are_refused(tree, tmp_path):
    text = json.dumps(record_document(), indent=2).replace('"status": "unstable"',
                                                           '"status": "unstable", "status": "ok"')
    imported, checked = refusals(tree, tmp_path, NAME, text.encode())
    assert "duplicate key 'status' in one object" in imported
    assert "duplicate key 'status' in one object" in checked
    with pytest.raises(ValueError, match="duplicate key"):
        loads_json(text)


def test_a_slug_the_build_cannot_name_a_file_after_is_refused(tree, tmp_path):
    document = record_document()
    document["hardware"] = LONG_SLUG
    name = f"resnet50.a1_in1k/measurements/{LONG_SLUG}--offline.json"
    imported, checked = refusals(tree, tmp_path, name, json.dumps(document).encode())
    message = "hardware: 232 characters; at most 64 (the build names files after it)"
    assert message in imported and message in checked


def test_a_synthetic_record_is_refused_by_import_as_by_the_build(tree, tmp_path):
    document = record_document()
    document["synthetic"] = True
    imported, checked = refusals(tree, tmp_path, NAME, json.dumps(document).encode())
    assert "record is marked synthetic (made-up test data)" in imported
    assert "record is marked synthetic (made-up test data)" in checked


# The datasheet figures as verified (issue 21): (largest figure with sparsity, TFLOP/s; the
# figure and board power of the most efficient form factor). A change here is a change of
# source: say which in the commit.
DATASHEET = {"h100": (3958, 3026, 300), "h200": (3958, 3958, 700), "a100": (1248, 1248, 250),
             "l4": (485, 485, 72), "l40s": (1466, 1466, 350), "4090": (1321.2, 1321.2, 450)}


def test_the_floor_follows_the_datasheet_figures():
    assert {key: (p.peak_tflops, p.efficient_tflops, p.efficient_power_w)
            for key, p in GPU_PEAKS.items()} == DATASHEET
    # ResNet-50 at 224 px: 4.11 GMACs = 8.22 GFLOPs per image.
    assert energy_floor_j(8.22e9, "nvidia-h100-80gb-hbm3") == pytest.approx(
        8.22e9 / (3026e12 / 300 * 2))
    assert GPU_PEAKS["4090"].peak_flops == pytest.approx(1321.2e12)
    # An unknown GPU gets the most permissive floor and ceiling in the table.
    assert energy_floor_j(8.22e9, "acme-x1") == min(energy_floor_j(8.22e9, k) for k in GPU_PEAKS)
    assert UNKNOWN_GPU.peak_flops == max(p.peak_flops for p in GPU_PEAKS.values())


def test_every_row_names_its_document_and_where_it_was_checked():
    for key, peak in GPU_PEAKS.items():
        assert peak.document.startswith("NVIDIA ") and peak.url.startswith("https://"), key
        assert peak.checked_against and all(u.startswith("https://") for u in peak.checked_against)
        # the figures say which form factor and power each number is for, and that it is sparse
        assert "with sparsity" in peak.figures and " W" in peak.figures, key


@pytest.mark.parametrize("key", sorted(DATASHEET))
def test_the_floor_refuses_below_and_accepts_above_on_every_gpu(key):
    """A record 10% under a GPU's floor is refused, one 10% over it (or a real-looking one) is not."""
    hardware = {"4090": "nvidia-geforce-rtx-4090"}.get(key, f"nvidia-{key}")
    gpu_name = {"4090": "NVIDIA GeForce RTX 4090"}.get(key, f"NVIDIA {key.upper()}")
    floor = energy_floor_j(4.109e9, hardware)

    def problems(energy_j: float) -> list[str]:
        document = full_record(hardware=hardware).model_dump(mode="json")
        document["provenance"].update(gpu_name=gpu_name, power_limit_w=1000.0)
        document["energy"].update(gross_j_per_image=energy_j, ci95_low_j=energy_j * 0.99,
                                  ci95_high_j=energy_j * 1.01)
        record = MeasurementRecord.model_validate(document)
        return [p for p in record_problems(record) if p.startswith(("energy", "performance"))]

    assert [p for p in problems(floor * 0.9) if "below the physical floor" in p]
    assert problems(floor * 1.1) == []
    assert problems(0.0123456789) == []  # the test record's H100 figure: ~30x the H100 floor
