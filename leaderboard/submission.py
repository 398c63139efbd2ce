"""The contributor-owned submission: schema (pydantic v2, strict) and a collect-all checker.

A submission is ``submissions/<id>/submission.yaml``. Nothing in it is executed: the
architecture comes from the pinned timm, weights are data fetched by digest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leaderboard.errors import Problem
from leaderboard.safe_yaml import Lines, load_yaml_file

SCHEMA_VERSION = 1
SUBMISSION_FILENAME = "submission.yaml"
# Ends the message of every warning about an imported entry, so `check` can sum them up.
IMPORTED_ENTRY_MARK = "(imported entry)"

ID_PATTERN = r"^[a-z0-9][a-z0-9_]*(\.[a-z0-9][a-z0-9_]*)?(-[1-9][0-9]{1,3})?$"
REVISION_PATTERN = r"^[0-9a-f]{40}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
HF_REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$"
# Each path part starts with a letter, digit or '_', so none is '.', '..' or empty: the file
# stays inside the repo snapshot.
HUB_FILENAME_PATTERN = (r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*"
                        r"\.(safetensors|bin|pth|pt)$")
GITHUB_HANDLE_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$"
# The example revision in README.md, CONTRIBUTING.md and the How to submit page: it matches
# REVISION_PATTERN, so without this a copied example would pass `check` and fail on the GPU.
DOCUMENTATION_PLACEHOLDER_REVISIONS = frozenset({"0123456789abcdef0123456789abcdef01234567"})


class _Strict(BaseModel):
    # strict: no "80" for 80, no 1 for true; extra=forbid: a typo is an error, not a no-op;
    # allow_inf_nan=False: an infinite parameter count breaks every chart and sum downstream.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


class HfHubWeights(_Strict):
    """Weights on the Hugging Face Hub, pinned to one commit."""

    repo: Annotated[str, Field(pattern=HF_REPO_PATTERN, description="Hub repo, `owner/name`.")]
    revision: Annotated[
        str | None,
        Field(
            pattern=REVISION_PATTERN,
            description="Full 40-hex commit of the repo. Required for new submissions; "
            "imported entries may leave it null until pinned.",
        ),
    ] = None
    filename: Annotated[
        str,
        Field(
            pattern=HUB_FILENAME_PATTERN,
            description="File inside the repo; `.safetensors` preferred. A relative path whose "
            "parts start with a letter, digit or '_' (no '..', no leading '/').",
        ),
    ] = "model.safetensors"


class UrlWeights(_Strict):
    """Weights at an HTTPS URL with a declared digest."""

    url: Annotated[str, Field(pattern=r"^https://\S+$", description="HTTPS URL of the file.")]
    sha256: Annotated[
        str | None,
        Field(
            pattern=SHA256_PATTERN,
            description="sha256 of the file, hex. Required for new submissions; imported "
            "entries may leave it null until pinned.",
        ),
    ] = None


class Weights(_Strict):
    """Where the pretrained weights come from: exactly one of `hf_hub` or `url`."""

    hf_hub: HfHubWeights | None = None
    url: UrlWeights | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Weights:
        if (self.hf_hub is None) == (self.url is None):
            raise ValueError("give exactly one of 'hf_hub' or 'url'")
        return self


class ModelInfo(_Strict):
    """What the model is and where its weights come from."""

    architecture: Annotated[
        str, Field(min_length=1, description="A name in `timm.list_models()` of the pinned timm.")
    ]
    weights: Weights
    family: Annotated[
        str | None, Field(pattern=r"^[a-z0-9_]+$", description="Model family; defaults to timm's module.")
    ] = None
    paper: Annotated[str | None, Field(pattern=r"^https://\S+$", description="Paper URL.")] = None
    license: Annotated[str | None, Field(min_length=1, description="Weights license (SPDX id).")] = None


class EvalConfig(_Strict):
    """Overrides of timm's resolved data config for evaluation."""

    img_size: Annotated[int | None, Field(ge=32, le=1024, description="Square input size, px.")] = None
    crop_pct: Annotated[
        float | None, Field(gt=0.0, le=2.0, description="Center-crop fraction (timm allows > 1).")
    ] = None
    interpolation: Literal["nearest", "bilinear", "bicubic"] | None = None


