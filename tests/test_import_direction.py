"""The package's imports follow the data's one-way flow, and `build` never imports torch.

submission.yaml -> (validator) -> records -> (scoring, boards) -> findings -> pages / report.
Each part of the package may import only the parts upstream of it; the CLI, at the end, may
import anything. The rules are read from the source (every ``import``, also those inside
functions), so a lazy import that goes the wrong way fails here too.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "leaderboard"

# atomic (crash-safe writes), log_escape (escaping for logs), data_version (date + commit of the
# data), expected_failures (one-line errors) and progress (bar or lines on stderr) are tools
# every part may use.
WORDS = {"leaderboard", "leaderboard.vocabulary", "leaderboard.errors", "leaderboard.atomic",
         "leaderboard.log_escape", "leaderboard.data_version", "leaderboard.expected_failures",
         "leaderboard.progress"}
INPUTS = {"leaderboard.safe_yaml", "leaderboard.timm_catalog", "leaderboard.submission",
          "leaderboard.records", "leaderboard.analysis_records", "leaderboard.records_archive",
          "leaderboard.records_pack", "leaderboard.record_rules", "leaderboard.gpu_peaks",
          "leaderboard.records_merge",
          "leaderboard.weights_url",
          "leaderboard.import_timm", "leaderboard.check", "leaderboard.policy",
          "leaderboard.testing", "leaderboard.new_entry", "leaderboard.catalog_missing"}
VALIDATOR = {"leaderboard.measure", "leaderboard.breakdown_runs"}

# part -> the parts it may import (besides itself), in the order the data flows
ALLOWED: dict[str, set[str]] = {
    **{part: WORDS for part in WORDS},
    **{part: WORDS | INPUTS for part in INPUTS},
    **{part: WORDS | INPUTS | VALIDATOR for part in VALIDATOR},
    "leaderboard.scoring": WORDS,
    "leaderboard.boards": WORDS | INPUTS | {"leaderboard.scoring"},
    "leaderboard.findings": WORDS | {"leaderboard.scoring", "leaderboard.boards"},
    # the two outputs read boards; neither reads the other, the validator or (site) the policy
    "leaderboard.report": WORDS | INPUTS | {"leaderboard.scoring", "leaderboard.boards"},
    "leaderboard.site": WORDS | {"leaderboard.safe_yaml", "leaderboard.timm_catalog",
                                 "leaderboard.submission", "leaderboard.records",
                                 "leaderboard.record_rules",  # the floor on the Methodology page
                                 "leaderboard.gpu_peaks",  # and its datasheet figures
                                 "leaderboard.analysis_records", "leaderboard.scoring",
                                 "leaderboard.boards", "leaderboard.findings"},
}
# the command line may import anything
ENDS = {"leaderboard.cli", "leaderboard.cli_options", "leaderboard.__main__",
        "leaderboard.check_command", "leaderboard.check_output"}


def part_of(module: str) -> str:
    """``leaderboard.site.pages.home`` -> ``leaderboard.site``: the unit the rules name."""
    return ".".join(module.split(".")[:2])


def module_name(path: Path) -> str:
    """The dotted module name of a file under the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports() -> list[tuple[str, str, str]]:
    """(importing part, imported part, file:line) for every import of the package by itself."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target == "leaderboard" or target.startswith("leaderboard."):
                    where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                    found.append((part_of(module), part_of(target), where))
    return found


def violations(imports: list[tuple[str, str, str]]) -> list[str]:
    """Each import that goes against the flow, or from a part the rules do not know."""
    wrong = []
    for importer, imported, where in imports:
        if importer == imported or importer in ENDS:
            continue
        if importer not in ALLOWED:
            wrong.append(f"{where}: {importer} is not in the import rules; add it to ALLOWED")
        elif imported not in ALLOWED[importer]:
            wrong.append(f"{where}: {importer} imports {imported}, which is downstream of it "
                         "or beside it")
    return wrong


def test_the_package_imports_only_upstream() -> None:
    imports = package_imports()
    assert len(imports) > 100  # the walk saw the package
    assert violations(imports) == []


def test_the_rules_catch_a_backward_import() -> None:
    # the cycle this structure removed: the report read scored boards from the site
    assert violations([("leaderboard.report", "leaderboard.site", "report.py:1")]) == [
        "report.py:1: leaderboard.report imports leaderboard.site, which is downstream of it "
        "or beside it"]
    assert violations([("leaderboard.site", "leaderboard.policy", "x.py:2"),
                       ("leaderboard.site", "leaderboard.measure", "x.py:3"),
                       ("leaderboard.boards", "leaderboard.findings", "x.py:4"),
                       ("leaderboard.scoring", "leaderboard.records", "x.py:5")]) != []
    assert violations([("leaderboard.newpart", "leaderboard.errors", "n.py:1")]) == [
        "n.py:1: leaderboard.newpart is not in the import rules; add it to ALLOWED"]
    assert violations([("leaderboard.cli", "leaderboard.site", "cli.py:9")]) == []


def test_only_the_cli_imports_the_site_and_the_validator() -> None:
    users = {(importer, imported) for importer, imported, _ in package_imports()
             if importer != imported}
    assert {i for i, target in users if target == "leaderboard.site"} <= ENDS
    assert {i for i, target in users if target == "leaderboard.measure"} <= ENDS | VALIDATOR


def test_the_vocabulary_imports_nothing_of_the_package() -> None:
    assert [where for importer, _, where in package_imports()
            if importer == "leaderboard.vocabulary"] == []


def test_build_runs_without_importing_torch(tmp_path: Path, site_source: Path) -> None:
    """`leaderboard build` as a process: a real site, and neither torch nor timm imported.

    PYTHONPROFILEIMPORTTIME makes Python list every module it imports on stderr.
    """
    from leaderboard.analysis_records import write_analysis_record
    from leaderboard.testing import synthetic_profile, synthetic_sweep, write_synthetic_tree

    submissions = write_synthetic_tree(tmp_path / "tree", 4)
    first = sorted(p.parent.name for p in submissions.glob("*/submission.yaml"))[0]
    write_analysis_record(submissions, synthetic_profile(first, 0.1))  # the Energy page's code
    write_analysis_record(submissions, synthetic_sweep(first, 0.1)[0])
    output = tmp_path / "site"
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1",
           "PYTHONPATH": str(PACKAGE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", "from leaderboard.cli import main; main()", "build",
         "--submissions", str(submissions), "--site-source", str(site_source),
         "--output", str(output), "--allow-synthetic"],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("built ") and (output / "index.html").is_file()
    assert (output / "energy.html").is_file()
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert {"leaderboard.site.build", "leaderboard.boards", "mkdocs"} <= imported
    assert sorted(m for m in imported if m.split(".")[0] in {"torch", "timm"}) == []
