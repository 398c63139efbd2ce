"""The `leaderboard` command: parse arguments, call one library function, map errors to exits.

Heavy imports (pandas, altair, mkdocs, torch) happen inside commands so `leaderboard check`
stays fast and never imports torch. Options that several commands share are declared once, in
``leaderboard.cli_options``, so their names, defaults and help cannot drift apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from leaderboard import __version__
from leaderboard import cli_options as opt
from leaderboard.check_command import check_output_options
from leaderboard.errors import LeaderboardError, ProblemsFound
from leaderboard.log_escape import log_safe
from leaderboard.vocabulary import (
    EXIT_ABORTED,
    EXIT_TERMINATED,
    HEADLINE_SCENARIO,
    PRECISIONS,
    SCENARIO_BATCH_SIZE,
    SCENARIOS,
)

DEFAULT_SITE_SOURCE = Path("site")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leaderboard")
def cli() -> None:
    """ImageNet classifiers ranked by inference energy per image, beside their accuracy."""


# --- Contributors: checks, schema, site


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@opt.submissions_option()
@opt.all_warnings_option
@click.option("--changed-against", metavar="BASE", default=None,
              help="Check a pull request: only what changed since BASE (origin/main, a SHA), "
                   "and the policy: a submission pull request adds or edits only "
                   "submissions/<id>/submission.yaml. Without changes under submissions/, "
                   "every submission is checked.")
@click.option("--committed", is_flag=True,
              help="With --changed-against: compare commits only (BASE...HEAD), ignoring "
                   "uncommitted and untracked files (CI).")
@click.option("--allow-records", is_flag=True,
              help="Maintainers: measurement records may change (the validator's records).")
@click.option("--allow-delete", is_flag=True,
              help="Maintainers: entries may be deleted or renamed.")
@click.option("--allow-code", is_flag=True,
              help="Maintainers: files outside entry folders may change next to submissions.")
@click.option("--allow-rewrite", is_flag=True,
              help="Maintainers: imported_from and the weights of existing entries may change.")
@click.option("--allow-other-submitter", is_flag=True,
              help="Maintainers: the pull request may edit entries another contributor submitted.")
@click.option("--author", metavar="LOGIN", default=None,
              help="The pull request's author (GitHub login); in CI read from the event payload "
                   "(GITHUB_EVENT_PATH: pull_request.user.login).")
@click.option("--allow-synthetic", is_flag=True,
              help="Accept records marked synthetic (test trees; the published build refuses them).")
@check_output_options
@opt.fill_help
def check(paths: tuple[Path, ...], submissions_dir: Path, all_warnings: bool,
          changed_against: str | None, committed: bool, allow_records: bool, allow_delete: bool,
          allow_code: bool, allow_rewrite: bool, allow_other_submitter: bool, author: str | None,
          output_format: str, quiet: bool, verbose: bool, allow_synthetic: bool) -> None:
    """Check submission files (all, or PATHS) and report every problem at once.

    The report goes to stdout (`leaderboard check > report.txt` keeps it). Warnings (such as
    imported entries whose weights are not pinned yet) are reported but do not fail the check.

    Exit codes: {exit_ok} no error (warnings allowed); {exit_failed} errors found; {exit_usage}
    bad usage.
    """
    from leaderboard.check_command import check_files, check_pull_request, check_style
    from leaderboard.errors import UsageError

    style = check_style(output_format, quiet, verbose, all_warnings)
    if changed_against is None:
        if (allow_records or allow_delete or allow_code or allow_rewrite or committed
                or allow_other_submitter or author):
            raise UsageError("the --allow-* flags and --committed apply only with --changed-against BASE")
        check_files(paths, submissions_dir, style, allow_synthetic)
        return
    if paths:
        raise UsageError("give PATHS or --changed-against BASE, not both")
    check_pull_request(changed_against, submissions_dir, style, allow_synthetic, committed=committed,
                       allow_records=allow_records, allow_delete=allow_delete,
                       allow_code=allow_code, allow_rewrite=allow_rewrite,
                       allow_other_submitter=allow_other_submitter, author=author)


@cli.command("changed-entries")
@click.argument("base")
@click.option("--committed", is_flag=True,
              help="Compare commits only (BASE...HEAD), ignoring uncommitted and untracked files.")
@opt.fill_help
def changed_entries(base: str, committed: bool) -> None:
    """Print the ids of the entries added or edited since BASE, one per line.

    Refuses (exit 1, nothing printed) when `check --changed-against BASE` would fail: the
    changes break the pull-request policy or a changed submission has errors. The GPU
    validation measures what this prints, so a refused pull request is never measured.

    Exit codes: {exit_ok} ids printed (none when nothing changed); {exit_failed} refused, the
    reasons on stderr; {exit_usage} bad usage.
    """
    from leaderboard.policy import check_pull_request
    from leaderboard.timm_catalog import load_catalog

    result = check_pull_request(base, Path("."), committed_only=committed,
                                known_architectures=load_catalog().architectures)
    if result.errors:
        opt.echo_problems(result.errors, all_warnings=True)
        raise LeaderboardError(f"{len(result.errors)} error(s) in the changes against {base}; "
                               "nothing to measure")
    for entry_id in result.policy.entries:
        click.echo(log_safe(entry_id))


@cli.command("new")
@click.argument("entry_id", metavar="ARCH.TAG[-IMG_SIZE]")
@click.option("--repo", default=None, metavar="OWNER/NAME",
              help="Hub repo of your weights [default: timm's repo for this tag].")
@click.option("--revision", default=None, metavar="SHA",
              help="Pin by hand: the repo's full 40-hex commit (the Hub is not asked).")
@click.option("--filename", default=None, help="With --revision: the weights file in the repo.")
@click.option("--offline", is_flag=True, help="Do not ask the Hub; write the pin for you to fill.")
@opt.submissions_option("The submissions folder the entry is written into.")
def new(entry_id: str, repo: str | None, revision: str | None, filename: str | None,
        offline: bool, submissions_dir: Path) -> None:
    """Start submissions/<id>/submission.yaml from timm's catalog; leave claims and name to you.

    Eval settings, family, licence and compute come from the catalog (leaderboard.new_entry);
    weights are pinned to the Hub repo's current commit, or it says how to pin them by hand.
    """
    from leaderboard.new_entry import create_entry, result_lines

    result = create_entry(entry_id, submissions_dir, repo=repo, revision=revision,
                          filename=filename, offline=offline)
    click.echo("\n".join(result_lines(result)))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of a submission (for editors and CI)."""
    from leaderboard.submission import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@cli.command("import-timm")
