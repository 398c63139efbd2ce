"""Untrusted ids, paths and YAML text never print a CI workflow command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import valid_submission_dict, write_submission

from leaderboard.errors import Problem
from leaderboard.log_escape import log_safe, workflow_command_data, workflow_command_property


@pytest.mark.parametrize("text, safe", [
    ("submissions/x\n::error::owned/submission.yaml", "submissions/x\\n:\\:error:\\:owned/submission.yaml"),
    ("::add-mask::secret", ":\\:add-mask:\\:secret"),
    ("a\rb\x1b[31mc\u2028d\x85e", "a\\rb\\x1b[31mc\\u2028d\\x85e"),
    ("tab\there", "tab\\there"),
])
def test_log_safe_escapes_line_breaks_controls_and_commands(text, safe):
    assert log_safe(text) == safe
    assert "\n" not in log_safe(text) and not log_safe(text).startswith("::")


@pytest.mark.parametrize("text", ["submissions/resnet50.a1_in1k/submission.yaml",
                                  "model.weights.hf_hub.revision (line 8)", "José's entry: 80 %"])
def test_ordinary_text_is_unchanged(text):
    assert log_safe(text) == text


def test_a_problem_never_prints_a_command_from_its_parts():
    problem = Problem("submissions/x\n::error::owned/submission.yaml", "line 1\n::warning::",
                      "unknown key 'a\n::error::b'", "remove\n::error::it")
    lines = problem.format().splitlines()
    assert len(lines) == 2
    assert not any(line.lstrip().startswith("::") for line in lines)
    assert lines[1].startswith("    fix: ")


def test_workflow_command_escapes_match_the_actions_toolkit():
    assert workflow_command_data("50%\r\ndone") == "50%25%0D%0Adone"
    assert workflow_command_property("a:b,c\n") == "a%3Ab%2Cc%0A"


def test_check_on_a_hostile_folder_name_prints_no_command(tmp_path, monkeypatch):
    from leaderboard.cli import cli

    folder = "x\n::error::owned"
    write_submission(tmp_path, valid_submission_dict(), folder=folder)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 1
    assert "does not match its folder 'x\\n:\\:error:\\:owned'" in result.stdout
    assert not any(line.startswith("::") for line in result.output.splitlines())
