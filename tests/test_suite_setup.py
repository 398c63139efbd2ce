"""A test that changes torch's global state does not hand it on (see conftest.py).

The tests run in file order: a module-scoped fixture and then a test change the state as the
CPU measurement tests do (cpu_profile in test_profile_sweep.py), the last sees it as it was
before either.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

THREADS_AT_COLLECTION = torch.get_num_threads()
DENORMAL = 1e-310  # below float64's smallest normal number: flushing makes it 0


@pytest.fixture(scope="module")
def pinned_for_the_module() -> int:
    torch.set_num_threads(1)  # before any function-scoped fixture of the first test runs
    return torch.get_num_threads()


def test_a_module_fixture_may_pin_torch_to_one_thread(pinned_for_the_module: int) -> None:
    assert pinned_for_the_module == torch.get_num_threads() == 1


def test_a_test_may_pin_torch_to_one_thread_and_flush_denormals() -> None:
    torch.set_num_threads(1)
    assert torch.set_flush_denormal(True)  # False where the CPU cannot flush
    assert torch.get_num_threads() == 1
    assert (torch.tensor([DENORMAL], dtype=torch.float64) * 1.0).item() == 0.0


def test_the_next_test_gets_torch_back_as_it_was() -> None:
    assert torch.get_num_threads() == THREADS_AT_COLLECTION
    assert (torch.tensor([DENORMAL], dtype=torch.float64) * 1.0).item() == DENORMAL

