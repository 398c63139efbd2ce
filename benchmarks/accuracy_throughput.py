"""Accuracy-evaluation throughput: our decode-on-device path against timm's standard loader.

Generates an ImageNet-like JPEG set (500x375 and 375x500, about 110 KiB each, like ImageNet
val's 6.4 GB / 50,000 files) from the two real photos scikit-learn ships, then measures on the
same files, model and batch size, in one run:

* ``timm loader``: ``timm.data.create_dataset`` + ``create_loader`` (PIL decode and resize in
  worker processes, timm's prefetcher on CUDA), as ``timm/validate.py`` evaluates;
* ``ours``: ``leaderboard.measure.accuracy`` with ``path="gpu"`` (reader threads, nvJPEG batch
  decode and resize on the GPU; on a CPU device the same tensor code with CPU decode);

each as images/s for the input pipeline alone and end to end with the model (fp16 autocast and
channels-last on CUDA for both, fp32 on CPU), and the ratio ours / timm.

Targets (issue: accuracy validator), GPU only: ours >= 3x timm's loader end to end, and
ResNet-50 over 50,000 images <= 20 s. Without a CUDA device the script says so, runs the CPU
paths on a small set and checks no target.

    python benchmarks/accuracy_throughput.py                       # GPU: 5,000 images
    python benchmarks/accuracy_throughput.py --images 512 --model resnet18 --device cpu
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

TARGET_RATIO = 3.0
TARGET_50K_S = 20.0
IMAGENET_VAL_IMAGES = 50_000
JPEG_QUALITY = 96
NOISE_SIGMA = 6.0  # sensor-like noise brings the synthetic files to ImageNet's typical size

# torchvision 0.29 warns on every decode call that its image I/O moves to TorchCodec.
warnings.filterwarnings("ignore", message="The image decoding and encoding", category=DeprecationWarning)


def _make_image(args: tuple[int, int, str]) -> int:
    """Write one ImageNet-like JPEG (a jittered crop of a real photo); returns its size, bytes."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_sample_images

    index, seed, path = args
    rng = np.random.default_rng(seed + index)
    photo = load_sample_images().images[index % 2]  # 427x640 RGB
    height_src, width_src = photo.shape[:2]
    # About a third of ImageNet val is portrait; 500x375 dominates.
    width, height = (375, 500) if index % 3 == 0 else (500, 375)
    zoom = rng.uniform(1.0, 1.15)
    crop_w, crop_h = min(int(width / zoom), width_src), min(int(height / zoom), height_src)
    x = int(rng.integers(0, width_src - crop_w + 1))
    y = int(rng.integers(0, height_src - crop_h + 1))
    image = Image.fromarray(photo[y:y + crop_h, x:x + crop_w]).resize((width, height), Image.BICUBIC)
    if rng.random() < 0.5:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
    pixels = np.asarray(image, dtype=np.float32) * rng.uniform(0.8, 1.2, 3)
    pixels += rng.normal(0.0, NOISE_SIGMA, pixels.shape)
    buffer = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=JPEG_QUALITY)
    Path(path).write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def make_dataset(root: Path, count: int, classes: int = 10, seed: int = 0) -> list[int]:
    """``count`` JPEGs in ImageFolder layout under ``root``; returns their sizes, bytes."""
    jobs = []
    for index in range(count):
        folder = root / f"c{index % classes:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        jobs.append((index, seed, str(folder / f"img_{index:06d}.JPEG")))
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        return list(pool.map(_make_image, jobs, chunksize=32))


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _timm_batches(root: Path, config: dict, device: str, batch_size: int, workers: int):
    import timm.data
    import torch

    dataset = timm.data.create_dataset("", root=str(root), split="")
    cuda = device.startswith("cuda")
    loader = timm.data.create_loader(
        dataset, input_size=config["input_size"], batch_size=batch_size, is_training=False,
        use_prefetcher=cuda, interpolation=config["interpolation"], mean=config["mean"],
        std=config["std"], crop_pct=config["crop_pct"], crop_mode=config["crop_mode"],
        num_workers=workers, pin_memory=cuda, device=torch.device(device),
        persistent_workers=False)
    for images, _target in loader:
        yield images.to(device, non_blocking=True)