class Claims(_Strict):
    """What the submitter claims; the validator re-measures it."""

    top1: Annotated[float, Field(ge=0.0, le=100.0, description="ImageNet-1k val top-1, percent.")]
    top5: Annotated[float | None, Field(ge=0.0, le=100.0, description="Top-5, percent.")] = None
    source: Annotated[str, Field(min_length=3, description="Where the numbers come from.")]
    energy_j_per_image: Annotated[
        float | None, Field(ge=1e-9, le=1e4,
                            description="Optional claimed energy, J/image, offline scenario.")
    ] = None

    @model_validator(mode="after")
    def _top5_not_below_top1(self) -> Claims:
        if self.top5 is not None and self.top5 < self.top1:
            raise ValueError(f"top5 ({self.top5}) is below top1 ({self.top1})")
        return self


class Compute(_Strict):
    """Reference compute figures (the validator measures its own)."""

    # Upper bounds far past any model, so that per-parameter ratios on the site stay finite.
    params_m: Annotated[float | None, Field(ge=0.0, le=1e9, description="Parameters, millions.")] = None
    gmacs: Annotated[float | None, Field(ge=0.0, le=1e9,
                                         description="Multiply-accumulates, billions.")] = None
    activations_m: Annotated[float | None, Field(ge=0.0, le=1e9,
                                                 description="Activations, millions.")] = None
    source: Annotated[str, Field(min_length=3, description="Where the figures come from.")]


class Submitter(_Strict):
    """Who submitted the entry."""

    name: Annotated[str, Field(min_length=1)]
    github: Annotated[str | None, Field(pattern=GITHUB_HANDLE_PATTERN, description="GitHub handle.")] = None


class ImportedFrom(_Strict):
    """Set by `leaderboard import-timm` only: the row this entry was generated from."""

    file: str
    repository: str
    commit: Annotated[str, Field(pattern=REVISION_PATTERN)]
    row: Annotated[int, Field(ge=1)]


class Submission(_Strict):
    """One leaderboard entry as a contributor submits it."""

    schema_version: Literal[1] = Field(description="Always 1 for this schema.")
    id: Annotated[
        str,
        Field(
            pattern=ID_PATTERN,
            description="`architecture.tag`, plus `-<img_size>` when not the default "
            "resolution; equals the folder name.",
        ),
    ]
    model: ModelInfo
    eval: EvalConfig | None = None
    claims: Claims
    compute: Compute | None = None
    submitter: Submitter
    imported_from: ImportedFrom | None = None

    @property
    def is_imported(self) -> bool:
        """True for entries generated from timm's published results."""
        return self.imported_from is not None


