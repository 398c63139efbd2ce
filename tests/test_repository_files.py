"""What a GitHub repository is expected to carry: licence, citation, templates, hooks, packaging,
the validator container and the workflows around them. Schemas are checked with
check-jsonschema's vendored copies (no network); scripts taken from the workflows are run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from test_workflows import load, steps, tool

import leaderboard
from leaderboard.data_version import DataVersion, version_manifest

REPO = Path(__file__).resolve().parents[1]
GITHUB = REPO / ".github"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
FORMS = ["new-model.yml", "retire-entry.yml", "measurement-dispute.yml"]


def run(command: list[str], cwd: Path = REPO, env: dict[str, str] | None = None,
        timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env or {k: v for k, v in os.environ.items() if k != "PYTHONPATH"})


def schema_check(schema: str, *paths: Path) -> None:
    result = run([tool("check-jsonschema"), "--builtin-schema", f"vendor.{schema}",
                  *map(str, paths)])
    assert result.returncode == 0, result.stdout + result.stderr


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def step(workflow: str, name: str) -> dict:
    return next(s for _, s in steps(load(GITHUB / "workflows" / workflow)) if s.get("name") == name)


# ---------------------------------------------------------------------------------------------
# Licence, citation, changelog, security, owners


def test_the_licence_is_apache_2_and_packaging_says_so_in_spdx():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    # SPDX strings need setuptools 77; a licence classifier beside one is an error there
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]
    assert not any(c.startswith("License ::") for c in PYPROJECT["project"]["classifiers"])


def test_the_citation_is_valid_cff_with_the_two_papers():
    path = REPO / "CITATION.cff"
    schema_check("citation-file-format", path)
    cff = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert cff["version"] == leaderboard.__version__ and cff["license"] == "Apache-2.0"
    titles = {r["title"]: r for r in cff["references"]}
    yang = titles["Double-Exponential Increases in Inference Energy: The Cost of the Race for Accuracy"]
    assert [a["family-names"] for a in yang["authors"]] == ["Yang", "Adamek", "Armour"]
    assert yang["url"] == "https://arxiv.org/abs/2412.09731"
    yarally = titles["Uncovering Energy-Efficient Practices in Deep Learning Training"]
    assert yarally["doi"] == "10.1109/CAIN58948.2023.00012"


def test_zenodo_metadata_matches_the_citation_and_the_version_is_single_sourced():
    zenodo = json.loads((REPO / ".zenodo.json").read_text(encoding="utf-8"))
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert zenodo["title"] == cff["title"] and zenodo["license"] == cff["license"]
    assert [c["name"] for c in zenodo["creators"]] == [a["name"] for a in cff["authors"]]
    assert zenodo["upload_type"] == "dataset" and zenodo["access_right"] == "open"
    related = {r["identifier"]: r for r in zenodo["related_identifiers"]}
    assert set(related["10.1109/CAIN58948.2023.00012"]) == {"identifier", "relation",
                                                           "resource_type", "scheme"}
    # the two papers CITATION.cff lists, as DOIs (arXiv's DOI for the preprint)
    assert {r["identifier"] for r in zenodo["related_identifiers"] if r["relation"] == "references"} == {
        "10.48550/arXiv.2412.09731", "10.1109/CAIN58948.2023.00012"}
    # one version: the package's; the citation and the pre-commit snippet follow it
    assert cff["version"] == leaderboard.__version__
    contributing = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert re.findall(r"^\s+rev: (\S+)", contributing, re.MULTILINE) == [f"v{leaderboard.__version__}"]


def test_changelog_security_and_owners_are_there_and_true():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog and f"## [{leaderboard.__version__}]" in changelog
    security = (REPO / "SECURITY.md").read_text(encoding="utf-8")
    assert "private vulnerability reporting" in security and "Do **not** open a public issue" in security
    for line in (GITHUB / "CODEOWNERS").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, *owners = line.split()
            assert owners and all(o.startswith("@") for o in owners), line
            if pattern != "*":
                assert (REPO / pattern.strip("/")).exists(), f"CODEOWNERS names a missing path: {pattern}"


# ---------------------------------------------------------------------------------------------
# Issue forms, pre-commit, dependabot


def test_issue_forms_are_valid_and_say_what_the_maintainers_do():
    forms = [GITHUB / "ISSUE_TEMPLATE" / name for name in FORMS]
    schema_check("github-issue-forms", *forms)
    schema_check("github-issue-config", GITHUB / "ISSUE_TEMPLATE" / "config.yml")
    retire = (GITHUB / "ISSUE_TEMPLATE" / "retire-entry.yml").read_text(encoding="utf-8")
    # what CONTRIBUTING.md tells maintainers to run when they retire an entry
    assert "--allow-delete" in retire and "git rm -r submissions/<id>" in retire
    assert "leaderboard new ARCH.TAG" in (GITHUB / "ISSUE_TEMPLATE" / "new-model.yml").read_text()


def test_the_pre_commit_manifest_is_valid():
    result = run([tool("pre-commit"), "validate-manifest", ".pre-commit-hooks.yaml"])
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["leaderboard-check"]
    assert re.fullmatch(hooks[0]["files"], "submissions/resnet50.a1_in1k/submission.yaml")
    assert not re.fullmatch(hooks[0]["files"], "submissions/a.b/measurements/x--offline.json")


def test_dependabot_updates_the_actions_and_the_pins_table_can_follow():
    path = GITHUB / "dependabot.yml"
    schema_check("dependabot", path)
    updates = yaml.safe_load(path.read_text(encoding="utf-8"))["updates"]
    assert [(u["package-ecosystem"], u["directory"]) for u in updates] == [
        ("github-actions", "/"), ("docker", "/"), ("pip", "/requirements")]
    # the protocol's packages move by hand, with pyproject's range and the lock script
    pip = updates[2]
    assert {"torch", "torchvision", "timm"} <= {rule["dependency-name"] for rule in pip["ignore"]}
    result = run([sys.executable, "scripts/sync_action_pins.py", "--check"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pins_script_rewrites_a_stale_table(tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import sync_action_pins
    finally:
        sys.path.pop(0)
    workflow = tmp_path / "a.yml"
    workflow.write_text("      - uses: actions/checkout@" + "1" * 40 + " # v9.9.9\n"
                        "      - uses: actions/new-thing@" + "2" * 40 + " # v1.0.0\n")
    pins, problems = sync_action_pins.pins_in_workflows([workflow])
    assert problems == []
    stale = ("# Pins\n\n| Action | Version | Commit |\n|---|---|---|\n"
             "| actions/checkout | v4.2.2 | " + "a" * 40 + " |\n"
             "| actions/gone | v1.0.0 | " + "b" * 40 + " |\n\nMore text.\n")
    assert sync_action_pins.synced_text(stale, pins) == (
        "# Pins\n\n| Action | Version | Commit |\n|---|---|---|\n"
        "| actions/checkout | v9.9.9 | " + "1" * 40 + " |\n"
        "| actions/new-thing | v1.0.0 | " + "2" * 40 + " |\n\nMore text.\n")
    twice = tmp_path / "b.yml"
    twice.write_text("      - uses: actions/checkout@" + "3" * 40 + " # v9.9.8\n")
    _, problems = sync_action_pins.pins_in_workflows([workflow, twice])
    assert len(problems) == 1 and "use one pin" in problems[0]


# ---------------------------------------------------------------------------------------------
# Packaging


def test_the_distribution_name_is_free_and_the_import_name_stays():
    assert PYPROJECT["project"]["name"] == "imagenet-energy-leaderboard"
    assert PYPROJECT["project"]["scripts"] == {"leaderboard": "leaderboard.cli:main"}
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "leaderboard.__version__"}
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= set(PYPROJECT["project"]["urls"])
    # the extras and the torch pin are the validator's contract; they do not move here
    assert "torch>=2.10,<=2.14.1" in PYPROJECT["project"]["optional-dependencies"]["measure"]


def _run_the_hook_on_a_contributors_repo(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """pre-commit installs this repository into its own environment (no torch) and runs the hook
    on a repository with one bad submission file, as a contributor's commit would."""
    from conftest import valid_submission_dict, write_submission

    contributor = tmp_path / "contributor"
    contributor.mkdir()
    git(contributor, "init", "-q", "-b", "main")
    bad = valid_submission_dict()
    bad["claims"]["top1"] = "80"
    path = write_submission(contributor, bad)
    git(contributor, "add", "-A")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    return run([tool("pre-commit"), "try-repo", str(REPO), "leaderboard-check", "--files",
                str(path.relative_to(contributor))], cwd=contributor, env=env, timeout=600)


