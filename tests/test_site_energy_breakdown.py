"""Where the energy goes and what each switch saves: aggregation, pages, refusal, check, browser.

The aggregation tests use hand-made shares so every expected number can be read off the input;
the build tests use `synthetic_profile`/`synthetic_sweep` on a small tree of their own (the
shared synthetic site has no profiles, which keeps its own tests' counts unchanged).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_browser import READY_MS, Watched, browser, open_page, server  # noqa: F401 - fixtures

from leaderboard.analysis_records import (
    LAYER_TYPES,
    ProfileRecord,
    SweepRecord,
    parse_analysis_record,
    profile_path,
    write_analysis_record,
)
from leaderboard.boards import load_boards
from leaderboard.cli import cli
from leaderboard.errors import ProblemsFound
from leaderboard.policy import policy_table
from leaderboard.site import breakdown
from leaderboard.site.build import build_site
from leaderboard.site.pages import energy as energy_pages
from leaderboard.site.serve import serving
from leaderboard.testing import synthetic_profile, synthetic_sweep, write_synthetic_tree

# --- helpers --------------------------------------------------------------------------------


def profile_with(entry_id: str, kind: str | None, shares: dict[str, float],
                 energy_j: float = 0.1) -> ProfileRecord:
    """A synthetic profile whose shares are exactly ``shares`` (the rest go to ``other``)."""
    values = {t: shares.get(t, 0.0) for t in LAYER_TYPES}
    values["other"] = 1.0 - sum(v for t, v in values.items() if t != "other")
    data = synthetic_profile(entry_id, energy_j, kind or "cnn").model_dump(mode="json")
    data["architecture_kind"] = kind
    data["shares"] = [{"layer_type": t, "device_time_ms": 10.0 * v, "share": v,
                       "energy_j_per_image": energy_j * v} for t, v in values.items()]
    record = parse_analysis_record(data)
    assert isinstance(record, ProfileRecord)
    return record


def with_energy(record: SweepRecord, energy_j: float) -> SweepRecord:
    data = record.model_dump(mode="json")
    data["energy"]["gross_j_per_image"] = energy_j
    data["energy"]["ci95_low_j"], data["energy"]["ci95_high_j"] = energy_j * 0.99, energy_j * 1.01
    result = parse_analysis_record(data)
    assert isinstance(result, SweepRecord)
    return result


def sweep_by_slug(records: list[SweepRecord]) -> dict[str, SweepRecord]:
    return {r.variant.slug: r for r in records}


class FakeEntry:
    """Just what breakdown.switch_savings reads of an Entry."""

    def __init__(self, entry_id: str, sweep: dict[str, SweepRecord]):
        self.id = entry_id
        self.sweeps = {"synthetic-gpu": sweep} if sweep else {}
        self.profiles: dict[str, ProfileRecord] = {}


# --- shares per architecture kind and the Yarally check ---------------------------------------


def test_kind_shares_are_per_kind_means_and_medians() -> None:
    profiles = [
        profile_with("a.cnn", "cnn", {"convolution": 0.5, "normalisation": 0.2}),
        profile_with("b.cnn", "cnn", {"convolution": 0.7, "normalisation": 0.1}),
        profile_with("c.cnn", "cnn", {"convolution": 0.3, "linear": 0.4}),
        profile_with("d.vit", "vit", {"linear": 0.6, "attention": 0.2}),
        profile_with("e.vit", "vit", {"linear": 0.4, "attention": 0.3}),
        profile_with("f.none", None, {"convolution": 0.9}),  # no kind: left out
    ]
    kinds = breakdown.kind_shares(profiles)
    assert [(k.kind, k.label, k.entries) for k in kinds] == [("cnn", "CNN", 3), ("vit", "ViT", 2)]
    cnn, vit = kinds
    assert cnn.mean["convolution"] == pytest.approx(0.5)
    assert cnn.median["convolution"] == pytest.approx(0.5)
    assert cnn.mean["normalisation"] == pytest.approx(0.1)
    assert cnn.mean["linear"] == pytest.approx(0.4 / 3)
    assert vit.mean["linear"] == pytest.approx(0.5) and vit.mean["attention"] == pytest.approx(0.25)
    for kind in kinds:  # mean shares of a kind still add up to one bar
        assert sum(kind.mean.values()) == pytest.approx(1.0)


def test_convolution_check_states_the_numbers_of_a_known_input() -> None:
    profiles = [
        profile_with("a.cnn", "cnn", {"convolution": 0.5, "normalisation": 0.2}),
        profile_with("b.cnn", "cnn", {"convolution": 0.7, "normalisation": 0.1}),
        profile_with("c.cnn", "cnn", {"convolution": 0.3, "linear": 0.4}),  # linear is largest
        profile_with("d.vit", "vit", {"linear": 0.6, "attention": 0.2}),
        profile_with("e.vit", "vit", {"linear": 0.4, "attention": 0.3}),
        profile_with("f.hybrid", "hybrid", {"convolution": 0.3, "linear": 0.4}),
    ]
    check = breakdown.convolution_check(profiles)
    assert (check.cnns, check.conv_largest, check.vits) == (3, 2, 2)
    assert check.conv_mean == pytest.approx(0.5) and check.conv_median == pytest.approx(0.5)
    assert check.linear_mean == pytest.approx(0.5) and check.attention_mean == pytest.approx(0.25)
    assert check.holds is True
    assert check.sentence == (
        "In 3 CNNs, convolutions take 50% of inference energy on average (median 50%) and are the "
        "largest layer type in 2 of 3; in 2 ViTs, linear layers take 50% (median 50%) and "
        "attention 25%. Yarally et al. (CAIN 2023) found that convolutional layers dominate "
        "training energy; on these measurements the finding holds for inference.")


def test_convolution_check_says_when_the_finding_does_not_hold_or_cannot_be_checked() -> None:
    cnns = [profile_with("a.cnn", "cnn", {"convolution": 0.2, "linear": 0.5}),
            profile_with("b.cnn", "cnn", {"convolution": 0.6})]
    check = breakdown.convolution_check(cnns)
    assert check.holds is False  # largest in 1 of 2 is not "dominates"
    assert check.sentence.endswith("the finding does not hold for inference.")
    assert "ViT" not in check.sentence

    vits_only = breakdown.convolution_check([profile_with("v.vit", "vit", {"linear": 0.6})])
    assert vits_only.holds is None
    assert vits_only.sentence.startswith("In 1 ViT, linear layers take 60% (median 60%)")
    assert "No CNN has been profiled yet" in vits_only.sentence

    assert "cannot be checked" in breakdown.convolution_check([]).sentence


def test_profiles_that_failed_are_left_out_of_the_aggregates() -> None:
    good = profile_with("a.cnn", "cnn", {"convolution": 0.6})
    data = good.model_dump(mode="json")
    data.update(entry_id="b.cnn", status="refused", reasons=["other processes on the GPU"])
    refused = parse_analysis_record(data)
    assert not breakdown.usable_profile(refused)
    assert [k.entries for k in breakdown.kind_shares([good, refused])] == [1]
    assert breakdown.convolution_check([good, refused]).cnns == 1


def test_ablation_rows_and_median_agreement() -> None:
    profiles = [synthetic_profile(f"m{i}.x", 0.1 * (i + 1)) for i in range(3)]
    rows = breakdown.ablation_rows(profiles)
    assert [(r.entry_id, r.layer_type) for r in rows] == [(f"m{i}.x", "activation") for i in range(3)]
    for row, profile in zip(rows, profiles, strict=True):
        assert row.predicted_j == pytest.approx(0.1 * (int(row.entry_id[1]) + 1)
                                                * profile.share_of("activation"))
        assert row.agreement == pytest.approx(0.9)  # synthetic_profile measures 90% of predicted
    assert breakdown.median_agreement(rows) == pytest.approx(0.9)
    assert breakdown.median_agreement([]) is None


# --- the savings sweep ----------------------------------------------------------------------


def test_saving_rows_give_change_against_the_headline_and_top1_cost() -> None:
    rows = breakdown.saving_rows(sweep_by_slug(synthetic_sweep("m.x", 0.2)))
    assert len(rows) == 11
    assert rows[0].variant.is_headline and rows[0].change == pytest.approx(0.0)
    by_slug = {r.variant.slug: r for r in rows}
    # synthetic_sweep: fp32 costs 2.6x, batch 1 9x, channels-last 0.92x, torch.compile 0.85x
    assert by_slug["fp32-b256"].change == pytest.approx(1.6)
    assert by_slug["fp16-b1"].change == pytest.approx(8.0)
    assert by_slug["fp16-b256-cl"].change == pytest.approx(-0.08)
    assert by_slug["fp16-b256-compile"].change == pytest.approx(-0.15)
    assert by_slug["fp16-b256-compile"].energy_j == pytest.approx(0.2 * 0.85)
    # top-1 at fp32 is 80.00, at the fp16 headline 79.98
    assert by_slug["fp32-b256"].top1_delta == pytest.approx(0.02)
    assert by_slug["bf16-b256"].top1_delta == pytest.approx(0.0)


def test_saving_rows_without_a_headline_or_accuracy_compare_nothing() -> None:
    records = synthetic_sweep("m.x", 0.2)
    no_headline = {r.variant.slug: r for r in records if not r.variant.is_headline}
    rows = breakdown.saving_rows(no_headline)
    assert len(rows) == 10 and {r.change for r in rows} == {None}
    assert {r.top1_delta for r in rows} == {None}

    data = records[1].model_dump(mode="json")
    data["accuracy"] = None
    unmeasured = sweep_by_slug([records[0], parse_analysis_record(data)])
    assert breakdown.saving_rows(unmeasured)[1].top1_delta is None
    context = energy_pages.savings_context(unmeasured)
    assert [r["top1"] for r in context["rows"]] == ["reference (79.98 %)", "not measured"]
    assert context["missing"] == 9


def test_switch_savings_take_the_median_and_best_across_entries() -> None:
    entries = []
    for index, compiled_j in enumerate([0.09, 0.08, 0.05]):  # -10 %, -20 %, -50 % at 0.1 J
        records = sweep_by_slug(synthetic_sweep(f"m{index}.x", 0.1))
        records["fp16-b256-compile"] = with_energy(records["fp16-b256-compile"], compiled_j)
        entries.append(FakeEntry(f"m{index}.x", records))
    entries.append(FakeEntry("unswept.x", {}))
    switches = {s.variant.slug: s for s in breakdown.switch_savings(entries)}
    assert len(switches) == 10 and "fp16-b256" not in switches
    compiled = switches["fp16-b256-compile"]
    assert compiled.entries == 3
    assert compiled.median_change == pytest.approx(-0.2)
    assert (compiled.best_change, compiled.best_entry_id) == (pytest.approx(-0.5), "m2.x")
    assert switches["fp32-b256"].median_change == pytest.approx(1.6)


def test_formatting_of_millijoules_and_changes() -> None:
    assert [energy_pages.mj(v) for v in (1.234, 0.05, 0.00123, 0.0, None)] == \
        ["1,234", "50.0", "1.23", "0", "—"]
    assert [energy_pages.percent_change(v) for v in (-0.15, 1.6, 0.02, None)] == \
        ["−15.0 %", "+160 %", "+2.0 %", "—"]


# --- loading: refusal and check -------------------------------------------------------------


def _bare_tree(root: Path, count: int = 3) -> Path:
    """Synthetic submissions without any board record (so only the records a test adds count)."""
    submissions = write_synthetic_tree(root, count, single_stream_every=0)
    for folder in submissions.glob("*/measurements"):
        shutil.rmtree(folder)
    return submissions


def _ids(submissions: Path) -> list[str]:
    return sorted(p.parent.name for p in submissions.glob("*/submission.yaml"))


def test_synthetic_profile_and_sweep_are_refused_without_allow_synthetic(tmp_path: Path) -> None:
    submissions = _bare_tree(tmp_path)
    first = _ids(submissions)[0]
    profile = write_analysis_record(submissions, synthetic_profile(first, 0.1))
    sweep = write_analysis_record(submissions, synthetic_sweep(first, 0.1)[0])
    with pytest.raises(ProblemsFound) as caught:
        load_boards(submissions, allow_synthetic=False)
    problems = caught.value.problems
    assert sorted(p.file for p in problems) == sorted([str(profile), str(sweep)])
    assert {p.location for p in problems} == {"synthetic"}
    assert all("--allow-synthetic" in p.fix for p in problems)

    data = load_boards(submissions, allow_synthetic=True)
    entry = data.by_id()[first]
    assert list(entry.profiles) == ["synthetic-gpu"]
    assert list(entry.sweeps["synthetic-gpu"]) == ["fp16-b256"]


def test_a_broken_profile_stops_the_build_and_fails_check_with_a_clear_problem(
        tmp_path: Path) -> None:
    submissions = _bare_tree(tmp_path)
    first = _ids(submissions)[0]
    path = write_analysis_record(submissions, synthetic_profile(first, 0.1))
    data = json.loads(path.read_text("utf-8"))
    data["shares"][0]["share"] += 0.25
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(ProblemsFound) as caught:
        load_boards(submissions, allow_synthetic=True)
    assert [p.file for p in caught.value.problems] == [str(path)]

    result = CliRunner().invoke(cli, ["check", "--submissions", str(submissions)])
    assert result.exit_code == 1, result.output
    assert f"{path}: error: invalid profile record: shares add up to 1.250000, not 1" in \
        result.stdout.replace("Value error, ", "")
    assert "re-run it for this entry" in result.stdout


def test_check_reports_misplaced_and_orphaned_analysis_records(tmp_path: Path) -> None:
    submissions = _bare_tree(tmp_path)
    first = _ids(submissions)[0]
    right = write_analysis_record(submissions, synthetic_profile(first, 0.1))
    misplaced = right.with_name("other-gpu.json")
    right.rename(misplaced)
    orphan = synthetic_sweep("gone.entry", 0.1)[0]
    orphan_path = write_analysis_record(submissions, orphan)

    result = CliRunner().invoke(cli, ["check", "--submissions", str(submissions)])
    assert result.exit_code == 1, result.output
    assert f"{misplaced}: entry_id: error: record belongs at {right}" in result.stdout
    assert f"{orphan_path}: entry_id: error: no submission 'gone.entry'" in result.stdout

    misplaced.rename(right)
    shutil.rmtree(orphan_path.parents[2])
    assert CliRunner().invoke(cli, ["check", "--submissions", str(submissions),
                                      "--allow-synthetic"]).exit_code == 0


# --- a built site ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def breakdown_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six entries: a CNN, a ViT and a hybrid profiled, the CNN swept, three with nothing."""
    submissions = write_synthetic_tree(tmp_path_factory.mktemp("breakdown"), 6)
    ids = _ids(submissions)
    for entry_id, kind in zip(ids, ("cnn", "vit", "hybrid"), strict=False):
        write_analysis_record(submissions, synthetic_profile(entry_id, 0.2, kind))
    for record in synthetic_sweep(ids[0], 0.2):
        write_analysis_record(submissions, record)
    return submissions


