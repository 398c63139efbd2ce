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
    if isinstance(data_or_text, str) and "folder" not in kwargs:
        kwargs["folder"] = "resnet50.a1_in1k"  # the id of valid_submission_dict()
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
    data["model"]["weights"] = {"url": {"url": "https://github.com/e/m/w.safetensors",
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
        ("submitter", "name", 42, "expected text, got the number 42", 'quote it: name: "42"'),
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
         "url": {"url": "https://github.com/e/m/w.pth", "sha256": PINNED_SHA256}},
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
    data["model"]["weights"] = {"url": {"url": "https://github.com/e/m/w.pth", "sha256": None}}
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
    assert problem.message == "'sub.yaml' is misnamed: a submission file must be named submission.yaml"


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


# ---------------------------------------------------------------------------------------------
# Issue 13: YAML 1.1 forms, non-finite numbers, digits for text, paths, default-size suffixes


def _replace_line(text: str, prefix: str, line: str) -> str:
    lines = text.splitlines()
    index = next(i for i, old in enumerate(lines) if old.startswith(prefix))
    lines[index] = line
    return "\n".join(lines) + "\n"


def _valid_text(tmp_path) -> str:
    return write_submission(tmp_path / "seed", valid_submission_dict()).read_text("utf-8")


@pytest.mark.parametrize(
    "prefix, line, phrase, fix_phrase",
    [
        ("  top1:", "  top1: 1:20", "'1:20' is a YAML 1.1 number form", "(here 80)"),
        ("  top1:", "  top1: 0x50", "'0x50' is a YAML 1.1 number form", "(here 80)"),
        ("  img_size:", "  img_size: 0xe0", "'0xe0' is a YAML 1.1 number form", "(here 224)"),
        ("  top1:", "  top1: .inf", "'.inf' is not a finite number", "finite number"),
    ],
    ids=["base-60", "hex", "hex-img-size", "inf"],
)
def test_yaml_1_1_and_non_finite_numbers_get_one_problem_with_a_fix(tmp_path, prefix, line,
                                                                     phrase, fix_phrase):
    text = _replace_line(_valid_text(tmp_path), prefix, line)
    path, submission, problems = check(tmp_path, text)
    problem = only(problems)
    assert submission is None
    assert problem.location.startswith(f"line {line_of(path, line)}, column ")
    assert phrase in problem.message
    assert fix_phrase in problem.fix


def test_yaml_1_2_octal_is_not_told_to_drop_quotes(tmp_path):
    text = _replace_line(_valid_text(tmp_path), "  top1:", "  top1: 0o136")
    _, _, problems = check(tmp_path, text)
    problem = only(problems)
    assert problem.message == "expected a number, got '0o136'"
    assert problem.fix.startswith("write it as a plain decimal number")


def test_all_digit_revision_is_told_to_quote_it(tmp_path):
    text = _replace_line(_valid_text(tmp_path), "      revision:",
                         "      revision: 1234567890123456789012345678901234567890")
    _, _, problems = check(tmp_path, text)
    problem = only([p for p in problems if p.location.startswith("model.weights.hf_hub.revision")])
    assert problem.message == "expected text, got the number 1234567890123456789012345678901234567890"
    assert problem.fix == 'quote it: revision: "1234567890123456789012345678901234567890"'


def test_yaml_1_1_boolean_for_text_is_refused(tmp_path):
    text = _replace_line(_valid_text(tmp_path), "  name:", "  name: no")
    path, _, problems = check(tmp_path, text)
    problem = only(problems)
    assert problem.location.startswith(f"line {line_of(path, '  name: no')}")
    assert problem.fix == 'write true or false, or quote it ("no") if it is text'


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_params_are_refused_by_the_schema_too(value):
    from pydantic import ValidationError

    from leaderboard.submission import Compute

    with pytest.raises(ValidationError, match="finite number"):
        Compute(params_m=value, source="timm")


@pytest.mark.parametrize("filename", ["../../x.pt", "/etc/x.pt", "a/../b.pt", "./x.pt", "a//b.pt"])
def test_hub_filename_must_stay_inside_the_repo(tmp_path, filename):
    data = valid_submission_dict()
    data["model"]["weights"]["hf_hub"]["filename"] = filename
    _, _, problems = check(tmp_path, data)
    problem = only(problems)
    assert problem.location.startswith("model.weights.hf_hub.filename")
    assert "without '..'" in problem.fix


def test_hub_filename_in_a_subfolder_is_fine(tmp_path):
    data = valid_submission_dict()
    data["model"]["weights"]["hf_hub"]["filename"] = "weights/open_clip_model.safetensors"
    _, submission, problems = check(tmp_path, data)
    assert problems == [] and submission is not None


def test_default_size_suffix_is_refused_as_a_duplicate(tmp_path):
    data = valid_submission_dict("resnet50.a1_in1k-224")
    data["eval"] = {"img_size": 224}
    _, submission, problems = check(tmp_path, data)
    problem = only(problems)
    assert submission is None
    assert problem.message == ("id 'resnet50.a1_in1k-224' ends in -224, the default size of "
                               "'resnet50.a1_in1k': it names the same model as the entry "
                               "'resnet50.a1_in1k'")
    assert problem.fix.startswith("drop the suffix (id: resnet50.a1_in1k,")


def test_check_inside_the_entry_folder_knows_the_folder(tmp_path, monkeypatch):
    path = write_submission(tmp_path, valid_submission_dict())
    monkeypatch.chdir(path.parent)
    submission, problems = check_submission_file(path.__class__("submission.yaml"),
                                                 known_architectures=ARCHITECTURES)
    assert problems == [] and submission is not None


# ---------------------------------------------------------------------------------------------
# Issue 21, class 6: weights URLs the GPU runner must not fetch


@pytest.mark.parametrize("url, reason", [
    ("https://user:pass@10.0.0.1:8443/w.pth",
     "the URL holds credentials (user:password@); weights must be public; the host is an IP "
     "address (private); give the file host's name; port 8443: only the default https port is used"),
    ("https://127.0.0.1/w.pth", "the host is an IP address (loopback); give the file host's name"),
    ("https://[fe80::1]/w.pth", "the host is an IP address (link-local); give the file host's name"),
    ("https://2130706433/w.pth", "the host is an IP address; give the file host's name"),
    ("http://github.com/e/m/w.pth", "only https:// URLs are fetched"),
    ("https://github.com/e/m/../../x/w.pth", "the path holds '.' or '..' segments"),
    ("https://github.com/e/m/%2e%2e/w.pth", "the path holds '.' or '..' segments"),
    ("https://intranet.corp/w.pth", "host 'intranet.corp' is not an allowed weights host"),
    ("https://localhost/w.pth", "host 'localhost' is not an allowed weights host"),
])
def test_weights_urls_that_reach_the_runners_network_are_refused(tmp_path, url, reason):
    data = valid_submission_dict()
    data["model"]["weights"] = {"url": {"url": url, "sha256": PINNED_SHA256}}
    path, submission, problems = check(tmp_path, data)
    problem = only([p for p in problems if p.message.startswith("weights URL refused")])
    assert problem.location == f"model.weights.url.url (line {line_of(path, '      url: ')})"
    assert problem.message.startswith("weights URL refused: ")
    assert reason in problem.message
    assert submission is None


def test_an_allowed_host_passes(tmp_path):
    data = valid_submission_dict()
    data["model"]["weights"] = {"url": {"url": "https://dl.fbaipublicfiles.com/deit/w.pth",
                                        "sha256": PINNED_SHA256}}
    _, submission, problems = check(tmp_path, data)
    assert submission is not None, problems


# ---------------------------------------------------------------------------------------------
# Issue 21, class 7: contributor mistakes that passed silently


@pytest.mark.parametrize("key", ["top1", "top5"])
def test_a_fraction_for_a_percentage_is_refused(tmp_path, key):
    data = valid_submission_dict()
    data["claims"][key] = 0.81 if key == "top1" else 0.95
    path, submission, problems = check(tmp_path, data)
    problem = only([p for p in problems if p.message.startswith(f"claims.{key}")])
    assert problem.location == f"claims.{key} (line {line_of(path, f'  {key}:')})"
    assert problem.message == f"claims.{key} is {data['claims'][key]}: a fraction, but claims are percentages"
    assert problem.fix == f"write the percentage ({key}: {data['claims'][key] * 100:g})"
    assert submission is None


@pytest.mark.parametrize("license_, message", [
    ("Apache 2.0", "licence 'Apache 2.0' is not an SPDX licence expression"),
    ("mit", "licence MIT differs from timm's catalog, which says 'apache-2.0' for 'resnet50.a1_in1k'"),
    ("cc-by-nc-4.0",
     "licence CC-BY-NC-4.0 differs from timm's catalog, which says 'apache-2.0' for 'resnet50.a1_in1k'"),
])
def test_a_licence_is_an_spdx_expression_that_agrees_with_the_catalog(tmp_path, license_, message):
    data = valid_submission_dict()  # resnet50.a1_in1k: apache-2.0 in timm's catalog
    data["model"]["license"] = license_
    path, submission, problems = check(tmp_path, data)
    problem = only([p for p in problems if p.location.startswith("model.license")])
    assert problem.message == message
    assert submission is None


@pytest.mark.parametrize("license_", ["apache-2.0", "Apache-2.0", "APACHE-2.0"])
def test_the_catalogs_licence_in_any_case_passes(tmp_path, license_):
    data = valid_submission_dict()
    data["model"]["license"] = license_
    _, submission, problems = check(tmp_path, data)
    assert submission is not None, problems


def test_an_entry_set_to_the_size_of_its_own_size_entry_is_refused(tmp_path):
    sized = valid_submission_dict("resnet50.a1_in1k-288")
    sized["eval"]["img_size"] = 288
    write_submission(tmp_path, sized)
    data = valid_submission_dict()
    data["eval"]["img_size"] = 288
    path, submission, problems = check(tmp_path, data)
    problem = only([p for p in problems if p.location.startswith("eval.img_size")])
    assert problem.message == ("eval.img_size 288 is the size of the existing entry "
                               "'resnet50.a1_in1k-288': two entries would measure the same model")
    assert problem.severity == "error" and submission is None
