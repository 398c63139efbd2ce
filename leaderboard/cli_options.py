"""Options and output that several `leaderboard` commands share, declared once.

Keeping them here means a shared option has one name, one default and one help text, and
``cli.py`` holds only the commands.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from leaderboard.errors import Problem

DEFAULT_SUBMISSIONS = Path("submissions")
DEFAULT_OUTPUT = Path("build/site")
MAX_WARNINGS_SHOWN = 5

F = TypeVar("F", bound=Callable[..., Any])


def submissions_option(help_text: str = "The submissions folder.") -> Callable[[F], F]:
    """``--submissions``: the folder that holds ``<id>/submission.yaml`` entries."""
    return click.option("--submissions", "submissions_dir", default=DEFAULT_SUBMISSIONS,
                        show_default=True, type=click.Path(path_type=Path, file_okay=False),
                        help=help_text)


def site_output_option(help_text: str) -> Callable[[F], F]:
    """``--output/-o``: where a static site is (or is to be) built."""
    return click.option("--output", "-o", default=DEFAULT_OUTPUT, show_default=True,
                        type=click.Path(path_type=Path), help=help_text)


def entry_selection(verb: str) -> Callable[[F], F]:
    """``[IDS_OR_GLOBS]... --all --shard I/N``: which entries a validator command works on."""
    def decorate(command: F) -> F:
        command = click.option(
            "--shard", default=None, metavar="I/N",
            help=f"{verb} only shard I of N (1-based; every N-th of the sorted ids), for job "
                 "arrays and CI matrices. Shards are disjoint and cover every entry.")(command)
        command = click.option("--all", "all_entries", is_flag=True,
                               help=f"{verb} every entry under --submissions.")(command)
        return click.argument("entries", nargs=-1, metavar="[IDS_OR_GLOBS]...")(command)
    return decorate


def weights_options(command: F) -> F:
    """``--weights-mode`` and ``--weights-dir``: random or pinned pretrained weights."""
    command = click.option(
        "--weights-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
        help="Pretrained mode: folder with <id>.safetensors for each entry (fetched "
             "beforehand).")(command)
    return click.option(
        "--weights-mode", default="random-init", show_default=True,
        type=click.Choice(["random-init", "pretrained"]),
        help="Measure with random weights (energy only) or the pinned pretrained "
             "weights.")(command)


all_warnings_option = click.option("--all-warnings", "all_warnings", is_flag=True,
                                   help="List every warning, not the first few (nor one line "
                                        "for all imported entries); -v/--verbose implies it.")
allow_synthetic_option = click.option(
    "--allow-synthetic", is_flag=True,
    help="Accept records marked synthetic (tests and benchmarks only).")
quiet_option = click.option(
    "-q", "--quiet", is_flag=True,
    help="No progress on stderr (the report on stdout and errors stay). Progress is a bar on "
         "a terminal, plain lines elsewhere or with NO_COLOR set.")
device_option = click.option("--device", default="cuda", show_default=True,
                             help="cuda, cuda:N or cpu.")


def fill_help(command: F) -> F:
    """Fill a command's help text's ``{field}`` names from the vocabulary.

    Apply it below ``@cli.command()``: the numbers the help promises (tolerance, batch sizes,
    exit codes) are then the ones the code uses.
    """
    from leaderboard import vocabulary as v

    command.__doc__ = (command.__doc__ or "").format(
        tolerance=f"{v.ACCURACY_TOLERANCE_POINTS:g}", headline_precision=v.HEADLINE_PRECISION,
        offline_batch=v.SCENARIO_BATCH_SIZE[v.OFFLINE], exit_ok=v.EXIT_OK,
        exit_failed=v.EXIT_FAILED, exit_usage=v.EXIT_USAGE, exit_no_meter=v.EXIT_NO_METER,
        exit_terminated=v.EXIT_TERMINATED)
    return command


GENERIC_EXIT_CODES = ("Exit codes: {exit_ok} done; {exit_failed} failed (the message on stderr says "
                      "why); {exit_usage} bad usage; {exit_aborted} interrupted (Ctrl-C); "
                      "{exit_broken_pipe} stdout closed early (`| head`).")


def document_exit_codes(group: click.Group) -> None:
    """Give every command under ``group`` (and the group) an ``Exit codes:`` line in ``--help``.

    A command whose own help lists its codes keeps them; any other (one added later included)
    gets the generic line as its epilog, so no command's ``--help`` leaves them out.
    """
    from leaderboard import vocabulary as v
    from leaderboard.expected_failures import EXIT_BROKEN_PIPE

    generic = GENERIC_EXIT_CODES.format(exit_ok=v.EXIT_OK, exit_failed=v.EXIT_FAILED,
                                        exit_usage=v.EXIT_USAGE, exit_aborted=v.EXIT_ABORTED,
                                        exit_broken_pipe=EXIT_BROKEN_PIPE)
    commands: list[click.Command] = [group]
    while commands:
        command = commands.pop()
        if "Exit codes:" not in (command.help or "") + (command.epilog or ""):
            command.epilog = generic
        if isinstance(command, click.Group):
            commands.extend(command.commands.values())


def campaign_run_options(command: F) -> F:
    """``measure``'s ``--resume``, ``--force`` and ``--time-budget``."""
    for option in reversed((
        click.option("--resume", is_flag=True,
                     help="Skip, without starting a worker, entries whose record on this GPU has "
                          "status ok or unstable (refused and error records are retried)."),
        click.option("--force", is_flag=True,
                     help="Re-measure entries that are unchanged since their last record on this GPU."),
        time_budget_option,
    )):
        command = option(command)
    return command