# Plain scalars a YAML 1.1 reader (PyYAML, so the checker) reads as a boolean, a date or a
# number while a YAML 1.2 reader (an editor) reads them as text; the checker refuses them
# unquoted, so the schema refuses them as text.
YAML_1_1_TEXT_PATTERN = (
    r"^(yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+|$).*"
    r"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?"
    r"|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+"
    r"|[-+]?[0-9][0-9_]*_[0-9_]*(\.[0-9_]*)?|[-+]?[0-9][0-9_]*\.[0-9_]*_[0-9_]*)$"
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a submission, for editors and the docs.

    Beyond pydantic's schema it says what the checker says wherever JSON Schema can: exactly
    one weight source (``oneOf``), a pinned revision or digest unless the entry is imported
    (``if``/``else``), and no text that YAML 1.1 would read as something else. What it cannot
    say (top-5 not below top-1, anchors, ``schema_version: 1.0``, finiteness, the architecture
    list, the id against its folder) only ``leaderboard check`` finds.
    """
    schema = Submission.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Leaderboard submission"
    defs = schema["$defs"]
    defs["Weights"]["oneOf"] = [
        {"required": ["hf_hub"], "properties": {"hf_hub": {"type": "object"}}},
        {"required": ["url"], "properties": {"url": {"type": "object"}}},
    ]
    schema["if"] = {"required": ["imported_from"],
                    "properties": {"imported_from": {"type": "object"}}}
    schema["else"] = {"properties": {"model": {"properties": {"weights": {"properties": {
        "hf_hub": {"required": ["revision"], "properties": {"revision": {"type": "string"}}},
        "url": {"required": ["sha256"], "properties": {"sha256": {"type": "string"}}},
    }}}}}}
    _refuse_yaml_1_1_text(schema)
    return schema


def _refuse_yaml_1_1_text(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string":
            node["not"] = {"pattern": YAML_1_1_TEXT_PATTERN}
        for value in node.values():
            _refuse_yaml_1_1_text(value)
    elif isinstance(node, list):
        for value in node:
            _refuse_yaml_1_1_text(value)


# ---------------------------------------------------------------------------------------------
# Checking


def _field_line(lines: Lines, loc: tuple[Any, ...]) -> int | None:
    path = tuple(str(part) for part in loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that holds the field at ``loc`` (for listing allowed keys)."""
    model: type[BaseModel] = Submission
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        candidates = [field.annotation, *getattr(field.annotation, "__args__", ())]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _problem_from_error(file: str, lines: Lines, error: dict[str, Any]) -> Problem:
    loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
    kind = error["type"]
    field = ".".join(str(p) for p in loc) or "(top level)"
    line = _field_line(lines, loc)
    where = f"{field} (line {line})" if line else field
    value = error.get("input")
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = ", ".join(parent.model_fields) if parent else ""
        return Problem(file, where, f"unknown key '{loc[-1]}'",
                       f"remove it or fix its spelling; allowed here: {allowed}")
    if kind == "missing":
        return Problem(file, where, "required field is missing",
                       f"add '{loc[-1]}:'; see `leaderboard schema` for its type")
    if kind in {"int_type", "float_type", "int_from_float", "int_parsing", "float_parsing"}:
        want = "an integer" if kind.startswith("int") else "a number"
        if isinstance(value, str) and _PLAIN_DECIMAL.fullmatch(value.strip()):
            fix = "write the number without quotes"
        elif isinstance(value, str):
            fix = ("write it as a plain decimal number, e.g. 224 or 80.5 (no hex, octal, "
                   "exponent or base-60 forms)")
        else:
            fix = f"use {want}"
        return Problem(file, where, f"expected {want}, got {_describe(value)}", fix)
    if kind == "finite_number":
        return Problem(file, where, f"{_describe(value)} is not a finite number",
                       "write a finite number; leave the field out when it is unknown")
    if (kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool)
            and loc):
        # An unquoted all-digit revision or digest reads as a number; quoting keeps it text.
        return Problem(file, where, f"expected text, got the number {_describe(value)}",
                       f'quote it: {loc[-1]}: "{value}"')
    if kind in {"string_type", "bool_type", "dict_type", "model_type", "list_type"}:
        want = {"string_type": "text", "bool_type": "true or false", "dict_type": "a mapping",
                "model_type": "a mapping", "list_type": "a list"}[kind]
        return Problem(file, where, f"expected {want}, got {_describe(value)}",
                       f"write {want} here; see `leaderboard schema`")
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return Problem(file, where, f"{_describe(value)} is out of range: {error['msg'].lower()}",
                       "check the value and its unit (percent, px, millions)")
    if kind == "string_pattern_mismatch":
        return Problem(file, where, f"{_describe(value)} has the wrong format",
                       _pattern_fix(loc, ctx.get("pattern", "")))
    if kind in {"literal_error", "enum"}:
        return Problem(file, where, f"{_describe(value)} is not allowed",
                       f"use {ctx.get('expected', 'one of the documented values')}")
    if kind == "string_too_short":
        return Problem(file, where, "value is empty or too short", "write a meaningful value")
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        return Problem(file, where, message, "see `leaderboard schema` for this block")
    return Problem(file, where, error["msg"], "see `leaderboard schema`")


