"""Checking one submission.yaml: every problem names the file, the field and its line, and a fix."""

from __future__ import annotations

import re

import pytest
from conftest import (
    IMPORTED_FROM,
    PINNED_SHA256,
    imported_submission_dict,
    valid_submission_dict,
    write_submission,
)

from leaderboard.submission import check_submission_file
from leaderboard.timm_catalog import load_catalog

ARCHITECTURES = load_catalog().architectures
TOP_LEVEL_KEYS = "schema_version, id, model, eval, claims, compute, submitter, imported_from"


def check(tmp_path, data_or_text, **kwargs):
    path = write_submission(tmp_path, data_or_text, **kwargs)
    submission, problems = check_submission_file(path, known_architectures=ARCHITECTURES)
    assert all(p.file == str(path) for p in problems)
    return path, submission, problems


def only(problems):
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


def line_of(path, prefix):
    """1-based line of the first line of the file that starts with ``prefix``."""
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if line.startswith(prefix):
            return number
    raise AssertionError(f"{prefix!r} not in {path}")


# ---------------------------------------------------------------------------------------------
# Valid input


def test_valid_submission_passes(tmp_path):
    _, submission, problems = check(tmp_path, valid_submission_dict())
    assert problems == []
    assert submission is not None
    assert submission.id == "resnet50.a1_in1k"
    assert submission.claims.top1 == 80.382
    assert not submission.is_imported


def test_valid_submission_with_url_weights_and_size_suffix_passes(tmp_path):
    data = valid_submission_dict("resnet50.a1_in1k-288")
    data["model"]["weights"] = {"url": {"url": "https://example.org/w.safetensors",
                                        "sha256": PINNED_SHA256}}
    data["eval"]["img_size"] = 288
    _, submission, problems = check(tmp_path, data)
    assert problems == []
    assert submission.model.weights.url.sha256 == PINNED_SHA256


def test_minimal_submission_passes(tmp_path):
    data = valid_submission_dict()
    for optional in ("eval", "compute"):
        del data[optional]
    _, submission, problems = check(tmp_path, data)
    assert problems == []
    assert submission.eval is None


def test_imported_entry_with_unpinned_weights_passes_with_a_warning(tmp_path):
    path, submission, problems = check(tmp_path, imported_submission_dict())
    problem = only(problems)
    assert submission is not None and submission.is_imported
    assert problem.severity == "warning"
    assert problem.location == f"model.weights.hf_hub.revision (line {line_of(path, '      revision:')})"
    assert problem.message == "weights are not pinned: hf_hub.revision is missing (imported entry)"


# ---------------------------------------------------------------------------------------------
# Unknown keys, types, ranges


def test_unknown_top_level_key_lists_allowed_keys(tmp_path):
    path, submission, problems = check(tmp_path, valid_submission_dict(colour="red"))
    problem = only(problems)
    assert submission is None
    assert problem.location == f"colour (line {line_of(path, 'colour:')})"
    assert problem.message == "unknown key 'colour'"
    assert problem.fix == f"remove it or fix its spelling; allowed here: {TOP_LEVEL_KEYS}"


def test_misspelt_nested_key_lists_the_keys_of_its_block(tmp_path):
    data = valid_submission_dict()
    hub = data["model"]["weights"]["hf_hub"]
    hub["revison"] = hub.pop("revision")
    path, _, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.location == f"model.weights.hf_hub.revison (line {line_of(path, '      revison:')})"
    assert problem.message == "unknown key 'revison'"
    assert problem.fix.endswith("allowed here: repo, revision, filename")


