"""`leaderboard check`, `schema` and the command line as a whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import (
    REPO,
    SHIPPED_SUBMISSIONS,
    imported_submission_dict,
    valid_submission_dict,
    write_submission,
)

from leaderboard import cli as cli_module
from leaderboard.cli import cli
from leaderboard.cli_options import MAX_WARNINGS_SHOWN
from leaderboard.testing import synthetic_record
from leaderboard.timm_catalog import load_catalog

TIMM = load_catalog().timm_version


def run_cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def valid_tree(root):
    """Three passing entries: two new ones and one imported (one warning)."""
    write_submission(root, valid_submission_dict())
    write_submission(root, valid_submission_dict("resnet18.a1_in1k", architecture="resnet18"))
    data = valid_submission_dict("resnet50.a1_in1k-288")
    data["eval"]["img_size"] = 288
    write_submission(root, data)
    imported = imported_submission_dict("resnet50.tv_in1k")
    imported["model"]["license"] = "bsd-3-clause"  # timm's catalog's licence for this tag
    write_submission(root, imported)
    return root / "submissions"


def test_check_passes_on_a_valid_tree(tmp_path):
    submissions = valid_tree(tmp_path)
    result = run_cli("check", "--submissions", submissions)
    assert result.exit_code == 0, result.output
    # Imported entries' warnings are summed up in one line (--verbose lists them); the whole
    # report is on stdout (`check > report.txt` keeps it), nothing on stderr.
    assert result.stdout == ("1 imported entry with weights not pinned yet (one warning each; "
                             "--verbose lists them)\n"
                             f"checked 4 submission(s) against timm {TIMM}: "
                             "0 error(s), 1 warning(s)\n")
    assert result.stderr == ""
    result = run_cli("check", "--verbose", "--submissions", submissions)
    assert "resnet50.tv_in1k/submission.yaml: model.weights.hf_hub.revision" in result.stdout
    assert ": warning: weights are not pinned" in result.stdout


def test_check_fails_on_a_bad_tree_and_prints_every_error(tmp_path):
    submissions = valid_tree(tmp_path)
    bad_type = valid_submission_dict("resnet34.a1_in1k", architecture="resnet34")
    bad_type["claims"]["top1"] = "80"
    write_submission(tmp_path, bad_type)
    write_submission(tmp_path, valid_submission_dict("resnet5.a1_in1k", architecture="resnet5"))
    write_submission(tmp_path, "a: 1\na: 2\n", folder="broken")
    result = run_cli("check", "--submissions", submissions)
    assert result.exit_code == 1
    assert result.stderr == ""  # a report, not a diagnostic: `check > report.txt` keeps it
    err = result.stdout
    assert f"{submissions}/resnet34.a1_in1k/submission.yaml: claims.top1 (line " in err
    assert "error: expected a number, got '80'\n    fix: write the number without quotes" in err
    assert f"{submissions}/resnet5.a1_in1k/submission.yaml: model.architecture (line 4)" in err
    assert "did you mean 'resnet50'?" in err
    assert f"{submissions}/broken/submission.yaml: line 2, column 1: error: duplicate key 'a'" in err
    # the broken file also gets its schema problems in the same run: unknown key 'a' and the
    # five required top-level fields
    assert f"{submissions}/broken/submission.yaml: a (line 1): error: unknown key 'a'" in err
    assert f"{submissions}/broken/submission.yaml: id: error: required field is missing" in err
    assert err.count(": error: ") == 3 + 6
    assert err.rstrip().endswith(f"checked 7 submission(s) against timm {TIMM}: "
                                 "9 error(s), 1 warning(s)")


def test_check_a_single_file(tmp_path):
    submissions = valid_tree(tmp_path)
    good = submissions / "resnet18.a1_in1k" / "submission.yaml"
    result = run_cli("check", good, "--submissions", submissions)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"checked 1 submission(s) against timm {TIMM}: 0 error(s), 0 warning(s)\n"

    bad = write_submission(tmp_path, valid_submission_dict(colour="red"), folder="resnet50.a1_in1k")
    result = run_cli("check", bad, "--submissions", submissions)
    assert result.exit_code == 1
    assert f"{bad}: colour (line " in result.stdout
    assert "checked 1 submission(s)" in result.stdout


def test_check_a_folder_finds_the_files_inside(tmp_path):
    submissions = valid_tree(tmp_path)
    result = run_cli("check", submissions / "resnet50.a1_in1k", submissions / "resnet18.a1_in1k")
    assert result.exit_code == 0, result.output
    assert "checked 2 submission(s)" in result.stdout


def test_check_a_nonexistent_path(tmp_path):
    missing = tmp_path / "nope" / "submission.yaml"
    result = run_cli("check", missing, "--submissions", tmp_path)
    assert result.exit_code == 1
    assert f"{missing}: error: no such file or folder\n    fix: check the path" in result.stdout
    assert "checked 0 submission(s)" in result.stdout


def test_check_a_folder_without_submissions(tmp_path):
    result = run_cli("check", tmp_path)
    assert result.exit_code == 1
    assert f"{tmp_path}: error: no submission.yaml in this folder" in result.stdout


def test_check_without_a_submissions_folder(tmp_path):
    result = run_cli("check", "--submissions", tmp_path / "absent")
    assert result.exit_code == 1
    assert f"{tmp_path / 'absent'}: error: no submissions folder here" in result.stdout
    assert "--submissions DIR" in result.stdout


def test_imported_entry_warnings_are_one_line_unless_verbose(tmp_path):
    count = MAX_WARNINGS_SHOWN + 2
    for index in range(count):
        write_submission(tmp_path, imported_submission_dict(f"resnet50.tag{index}"))
    submissions = tmp_path / "submissions"

    result = run_cli("check", "--submissions", submissions)
    assert result.exit_code == 0
    assert result.stdout.count(": warning: ") == 0
    assert result.stdout.startswith(f"{count} imported entries with weights not pinned yet (one "
                                    "warning each; --verbose lists them)\nchecked ")
    assert f"0 error(s), {count} warning(s)" in result.stdout

    for flag in ("--verbose", "--all-warnings"):
        result = run_cli("check", flag, "--submissions", submissions)
        assert result.stdout.count(": warning: ") == count
    result = run_cli("check", "--all-warnings", "--submissions", submissions)
    assert result.exit_code == 0
    assert result.stdout.count(": warning: ") == count
    assert "more warning(s)" not in result.stdout
    for index in range(count):
        assert f"resnet50.tag{index}/submission.yaml: model.weights" in result.stdout


# ---------------------------------------------------------------------------------------------
# Records found by check


def test_malformed_record_is_reported_with_its_path(tmp_path):
    submissions = valid_tree(tmp_path)
    record = submissions / "resnet50.a1_in1k" / "measurements" / "synthetic-gpu--offline.json"
    record.parent.mkdir()
    record.write_text('{"entry_id": "resnet50.a1_in1k",\n', encoding="utf-8")
    result = run_cli("check", "--submissions", submissions)
    assert result.exit_code == 1
    assert f"{record}: error: line 2: not valid JSON: " in result.stdout
    assert "re-run it for this entry" in result.stdout


def test_record_with_schema_violation_is_reported(tmp_path):
    submissions = valid_tree(tmp_path)
    record = submissions / "resnet50.a1_in1k" / "measurements" / "synthetic-gpu--offline.json"
    record.parent.mkdir()
    data = synthetic_record("resnet50.a1_in1k", 0.5).model_dump(mode="json")
    data["energy"]["gross_j_per_image"] = -1.0
    record.write_text(json.dumps(data), encoding="utf-8")
    result = run_cli("check", "--submissions", submissions)
    assert result.exit_code == 1
    assert (f"{record}: error: invalid measurement record: energy.gross_j_per_image: "
            "Input should be greater than or equal to 0.000000001") in result.stdout


def test_record_of_an_unknown_entry_and_a_moved_record(tmp_path):
    submissions = valid_tree(tmp_path)
    orphan = submissions / "ghost.x" / "measurements" / "synthetic-gpu--offline.json"
    moved = submissions / "resnet18.a1_in1k" / "measurements" / "synthetic-gpu--offline.json"
    for path, entry_id in ((orphan, "ghost.x"), (moved, "resnet50.a1_in1k")):
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(synthetic_record(entry_id, 0.5).model_dump(mode="json")), "utf-8")
    result = run_cli("check", "--submissions", submissions)
    assert result.exit_code == 1
    assert f"{orphan}: entry_id: error: no submission 'ghost.x'" in result.stdout
    assert (f"{moved}: entry_id: error: record belongs at "
            f"{submissions}/resnet50.a1_in1k/measurements/synthetic-gpu--offline.json") in result.stdout


def test_valid_records_pass(tmp_path):
    submissions = valid_tree(tmp_path)
    from leaderboard.records import write_record

    write_record(submissions, synthetic_record("resnet50.a1_in1k", 0.5))
    result = run_cli("check", "--submissions", submissions, "--allow-synthetic")
    assert result.exit_code == 0, result.output
    # Without the flag a synthetic record fails, as it fails the published build (issue 21).
    refused = run_cli("check", "--submissions", submissions)
    assert refused.exit_code == 1
    assert ("resnet50.a1_in1k/measurements/synthetic-gpu--offline.json: synthetic: error: record is "
            "marked synthetic (made-up test data); the published build refuses it") in refused.output


# ---------------------------------------------------------------------------------------------
# schema, help, errors


def test_schema_is_valid_json_schema_that_accepts_a_submission():
    jsonschema = pytest.importorskip("jsonschema")
    result = run_cli("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator_class = jsonschema.validators.validator_for(schema)
    assert validator_class is jsonschema.Draft202012Validator
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    assert list(validator.iter_errors(valid_submission_dict())) == []
    assert list(validator.iter_errors(imported_submission_dict())) == []

    bad = valid_submission_dict(colour="red")
    bad["claims"]["top1"] = "80"
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert messages == ["'80' is not of type 'number'",
                        "Additional properties are not allowed ('colour' was unexpected)"]


def _command_paths(group, prefix=()):
    """Every command and subgroup below ``group``, as argument lists."""
    for name, command in sorted(group.commands.items()):
        yield [*prefix, name]
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*prefix, name))


@pytest.mark.parametrize("command", [[], *_command_paths(cli)], ids=lambda c: " ".join(c) or "group")
def test_every_command_has_help(command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: cli {' '.join(command)}".rstrip())
    assert "Show this message and exit." in result.stdout


@pytest.mark.parametrize("command", list(_command_paths(cli)), ids=" ".join)
def test_every_option_says_what_it_does(command):
    target = cli
    for name in command:
        target = target.commands[name]
    undocumented = [p.opts[0] for p in target.params
                    if isinstance(p, click.Option) and not (p.help or "").strip()]
    assert undocumented == [], f"{' '.join(command)}: options without help: {undocumented}"


def test_check_changed_against_is_one_command_not_a_rewired_callback():
    # the pull-request path is a branch of `check` itself, so `check --help` documents it
    # and nothing replaces the callback after the fact
    from leaderboard import cli as cli_module

    assert cli.commands["check"].callback is cli_module.check.callback
    names = [p.name for p in cli.commands["check"].params]
    assert names == ["paths", "submissions_dir", "all_warnings", "changed_against", "committed",
                     "allow_records", "allow_delete", "allow_code", "allow_rewrite",
                     "allow_other_submitter", "author", "allow_synthetic", "output_format", "quiet",
                     "verbose"]  # leaderboard.check_command


def test_group_help_lists_every_command():
    result = run_cli("-h")
    assert result.exit_code == 0
    for name in ("check", "schema", "import-timm", "build", "serve", "timm-catalog"):
        assert f"  {name} " in result.stdout


def test_timm_catalog_command_summarises_the_shipped_catalog():
    result = run_cli("timm-catalog")
    assert result.exit_code == 0
    catalog = load_catalog()
    assert result.stdout == (f"timm {TIMM}: {len(catalog.architectures)} architectures, "
                             f"{len(catalog.pretrained)} pretrained tags (`--missing` lists those "
                             "without an entry)\n")


def test_main_maps_library_errors_to_a_message_and_exit_code(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["leaderboard", "import-timm", str(tmp_path / "none.csv")])
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'none.csv'}: no such file\n"


def test_main_maps_usage_errors_to_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["leaderboard", "bogus"])
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 2
    assert "No such command 'bogus'" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The installed command on the shipped data


def test_installed_command_checks_the_shipped_submissions_without_torch():
    """`leaderboard check` at the repository root: exit 0, and neither torch nor timm imported.

    PYTHONPROFILEIMPORTTIME makes Python list every module it imports on stderr.
    """
    script = Path(sys.executable).parent / "leaderboard"
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    shipped = len(list(SHIPPED_SUBMISSIONS.glob("*/submission.yaml")))
    assert shipped > 1000
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run([str(script), "check"], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1].startswith(
        f"checked {shipped} submission(s) against timm {TIMM}: 0 error(s)")
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert {"leaderboard.check", "leaderboard.submission", "pydantic"} <= imported
    heavy = sorted(m for m in imported if m.split(".")[0] in {"torch", "timm", "numpy", "pandas"})
    assert heavy == []


# ---------------------------------------------------------------------------------------------
# Issue 13: check from any folder, misnamed files, bad input via the CLI, build --force


def test_check_inside_the_entry_folder(tmp_path, monkeypatch):
    path = write_submission(tmp_path, valid_submission_dict())
    monkeypatch.chdir(path.parent)
    result = run_cli("check", "submission.yaml")
    assert result.exit_code == 0, result.output
    assert "does not match its folder" not in result.output


def test_a_misnamed_submission_yml_is_named_by_plain_check(tmp_path):
    submissions = valid_tree(tmp_path)
    misnamed = submissions / "resnet34.a1_in1k" / "submission.yml"
    misnamed.parent.mkdir()
    misnamed.write_text("schema_version: 1\n", encoding="utf-8")
    result = run_cli("check", "--submissions", submissions)
    assert result.exit_code == 1
    assert (f"{misnamed}: error: 'submission.yml' is misnamed: a submission file must be named "
            "submission.yaml") in result.stdout
    assert "`git mv`" in result.stdout
    result = run_cli("check", submissions / "resnet34.a1_in1k")
    assert result.exit_code == 1 and "'submission.yml' is misnamed" in result.stdout


def test_an_alias_bomb_is_refused_quickly_in_a_memory_capped_process(tmp_path):
    """The 542-byte bomb of the issue ran past 60 s at 3.85 GB; now: refused, well within 1 GiB."""
    import resource
    import subprocess
    import sys

    from conftest import REPO

    bomb = (REPO / "tests/data/bad_submissions/alias_bomb.yaml").read_text("utf-8")
    path = write_submission(tmp_path, bomb, folder="resnet50.a1_in1k")

    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    main = "import sys; from leaderboard.cli import main; sys.argv[0] = 'leaderboard'; main()"
    proc = subprocess.run([sys.executable, "-c", main, "check", str(path)],
                          capture_output=True, text=True, timeout=120, preexec_fn=cap_memory,
                          cwd=tmp_path, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the child (interpreter start included), robust to a loaded machine.
    assert (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) < 5
    assert proc.returncode == 1, proc.stderr
    assert "alias '*x0' is not allowed" in proc.stdout
    assert "MemoryError" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("fixture, phrase", [
    ("infinite_params", "'.inf' is not a finite number"),
    ("sexagesimal_top1", "'1:20' is a YAML 1.1 number form"),
    ("filename_traversal", "has the wrong format"),
    ("default_size_suffix", "the default size of 'resnet50.a1_in1k'"),
])
def test_bad_fixtures_fail_check_with_file_line_and_fix(tmp_path, fixture, phrase):
    from conftest import REPO

    text = (REPO / f"tests/data/bad_submissions/{fixture}.yaml").read_text("utf-8")
    folder = "resnet50.a1_in1k-224" if fixture == "default_size_suffix" else "resnet50.a1_in1k"
    path = write_submission(tmp_path, text, folder=folder)
    result = run_cli("check", path)
    assert result.exit_code == 1
    line = next(line for line in result.stdout.splitlines() if phrase in line)
    assert line.startswith(f"{path}: ") and "line " in line
    assert "    fix: " in result.stdout


def test_command_help_prints_the_vocabulary_numbers():
    from leaderboard.vocabulary import ACCURACY_TOLERANCE_POINTS, EXIT_NO_METER, SCENARIO_BATCH_SIZE

    accuracy = " ".join(run_cli("validate-accuracy", "--help").stdout.split())
    assert f"within {ACCURACY_TOLERANCE_POINTS:g} points of the claim" in accuracy
    measure = " ".join(run_cli("measure", "--help").stdout.split())
    assert f"{EXIT_NO_METER} no usable energy meter" in measure
    assert f"offline = batch {SCENARIO_BATCH_SIZE['offline']}, single-stream = batch 1" in measure
    assert "{" not in measure and "{" not in accuracy  # every field was filled
