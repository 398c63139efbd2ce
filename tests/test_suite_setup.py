"""How the suite runs (see conftest.py): torch's global state does not leak from one test to
the next, and only the top-level pytest process starts xdist workers.

The two torch tests run in file order: the first changes the state as the CPU measurement
tests do, the second sees it as it was before.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import SUITE_WORKERS, pytest_cmdline_main

torch = pytest.importorskip("torch")

THREADS_AT_COLLECTION = torch.get_num_threads()
DENORMAL = 1e-310  # below float64's smallest normal number: flushing makes it 0


def test_a_test_may_pin_torch_to_one_thread_and_flush_denormals() -> None:
    torch.set_num_threads(1)
    assert torch.set_flush_denormal(True)  # False where the CPU cannot flush
    assert torch.get_num_threads() == 1
    assert (torch.tensor([DENORMAL], dtype=torch.float64) * 1.0).item() == 0.0


def test_the_next_test_gets_torch_back_as_it_was() -> None:
    assert torch.get_num_threads() == THREADS_AT_COLLECTION
    assert (torch.tensor([DENORMAL], dtype=torch.float64) * 1.0).item() == DENORMAL


def _config(**attributes: object) -> SimpleNamespace:
    """What the whole-suite hook reads of pytest's config: a bare `pytest` run."""
    return SimpleNamespace(args_source=pytest.Config.ArgsSource.TESTPATHS,
                           option=SimpleNamespace(numprocesses=None, dist="no",
                                                  markexpr="not gpu"),
                           pluginmanager=SimpleNamespace(hasplugin=lambda name: True),
                           **attributes)


def test_the_whole_suite_goes_to_two_workers_but_a_worker_starts_none(monkeypatch) -> None:
    pytest.importorskip("xdist")
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    top = _config()
    pytest_cmdline_main(top)
    assert (top.option.numprocesses, top.option.dist) == (SUITE_WORKERS, "loadfile")
    # a worker calls the hook again with -n cleared; it must stay a worker (this was a fork bomb)
    worker = _config(workerinput={"workerid": "gw0"})
    pytest_cmdline_main(worker)
    assert (worker.option.numprocesses, worker.option.dist) == (None, "no")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    child = _config()
    pytest_cmdline_main(child)
    assert child.option.numprocesses is None


def test_chosen_files_gpu_tests_and_an_explicit_n_stay_as_asked(monkeypatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    files = _config()
    files.args_source = pytest.Config.ArgsSource.ARGS
    gpu = _config()
    gpu.option.markexpr = "gpu"
    serial = _config()
    serial.option.numprocesses = 0
    for config in (files, gpu, serial):
        before = vars(config.option).copy()
        pytest_cmdline_main(config)
        assert vars(config.option) == before
