"""Site build and page-load benchmark: our `build_site` against a bare mkdocs build.

What is measured, for each size N (synthetic entries; default 100, 1,266 and 10,000):

``ours_s``
    Wall time of ``build_site(submissions, Path("site"), out, allow_synthetic=True)``: loading
    and checking the submissions and records, scoring, generating every page and asset, and
    the strict mkdocs build. Writing the synthetic tree is not included.
``gen_s``
    Wall time of the ``generate_docs`` call that ``build_site`` makes into its staging folder
    (/dev/shm when writable), i.e. our share of ``ours_s``: the benchmark wraps
    ``leaderboard.site.build.generate_docs`` for the duration of the build instead of paying
    for a second generation run (it falls back to a separate run if the wrapper is not
    reached).
``bare_s``
    Wall time of a bare mkdocs build, same process, same API calls as ``build_site``
    (``mkdocs.config.load_config`` + ``mkdocs.commands.build.build``, strict, mkdocs logging at
    WARNING), over a docs folder of N + 8 plain Markdown pages.
``ratio``
    ``ours_s / bare_s``. ``cpu_ratio`` is the same ratio in CPU seconds of this process
    (``time.process_time``): on a shared 2-core machine other work inflates wall times, and
    the CPU ratio is the steadier comparison. The 1-minute load average before each size is
    printed beside it.
``table_ms`` / ``chart_ms`` (N = 1,266 and 10,000 only)
    In headless Debian chromium (Playwright, fresh browser context per load, so no cache), with
    the built site served by ``http.server`` on 127.0.0.1: ``performance.now()`` (ms since
    navigation start) at the moment ``div.lb-table`` on ``leaderboard/index.html`` gets
    ``data-ready="true"``, and the moment the first ``.lb-chart`` on ``index.html`` does (its
    vega view has drawn). A MutationObserver installed before any page script records the time
    of the attribute change; Playwright's ``wait_for_selector`` only waits for it. Each load is
    repeated (default 3) and the median is reported beside every sample.

``board chart`` (N = 1,266 and 10,000): the same timing for the chart of the headline board's
    page (``leaderboard/synthetic-gpu--offline.html``), whose data is the board's table file.
Page weight (N = 10,000, ``page_weight.py``): the files a first visit to the home page, the
    headline board's page and the trade-offs page transfers, raw and gzip, beside the same
    pages of the same tree built by ``--weight-baseline`` (default ``main``) in this run.
    Targets (issue 12): trade-offs <= 1,500 KB and a board page <= 600 KB (gzip), charts
    ready within 800 ms.

Why the baseline is fair: the bare site is what mkdocs itself costs for a site of the same
shape with no generator. Its ``mkdocs.yml`` is ``site/mkdocs.yml`` as loaded from disk (same
material theme with ``font: false`` and the same features and palette, ``use_directory_urls:
false``, the same plugins (search, and whatever else it lists), the same
``markdown_extensions`` and link validation), with only the nav replaced by 8 explicit pages,
``not_in_nav`` covering the rest and our own CSS/JS dropped.
Its pages are plain Markdown with a heading, paragraphs and a small table, about the length of
a model page (``--bare-page-bytes``; the mean size of our generated model pages is printed for
comparison). Its docs folder sits on the same scratch filesystem as our staging folder and its
site is written to the same disk as ours, and both builds run strict. So ``ours - bare`` is the
cost of our data loading, generation, extra assets and richer pages, and the ratio shows how
close the whole build is to the floor that mkdocs sets. (Where ``build_site`` renders model
pages outside mkdocs, pouring their bodies into one rendered theme shell, the ratio can fall
below 1: the baseline still sends every page through mkdocs.)

Before timing, one small untimed build of each kind runs (``--no-warmup`` skips it), so the
first measured size does not pay one-off import and schema-loading costs; the vega bundle is
read from the user cache (generated once if missing, before timing).

Run: ``/work/venv/bin/python benchmarks/site_build.py [--sizes 100,1266,10000]``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import logging
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # page_weight.py beside this file
import page_weight  # noqa: E402

HEADLINE = "synthetic-gpu--offline"
DEFAULT_SIZES = (100, 1266, 10000)
BROWSER_SIZES = frozenset({1266, 10000})
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NAV_PAGES = 8
LOAD_TIMEOUT_MS = 120_000

# Targets: (entries, seconds) for the build, the ratio, and the page loads at the largest size.
BUILD_TARGETS_S = {1266: 15.0, 10000: 90.0}
RATIO_TARGET = 1.25
LOAD_TARGET_MS = 1500.0
LOAD_TARGET_ENTRIES = 10000

# Records performance.now() when a table or chart mount first gets data-ready="true". Installed
# as an init script, so it observes the document before any page script runs.
READY_OBSERVER = """
(() => {
  const at = (window.__lbReadyAt = {});
  new MutationObserver((mutations) => {
    const now = performance.now();
    for (const m of mutations) {
      const node = m.target;
      if (node.getAttribute("data-ready") !== "true") continue;
      const kind = node.classList.contains("lb-table") ? "table"
        : node.classList.contains("lb-chart") ? "chart" : null;
      if (kind && !(kind in at)) at[kind] = now;
    }
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-ready"]});
})();
"""

WORDS = ("energy accuracy model image batch latency throughput inference joule watt frontier "
         "tier score board record validator window median interval network layer kernel "
         "precision measured claimed weights resolution crop compute parameter").split()


@dataclass
class SizeResult:
    """Everything measured for one size."""

    entries: int
    ours_s: float = 0.0
    gen_s: float = 0.0
    bare_s: float = 0.0
    ours_cpu_s: float = 0.0
    gen_cpu_s: float = 0.0
    bare_cpu_s: float = 0.0
    load: float = 0.0
    model_page_bytes: float = 0.0
    bare_page_bytes: float = 0.0
    table_ms: list[float] = field(default_factory=list)
    chart_ms: list[float] = field(default_factory=list)
    board_chart_ms: list[float] = field(default_factory=list)
    weights: dict[str, Any] = field(default_factory=dict)
    baseline_weights: dict[str, Any] | None = None
    baseline_note: str = ""
    baseline_revision: str = ""
    baseline_chart_ms: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Our build time over the bare build time."""
        return self.ours_s / self.bare_s if self.bare_s else float("nan")

    @property
    def cpu_ratio(self) -> float:
        """The same ratio in CPU seconds of this process (less sensitive to other load)."""
        return self.ours_cpu_s / self.bare_cpu_s if self.bare_cpu_s else float("nan")


def log(message: str) -> None:
    """Progress line, flushed so a redirected run can be followed."""
    print(message, flush=True)


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Yields a list that holds [wall seconds, process CPU seconds] once the block ends."""
    gc.collect()
    times: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    yield times
    times.extend([time.perf_counter() - wall, time.process_time() - cpu])


def load_average() -> float:
    """The 1-minute load average (0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def scratch_dir() -> str | None:
    """Where ``build_site`` stages its docs: /dev/shm when writable, else the default temp dir."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def quiet_mkdocs() -> None:
    """Keep mkdocs at WARNING, as ``build_site`` does (it logs every page at INFO)."""
    logging.getLogger("mkdocs").setLevel(logging.WARNING)


# --- our build ---------------------------------------------------------------------------------


def write_tree(root: Path, count: int) -> tuple[Path, float]:
    """The synthetic submissions for ``count`` entries and how long writing them took."""
    from leaderboard.testing import write_synthetic_tree

    started = time.perf_counter()
    submissions = write_synthetic_tree(root, count)
    return submissions, time.perf_counter() - started


def model_page_bytes(docs: Path, generated: Any = None, sample: int = 200) -> float:
    """Mean size of (up to ``sample``) generated model pages, for comparison with bare pages.

    Model pages are either Markdown files under ``docs/models`` or, where ``generate_docs``
    returns them (``model_bodies``), HTML bodies poured into the theme after mkdocs runs.
    """
    bodies = getattr(generated, "model_bodies", None)
    if isinstance(bodies, dict) and bodies:
        chosen = list(bodies.values())[:sample]
        return statistics.fmean(len(body.encode("utf-8")) for body in chosen)
    sizes: list[int] = []
    with contextlib.suppress(OSError), os.scandir(docs / "models") as entries:
        for entry in entries:
            if entry.name.endswith(".md"):
                sizes.append(entry.stat().st_size)
                if len(sizes) >= sample:
                    break
    return statistics.fmean(sizes) if sizes else 0.0


def time_generation(submissions: Path, site_source: Path) -> tuple[list[float], float]:
    """[wall, CPU] seconds of a separate ``generate_docs`` call, and its model page size."""
    from leaderboard.policy import policy_table
    from leaderboard.site.build import generate_docs

    rows = policy_table()
    with tempfile.TemporaryDirectory(prefix="bench-gen-", dir=scratch_dir()) as name:
        with stopwatch() as times:
            generated = generate_docs(submissions, site_source, Path(name), allow_synthetic=True,
                                      policy_rows=rows)
        return times, model_page_bytes(Path(name), generated)


@dataclass
class OursTimes:
    """[wall, CPU] seconds of ``build_site`` and of the ``generate_docs`` call inside it."""

    build: list[float]
    generate: list[float]
    model_page_bytes: float


def time_ours(submissions: Path, site_source: Path, output: Path) -> OursTimes:
    """Time ``build_site``, and the ``generate_docs`` call it makes into its staging folder.

    ``generate_docs`` is timed by wrapping the module attribute that ``build_site`` calls
    (restored afterwards), so the generation share comes from the very build being measured
    instead of a second generation run. Should the wrapper not be reached, an empty ``generate``
    tells the caller to time a separate run.
    """
    from leaderboard.policy import policy_table
    from leaderboard.site import build as build_module

    rows = policy_table()
    original = build_module.generate_docs
    generate: list[float] = []
    page_bytes: list[float] = []

    @functools.wraps(original)
    def timed_generate_docs(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        value = original(*args, **kwargs)
        generate.extend([time.perf_counter() - wall, time.process_time() - cpu])
        docs = args[2] if len(args) > 2 else kwargs.get("docs_dir")
        page_bytes.append(model_page_bytes(Path(docs), value) if docs else 0.0)  # ~ms, untimed
        return value

    build_module.generate_docs = timed_generate_docs
    try:
        with stopwatch() as times:
            build_module.build_site(submissions, site_source, output, allow_synthetic=True,
                                    policy_rows=rows)
    finally:
        build_module.generate_docs = original
    return OursTimes(times, generate, page_bytes[0] if page_bytes else 0.0)


# --- bare mkdocs baseline ----------------------------------------------------------------------


def bare_page(index: int, target_bytes: int, rng: random.Random) -> str:
    """A plain page: heading, paragraphs and a small table, padded to about ``target_bytes``."""

    def sentence(words: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."

    head = f"# Page {index:05d}\n\n{' '.join(sentence(12) for _ in range(3))}\n\n"
    table = "| Property | Value |\n|---|---|\n" + "".join(
        f"| {rng.choice(WORDS)} {row} | {rng.uniform(0, 100):.2f} |\n" for row in range(6))
    body = head + table + "\n## Notes\n\n"
    while len(body.encode("utf-8")) < target_bytes:
        body += sentence(14) + " "
    return body.rstrip() + "\n"


def bare_config(site_source: Path, nav: list[str]) -> dict[str, Any]:
    """``site/mkdocs.yml`` with the nav replaced and our own CSS/JS dropped."""
    from mkdocs.utils.yaml import yaml_load  # resolves mkdocs.yml's !ENV tags

    config = yaml_load((site_source / "mkdocs.yml").read_text("utf-8"))
    for key in ("extra_css", "extra_javascript"):
        config.pop(key, None)
    theme = config.get("theme") or {}
    if isinstance(theme, dict) and theme.get("custom_dir"):
        # the bare docs are written elsewhere: keep the theme's overrides (the header partial)
        theme["custom_dir"] = str((site_source / theme["custom_dir"]).resolve())
    config["site_name"] = "Bare baseline"
    config["nav"] = [{f"Page {i}": path} for i, path in enumerate(nav)]
    config["not_in_nav"] = "/pages/\n"
    return config


def write_bare_docs(root: Path, count: int, site_source: Path, page_bytes: int) -> tuple[Path, float]:
    """A docs folder of ``count + 8`` pages and its mkdocs.yml; returns the config path."""
    rng = random.Random(count)
    docs = root / "docs"
    nav = ["index.md", *(f"guide/section-{i}.md" for i in range(1, NAV_PAGES))]
    paths = nav + [f"pages/p{i:05d}.md" for i in range(count)]
    sizes = []
    for index, rel in enumerate(paths):
        target = docs / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        text = bare_page(index, page_bytes, rng)
        target.write_text(text, encoding="utf-8")
        sizes.append(len(text.encode("utf-8")))
    config_file = root / "mkdocs.yml"
    config = bare_config(site_source, nav)
    config_file.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8")
    return config_file, statistics.fmean(sizes)


def time_bare(config_file: Path, docs: Path, site_dir: Path) -> list[float]:
    """[wall, CPU] seconds of a strict mkdocs build of the bare site, called as build_site does."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    with stopwatch() as times:
        config = load_config(str(config_file), docs_dir=str(docs), site_dir=str(site_dir))
        config["strict"] = True
        quiet_mkdocs()
        mkdocs_build(config)
    return times


def measure_bare(tmp: Path, count: int, site_source: Path,
                 page_bytes: int) -> tuple[list[float], float]:
    """Write the bare docs (untimed, on the staging filesystem), then time their build."""
    with tempfile.TemporaryDirectory(prefix="bench-bare-", dir=scratch_dir()) as name:
        config_file, mean_bytes = write_bare_docs(Path(name), count, site_source, page_bytes)
        times = time_bare(config_file, Path(name) / "docs", tmp / "bare-site")
    shutil.rmtree(tmp / "bare-site", ignore_errors=True)
    return times, mean_bytes


# --- browser -----------------------------------------------------------------------------------


def ready_ms(browser: Any, url: str, kind: str) -> float:
    """ms from navigation start until the first ``.lb-<kind>`` is ready, in a fresh context."""
    context = browser.new_context()
    try:
        context.add_init_script(READY_OBSERVER)
        page = context.new_page()
        page.goto(url, wait_until="commit")
        page.wait_for_selector(f".lb-{kind}[data-ready=true], .lb-{kind}[data-error]",
                               timeout=LOAD_TIMEOUT_MS)
        error = page.eval_on_selector(f".lb-{kind}", "el => el.getAttribute('data-error')")
        if error:
            raise RuntimeError(f"{url}: {kind} failed: {error}")
        return float(page.evaluate("k => window.__lbReadyAt[k] ?? performance.now()", kind))
    finally:
        context.close()


def measure_loads(browser: Any, site: Path,
                  repeats: int) -> tuple[list[float], list[float], list[float]]:
    """Table, home-chart and board-chart readiness times over ``repeats`` fresh loads each."""
    from leaderboard.site.serve import serving

    with serving(site) as base:
        table = [ready_ms(browser, base + "leaderboard/index.html", "table") for _ in range(repeats)]
        chart = [ready_ms(browser, base + "index.html", "chart") for _ in range(repeats)]
        board = [ready_ms(browser, base + f"leaderboard/{HEADLINE}.html", "chart")
                 for _ in range(repeats)]
    return table, chart, board


@contextlib.contextmanager
def launch_browser() -> Iterator[Any]:
    """Debian's chromium under Playwright; Playwright never downloads a browser here."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- driver ------------------------------------------------------------------------------------


def warm_up(site_source: Path, page_bytes: int) -> None:
    """One small untimed build of each kind: imports, theme, Altair schema, vega bundle cache."""
    from leaderboard.site import files

    files.vega_bundle()
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as name:
        tmp = Path(name)
        submissions, _ = write_tree(tmp, 20)
        time_ours(submissions, site_source, tmp / "site")
        measure_bare(tmp, 20, site_source, page_bytes)


def measure_size(count: int, site_source: Path, page_bytes: int, browser: Any | None,
                 repeats: int, weight_baseline: str | None = None) -> SizeResult:
    """All measurements for one size, in a temporary directory of its own."""
    result = SizeResult(count, load=load_average())
    with tempfile.TemporaryDirectory(prefix=f"bench-{count}-") as name:
        tmp = Path(name)
        submissions, tree_s = write_tree(tmp, count)
        log(f"[{count}] synthetic tree written in {tree_s:.1f} s (not timed); "
            f"load average {result.load:.1f}")
        (result.bare_s, result.bare_cpu_s), result.bare_page_bytes = measure_bare(
            tmp, count, site_source, page_bytes)
        log(f"[{count}] bare mkdocs build: {result.bare_s:.2f} s, CPU {result.bare_cpu_s:.2f} s "
            f"({count + NAV_PAGES} pages, mean {result.bare_page_bytes:.0f} B)")
        ours = time_ours(submissions, site_source, tmp / "site")
        result.ours_s, result.ours_cpu_s = ours.build
        where = "inside build_site"
        if ours.generate:
            (result.gen_s, result.gen_cpu_s), result.model_page_bytes = ours.generate, ours.model_page_bytes
        else:
            (result.gen_s, result.gen_cpu_s), result.model_page_bytes = time_generation(
                submissions, site_source)
            where = "separate run"
        log(f"[{count}] build_site: {result.ours_s:.2f} s, CPU {result.ours_cpu_s:.2f} s "
            f"(ratio {result.ratio:.2f}, CPU ratio {result.cpu_ratio:.2f})")
        log(f"[{count}]   of which generate_docs ({where}): {result.gen_s:.2f} s, "
            f"CPU {result.gen_cpu_s:.2f} s (model pages mean {result.model_page_bytes:.0f} B)")
        if browser is not None:
            result.table_ms, result.chart_ms, result.board_chart_ms = measure_loads(
                browser, tmp / "site", repeats)
            log(f"[{count}] table ready ms: {samples(result.table_ms)}")
            log(f"[{count}] chart ready ms (home): {samples(result.chart_ms)}")
            log(f"[{count}] chart ready ms (board): {samples(result.board_chart_ms)}")
        if browser is not None and count == page_weight.WEIGHT_ENTRIES:
            result.weights = page_weight.weigh_site(browser, tmp / "site", HEADLINE)
            if weight_baseline:
                result.baseline_revision = weight_baseline
                log(f"[{count}] building the same tree with {weight_baseline} (page-weight "
                    "baseline, not timed)")
                why = page_weight.build_baseline(weight_baseline, submissions, tmp / "base")
                if why:
                    result.baseline_note = why
                    log(f"[{count}] no baseline: {why}")
                else:
                    result.baseline_weights = page_weight.weigh_site(browser, tmp / "base",
                                                                     HEADLINE)
                    from leaderboard.site.serve import serving

                    with serving(tmp / "base") as base:
                        result.baseline_chart_ms = [ready_ms(browser, base + "index.html", "chart")
                                                    for _ in range(repeats)]
                    ratio = (statistics.median(result.chart_ms)
                             / statistics.median(result.baseline_chart_ms))
                    log(f"[{count}] {weight_baseline} home chart ready ms: "
                        f"{samples(result.baseline_chart_ms)} (ours / {weight_baseline}: "
                        f"{ratio:.2f})")
    return result


def median(values: list[float]) -> float | None:
    """The median, or None for no samples."""
    return statistics.median(values) if values else None


def samples(values: list[float]) -> str:
    """``median <m> (a, b, c)``."""
    return f"median {statistics.median(values):.0f} ({', '.join(f'{v:.0f}' for v in values)})"


def cell(value: float | None, spec: str) -> str:
    """A table cell: formatted number or a dash."""
    return "-" if value is None else format(value, spec)


def print_table(results: list[SizeResult]) -> None:
    """The summary table: wall times, then the CPU-time ratio; browser columns are medians."""
    log("")
    log(f"{'entries':>7}  {'ours_s':>7}  {'gen_s':>6}  {'bare_s':>7}  {'ratio':>5}  "
        f"{'cpu_ratio':>9}  {'table_ms':>8}  {'chart_ms':>8}  {'load':>4}")
    for r in results:
        log(f"{r.entries:>7}  {r.ours_s:>7.2f}  {r.gen_s:>6.2f}  {r.bare_s:>7.2f}  {r.ratio:>5.2f}  "
            f"{r.cpu_ratio:>9.2f}  {cell(median(r.table_ms), '.0f'):>8}  "
            f"{cell(median(r.chart_ms), '.0f'):>8}  {r.load:>4.1f}")
    busy = [r.entries for r in results if r.load > (os.cpu_count() or 1)]
    if busy:
        log(f"note: the load average exceeded the CPU count before sizes {busy}: other work "
            "shared the CPUs, so wall times are inflated; cpu_ratio is the steadier comparison")


def verdicts(results: list[SizeResult]) -> list[tuple[str, bool]]:
    """(target description, met) for every target the measured sizes cover."""
    checks: list[tuple[str, bool]] = []
    for r in results:
        if r.entries in BUILD_TARGETS_S:
            limit = BUILD_TARGETS_S[r.entries]
            checks.append((f"build {r.entries} entries <= {limit:g} s (got {r.ours_s:.2f} s)",
                           r.ours_s <= limit))
        checks.append((f"ratio ours/bare at {r.entries} <= {RATIO_TARGET} (got {r.ratio:.2f})",
                       r.ratio <= RATIO_TARGET))
        if r.entries == LOAD_TARGET_ENTRIES:
            for label, values, limit in (
                    ("table", r.table_ms, LOAD_TARGET_MS),
                    ("home chart", r.chart_ms, page_weight.CHART_TARGET_MS),
                    ("board chart", r.board_chart_ms, page_weight.CHART_TARGET_MS)):
                m = median(values)
                if m is not None:
                    checks.append((f"{label} ready at {r.entries} <= {limit:.0f} ms "
                                   f"(median {m:.0f} ms)", m <= limit))
        if r.weights:
            checks.extend(page_weight.report(r.weights, r.baseline_weights,
                                             r.baseline_revision or "baseline",
                                             r.entries, log))
    return checks


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated entry counts (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="page loads per measurement")
    parser.add_argument("--bare-page-bytes", type=int, default=1500,
                        help="approximate size of each bare page (default %(default)s)")
    parser.add_argument("--site-source", type=Path, default=REPO / "site",
                        help="folder with mkdocs.yml and docs/ (default: the repo's site/)")
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up")
    parser.add_argument("--no-browser", action="store_true", help="skip the page-load timings")
    parser.add_argument("--weight-baseline", default="main",
                        help="revision whose build of the same tree is weighed beside ours "
                             "(default %(default)s; empty to skip)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    site_source = args.site_source.resolve()
    import mkdocs
    from material import __version__ as material_version

    log(f"python {platform.python_version()}, mkdocs {mkdocs.__version__}, "
        f"mkdocs-material {material_version}, {os.cpu_count()} CPUs, staging in "
        f"{scratch_dir() or tempfile.gettempdir()}")
    if not args.no_warmup:
        started = time.perf_counter()
        warm_up(site_source, args.bare_page_bytes)
        log(f"warm-up (untimed) took {time.perf_counter() - started:.1f} s")
    wants_browser = not args.no_browser and any(n in BROWSER_SIZES for n in sizes)
    results: list[SizeResult] = []
    with contextlib.ExitStack() as stack:
        browser = stack.enter_context(launch_browser()) if wants_browser else None
        if browser is not None:
            log(f"chromium {browser.version} (headless, fresh context per load)")
        for count in sizes:
            results.append(measure_size(count, site_source, args.bare_page_bytes,
                                        browser if count in BROWSER_SIZES else None,
                                        args.repeats, args.weight_baseline or None))
    print_table(results)
    log("")
    checks = verdicts(results)
    for label, ok in checks:
        log(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