@pytest.fixture(scope="module")
def breakdown_site(breakdown_tree: Path, site_source: Path) -> Path:
    output = breakdown_tree.parent / "site"
    build_site(breakdown_tree, site_source, output, allow_synthetic=True, policy_rows=policy_table())
    return output


def _section(text: str, start_id: str, end_id: str) -> str:
    return text[text.index(f'id="{start_id}"'):text.index(f'id="{end_id}"')]


def test_model_page_draws_the_bar_table_and_savings(breakdown_site: Path,
                                                    breakdown_tree: Path) -> None:
    entry_id = _ids(breakdown_tree)[0]
    profile = ProfileRecord.model_validate_json(
        profile_path(breakdown_tree, entry_id, "synthetic-gpu").read_text("utf-8"))
    text = (breakdown_site / "models" / f"{entry_id}.html").read_text("utf-8")
    energy = _section(text, "where-the-energy-goes", "how-to-save")

    widths = re.findall(r'class="lb-bar-seg" role="img" style="width: ([\d.]+)%; '
                        r'background: (#[0-9a-f]{6})', energy)
    expected = [(f"{profile.share_of(t) * 100:.3f}", t) for t in LAYER_TYPES
                if profile.share_of(t) > 0]
    assert [w for w, _ in widths] == [w for w, _ in expected]
    assert sum(float(w) for w, _ in widths) == pytest.approx(100.0, abs=0.01)
    conv = profile.share_of("convolution")
    assert (f'aria-label="convolution: {conv:.1%} of kernel time, '
            f'{energy_pages.mj(0.2 * conv)} mJ/image"') in energy
    for layer_type in LAYER_TYPES:  # the table has a row per type, the legend an item per type
        assert energy.count(f"</span>{layer_type}</") == 2, layer_type
    assert "equal power across kernels" in energy
    assert 'href="../methodology.html#where-the-energy-goes"' in energy
    assert "GPU busy 93%" in energy
    assert "<td>activation</td>" in energy and "0.90×" in energy  # the ablation check

    savings = _section(text, "how-to-save", "accuracy")
    rows = re.findall(r"<tr[^>]*><td>(.*?)</td><td class=\"lb-num\">(.*?)</td>"
                      r"<td class=\"lb-num[^\"]*\">(.*?)</td>", savings)
    assert len(rows) == 11
    assert rows[0] == ('fp16, batch 256 <span class="lb-chip">headline</span>', "200", "reference")
    assert ("fp16, batch 256, torch.compile", "170", "−15.0 %") in rows
    assert ("fp32, batch 256", "520", "+160 %") in rows
    assert '<tr class="lb-headline">' in savings
    assert "+0.02" in savings  # fp32's top-1 against the fp16 headline's


