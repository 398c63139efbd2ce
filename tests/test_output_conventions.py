"""Output conventions of every `leaderboard` command: the report on stdout, diagnostics and
progress on stderr, a progress bar on a terminal and plain lines elsewhere, exit codes in
every --help.

Each command runs for real (``leaderboard.cli.main``, in process, on a small synthetic tree);
the terminal case runs ``records import`` and ``build`` in a subprocess whose stderr is a
pseudo-terminal.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import click
import pytest
from conftest import REPO
from test_measure_cli import needs_no_gpu

from leaderboard import cli as cli_module
from leaderboard.progress import Progress, TaskLineStream, progress_for, progress_mode
from leaderboard.records_archive import export_records
from leaderboard.testing import write_synthetic_tree

ENTRIES = 3


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# ---------------------------------------------------------------------------------------------
# The progress helper


def test_the_mode_follows_the_terminal_no_color_and_quiet():
    assert progress_mode(FakeTerminal(), environ={}) == "bar"
    assert progress_mode(io.StringIO(), environ={}) == "lines"
    assert progress_mode(FakeTerminal(), environ={"NO_COLOR": ""}) == "lines"  # set, even empty
    assert progress_mode(FakeTerminal(), environ={"TERM": "dumb"}) == "lines"
    assert progress_mode(FakeTerminal(), quiet=True, environ={}) == "quiet"


def test_plain_lines_come_about_every_tenth_and_at_the_end():
    stream = io.StringIO()
    with Progress("import", 100, mode="lines", stream=stream) as progress:
        for done in range(1, 101):
            progress(done, 100, f"r{done}")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "import: 1/100 r1" and lines[-1] == "import: 100/100 r100"
    assert len(lines) == 11  # 1, 11, 21, ..., 91 and 100


def test_a_bar_is_drawn_in_place_on_a_terminal_and_quiet_draws_nothing():
    terminal = FakeTerminal()
    with Progress("build", 4, mode="bar", stream=terminal, unit="stage") as progress:
        progress(2, 4, "mkdocs")
        progress.note("a warning")
    text = terminal.getvalue()
    assert "\r" in text and "2/4" in text and "mkdocs" in text and "a warning\n" in text
    quiet = FakeTerminal()
    with progress_for("build", 4, quiet=True, stream=quiet) as progress:
        progress(4, 4, "done")
        progress.note("x")
    assert quiet.getvalue() == ""


def test_task_lines_drive_the_bar_and_pass_through_in_logs():
    terminal = FakeTerminal()
    with Progress("measure", 2, mode="bar", stream=terminal) as bar:
        stream = TaskLineStream(bar)
        print("[1/2] a.b offline ok 0.01 J/img 3.0 s  ETA 3.0 s", file=stream, flush=True)
        assert bar.done == 1
        stream.write("worker 1 ready")
        stream.flush()
    assert "[1/2] a.b offline ok" in terminal.getvalue() and "worker 1 ready" in terminal.getvalue()
    log = io.StringIO()
    with Progress("measure", 2, mode="lines", stream=log) as lines:
        print("[1/2] a.b offline ok", file=TaskLineStream(lines), flush=True)
    assert log.getvalue() == "[1/2] a.b offline ok\n"  # logs read exactly as before


# ---------------------------------------------------------------------------------------------
# Exit codes in every --help


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", all_commands(cli_module.cli), ids=" ".join)
def test_every_help_lists_the_exit_codes(command):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli_module.cli, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0 and result.stderr == ""
    assert "Exit codes: 0 " in result.stdout and " 1 " in result.stdout.split("Exit codes:")[1]


# ---------------------------------------------------------------------------------------------
# stdout is the report, stderr the diagnostics and progress: every command


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """A small synthetic tree with records, its records archive and a copy without records."""
    root = tmp_path_factory.mktemp("conventions")
    submissions = write_synthetic_tree(root / "measured", ENTRIES)
    archive = root / "records.tar.gz"
    export_records(submissions, archive)
    fresh = root / "fresh" / "submissions"
    shutil.copytree(submissions, fresh, ignore=shutil.ignore_patterns("measurements"))
    return {"root": root, "submissions": submissions, "archive": archive, "fresh": fresh,
            "ids": sorted(p.name for p in submissions.iterdir()),
            "records": len(list(submissions.glob("*/measurements/*.json")))}


def run_main(args: list[str], cwd: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    """`leaderboard ARGS` through the console script's entry point, in process."""
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["leaderboard", *args])
    monkeypatch.delenv("NO_COLOR", raising=False)
    capsys.readouterr()
    try:
        cli_module.main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_reports_go_to_stdout_and_diagnostics_to_stderr(trees, tmp_path, monkeypatch, capsys):
    s, root, ids = str(trees["submissions"]), trees["root"], trees["ids"]
    first = ids[0]

    def run(*args: str, cwd: Path = root) -> tuple[int, str, str]:
        return run_main(list(args), cwd, monkeypatch, capsys)

    code, out, err = run("schema")
    assert code == 0 and json.loads(out)["title"] and err == ""
    code, out, err = run("timm-catalog")
    assert code == 0 and out.startswith("timm ") and err == ""
    code, out, err = run("check", "--submissions", s, "--all-warnings", "--allow-synthetic")
    assert code == 0 and out.splitlines()[-1].startswith(f"checked {ENTRIES} submission(s)")
    assert err == ""
    code, out, err = run("findings", "--submissions", s, "--allow-synthetic")
    assert code == 0 and "Not enough measured entries yet" in out and err == ""

    (tmp_path / "new").mkdir()
    code, out, err = run("new", "resnet50.a1_in1k", "--offline", "--submissions", str(tmp_path / "new"))
    assert code == 0 and "resnet50.a1_in1k/submission.yaml" in out and err == ""
    results = tmp_path / "results.csv"
    results.write_text("model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation\n"
                       "resnet50.a1_in1k,224,80.4,19.6,94.6,5.4,25.56,0.95,bicubic\n")
    (tmp_path / "timm").mkdir()
    code, out, err = run("import-timm", str(results), "--submissions", str(tmp_path / "timm"))
    assert code == 0 and out.startswith(f"imported {results}: 1 created") and err == ""

    archive = tmp_path / "again.tar.gz"
    code, out, err = run("records", "export", str(archive), "--submissions", s)
    assert code == 0 and out.startswith(f"exported {trees['records']} record(s)") and err == ""
    fresh = tmp_path / "fresh"
    shutil.copytree(trees["fresh"], fresh)
    code, out, err = run("records", "import", str(trees["archive"]), "--submissions", str(fresh),
                         "--allow-synthetic")
    assert code == 0 and out.startswith(f"imported {trees['archive']}: {trees['records']} created")
    assert err.splitlines() and all(line.startswith("records import: checked: ")
                                    for line in err.splitlines())  # progress, plain off a terminal
    code, out, err = run("records", "import", str(trees["archive"]), "--submissions", str(fresh),
                         "--allow-synthetic", "-q")
    assert code == 0 and out.endswith(f"{trees['records']} unchanged\n") and err == ""

    code, out, err = run("report", "--records", str(trees["archive"]), "--pr-entries", first,
                         "--submissions", s)
    assert code == 0 and out.startswith("<!-- leaderboard-report -->")
    assert err.startswith("report: 1 entry")

    site = tmp_path / "site"
    code, out, err = run("build", "--submissions", s, "--allow-synthetic", "-o", str(site),
                         "--site-source", str(REPO / "site"))
    assert code == 0 and out.startswith("built ") and f"for {ENTRIES} entries" in out
    progress = [line for line in err.splitlines() if line.startswith("build: ")]
    assert progress[0] == "build: 0/4 pages and charts" and progress[-1] == "build: 4/4 done"
    assert [line for line in err.splitlines() if not line.startswith("build: ")] == [
        line for line in err.splitlines() if "site_url is not set" in line]
    code, out, err = run("build", "--submissions", s, "--allow-synthetic", "-o", str(site), "-q",
                         "--site-source", str(REPO / "site"))
    assert code == 0 and out.startswith("built ") and "build: " not in err

    code, out, err = run("serve", "-o", str(tmp_path / "nothing"))
    assert code == 1 and out == "" and err.startswith("error: ") and "leaderboard build" in err

    repo = tmp_path / "repo"
    shutil.copytree(trees["fresh"], repo / "submissions")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    shutil.rmtree(repo / "submissions" / ids[1])
    git(repo, "commit", "-q", "-am", "delete")
    code, out, err = run("changed-entries", "main~1", "--committed", cwd=repo)
    assert code == 1 and out == "" and "deleting an entry is refused" in err

    for args in (["validate-accuracy", "no.such_entry", "--imagenet", str(tmp_path)],
                 ["profile", "no.such_entry"], ["sweep", "no.such_entry"]):
        code, out, err = run(*args, "--submissions", s)
        assert code in (1, 2) and out == "" and "no.such_entry" in err, args


