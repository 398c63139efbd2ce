"""The GitHub Actions workflows: actionlint and zizmor pass, and the security rules hold.

The linters come with the `test` extra. Without them these tests skip, except in CI
(`CI=true`), where a missing linter fails the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
GITHUB = REPO / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
PINS_FILE = GITHUB / "ACTIONS_PINS.md"
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")


def tool(name: str) -> str:
    """The linter from this interpreter's environment, else from PATH; skip or fail without it."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.is_file() else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed: `pip install -e '.[test]'` installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run(command: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any]):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


# ---------------------------------------------------------------------------------------------
# The linters


def test_the_workflows_are_there():
    assert [p.name for p in WORKFLOWS] == ["check.yml", "container.yml", "pages.yml", "publish.yml",
                                           "release.yml", "report.yml", "sweep.yml", "validate.yml"]


def test_actionlint_passes():
    result = run([tool("actionlint"), "-no-color", "-config-file", ".github/actionlint.yaml",
                  *[str(p.relative_to(REPO)) for p in WORKFLOWS]])
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_passes_as_an_auditor():
    # The auditor persona is zizmor's strictest; the two findings it ignores are marked in the
    # workflows with their reason (workflow_run in report.yml, the self-hosted runner).
    result = run([tool("zizmor"), "--offline", "--no-progress", "--color", "never",
                  "--persona", "auditor", ".github"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linters_catch_an_injection_and_an_unpinned_action(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request_target\n"
        "permissions: {}\n"
        "jobs:\n"
        "  greet:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n"
    )
    lint = run([tool("actionlint"), "-no-color", str(bad)], cwd=tmp_path)
    assert lint.returncode == 1 and "github.event.pull_request.title" in lint.stdout
    audit = run([tool("zizmor"), "--offline", "--no-progress", "--color", "never", str(bad)],
                cwd=tmp_path)
    assert audit.returncode != 0
    for finding in ("template-injection", "unpinned-uses", "dangerous-triggers"):
        assert finding in audit.stdout


# ---------------------------------------------------------------------------------------------
# The rules, checked on the files themselves


def test_no_pull_request_target_anywhere():
    for path in GITHUB.rglob("*"):
        if path.is_file() and path.suffix in (".yml", ".yaml"):
            assert "pull_request_target" not in path.read_text(encoding="utf-8"), path


def pins() -> dict[str, tuple[str, str]]:
    table = re.findall(r"^\| (\S+) \| (v[\d.]+) \| ([0-9a-f]{40}) \|$", PINS_FILE.read_text(),
                       re.MULTILINE)
    return {action: (version, sha) for action, version, sha in table}


def test_every_action_is_pinned_to_a_listed_commit_with_its_version():
    listed = pins()
    assert listed, "no pins found in ACTIONS_PINS.md"
    used = set()
    for path in WORKFLOWS:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = USES_LINE.match(line)
            if not match:
                continue
            where = f"{path.name}:{number}"
            action, _, ref = match["ref"].partition("@")
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{where}: {match['ref']} is not a full SHA"
            assert action in listed, f"{where}: {action} is not in ACTIONS_PINS.md"
            version, sha = listed[action]
            assert ref == sha, f"{where}: {action}@{ref} differs from the pin {sha}"
            assert match["comment"] == version, f"{where}: comment should be '# {version}'"
            used.add(action)
    assert used == set(listed), f"pins listed but unused: {set(listed) - used}"


def test_untrusted_expressions_never_reach_a_shell_or_a_script():
    # Stricter than needed: no ${{ }} at all inside run: or github-script's script:, so a
    # value can only arrive through env: and a quoted "$VARIABLE".
    for path in WORKFLOWS:
        for job_id, step in steps(load(path)):
            code = step.get("run", "") + step.get("with", {}).get("script", "")
            assert "${{" not in code, f"{path.name}: {job_id}: {step.get('name')}"


def test_permissions_are_least_privilege():
    writes = {}
    for path in WORKFLOWS:
        workflow = load(path)
        top = workflow.get("permissions")
        assert top is not None, f"{path.name}: no top-level permissions"
        assert all(level != "write" for level in (top or {}).values()), f"{path.name}: top level writes"
        for job_id, job in workflow["jobs"].items():
            granted = job.get("permissions", top)
            assert isinstance(granted, dict), f"{path.name}: {job_id}: permissions must be a mapping"
            for scope, level in granted.items():
                if level == "write":
                    writes.setdefault(scope, []).append(f"{path.name}:{job_id}")
    assert writes == {"pages": ["pages.yml:deploy"],
                      "id-token": ["pages.yml:deploy", "publish.yml:pypi"],
                      "pull-requests": ["report.yml:comment"],
                      "packages": ["container.yml:publish"], "contents": ["release.yml:publish"]}


def test_checkouts_never_keep_the_token():
    for path in WORKFLOWS:
        for job_id, step in steps(load(path)):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"{path.name}: {job_id}"


def test_check_runs_on_pull_requests_with_a_read_only_token():
    workflow = load(GITHUB / "workflows" / "check.yml")
    assert list(workflow["on"]) == ["pull_request"]
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["check"]["runs-on"] == "ubuntu-24.04"
    commands = [step.get("run", "") for _, step in steps(workflow)]
    assert any("leaderboard check --changed-against \"$BASE_SHA\" --committed" in c for c in commands)
    assert any("python -m pytest" in c for c in commands)


def test_validate_waits_for_approval_on_an_ephemeral_gpu_runner_without_secrets():
    path = GITHUB / "workflows" / "validate.yml"
    workflow = load(path)
    # dispatched by a maintainer, so the definition that runs is always the default branch's
    # (a pull_request run would use the pull request's own, editable copy of this file)
    assert set(workflow["on"]) == {"workflow_dispatch"}
    assert workflow["on"]["workflow_dispatch"]["inputs"]["pr"]["type"] == "number"
    job = workflow["jobs"]["measure"]
    assert "default_branch" in job["if"]
    assert job["environment"] == "gpu-validation"
    assert job["runs-on"] == ["self-hosted", "gpu", "ephemeral"]
    assert job["permissions"] == {"contents": "read"}
    assert "secrets." not in path.read_text()
    validator_checkout, pr_checkout = job["steps"][0], job["steps"][1]
    assert "ref" not in validator_checkout["with"]  # the dispatched default-branch commit
    assert pr_checkout["with"]["ref"] == "refs/pull/${{ inputs.pr }}/head"
    measure = next(step for step in job["steps"] if step.get("id") == "measure")
    assert measure["working-directory"] == "${{ runner.temp }}/work"  # no package to import there
    upload = next(step for step in job["steps"] if "upload-artifact" in step.get("uses", ""))
    assert upload["with"]["name"] == "validation-records"


def test_report_reads_the_artifact_as_data_from_the_default_branch():
    workflow = load(GITHUB / "workflows" / "report.yml")
    assert workflow["on"] == {"workflow_run": {"workflows": ["validate"], "types": ["completed"]}}
    job = workflow["jobs"]["comment"]
    for _, step in steps(workflow):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert set(step["with"]) == {"persist-credentials"}  # the default branch, nothing else
    download = next(step for step in job["steps"] if "download-artifact" in step.get("uses", ""))
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    render = next(step for step in job["steps"] if "leaderboard report" in step.get("run", ""))
    assert "--records \"$RUNNER_TEMP/artifact/records.tar.gz\"" in render["run"]


def test_concurrency_never_cancels_another_pull_requests_validation():
    for path in WORKFLOWS:
        assert "concurrency" in load(path), f"{path.name}: no concurrency group"
    validate = load(GITHUB / "workflows" / "validate.yml")["concurrency"]
    assert validate == {"group": "validate-${{ inputs.pr }}", "cancel-in-progress": False}
    check = load(GITHUB / "workflows" / "check.yml")["concurrency"]
    assert check["group"] == "check-${{ github.event.pull_request.number }}"
    assert load(GITHUB / "workflows" / "report.yml")["concurrency"]["cancel-in-progress"] is False
    assert load(GITHUB / "workflows" / "pages.yml")["concurrency"] == {
        "group": "pages", "cancel-in-progress": False}


def test_pages_deploys_from_main_only():
    workflow = load(GITHUB / "workflows" / "pages.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["deploy"]["needs"] == "build"


def test_sweep_spreads_shards_over_a_matrix_and_merges_them():
    workflow = load(GITHUB / "workflows" / "sweep.yml")
    assert list(workflow["on"]) == ["workflow_dispatch"]
    measure = workflow["jobs"]["measure"]
    assert measure["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    assert measure["strategy"]["fail-fast"] is False
    run = next(step["run"] for step in measure["steps"] if step.get("name") == "Measure this shard")
    assert '--shard "$SHARD/$SHARDS" --resume' in run
    merge = workflow["jobs"]["merge"]
    run = next(step["run"] for step in merge["steps"] if "records merge" in step.get("run", ""))
    assert 'leaderboard records merge "${archives[@]}"' in run
    assert "records import" not in run  # one by one, the file order decided collisions


# ---------------------------------------------------------------------------------------------
# Issue 13: the report's commit check against a dispatched run; the sweep's environment gate

# A validate run as `workflow_run` reports it: dispatched on main, so its head_sha is main's
# commit, while the pull request's head (written to pr.json by validate) is another commit.
DISPATCHED_RUN = {"event": "workflow_dispatch", "head_branch": "main", "conclusion": "success",
                  "head_sha": "1" * 40, "id": 42}
PR_HEAD = "2" * 40

NODE_HARNESS = r"""
const fs = require('fs');
const [scriptPath, scenarioPath] = process.argv.slice(2);
const scenario = JSON.parse(fs.readFileSync(scenarioPath, 'utf8'));
const outputs = {};
const github = {
  rest: {
    pulls: {
      get: async () => ({ data: { head: { sha: scenario.pr_head } } }),
      listFiles: 'listFiles',
    },
    repos: {
      getContent: async ({ path, ref }) => ({ data: { type: 'file', size: 20, ref,
        content: Buffer.from(`id: ${path}\n`).toString('base64') } }),
    },
  },
  paginate: async () => scenario.files,
};
const core = { setOutput: (name, value) => { outputs[name] = value; } };
const context = { repo: { owner: 'o', repo: 'r' }, payload: { workflow_run: scenario.run } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const run = new AsyncFunction('require', 'github', 'context', 'core', fs.readFileSync(scriptPath, 'utf8'));
run(require, github, context, core)
  .then(() => { console.log(JSON.stringify(outputs)); })
  .catch((error) => { console.log(JSON.stringify({ error: error.message })); });
"""


def _identify_step() -> dict[str, Any]:
    workflow = load(GITHUB / "workflows" / "report.yml")
    return next(step for step in workflow["jobs"]["comment"]["steps"] if step.get("id") == "pr")


def _run_identify(tmp_path: Path, pr_json: dict[str, Any], pr_head: str) -> dict[str, Any]:
    import json

    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed")
        pytest.skip("node is not installed")
    step = _identify_step()
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    (artifact / "pr.json").write_text(json.dumps(pr_json), encoding="utf-8")
    (tmp_path / "script.js").write_text(step["with"]["script"], encoding="utf-8")
    (tmp_path / "harness.js").write_text(NODE_HARNESS, encoding="utf-8")
    scenario = {"run": DISPATCHED_RUN, "pr_head": pr_head, "files": [
        {"filename": "submissions/resnet50.a1_in1k/submission.yaml", "status": "added"},
        {"filename": "README.md", "status": "modified"}]}
    (tmp_path / "scenario.json").write_text(json.dumps(scenario), encoding="utf-8")
    # The step's env, as the runner would set it (no expression reads workflow_run.head_sha).
    assert "head_sha" not in json.dumps(step.get("env", {}))
    env = {"PATH": os.environ.get("PATH", ""), "ARTIFACT": str(artifact),
           "OUT": str(tmp_path / "out")}
    proc = subprocess.run([node, str(tmp_path / "harness.js"), str(tmp_path / "script.js"),
                           str(tmp_path / "scenario.json")], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_report_accepts_a_dispatched_runs_payload(tmp_path):
    outputs = _run_identify(tmp_path, {"pr_number": 7, "head_sha": PR_HEAD}, PR_HEAD)
    assert outputs == {"number": "7", "head_sha": PR_HEAD, "entries": "resnet50.a1_in1k"}
    assert (tmp_path / "out/resnet50.a1_in1k/submission.yaml").read_text() == (
        "id: submissions/resnet50.a1_in1k/submission.yaml\n")
    workflow_text = (GITHUB / "workflows" / "report.yml").read_text()
    assert "workflow_run.head_sha" not in "\n".join(
        line for line in workflow_text.splitlines() if not line.lstrip().startswith("#"))
    render = next(step for step in load(GITHUB / "workflows" / "report.yml")["jobs"]["comment"]
                  ["steps"] if "leaderboard report" in step.get("run", ""))
    assert render["env"]["HEAD_SHA"] == "${{ steps.pr.outputs.head_sha }}"


def test_report_refuses_a_pull_request_that_moved_after_validation(tmp_path):
    outputs = _run_identify(tmp_path, {"pr_number": 7, "head_sha": PR_HEAD}, "3" * 40)
    assert outputs["error"].startswith(f"pull request #7 is at {'3' * 40}, not the validated {PR_HEAD}")


@pytest.mark.parametrize("head_sha", [None, "main", "2" * 39, 5])
def test_report_refuses_a_pr_json_without_a_commit(tmp_path, head_sha):
    outputs = _run_identify(tmp_path, {"pr_number": 7, "head_sha": head_sha}, PR_HEAD)
    assert outputs == {"error": "pr.json: head_sha must be a 40-hex commit"}


def test_report_runs_only_for_runs_dispatched_on_the_default_branch():
    job = load(GITHUB / "workflows" / "report.yml")["jobs"]["comment"]
    assert ("github.event.workflow_run.head_branch == github.event.repository.default_branch"
            in job["if"])


def test_sweep_is_gated_by_the_same_environment_as_validate():
    validate = load(GITHUB / "workflows" / "validate.yml")["jobs"]["measure"]
    sweep = load(GITHUB / "workflows" / "sweep.yml")
    gpu_jobs = [job for job in sweep["jobs"].values() if "self-hosted" in job["runs-on"]]
    assert gpu_jobs and all(job["environment"] == validate["environment"] for job in gpu_jobs)


# ---------------------------------------------------------------------------------------------
# Issue 21, class 9: before any GPU job, the image digest and the workflows are checked


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(step for step in job["steps"] if step.get("name") == name)


def test_gpu_jobs_wait_for_a_hosted_preflight_of_the_digest_and_the_workflows():
    cases = (("validate.yml", "preflight", "The pull request changes no workflow"),
             ("sweep.yml", "plan", "The branch changes no workflow"))
    for file, preflight_id, changes_step in cases:
        workflow = load(GITHUB / "workflows" / file)
        preflight = workflow["jobs"][preflight_id]
        assert preflight["runs-on"] == "ubuntu-24.04" and "container" not in preflight
        names = [step.get("name") for step in preflight["steps"]]
        assert names[0] == "The validator image is pinned by digest", file
        assert changes_step in names, file
        for job_id, job in workflow["jobs"].items():
            if "self-hosted" in job["runs-on"]:
                needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
                assert preflight_id in needs, f"{file}: {job_id}"
                # The container starts before a job's first step: no digest check can live there.
                assert all("pinned by digest" not in (s.get("name") or "") for s in job["steps"])


@pytest.mark.parametrize("image, passes", [
    ("ghcr.io/o/r/validator@sha256:" + "a" * 64, True),
    ("ghcr.io/o/r/validator:latest", False),
    ("ghcr.io/o/r/validator@sha256:" + "a" * 63, False),
    ("", False),
])
def test_the_digest_step_refuses_a_tag(image, passes):
    job = load(GITHUB / "workflows" / "validate.yml")["jobs"]["preflight"]
    script = _step(job, "The validator image is pinned by digest")["run"]
    proc = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True,
                          env={"VALIDATOR_IMAGE": image, "PATH": "/usr/bin:/bin"})
    assert (proc.returncode == 0) is passes, proc.stdout


def test_the_workflow_change_step_refuses_a_pull_request_that_edits_a_workflow(tmp_path):
    job = load(GITHUB / "workflows" / "validate.yml")["jobs"]["preflight"]
    script = _step(job, "The pull request changes no workflow")["run"]
    repo = tmp_path / "repo"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "a.txt").write_text("a")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    subprocess.run([*git, "update-ref", "refs/remotes/origin/main", "HEAD"], check=True)
    env = {"DEFAULT_BRANCH": "main", "PATH": "/usr/bin:/bin"}
    (repo / "submissions").mkdir()
    (repo / "submissions" / "x.yaml").write_text("x")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "data"], check=True)
    assert subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env).returncode == 0
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "gpu.yml").write_text("on: pull_request\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "a job for the GPU runner"], check=True)
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert ".github/workflows/gpu.yml" in proc.stdout


def test_check_fails_a_fork_pull_request_that_changes_a_workflow():
    job = load(GITHUB / "workflows" / "check.yml")["jobs"]["check"]
    names = [step.get("name") for step in job["steps"]]
    step = _step(job, "A pull request from a fork changes no workflow")
    assert names.index(step["name"]) < names.index("Pull-request policy and changed submissions")
    assert 'git diff --name-only "$BASE_SHA...HEAD" -- .github/' in step["run"]
