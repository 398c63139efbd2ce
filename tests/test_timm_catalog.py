"""The shipped timm catalog: loads without timm, and matches the installed timm of its version."""

from __future__ import annotations

import json
from importlib import metadata, resources

import pytest

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
