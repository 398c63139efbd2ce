"""The evaluation transform: timm's eval preprocessing, and decode plus resize on the device.

``EvalPreprocessing`` mirrors ``timm.data.transforms_imagenet_eval``; ``DeviceTransform`` and
``decode_batch`` reproduce it on the GPU (nvJPEG decode, resize, center crop, normalise) or with
the same code on the CPU. Split from :mod:`leaderboard.measure.accuracy`, which evaluates with it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leaderboard.errors import UsageError
from leaderboard.records import Preprocessing
from leaderboard.submission import Submission

if TYPE_CHECKING:
    import torch

GPU_INTERPOLATIONS = {"bilinear": "bilinear", "bicubic": "bicubic", "nearest": "nearest-exact"}


@dataclass(frozen=True)
class EvalPreprocessing:
    """What the eval transform does; mirrors ``timm.data.transforms_imagenet_eval``.

    Attributes:
        input_size: ``(C, H, W)`` of the model input.
        crop_pct: Center-crop fraction: the image is resized to ``floor(size / crop_pct)``.
        interpolation: Resize kernel name (timm's).
        mean: Per-channel mean (0..1 scale).
        std: Per-channel std (0..1 scale).
        crop_mode: ``center`` (shorter side, keep aspect) or ``squash`` (both sides); timm's
            ``border`` runs on the cpu path only.
    """

    input_size: tuple[int, int, int]
    crop_pct: float
    interpolation: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_mode: str = "center"

    @property
    def img_size(self) -> int:
        """Input height, px."""
        return self.input_size[1]

    def timm_config(self) -> dict[str, Any]:
        """Keyword arguments of ``timm.data.create_transform`` (eval)."""
        return {"input_size": self.input_size, "interpolation": self.interpolation,
                "mean": self.mean, "std": self.std, "crop_pct": self.crop_pct,
                "crop_mode": self.crop_mode}

    def record(self) -> Preprocessing:
        """The record's ``accuracy.preprocessing`` block."""
        return Preprocessing(img_size=self.img_size, crop_pct=float(self.crop_pct),
                             interpolation=self.interpolation, mean=[float(v) for v in self.mean],
                             std=[float(v) for v in self.std], crop_mode=self.crop_mode)

    def gpu_unsupported(self) -> str | None:
        """Why the device path cannot reproduce this config, or None when it can."""
        if self.interpolation not in GPU_INTERPOLATIONS:
            return f"interpolation '{self.interpolation}'"
        if self.crop_mode not in ("center", "squash"):
            return f"crop_mode '{self.crop_mode}'"
        if self.input_size[1] != self.input_size[2]:
            return f"non-square input {self.input_size[1]}x{self.input_size[2]}"
        return None


def eval_preprocessing(submission: Submission, model: Any = None) -> EvalPreprocessing:
    """Resolve the eval transform like timm's ``validate.py``, with the submission's overrides."""
    import timm.data

    from leaderboard.measure.workload import resolve_input

    resolved = resolve_input(submission, model)
    # resolve_input covers size, crop, interpolation, mean and std; crop_mode comes from the
    # same pretrained config (some models, e.g. EVA-02 at 448, squash instead of cropping).
    cfg = dict(getattr(model, "pretrained_cfg", None) or {}) or {"architecture": "unknown"}
    crop_mode = timm.data.resolve_data_config({}, pretrained_cfg=cfg, use_test_size=True)["crop_mode"]
    return EvalPreprocessing(input_size=resolved.input_shape, crop_pct=resolved.crop_pct,
                             interpolation=resolved.interpolation, mean=resolved.mean,
                             std=resolved.std, crop_mode=str(crop_mode or "center"))


# ---------------------------------------------------------------------------------------------
# The device transform (decode and resize on the GPU, or the same code on CPU)


def resized_size(height: int, width: int, prep: EvalPreprocessing) -> tuple[int, int]:
    """Output ``(h, w)`` of the resize step, exactly as torchvision's ``Resize`` computes it."""
    scale_size = math.floor(prep.img_size / prep.crop_pct)
    if prep.crop_mode == "squash":
        return scale_size, scale_size
    short, long = (height, width) if height <= width else (width, height)
    if short == scale_size:
        return height, width
    new_short, new_long = scale_size, int(scale_size * long / short)
    return (new_short, new_long) if height <= width else (new_long, new_short)


def center_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """torchvision's ``CenterCrop`` on ``(N, C, H, W)``: zero-pads when smaller, rounds offsets."""
    import torch.nn.functional as F

    height, width = images.shape[-2:]
    if height < size or width < size:
        pad_h, pad_w = max(size - height, 0), max(size - width, 0)
        images = F.pad(images, [pad_w // 2, (pad_w + 1) // 2, pad_h // 2, (pad_h + 1) // 2])
        height, width = images.shape[-2:]
    top = int(round((height - size) / 2.0))
    left = int(round((width - size) / 2.0))
    return images[..., top:top + size, left:left + size]


def pil_nearest_indices(in_size: int, out_size: int, device: Any = None) -> torch.Tensor:
    """Source index of each output pixel of PIL's NEAREST resize.

    PIL steps a double accumulator (``xo = scale / 2; xo += scale``) and truncates; torch's
    ``nearest-exact`` computes each position directly and disagrees where the accumulator lands
    just below an integer. Repeating PIL's additions gives its exact indices.
    """
    import torch

    scale = in_size / out_size
    position = scale * 0.5
    indices = []
    for _ in range(out_size):
        indices.append(min(int(position), in_size - 1))
        position += scale
    return torch.tensor(indices, dtype=torch.long, device=device)


class DeviceTransform:
    """timm's eval transform on uint8 image tensors, batched, on any device.

    Resize uses ``torch.nn.functional.interpolate`` with ``antialias=True``, whose bilinear and
    bicubic kernels are ports of PIL's (bicubic a=-0.5); the result is rounded to whole 0..255
    values as PIL's 8-bit output is, then cropped and normalised.
    """

    def __init__(self, prep: EvalPreprocessing, device: str | torch.device):
        import torch

        reason = prep.gpu_unsupported()
        if reason is not None:
            raise UsageError(f"the gpu path does not support {reason}; use --path cpu")
        self.prep = prep
        self.device = torch.device(device)
        self.mode = GPU_INTERPOLATIONS[prep.interpolation]
        std = torch.tensor(prep.std, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        mean = torch.tensor(prep.mean, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        # (x / 255 - mean) / std as one multiply-add.
        self.scale = 1.0 / (255.0 * std)
        self.shift = -mean / std

    def _resize(self, batch: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        import torch.nn.functional as F

        if tuple(batch.shape[-2:]) == size:
            return batch.float()  # torchvision's Resize returns such an image unchanged
        if self.mode == "nearest-exact":
            rows = pil_nearest_indices(batch.shape[-2], size[0], batch.device)
            cols = pil_nearest_indices(batch.shape[-1], size[1], batch.device)
            return batch.index_select(-2, rows).index_select(-1, cols).float()
        # Two separable passes, horizontal first, rounded to 8 bits in between: PIL resamples
        # this way, and matching it brings bicubic within one level of timm's PIL output.
        height, width = batch.shape[-2:]
        out = batch.float()
        if width != size[1]:
            out = F.interpolate(out, size=(height, size[1]), mode=self.mode, antialias=True,
                                align_corners=False).round_().clamp_(0.0, 255.0)
        if height != size[0]:
            out = F.interpolate(out, size=size, mode=self.mode, antialias=True, align_corners=False)
        return out

    def __call__(self, images: Sequence[torch.Tensor]) -> torch.Tensor:
        """Transform uint8 ``(3, H, W)`` images on ``device`` into a normalised float batch."""
        import torch

        size = self.prep.img_size
        out = torch.empty((len(images), 3, size, size), dtype=torch.float32, device=self.device)
        groups: dict[tuple[int, int], list[int]] = {}
        for index, image in enumerate(images):
            groups.setdefault(tuple(image.shape[-2:]), []).append(index)
        # ImageNet has a few dominant sizes (500x375, 375x500, 500x333): one kernel per size.
        for (height, width), indices in groups.items():
            batch = torch.stack([images[i] for i in indices])
            resized = center_crop(self._resize(batch, resized_size(height, width, self.prep)), size)
            resized = resized.round_().clamp_(0.0, 255.0)
            out[torch.tensor(indices, device=self.device)] = resized * self.scale + self.shift
        return out


def _decode_fallback(data: torch.Tensor) -> torch.Tensor:
    """Decode one image on CPU: torchvision (JPEG, PNG, ...), else PIL (CMYK, odd files)."""
    import numpy as np
    import torch
    from PIL import Image
    from torchvision.io import ImageReadMode, decode_image

    try:
        return decode_image(data, mode=ImageReadMode.RGB)
    except RuntimeError:
        with Image.open(io.BytesIO(data.numpy().tobytes())) as image:
            array = np.asarray(image.convert("RGB"))
        return torch.from_numpy(array.copy()).permute(2, 0, 1)


def read_bytes(path: Path) -> torch.Tensor:
    """A file's bytes as a uint8 tensor (what nvJPEG decodes)."""
    import torch

    # bytearray: torch.frombuffer wants a writable buffer.
    return torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8)


def read_and_decode_cpu(path: Path) -> torch.Tensor:
    """An image decoded on the CPU to a uint8 RGB tensor (JPEG fast path, PIL otherwise)."""
    from torchvision.io import ImageReadMode, decode_jpeg

    data = read_bytes(path)
    if data[:3].tolist() == [0xFF, 0xD8, 0xFF]:
        try:
            return decode_jpeg(data, mode=ImageReadMode.RGB)
        except RuntimeError:
            pass
    return _decode_fallback(data)


def decode_batch(datas: list[torch.Tensor], device: torch.device) -> list[torch.Tensor]:
    """Decode a batch of encoded images onto ``device`` (CUDA: one batched nvJPEG call).

    A batch that nvJPEG refuses (one CMYK or PNG file among JPEGs) is retried image by image,
    and an image it refuses is decoded on CPU and copied over.
    """
    from torchvision.io import ImageReadMode, decode_jpeg

    is_jpeg = [d[:3].tolist() == [0xFF, 0xD8, 0xFF] for d in datas]
    out: list[torch.Tensor | None] = [None] * len(datas)
    jpegs = [i for i, ok in enumerate(is_jpeg) if ok]
    if jpegs:
        try:
            decoded = decode_jpeg([datas[i] for i in jpegs], mode=ImageReadMode.RGB, device=device)
            for i, image in zip(jpegs, decoded, strict=True):
                out[i] = image
        except RuntimeError:
            for i in jpegs:
                try:
                    out[i] = decode_jpeg(datas[i], mode=ImageReadMode.RGB, device=device)
                except RuntimeError:
                    pass
    return [image if image is not None else _decode_fallback(datas[i]).to(device, non_blocking=True)
            for i, image in enumerate(out)]