_PLAIN_DECIMAL = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
# pydantic error kinds about a value (not a missing or unknown key): the loader may already
# have refused that value (a YAML 1.1 form), and one message per mistake is enough.
_VALUE_ERROR_KINDS = frozenset({
    "int_type", "float_type", "int_from_float", "string_type", "bool_type", "finite_number",
    "string_pattern_mismatch", "literal_error", "greater_than", "greater_than_equal",
    "less_than", "less_than_equal", "int_parsing", "float_parsing",
})
_LINE_RE = re.compile(r"^line (\d+),")


def _pattern_fix(loc: tuple[Any, ...], pattern: str) -> str:
    name = str(loc[-1]) if loc else ""
    fixes = {
        "revision": "pin the full 40-character commit hash of the Hub repo (not a branch or tag)",
        "sha256": "give the 64-character lowercase hex sha256 of the weights file",
        "id": "use timm's `architecture.tag`, e.g. resnet50.a1_in1k, optionally ending in -<img_size>",
        "repo": "write the Hub repo as owner/name, e.g. timm/resnet50.a1_in1k",
        "github": "write the GitHub handle without '@'",
        "url": "use a full https:// URL",
        "paper": "use a full https:// URL",
        "filename": "name a .safetensors (preferred), .bin, .pth or .pt file inside the repo, "
                    "as a relative path without '..'",
        "family": "use lowercase letters, digits and underscores",
    }
    return fixes.get(name, f"match the pattern {pattern}")


def check_submission_file(
    path: Path,
    *,
    known_architectures: frozenset[str] | None = None,
    display: str | None = None,
) -> tuple[Submission | None, list[Problem]]:
    """Check one ``submission.yaml`` and collect every problem.

    Args:
        path: The file.
        known_architectures: Architecture names of the pinned timm; ``None`` skips that check.
        display: How to name the file in messages.

    Returns:
        The parsed submission (``None`` when it has errors) and all problems, warnings included.
    """
    file = display or str(path)
    data, problems, lines = load_yaml_file(path, file)
    if data is None:
        return None, problems
    version = data.get("schema_version", SCHEMA_VERSION)
    # type() check: `true` and `1.0` equal 1 in Python and pass pydantic's strict Literal[1].
    if type(version) is not int or version != SCHEMA_VERSION:
        line = lines.get(("schema_version",))
        shown = repr(version) if len(repr(version)) <= 40 else repr(version)[:37] + "..."
        # The loader's own problems (a 5,000-digit number, a control character) come first.
        return None, [
            *problems,
            Problem(file, f"schema_version (line {line})" if line else "schema_version",
                    f"unsupported schema_version {shown}",
                    f"this version of the leaderboard reads schema_version {SCHEMA_VERSION}")
        ]
    refused_lines = {int(m.group(1)) for p in problems if (m := _LINE_RE.match(p.location))}
    try:
        submission = Submission.model_validate(data)
    except ValidationError as exc:
        problems.extend(
            _problem_from_error(file, lines, e) for e in exc.errors()
            if not (e["type"] in _VALUE_ERROR_KINDS and _field_line(lines, e["loc"]) in refused_lines)
        )
        submission = None
    # A schema problem inside the weights block (a misspelt 'revison') is the one to fix; an
    # "unpinned" message on top of it would only repeat it.
    weights_ok = not any(p.location.startswith("model.weights") for p in problems)
    problems.extend(_semantic_problems(file, path, data, lines, weights_ok, known_architectures))
    has_error = any(p.severity == "error" for p in problems)
    return (None if has_error else submission), problems


