"""The pull-request policy: pure rules, and `check --changed-against` on real git history."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import valid_submission_dict, write_submission

from leaderboard.cli import cli
from leaderboard.policy import Change, parse_raw_diff, path_kind, policy_problems
from leaderboard.records import write_record
from leaderboard.testing import synthetic_record
from leaderboard.timm_catalog import load_catalog

TIMM = load_catalog().timm_version
RECORD = "submissions/resnet50.a1_in1k/measurements/synthetic-gpu--offline.json"
AFTER_APPROVAL = ("after a maintainer approves the GPU run, the validator measures your entry and "
                  "writes its records")


# ---------------------------------------------------------------------------------------------
# A real repository: main with two entries (one measured), a contributor branch on top.


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_submission(root, valid_submission_dict())
    write_submission(root, valid_submission_dict("resnet18.a1_in1k", architecture="resnet18"))
    write_record(root / "submissions", synthetic_record("resnet50.a1_in1k", 0.01))
    (root / "leaderboard").mkdir()
    (root / "leaderboard" / "scoring.py").write_text("BAND = 0.5\n")
    (root / ".gitignore").write_text("build/\n")
    commit_all(root, "main")
    git(root, "checkout", "-q", "-b", "contributor")
    monkeypatch.chdir(root)
    return root


def check(*args: str):
    # The fixture's tree holds synthetic records: test data that `check` refuses by default.
    # --author: the fixture's entries are janedoe's; explicit, so CI's own event never decides.
    return CliRunner().invoke(cli, ["check", "--changed-against", "main", "--allow-synthetic",
                                    "--author", "janedoe", *args])


def new_entry(repo: Path, entry_id: str = "resnet34.a1_in1k", architecture: str = "resnet34") -> Path:
    return write_submission(repo, valid_submission_dict(entry_id, architecture=architecture))


def summary(changed: int, errors: int, warnings: int = 0) -> str:
    return (f"checked {changed} changed submission(s) against main (timm {TIMM}): "
            f"{errors} error(s), {warnings} warning(s)\n")


# ---------------------------------------------------------------------------------------------
# Allowed


def test_a_new_entry_passes(repo):
    new_entry(repo)
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 0, result.output
    assert result.stdout == summary(1, 0)
    assert result.stderr == ""


def test_editing_a_submission_passes(repo):
    path = repo / "submissions" / "resnet18.a1_in1k" / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    data["claims"]["top1"] = 79.9
    write_submission(repo, data)
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 0, result.output
    assert result.stdout == summary(1, 0)


def test_uncommitted_and_untracked_files_count_unless_committed(repo):
    new_entry(repo)  # untracked
    result = check()
    assert result.exit_code == 0, result.output
    assert result.stdout == summary(1, 0)
    (repo / "submissions" / "resnet34.a1_in1k" / "notes.txt").write_text("x\n")
    assert check().exit_code == 1
    # --committed looks at commits only: nothing is committed, so every submission is checked.
    result = check("--committed")
    assert result.exit_code == 0, result.output
    assert "no changes against main: not a submission pull request" in result.stderr
    assert result.stdout.startswith("checked 3 submission(s)")  # the work tree, untracked too


def test_a_code_pull_request_is_checked_in_full(repo):
    (repo / "leaderboard" / "scoring.py").write_text("BAND = 1.0\n")
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 0, result.output
    assert "no changes under submissions/ against main: not a submission pull request" in result.stderr
    assert result.stdout == f"checked 2 submission(s) against timm {TIMM}: 0 error(s), 0 warning(s)\n"


def test_the_validators_records_pass_with_allow_records(repo):
    write_record(repo / "submissions", synthetic_record("resnet50.a1_in1k", 0.02))
    write_record(repo / "submissions", synthetic_record("resnet18.a1_in1k", 0.005))
    commit_all(repo)
    assert check("--committed").exit_code == 1
    result = check("--committed", "--allow-records")
    assert result.exit_code == 0, result.output
    assert result.stdout == summary(0, 0)


def test_a_bad_record_fails_even_with_allow_records(repo):
    path = repo / RECORD
    path.write_text(path.read_text().replace('"status": "ok"', '"status": "great"'))
    commit_all(repo)
    result = check("--committed", "--allow-records")
    assert result.exit_code == 1
    assert f"{RECORD}: error: invalid measurement record: status: Input should be" in result.stdout


def test_maintainers_may_delete_an_entry_with_its_records(repo):
    git(repo, "rm", "-q", "-r", "submissions/resnet50.a1_in1k")
    git(repo, "commit", "-q", "-m", "retire")
    assert check("--committed").exit_code == 1
    result = check("--committed", "--allow-delete")
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------------------------------
# Refused, with the exact message


def test_an_edited_record_is_refused(repo):
    path = repo / RECORD
    path.write_text(path.read_text().replace("0.01", "0.001"))
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 1
    assert result.stdout == (
        f"{RECORD}: error: measurement record edited: records are written by the validator only\n"
        f"    fix: undo it with `git checkout main -- {RECORD}` and commit; {AFTER_APPROVAL}\n"
        + summary(0, 1)
    )


def test_a_new_record_from_a_contributor_is_refused(repo):
    new_entry(repo)
    write_record(repo / "submissions", synthetic_record("resnet34.a1_in1k", 0.001))
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 1
    record = "submissions/resnet34.a1_in1k/measurements/synthetic-gpu--offline.json"
    assert result.stdout == (
        f"{record}: error: measurement record added: records are written by the validator only\n"
        f"    fix: undo it with `git rm {record}` and commit; {AFTER_APPROVAL}\n"
        + summary(1, 1)
    )


def test_a_removed_record_is_refused(repo):
    git(repo, "rm", "-q", RECORD)
    git(repo, "commit", "-q", "-m", "drop")
    result = check("--committed")
    assert result.exit_code == 1
    assert f"{RECORD}: error: measurement record removed: records are written by the validator " \
           "only\n" in result.stdout


def test_a_deleted_entry_is_refused(repo):
    git(repo, "rm", "-q", "-r", "submissions/resnet18.a1_in1k")
    git(repo, "commit", "-q", "-m", "delete")
    result = check("--committed")
    assert result.exit_code == 1
    path = "submissions/resnet18.a1_in1k/submission.yaml"
    assert result.stdout == (
        f"{path}: error: deletes entry 'resnet18.a1_in1k': deleting an entry is refused\n"
        f"    fix: restore it with `git checkout main -- {path}` and commit; to correct the entry, "
        "edit its submission.yaml; to retire it, open an issue and a maintainer removes it\n"
        + summary(0, 1)
    )


def test_deleting_a_measured_entry_refuses_the_entry_and_its_records(repo):
    git(repo, "rm", "-q", "-r", "submissions/resnet50.a1_in1k")
    git(repo, "commit", "-q", "-m", "delete")
    result = check("--committed")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert lines == [
        f"{RECORD}: error: measurement record removed: records are written by the validator only",
        "submissions/resnet50.a1_in1k/submission.yaml: error: deletes entry 'resnet50.a1_in1k': "
        "deleting an entry is refused",
    ]


def test_a_renamed_entry_is_refused_as_a_delete(repo):
    git(repo, "mv", "submissions/resnet18.a1_in1k", "submissions/resnet18.a2_in1k")
    path = repo / "submissions" / "resnet18.a2_in1k" / "submission.yaml"
    path.write_text(path.read_text().replace("id: resnet18.a1_in1k", "id: resnet18.a2_in1k"))
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 1
    assert result.stdout == (
        "submissions/resnet18.a1_in1k/submission.yaml: error: renames entry 'resnet18.a1_in1k' to "
        "'resnet18.a2_in1k': a rename deletes the old entry, and deleting an entry is refused\n"
        "    fix: keep submissions/resnet18.a1_in1k/ as it is and add "
        "submissions/resnet18.a2_in1k/submission.yaml as a new entry; maintainers retire old entries\n"
        + summary(0, 1)
    )


def test_a_file_outside_submissions_is_refused(repo):
    new_entry(repo)
    (repo / "leaderboard" / "scoring.py").write_text("BAND = 9.0\n")
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 1
    assert result.stdout == (
        "leaderboard/scoring.py: error: changes a file outside submissions/ in a submission pull "
        "request\n"
        "    fix: a submission pull request changes only submissions/<id>/submission.yaml; open a "
        "separate pull request for code or documentation changes\n"
        + summary(1, 1)
    )
    # Maintainers may change both at once.
    assert check("--committed", "--allow-code").exit_code == 0


def test_another_file_in_an_entry_folder_is_refused(repo):
    path = new_entry(repo)
    (path.parent / "model.safetensors").write_bytes(b"\0" * 16)
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 1
    assert result.stdout == (
        "submissions/resnet34.a1_in1k/model.safetensors: error: only submission.yaml belongs in "
        "an entry folder\n"
        "    fix: remove this file from the pull request; weights are referenced from "
        "submission.yaml (model.weights), never committed\n"
        + summary(1, 1)
    )


def test_a_file_directly_in_submissions_is_refused(repo):
    (repo / "submissions" / "my-model.yaml").write_text("id: x\n")
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "submissions/my-model.yaml: error: a file directly in submissions/ is not an entry\n"
        "    fix: put your entry at submissions/<id>/submission.yaml\n")


def test_a_symlinked_submission_is_refused_and_not_read(repo):
    folder = repo / "submissions" / "resnet34.a1_in1k"
    folder.mkdir()
    (folder / "submission.yaml").symlink_to("/etc/passwd")
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 1
    assert result.stdout == (
        "submissions/resnet34.a1_in1k/submission.yaml: error: is a symbolic link\n"
        "    fix: commit a regular file here\n" + summary(0, 1)
    )


def test_schema_problems_of_changed_files_are_reported_with_the_policy(repo):
    data = valid_submission_dict("resnet34.a1_in1k", architecture="resnet34")
    data["claims"]["top1"] = "80"
    write_submission(repo, data)
    path = repo / RECORD
    path.write_text(path.read_text().replace("0.01", "0.001"))
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 1
    assert ("submissions/resnet34.a1_in1k/submission.yaml: claims.top1 (line 17): error: expected "
            "a number, got '80'") in result.stdout
    assert f"{RECORD}: error: measurement record edited" in result.stdout
    assert result.stdout.endswith(summary(1, 2))


def test_the_changes_are_taken_from_where_the_branch_left_main(repo):
    new_entry(repo)
    commit_all(repo)
    git(repo, "checkout", "-q", "main")
    new_entry(repo, "resnet101.a1_in1k", "resnet101")  # main moves on meanwhile
    commit_all(repo)
    git(repo, "checkout", "-q", "contributor")
    result = check("--committed")
    assert result.exit_code == 0, result.output
    assert result.stdout == summary(1, 0)


def test_an_unknown_base_says_how_to_fetch_it(repo):
    result = CliRunner().invoke(cli, ["check", "--changed-against", "origin/main"])
    assert result.exit_code == 1
    assert "unknown base 'origin/main': fetch it first" in str(result.exception)


def test_flags_need_changed_against_and_exclude_paths(repo):
    from leaderboard.errors import UsageError

    result = CliRunner().invoke(cli, ["check", "--allow-records"])
    assert isinstance(result.exception, UsageError)
    result = CliRunner().invoke(cli, ["check", "submissions", "--changed-against", "main"])
    assert isinstance(result.exception, UsageError)


def test_changed_entries_lists_ids_or_refuses(repo):
    new_entry(repo)
    new_entry(repo, "resnet101.a1_in1k", "resnet101")
    commit_all(repo)
    result = CliRunner().invoke(cli, ["changed-entries", "main", "--committed"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "resnet101.a1_in1k\nresnet34.a1_in1k\n"
    git(repo, "rm", "-q", "-r", "submissions/resnet18.a1_in1k")
    git(repo, "commit", "-q", "-m", "delete")
    result = CliRunner().invoke(cli, ["changed-entries", "main", "--committed"])
    assert result.exit_code == 1 and result.stdout == ""
    # git pairs the deleted entry with the similar new one: refused as a rename (a deletion).
    assert "'resnet18.a1_in1k'" in result.stderr and "deleting an entry is refused" in result.stderr


def test_changed_entries_refuses_a_submission_with_errors(repo):
    data = valid_submission_dict("resnet34.a1_in1k", architecture="resnet34")
    data["model"]["weights"]["hf_hub"]["revision"] = "main"
    write_submission(repo, data)
    commit_all(repo)
    result = CliRunner().invoke(cli, ["changed-entries", "main", "--committed"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "model.weights.hf_hub.revision (line 8): error: 'main' has the wrong format" in result.stderr


# ---------------------------------------------------------------------------------------------
# Issue 13: imported_from and the weights of an existing entry are not the contributor's


def test_a_forged_imported_from_block_is_refused_and_never_measured(repo):
    from conftest import IMPORTED_FROM

    data = valid_submission_dict("resnet34.a1_in1k", architecture="resnet34",
                                 imported_from=dict(IMPORTED_FROM))
    data["model"]["weights"]["hf_hub"]["revision"] = None  # the pin the forgery would excuse
    write_submission(repo, data)
    commit_all(repo)
    result = check("--committed")
    assert result.exit_code == 1
    assert ("submissions/resnet34.a1_in1k/submission.yaml: imported_from (line 27): error: a new "
            "entry may not carry 'imported_from': only `leaderboard import-timm` writes it"
            ) in result.stdout
    assert "leaderboard import-timm" in result.stdout and "--allow-rewrite" in result.stdout
    measured = CliRunner().invoke(cli, ["changed-entries", "main", "--committed"])
    assert measured.exit_code == 1 and measured.stdout == ""


def test_a_record_without_provenance_fails_even_with_allow_records(repo):
    record = synthetic_record("resnet18.a1_in1k", 0.005).model_copy(update={"synthetic": False})
    path = write_record(repo / "submissions", record)
    commit_all(repo)
    result = check("--committed", "--allow-records")
    assert result.exit_code == 1
    name = path.relative_to(repo).as_posix()
    assert (f"{name}: provenance.torch, provenance.timm: error: measured record lacks provenance"
            in result.stdout)


@pytest.fixture
def imported_repo(repo):
    from conftest import imported_submission_dict

    write_submission(repo, imported_submission_dict("resnet26.a1_in1k", architecture="resnet26"))
    git(repo, "checkout", "-q", "main")
    write_submission(repo, imported_submission_dict("resnet26.a1_in1k", architecture="resnet26"))
    commit_all(repo, "import")
    git(repo, "checkout", "-q", "contributor")
    git(repo, "reset", "-q", "--hard", "main")
    return repo


def _edit(repo, entry, change):
    path = repo / "submissions" / entry / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    write_submission(repo, data)
    commit_all(repo)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["imported_from"].update(row=3), "changes 'imported_from' of an existing entry"),
    (lambda d: d.pop("imported_from"), "removes 'imported_from' of an existing entry"),
    (lambda d: d["model"]["weights"]["hf_hub"].update(repo="evil/weights"),
     "changes the weights of an existing entry"),
], ids=["edit-imported-from", "drop-imported-from", "repoint-weights"])
def test_changing_protected_fields_of_an_existing_entry_is_refused(imported_repo, change, message):
    _edit(imported_repo, "resnet26.a1_in1k", change)
    result = check("--committed")
    assert result.exit_code == 1
    assert message in result.stdout


def test_weights_of_a_contributor_entry_are_protected_too(repo):
    _edit(repo, "resnet18.a1_in1k",
          lambda d: d["model"]["weights"]["hf_hub"].update(revision="f" * 40))
    result = check("--committed")
    assert result.exit_code == 1
    assert ("submissions/resnet18.a1_in1k/submission.yaml: model.weights (line 5): error: changes "
            "the weights of an existing entry") in result.stdout


def test_editing_other_fields_of_an_imported_entry_passes(imported_repo):
    _edit(imported_repo, "resnet26.a1_in1k", lambda d: d["claims"].update(source="timm results"))
    result = check("--committed")
    assert result.exit_code == 0, result.output


def test_maintainers_may_rewrite_with_allow_rewrite(imported_repo):
    from leaderboard.policy import check_pull_request

    _edit(imported_repo, "resnet26.a1_in1k",
          lambda d: d["model"]["weights"]["hf_hub"].update(revision="e" * 40))
    assert check_pull_request("main", imported_repo, committed_only=True).errors
    assert not check_pull_request("main", imported_repo, committed_only=True,
                                  allow_rewrite=True).errors


# ---------------------------------------------------------------------------------------------
# The pure rules and the git output parser


@pytest.mark.parametrize(("path", "kind"), [
    ("submissions/a.b/submission.yaml", "submission"),
    ("submissions/a.b/measurements/x--offline.json", "record"),
    ("submissions/a.b/measurements/sub/x.json", "record"),
    ("submissions/a.b/README.md", "entry-file"),
    ("submissions/README.md", "submissions-file"),
    ("submissions.yaml", "outside"),
    (".github/workflows/check.yml", "outside"),
])
def test_path_kind(path, kind):
    assert path_kind(path) == kind


def test_an_empty_or_code_only_change_set_has_no_problems():
    assert policy_problems([]).kind == "empty"
    code = policy_problems([Change("M", "leaderboard/cli.py"), Change("D", "README.md")])
    assert code.kind == "code" and code.problems == []


def test_a_rename_out_of_submissions_counts_as_touching_them():
    result = policy_problems([Change("R", "attic/x.yaml", "submissions/a.b/submission.yaml")])
    assert result.kind == "submission"
    assert [p.message for p in result.problems] == [
        "deletes entry 'a.b': deleting an entry is refused",
        "changes a file outside submissions/ in a submission pull request",
    ]


def test_unmerged_and_submodule_changes_are_refused():
    result = policy_problems([Change("U", "submissions/a.b/submission.yaml"),
                              Change("A", "submissions/c.d/submission.yaml", mode="160000")])
    assert [p.message for p in result.problems] == ["has unresolved merge conflicts",
                                                    "is a git submodule"]
    assert result.submission_files == []


def test_parse_raw_diff_reads_renames_modes_and_odd_names():
    output = (b":100644 100644 aaa bbb M\0submissions/a.b/submission.yaml\0"
              b":100644 100644 aaa bbb R087\0submissions/a.b/x.yaml\0submissions/c d/\xc3\xa9.yaml\0"
              b":000000 120000 000 ccc A\0submissions/e.f/submission.yaml\0"
              b":100644 000000 aaa 000 D\0old.txt\0")
    assert parse_raw_diff(output) == [
        Change("M", "submissions/a.b/submission.yaml", None, "100644"),
        Change("R", "submissions/c d/é.yaml", "submissions/a.b/x.yaml", "100644"),
        Change("A", "submissions/e.f/submission.yaml", None, "120000"),
        Change("D", "old.txt", None, None),
    ]


# ---------------------------------------------------------------------------------------------
# Issue 21, class 7: an edit of another contributor's entry


def _edit_claims(repo: Path) -> None:
    path = repo / "submissions" / "resnet18.a1_in1k" / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    data["claims"]["top1"] = 85.0
    data["submitter"] = {"name": "Mallory", "github": "mallory"}
    write_submission(repo, data)
    commit_all(repo)


def test_editing_another_contributors_entry_needs_a_maintainer(repo):
    _edit_claims(repo)
    result = check("--committed", "--author", "mallory")
    assert result.exit_code == 1
    assert ("submissions/resnet18.a1_in1k/submission.yaml: submitter.github (line 26): error: edits "
            "the entry of 'janedoe' (submitter.github on the base branch), but the pull request "
            "is by 'mallory'") in result.stdout
    assert "--allow-other-submitter" in result.stdout
    assert check("--committed", "--author", "mallory", "--allow-other-submitter").exit_code == 0


def test_the_author_comes_from_the_github_event_in_ci(repo, tmp_path, monkeypatch):
    _edit_claims(repo)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"user": {"login": "mallory"}}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_ACTOR", "janedoe")  # a maintainer re-running the job: not the author
    result = CliRunner().invoke(cli, ["check", "--changed-against", "main", "--allow-synthetic",
                                      "--committed"])
    assert result.exit_code == 1
    assert "but the pull request is by 'mallory'" in result.stdout