@pytest.mark.parametrize(
    "block, field, value, message, fix",
    [
        ("claims", "top1", "80", "expected a number, got '80'", "write the number without quotes"),
        ("claims", "top1", True, "expected a number, got True", "use a number"),
        ("eval", "img_size", 224.0, "expected an integer, got 224.0", "use an integer"),
        ("eval", "img_size", True, "expected an integer, got True", "use an integer"),
        ("eval", "img_size", "224", "expected an integer, got '224'", "write the number without quotes"),
        ("submitter", "name", 42, "expected text, got 42", "write text here; see `leaderboard schema`"),
    ],
    ids=["quoted-float", "bool-for-float", "float-for-int", "bool-for-int", "quoted-int", "int-for-str"],
)
def test_strict_types(tmp_path, block, field, value, message, fix):
    data = valid_submission_dict()
    data[block][field] = value
    path, submission, problems = check(tmp_path, data)
    problem = only(problems)
    assert submission is None
    assert problem.location == f"{block}.{field} (line {line_of(path, f'  {field}:')})"
    assert problem.message == message
    assert problem.fix == fix


def test_integer_for_a_float_field_is_fine(tmp_path):
    data = valid_submission_dict()
    data["claims"]["top1"] = 80
    data["claims"]["top5"] = 95
    _, submission, problems = check(tmp_path, data)
    assert problems == []
    assert submission.claims.top1 == 80


@pytest.mark.parametrize(
    "block, field, value, bound",
    [
        ("claims", "top1", 101, "less than or equal to 100"),
        ("claims", "top1", -0.5, "greater than or equal to 0"),
        ("eval", "img_size", 8, "greater than or equal to 32"),
        ("eval", "img_size", 4096, "less than or equal to 1024"),
        ("compute", "params_m", -1.0, "greater than or equal to 0"),
    ],
)
def test_out_of_range(tmp_path, block, field, value, bound):
    data = valid_submission_dict()
    data[block][field] = value
    if field == "top1":
        data["claims"]["top5"] = None
    path, _, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.location == f"{block}.{field} (line {line_of(path, f'  {field}:')})"
    assert problem.message == f"{value!r} is out of range: input should be {bound}"
    assert "unit" in problem.fix


def test_top5_below_top1(tmp_path):
    data = valid_submission_dict()
    data["claims"]["top5"] = 70.0
    path, _, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.location == f"claims (line {line_of(path, 'claims:')})"
    assert problem.message == "top5 (70.0) is below top1 (80.382)"


def test_missing_required_field(tmp_path):
    data = valid_submission_dict()
    del data["submitter"]
    _, _, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.location == "submitter"
    assert problem.message == "required field is missing"
    assert problem.fix.startswith("add 'submitter:'")


@pytest.mark.parametrize("text", ["resnet50.a1.b2", "ResNet50.a1", "resnet50.a1_in1k-0288", "resnet50 a1"])
def test_id_with_wrong_format(tmp_path, text):
    path, _, problems = check(tmp_path, valid_submission_dict(id=text), folder=text)
    problem = only(problems)
    assert problem.location == f"id (line {line_of(path, 'id:')})"
    assert problem.message == f"{text!r} has the wrong format"
    assert "architecture.tag" in problem.fix


# ---------------------------------------------------------------------------------------------
# Weights


@pytest.mark.parametrize(
    "weights",
    [
        {},
        {"hf_hub": {"repo": "timm/x", "revision": "a" * 40},
         "url": {"url": "https://example.org/w.pth", "sha256": PINNED_SHA256}},
    ],
    ids=["neither", "both"],
)
def test_exactly_one_weights_source(tmp_path, weights):
    data = valid_submission_dict()
    data["model"]["weights"] = weights
    path, _, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.location == f"model.weights (line {line_of(path, '  weights:')})"
    assert problem.message == "give exactly one of 'hf_hub' or 'url'"


def test_unpinned_revision_is_an_error_for_a_new_submission(tmp_path):
    data = valid_submission_dict()
    data["model"]["weights"]["hf_hub"]["revision"] = None
    path, submission, problems = check(tmp_path, data)
    problem = only(problems)
    assert submission is None
    assert problem.severity == "error"
    assert problem.location == f"model.weights.hf_hub.revision (line {line_of(path, '      revision:')})"
    assert problem.message == "weights are not pinned: hf_hub.revision is missing"
    assert "40-hex commit" in problem.fix