def _semantic_problems(
    file: str,
    path: Path,
    data: dict[str, Any],
    lines: Lines,
    weights_ok: bool,
    known_architectures: frozenset[str] | None,
) -> Iterable[Problem]:
    """Checks that span fields or need context beyond the schema."""

    def at(*loc: str) -> str:
        line = _field_line(lines, loc)
        return ".".join(loc) + (f" (line {line})" if line else "")

    entry_id = data.get("id")
    # absolute(): `leaderboard check submission.yaml` run inside the entry's folder has a
    # relative path whose parent is '' (no symlinks resolved: the folder as the user sees it).
    folder = path.absolute().parent.name
    if isinstance(entry_id, str):
        if path.name == SUBMISSION_FILENAME and folder != entry_id:
            yield Problem(file, at("id"), f"id '{entry_id}' does not match its folder "
                          f"'{folder}'",
                          f"move the file to submissions/{entry_id}/{SUBMISSION_FILENAME} "
                          "or change the id")
    if path.name != SUBMISSION_FILENAME:
        yield misnamed_problem(file, path.name)

    model = data.get("model") if isinstance(data.get("model"), dict) else {}
    architecture = model.get("architecture")
    if isinstance(architecture, str) and architecture:
        if known_architectures is not None and architecture not in known_architectures:
            close = _closest(architecture, known_architectures)
            hint = f"; did you mean '{close}'?" if close else ""
            yield Problem(file, at("model", "architecture"),
                          f"architecture '{architecture}' is not in timm.list_models(){hint}",
                          "use a model name from the pinned timm (`leaderboard check` lists "
                          "the timm version it uses)")
        if isinstance(entry_id, str) and re.match(ID_PATTERN, entry_id):
            id_arch = entry_id.split(".")[0].split("-")[0]
            if id_arch != architecture:
                yield Problem(file, at("id"), f"id '{entry_id}' does not start with the "
                              f"architecture '{architecture}'",
                              f"name the entry {architecture}.<tag>")
    if isinstance(entry_id, str) and re.match(ID_PATTERN, entry_id) and "-" in entry_id:
        tag, size_text = entry_id.rsplit("-", 1)
        size = int(size_text)
        default_size = _default_img_size(tag) if known_architectures is not None else None
        if default_size == size:
            yield Problem(file, at("id"), f"id '{entry_id}' ends in -{size}, the default size of "
                          f"'{tag}': it names the same model as the entry '{tag}'",
                          f"drop the suffix (id: {tag}, folder submissions/{tag}/); a -<img_size> "
                          "suffix marks a resolution other than the default")
        evaluation = data.get("eval") if isinstance(data.get("eval"), dict) else {}
        if evaluation.get("img_size") != size:
            yield Problem(file, at("eval", "img_size") if "eval" in data else at("id"),
                          f"id ends in -{size} but eval.img_size is "
                          f"{evaluation.get('img_size')!r}",
                          f"set eval.img_size: {size} or drop the suffix from the id")
    # From the raw mapping, so a file with schema errors elsewhere still hears about this too.
    if weights_ok:
        yield from _pinning_problems(file, data, model, at)
    yield from _url_problems(file, model, at)
    yield from _fraction_problems(file, data, at)
    if known_architectures is not None and isinstance(entry_id, str):
        yield from _license_problems(file, entry_id, model, at)
    yield from _size_collision_problems(file, path, data, at)


def _fraction_problems(file: str, data: dict[str, Any], at: Any) -> Iterable[Problem]:
    """A claimed top-1/top-5 below 1.0: a fraction (0.81) where the field is a percentage (81.0)."""
    claims = data.get("claims") if isinstance(data.get("claims"), dict) else {}
    for key in ("top1", "top5"):
        value = claims.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1.0:
            yield Problem(file, at("claims", key), f"claims.{key} is {value}: a fraction, but "
                          "claims are percentages", f"write the percentage ({key}: {value * 100:g})")


