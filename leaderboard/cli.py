"""The `leaderboard` command: parse arguments, call one library function, map errors to exits.

Heavy imports (pandas, altair, mkdocs, torch) happen inside commands so `leaderboard check`
stays fast and never imports torch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from leaderboard import __version__
from leaderboard.errors import LeaderboardError, ProblemsFound

DEFAULT_SUBMISSIONS = Path("submissions")
DEFAULT_SITE_SOURCE = Path("site")
DEFAULT_OUTPUT = Path("build/site")
MAX_WARNINGS_SHOWN = 5


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leaderboard")
def cli() -> None:
    """ImageNet classifiers ranked by inference energy per image, beside their accuracy."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--submissions", "submissions_dir", default=DEFAULT_SUBMISSIONS, show_default=True,
              type=click.Path(path_type=Path), help="The submissions folder.")
@click.option("--all-warnings", is_flag=True, help="List every warning, not the first few.")
def check(paths: tuple[Path, ...], submissions_dir: Path, all_warnings: bool) -> None:
    """Check submission files (all, or PATHS) and report every problem at once.

    Exits 1 when any error is found. Warnings (such as imported entries whose weights are
    not pinned yet) are reported but do not fail the check.
    """
    from leaderboard.check import check_paths
    from leaderboard.timm_catalog import load_catalog

    report = check_paths(list(paths), submissions_dir, check_records=not paths)
    for problem in report.errors:
        click.echo(problem.format(), err=True)
    shown_warnings = report.warnings if all_warnings else report.warnings[:MAX_WARNINGS_SHOWN]
    for problem in shown_warnings:
        click.echo(problem.format(), err=True)
    if len(shown_warnings) < len(report.warnings):
        click.echo(f"... and {len(report.warnings) - len(shown_warnings)} more warning(s); "
                   "--all-warnings lists them", err=True)
    summary = (f"checked {report.files_checked} submission(s) against timm "
               f"{load_catalog().timm_version}: {len(report.errors)} error(s), "
               f"{len(report.warnings)} warning(s)")
    if report.errors:
        click.echo(summary, err=True)
        sys.exit(1)
    click.echo(summary)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of a submission (for editors and CI)."""
    from leaderboard.submission import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@cli.command("import-timm")
@click.argument("results_csv", type=click.Path(path_type=Path))
@click.option("--benchmark", "benchmark_csv", type=click.Path(path_type=Path), default=None,
              help="timm inference benchmark CSV to join params/GMACs from.")
@click.option("--submissions", "submissions_dir", default=DEFAULT_SUBMISSIONS, show_default=True,
              type=click.Path(path_type=Path))
@click.option("--commit", default=None, help="timm commit the CSV comes from (40 hex).")
def import_timm_command(results_csv: Path, benchmark_csv: Path | None, submissions_dir: Path,
                        commit: str | None) -> None:
    """Turn timm's results-imagenet.csv into submissions (idempotent)."""
    from leaderboard.import_timm import TIMM_RESULTS_COMMIT, import_timm

    summary = import_timm(results_csv, submissions_dir, benchmark_csv,
                          commit or TIMM_RESULTS_COMMIT)
    click.echo(f"imported {results_csv}: {len(summary.created)} created, "
               f"{len(summary.updated)} updated, {len(summary.unchanged)} unchanged")


@cli.command()
@click.option("--submissions", "submissions_dir", default=DEFAULT_SUBMISSIONS, show_default=True,
              type=click.Path(path_type=Path))
@click.option("--site-source", default=DEFAULT_SITE_SOURCE, show_default=True,
              type=click.Path(path_type=Path), help="mkdocs project with hand-written pages.")
@click.option("--output", "-o", default=DEFAULT_OUTPUT, show_default=True,
              type=click.Path(path_type=Path), help="Where the static site is written.")
@click.option("--allow-synthetic", is_flag=True,
              help="Accept records marked synthetic (tests and benchmarks only).")
def build(submissions_dir: Path, site_source: Path, output: Path, allow_synthetic: bool) -> None:
    """Build the static site from submissions and measurement records."""
    from leaderboard.site.build import build_site

    result = build_site(submissions_dir, site_source, output, allow_synthetic=allow_synthetic)
    click.echo(f"built {result.pages} pages for {result.entries} entries "
               f"({result.measured} measured) into {output} in {result.seconds:.1f} s")


@cli.command()
@click.option("--output", "-o", default=DEFAULT_OUTPUT, show_default=True,
              type=click.Path(path_type=Path), help="A built site (see `leaderboard build`).")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
def serve(output: Path, port: int, host: str) -> None:
    """Serve a built site for local browsing."""
    from leaderboard.site.serve import serve_directory

    if not (output / "index.html").is_file():
        raise LeaderboardError(f"{output}: no built site here; run `leaderboard build` first")
    serve_directory(output, host, port)


@cli.command("timm-catalog")
@click.option("--write", "write_path", type=click.Path(path_type=Path), default=None,
              help="Regenerate the shipped catalog file from the installed timm.")
def timm_catalog(write_path: Path | None) -> None:
    """Show (or regenerate) the timm model catalog used by `check`."""
    from leaderboard.timm_catalog import load_catalog, write_catalog

    if write_path:
        write_catalog(write_path)
        click.echo(f"wrote {write_path}")
        return
    catalog = load_catalog()
    click.echo(f"timm {catalog.timm_version}: {len(catalog.architectures)} architectures, "
               f"{len(catalog.pretrained)} pretrained tags")


def main() -> None:
    """Entry point: run the CLI and turn library errors into a message and an exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
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
    except SystemExit:
        raise
