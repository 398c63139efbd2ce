"""`leaderboard check` output formats: text, GitHub annotations, JSON; -q and -v."""

from __future__ import annotations

import json

import pytest

from leaderboard.check_output import (
    MAX_WARNINGS_SHOWN,
    QUIET,
    VERBOSE,
    github_annotation,
    locate,
    render_check,
)
from leaderboard.errors import Problem
from leaderboard.log_escape import workflow_command_data, workflow_command_property

FILE = "submissions/resnet50.a1_in1k/submission.yaml"
ERROR = Problem(FILE, "claims.top1 (line 12)", "expected a number, got '80'",
                "write the number without quotes")
YAML_ERROR = Problem(FILE, "line 3, column 5", "duplicate key 'a'", "remove one of them")
WARNING = Problem(FILE, "model.weights.hf_hub.revision (line 8)", "weights are not pinned",
                  "pin it", severity="warning")
SUMMARY = "checked 1 submission(s) against timm 1.0.31: 2 error(s), 1 warning(s)"


def test_locations_split_into_field_line_and_column():
    assert (locate(ERROR).field, locate(ERROR).line, locate(ERROR).column) == ("claims.top1", 12, None)
    assert (locate(YAML_ERROR).field, locate(YAML_ERROR).line, locate(YAML_ERROR).column) == (None, 3, 5)
    bare = Problem(FILE, "", "a submission file must be named submission.yaml")
    assert (locate(bare).field, locate(bare).line) == (None, None)
    field_only = Problem(FILE, "entry_id", "no submission 'x'")
    assert (locate(field_only).field, locate(field_only).line) == ("entry_id", None)


def test_github_escaping_follows_the_workflow_command_rules():
    assert workflow_command_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert workflow_command_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    # a message cannot end the command early or start a second one on a new line
    hostile = Problem("x,y:z.yaml", "id (line 1)", "bad\n::error::injected", "fix 50%")
    line = github_annotation(hostile)
    assert "\n" not in line and "\r" not in line  # "::" mid-line starts no command
    assert line.startswith("::error file=x%2Cy%3Az.yaml,line=1,title=leaderboard check%3A id::")
    assert line.endswith("bad%0A::error::injected%0Afix: fix 50%25")


def test_github_annotations_carry_file_line_column_and_severity():
    assert github_annotation(ERROR) == (
        f"::error file={FILE},line=12,title=leaderboard check%3A claims.top1::"
        "expected a number, got '80'%0Afix: write the number without quotes")
    assert github_annotation(YAML_ERROR).startswith(f"::error file={FILE},line=3,col=5,title=")
    assert github_annotation(WARNING).startswith(f"::warning file={FILE},line=8,")


def test_text_output_is_a_report_on_stdout():
    out = render_check([ERROR, WARNING], SUMMARY)
    assert out.exit_code == 1 and out.stderr == []
    assert out.stdout == [ERROR.format(), WARNING.format(), SUMMARY]
    passing = render_check([WARNING], SUMMARY)
    assert passing.exit_code == 0 and passing.stdout == [WARNING.format(), SUMMARY]


def test_github_output_writes_annotations_to_stdout():
    out = render_check([ERROR, WARNING], SUMMARY, output_format="github")
    assert out.stdout == [github_annotation(ERROR), github_annotation(WARNING), SUMMARY]
    assert out.stderr == [] and out.exit_code == 1


def test_json_output_lists_every_problem_and_the_counts():
    warnings = [Problem(FILE, f"w (line {i})", "w", severity="warning") for i in range(20)]
    out = render_check([ERROR, *warnings], SUMMARY, output_format="json",
                       details={"timm_version": "1.0.31"}, checked_files=[FILE])
    payload = json.loads("\n".join(out.stdout))
    assert out.stderr == [] and out.exit_code == 1
    assert (payload["ok"], payload["errors"], payload["warnings"]) == (False, 1, 20)
    assert payload["timm_version"] == "1.0.31" and payload["files_checked"] == [FILE]
    assert len(payload["problems"]) == 21  # never capped
    assert payload["problems"][0] == {"file": FILE, "field": "claims.top1", "line": 12,
                                      "column": None, "severity": "error",
                                      "message": "expected a number, got '80'",
                                      "fix": "write the number without quotes"}


def test_quiet_shows_errors_only_and_no_summary_on_success():
    failing = render_check([ERROR, WARNING], SUMMARY, verbosity=QUIET)
    assert failing.stdout == [ERROR.format(), SUMMARY] and failing.stderr == []
    passing = render_check([WARNING], SUMMARY, verbosity=QUIET)
    assert passing.stdout == [] and passing.stderr == [] and passing.exit_code == 0


def test_warnings_are_capped_unless_verbose():
    warnings = [Problem(FILE, f"w (line {i})", f"warning {i}", severity="warning") for i in range(9)]
    normal = render_check(warnings, SUMMARY)
    assert len([line for line in normal.stdout if ": warning: " in line]) == MAX_WARNINGS_SHOWN
    assert f"... and {9 - MAX_WARNINGS_SHOWN} more warning(s)" in normal.stdout[-2]
    assert normal.stdout[-1] == SUMMARY and normal.stderr == []
    verbose = render_check(warnings, SUMMARY, verbosity=VERBOSE, checked_files=[FILE])
    assert len([line for line in verbose.stdout if ": warning: " in line]) == 9
    assert f"checked {FILE}" in verbose.stdout
    assert render_check(warnings, SUMMARY, all_warnings=True).stdout == [
        *(w.format() for w in warnings), SUMMARY]


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="text, github, json"):
        render_check([], SUMMARY, output_format="xml")