def _license_problems(file: str, entry_id: str, model: dict[str, Any], at: Any) -> Iterable[Problem]:
    """A licence that is not an SPDX expression, or that differs from timm's catalog for the tag."""
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    from leaderboard.timm_catalog import load_catalog

    license_ = model.get("license")
    if not isinstance(license_, str) or not license_:
        return
    defaults = load_catalog().pretrained.get(entry_id.split("-")[0])
    catalog = defaults.license if defaults is not None and defaults.license != "unknown" else None
    if catalog is not None and license_.lower() == catalog.lower():
        return  # timm's own spelling (some of its licences are not SPDX ids)
    try:
        canonical = canonicalize_license_expression(license_)
    except InvalidLicenseExpression:
        guess = re.sub(r"\s+", "-", license_.strip())
        yield Problem(file, at("model", "license"), f"licence {license_!r} is not an SPDX "
                      "licence expression",
                      f"write its SPDX id (https://spdx.org/licenses/), e.g. '{guess}'"
                      + (f"; timm's catalog says '{catalog}' for this tag" if catalog else ""))
        return
    try:
        catalog_canonical = canonicalize_license_expression(catalog) if catalog else None
    except InvalidLicenseExpression:
        catalog_canonical = catalog
    if catalog_canonical is not None and canonical != catalog_canonical:
        yield Problem(file, at("model", "license"), f"licence {canonical} differs from timm's "
                      f"catalog, which says '{catalog}' for '{entry_id.split('-')[0]}'",
                      f"write license: {catalog}, or give the source of the other licence in the "
                      "pull request (a maintainer then updates the catalog)")


def _size_collision_problems(file: str, path: Path, data: dict[str, Any], at: Any) -> Iterable[Problem]:
    """An entry set to an input size that already has its own ``<id>-<size>`` entry."""
    entry_id = data.get("id")
    evaluation = data.get("eval") if isinstance(data.get("eval"), dict) else {}
    size = evaluation.get("img_size")
    if not isinstance(entry_id, str) or "-" in entry_id or type(size) is not int:
        return
    sibling = path.absolute().parent.parent / f"{entry_id}-{size}"
    if (sibling / SUBMISSION_FILENAME).is_file():
        yield Problem(file, at("eval", "img_size"), f"eval.img_size {size} is the size of the "
                      f"existing entry '{entry_id}-{size}': two entries would measure the same model",
                      f"keep this entry at its default size and edit submissions/{entry_id}-{size}/ "
                      "instead")


def _url_problems(file: str, model: dict[str, Any], at: Any) -> Iterable[Problem]:
    """A weights URL the GPU runner must not fetch (credentials, IP, other hosts, ports, '..')."""
    from leaderboard.weights_url import weights_url_problems

    weights = model.get("weights") if isinstance(model.get("weights"), dict) else {}
    url = weights.get("url") if isinstance(weights.get("url"), dict) else {}
    if isinstance(url.get("url"), str):
        problems = weights_url_problems(url["url"])
        if problems:
            yield Problem(file, at("model", "weights", "url", "url"),
                          "weights URL refused: " + "; ".join(problems),
                          "give an https URL on an allowed host, without credentials or port "
                          "(or use model.weights.hf_hub)")


def _pinning_problems(file: str, data: dict[str, Any], model: dict[str, Any],
                      at: Any) -> Iterable[Problem]:
    """Unpinned weights: an error for new submissions, a warning for imported entries."""
    weights = model.get("weights") if isinstance(model.get("weights"), dict) else {}
    hub = weights.get("hf_hub") if isinstance(weights.get("hf_hub"), dict) else None
    url = weights.get("url") if isinstance(weights.get("url"), dict) else None
    if hub is not None and hub.get("revision") in DOCUMENTATION_PLACEHOLDER_REVISIONS:
        yield Problem(file, at("model", "weights", "hf_hub", "revision"),
                      "revision is the documentation's placeholder, not a commit of the repo",
                      "pin the repo's real 40-hex commit (`leaderboard new ID` looks it up; the "
                      "repo's 'History' tab lists commits)")
        return
    if hub is not None and hub.get("revision") is None:
        loc = at("model", "weights", "hf_hub", "revision")
        what = "weights are not pinned: hf_hub.revision is missing"
        fix = ("add revision: <40-hex commit> of the Hub repo (the repo's 'History' tab lists "
               "commits)")
    elif url is not None and url.get("sha256") is None:
        loc = at("model", "weights", "url", "sha256")
        what = "weights are not pinned: url.sha256 is missing"
        fix = "add sha256: <64-hex digest> of the file (`sha256sum FILE`)"
    else:
        return
    if data.get("imported_from") is not None:
        yield Problem(file, loc, what + " " + IMPORTED_ENTRY_MARK,
                      "pin it before this entry is measured", severity="warning")
    else:
        yield Problem(file, loc, what, fix)


