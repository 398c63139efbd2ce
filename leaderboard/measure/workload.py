"""The inference workload of one submission: model, resolved input, precision and batch size.

Protocol v1: eager PyTorch in its default (NCHW) layout under ``torch.inference_mode``; AMP
fp16 autocast on CUDA (bf16 where a model needs it); each scenario's batch size is
:data:`leaderboard.vocabulary.SCENARIO_BATCH_SIZE` (offline 256, halved on out-of-memory down to
1 with the size actually used recorded; single-stream 1). torch and timm are imported inside
functions so that importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from leaderboard.errors import LeaderboardError
from leaderboard.submission import Submission
from leaderboard.vocabulary import HEADLINE_PRECISION, OFFLINE, SCENARIO_BATCH_SIZE, Precision

if TYPE_CHECKING:
    import torch

WeightsMode = Literal["pretrained", "random-init"]
RANDOM_INIT_SEED = 0


class WorkloadError(LeaderboardError):
    """The workload cannot be built: missing weights, bad precision, no memory even at batch 1."""


@dataclass(frozen=True)
class ResolvedInput:
    """The evaluation input of a model: timm's data config with the submission's overrides.

    Attributes:
        img_size: Input height, px (``input_shape[1]``; square inputs use it for both sides).
        crop_pct: Center-crop fraction.
        interpolation: Resize interpolation.
        mean: Per-channel normalisation mean.
        std: Per-channel normalisation std.
        input_shape: ``(C, H, W)`` of one image.
    """

    img_size: int
    crop_pct: float
    interpolation: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    input_shape: tuple[int, int, int]


@dataclass(frozen=True)
class WeightsInfo:
    """Which weights a model carries: ``pretrained`` with the file's sha256, or ``random-init``."""

    kind: WeightsMode
    sha256: str | None = None


def timm_model_name(submission: Submission) -> str:
    """The name to give ``timm.create_model``: ``arch.tag`` when timm knows the tag, else ``arch``.

    The tag selects timm's pretrained config (input size, crop, mean/std) that belongs to the
    weights, so the entry ``resnet50.a1_in1k`` resolves like timm's own validation of it.
    """
    import timm.models

    architecture = submission.model.architecture
    tag = submission.id.split("-")[0].partition(".")[2]
    if tag:
        name = f"{architecture}.{tag}"
        try:
            if timm.models.get_pretrained_cfg(name, allow_unregistered=False) is not None:
                return name
        except RuntimeError:  # timm raises for a tag it does not know
            pass
    return architecture


