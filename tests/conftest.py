"""Shared test helpers.

The first block serves the core tests (submission files, check, import, records); fixtures for
the site tests go below it.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

# ---------------------------------------------------------------------------------------------
# Core helpers: submission dicts and files. Import them with `from conftest import ...`.

REPO = Path(__file__).resolve().parents[1]
SHIPPED_SUBMISSIONS = REPO / "submissions"
# Where tests keep what is expensive to make and the same from run to run (the digits fixture),
# under a key of its inputs; every run must still work from an empty or unwritable folder.
TEST_CACHE_ROOT = Path(os.environ.get("LEADERBOARD_TEST_CACHE")
                       or Path.home() / ".cache" / "leaderboard-tests")
# timm's published results/ folder (results-imagenet.csv and the benchmark CSV), where a
# maintainer has it: the shipped entries are re-imported from it and compared.
TIMM_RESULTS_DIR = Path(os.environ.get("LEADERBOARD_TIMM_RESULTS", "/nonexistent"))

PINNED_REVISION = "5d2b1c0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"  # not the docs' placeholder
PINNED_SHA256 = "ab" * 32
IMPORTED_FROM = {
    "file": "results/results-imagenet.csv",
    "repository": "huggingface/pytorch-image-models",
    "commit": "aa4b5850c1543fa488abf260f18390eda46cf85d",
    "row": 995,
}


def valid_submission_dict(entry_id: str = "resnet50.a1_in1k", architecture: str = "resnet50",
                          **top_level: Any) -> dict[str, Any]:
    """A new (not imported) submission that passes every check; ``top_level`` overrides keys."""
    data: dict[str, Any] = {
        "schema_version": 1,
        "id": entry_id,
        "model": {
            "architecture": architecture,
            "weights": {"hf_hub": {"repo": f"timm/{entry_id.split('-')[0]}",
                                   "revision": PINNED_REVISION,
                                   "filename": "model.safetensors"}},
            "family": "resnet",
            "license": "apache-2.0",
        },
        "eval": {"img_size": 224, "crop_pct": 0.95, "interpolation": "bicubic"},
        "claims": {"top1": 80.382, "top5": 94.598, "source": "my own evaluation, 50k images"},
        "compute": {"params_m": 25.56, "gmacs": 4.11, "source": "timm benchmark"},
        "submitter": {"name": "Jane Doe", "github": "janedoe"},
    }
    data.update(copy.deepcopy(top_level))
    return data


def imported_submission_dict(entry_id: str = "resnet50.a1_in1k", **top_level: Any) -> dict[str, Any]:
    """An imported entry whose weights are not pinned yet (a warning, not an error)."""
    data = valid_submission_dict(entry_id, imported_from=dict(IMPORTED_FROM), **top_level)
    data["model"]["weights"]["hf_hub"]["revision"] = None
    return data


def write_submission(root: Path, data_or_text: dict[str, Any] | str, folder: str | None = None,
                     filename: str = "submission.yaml") -> Path:
    """Write ``root/submissions/<folder>/<filename>``; folder defaults to the dict's id.

    Dicts are dumped in key order, so a test can predict the line of each key.
    """
    if isinstance(data_or_text, str):
        text = data_or_text
        folder = folder or "entry"
    else:
        text = yaml.safe_dump(data_or_text, sort_keys=False)
        folder = folder or str(data_or_text["id"])
    path = root / "submissions" / folder / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Campaign tests: an unmeasured tree and a fake worker script (tests/test_campaign*.py).


def unmeasured_synthetic_tree(root: Path, count: int) -> Path:
    """``count`` synthetic entries under ``root`` with their measurements removed."""
    import shutil

    from leaderboard.testing import write_synthetic_tree

    submissions = write_synthetic_tree(root, count)
    for folder in submissions.glob("*/measurements"):
        shutil.rmtree(folder)
    return submissions


def install_fake_worker(root: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                        source: str) -> tuple[Path, Path]:
    """Write a fake worker script and its record template; return (script, spawn log).

    The script reads FAKE_SPAWN_LOG (where it notes each start) and FAKE_TEMPLATE (a valid,
    non-synthetic record it fills in) from the environment.
    """
    import json

    from leaderboard.testing import synthetic_record

    script = root / name
    script.write_text(source, "utf-8")
    log = root / "spawns.log"
    template = root / "template.json"
    record = synthetic_record("x.y", 0.0123).model_copy(update={"synthetic": False})
    template.write_text(json.dumps(record.model_dump(mode="json")), "utf-8")
    monkeypatch.setenv("FAKE_SPAWN_LOG", str(log))
    monkeypatch.setenv("FAKE_TEMPLATE", str(template))
    return script, log


# ---------------------------------------------------------------------------------------------
# Global torch state: put back what a test changed.

_TORCH_THREADS: list[int] = []  # torch's thread count before any test or fixture changed it


@contextlib.contextmanager
def loopback_server(handler: type) -> Iterator[str]:
    """Serve ``handler`` (an ``http.server`` request handler class) on 127.0.0.1; yields its base URL."""
    import http.server
    import threading

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    # serve_forever checks for shutdown() every poll_interval: 0.5 s by default, paid at teardown
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def pytest_collection_finish(session):  # noqa: ANN001, ANN201 - a pytest hook
    """Note torch's thread count once collection has imported it, before any fixture runs.

    Per test is too late: a module-scoped fixture (cpu_profile) sets its state before the
    function-scoped fixture below could look.
    """
    torch = sys.modules.get("torch")
    if torch is not None and not _TORCH_THREADS:
        _TORCH_THREADS.append(torch.get_num_threads())


@pytest.fixture(autouse=True)
def _restore_torch_threads_and_denormals():
    """Put back torch's thread count and denormal mode after each test.

    CPU measurement tests pin torch to one thread and flush denormals for stable timings;
    left so, every later torch test in the session ran single-threaded. torch has no getter
    for the denormal mode, and nothing in the package turns it on, so it goes back to off.
    Torch is only looked at when a test module already imported it: this never imports it.
    """
    torch = sys.modules.get("torch")
    if torch is not None and not _TORCH_THREADS:  # first imported after collection
        _TORCH_THREADS.append(torch.get_num_threads())
    yield
    torch = sys.modules.get("torch")
    if torch is None:
        return
    if _TORCH_THREADS and torch.get_num_threads() != _TORCH_THREADS[0]:
        torch.set_num_threads(_TORCH_THREADS[0])
    torch.set_flush_denormal(False)


# ---------------------------------------------------------------------------------------------
# Site fixtures (below).


# ==== site build and browser fixtures (tests/test_site_build.py, tests/test_browser.py) ====
# One synthetic site, built once per session and shared by the build and browser tests.
# Imports stay inside the fixtures so this section can sit below the file's own imports.

SYNTHETIC_SITE_ENTRIES = 60  # more than one table page (50 rows) and every 5th has single-stream


@pytest.fixture(scope="session")
def site_source():
    """The project's mkdocs source folder (``site/`` at the repository root)."""
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "site"