@pytest.fixture(scope="module", autouse=True)
def pre_commit_hook_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                        ) -> Iterator[Future[subprocess.CompletedProcess[str]] | None]:
    """The pre-commit hook's run, started with this module when its test is selected.

    It spends ~30 s building an environment in a subprocess; run in a thread from the module's
    start, it overlaps the module's other tests (wheel, venvs, linters), and its test, last in
    the file, asserts on the result.
    """
    test = "test_the_pre_commit_hook_runs_leaderboard_check_on_a_contributors_repo"
    wanted = any(item.module is request.module and item.name == test
                 for item in request.session.items)
    if not wanted:
        yield None
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(_run_the_hook_on_a_contributors_repo, tmp_path_factory.mktemp("pre-commit"))


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    """A copy of the checkout without its history, venv and data (what a build needs)."""
    source = tmp_path_factory.mktemp("source") / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "submissions", "build", "__pycache__", "*.egg-info", ".ruff_cache"))
    return source


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory, source_copy) -> tuple[Path, str]:
    """The project's wheel, built once from a copy of the checkout; (wheel, build output)."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    result = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-v",
                  "-w", str(tmp_path / "dist"), str(source_copy)])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    return wheel, output


def test_a_wheel_builds_without_a_deprecation_warning(built_wheel):
    wheel, output = built_wheel
    assert not re.search(r"deprecat", output, re.IGNORECASE), [
        line for line in output.splitlines() if re.search("deprecat", line, re.IGNORECASE)]
    assert wheel.name == f"imagenet_energy_leaderboard-{leaderboard.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "Name: imagenet-energy-leaderboard" in metadata
    assert "leaderboard/data/timm_catalog.json" in names and "leaderboard/cli.py" in names
    assert "leaderboard/data/timm_gmacs.json" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_the_editable_install_of_setup_prints_no_warning(source_copy, tmp_path):
    """scripts/setup.sh's `pip install -e .`: setuptools' BuildBackendWarning is avoidable.

    A flat layout without `package-dir = {"" = "."}` makes setuptools install a meta-path
    finder and warn on every setup; with it the install is one .pth line and says nothing.
    """
    import venv

    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(fresh)
    done = run([sys.executable, "-m", "pip", "--python", str(fresh / "bin" / "python"), "install",
                "--no-deps", "--quiet", "-e", str(source_copy)])
    output = "\n".join(line for line in (done.stdout + done.stderr).splitlines()
                       if not line.startswith("WARNING: Location"))  # this machine's pip.conf
    assert done.returncode == 0, output
    assert not re.search(r"warning", output, re.IGNORECASE), output
    where = run([str(fresh / "bin" / "python"), "-c", "import leaderboard; print(leaderboard.__file__)"],
                cwd=tmp_path)
    assert where.stdout.strip() == str(source_copy / "leaderboard" / "__init__.py")


def test_the_cli_runs_from_the_wheel_in_a_fresh_venv_outside_the_checkout(built_wheel, tmp_path):
    """What `pipx install imagenet-energy-leaderboard` gives: the command, no clone.

    The fresh venv gets the wheel only (--no-deps); its dependencies are this venv's, reached
    through a .pth line placed after the venv's own site-packages, so `leaderboard` can only
    come from the wheel. Commands that need a clone say so.
    """
    import sysconfig
    import venv

    wheel, _ = built_wheel
    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                    ).stdout.strip())
    (site / "zz-shared-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                "--no-index", "--quiet", str(wheel)])
    assert done.returncode == 0, done.stdout + done.stderr
    away = tmp_path / "elsewhere"  # no submissions/, no site/, no pyproject.toml
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    command = fresh / "bin" / "leaderboard"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run([str(command), *args], cwd=away, env=env, timeout=120)

    where = run([str(python), "-c", "import leaderboard; print(leaderboard.__file__)"], cwd=away, env=env)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    version = cli("--version")
    assert version.returncode == 0 and version.stdout == f"leaderboard, version {leaderboard.__version__}\n"
    schema = cli("schema")
    assert schema.returncode == 0 and json.loads(schema.stdout)["title"]
    catalog = cli("timm-catalog")
    assert catalog.returncode == 0 and "pretrained tags" in catalog.stdout
    for args, exit_code in ((["timm-catalog", "--missing"], 2), (["check"], 1), (["build"], 1),
                            (["new", "resnet50.a1_in1k", "--offline"], 1),
                            (["changed-entries", "main"], 1), (["records", "export", "x.tar.gz"], 1)):
        done = cli(*args)
        assert done.returncode == exit_code and "clone of the repository" in done.stdout + done.stderr, (
            args, done.stdout, done.stderr)


# ---------------------------------------------------------------------------------------------
# The validator's lock (requirements/validator.txt)


def locked_packages() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, sha256 hashes) of every package in the lock."""
    from packaging.utils import canonicalize_name

    text = (REPO / "requirements" / "validator.txt").read_text(encoding="utf-8")
    packages = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        if block.startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        assert match, f"not pinned with ==: {block.splitlines()[0]}"
        packages[canonicalize_name(match[1])] = (match[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return packages


def test_the_lock_pins_every_validator_dependency_with_hashes():
    """Cheap and offline: the lock satisfies pyproject.toml and hashes every package.

    That it installs with --require-hashes is the container workflow's job (the Dockerfile
    does it); a test here would download torch's ~5.5 GB.
    """
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lock = locked_packages()
    assert len(lock) > 50
    assert [name for name, (_, hashes) in lock.items() if not hashes] == []
    project = PYPROJECT["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["measure"],
              *PYPROJECT["build-system"]["requires"]]  # the image builds without isolation
    environment = {"python_version": "3.11", "python_full_version": "3.11.10",
                   "sys_platform": "linux", "platform_system": "Linux",
                   "platform_machine": "x86_64", "extra": "measure"}
    problems = []
    for text in wanted:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        if name not in lock:
            problems.append(f"{text}: not in the lock")
        elif not requirement.specifier.contains(lock[name][0], prereleases=True):
            problems.append(f"{text}: the lock has {lock[name][0]}")
    assert problems == [], "run `bash scripts/lock_validator.sh` and commit the lock"
    header = (REPO / "requirements" / "validator.txt").read_text(encoding="utf-8")[:300]
    assert "bash scripts/lock_validator.sh" in header  # says how it was made


# ---------------------------------------------------------------------------------------------
# The validator container and the workflows that use it


def test_the_dockerfile_installs_the_validator_from_files_the_context_keeps():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from replay_dockerfile import instructions
    finally:
        sys.path.pop(0)
    steps_ = instructions((REPO / "Dockerfile").read_text(encoding="utf-8"))
    runs = " ".join(rest for keyword, rest in steps_ if keyword == "RUN")
    assert "pip install --require-hashes --no-deps -r requirements/validator.txt" in runs
    assert "pip install --no-deps --no-build-isolation --no-index ." in runs
    assert "import torch, timm, pynvml" in runs and "pip install --upgrade" not in runs
    (base,) = [rest for keyword, rest in steps_ if keyword == "FROM"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", base), base
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8")
    for keyword, rest in steps_:
        if keyword == "COPY":
            *sources, _ = [p for p in rest.split() if not p.startswith("--")]
            for source in sources:
                assert (REPO / source).exists(), source
                top = source.split("/")[0] + ("/" if "/" in source else "")
                assert f"!{top}" in ignored, f".dockerignore leaves {source} out of the context"
    devcontainer = (REPO / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8")
    config = json.loads("\n".join(line for line in devcontainer.splitlines()
                                  if not line.lstrip().startswith("//")))
    assert config["build"]["dockerfile"] == "../Dockerfile"


@pytest.mark.parametrize("workflow,job", [("validate.yml", "measure"), ("sweep.yml", "measure")])
def test_the_gpu_workflows_run_in_the_digest_pinned_image(workflow, job, tmp_path):
    jobs = load(GITHUB / "workflows" / workflow)["jobs"]
    definition = jobs[job]
    assert definition["container"] == {"image": "${{ vars.VALIDATOR_IMAGE }}", "options": "--gpus all"}
    # The guard runs in the hosted job the GPU job needs: a container starts before its job's steps.
    preflight = jobs[definition["needs"]]
    guard = next(s for s in preflight["steps"] if s.get("name") == "The validator image is pinned by digest")
    install = next(s for s in definition["steps"] if s.get("name", "").startswith("Install the validator"))
    assert "--no-deps" in install["run"] and "[measure]" not in install["run"]
    digest = "ghcr.io/owner/repo/validator@sha256:" + "0" * 64
    for image, passes in [(digest, True), ("ghcr.io/owner/repo/validator:main", False), ("", False)]:
        done = run(["bash", "-c", guard["run"]], env={"PATH": os.environ["PATH"], "VALIDATOR_IMAGE": image})
        assert (done.returncode == 0) == passes, (image, done.stdout)


def test_a_submission_only_pull_request_skips_torch_chromium_and_the_suite(tmp_path):
    job = load(GITHUB / "workflows" / "check.yml")["jobs"]["check"]
    names = [s.get("name") for s in job["steps"]]
    install = job["steps"][names.index("Install the checker (no torch)")]
    assert install["run"] == "bash scripts/setup.sh"  # no --test: no torch, no chromium
    for name in ("Install the validator and the test tools",
                 "Tests (workflow linters and policy tests included)"):
        assert job["steps"][names.index(name)]["if"] == "steps.scope.outputs.code == 'true'"
    assert names.index("Pull-request policy and changed submissions") < names.index(
        "Install the validator and the test tools")
    # the scope script, run on real history
    scope = job["steps"][names.index("What the pull request changes")]["run"]
    repo = tmp_path / "repo"
    (repo / "submissions" / "a.b").mkdir(parents=True)
    (repo / "submissions" / "a.b" / "submission.yaml").write_text("id: a.b\n")
    (repo / "README.md").write_text("readme\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")

    def code_changed() -> str:
        output = tmp_path / "output"
        output.write_text("")
        done = run(["bash", "-c", scope], cwd=repo,
                   env={"PATH": os.environ["PATH"], "BASE_SHA": base, "GITHUB_OUTPUT": str(output)})
        assert done.returncode == 0, done.stderr
        return output.read_text().strip()

    (repo / "submissions" / "c.d").mkdir()
    (repo / "submissions" / "c.d" / "submission.yaml").write_text("id: c.d\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "submission")
    assert code_changed() == "code=false"
    (repo / "README.md").write_text("changed\n")
    git(repo, "commit", "-q", "-am", "docs")
    assert code_changed() == "code=true"


def test_the_release_publishes_versioned_assets_of_committed_data_only(tmp_path):
    workflow = load(GITHUB / "workflows" / "release.yml")
    assert workflow["on"]["push"] == {"branches": ["main"], "paths": ["submissions/**"]}
    job = workflow["jobs"]["publish"]
    assert job["permissions"] == {"contents": "write"}
    assert job["steps"][0]["with"]["fetch-depth"] == 0  # the data version reads the history
    assert "leaderboard build --output build/site" in step("release.yml", "Check and build")["run"]
    assets_script = step("release.yml", "Versioned assets")["run"]
    publish = step("release.yml", "Publish")["run"]
    assert 'gh release view "$TAG"' in publish and 'gh release create "$TAG"' in publish
    commit = "197acbc5d2e1" + "0" * 28
    for version, releasable in [(DataVersion("2026-12-01", commit), True),
                                (DataVersion("2026-12-01", commit, modified=True), False)]:
        work = tmp_path / str(releasable)
        downloads = work / "build" / "site" / "downloads"
        downloads.mkdir(parents=True)
        files = {"downloads/entries.csv": "entry_id\n", "downloads/entries.json": "{}\n"}
        for name, text in files.items():
            (work / "build" / "site" / name).write_text(text)
        (downloads / "version.json").write_text(version_manifest(files, version))
        shutil.copy2(REPO / "CITATION.cff", work / "CITATION.cff")
        output = work / "output"
        output.write_text("")
        done = run(["bash", "-c", assets_script], cwd=work,
                   env={"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output)})
        if not releasable:
            assert done.returncode != 0 and "not releasable" in done.stderr
            continue
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in (work / "release-assets").iterdir()) == [
            "CITATION.cff", "entries-2026-12-01-197acbc5d2e1.csv",
            "entries-2026-12-01-197acbc5d2e1.json", "version-2026-12-01-197acbc5d2e1.json"]
        assert output.read_text().splitlines() == [
            "tag=data-2026-12-01-197acbc5d2e1", "label=2026-12-01-197acbc5d2e1", f"commit={commit}"]


def test_pages_and_release_check_out_the_history_for_the_data_version():
    build = load(GITHUB / "workflows" / "pages.yml")["jobs"]["build"]
    assert build["steps"][0]["with"]["fetch-depth"] == 0


def test_every_workflow_matches_githubs_published_schema():
    schema_check("github-workflows", *sorted((GITHUB / "workflows").glob("*.yml")))


def test_publish_builds_on_pull_requests_and_publishes_version_tags_by_trusted_publishing():
    workflow = load(GITHUB / "workflows" / "publish.yml")
    assert workflow["on"]["push"] == {"tags": ["v*"]} and "pull_request" in workflow["on"]
    dist, pypi = workflow["jobs"]["dist"], workflow["jobs"]["pypi"]
    assert dist["permissions"] == {"contents": "read"}
    assert "twine check --strict dist/*" in step("publish.yml", "Build and check")["run"]
    # only the publishing job may mint an OIDC token, only for a tag, only in its environment
    assert pypi["permissions"] == {"id-token": "write"} and pypi["needs"] == "dist"
    assert pypi["environment"]["name"] == "pypi"
    assert pypi["if"] == "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"
    (publish,) = [s for s in pypi["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert "with" not in publish or "password" not in publish["with"]  # no token: trusted publishing
    # the tag must be the package's version (run the step's script)
    guard = step("publish.yml", "The tag is the version")["run"]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)}
    for tag, passes in [(f"v{leaderboard.__version__}", True), ("v99.0.0", False)]:
        done = run(["bash", "-c", guard], env={**env, "TAG": tag})
        assert (done.returncode == 0) == passes, (tag, done.stderr)


@pytest.mark.slow
def test_the_pre_commit_hook_runs_leaderboard_check_on_a_contributors_repo(pre_commit_hook_run):
    # Last in the file: the run started with the module (see pre_commit_hook_run).
    result = pre_commit_hook_run.result(timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "claims.top1 (line" in result.stdout and "expected a number, got '80'" in result.stdout
