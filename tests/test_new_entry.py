"""`leaderboard new`: a submission from the catalog, pinned through the Hub or by hand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SHIPPED_SUBMISSIONS, valid_submission_dict, write_submission

from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.new_entry import (
    HubUnreachable,
    choose_weights_file,
    create_entry,
    lookup_hub_pin,
    plan_entry,
    split_entry_id,
)
from leaderboard.safe_yaml import load_yaml_file
from leaderboard.submission import check_submission_file
from leaderboard.timm_catalog import load_catalog

ARCHITECTURES = load_catalog().architectures
SHA = "c0ffee" + "1" * 34
# In the catalog (timm/resnet50.bamboo on the Hub, 224 px, crop 1.0), not a shipped entry.
NEW_TAG = "resnet50.bamboo"


@dataclass
class Sibling:
    rfilename: str


@dataclass
class Info:
    sha: str | None
    siblings: list[Sibling]


class FakeHfApi:
    """Answers model_info like huggingface_hub.HfApi; unit tests only."""

    def __init__(self, info: Info | None = None, error: Exception | None = None):
        self.info, self.error, self.calls = info, error, []

    def model_info(self, repo_id, *, timeout=None, token=None):
        self.calls.append((repo_id, timeout, token))
        if self.error:
            raise self.error
        return self.info


def files(*names: str) -> list[Sibling]:
    return [Sibling(n) for n in names]


def test_ids_split_into_architecture_tag_and_size():
    assert split_entry_id("resnet50.a1_in1k") == ("resnet50", "a1_in1k", None)
    assert split_entry_id("resnet50.a1_in1k-288") == ("resnet50", "a1_in1k", 288)
    for bad in ("resnet50", "ResNet50.a1", "resnet50.a1-1"):
        with pytest.raises(UsageError, match="ARCH.TAG"):
            split_entry_id(bad)


def test_safetensors_are_chosen_first():
    assert choose_weights_file(["pytorch_model.bin", "model.safetensors", "README.md"]) == "model.safetensors"
    named = ["pytorch_model.bin", "open_clip_model.safetensors"]
    assert choose_weights_file(named) == "open_clip_model.safetensors"
    assert choose_weights_file(["weights.pth", "pytorch_model.bin"]) == "pytorch_model.bin"
    assert choose_weights_file(["config.json", "README.md"]) is None


def test_the_hub_pin_is_the_current_commit_and_never_sends_a_token():
    api = FakeHfApi(Info(SHA, files("config.json", "pytorch_model.bin", "model.safetensors")))
    pin = lookup_hub_pin("timm/resnet50.bamboo", api)
    assert (pin.revision, pin.filename) == (SHA, "model.safetensors")
    assert api.calls == [("timm/resnet50.bamboo", 10.0, False)]


def test_no_network_is_unreachable_but_a_refusal_is_an_error():
    class ConnectError(Exception):  # httpx's name; not an OSError
        pass

    with pytest.raises(HubUnreachable, match="ConnectError"):
        lookup_hub_pin("timm/x", FakeHfApi(error=ConnectError("Name or service not known")))
    with pytest.raises(HubUnreachable):
        lookup_hub_pin("timm/x", FakeHfApi(error=OSError("network is unreachable")))
    with pytest.raises(LeaderboardError, match="no .safetensors"):
        lookup_hub_pin("timm/x", FakeHfApi(Info(SHA, files("README.md"))))
    with pytest.raises(LeaderboardError, match="no commit"):
        lookup_hub_pin("timm/x", FakeHfApi(Info(None, files("model.safetensors"))))


def test_a_hub_http_refusal_names_the_status():
    from huggingface_hub.errors import RepositoryNotFoundError

    class Response:
        status_code = 404
        headers: dict = {}
        request = None

    error = RepositoryNotFoundError("not found", response=Response())
    with pytest.raises(LeaderboardError, match=r"refused timm/x \(HTTP 404\)"):
        lookup_hub_pin("timm/x", FakeHfApi(error=error))


def test_the_plan_comes_from_the_catalog_and_a_sibling_entry():
    plan = plan_entry(NEW_TAG, SHIPPED_SUBMISSIONS)
    assert (plan.architecture, plan.family, plan.repo, plan.img_size) == (
        "resnet50", "resnet", "timm/resnet50.bamboo", 224)
    assert (plan.defaults.crop_pct, plan.defaults.interpolation) == (1.0, "bicubic")
    # params and MACs depend on the network and input size only: taken from a 224 px resnet50
    assert plan.compute["params_m"] == 25.56 and "same network and input" in plan.compute["source"]


def test_the_plan_refuses_what_it_cannot_fill(tmp_path):
    with pytest.raises(UsageError, match="did you mean 'resnet50'"):
        plan_entry("resnet500.a1_in1k", tmp_path)
    with pytest.raises(UsageError, match="--repo OWNER/NAME"):
        plan_entry("resnet50.my_in1k", tmp_path)
    with pytest.raises(UsageError, match="OWNER/NAME"):
        plan_entry("resnet50.my_in1k", tmp_path, repo="not a repo")
    with pytest.raises(LeaderboardError, match="no submissions folder here"):
        plan_entry(NEW_TAG, tmp_path / "absent")
    write_submission(tmp_path, valid_submission_dict())
    with pytest.raises(LeaderboardError, match="exists already"):
        plan_entry("resnet50.a1_in1k", tmp_path / "submissions")


def test_own_weights_need_only_the_repo(tmp_path):
    result = create_entry("resnet50.my_in1k", tmp_path, repo="me/resnet50-mine",
                          api=FakeHfApi(Info(SHA, files("model.safetensors"))))
    data, problems, _ = load_yaml_file(result.path, str(result.path))
    assert problems == []
    assert data["model"]["weights"]["hf_hub"] == {"repo": "me/resnet50-mine", "revision": SHA,
                                                  "filename": "model.safetensors"}
    assert "license" not in data["model"]  # timm's licence is for timm's weights, not these


def test_a_pinned_file_fails_check_only_on_what_the_contributor_writes(tmp_path):
    result = create_entry(NEW_TAG, tmp_path, api=FakeHfApi(Info(SHA, files("model.safetensors"))))
    assert result.path == tmp_path / NEW_TAG / "submission.yaml"
    assert result.pin.revision == SHA and "current commit" in result.pin_note
    assert result.todo == ["claims.top1", "claims.source", "submitter.name"]
    _, problems = check_submission_file(result.path, known_architectures=ARCHITECTURES)
    assert sorted(p.location.split(" ")[0] for p in problems) == sorted(result.todo)
    assert all(p.severity == "error" for p in problems)


def test_offline_it_writes_unpinned_and_says_how_to_pin_by_hand(tmp_path):
    result = create_entry(NEW_TAG, tmp_path, api=FakeHfApi(error=OSError("no network")))
    assert result.pin is None
    assert "the Hub is unreachable (no network)" in result.pin_note
    assert "https://huggingface.co/timm/resnet50.bamboo/commits/main" in result.pin_note
    assert "--revision SHA" in result.pin_note
    assert result.todo[0] == "model.weights.hf_hub.revision"
    _, problems = check_submission_file(result.path, known_architectures=ARCHITECTURES)
    assert any("weights are not pinned" in p.message for p in problems)
    offline = create_entry("resnet50.fb_swsl_ig1b_ft_in1k", tmp_path, offline=True,
                           api=FakeHfApi(error=AssertionError("must not be called")))
    assert "--offline" in offline.pin_note


def test_a_hand_pin_is_checked_and_never_asks_the_hub(tmp_path):
    with pytest.raises(UsageError, match="40-character"):
        create_entry(NEW_TAG, tmp_path, revision="main")
    with pytest.raises(UsageError, match="goes with --revision"):
        create_entry(NEW_TAG, tmp_path, filename="model.safetensors")
    result = create_entry(NEW_TAG, tmp_path, revision=SHA, filename="pytorch_model.bin",
                          api=FakeHfApi(error=AssertionError("must not be called")))
    data, _, _ = load_yaml_file(result.path, str(result.path))
    assert data["model"]["weights"]["hf_hub"]["filename"] == "pytorch_model.bin"
    assert not (tmp_path / ".resnet50.bamboo").exists()


def test_a_size_suffix_sets_the_eval_size(tmp_path):
    result = create_entry(f"{NEW_TAG}-288", tmp_path, revision=SHA)
    data, _, _ = load_yaml_file(result.path, str(result.path))
    assert data["id"] == f"{NEW_TAG}-288" and data["eval"]["img_size"] == 288
    assert "compute" not in data  # no sibling at 288 px here


def test_the_written_file_reads_back_with_the_strict_loader(tmp_path: Path):
    result = create_entry(NEW_TAG, tmp_path, revision=SHA)
    text = result.path.read_text()
    assert text.startswith(f"# Written by `leaderboard new {NEW_TAG}` from the timm ")
    data, problems, _ = load_yaml_file(result.path, str(result.path))
    assert problems == [] and data["claims"] == {"top1": None, "top5": None, "source": None}