def _run(batches, model, device: str, channels_last: bool) -> tuple[int, float]:
    """Consume ``batches`` (and run ``model`` on them when given); returns (images, seconds)."""
    import contextlib

    import torch

    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    amp = (torch.autocast("cuda", dtype=torch.float16) if device.startswith("cuda")
           else contextlib.nullcontext())
    images = 0
    _sync(device)
    start = time.perf_counter()
    with torch.inference_mode(), amp:
        for batch in batches:
            if model is not None:
                model(batch.contiguous(memory_format=memory_format)).float().argmax(-1)
            images += batch.shape[0]
    _sync(device)
    return images, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=None,
                        help="JPEGs to generate [default: 5,000 on CUDA, 128 on CPU]")
    parser.add_argument("--model", default="resnet50", help="timm model (random init) [resnet50]")
    parser.add_argument("--batch-size", type=int, default=None, help="[256 on CUDA, 32 on CPU]")
    parser.add_argument("--workers", type=int, default=None, help="loader workers [cores, <= 16]")
    parser.add_argument("--device", default=None, help="cuda or cpu [cuda when available]")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the JPEGs [temp dir]")
    args = parser.parse_args(argv)

    import timm
    import timm.data
    import torch

    from leaderboard.measure.accuracy import EvalPreprocessing, default_workers, evaluate, iter_batches
    from leaderboard.measure.imagenet import load_dataset

    cuda = torch.cuda.is_available()
    device = args.device or ("cuda" if cuda else "cpu")
    on_gpu = device.startswith("cuda")
    if on_gpu and not cuda:
        print("error: --device cuda but torch sees no CUDA device", file=sys.stderr)
        return 2
    count = args.images or (5000 if on_gpu else 128)
    batch_size = args.batch_size or (256 if on_gpu else 32)
    workers = args.workers or default_workers()
    if not on_gpu:
        print("NOTE: no CUDA device in use: running the CPU paths on a small set (timm's loader vs "
              "our tensor path with CPU decode). The GPU targets (ours >= 3x timm's loader, "
              "ResNet-50 over 50,000 images <= 20 s) are NOT measured by this run.")
    root = args.dir or Path(tempfile.mkdtemp(prefix="accuracy-throughput-"))
    try:
        start = time.perf_counter()
        sizes = make_dataset(root, count)
        print(f"generated {count:,} JPEGs (500x375 / 375x500, quality {JPEG_QUALITY}) in "
              f"{time.perf_counter() - start:.1f} s: mean {sum(sizes) / len(sizes) / 1024:.0f} KiB, "
              f"{sum(sizes) / 1e6:.0f} MB (ImageNet val: about 125 KiB mean)")
        samples = list(load_dataset(root).samples)
        for sample in samples:  # page cache warm for both paths alike
            sample.path.read_bytes()

        model = timm.create_model(args.model, pretrained=False).to(device).eval()
        config = timm.data.resolve_data_config({}, model=model)
        prep = EvalPreprocessing(tuple(config["input_size"]), config["crop_pct"],
                                 config["interpolation"], tuple(config["mean"]), tuple(config["std"]),
                                 config["crop_mode"])
        channels_last = on_gpu
        if on_gpu:
            torch.backends.cudnn.benchmark = True
            model = model.to(memory_format=torch.channels_last)
        print(f"device {device}{' (' + torch.cuda.get_device_name() + ')' if on_gpu else ''}, model "
              f"{args.model} (random init), input {prep.img_size} px, crop_pct {prep.crop_pct}, "
              f"{prep.interpolation}, batch {batch_size}, {workers} workers, torch {torch.__version__}, "
              f"timm {timm.__version__}")
        # Untimed warm-up of both pipelines on one batch (worker start, cuDNN autotuning).
        warm = samples[:batch_size]
        evaluate(model, warm, prep, device=device, batch_size=batch_size, path="gpu", workers=workers)
        _run(_timm_batches(root, config, device, batch_size, workers), None, device, channels_last)

        ours_name = "ours (nvJPEG + device resize)" if on_gpu else "ours (tensor path, CPU decode)"
        timm_n, timm_s = _run(_timm_batches(root, config, device, batch_size, workers), None,
                              device, channels_last)
        ours_n, ours_s = _run(iter_batches(samples, prep, device=device, batch_size=batch_size,
                                           path="gpu", workers=workers), None, device, channels_last)
        rows = [("input pipeline only", timm_n / timm_s, ours_n / ours_s)]
        timm_n, timm_s = _run(_timm_batches(root, config, device, batch_size, workers), model,
                              device, channels_last)
        # End to end, ours is the validator's own call (top-1/top-5 bookkeeping included).
        full = evaluate(model, samples, prep, device=device, batch_size=batch_size, path="gpu",
                        workers=workers)
        rows.append(("end to end with model", timm_n / timm_s, full.images_per_s))
        print()
        print(f"{'':24} {'timm loader img/s':>18} {ours_name + ' img/s':>38} {'ratio':>7}")
        for label, timm_rate, ours_rate in rows:
            print(f"{label:24} {timm_rate:18,.1f} {ours_rate:38,.1f} {ours_rate / timm_rate:6.2f}x")
        projected_s = IMAGENET_VAL_IMAGES / full.images_per_s
        print(f"\nevaluate(path='gpu'): {full.images_per_s:,.1f} images/s -> 50,000 images in "
              f"{projected_s:,.1f} s (projected from {full.images:,})")
        if not on_gpu:
            print("\nno target checked: the targets are for a CUDA GPU (unmeasured here).")
            return 0
        ratio = rows[1][2] / rows[1][1]
        checks = [(f"ours / timm loader end to end >= {TARGET_RATIO}x (got {ratio:.2f}x)",
                   ratio >= TARGET_RATIO)]
        if args.model == "resnet50":
            checks.append((f"ResNet-50, 50,000 images <= {TARGET_50K_S:.0f} s (projected "
                           f"{projected_s:.1f} s)", projected_s <= TARGET_50K_S))
        print()
        for text, ok in checks:
            print(f"{'PASS' if ok else 'FAIL'}  {text}")
        return 0 if all(ok for _, ok in checks) else 1
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
