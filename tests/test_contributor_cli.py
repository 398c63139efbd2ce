"""The contributor's command line: `leaderboard new` to a green `check --changed-against` on real
git history, check's output formats, `python -m leaderboard`, completion, and expected failures
that end in one line instead of a traceback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, imported_submission_dict, valid_submission_dict, write_submission

from leaderboard.cli import cli
from leaderboard.timm_catalog import load_catalog

TIMM = load_catalog().timm_version
NEW_TAG = "resnet50.bamboo"  # in the shipped catalog, not a shipped entry
SHA = "c0ffee" + "1" * 34


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def python_m_leaderboard(*args: str, cwd: Path, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """The real interpreter running the package: `python -m leaderboard ARGS`."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    if prelude:  # runs first, e.g. to make an optional dependency unimportable
        command = [sys.executable, "-c", prelude + "\nimport runpy, sys\nsys.argv = ['leaderboard', "
                   + ", ".join(repr(a) for a in args) + "]\nrunpy.run_module('leaderboard', "
                   "run_name='__main__')"]
    else:
        command = [sys.executable, "-m", "leaderboard", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def fork(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A contributor's clone: main with one entry of the same network, a branch on top."""
    root = tmp_path / "fork"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    sibling = valid_submission_dict()
    sibling["compute"] = {"params_m": 25.56, "gmacs": 4.11, "activations_m": 11.11,
                          "source": "timm benchmark-infer-amp-nchw-pt291-cu130-5090.csv"}
    write_submission(root, sibling)
    write_submission(root, imported_submission_dict("resnet18.a1_in1k", model={
        **imported_submission_dict()["model"], "architecture": "resnet18"}))
    (root / "README.md").write_text("the leaderboard\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main")
    git(root, "checkout", "-q", "-b", "add-bamboo")
    monkeypatch.chdir(root)
    return root


def fill_in(path: Path, replacements: dict[str, str]) -> None:
    """Edit the written file the way a person would: replace the `null  # fill in` lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for key, value in replacements.items():
        (index,) = [i for i, line in enumerate(lines) if line.strip().startswith(f"{key}: null")]
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        lines[index] = f"{indent}{key}: {value}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The walk: new -> claims and name -> green check


def test_offline_new_then_pin_by_hand_then_claims_and_name_is_green(fork):
    result = python_m_leaderboard("new", NEW_TAG, cwd=fork)
    assert result.returncode == 0, result.stderr
    path = fork / "submissions" / NEW_TAG / "submission.yaml"
    assert result.stdout.splitlines()[0] == f"wrote {Path('submissions') / NEW_TAG / 'submission.yaml'}"
    assert "pin it by hand" in result.stdout
    assert f"https://huggingface.co/timm/{NEW_TAG}/commits/main" in result.stdout
    assert ("fill in: model.weights.hf_hub.revision, claims.top1, claims.source, submitter.name"
            in result.stdout)
    written = yaml.safe_load(path.read_text())
    assert written["eval"] == {"img_size": 224, "crop_pct": 1.0, "interpolation": "bicubic"}
    assert written["model"]["family"] == "resnet"
    assert written["compute"]["params_m"] == 25.56  # from the sibling resnet50 at 224 px

    # before filling in, the check names exactly what is left, with lines
    before = run_cli("check", "--changed-against", "main", "--format", "json")
    assert before.exit_code == 1
    payload = json.loads(before.stdout)
    assert sorted(p["field"] for p in payload["problems"]) == [
        "claims.source", "claims.top1", "model.weights.hf_hub.revision", "submitter.name"]
    assert all(p["line"] for p in payload["problems"])

    fill_in(path, {"revision": SHA, "top1": "79.1", "source": "my evaluation, 50,000 val images",
                   "name": "Ada Lovelace"})
    after = run_cli("check", "--changed-against", "main")
    assert after.exit_code == 0, after.output
    assert after.stdout == (f"checked 1 changed submission(s) against main (timm {TIMM}): "
                            "0 error(s), 0 warning(s)\n")


def test_a_pinned_new_needs_only_claims_and_name(fork):
    result = run_cli("new", NEW_TAG, "--revision", SHA)
    assert result.exit_code == 0, result.output
    assert "fill in: claims.top1, claims.source, submitter.name" in result.stdout
    path = fork / "submissions" / NEW_TAG / "submission.yaml"
    fill_in(path, {"top1": "79.1", "source": "my evaluation, 50,000 val images", "name": "Ada"})
    git(fork, "add", "-A")
    git(fork, "commit", "-q", "-m", "Add resnet50.bamboo")
    committed = run_cli("check", "--changed-against", "main", "--committed")
    assert committed.exit_code == 0, committed.output
    assert run_cli("changed-entries", "main", "--committed").stdout == f"{NEW_TAG}\n"


def test_new_refuses_clearly(fork):
    exists = python_m_leaderboard("new", "resnet50.a1_in1k", cwd=fork)
    assert exists.returncode == 1
    assert exists.stderr == ("error: submissions/resnet50.a1_in1k/submission.yaml: the entry exists "
                             "already; edit that file instead\n")
    own = python_m_leaderboard("new", "resnet50.mine_in1k", cwd=fork)
    assert own.returncode == 2 and "--repo OWNER/NAME" in own.stderr
    bad_pin = python_m_leaderboard("new", NEW_TAG, "--revision", "main", cwd=fork)
    assert bad_pin.returncode == 2 and "40-character" in bad_pin.stderr
    assert not (fork / "submissions" / NEW_TAG).exists()


def test_the_documentation_placeholder_revision_is_refused(fork):
    data = valid_submission_dict("resnet34.a1_in1k", architecture="resnet34")
    data["model"]["weights"]["hf_hub"]["revision"] = "0123456789abcdef0123456789abcdef01234567"
    write_submission(fork, data)
    result = run_cli("check", "--changed-against", "main")
    assert result.exit_code == 1
    assert "revision is the documentation's placeholder" in result.stdout
    assert "`leaderboard new ID` looks it up" in result.stdout


# ---------------------------------------------------------------------------------------------
# check's formats and verbosity, through the command


def test_check_formats_through_the_command(fork):
    bad = valid_submission_dict("resnet34.a1_in1k", architecture="resnet34")
    bad["claims"]["top1"] = "80"
    write_submission(fork, bad)
    github = run_cli("check", "--changed-against", "main", "--format", "github")
    assert github.exit_code == 1
    assert github.stdout.startswith(
        "::error file=submissions/resnet34.a1_in1k/submission.yaml,line=")
    assert "::expected a number, got '80'%0Afix: write the number without quotes" in github.stdout
    plain = run_cli("check", "--submissions", "submissions", "--format", "json", "-v")
    payload = json.loads(plain.stdout)
    assert payload["files_checked"] == sorted(payload["files_checked"])
    assert len(payload["files_checked"]) == 3 and payload["changed_against"] is None
    assert payload["timm_version"] == TIMM and payload["errors"] == 1 and payload["warnings"] == 1


def test_quiet_and_verbose(fork):
    quiet = run_cli("check", "-q")
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    verbose = run_cli("check", "-v")
    assert f"checked {Path('submissions') / 'resnet18.a1_in1k' / 'submission.yaml'}" in verbose.stdout
    both = python_m_leaderboard("check", "-q", "-v", cwd=fork)
    assert both.returncode == 2 and both.stderr == "error: give -q/--quiet or -v/--verbose, not both\n"


# ---------------------------------------------------------------------------------------------
# python -m, completion, expected failures


def test_python_m_leaderboard_is_the_command(tmp_path):
    result = python_m_leaderboard("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "leaderboard, version 0.1.0\n"


def test_shell_completion_completes_commands_and_options():
    source = CliRunner().invoke(cli, [], prog_name="leaderboard",
                                env={"_LEADERBOARD_COMPLETE": "bash_source"})
    assert "_leaderboard_completion" in source.stdout and "complete -o nosort" in source.stdout
    words = CliRunner().invoke(cli, [], prog_name="leaderboard", env={
        "_LEADERBOARD_COMPLETE": "bash_complete", "COMP_WORDS": "leaderboard ch", "COMP_CWORD": "1"})
    assert words.stdout.split() == ["plain,changed-entries", "plain,check"]
    options = CliRunner().invoke(cli, [], prog_name="leaderboard", env={
        "_LEADERBOARD_COMPLETE": "bash_complete", "COMP_WORDS": "leaderboard check --for",
        "COMP_CWORD": "2"})
    assert options.stdout.split() == ["plain,--format"]


BLOCK_TORCH = "import sys\nfor m in ('torch', 'timm', 'torchvision'):\n    sys.modules[m] = None"


@pytest.mark.parametrize("args,module", [
    (["timm-catalog", "--write", "catalog.json"], "timm"),
    (["validate-accuracy", "resnet50.a1_in1k", "--imagenet", "."], "torch"),
])
def test_a_missing_extra_is_one_line_naming_it(tmp_path, args, module):
    # from the repository root, so validate-accuracy finds the shipped entry (nothing is written)
    result = python_m_leaderboard(*[a.replace("catalog.json", str(tmp_path / "c.json")) for a in args],
                                  cwd=REPO, prelude=BLOCK_TORCH)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert f"`leaderboard {args[0]}` needs {module}, which is not installed here" in result.stderr
    assert "pip install -e '.[measure]'" in result.stderr


def test_serve_on_a_busy_port_is_one_line(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<html></html>")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = python_m_leaderboard("serve", "-o", "site", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: cannot serve on 127.0.0.1:{port}: ")
    assert "try --port" in result.stderr


def test_a_closed_pipe_is_not_a_traceback(tmp_path):
    reader = subprocess.Popen([sys.executable, "-m", "leaderboard", "schema"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    reader.stdout.read(10)
    reader.stdout.close()  # like `| head -c 10`
    stderr = reader.stderr.read().decode()
    reader.wait(timeout=60)
    assert "Traceback" not in stderr