def resolve_input(submission: Submission, model: Any = None) -> ResolvedInput:
    """Resolve the evaluation input like timm's ``validate.py``.

    ``timm.data.resolve_data_config`` with the submission's ``eval`` overrides as arguments and
    ``use_test_size=True`` (validate.py's default, which the published results use).

    Args:
        submission: The entry.
        model: A timm model whose ``pretrained_cfg`` to use; by default the registry's config of
            :func:`timm_model_name` (no model is built).
    """
    import timm.data
    import timm.models

    if model is not None:
        pretrained_cfg = dict(model.pretrained_cfg)
    else:
        cfg = timm.models.get_pretrained_cfg(timm_model_name(submission))
        pretrained_cfg = cfg.to_dict() if cfg is not None else {}
    # resolve_data_config asserts a non-empty source; an architecture without any pretrained
    # config gets timm's defaults this way.
    pretrained_cfg = pretrained_cfg or {"architecture": submission.model.architecture}
    overrides: dict[str, Any] = {}
    if submission.eval is not None:
        overrides = {key: value for key, value in submission.eval.model_dump().items()
                     if value is not None}
    config = timm.data.resolve_data_config(overrides, pretrained_cfg=pretrained_cfg,
                                           use_test_size=True)
    channels, height, width = (int(v) for v in config["input_size"])
    return ResolvedInput(
        img_size=height,
        crop_pct=float(config["crop_pct"]),
        interpolation=str(config["interpolation"]),
        mean=tuple(float(v) for v in config["mean"]),
        std=tuple(float(v) for v in config["std"]),
        input_shape=(channels, height, width),
    )


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, streamed (weights files can be GBs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_info(submission: Submission, weights_mode: WeightsMode,
                 weights_path: Path | None = None) -> WeightsInfo:
    """Describe (and check) the weights a run will use, without building the model.

    Raises:
        WorkloadError: Pretrained requested without a local file, the file is missing or not
            ``.safetensors``, or its digest differs from the submission's ``url.sha256``.
    """
    if weights_mode == "random-init":
        return WeightsInfo(kind="random-init")
    if weights_mode != "pretrained":
        raise WorkloadError(f"unknown weights mode '{weights_mode}'; use pretrained or random-init")
    if weights_path is None:
        raise WorkloadError(
            f"{submission.id}: pretrained weights requested but no weights file given; fetch "
            "the submission's weights to a local .safetensors file and pass its path, or "
            "measure energy with random-init weights"
        )
    path = Path(weights_path)
    if not path.is_file():
        raise WorkloadError(f"{submission.id}: weights file {path} does not exist")
    if path.suffix != ".safetensors":
        # Pickle-based checkpoints can run code when loaded; weights are data only.
        raise WorkloadError(f"{submission.id}: {path} is not a .safetensors file; convert it "
                            "first (pickle checkpoints are never loaded)")
    sha256 = file_sha256(path)
    url = submission.model.weights.url
    if url is not None and url.sha256 is not None and url.sha256 != sha256:
        raise WorkloadError(f"{submission.id}: {path} has sha256 {sha256} but the submission "
                            f"pins {url.sha256} (model.weights.url.sha256); re-fetch the file")
    return WeightsInfo(kind="pretrained", sha256=sha256)


def build_model(submission: Submission, weights_mode: WeightsMode, device: str,
                weights_path: Path | None = None, *,
                weights: WeightsInfo | None = None,
                on_device: bool = False) -> tuple[torch.nn.Module, WeightsInfo]:
    """Create the submission's timm model in eval mode on ``device``.

    The architecture comes from the pinned timm (``pretrained=False``: nothing is fetched
    here); pretrained weights are read from a local safetensors file. Random-init weights are
    seeded so repeated runs build the same model.

    Args:
        submission: The entry.
        weights_mode: ``pretrained`` (needs ``weights_path``) or ``random-init``.
        device: ``cuda``, ``cuda:N`` or ``cpu``.
        weights_path: Local ``.safetensors`` file of the pretrained weights.
        weights: The result of :func:`weights_info` for these arguments when the caller has
            it already (hashing a large file twice is slow).
        on_device: Create the parameters on ``device`` directly (protocol v2): initialising
            a large model on the CPU costs seconds of a GPU lease.

    Returns:
        The model and a description of its weights.

    Raises:
        WorkloadError: See :func:`weights_info`; also when the file does not fit the model.
    """
    import safetensors.torch
    import timm
    import torch

    info = weights if weights is not None else weights_info(submission, weights_mode, weights_path)
    torch.manual_seed(RANDOM_INIT_SEED)
    model = None
    if on_device:
        try:
            with torch.device(device):
                model = _create_model(timm, submission)
        except Exception as exc:  # noqa: BLE001 - retried on the CPU below, the same model
            if is_out_of_memory(exc):
                raise
            # A model whose constructor insists on host tensors is built the v1 way.
            torch.manual_seed(RANDOM_INIT_SEED)
    if model is None:
        model = _create_model(timm, submission)
    if info.kind == "pretrained":
        state_dict = safetensors.torch.load_file(str(weights_path),
                                                 device=device if on_device else "cpu")
        try:
            model.load_state_dict(state_dict, strict=True)
        except RuntimeError as exc:
            raise WorkloadError(f"{submission.id}: {weights_path} does not fit "
                                f"{submission.model.architecture}: {exc}") from exc
        del state_dict
    return model.to(device).eval(), info


def _create_model(timm: Any, submission: Submission) -> Any:
    """``timm.create_model``, telling fixed-size models (ViTs) a non-default input size.

    Convolutional nets take any input size; transformers size their position embeddings at
    construction and fail on another size unless given ``img_size``. Models that take no
    ``img_size`` argument refuse it with a TypeError, and are built without it.
    """
    name = timm_model_name(submission)
    wanted = submission.eval.img_size if submission.eval else None
    if wanted is not None:
        default = timm.models.get_pretrained_cfg_value(name, "input_size") if "." in name else None
        if default is None or default[-1] != wanted:
            try:
                return timm.create_model(name, pretrained=False, num_classes=1000, img_size=wanted)
            except TypeError:
                pass
    return timm.create_model(name, pretrained=False, num_classes=1000)


def default_precision(device: str) -> Precision:
    """Protocol v1's precision: AMP fp16 on CUDA, fp32 on CPU."""
    return HEADLINE_PRECISION if device.startswith("cuda") else "fp32"


class Workload:
    """One model, one fixed random input batch, one precision: a callable unit of inference.

    Attributes:
        model: The model, in eval mode on ``device``.
        inputs: The input batch, ``(batch_size, C, H, W)`` float32 (autocast casts it).
        batch_size: Images per batch.
        precision: ``fp32``; ``tf32`` (fp32 with TF32 matmuls and convolutions, CUDA only);
            ``fp16`` or ``bf16`` (via autocast).
        device: The torch device string.
        channels_last: Model and inputs in channels-last (NHWC) memory format.
        compiled: The model wrapped in ``torch.compile`` (compiles on the first batch).
    """

    def __init__(self, model: torch.nn.Module, input_shape: tuple[int, int, int], batch_size: int,
                 device: str, precision: Precision, seed: int = 0, channels_last: bool = False,
                 compiled: bool = False, draw_on_device: bool = False):
        import torch

        if batch_size < 1:
            raise WorkloadError(f"batch size must be at least 1, got {batch_size}")
        self.device = device
        self.batch_size = batch_size
        self.precision = precision
        self.channels_last = channels_last
        self.compiled = compiled
        self._device_type = torch.device(device).type
        self._autocast_dtype = autocast_dtype_for(self._device_type, precision)
        if precision == "tf32" and self._device_type != "cuda":
            raise WorkloadError(f"tf32 is a CUDA tensor-core mode; not available on {self._device_type}")
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        model = model.eval().to(memory_format=memory_format)
        self.model = torch.compile(model) if compiled else model
        if draw_on_device:  # no host-side draw and copy of a 150 MB batch
            torch.manual_seed(seed)
            self.inputs = torch.randn((batch_size, *input_shape), device=device).contiguous(
                memory_format=memory_format)
        else:
            generator = torch.Generator().manual_seed(seed)
            self.inputs = torch.randn((batch_size, *input_shape), generator=generator).to(
                device, memory_format=memory_format)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        import torch

        if self._autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self._device_type, dtype=self._autocast_dtype)

    def _set_tf32(self) -> None:
        """Set the process-wide TF32 switches for this workload, at run time.

        Plain fp32 on CUDA would silently use TF32 convolutions (cuDNN's default): set them
        explicitly so the recorded precision is the one that ran. At run time, not at build
        time, so two workloads of different precision can coexist.
        """
        if self._device_type == "cuda":
            import torch

            tf32 = self.precision == "tf32"
            torch.backends.cudnn.allow_tf32 = tf32
            torch.backends.cuda.matmul.allow_tf32 = tf32

    def run_batch(self) -> None:
        """Run one forward pass; returns without waiting for the device."""
        import torch

        self._set_tf32()
        with torch.inference_mode(), self._autocast():
            self.model(self.inputs)

    def synchronize(self) -> None:
        """Wait until the device has finished queued work (no-op on CPU)."""
        if self._device_type == "cuda":
            import torch

            torch.cuda.synchronize(self.device)