def test_unpinned_weights_are_reported_beside_other_schema_errors(tmp_path):
    data = valid_submission_dict()
    del data["model"]["weights"]["hf_hub"]["revision"]
    del data["submitter"]
    data["claims"]["top1"] = 180.0
    _, submission, problems = check(tmp_path, data)
    assert submission is None
    messages = [p.message for p in problems]
    assert "weights are not pinned: hf_hub.revision is missing" in messages
    assert any(p.location.startswith("submitter") for p in problems)
    assert any(p.location.startswith("claims.top1") for p in problems)


def test_revision_absent_points_at_the_hf_hub_block(tmp_path):
    data = valid_submission_dict()
    del data["model"]["weights"]["hf_hub"]["revision"]
    path, _, problems = check(tmp_path, data)
    assert only(problems).location == (
        f"model.weights.hf_hub.revision (line {line_of(path, '    hf_hub:')})")


def test_branch_name_is_not_a_pinned_revision(tmp_path):
    data = valid_submission_dict()
    data["model"]["weights"]["hf_hub"]["revision"] = "main"
    _, _, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.message == "'main' has the wrong format"
    assert problem.fix.startswith("pin the full 40-character commit hash")


@pytest.mark.parametrize("imported", [False, True], ids=["new", "imported"])
def test_unpinned_url_sha256(tmp_path, imported):
    data = valid_submission_dict()
    data["model"]["weights"] = {"url": {"url": "https://example.org/w.pth", "sha256": None}}
    if imported:
        data["imported_from"] = dict(IMPORTED_FROM)
    path, submission, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.location == f"model.weights.url.sha256 (line {line_of(path, '      sha256:')})"
    assert problem.message.startswith("weights are not pinned: url.sha256 is missing")
    if imported:
        assert (problem.severity, submission is not None) == ("warning", True)
        assert problem.message.endswith("(imported entry)")
    else:
        assert (problem.severity, submission) == ("error", None)
        assert "sha256sum" in problem.fix


# ---------------------------------------------------------------------------------------------
# Checks beyond the schema


def test_near_miss_architecture_gets_a_suggestion(tmp_path):
    data = valid_submission_dict("resnet5.a1_in1k", architecture="resnet5")
    path, _, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.location == f"model.architecture (line {line_of(path, '  architecture:')})"
    assert problem.message == ("architecture 'resnet5' is not in timm.list_models(); "
                               "did you mean 'resnet50'?")


def test_far_off_architecture_gets_no_suggestion(tmp_path):
    data = valid_submission_dict("qqqzzz.a1", architecture="qqqzzz")
    _, _, problems = check(tmp_path, data)
    assert only(problems).message == "architecture 'qqqzzz' is not in timm.list_models()"


def test_architecture_check_is_skipped_without_a_catalog(tmp_path):
    path = write_submission(tmp_path, valid_submission_dict("qqqzzz.a1", architecture="qqqzzz"))
    submission, problems = check_submission_file(path)
    assert problems == []
    assert submission.model.architecture == "qqqzzz"


def test_id_must_match_its_folder(tmp_path):
    path, _, problems = check(tmp_path, valid_submission_dict(), folder="resnet50.other")
    problem = only(problems)
    assert problem.location == f"id (line {line_of(path, 'id:')})"
    assert problem.message == "id 'resnet50.a1_in1k' does not match its folder 'resnet50.other'"
    assert problem.fix.startswith("move the file to submissions/resnet50.a1_in1k/submission.yaml")


def test_id_must_start_with_the_architecture(tmp_path):
    path, _, problems = check(tmp_path, valid_submission_dict("resnet18.a1_in1k", architecture="resnet50"))
    problem = only(problems)
    assert problem.location == f"id (line {line_of(path, 'id:')})"
    assert problem.message == "id 'resnet18.a1_in1k' does not start with the architecture 'resnet50'"
    assert problem.fix == "name the entry resnet50.<tag>"


