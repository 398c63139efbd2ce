"""torch's "cuda" on the CPU, for rehearsing a GPU lease with timm's tiny test models.

A process-wide :class:`torch.overrides.TorchFunctionMode` rewrites every ``cuda`` device
argument (factory functions, ``Tensor.to``, ``Module.to``, ``with torch.device("cuda")``) to
the CPU, and ``torch.cuda``'s queries answer like one H200 (the UUID matches the fake NVML's).
The first "cuda" use marks this process's CUDA context in the fake NVML, which then lists the
host PID like gVisor's nvproxy. Autocast on "cuda" has no effect on CPU tensors: the work runs
in fp32, which is fine for rehearsing the plumbing and timing, never for figures.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import SimpleNamespace
from typing import Any

_installed = False


def _is_cuda(value: Any) -> bool:
    import torch

    if isinstance(value, str):
        return value.startswith("cuda")
    return isinstance(value, torch.device) and value.type == "cuda"


def _context() -> None:
    from leaderboard.measure.rehearsal import fake_nvml

    fake_nvml.mark_context(reserved_mib=256.0)


def install() -> None:
    """Patch the imported torch (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    import torch
    from torch.overrides import TorchFunctionMode

    from leaderboard.measure.rehearsal import fake_nvml

    cpu = torch.device("cpu")

    class CudaOnCpu(TorchFunctionMode):
        """Rewrites "cuda" device arguments to the CPU."""

        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = dict(kwargs or {})
            if _is_cuda(kwargs.get("device")):
                kwargs["device"] = cpu
                _context()
            if func in (torch.Tensor.cuda,):
                _context()
                return args[0]
            if any(_is_cuda(a) for a in args[1:]):
                _context()
                args = tuple(cpu if i and _is_cuda(a) else a for i, a in enumerate(args))
            return func(*args, **kwargs)

    CudaOnCpu().__enter__()  # stays on the mode stack for the life of the process

    properties = SimpleNamespace(name=fake_nvml.GPU_NAME, uuid=fake_nvml.GPU_UUID.removeprefix("GPU-"),
                                 total_memory=143_771 * 2**20, major=9, minor=0,
                                 multi_processor_count=132)
    cuda = torch.cuda
    cuda.is_available = lambda: True
    cuda.device_count = lambda: 1
    cuda.current_device = lambda: 0
    cuda.is_initialized = lambda: fake_nvml.device().context
    cuda.init = _context
    cuda.synchronize = lambda device=None: None
    cuda.get_device_name = lambda device=None: fake_nvml.GPU_NAME
    cuda.get_device_properties = lambda device=None: properties
    cuda.memory_reserved = lambda device=None: 256 * 2**20
    cuda.memory_allocated = lambda device=None: 128 * 2**20
    cuda.max_memory_allocated = lambda device=None: 192 * 2**20
    cuda.empty_cache = lambda: None
    cuda.manual_seed = lambda seed: None
    cuda.manual_seed_all = lambda seed: None
    cuda.set_device = lambda device: None


class _TorchHook(importlib.abc.MetaPathFinder):
    """Installs the shim right after ``import torch`` finishes."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module  # type: ignore[attr-defined]

        def exec_module(module: Any) -> None:
            original(module)
            install()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install_on_import() -> None:
    """Install the shim when torch is imported (now, if it already is)."""
    if "torch" in sys.modules:
        install()
    else:
        sys.meta_path.insert(0, _TorchHook())