def test_model_page_without_records_says_so(breakdown_site: Path, breakdown_tree: Path) -> None:
    ids = _ids(breakdown_tree)
    bare = (breakdown_site / "models" / f"{ids[-1]}.html").read_text("utf-8")
    assert "<p>Not profiled yet.</p>" in bare and "<p>No savings sweep yet.</p>" in bare
    assert "lb-bar-seg" not in bare
    profiled_only = (breakdown_site / "models" / f"{ids[1]}.html").read_text("utf-8")
    assert "lb-bar-seg" in profiled_only and "<p>No savings sweep yet.</p>" in profiled_only


def test_energy_page_shows_kinds_checks_and_switches(breakdown_site: Path) -> None:
    text = (breakdown_site / "energy.html").read_text("utf-8")
    assert 'data-spec="layer-shares"' in text and "vega-bundle.js" in text
    spec = (breakdown_site / "assets/charts/layer-shares.js").read_text("utf-8")
    assert '"CNN (1)"' in spec and '"ViT (1)"' in spec and '"hybrid (1)"' in spec
    assert re.search(r"In 1 CNN, convolutions take \d+% of inference energy on average", text)
    assert "Median measured / predicted\nover 3 checks: <strong>0.90</strong>" in text
    assert 'data-table="ablations"' in text
    assert "fp16, batch 256, torch.compile" in text and "−15.0 %" in text
    nav = re.findall(r'href="energy.html"', (breakdown_site / "index.html").read_text("utf-8"))
    assert nav, "the page is in the nav"
    methodology = (breakdown_site / "methodology.html").read_text("utf-8")
    assert 'id="where-the-energy-goes"' in methodology
    assert "innermost timm/torch module" in methodology and "11 variants" in methodology