@pytest.fixture(scope="session")
def synthetic_site_tree(tmp_path_factory):
    """A submissions tree of SYNTHETIC_SITE_ENTRIES synthetic entries with records."""
    from leaderboard.testing import write_synthetic_tree

    return write_synthetic_tree(tmp_path_factory.mktemp("synthetic-site"),
                                SYNTHETIC_SITE_ENTRIES)


@pytest.fixture(scope="session")
def synthetic_site(synthetic_site_tree, site_source):
    """The built static site of ``synthetic_site_tree`` (read-only for tests)."""
    from leaderboard.policy import policy_table
    from leaderboard.site.build import build_site

    output = synthetic_site_tree.parent / "site"
    build_site(synthetic_site_tree, site_source, output, allow_synthetic=True, policy_rows=policy_table())
    return output

@pytest.fixture(scope="session")
def measured_site(tmp_path_factory, site_source):
    """The synthetic site with every part of every page kind drawn: ``synthetic_site``'s entries
    plus layer profiles (a CNN, a ViT, a hybrid: the first three ids) and the first id's
    savings sweep. The accessibility tests judge this one."""
    from leaderboard.analysis_records import write_analysis_record
    from leaderboard.policy import policy_table
    from leaderboard.site.build import build_site
    from leaderboard.testing import synthetic_profile, synthetic_sweep, write_synthetic_tree

    root = tmp_path_factory.mktemp("measured-site")
    submissions = write_synthetic_tree(root, SYNTHETIC_SITE_ENTRIES)
    ids = sorted(p.parent.name for p in submissions.glob("*/submission.yaml"))
    for entry_id, kind in zip(ids, ("cnn", "vit", "hybrid"), strict=False):
        write_analysis_record(submissions, synthetic_profile(entry_id, 0.2, kind))
    for record in synthetic_sweep(ids[0], 0.2):
        write_analysis_record(submissions, record)
    output = root / "site"
    build_site(submissions, site_source, output, allow_synthetic=True, policy_rows=policy_table())
    return output

# ==== end of site build and browser fixtures ====


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ANN201 - a pytest hook
    """Tests marked ``no_cuda_context`` run first (stable order otherwise).

    They measure in a child process; on a VM, NVML lists a CUDA context this pytest process
    holds beside the child's worker, and the child rightly refuses every record. A context
    cannot be released, so they go before any test that makes one (tests/test_gpu.py).
    """
    items.sort(key=lambda item: item.get_closest_marker("no_cuda_context") is None)