# measure, profile and sweep: their one task loop (leaderboard.measure.task_loop) applies it
time_budget_option = click.option(
    "--time-budget", default=None, metavar="DURATION",
    help="Start no new model once elapsed time plus the median model time would exceed this: "
         "2h, 90m, 1h30m or seconds (3600).")


def protocol_options(command: F) -> F:
    """``measure``'s protocol, order, probe file and meter (leaderboard.measure.campaign)."""
    for option in reversed((
        click.option("--protocol", default="v1", show_default=True, type=click.Choice(["v1", "v2"]),
                     help="v1: a fresh worker and full protocol per model; v2: one long-lived "
                          "worker, idle once, warm-up until steady, sized windows (GPU leases)."),
        click.option("--order", default="name", show_default=True,
                     type=click.Choice(["name", "cheapest"]),
                     help="Measure in id order, or cheapest (fewest GMACs) first."),
        click.option("--probe-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                     default=None, help="v2: the first-contact probe's JSON "
                                        "(python -m leaderboard.measure.probe)."),
        click.option("--meter", default=None,
                     type=click.Choice(["nvml-total-energy", "nvml-power-integration"]),
                     help="GPU meter (default the energy counter; integration is named in the "
                          "record with its bias)."),
        click.option("--reference-s", default=20.0, show_default=True,
                     type=click.FloatRange(min=0.0), metavar="SECONDS",
                     envvar="LEADERBOARD_REFERENCE_S", show_envvar=True,
                     help="For three entries moved to the front (the cheapest, a resnet50, a "
                          "large one) also measure one tick-aligned window this long and record "
                          "the protocol's J/image over its; 0: none."),
    )):
        command = option(command)
    return command


def batch_size_option(help_text: str) -> Callable[[F], F]:
    """``--batch-size``: images per forward pass."""
    return click.option("--batch-size", default=256, show_default=True,
                        type=click.IntRange(min=1), help=help_text)


# ---------------------------------------------------------------------------------------------
# Output shared by several commands


def echo_problems(problems: list[Problem], all_warnings: bool) -> None:
    """Print errors, then warnings (the first few unless ``all_warnings``), to stderr."""
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for problem in errors:
        click.echo(problem.format(), err=True)
    from leaderboard.check import warning_lines

    for line in warning_lines(warnings, verbose=all_warnings, limit=MAX_WARNINGS_SHOWN):
        click.echo(line, err=True)


def echo_summary(summary: str, failed: bool) -> None:
    """Print a check's last line: to stderr and exit 1 when it failed, else to stdout."""
    if failed:
        click.echo(summary, err=True)
        sys.exit(1)
    click.echo(summary)


def selected_ids(submissions_dir: Path, entries: tuple[str, ...], all_entries: bool,
                 shard: str | None) -> list[str]:
    """The sorted entry ids that ``entry_selection``'s options name (this shard of them)."""
    from leaderboard.measure.selection import parse_shard, select_entries, shard_by_cost

    ids = select_entries(submissions_dir, list(entries), all_entries)
    if shard:
        index, count = parse_shard(shard)
        ids = shard_by_cost(submissions_dir, ids, index, count)
        click.echo(f"shard {index}/{count}: {len(ids)} entr{'y' if len(ids) == 1 else 'ies'}",
                   err=True)
    return ids
