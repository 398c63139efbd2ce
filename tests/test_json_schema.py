"""`leaderboard schema` says what the checker says wherever JSON Schema can express it.

Every shipped submission and every bad fixture (tests/data/bad_submissions/) is judged by both:
the checker, and the JSON Schema applied to the file as an editor reads it (YAML 1.2, core
schema). They must agree, except for the refusals listed in SCHEMA_CANNOT_SAY, each with the
reason JSON Schema cannot express it; the test also checks those are still gaps, so the list
stays true.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import REPO, SHIPPED_SUBMISSIONS, valid_submission_dict, write_submission

from leaderboard.submission import check_submission_file, json_schema
from leaderboard.timm_catalog import load_catalog

BAD = REPO / "tests" / "data" / "bad_submissions"
ARCHITECTURES = load_catalog().architectures

SCHEMA_CANNOT_SAY = {
    "top5_below_top1": "compares two fields (no $data in JSON Schema 2020-12)",
    "anchor_and_alias": "anchors exist in YAML text only; the schema sees the expanded data",
    "duplicate_key": "a YAML 1.2 reader keeps one of the two keys; the schema sees one",
    "schema_version_float": "JSON Schema's integer type accepts 1.0",
    "hex_img_size": "YAML 1.2 reads 0xe0 as the integer 224",
    "nan_top1": "JSON Schema has no finiteness keyword",
    "default_size_suffix": "needs timm's default sizes",
    "octal_top1": "YAML 1.2 reads 0o136 as the integer 94",
}


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 core schema: what editors read (no yes/no booleans, dates, base 60, '_')."""


Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in [
    ("tag:yaml.org,2002:bool", r"^(true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
                                r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$", "-+0123456789."),
    ("tag:yaml.org,2002:null", r"^(~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _construct_int(loader, node):
    text = loader.construct_scalar(node)
    return int(text, 0) if text[:2] in ("0o", "0x") else int(text)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float",
                             lambda loader, node: float(loader.construct_scalar(node).replace(".inf", "inf")
                                                        .replace(".nan", "nan").replace(".Inf", "inf")))

VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def schema_accepts(text: str) -> bool:
    try:
        data = yaml.load(text, Loader=Yaml12Loader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError:
        return False
    return VALIDATOR.is_valid(data)


def checker_accepts(path: Path) -> bool:
    submission, _ = check_submission_file(path, known_architectures=ARCHITECTURES)
    return submission is not None


def placed(tmp_path: Path, fixture: Path) -> Path:
    text = fixture.read_text("utf-8")
    match = re.search(r"^id: ([a-z0-9_.-]+)$", text, re.M)
    folder = tmp_path / "submissions" / (match.group(1) if match else "resnet50.a1_in1k")
    folder.mkdir(parents=True)
    shutil.copy(fixture, folder / "submission.yaml")
    return folder / "submission.yaml"


def test_the_schema_itself_is_valid():
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize("fixture", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_fixtures_are_refused_by_the_checker_and_by_the_schema_where_it_can(tmp_path, fixture):
    path = placed(tmp_path, fixture)
    assert not checker_accepts(path), f"{fixture.name}: the checker accepts it"
    accepted = schema_accepts(fixture.read_text("utf-8"))
    if fixture.stem in SCHEMA_CANNOT_SAY:
        assert accepted, f"{fixture.name}: the schema refuses it now; drop it from SCHEMA_CANNOT_SAY"
    else:
        assert not accepted, f"{fixture.name}: the checker refuses it but the schema accepts it"


def test_valid_submissions_are_accepted_by_both(tmp_path):
    data = valid_submission_dict()
    path = write_submission(tmp_path, data)
    assert checker_accepts(path)
    assert schema_accepts(path.read_text("utf-8"))
    data["model"]["weights"] = {"url": {"url": "https://github.com/e/m/m.safetensors",
                                        "sha256": "ab" * 32}}
    path = write_submission(tmp_path / "url", data)
    assert checker_accepts(path) and schema_accepts(path.read_text("utf-8"))


def test_every_shipped_submission_is_judged_alike():
    files = sorted(SHIPPED_SUBMISSIONS.glob("*/submission.yaml"))
    assert len(files) >= 1556
    disagreements = [path.parent.name for path in files
                     if checker_accepts(path) != schema_accepts(path.read_text("utf-8"))]
    assert disagreements == []
    assert all(checker_accepts(p) for p in files[:50])  # shipped entries pass (warnings only)