@click.argument("results_csv", type=click.Path(path_type=Path))
@click.option("--benchmark", "benchmark_csv", type=click.Path(path_type=Path), default=None,
              help="timm inference benchmark CSV to join params/GMACs from.")
@opt.submissions_option("The submissions folder the entries are written into.")
@click.option("--commit", default=None, help="timm commit the CSV comes from (40 hex).")
def import_timm_command(results_csv: Path, benchmark_csv: Path | None, submissions_dir: Path,
                        commit: str | None) -> None:
    """Turn timm's results-imagenet.csv into submissions (idempotent)."""
    from leaderboard.import_timm import TIMM_RESULTS_COMMIT, import_timm

    summary = import_timm(results_csv, submissions_dir, benchmark_csv,
                          commit or TIMM_RESULTS_COMMIT)
    click.echo(f"imported {results_csv}: {len(summary.created)} created, "
               f"{len(summary.updated)} updated, {len(summary.unchanged)} unchanged")


@cli.command("timm-catalog")
@click.option("--missing", is_flag=True,
              help="List the pretrained tags that have no entry under --submissions yet (needs "
                   "a clone), with family, input size, GMACs and timm's top-1.")
@click.option("--sort", "sort_key", type=click.Choice(["name", "gmacs", "top1"]), default="name",
              show_default=True, help="With --missing: gmacs cheapest first, top1 best first; "
                                      "unknown figures last.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="With --missing: a table, or the same rows as JSON.")
@opt.submissions_option("With --missing: the entries to compare the catalog with.")
@click.option("--write", "write_path", type=click.Path(path_type=Path), default=None,
              help="Regenerate the shipped catalog file from the installed timm.")
@click.option("--write-gmacs", "gmacs_path", type=click.Path(path_type=Path), default=None,
              help="Regenerate the shipped GMACs file from timm's --benchmark CSV.")
@click.option("--benchmark", "benchmark_csv", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="With --write-gmacs: timm's results/benchmark-infer-*.csv.")
@opt.fill_help
def timm_catalog(missing: bool, sort_key: str, output_format: str, submissions_dir: Path,
                 write_path: Path | None, gmacs_path: Path | None, benchmark_csv: Path | None) -> None:
    """Show (or regenerate) the timm model catalog used by `check`; --missing: what to submit next.

    Exit codes: {exit_ok} done; {exit_failed} an error (no timm for --write, an unreadable CSV);
    {exit_usage} bad usage (no submissions folder for --missing).

    \b
    Examples:
      leaderboard timm-catalog --missing --sort gmacs | head
      leaderboard timm-catalog --missing --format json > missing.json
    """
    from leaderboard.timm_catalog import load_catalog, write_catalog

    if write_path:
        write_catalog(write_path)
        click.echo(f"wrote {write_path}")
        return
    if gmacs_path or benchmark_csv:
        from leaderboard.catalog_missing import write_benchmark_gmacs
        from leaderboard.errors import UsageError
        from leaderboard.import_timm import TIMM_REPOSITORY, TIMM_RESULTS_COMMIT

        if not (gmacs_path and benchmark_csv):
            raise UsageError("--write-gmacs FILE and --benchmark CSV go together")
        count = write_benchmark_gmacs(benchmark_csv, gmacs_path,
                                     f"{TIMM_REPOSITORY}@{TIMM_RESULTS_COMMIT} results/"
                                     f"{benchmark_csv.name} (Apache-2.0): infer_gmacs by model "
                                     "and infer_img_size")
        click.echo(f"wrote {gmacs_path}: GMACs of {count} network(s) and input size(s)")
        return
    catalog = load_catalog()
    if missing:
        from leaderboard.catalog_missing import (
            load_benchmark_gmacs,
            missing_json,
            missing_tags,
            missing_text,
            submitted_facts,
        )

        rows = missing_tags(catalog, submitted_facts(submissions_dir), load_benchmark_gmacs(),
                            sort=sort_key)
        render = missing_json if output_format == "json" else missing_text
        click.echo(render(rows, len(catalog.pretrained), catalog.timm_version))
        return
    click.echo(f"timm {catalog.timm_version}: {len(catalog.architectures)} architectures, "
               f"{len(catalog.pretrained)} pretrained tags (`--missing` lists those without an entry)")


@cli.command()
@opt.submissions_option("The submissions folder with the entries and their records.")
@click.option("--site-source", default=DEFAULT_SITE_SOURCE, show_default=True,
              type=click.Path(path_type=Path), help="mkdocs project with hand-written pages.")
@opt.site_output_option("Where the static site is written.")
@opt.allow_synthetic_option
@click.option("--force", is_flag=True, help="Replace --output even if it is not a previous build.")
@opt.quiet_option
@opt.fill_help
def build(submissions_dir: Path, site_source: Path, output: Path, allow_synthetic: bool, force: bool,
          quiet: bool) -> None:
    """Build the static site from submissions and measurement records.

    Without LEADERBOARD_SITE_URL (or site_url in mkdocs.yml) it warns that badge and label
    snippets get relative links: expected for a local preview, set it for a published site.

    Exit codes: {exit_ok} built; {exit_failed} invalid or synthetic data, or mkdocs refused the
    site (nothing is replaced); {exit_usage} bad usage.
    """
    from leaderboard.policy import policy_table
    from leaderboard.progress import progress_for
    from leaderboard.site.build import BUILD_STAGES, build_site

    with progress_for("build", len(BUILD_STAGES), quiet=quiet, unit="stage") as progress:
        result = build_site(submissions_dir, site_source, output, allow_synthetic=allow_synthetic,
                            policy_rows=policy_table(), force=force, progress=progress)
    from leaderboard.data_version import data_version

    click.echo(f"built {result.pages} pages for {result.entries} entries "
               f"({result.measured} measured) into {output} in {result.seconds:.1f} s; "
               f"data version {data_version(submissions_dir).label}")


@cli.command()
@opt.site_output_option("A built site (see `leaderboard build`).")
@click.option("--port", default=8000, show_default=True, type=int,
              help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default is reachable from this machine only).")
def serve(output: Path, port: int, host: str) -> None:
    """Serve a built site for local browsing."""
    from leaderboard.site.serve import serve_directory

    if not (output / "index.html").is_file():
        raise LeaderboardError(f"{output}: no built site here; run `leaderboard build` first")
    try:
        serve_directory(output, host, port)
    except OSError as exc:  # a busy port, or an address this machine does not have
        raise LeaderboardError(f"cannot serve on {host}:{port}: {exc.strerror or exc}; try --port") from exc


@cli.command()
@opt.submissions_option()
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@opt.allow_synthetic_option
def findings(submissions_dir: Path, as_json: bool, allow_synthetic: bool) -> None:
    """Print the Findings page's numbers from the records: fits, correlations, batching, frontier.

    The same code computes the page at `leaderboard build`, so every number here is the one the
    page shows (and downloads/findings.json holds). With too few measured entries each finding
    says how many are missing.
    """
    from leaderboard.boards import load_boards
    from leaderboard.findings.from_boards import board_findings
    from leaderboard.findings.text import findings_text

    found = board_findings(load_boards(submissions_dir, allow_synthetic=allow_synthetic))
    click.echo(found.to_json() if as_json else findings_text(found), nl=not as_json)


# --- Pull requests: the validator's comment (leaderboard.report)


@cli.command()
@click.option("--records", "records_path", required=True,
              type=click.Path(path_type=Path, exists=True),
              help="The validator's records: an archive from `records export`, or a folder of "
                   "<id>/measurements/<hardware>--<scenario>.json.")
@click.option("--pr-entries", "pr_entries", multiple=True, required=True, metavar="IDS",
              help="Entries the pull request adds or edits (space- or comma-separated; repeatable).")
@opt.submissions_option("Trusted submissions (the default branch): the boards the records are "
                    "scored on.")
@click.option("--pr-submissions", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder with the pull request's <id>/submission.yaml files, read as data "
                   "[default: --submissions].")
@click.option("--pr-number", type=click.IntRange(min=1), default=None, help="Shown in the header.")
@click.option("--head-sha", default=None, metavar="SHA", help="The validated commit (hex).")
@click.option("--format", "output_format", default="markdown", show_default=True,
              type=click.Choice(["markdown", "json"]),
              help="markdown: the comment; json: the same content as data.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write here instead of stdout.")
@click.option("--allow-synthetic", is_flag=True,
              help="Accept records marked synthetic (test data; refused like the build refuses them).")
def report(records_path: Path, pr_entries: tuple[str, ...], submissions_dir: Path,
           pr_submissions: Path | None, pr_number: int | None, head_sha: str | None,
           output_format: str, output: Path | None, allow_synthetic: bool) -> None:
    """Render the pull-request comment: claims vs measured, tier, cheaper alternative, warnings.

    Records are read as data (the archive's safe reader, schema-validated) and scored against
    the boards of --submissions plus the pull request's entries. The Markdown starts with a
    hidden marker (<!-- leaderboard-report -->) so a workflow updates one comment.
    """
    from leaderboard.records import atomic_write_text
    from leaderboard.report import build_report, render_report

    result = build_report(records_path, submissions_dir, pr_entries, pr_submissions=pr_submissions,
                          pr_number=pr_number, head_sha=head_sha, allow_synthetic=allow_synthetic)
    text = render_report(result, output_format)
    if output:
        atomic_write_text(output, text)  # a workflow posts this file: never a torn one
    else:
        click.echo(text, nl=False)
    boards = sum(len(e.boards) for e in result.entries)
    click.echo(f"report: {len(result.entries)} entr{'y' if len(result.entries) == 1 else 'ies'}, "
               f"{boards} record(s), {len(result.refused)} refused member(s)", err=True)


# --- Validator sweeps and record archives (leaderboard.measure.campaign, leaderboard.records_archive)


@cli.command()
@opt.entry_selection("Measure")
@click.option("--scenario", "scenarios", multiple=True, default=(HEADLINE_SCENARIO,),
              show_default=True, type=click.Choice(SCENARIOS),
              help=", ".join(f"{s} = batch {SCENARIO_BATCH_SIZE[s]}" for s in SCENARIOS)
              + "; repeat for both.")
@opt.device_option
@opt.campaign_run_options
@opt.weights_options
@click.option("--timeout-per-model", "timeout_per_model_s", default=900.0, show_default=True,
              type=click.FloatRange(min=1.0), metavar="SECONDS",
              help="Seconds before a model's worker is killed.")
@click.option("--log-dir", type=click.Path(path_type=Path), default=None,
              help="Keep each worker's output as LOG_DIR/<id>--<scenario>.log.")
@opt.protocol_options
@opt.submissions_option()
@opt.quiet_option
@opt.fill_help
def measure(entries: tuple[str, ...], all_entries: bool, shard: str | None,
            scenarios: tuple[str, ...], device: str, resume: bool, force: bool,
            time_budget: str | None, weights_mode: str, weights_dir: Path | None,
            timeout_per_model_s: float, log_dir: Path | None, protocol: str, order: str,
            probe_file: Path | None, meter: str | None, reference_s: float,
            submissions_dir: Path, quiet: bool) -> None:
    """Measure energy per image of entries (ids or globs such as 'resnet*', or --all).

    v1 runs each entry and scenario in its own worker, v2 all in one long-lived worker: a crash
    costs one model (an error record) and the sweep goes on. Records go to
    submissions/<id>/measurements/<hardware>--<scenario>.json; an unchanged entry is skipped
    unless --force.

    Exit codes: {exit_ok} all measured (or skipped); {exit_failed} some models failed (error records
    written); {exit_usage} bad usage; {exit_no_meter} no usable energy meter (no NVIDIA driver / NVML),
    nothing measured; {exit_terminated} SIGTERM (workers killed first).

    \b
    Examples:
      leaderboard measure resnet50.a1_in1k
      leaderboard measure 'resnet*' --scenario offline --scenario single-stream
      leaderboard measure --all --shard 2/8 --resume --time-budget 5h30m
    """
    from leaderboard.errors import UsageError
    from leaderboard.measure.campaign import order_entries, parse_duration_s, run_campaign
    from leaderboard.measure.meters import MeterUnavailable

    ids = order_entries(submissions_dir, opt.selected_ids(submissions_dir, entries, all_entries, shard),
                        order)
    budget_s = parse_duration_s(time_budget) if time_budget else None
    if len(set(scenarios)) != len(scenarios):
        raise UsageError("each --scenario may be given once")
    from leaderboard.progress import TaskLineStream, progress_for

    # The campaign logs `[i/N] ...` lines (right for logs); on a terminal they drive a bar.
    with progress_for("measure", len(ids) * len(scenarios), quiet=quiet, unit="task") as bar:
        summary = run_campaign(ids, submissions_dir, scenarios=scenarios, device=device,
                               force=force, weights_mode=weights_mode, resume=resume,
                               time_budget_s=budget_s, timeout_per_model_s=timeout_per_model_s,
                               weights_dir=weights_dir, log_dir=log_dir, protocol=protocol[1:],
                               probe_file=probe_file, meter=meter, reference_s=reference_s,
                               progress=not quiet, stream=TaskLineStream(bar))
    if summary.terminated or (summary.stopped and summary.results):
        click.echo(summary.format_summary())
    if summary.terminated:  # SIGTERM (a lease's budget): workers killed, no record pending
        raise SystemExit(EXIT_TERMINATED)
    if summary.stopped:
        done = (f"{len(summary.results)} task(s) done, {summary.not_started} not run"
                if summary.results else "nothing was measured (energy is never reported as 0 J)")
        raise MeterUnavailable(f"cannot measure on {device}: {summary.stopped}\n{done}")
    click.echo(summary.format_summary())
    if summary.errors:
        raise LeaderboardError(f"{len(summary.errors)} of {summary.planned} task(s) failed; "
                               "their error records say why")


@cli.group()
def records() -> None:
    """Move measurement records between machines as one .tar.gz."""


@records.command("export")
@click.argument("archive", type=click.Path(path_type=Path))
@click.argument("ids", nargs=-1)
@opt.submissions_option()
@click.option("--skip-invalid", is_flag=True,
              help="Leave out (and list) records that import would refuse, instead of refusing "
                   "the export.")
def records_export(archive: Path, ids: tuple[str, ...], submissions_dir: Path,
                   skip_invalid: bool) -> None:
    """Pack every record (or those of IDS) into ARCHIVE (.tar.gz) with a sha256 manifest.

    The same records always give the same bytes (sorted members, fixed mtimes).
    """
    import hashlib

    from leaderboard.records_archive import export_records, export_valid_records

    if skip_invalid:
        result = export_valid_records(submissions_dir, archive, list(ids) or None)
        for line in result.skipped:
            click.echo(f"left out: {log_safe(line)}", err=True)
        count = result.count
    else:
        count = export_records(submissions_dir, archive, list(ids) or None)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    click.echo(f"exported {count} record(s) to {archive} (sha256 {digest})")


@records.command("import")
@click.argument("archive", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@opt.submissions_option()
@click.option("--overwrite", is_flag=True,
              help="Replace existing records whose content differs (never with an older one).")
@click.option("--allow-synthetic", is_flag=True,
              help="Take records marked synthetic (test trees only; the published build refuses them).")
@opt.quiet_option
@opt.fill_help
def records_import(archive: Path, submissions_dir: Path, overwrite: bool, allow_synthetic: bool,
                   quiet: bool) -> None:
    """Check every record in ARCHIVE and write them all, or nothing if any is refused.

    Members must be regular files at <id>/measurements/<hardware>--<scenario>.json (no links,
    no '..', at most 1 MiB), valid records matching their path, for existing entries, with
    the sha256 the manifest lists.

    Exit codes: {exit_ok} imported (or nothing to do); {exit_failed} a member refused (nothing
    written) or the archive unreadable; {exit_usage} bad usage.
    """
    from leaderboard.progress import progress_for
    from leaderboard.records_archive import import_records

    with progress_for("records import: checked", quiet=quiet, unit="record") as progress:
        result = import_records(archive, submissions_dir, overwrite=overwrite,
                                on_wait=lambda message: click.echo(log_safe(message), err=True),
                                allow_synthetic=allow_synthetic, progress=progress)
    for member, reason in result.refused:
        click.echo(f"{archive}: {log_safe(member)}: refused: {log_safe(reason)}", err=True)
    if result.refused:
        raise LeaderboardError(f"{archive}: {len(result.refused)} member(s) refused; nothing was "
                               "written")
    for name, old_time, new_time in result.replaced:
        click.echo(f"replaced: {log_safe(name)}: {old_time} -> {new_time}")
    click.echo(f"imported {archive}: {len(result.created)} created, {len(result.updated)} "
               f"updated, {len(result.unchanged)} unchanged")


@records.command("merge")
@click.argument("archives", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True, dir_okay=False))
@opt.submissions_option()
@click.option("--allow-synthetic", is_flag=True,
              help="Take records marked synthetic (test trees only; the published build refuses them).")
def records_merge(archives: tuple[Path, ...], submissions_dir: Path, allow_synthetic: bool) -> None:
    """Merge ARCHIVES (a sweep's shards): per record, the newest measured_at wins.

    Every archive is checked as `records import` checks one. Identical records are unchanged;
    two different records with the same time are a conflict and nothing is written. Every
    replacement is printed (entry, board, old and new time), and so are archives that share
    records (overlapping shards).
    """
    from leaderboard.records_merge import merge_records

    result = merge_records(list(archives), submissions_dir,
                           on_wait=lambda message: click.echo(log_safe(message), err=True),
                           allow_synthetic=allow_synthetic)
    for first, second, shared in result.overlaps:
        click.echo(f"overlap: {log_safe(first)} and {log_safe(second)} share {len(shared)} "
                   f"record(s), e.g. {log_safe(shared[0])}; were the shards planned with the "
                   "same count?", err=True)
    for member, reason in result.refused:
        click.echo(f"{log_safe(member)}: refused: {log_safe(reason)}", err=True)
    for name, versions in result.conflicts:
        click.echo(f"{log_safe(name)}: conflict: different records with the same measured_at "
                   f"{versions[0].measured_at.isoformat()} in "
                   f"{', '.join(log_safe(v.source) for v in versions)}", err=True)
    if not result.written:
        raise LeaderboardError(f"{len(result.refused)} refused, {len(result.conflicts)} "
                               "conflict(s); nothing was written")
    for replacement in result.replaced:
        click.echo(f"replaced: {log_safe(replacement.describe())}")
    for replacement in result.kept_newer:
        click.echo(f"kept the newer: {log_safe(replacement.describe())}")
    updated = sum(r.old.source == "tree" for r in result.replaced)
    click.echo(f"merged {len(archives)} archive(s) into {submissions_dir}: {len(result.created)} "
               f"created, {updated} updated, {len(result.unchanged)} unchanged; "
               f"{len(result.replaced) - updated + len(result.kept_newer)} older cop"
               f"{'y' if len(result.replaced) - updated + len(result.kept_newer) == 1 else 'ies'} "
               "not used")


# --- Accuracy validation (leaderboard.measure.accuracy, .weights, .imagenet)


@cli.command("validate-accuracy")
@click.argument("entry_id", metavar="ID")
@click.option("--imagenet", "imagenet_root", envvar="LEADERBOARD_IMAGENET", required=True,
              type=click.Path(path_type=Path, file_okay=False),
              help="ImageNet-1k val folder: ImageFolder layout (<synset>/<image>) or flat with a "
                   "labels file [env: LEADERBOARD_IMAGENET].")
@click.option("--labels", "labels_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Flat layout: lines '<file> <label>' or one label per sorted file; a label is a "
                   "class index or a synset [default: <imagenet>/labels.txt].")
@click.option("--per-class", type=click.IntRange(min=1), default=None, metavar="N",
              help="Quick check: the first N images of each class; reports a 95% CI, never verifies.")
@click.option("--expect-images", type=click.IntRange(min=0), default=50_000, show_default=True,
              help="Images in a full set; a folder with another count only reports a subset. "
                   "0 takes any folder as the full set (small local test sets).")
@click.option("--weights", "weights_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="A local weights file (checked against a pinned url.sha256).")
@click.option("--weights-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder with <id>.safetensors (or .pth/.bin/.pt) files.")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Download cache keyed by sha256 [default: $LEADERBOARD_CACHE/weights or "
                   "~/.cache/leaderboard/weights].")
@click.option("--offline", is_flag=True,
              help="Do not contact the Hugging Face Hub: use its local cache (like HF_HUB_OFFLINE=1).")
@opt.device_option
@click.option("--path", "eval_path", default="auto", show_default=True,
              type=click.Choice(["auto", "gpu", "cpu"]),
              help="gpu: decode and resize on the device; cpu: timm's PIL transform in loader "
                   "workers; auto: gpu on CUDA when the transform allows it.")
@opt.batch_size_option("Images per batch.")
@click.option("--workers", default=None, type=click.IntRange(min=0),
              help="Reader threads (gpu path) or loader processes (cpu path) [default: cores, <= 16].")
@click.option("--hardware", default=None, metavar="SLUG",
              help="Board whose record gets the accuracy [default: from the device's name].")
@click.option("--scenario", default=HEADLINE_SCENARIO, show_default=True,
              type=click.Choice(SCENARIOS),
              help="Board whose record gets the accuracy: offline (batch 256) or single-stream.")
@opt.submissions_option()
@opt.fill_help
def validate_accuracy_command(entry_id: str, imagenet_root: Path, labels_file: Path | None,
                              per_class: int | None, expect_images: int, weights_file: Path | None,
                              weights_dir: Path | None, cache_dir: Path | None, offline: bool,
                              device: str, eval_path: str, batch_size: int, workers: int | None,
                              hardware: str | None, scenario: str, submissions_dir: Path) -> None:
    """Re-measure an entry's ImageNet top-1/top-5 and write the verdict into its record.

    Weights come from the submission's pinned reference (Hub commit or URL + sha256; digest
    checked before loading, safetensors first, pickles only through torch's weights_only
    loader), from --weights or from --weights-dir. The accuracy block is added to
    submissions/<id>/measurements/<hardware>--<scenario>.json, keeping an energy record that
    is there. Verified when top-1 is within {tolerance} points of the claim, else rejected.

    Exit codes: {exit_ok} verified or subset; {exit_failed} rejected (record written) or any error.

    \b
    Examples:
      LEADERBOARD_IMAGENET=/data/imagenet/val leaderboard validate-accuracy resnet50.a1_in1k
      leaderboard validate-accuracy resnet50.a1_in1k --imagenet /data/val --per-class 5
      leaderboard validate-accuracy my.entry --imagenet ./tiny --expect-images 0 \\
          --weights-dir ./weights --device cpu
    """
    from leaderboard.measure.accuracy import validate_accuracy
    from leaderboard.submission import load_valid_submission

    submission = load_valid_submission(submissions_dir, entry_id)

    def progress(done: int, total: int) -> None:
        if done == total or done % (batch_size * 20) < batch_size:
            click.echo(f"  {done:,}/{total:,} images", err=True)

    outcome = validate_accuracy(
        submission, submissions_dir, imagenet_root, labels_file=labels_file, per_class=per_class,
        expected_images=expect_images or None, device=device, path=eval_path,
        batch_size=batch_size, workers=workers, weights_file=weights_file, weights_dir=weights_dir,
        cache_dir=cache_dir, local_files_only=offline, hardware=hardware, scenario=scenario,
        progress=progress)
    result, measured = outcome.result, outcome.measurement
    click.echo(f"{entry_id}: top-1 {result.top1:.3f} %, top-5 {result.top5:.3f} % on "
               f"{result.images:,} images ({outcome.dataset.layout} layout, {measured.path} path on "
               f"{measured.device}, {measured.precision}, {measured.elapsed_s:.1f} s, "
               f"{measured.images_per_s:,.0f} images/s)")
    prep = result.preprocessing
    if prep is not None:
        click.echo(f"preprocessing: {prep.img_size} px, crop_pct {prep.crop_pct:g} ({prep.crop_mode}), "
                   f"{prep.interpolation}, mean {prep.mean}, std {prep.std}")
    click.echo(f"dataset: {result.dataset_fingerprint}")
    click.echo(outcome.message)
    if outcome.written:
        click.echo(f"{'updated' if outcome.updated else 'wrote'} {outcome.path}")
    if result.verdict == "rejected":
        raise LeaderboardError(f"{entry_id}: accuracy claim rejected (the record says so)")


# --- Where the energy goes (leaderboard.measure.profile, .sweep)


@cli.command()
@opt.entry_selection("Profile")
@opt.device_option
@click.option("--precision", default=None, type=click.Choice(PRECISIONS),
              help="Default: the headline's (fp16 on CUDA, fp32 on CPU).")
@opt.batch_size_option("Images per batch of the profiled workload.")
@click.option("--ablate", default="activation,normalisation", show_default=True,
              help="Layer types to check by replacing them with identity ('' for none).")
@click.option("--profiled-batches", default=5, show_default=True, type=click.IntRange(min=1),
              help="Batches recorded by torch.profiler (more averages out launch noise).")
@click.option("--force", is_flag=True, help="Profile entries that already have a profile here.")
@opt.time_budget_option
@opt.weights_options
@opt.submissions_option()
@opt.fill_help
def profile(entries: tuple[str, ...], all_entries: bool, shard: str | None, device: str,
            precision: str | None, batch_size: int, ablate: str, profiled_batches: int, force: bool,
            time_budget: str | None, weights_mode: str, weights_dir: Path | None,
            submissions_dir: Path) -> None:
    """Attribute each entry's measured energy per image to layer types, and check it.

    Measures the headline workload with protocol v1, records a few batches with torch.profiler
    and splits the energy by GPU kernel time across convolution, linear, attention,
    normalisation, activation, pooling and other (assumption: equal power across kernels).
    Then replaces each --ablate type with identity, measures real energy again and records the
    saving beside the one the attribution predicts. Writes
    submissions/<id>/measurements/profile/<hardware>.json.

    Entries run through measure's task loop: an entry with a readable profile here is resumed
    (--force profiles it again), no entry starts past --time-budget, each line ends with an
    ETA, one entry's failure is reported and the others go on.

    Exit codes: {exit_ok} all profiled; {exit_failed} some failed; {exit_usage} bad usage;
    {exit_no_meter} no energy meter; {exit_terminated} SIGTERM (records written so far kept).

    \b
    Examples:
      leaderboard profile resnet50.a1_in1k vit_base_patch16_224.augreg2_in21k_ft_in1k
      leaderboard profile --all --shard 1/4 --ablate ''
    """
    from leaderboard.breakdown_runs import profile_entries
    from leaderboard.measure.selection import parse_duration_s

    ids = opt.selected_ids(submissions_dir, entries, all_entries, shard)
    budget_s = parse_duration_s(time_budget) if time_budget else None
    profile_entries(ids, submissions_dir, device=device, precision=precision,
                    batch_size=batch_size, ablate=ablate, profiled_batches=profiled_batches,
                    force=force, weights_mode=weights_mode, weights_dir=weights_dir,
                    progress=lambda line: click.echo(line, err=True), result=click.echo,
                    time_budget_s=budget_s)


@cli.command()
@opt.entry_selection("Sweep")
@opt.device_option
@click.option("--variants", default=None, metavar="SLUGS",
              help="Comma-separated subset, e.g. fp32-b256,fp16-b1 [default: all 11].")
@click.option("--imagenet", "imagenet_root", type=click.Path(path_type=Path, file_okay=False),
              default=None, envvar="LEADERBOARD_IMAGENET",
              help="Also measure top-1 at each precision on ImageNet val (pretrained weights).")
@click.option("--per-class", type=click.IntRange(min=1), default=10, show_default=True,
              help="Images per class for that accuracy check.")
@click.option("--force", is_flag=True, help="Measure variants that already have a good record.")
@opt.time_budget_option
@opt.weights_options
@opt.submissions_option()
@opt.fill_help
def sweep(entries: tuple[str, ...], all_entries: bool, shard: str | None, device: str,
          variants: str | None, imagenet_root: Path | None, per_class: int, force: bool,
          time_budget: str | None, weights_mode: str, weights_dir: Path | None,
          submissions_dir: Path) -> None:
    """Measure J/image under each switch: precision, batch size, channels-last, torch.compile.

    One switch at a time from the headline workload ({headline_precision}, batch {offline_batch},
    NCHW, eager): fp32, tf32, bf16; batch 1, 8, 32, 64, 128; channels-last; torch.compile. Each
    variant is written to submissions/<id>/measurements/sweep/<hardware>--<variant>.json as soon
    as it is measured;
    variants with a good record are skipped unless --force, so a stopped sweep resumes. Entries
    run through measure's task loop (--time-budget, ETA, one entry's failure reported).

    Exit codes: {exit_ok} all measured; {exit_failed} some variants failed (their records say why);
    {exit_no_meter} no meter; {exit_terminated} SIGTERM (records written so far kept).

    \b
    Examples:
      leaderboard sweep resnet50.a1_in1k
      leaderboard sweep 'convnext*' --variants fp32-b256,bf16-b256 --weights-mode pretrained \\
          --weights-dir ./weights --imagenet /data/imagenet/val
    """
    from leaderboard.breakdown_runs import sweep_entries
    from leaderboard.measure.selection import parse_duration_s

    ids = opt.selected_ids(submissions_dir, entries, all_entries, shard)
    budget_s = parse_duration_s(time_budget) if time_budget else None
    sweep_entries(ids, submissions_dir, device=device, variants=variants,
                  imagenet_root=imagenet_root, per_class=per_class, force=force,
                  weights_mode=weights_mode, weights_dir=weights_dir,
                  progress=lambda line: click.echo(line, err=True), result=click.echo,
                  time_budget_s=budget_s)


# Last, after every command is defined: a command without its own exit codes gets the
# generic ones in its --help.
opt.document_exit_codes(cli)


def main() -> None:
    """Entry point: run the CLI and turn library errors into a message and an exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_ABORTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ProblemsFound as exc:
        for problem in exc.problems:
            click.echo(problem.format(), err=True)
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except LeaderboardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (ModuleNotFoundError, BrokenPipeError) as exc:
        from leaderboard.expected_failures import exit_for  # a missing extra, a closed pipe

        sys.exit(exit_for(exc))
    except SystemExit:
        raise