def misnamed_problem(file: str, name: str) -> Problem:
    """The problem of a submission file that is not named ``submission.yaml``."""
    return Problem(file, "", f"'{name}' is misnamed: a submission file must be named "
                   f"{SUBMISSION_FILENAME}",
                   f"rename it to submissions/<id>/{SUBMISSION_FILENAME} (`git mv`)")


def _default_img_size(tag: str) -> int | None:
    """The default input size of a pretrained timm tag, from the shipped catalog."""
    from leaderboard.timm_catalog import load_catalog

    defaults = load_catalog().pretrained.get(tag)
    return defaults.img_size if defaults is not None else None


def _closest(name: str, candidates: frozenset[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    return matches[0] if matches else None


def load_valid_submission(submissions_dir: Path, entry_id: str) -> Submission:
    """The checked submission of ``entry_id``, for commands that measure it.

    Raises:
        LeaderboardError: No such submission, or it has errors (all of them listed).
    """
    from leaderboard.errors import LeaderboardError
    from leaderboard.timm_catalog import load_catalog

    path = submissions_dir / entry_id / SUBMISSION_FILENAME
    if not path.is_file():
        raise LeaderboardError(f"{path}: no such submission")
    submission, problems = check_submission_file(path, known_architectures=load_catalog().architectures)
    if submission is None:
        details = "\n".join(p.format() for p in problems if p.severity == "error")
        raise LeaderboardError(f"{path}: the submission has errors; fix them first:\n{details}")
    return submission


# ---------------------------------------------------------------------------------------------
# Schema reflection: the fields of the models above, in words, for the how-to-submit page


def _type_name(annotation: Any) -> str:
    """A field type in words: ``text``, ``number or null``, a link to a nested model."""
    import typing  # here, not at the top: this section is appended to keep merges small

    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _type_name(args[0])
    if typing.get_origin(annotation) is typing.Literal:
        return " or ".join(f"`{a!r}`" for a in args)
    if args:
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in args else "")
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return {str: "text", int: "integer", float: "number", bool: "true/false"}.get(
        annotation, getattr(annotation, "__name__", str(annotation)))


def schema_blocks(model: type[BaseModel]) -> list[dict[str, Any]]:
    """Every model reachable from ``model`` (say :class:`Submission`) with its fields.

    The how-to-submit page prints these as its schema reference, so the page follows the
    code: descriptions, patterns and bounds come from the fields themselves.
    """
    import typing

    blocks: list[dict[str, Any]] = []
    queue, seen = [model], set()
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        fields = []
        for name, info in current.model_fields.items():
            description = info.description or ""
            for meta in info.metadata:
                pattern = getattr(meta, "pattern", None)
                if pattern:
                    description += f" Pattern `{pattern}`."
                for bound, word in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
                    if getattr(meta, bound, None) is not None:
                        description += f" {word} {getattr(meta, bound)}."
            fields.append({"name": name, "type": _type_name(info.annotation),
                           "required": info.is_required(), "description": description.strip()})
            for candidate in (info.annotation, *typing.get_args(info.annotation)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    queue.append(candidate)
        blocks.append({"name": current.__name__,
                       "doc": (current.__doc__ or "").strip().splitlines()[0], "fields": fields})
    return blocks
