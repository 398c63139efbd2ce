"""`leaderboard new ARCH.TAG`: start a submission from the shipped timm catalog.

The catalog already knows an architecture's family and each pretrained tag's evaluation
settings and Hub repo, so a contributor should only have to type the claims and their name.
The one thing the catalog cannot know is the Hub commit to pin: that is looked up with
``huggingface_hub`` when the Hub is reachable; offline, the file is written unpinned and the
command says how to pin it by hand (``leaderboard check`` refuses it until then).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.submission import (
    HF_REPO_PATTERN,
    ID_PATTERN,
    REVISION_PATTERN,
    SCHEMA_VERSION,
    SUBMISSION_FILENAME,
)
from leaderboard.timm_catalog import PretrainedDefaults, TimmCatalog, load_catalog

# Filenames the validator can load, best first: safetensors cannot run code when loaded.
WEIGHTS_FILE_PATTERN = re.compile(r"^[A-Za-z0-9_./-]+\.(safetensors|bin|pth|pt)$")
PREFERRED_WEIGHTS_FILES = ("model.safetensors", "pytorch_model.bin")
WEIGHTS_SUFFIX_RANK = {".safetensors": 0, ".bin": 1, ".pth": 2, ".pt": 3}
HUB_TIMEOUT_S = 10.0


class HubApi(Protocol):
    """The part of ``huggingface_hub.HfApi`` this module uses (a fake one in unit tests)."""

    def model_info(self, repo_id: str, *, timeout: float | None = None,
                   token: bool | str | None = None) -> Any:  # pragma: no cover - protocol
        """Metadata of a model repo: ``.sha`` (current commit) and ``.siblings`` (files)."""


@dataclass(frozen=True)
class HubPin:
    """A pinned reference to a weights file on the Hub."""

    revision: str
    filename: str


class HubUnreachable(Exception):
    """The Hub could not be asked (no network, offline mode, huggingface_hub missing)."""


@dataclass(frozen=True)
class NewEntry:
    """Everything `leaderboard new` fills in from the catalog, before pinning."""

    entry_id: str
    architecture: str
    tag: str
    family: str | None
    defaults: PretrainedDefaults | None
    img_size: int | None
    repo: str | None
    url: str | None
    license: str | None
    compute: dict[str, Any] | None


@dataclass(frozen=True)
class NewEntryResult:
    """What was written and what the contributor still has to do."""

    path: Path
    entry: NewEntry
    pin: HubPin | None
    pin_note: str
    todo: list[str]


def split_entry_id(entry_id: str) -> tuple[str, str, int | None]:
    """``arch.tag[-img_size]`` -> (architecture, tag, img_size or None).

    Raises:
        UsageError: The id is not of that form.
    """
    if not re.match(ID_PATTERN, entry_id) or "." not in entry_id:
        raise UsageError(f"'{entry_id}' is not an entry id: use timm's ARCH.TAG (e.g. "
                         "resnet50.a1_in1k), plus -<img_size> for a non-default resolution")
    name, _, size = entry_id.partition("-")
    architecture, _, tag = name.partition(".")
    return architecture, tag, int(size) if size else None


def plan_entry(entry_id: str, submissions_dir: Path, *, repo: str | None = None,
               catalog: TimmCatalog | None = None) -> NewEntry:
    """Fill an entry's fields from the catalog (and compute figures from a sibling entry).

    Args:
        entry_id: ``arch.tag`` or ``arch.tag-<img_size>``.
        submissions_dir: The repository's submissions folder.
        repo: Hub repo of the weights; default: the tag's repo in timm's registry.
        catalog: The timm catalog; default: the shipped one.

    Raises:
        UsageError: Unknown architecture, an unknown tag without ``repo``, or a bad repo name.
        LeaderboardError: No submissions folder, or the entry exists already.
    """
    catalog = catalog or load_catalog()
    architecture, tag, size = split_entry_id(entry_id)
    if not submissions_dir.is_dir():
        raise LeaderboardError(f"{submissions_dir}: no submissions folder here; run from the "
                               "root of a clone of the repository or pass --submissions DIR")
    existing = submissions_dir / entry_id / SUBMISSION_FILENAME
    if existing.exists():
        raise LeaderboardError(f"{existing}: the entry exists already; edit that file instead")
    if architecture not in catalog.architectures:
        import difflib

        close = difflib.get_close_matches(architecture, catalog.architectures, n=1, cutoff=0.8)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UsageError(f"'{architecture}' is not an architecture of timm {catalog.timm_version}"
                         f"{hint} (`leaderboard timm-catalog` says which timm is pinned)")
    defaults = catalog.pretrained.get(f"{architecture}.{tag}")
    if defaults is None and repo is None:
        tags = sorted(k.split(".", 1)[1] for k in catalog.pretrained if k.startswith(architecture + "."))
        known = f"; its pretrained tags in timm: {', '.join(tags[:8])}" if tags else ""
        raise UsageError(f"'{architecture}.{tag}' is not a pretrained tag of timm "
                         f"{catalog.timm_version}{known}. For your own weights give --repo "
                         "OWNER/NAME (the Hub repo that holds them)")
    if repo is not None and not re.match(HF_REPO_PATTERN, repo):
        raise UsageError(f"--repo {repo!r}: write the Hub repo as OWNER/NAME")
    if defaults is None:
        defaults = _shared_defaults(catalog, architecture)
    img_size = size or (defaults.img_size if defaults else None)
    return NewEntry(
        entry_id=entry_id, architecture=architecture, tag=tag,
        family=catalog.family_of(architecture), defaults=defaults, img_size=img_size,
        repo=repo or (defaults.hf_hub_id if defaults else None),
        url=None if repo else (defaults.url if defaults else None),
        license=defaults.license if defaults and repo is None else None,
        compute=sibling_compute(submissions_dir, architecture, img_size))


def _shared_defaults(catalog: TimmCatalog, architecture: str) -> PretrainedDefaults | None:
    """The evaluation settings every pretrained tag of an architecture agrees on, if they do."""
    configs = {(d.img_size, d.crop_pct, d.interpolation)
               for k, d in catalog.pretrained.items() if k.startswith(architecture + ".")}
    if len(configs) != 1:
        return None  # no tag, or tags that disagree: leave eval to timm's resolved config
    img_size, crop_pct, interpolation = configs.pop()
    return PretrainedDefaults(img_size, crop_pct, interpolation, None, None, None)


def sibling_compute(submissions_dir: Path, architecture: str, img_size: int | None) -> dict[str, Any] | None:
    """The compute block of another entry with the same architecture and input size.

    Parameters, MACs and activations depend on the network and its input only, not on the
    weights, so a sibling's figures are this entry's too.
    """
    from leaderboard.safe_yaml import load_yaml_file

    if img_size is None or not submissions_dir.is_dir():
        return None
    for path in sorted(submissions_dir.glob(f"{architecture}.*/{SUBMISSION_FILENAME}")):
        data, _, _ = load_yaml_file(path, str(path))
        if not isinstance(data, dict) or data.get("model", {}).get("architecture") != architecture:
            continue
        evaluation = data.get("eval") or {}
        compute = data.get("compute")
        if evaluation.get("img_size") == img_size and isinstance(compute, dict):
            return {**compute, "source": f"{compute.get('source', 'unknown')} "
                                         f"(as for {path.parent.name}: same network and input)"}
    return None


def choose_weights_file(filenames: Iterable[str]) -> str | None:
    """The weights file to pin: model.safetensors, then other safetensors, then pickles."""
    loadable = [f for f in filenames if WEIGHTS_FILE_PATTERN.match(f)]
    # Format first (any safetensors beats any pickle), then timm's usual names, then top level.
    ranked = sorted(loadable, key=lambda f: (WEIGHTS_SUFFIX_RANK[Path(f).suffix],
                                             f not in PREFERRED_WEIGHTS_FILES, f.count("/"), f))
    return ranked[0] if ranked else None


def lookup_hub_pin(repo: str, api: HubApi | None = None) -> HubPin:
    """The repo's current commit and its weights file, from the Hugging Face Hub.

    Raises:
        HubUnreachable: No network, ``HF_HUB_OFFLINE``, or huggingface_hub not installed.
        LeaderboardError: The Hub answered, but the repo is missing, gated or has no weights.
    """
    if api is None:
        try:
            from huggingface_hub import HfApi
        except ImportError as exc:
            raise HubUnreachable("huggingface_hub is not installed (pip install huggingface_hub)") from exc
        api = HfApi()
    try:
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
    except ImportError:  # a fake api in a venv without huggingface_hub
        HfHubHTTPError = OfflineModeIsEnabled = ()  # type: ignore[assignment,misc]  # noqa: N806
    try:
        # token=False: never send (or read) a stored credential; public repos need none.
        info = api.model_info(repo, timeout=HUB_TIMEOUT_S, token=False)
    except OfflineModeIsEnabled as exc:
        raise HubUnreachable("HF_HUB_OFFLINE is set") from exc
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise LeaderboardError(f"the Hub refused {repo} (HTTP {status}): check the repo name, and "
                               "that it is public") from exc
    except OSError as exc:
        raise HubUnreachable(str(exc) or type(exc).__name__) from exc
    except Exception as exc:  # httpx/requests transport errors are not OSError subclasses
        if type(exc).__name__ in ("ConnectError", "ConnectTimeout", "ReadTimeout", "ConnectionError",
                                  "TimeoutException", "NetworkError", "ProxyError"):
            raise HubUnreachable(f"{type(exc).__name__}: {exc}") from exc
        raise
    sha = getattr(info, "sha", None)
    if not isinstance(sha, str) or not re.match(REVISION_PATTERN, sha):
        raise LeaderboardError(f"the Hub gave no commit for {repo}; pin it by hand")
    filename = choose_weights_file(s.rfilename for s in (getattr(info, "siblings", None) or []))
    if filename is None:
        raise LeaderboardError(f"{repo} at {sha[:12]} has no .safetensors, .bin, .pth or .pt file")
    return HubPin(sha, filename)


def hand_pin_instructions(entry: NewEntry) -> str:
    """How to pin the weights without the Hub API."""
    if entry.repo:
        return (f"pin it by hand: open https://huggingface.co/{entry.repo}/commits/main, copy the "
                "full 40-character id of the newest commit into model.weights.hf_hub.revision, "
                f"and check the file name at https://huggingface.co/{entry.repo}/tree/main "
                f"(or rerun `leaderboard new {entry.entry_id} --revision SHA [--filename FILE]`)")
    return (f"pin it by hand: download {entry.url} and put the output of `sha256sum FILE` into "
            "model.weights.url.sha256")


def render_submission(entry: NewEntry, pin: HubPin | None, command: str) -> str:
    """The submission file, with comments where the contributor writes."""
    fill = "  # fill in"
    lines = [
        f"# Written by `{command}` from the timm {load_catalog().timm_version} catalog.",
        "# Fill in the claims and the submitter, then run",
        "#   leaderboard check --changed-against origin/main",
        f"schema_version: {SCHEMA_VERSION}",
        f"id: {_scalar(entry.entry_id)}",
        "model:",
        f"  architecture: {_scalar(entry.architecture)}",
        "  weights:",
    ]
    if entry.repo:
        lines += ["    hf_hub:", f"      repo: {_scalar(entry.repo)}"]
        if pin:
            lines += [f"      revision: {pin.revision}", f"      filename: {_scalar(pin.filename)}"]
        else:
            lines += [f"      revision: null{fill}: the repo's full 40-hex commit",
                      "      filename: model.safetensors  # check it in the repo's file list"]
    else:
        lines += ["    url:", f"      url: {_scalar(entry.url)}",
                  f"      sha256: null{fill}: `sha256sum FILE` of the downloaded file"]
    if entry.family:
        lines.append(f"  family: {_scalar(entry.family)}")
    if entry.license:
        lines.append(f"  license: {_scalar(entry.license)}")
    if entry.defaults or entry.img_size:
        lines.append("eval:  # timm's defaults for this tag; change them only if you evaluated otherwise")
        if entry.img_size:
            lines.append(f"  img_size: {entry.img_size}")
        if entry.defaults:
            lines += [f"  crop_pct: {entry.defaults.crop_pct!r}",
                      f"  interpolation: {_scalar(entry.defaults.interpolation)}"]
    lines += [
        "claims:",
        f"  top1: null{fill}: your ImageNet-1k val top-1, percent (e.g. 80.4)",
        f"  top5: null{fill} (optional): top-5, percent",
        f"  source: null{fill}: where the numbers come from (e.g. my eval on the 50,000 val images)",
    ]
    if entry.compute:
        lines.append("compute:")
        for key in ("params_m", "gmacs", "activations_m", "source"):
            if entry.compute.get(key) is not None:
                lines.append(f"  {key}: {_scalar(entry.compute[key])}")
    lines += [
        "submitter:",
        f"  name: null{fill}: your name",
        f"  github: null{fill} (optional): your GitHub handle, without @",
    ]
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    """One YAML scalar, quoted only where YAML needs it."""
    return yaml.safe_dump(value, default_flow_style=True, width=1_000).removesuffix("\n...\n").strip()


def create_entry(entry_id: str, submissions_dir: Path, *, repo: str | None = None,
                 revision: str | None = None, filename: str | None = None, offline: bool = False,
                 api: HubApi | None = None) -> NewEntryResult:
    """Write ``submissions/<id>/submission.yaml`` for ``entry_id`` and say what is left to do.

    Args:
        entry_id: ``arch.tag`` or ``arch.tag-<img_size>``.
        submissions_dir: The repository's submissions folder.
        repo: Hub repo of the weights; default: the tag's repo in timm's registry.
        revision: Pin by hand: the repo's 40-hex commit (the Hub is not asked).
        filename: The weights file in the repo (with ``revision``; default model.safetensors).
        offline: Do not ask the Hub.
        api: A ``huggingface_hub.HfApi``-like object (tests); default: a real one.
    """
    if revision is not None and not re.match(REVISION_PATTERN, revision):
        raise UsageError(f"--revision {revision!r}: give the full 40-character lowercase hex commit")
    if filename is not None and not WEIGHTS_FILE_PATTERN.match(filename):
        raise UsageError(f"--filename {filename!r}: name a .safetensors (preferred), .bin, .pth or "
                         ".pt file in the repo")
    if filename is not None and revision is None:
        raise UsageError("--filename goes with --revision (without it, the Hub lookup picks the file)")
    entry = plan_entry(entry_id, submissions_dir, repo=repo)
    pin: HubPin | None = None
    if not entry.repo:
        note = "timm's weights for this tag are a URL, not a Hub repo: " + hand_pin_instructions(entry)
    elif revision is not None:
        pin = HubPin(revision, filename or "model.safetensors")
        note = f"pinned by hand to {entry.repo}@{revision[:12]}, {pin.filename}"
    elif offline:
        note = "the Hub was not asked (--offline); " + hand_pin_instructions(entry)
    else:
        try:
            pin = lookup_hub_pin(entry.repo, api)
            note = f"pinned {entry.repo} to its current commit {pin.revision[:12]}, {pin.filename}"
        except HubUnreachable as exc:
            note = f"the Hub is unreachable ({exc}); " + hand_pin_instructions(entry)
    command = f"leaderboard new {entry_id}" + (f" --repo {repo}" if repo else "")
    path = submissions_dir / entry_id / SUBMISSION_FILENAME
    from leaderboard.atomic import atomic_write_text

    atomic_write_text(path, render_submission(entry, pin, command))
    todo = ["claims.top1", "claims.source", "submitter.name"]
    if pin is None:
        todo.insert(0, "model.weights.hf_hub.revision" if entry.repo else "model.weights.url.sha256")
    return NewEntryResult(path, entry, pin, note, todo)


def result_lines(result: NewEntryResult) -> list[str]:
    """What `leaderboard new` prints: the file, the pin, and what is left to fill in."""
    return [f"wrote {result.path}",
            result.pin_note,
            "fill in: " + ", ".join(result.todo),
            "then: leaderboard check --changed-against origin/main"]