@needs_no_gpu
def test_measure_without_a_meter_prints_nothing_on_stdout(trees, tmp_path, monkeypatch, capsys):
    fresh = tmp_path / "fresh"
    shutil.copytree(trees["fresh"], fresh)
    code, out, err = run_main(["measure", trees["ids"][0], "--submissions", str(fresh)], tmp_path,
                              monkeypatch, capsys)
    assert code == 3 and out == ""
    assert err.splitlines()[-2].startswith("error: cannot measure on cuda")


# ---------------------------------------------------------------------------------------------
# On a terminal: a bar; with NO_COLOR: plain lines (a real subprocess with a pseudo-terminal)


def run_with_terminal_stderr(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    main_fd, terminal_fd = pty.openpty()
    # A fresh pseudo-terminal is 0 columns wide; a real one has a size.
    fcntl.ioctl(terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "leaderboard", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=terminal_fd, env=env)
    os.close(terminal_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    out = proc.stdout.read().decode()
    proc.wait(timeout=120)
    os.close(main_fd)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_a_bar_and_no_color_gets_lines(trees, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env["PYTHONPATH"] = str(REPO)
    fresh = tmp_path / "fresh"
    shutil.copytree(trees["fresh"], fresh)
    code, out, err = run_with_terminal_stderr(
        ["records", "import", str(trees["archive"]), "--submissions", str(fresh), "--allow-synthetic"], env)
    records = trees["records"]
    assert code == 0 and out.startswith(f"imported {trees['archive']}: {records} created")
    assert "records import: checked: 100%|" in err and f"{records}/{records}" in err
    assert "\r" in err  # redrawn in place

    site = tmp_path / "site"
    code, out, err = run_with_terminal_stderr(
        ["build", "--submissions", str(trees["submissions"]), "--allow-synthetic", "-o", str(site)],
        {**env, "NO_COLOR": "1"})
    assert code == 0 and out.startswith("built ")
    assert "build: 4/4 done" in err and "|" not in err.replace("\r\n", "\n")