def test_size_suffix_needs_matching_img_size(tmp_path):
    path, _, problems = check(tmp_path, valid_submission_dict("resnet50.a1_in1k-288"))
    problem = only(problems)
    assert problem.location == f"eval.img_size (line {line_of(path, '  img_size:')})"
    assert problem.message == "id ends in -288 but eval.img_size is 224"
    assert problem.fix == "set eval.img_size: 288 or drop the suffix from the id"


def test_size_suffix_without_eval_block_points_at_the_id(tmp_path):
    data = valid_submission_dict("resnet50.a1_in1k-288")
    del data["eval"]
    path, _, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.location == f"id (line {line_of(path, 'id:')})"
    assert problem.message == "id ends in -288 but eval.img_size is None"


def test_wrong_filename(tmp_path):
    _, submission, problems = check(tmp_path, valid_submission_dict(), filename="sub.yaml")
    problem = only(problems)
    assert submission is None
    assert problem.location == ""
    assert problem.message == "a submission file must be named submission.yaml"


@pytest.mark.parametrize("version", [2, "1", True, 1.0])
def test_unsupported_schema_version(tmp_path, version):
    # Only that one problem: the rest of the file may follow another schema.
    data = valid_submission_dict(schema_version=version, colour="red")
    path, submission, problems = check(tmp_path, data)
    problem = only(problems)
    assert submission is None
    assert problem.location == f"schema_version (line {line_of(path, 'schema_version:')})"
    assert problem.message == f"unsupported schema_version {version!r}"
    assert problem.fix == "this version of the leaderboard reads schema_version 1"


def test_yaml_problems_and_schema_problems_are_reported_together(tmp_path):
    text = write_submission(tmp_path, valid_submission_dict()).read_text("utf-8")
    _, submission, problems = check(tmp_path, text + "id: again\n", folder="resnet50.a1_in1k")
    messages = [p.message for p in problems]
    assert submission is None
    assert messages[0] == "duplicate key 'id' (first defined at line 2)"
    # YAML keeps the last 'id'; the checks on it run in the same pass
    assert "id 'again' does not match its folder 'resnet50.a1_in1k'" in messages


# ---------------------------------------------------------------------------------------------
# Everything at once


def test_many_problems_are_all_reported_at_once(tmp_path):
    data = valid_submission_dict("resnet50.a1_in1k-288", architecture="resnet5", colour="red")
    data["model"]["weights"]["hf_hub"]["revision"] = "main"
    data["eval"]["img_size"] = 8
    data["eval"]["interpolation"] = "lanczos"
    data["claims"]["top1"] = "80"
    data["claims"]["source"] = "me"
    data["compute"]["params_m"] = -1.0
    data["submitter"]["github"] = "@jane"
    path, submission, problems = check(tmp_path, data, folder="elsewhere")
    assert submission is None
    expected_fields = [
        "model.weights.hf_hub.revision",  # branch name, not a commit
        "eval.img_size",  # 8 px, out of range
        "eval.interpolation",  # not a timm interpolation
        "claims.top1",  # quoted
        "claims.source",  # too short
        "compute.params_m",  # negative
        "submitter.github",  # '@'
        "colour",  # unknown key
        "id",  # folder mismatch
        "model.architecture",  # not in timm
        "id",  # does not start with the architecture
        "eval.img_size",  # suffix -288 vs 8
    ]
    assert len(problems) == len(expected_fields) == 12
    assert sorted(p.location.split(" ")[0] for p in problems) == sorted(expected_fields)
    assert all(p.severity == "error" and p.fix for p in problems)
    for problem in problems:
        match = re.fullmatch(r"([\w.]+) \(line (\d+)\)", problem.location)
        assert match, problem.location
        leaf = match[1].split(".")[-1]
        line = path.read_text("utf-8").splitlines()[int(match[2]) - 1]
        assert line.strip().startswith(f"{leaf}:"), (problem.location, line)
        assert problem.format().startswith(f"{path}: {problem.location}: error: ")
