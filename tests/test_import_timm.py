"""`leaderboard import-timm`: ids, claims and compute from timm's CSVs; idempotent; pins kept."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from conftest import SHIPPED_SUBMISSIONS, TIMM_RESULTS_DIR

from leaderboard.cli import cli
from leaderboard.errors import LeaderboardError
from leaderboard.import_timm import (
    TIMM_RESULTS_COMMIT,
    _keep_pins,
    build_entries,
    import_timm,
    render_submission,
)
from leaderboard.submission import check_submission_file
from leaderboard.timm_catalog import load_catalog

RESULTS_HEADER = "model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation\n"
RESULTS_ROWS = [
    'eva_giant_patch14_560.m30m_ft_in22k_in1k,560,89.790,10.210,98.990,1.010,"1,014.45",1.000,bicubic\n',
    "resnet50.a1_in1k,288,81.240,18.760,95.112,4.888,25.56,1.000,bicubic\n",
    "resnet50.a1_in1k,224,80.382,19.618,94.598,5.402,25.56,0.950,bicubic\n",
    "gcvit_tiny.in1k,224,83.390,16.610,96.398,3.602,28.22,0.875,bicubic\n",
]
BENCHMARK = (
    "model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,"
    "infer_gmacs,infer_macts\n"
    "resnet50,224,6356.02,161.077,1024,25.56,4.11,11.11\n"
    'resnet50,288,3849.63,265.98,1024,25.56,6.8,"1,018.37"\n'
    "resnet50,160,11604.38,88.223,1024,25.56,2.1,5.67\n"
)
EXPECTED_IDS = [
    "eva_giant_patch14_560.m30m_ft_in22k_in1k",
    "resnet50.a1_in1k-288",
    "resnet50.a1_in1k",
    "gcvit_tiny.in1k",
]
REVISION = "f" * 40
SHA256 = "0123456789abcdef" * 4


@pytest.fixture
def csvs(tmp_path):
    results = tmp_path / "results-imagenet.csv"
    results.write_text(RESULTS_HEADER + "".join(RESULTS_ROWS), encoding="utf-8")
    benchmark = tmp_path / "benchmark.csv"
    benchmark.write_text(BENCHMARK, encoding="utf-8")
    return results, benchmark


def snapshot(submissions):
    return {p.relative_to(submissions).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(submissions.rglob("*")) if p.is_file()}


def test_entries_ids_claims_and_compute(csvs):
    results, benchmark = csvs
    entries = build_entries(results, benchmark, load_catalog())
    assert list(entries) == EXPECTED_IDS

    default = entries["resnet50.a1_in1k"]
    assert default == {
        "schema_version": 1,
        "id": "resnet50.a1_in1k",
        "model": {
            "architecture": "resnet50",
            "weights": {"hf_hub": {"repo": "timm/resnet50.a1_in1k", "revision": None,
                                   "filename": "model.safetensors"}},
            "family": "resnet",
            "license": "apache-2.0",
        },
        "eval": {"img_size": 224, "crop_pct": 0.95, "interpolation": "bicubic"},
        "claims": {"top1": 80.382, "top5": 94.598,
                   "source": "timm results-imagenet.csv (huggingface/pytorch-image-models@aa4b5850)"},
        "compute": {"params_m": 25.56, "gmacs": 4.11, "activations_m": 11.11,
                    "source": "timm benchmark-infer-amp-nchw-pt291-cu130-5090.csv"},
        "submitter": {"name": "timm results import"},
        "imported_from": {"file": "results/results-imagenet.csv",
                          "repository": "huggingface/pytorch-image-models",
                          "commit": TIMM_RESULTS_COMMIT, "row": 4},
    }

    larger = entries["resnet50.a1_in1k-288"]
    assert larger["eval"] == {"img_size": 288, "crop_pct": 1.0, "interpolation": "bicubic"}
    assert larger["claims"]["top1"] == 81.24
    assert larger["compute"]["gmacs"] == 6.8
    assert larger["compute"]["activations_m"] == 1018.37  # thousands comma in the benchmark
    assert larger["imported_from"]["row"] == 3

    giant = entries["eva_giant_patch14_560.m30m_ft_in22k_in1k"]
    assert giant["compute"] == {"params_m": 1014.45, "source": "timm results-imagenet.csv"}
    assert giant["eval"]["img_size"] == 560  # timm's default for this tag: no suffix
    assert giant["model"]["license"] == "mit"

    url_only = entries["gcvit_tiny.in1k"]["model"]["weights"]
    assert list(url_only) == ["url"]
    assert url_only["url"]["sha256"] is None
    assert url_only["url"]["url"].startswith("https://github.com/")


def test_import_writes_files_that_pass_check_and_is_idempotent(csvs, tmp_path):
    results, benchmark = csvs
    submissions = tmp_path / "submissions"
    first = import_timm(results, submissions, benchmark)
    assert sorted(first.created) == sorted(EXPECTED_IDS)
    assert first.updated == [] and first.unchanged == []

    architectures = load_catalog().architectures
    for entry_id in EXPECTED_IDS:
        path = submissions / entry_id / "submission.yaml"
        submission, problems = check_submission_file(path, known_architectures=architectures)
        assert submission is not None and submission.id == entry_id
        assert [p.severity for p in problems] == ["warning"]  # weights not pinned yet

    before = snapshot(submissions)
    second = import_timm(results, submissions, benchmark)
    assert (second.created, second.updated) == ([], [])
    assert sorted(second.unchanged) == sorted(EXPECTED_IDS)
    assert snapshot(submissions) == before  # same bytes, not even rewritten


def test_hand_pinned_revision_survives_reimport(csvs, tmp_path):
    results, benchmark = csvs
    submissions = tmp_path / "submissions"
    import_timm(results, submissions, benchmark)
    path = submissions / "resnet50.a1_in1k" / "submission.yaml"
    path.write_text(path.read_text("utf-8").replace("revision: null", f"revision: {REVISION}"), "utf-8")
    gcvit = submissions / "gcvit_tiny.in1k" / "submission.yaml"
    gcvit.write_text(gcvit.read_text("utf-8").replace("sha256: null", f"sha256: {SHA256}"), "utf-8")

    again = import_timm(results, submissions, benchmark)
    assert again.updated == []
    assert f"revision: {REVISION}\n" in path.read_text("utf-8")

    # A new CSV value rewrites the entry but keeps both pins.
    results.write_text(RESULTS_HEADER + "".join(RESULTS_ROWS).replace("80.382", "80.400"), "utf-8")
    changed = import_timm(results, submissions, benchmark)
    assert changed.updated == ["resnet50.a1_in1k"]
    document = yaml.safe_load(path.read_text("utf-8"))
    assert document["claims"]["top1"] == 80.4
    assert document["model"]["weights"]["hf_hub"]["revision"] == REVISION
    assert yaml.safe_load(gcvit.read_text("utf-8"))["model"]["weights"]["url"]["sha256"] == SHA256


def test_csv_missing_columns_is_a_clear_error(tmp_path):
    results = tmp_path / "results.csv"
    results.write_text("model,img_size,top1\nresnet50.a1_in1k,224,80.4\n", encoding="utf-8")
    with pytest.raises(LeaderboardError) as info:
        build_entries(results, None, load_catalog())
    assert str(info.value) == (f"{results}: missing column(s) crop_pct, interpolation, param_count, "
                               "top5; is this a timm results file?")


def test_benchmark_missing_columns_is_a_clear_error(csvs, tmp_path):
    results, _ = csvs
    benchmark = tmp_path / "bench.csv"
    benchmark.write_text("model,infer_img_size\nresnet50,224\n", encoding="utf-8")
    with pytest.raises(LeaderboardError, match=r"missing column\(s\) infer_gmacs, infer_macts, param_count"):
        build_entries(results, benchmark, load_catalog())


def test_missing_csv_is_a_clear_error(tmp_path):
    with pytest.raises(LeaderboardError, match=r"nope\.csv: no such file$"):
        import_timm(tmp_path / "nope.csv", tmp_path / "submissions")


def test_unknown_model_names_its_line(tmp_path):
    results = tmp_path / "results.csv"
    results.write_text(RESULTS_HEADER + RESULTS_ROWS[2]
                       + "resnet50.not_a_tag,224,80.0,20.0,95.0,5.0,25.56,0.95,bicubic\n", "utf-8")
    with pytest.raises(LeaderboardError) as info:
        build_entries(results, None, load_catalog())
    message = str(info.value)
    assert message.startswith(f"{results}: line 3: 'resnet50.not_a_tag' is not a pretrained tag of timm ")
    assert "regenerate the catalog" in message


def test_duplicate_row_is_an_error(tmp_path):
    results = tmp_path / "results.csv"
    results.write_text(RESULTS_HEADER + RESULTS_ROWS[2] + RESULTS_ROWS[2], "utf-8")
    with pytest.raises(LeaderboardError, match=r"line 3: duplicate entry resnet50\.a1_in1k$"):
        build_entries(results, None, load_catalog())


def test_cli_import_reports_counts(csvs, tmp_path):
    results, benchmark = csvs
    submissions = tmp_path / "out"
    args = ["import-timm", str(results), "--benchmark", str(benchmark), "--submissions", str(submissions)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert first.stdout == f"imported {results}: 4 created, 0 updated, 0 unchanged\n"
    second = CliRunner().invoke(cli, args)
    assert second.stdout == f"imported {results}: 0 created, 0 updated, 4 unchanged\n"


@pytest.mark.skipif(not (TIMM_RESULTS_DIR / "results-imagenet.csv").is_file(),
                    reason="set LEADERBOARD_TIMM_RESULTS to timm's results/ folder to run it")
def test_shipped_submissions_are_reproducible_from_timm_results():
    entries = build_entries(TIMM_RESULTS_DIR / "results-imagenet.csv",
                            TIMM_RESULTS_DIR / "benchmark-infer-amp-nchw-pt291-cu130-5090.csv",
                            load_catalog())
    assert len(entries) == 1556
    differing = []
    for entry_id, document in entries.items():
        path = SHIPPED_SUBMISSIONS / entry_id / "submission.yaml"
        shipped = path.read_text("utf-8") if path.is_file() else None
        if render_submission(document) != shipped:
            _keep_pins(document, path)  # as import-timm does: pins added by hand are not in the CSV
            if render_submission(document) != shipped:
                differing.append(entry_id)
    assert differing == [], (f"{len(differing)} shipped entries are missing or differ from a "
                             f"re-import: {differing[:5]}")
