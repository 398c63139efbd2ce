"""`leaderboard build` never crashes on data: bad records and submissions are refused by name.

Also: the build replaces only its own output folder unless told (`--force`).
"""

from __future__ import annotations

import json
import sys

import pytest

from leaderboard.cli import main
from leaderboard.testing import write_synthetic_tree


def run_main(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["leaderboard", *[str(a) for a in args]])
    with pytest.raises(SystemExit) as exited:
        main()
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exited.value.code, out, err


@pytest.fixture
def tree(tmp_path):
    return write_synthetic_tree(tmp_path / "data", 4)


def _first_record(tree):
    return sorted(tree.glob("*/measurements/*.json"))[0]


def test_an_infinite_energy_record_is_refused_not_a_traceback(tree, tmp_path, site_source,
                                                              monkeypatch, capsys):
    record = _first_record(tree)
    record.write_text(record.read_text().replace('"gross_j_per_image": ', '"gross_j_per_image": '
                                                 'Infinity, "was": '))
    output = tmp_path / "site"
    code, _, err = run_main(monkeypatch, capsys, "build", "--submissions", tree, "--site-source",
                            site_source, "--output", output, "--allow-synthetic")
    assert code == 1
    assert f"{record}: error: not valid JSON: non-finite number Infinity" in err
    assert "Traceback" not in err and not output.exists()


def test_a_record_without_provenance_is_refused_naming_the_field(tree, tmp_path, site_source,
                                                                 monkeypatch, capsys):
    record = _first_record(tree)
    data = json.loads(record.read_text())
    data["synthetic"] = False
    data["energy"]["meter"] = "nvml-total-energy"
    record.write_text(json.dumps(data))
    code, _, err = run_main(monkeypatch, capsys, "build", "--submissions", tree, "--site-source",
                            site_source, "--output", tmp_path / "site", "--allow-synthetic")
    assert code == 1
    assert f"{record}: provenance.torch, provenance.timm, provenance.driver" in err
    assert "measured record lacks provenance" in err


def test_an_infinite_parameter_count_is_refused_with_its_line(tree, tmp_path, site_source,
                                                              monkeypatch, capsys):
    path = sorted(tree.glob("*/submission.yaml"))[0]
    text = path.read_text()
    assert "params_m: " in text
    lines = [line if not line.strip().startswith("params_m:") else "  params_m: .inf"
             for line in text.splitlines()]
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run_main(monkeypatch, capsys, "build", "--submissions", tree, "--site-source",
                            site_source, "--output", tmp_path / "site", "--allow-synthetic")
    assert code == 1
    assert f"{path}: line " in err and "'.inf' is not a finite number" in err
    assert "Traceback" not in err


def test_build_replaces_a_foreign_folder_only_with_force(tree, tmp_path, site_source,
                                                         monkeypatch, capsys):
    output = tmp_path / "docs-of-someone"
    output.mkdir()
    (output / "notes.txt").write_text("keep me\n")
    args = ["build", "--submissions", tree, "--site-source", site_source, "--output", output,
            "--allow-synthetic"]
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 1
    assert "is not empty and is not a previous build" in err and "--force" in err
    assert (output / "notes.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "docs-of-someone"]

    code, _, _ = run_main(monkeypatch, capsys, *args, "--force")
    assert code == 0 and (output / "index.html").is_file() and not (output / "notes.txt").exists()
    code, _, _ = run_main(monkeypatch, capsys, *args)  # a previous build is replaced as usual
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "docs-of-someone"]


def test_values_at_the_schema_bounds_build(tree, tmp_path, site_source, monkeypatch, capsys):
    """Finite but extreme numbers once overflowed the boards' ratios into a crash."""
    import re

    offline = sorted(tree.glob("*/measurements/*offline.json"))[:3]
    # GFLOPs as extreme as the record rules let each energy be (leaderboard.record_rules: the
    # physical floor and the throughput ceiling); the ratios still span 1e4 J .. 1e-9 J.
    for path, energy_j, gflops in zip(offline, [1e4, 1e-9, 2e-9], [1e8, 1e-5, 1e-5], strict=True):
        record = json.loads(path.read_text())
        record["energy"].update(gross_j_per_image=energy_j, ci95_high_j=energy_j, ci95_low_j=0.0,
                                idle_subtracted_j_per_image=0.0)
        record["performance"]["throughput_img_s"] = 1e9 if energy_j < 1 else 1e-6
        record.update(gflops=gflops, params_m=0.0)
        path.write_text(json.dumps(record))
    first, second = sorted(tree.glob("*/submission.yaml"))[:2]
    first.write_text(re.sub(r"params_m: .*", "params_m: 1.0e+9", first.read_text()))
    second.write_text(re.sub(r"params_m: .*", "params_m: 0.0", second.read_text()))
    code, out, err = run_main(monkeypatch, capsys, "build", "--submissions", tree, "--site-source",
                              site_source, "--output", tmp_path / "site", "--allow-synthetic")
    assert code == 0, err
    assert "built " in out


@pytest.mark.parametrize("energy_j", [1e308, 5e-324])
def test_energy_outside_the_physical_bounds_is_refused(tree, tmp_path, site_source, monkeypatch,
                                                       capsys, energy_j):
    record = _first_record(tree)
    data = json.loads(record.read_text())
    data["energy"]["gross_j_per_image"] = energy_j
    record.write_text(json.dumps(data))
    code, _, err = run_main(monkeypatch, capsys, "build", "--submissions", tree, "--site-source",
                            site_source, "--output", tmp_path / "site", "--allow-synthetic")
    assert code == 1
    assert f"{record}: error: invalid measurement record: energy.gross_j_per_image" in err