def test_downloads_carry_profile_shares_and_sweep_points(breakdown_site: Path,
                                                         breakdown_tree: Path) -> None:
    profiles = list(csv.DictReader(io.StringIO(
        (breakdown_site / "downloads/profiles.csv").read_text("utf-8"))))
    assert [r["entry_id"] for r in profiles] == _ids(breakdown_tree)[:3]
    for row in profiles:
        assert sum(float(row[f"share_{t}"]) for t in LAYER_TYPES) == pytest.approx(1.0, abs=1e-4)
    sweep = list(csv.DictReader(io.StringIO(
        (breakdown_site / "downloads/sweep.csv").read_text("utf-8"))))
    assert len(sweep) == 11
    compiled = next(r for r in sweep if r["variant"] == "fp16-b256-compile")
    assert float(compiled["change_vs_headline"]) == pytest.approx(-0.15)
    assert "profiles.csv" in (breakdown_site / "downloads.html").read_text("utf-8")


def test_energy_page_without_profiles_says_what_produces_them(synthetic_site: Path) -> None:
    text = (synthetic_site / "energy.html").read_text("utf-8")
    assert "No entry has been profiled yet" in text
    assert "<code>leaderboard profile ID</code>" in text
    assert "<code>leaderboard sweep ID</code>" in text
    assert "lb-chart" not in text and "vega-bundle" not in text