def autocast_dtype_for(device_type: str, precision: str) -> torch.dtype | None:
    """The autocast dtype of a precision on a device type (None: no autocast).

    Raises:
        WorkloadError: fp16 on the CPU, or an unknown precision.
    """
    import torch

    if precision in ("fp32", "tf32"):
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        if device_type != "cuda":
            raise WorkloadError(f"fp16 autocast is not supported on {device_type} by protocol v1; "
                                "use fp32 or bf16")
        return torch.float16
    raise WorkloadError(f"unknown precision '{precision}'; use fp16, bf16, tf32 or fp32")


@contextlib.contextmanager
def tf32_switches(device_type: str, precision: str) -> Iterator[None]:
    """Set torch's TF32 switches for ``precision`` on CUDA and restore them afterwards.

    Plain fp32 on CUDA would silently use TF32 convolutions (cuDNN's default), so they are set
    explicitly; restoring them keeps one evaluation from changing another's precision.
    """
    if device_type != "cuda":
        yield
        return
    import torch

    saved = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a device out-of-memory error (torch's type or an older/other backend's message)."""
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _free_memory(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _default_probe(workload: Workload) -> None:
    workload.run_batch()
    workload.synchronize()


def make_workload(model: torch.nn.Module, input_shape: tuple[int, int, int], device: str,
                  precision: Precision, batch_size: int = SCENARIO_BATCH_SIZE[OFFLINE],
                  probe: Callable[[Workload], None] = _default_probe, channels_last: bool = False,
                  compiled: bool = False, draw_on_device: bool = False) -> Workload:
    """Build a workload at the largest batch size from ``batch_size`` down that fits in memory.

    Each candidate is tried with ``probe`` (by default one synchronised forward pass); on
    out-of-memory the batch is freed and halved, down to 1. The returned workload's
    ``batch_size`` is the size actually used.

    Args:
        model: The model (eval mode, on ``device``).
        input_shape: ``(C, H, W)``.
        device: Torch device string.
        precision: ``fp32``, ``fp16`` or ``bf16``.
        batch_size: The first size to try (256 for the offline scenario).
        probe: Runs the workload once; tests inject one that raises out-of-memory.
        channels_last: Channels-last model and inputs.
        compiled: ``torch.compile`` the model (the probe pays the compilation).
        draw_on_device: Draw the random inputs on the device (protocol v2).

    Raises:
        WorkloadError: Out of memory even at batch 1.
    """
    size = batch_size
    while True:
        workload: Workload | None = None
        try:
            workload = Workload(model, input_shape, size, device, precision,
                                channels_last=channels_last, compiled=compiled,
                                draw_on_device=draw_on_device)
            probe(workload)
            return workload
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # Outside the except block: the traceback no longer pins the failed batch's tensors.
        del workload
        _free_memory(device)
        if size == 1:
            raise WorkloadError(f"out of memory even at batch 1 on {device}: {message}")
        size = max(1, size // 2)


def count_params_m(model: torch.nn.Module) -> float:
    """Number of parameters, millions."""
    return sum(p.numel() for p in model.parameters()) / 1e6


def count_gflops(model: torch.nn.Module, input_shape: tuple[int, int, int]) -> float:
    """FLOPs of one image's forward pass, billions (``FlopCounterMode``, fp32, batch 1).

    ``FlopCounterMode`` counts a multiply-add as 2 FLOPs, so this is about twice timm's GMACs.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    inputs = torch.zeros((1, *input_shape), device=device)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(inputs)
    return counter.get_total_flops() / 1e9

