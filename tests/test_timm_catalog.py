"""The shipped timm catalog: loads without timm, and matches the installed timm of its version."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

import pytest

from leaderboard.catalog_missing import (
    GMACS_RESOURCE,
    missing_tags,
    submitted_facts,
    write_benchmark_gmacs,
)
from leaderboard.timm_catalog import (
    CATALOG_RESOURCE,
    PretrainedDefaults,
    catalog_from_dict,
    generate_catalog_dict,
    load_catalog,
)


def shipped_dict():
    return json.loads(resources.files("leaderboard.data").joinpath(CATALOG_RESOURCE).read_text("utf-8"))


def test_shipped_catalog_loads_and_knows_resnet50():
    catalog = load_catalog()
    assert catalog is load_catalog()  # cached: check loads it once
    assert "resnet50" in catalog.architectures
    assert catalog.family_of("resnet50") == "resnet"
    assert catalog.family_of("no_such_model") is None
    defaults = catalog.pretrained["resnet50.a1_in1k"]
    assert defaults.img_size == 224
    assert defaults.hf_hub_id == "timm/resnet50.a1_in1k"
    assert defaults.interpolation == "bicubic"
    assert defaults.crop_pct == 0.95
    assert len(catalog.architectures) > 1000 and len(catalog.pretrained) > 1000


def test_every_pretrained_tag_belongs_to_a_known_architecture():
    catalog = load_catalog()
    orphans = sorted(name for name in catalog.pretrained
                     if name.split(".", 1)[0] not in catalog.architectures)
    assert orphans == []


def test_catalog_from_dict():
    catalog = catalog_from_dict({
        "timm_version": "9.9",
        "families": {"tiny": "tinynet"},
        "pretrained": {"tiny.x": {"img_size": 96, "crop_pct": 1.0, "interpolation": "bilinear",
                                  "hf_hub_id": None, "url": "https://example.org/t.pth",
                                  "license": None}},
    })
    assert catalog.architectures == frozenset({"tiny"})
    assert catalog.pretrained["tiny.x"] == PretrainedDefaults(96, 1.0, "bilinear", None,
                                                              "https://example.org/t.pth", None)


def test_shipped_catalog_equals_the_installed_timm():
    shipped = shipped_dict()
    try:
        installed = metadata.version("timm")
    except metadata.PackageNotFoundError:
        pytest.skip("timm is not installed")
    if installed != shipped["timm_version"]:
        pytest.skip(f"installed timm {installed} is not the catalog's timm {shipped['timm_version']}")
    pytest.importorskip("timm")  # imports torch too: the slowest test here
    generated = generate_catalog_dict()
    assert generated["timm_version"] == shipped["timm_version"]
    assert generated["families"] == shipped["families"]
    missing = sorted(set(generated["pretrained"]) ^ set(shipped["pretrained"]))
    assert missing == [], "run `leaderboard timm-catalog --write leaderboard/data/timm_catalog.json`"
    assert generated == shipped


# ---------------------------------------------------------------------------------------------
# `timm-catalog --missing`: the next model to submit, on the shipped data


REPO = Path(__file__).resolve().parents[1]


def leaderboard_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leaderboard", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120)


def test_missing_lists_the_catalogs_tags_minus_the_submitted_ones_on_the_shipped_data():
    submitted = {re.sub(r"-\d+$", "", path.name) for path in (REPO / "submissions").iterdir()
                 if (path / "submission.yaml").is_file()}
    expected = sorted(set(load_catalog().pretrained) - submitted)
    assert 0 < len(expected) < len(load_catalog().pretrained)
    done = leaderboard_cli("timm-catalog", "--missing", "--format", "json")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    data = json.loads(done.stdout)
    assert data["missing"] == len(expected) == len(data["tags"])
    assert data["pretrained_tags"] == len(load_catalog().pretrained)
    assert [row["tag"] for row in data["tags"]] == expected
    assert all(row["top1"] is None for row in data["tags"])  # timm publishes none: never invented
    gmacs = json.loads(resources.files("leaderboard.data").joinpath(GMACS_RESOURCE).read_text("utf-8"))
    row = next(r for r in data["tags"] if r["tag"] == "aimv2_large_patch14_224.apple_pt")
    assert row == {"tag": "aimv2_large_patch14_224.apple_pt", "family": "vision_transformer",
                   "img_size": 224, "gmacs": gmacs["gmacs"]["aimv2_large_patch14_224@224"],
                   "top1": None}

    text = leaderboard_cli("timm-catalog", "--missing", "--sort", "gmacs")
    assert text.returncode == 0 and text.stderr == ""
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["tag", "family", "img_size", "gmacs", "top1"]
    assert lines[-1].startswith(f"{len(expected)} of {data['pretrained_tags']} pretrained tags")
    figures = [line.split()[3] for line in lines[1:-1]]
    known = [float(f) for f in figures if f != "-"]
    assert known == sorted(known) and len(known) > len(expected) // 2
    assert figures[len(known):] == ["-"] * (len(figures) - len(known))  # unknown last


def test_missing_outside_a_clone_says_it_needs_the_submissions(tmp_path):
    done = leaderboard_cli("timm-catalog", "--missing", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "no submissions folder" in done.stderr and "clone" in done.stderr


def test_missing_fills_gmacs_from_a_sibling_entry_and_sorts_unknowns_last(tmp_path):
    catalog = catalog_from_dict({
        "timm_version": "9.9", "families": {"a": "fam", "b": "fam"},
        "pretrained": {name: {"img_size": 224, "crop_pct": 1.0, "interpolation": "bicubic",
                              "hf_hub_id": None, "url": None, "license": None}
                       for name in ("a.done", "a.new", "b.new")}})
    entry = tmp_path / "a.done"
    entry.mkdir()
    (entry / "submission.yaml").write_text(
        "model: {architecture: a}\neval: {img_size: 224}\ncompute: {gmacs: 4.5}\n")
    facts = submitted_facts(tmp_path)
    assert facts.tags == {"a.done"}
    rows = missing_tags(catalog, facts, {"b@224": 1.25}, sort="gmacs")
    assert [(r.tag, r.gmacs) for r in rows] == [("b.new", 1.25), ("a.new", 4.5)]
    rows = missing_tags(catalog, facts, {}, sort="gmacs")
    assert [(r.tag, r.gmacs) for r in rows] == [("a.new", 4.5), ("b.new", None)]


def test_the_gmacs_file_regenerates_from_a_timm_benchmark_csv(tmp_path):
    csv_file = tmp_path / "benchmark-infer.csv"
    csv_file.write_text("model,infer_img_size,infer_samples_per_sec,param_count,infer_gmacs,infer_macts\n"
                        "resnet50,224,3000,25.56,4.11,11.11\nresnet50,288,2000,25.56,\"1,006.8\",18.4\n")
    out = tmp_path / "gmacs.json"
    assert write_benchmark_gmacs(csv_file, out, "test") == 2
    assert json.loads(out.read_text()) == {"source": "test",
                                           "gmacs": {"resnet50@224": 4.11, "resnet50@288": 1006.8}}