# --- in the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def breakdown_server(breakdown_site: Path) -> Iterator[str]:
    with serving(breakdown_site) as url:
        yield url


@pytest.mark.browser
def test_energy_chart_and_model_bar_render_in_chromium(
        open_page: Callable[..., Watched], breakdown_server: str,  # noqa: F811 - the fixture
        breakdown_tree: Path) -> None:
    watched = open_page(base=breakdown_server)
    page = watched.page
    watched.goto("energy.html")
    page.wait_for_selector('.lb-chart[data-spec="layer-shares"][data-ready="true"]',
                           timeout=READY_MS)
    drawn = page.locator('.lb-chart[data-spec="layer-shares"] canvas, '
                         '.lb-chart[data-spec="layer-shares"] svg')
    assert drawn.count() >= 1
    assert drawn.first.bounding_box()["height"] > 100
    # bars do not zoom: no zoom hint or reset button; the keyboard still reaches the bars
    assert page.locator(".lb-reset[data-for='layer-shares']").count() == 0
    chart = page.locator('.lb-chart[data-spec="layer-shares"]')
    chart.focus()
    page.keyboard.press("ArrowRight")
    status = page.locator(f"#{chart.get_attribute('aria-describedby').split()[1]}")
    assert status.inner_text().startswith("architecture "), status.inner_text()
    page.wait_for_selector('.lb-table[data-table="ablations"][data-ready="true"]',
                           timeout=READY_MS)
    assert page.locator(".lb-table tbody tr").count() == 3
    # every column shows: the last ("Measured / predicted") was cut, its headings unwrapped
    box = page.locator(".lb-table[data-table='ablations'] .lb-table-wrapper")
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), box.evaluate(
        "e => [e.scrollWidth, e.clientWidth]")

    entry_id = _ids(breakdown_tree)[0]
    watched.goto(f"models/{entry_id}.html")
    bar = page.locator(".lb-bar")
    assert bar.is_visible()
    bar_width = bar.bounding_box()["width"]
    segments = page.locator(".lb-bar-seg")
    widths = [segments.nth(i).bounding_box()["width"] for i in range(segments.count())]
    assert segments.first.is_visible() and min(widths) > 0
    assert sum(widths) == pytest.approx(bar_width, abs=2)
    conv = segments.first  # convolution, the largest share of a synthetic CNN
    assert conv.get_attribute("title").startswith("convolution: ")
    assert widths[0] == max(widths)
    watched.assert_clean()
