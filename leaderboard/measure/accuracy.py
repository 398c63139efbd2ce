"""ImageNet accuracy of a submission: evaluation paths, verdict against the claim, record.

Preprocessing is timm's resolved data config (``resolve_data_config`` with the submission's
``eval`` overrides, ``use_test_size=True``), applied by one of two paths:

* ``gpu``: file bytes are read by CPU threads, JPEGs decoded in batches by
  ``torchvision.io.decode_jpeg`` on the device (nvJPEG on CUDA), then resized (antialiased,
  PIL-compatible kernels), center-cropped and normalised on the device, images of equal size
  resized together. The same tensor code runs on CPU, which is how the tests compare it with
  timm's transform on a machine without a GPU.
* ``cpu``: timm's own eval transform (``timm.data.create_transform``, PIL decode and resize)
  in ``DataLoader`` worker processes: the reference, and the fallback.

``auto`` picks ``gpu`` on CUDA when the config is supported (center or squash crop, square
input, nearest/bilinear/bicubic), else ``cpu``.

Verdict (protocol v1): ``verified`` when the full set's top-1 is within
:data:`leaderboard.vocabulary.ACCURACY_TOLERANCE_POINTS` (0.3) points of the claim, ``rejected``
otherwise; a per-class subset, or a folder without the expected 50,000 images, only reports
``subset`` with a Wilson 95% confidence interval.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from leaderboard.errors import LeaderboardError, UsageError
from leaderboard.measure.eval_transform import (  # noqa: F401 - re-exported for callers
    GPU_INTERPOLATIONS,
    DeviceTransform,
    EvalPreprocessing,
    center_crop,
    decode_batch,
    eval_preprocessing,
    pil_nearest_indices,
    read_and_decode_cpu,
    read_bytes,
    resized_size,
)
from leaderboard.measure.imagenet import (
    IMAGENET_VAL_IMAGES,
    Dataset,
    Sample,
    fingerprint,
    load_dataset,
    per_class_subset,
    wilson_interval,
)
from leaderboard.measure.weights import LocalWeights, as_safetensors, fetch_weights, local_weights
from leaderboard.records import (
    AccuracyResult,
    MeasuredWeights,
    MeasurementRecord,
    read_record,
    record_path,
    write_record,
)
from leaderboard.submission import Submission
from leaderboard.vocabulary import ACCURACY_TOLERANCE_POINTS, HEADLINE_SCENARIO

if TYPE_CHECKING:
    import torch

EvalPath = Literal["auto", "gpu", "cpu"]
Verdict = Literal["verified", "rejected", "subset"]

DEFAULT_BATCH_SIZE = 256
PREFETCH_BATCHES = 3
WEIGHTS_SUFFIXES = (".safetensors", ".pth", ".bin", ".pt")
CACHE_ENV = "LEADERBOARD_CACHE"




# ---------------------------------------------------------------------------------------------
# Evaluation


@dataclass(frozen=True)
class AccuracyMeasurement:
    """Result of one evaluation.

    Attributes:
        top1: Top-1 accuracy, percent.
        top5: Top-5 accuracy, percent.
        images: Images evaluated.
        correct_top1: Images whose first prediction is the label.
        predictions: Top-1 class of each image, in sample order.
        path: ``gpu`` or ``cpu`` (the one that ran).
        device: Torch device string.
        precision: ``fp16`` (CUDA autocast) or ``fp32``.
        elapsed_s: Wall time of the evaluation loop, s.
    """

    top1: float
    top5: float
    images: int
    correct_top1: int
    predictions: tuple[int, ...]
    path: str
    device: str
    precision: str
    elapsed_s: float

    @property
    def images_per_s(self) -> float:
        """Throughput of the whole pipeline (read, decode, resize, model)."""
        return self.images / self.elapsed_s if self.elapsed_s > 0 else float("inf")


def choose_path(path: EvalPath, device: str, prep: EvalPreprocessing) -> Literal["gpu", "cpu"]:
    """The evaluation path that will run for ``path`` (``auto`` resolved)."""
    if path == "cpu":
        return "cpu"
    if path == "gpu":
        reason = prep.gpu_unsupported()
        if reason is not None:
            raise UsageError(f"--path gpu does not support {reason}; use --path cpu or auto")
        return "gpu"
    if path != "auto":
        raise UsageError(f"unknown path '{path}'; use auto, gpu or cpu")
    return "gpu" if device.startswith("cuda") and prep.gpu_unsupported() is None else "cpu"


def default_workers() -> int:
    """Loader threads/processes: the cores this process may use, at most 16."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(16, cores or 1))


class _TimmTransformDataset:
    """Map-style dataset for ``DataLoader``: PIL decode + timm's eval transform (picklable)."""

    def __init__(self, samples: Sequence[Sample], transform: Callable[[Any], Any]):
        self.samples = list(samples)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        from PIL import Image

        sample = self.samples[index]
        with Image.open(sample.path) as image:
            return self.transform(image.convert("RGB")), sample.label


def _batches_cpu_path(samples: Sequence[Sample], prep: EvalPreprocessing, device: torch.device,
                      batch_size: int, workers: int) -> Iterator[torch.Tensor]:
    import timm.data
    import torch

    transform = timm.data.create_transform(**prep.timm_config(), is_training=False)
    loader = torch.utils.data.DataLoader(
        _TimmTransformDataset(samples, transform), batch_size=batch_size, shuffle=False,
        num_workers=workers, pin_memory=device.type == "cuda",
        persistent_workers=False, prefetch_factor=4 if workers else None)
    for images, _labels in loader:
        yield images.to(device, non_blocking=True)


def _batches_gpu_path(samples: Sequence[Sample], prep: EvalPreprocessing, device: torch.device,
                      batch_size: int, workers: int) -> Iterator[torch.Tensor]:
    transform = DeviceTransform(prep, device)
    on_cpu = device.type == "cpu"
    # CPU threads only read bytes (and, on a CPU device, decode: libjpeg releases the GIL);
    # a few batches are read ahead so the device never waits for the disk.
    load = read_and_decode_cpu if on_cpu else read_bytes
    chunks = [samples[i:i + batch_size] for i in range(0, len(samples), batch_size)]
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="imagenet-read") as pool:
        pending: deque[list[Future[Any]]] = deque()
        upcoming = iter(chunks)

        def submit_next() -> None:
            chunk = next(upcoming, None)
            if chunk is not None:
                pending.append([pool.submit(load, sample.path) for sample in chunk])

        for _ in range(PREFETCH_BATCHES):
            submit_next()
        while pending:
            futures = pending.popleft()
            submit_next()
            items = [future.result() for future in futures]
            images = items if on_cpu else decode_batch(items, device)
            yield transform(images)


def iter_batches(samples: Sequence[Sample], prep: EvalPreprocessing, *, device: str = "cuda",
                 batch_size: int = DEFAULT_BATCH_SIZE, path: EvalPath = "auto",
                 workers: int | None = None) -> Iterator[torch.Tensor]:
    """Preprocessed input batches ``(N, 3, H, W)`` float32 on ``device``, in sample order.

    The input half of :func:`evaluate`, for benchmarks of the loaders alone.
    """
    import torch

    chosen = choose_path(path, device, prep)
    workers = default_workers() if workers is None else workers
    make = _batches_gpu_path if chosen == "gpu" else _batches_cpu_path
    return make(samples, prep, torch.device(device), batch_size, workers)


def evaluate(model: Any, samples: Sequence[Sample], prep: EvalPreprocessing, *, device: str = "cuda",
             batch_size: int = DEFAULT_BATCH_SIZE, path: EvalPath = "auto", workers: int | None = None,
             channels_last: bool | None = None, precision: str | None = None,
             progress: Callable[[int, int], None] | None = None) -> AccuracyMeasurement:
    """Top-1/top-5 of ``model`` on ``samples`` with the eval transform ``prep``.

    Args:
        model: A classifier in eval mode on ``device`` (moved to channels-last on CUDA).
        samples: Images with labels.
        prep: The resolved eval transform.
        device: ``cuda``, ``cuda:N`` or ``cpu``.
        batch_size: Images per forward pass.
        path: ``gpu`` (device decode and resize; on a CPU device the same code runs on CPU),
            ``cpu`` (timm's transform in loader workers) or ``auto``.
        workers: Reader threads (gpu path) or loader processes (cpu path).
        channels_last: Channels-last model and inputs; default on CUDA, where convolutions run
            faster that way with the same result up to rounding.
        precision: ``fp32``, ``tf32`` (CUDA), ``fp16`` or ``bf16`` (autocast); default protocol
            v1's: fp16 on CUDA, fp32 on CPU. The savings sweep uses it for each precision's
            accuracy cost.
        progress: Called with ``(images_done, images_total)`` after each batch.

    Raises:
        UsageError: ``gpu`` requested for a transform it cannot reproduce.
    """
    import torch

    if not samples:
        raise UsageError("no images to evaluate")
    torch_device = torch.device(device)
    chosen = choose_path(path, device, prep)
    workers = default_workers() if workers is None else workers
    channels_last = torch_device.type == "cuda" if channels_last is None else channels_last
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(torch_device, memory_format=memory_format).eval()
    from leaderboard.measure.workload import autocast_dtype_for, default_precision, tf32_switches

    precision = precision or default_precision(torch_device.type)
    autocast_dtype = autocast_dtype_for(torch_device.type, precision)
    if torch_device.type != "cuda" and precision == "tf32":
        raise UsageError("tf32 is a CUDA tensor-core mode; use fp32 on the CPU")
    labels = torch.tensor([s.label for s in samples], dtype=torch.long, device=torch_device)
    batches = iter_batches(samples, prep, device=device, batch_size=batch_size, path=chosen,
                           workers=workers)
    top5_chunks: list[torch.Tensor] = []
    done = 0
    start = time.perf_counter()
    amp = (torch.autocast(torch_device.type, dtype=autocast_dtype) if autocast_dtype is not None
           else contextlib.nullcontext())
    # TF32 set for this evaluation only, not for the rest of the process.
    with torch.inference_mode(), amp, tf32_switches(torch_device.type, precision):
        for images in batches:
            logits = model(images.contiguous(memory_format=memory_format))
            # Kept on the device: a .cpu() per batch would stall the pipeline at each batch.
            top5_chunks.append(logits.float().topk(min(5, logits.shape[-1]), dim=-1).indices)
            done += images.shape[0]
            if progress is not None:
                progress(done, len(samples))
    top5 = torch.cat(top5_chunks)
    if torch_device.type == "cuda":
        torch.cuda.synchronize(torch_device)
    elapsed_s = time.perf_counter() - start
    hits = top5 == labels[:, None]
    correct_top1 = int(hits[:, 0].sum())
    correct_top5 = int(hits.any(dim=1).sum())
    total = len(samples)
    return AccuracyMeasurement(
        top1=100.0 * correct_top1 / total, top5=100.0 * correct_top5 / total, images=total,
        correct_top1=correct_top1, predictions=tuple(top5[:, 0].tolist()), path=chosen,
        device=str(torch_device), precision=precision, elapsed_s=elapsed_s)


# ---------------------------------------------------------------------------------------------
# Verdict


def verdict(measured_top1: float, claimed_top1: float,
            tolerance: float = ACCURACY_TOLERANCE_POINTS, subset: bool = False) -> Verdict:
    """``verified`` within ``tolerance`` points of the claim, else ``rejected``; ``subset`` never verifies."""
    if subset:
        return "subset"
    # Top-1 values carry 3 decimals; the epsilon keeps an exact 0.300 difference inside.
    return "verified" if abs(measured_top1 - claimed_top1) <= tolerance + 1e-9 else "rejected"


def verdict_message(result: AccuracyResult, claimed_top1: float,
                    tolerance: float = ACCURACY_TOLERANCE_POINTS) -> str:
    """One sentence saying what was found, for the CLI and the PR comment."""
    delta = result.claim_delta_top1
    side = "above" if delta > 0 else "below"
    if result.verdict == "verified":
        return (f"verified: measured top-1 {result.top1:.3f} % is within {tolerance} points of the "
                f"claimed {claimed_top1:.3f} % ({delta:+.3f})")
    if result.verdict == "rejected":
        return (f"rejected: measured top-1 {result.top1:.3f} % is {abs(delta):.3f} points {side} "
                f"the claimed {claimed_top1:.3f} % (tolerance {tolerance} points)")
    low, high = result.top1_ci95_low, result.top1_ci95_high
    inside = low is not None and high is not None and low <= claimed_top1 <= high
    what = f"{result.per_class} per class" if result.per_class else "not the full 50,000-image set"
    return (f"subset ({result.images} images, {what}): top-1 {result.top1:.3f} % (95% CI "
            f"{low:.2f}–{high:.2f} %); the claimed {claimed_top1:.3f} % is "
            f"{'inside' if inside else 'outside'} the interval. A subset never verifies; run the "
            "full validation set for a verdict")


def accuracy_result(measurement: AccuracyMeasurement, claimed_top1: float, dataset_fingerprint: str,
                    prep: EvalPreprocessing, *, per_class: int | None, full_set: bool,
                    weights_sha256: str | None,
                    tolerance: float = ACCURACY_TOLERANCE_POINTS) -> AccuracyResult:
    """The record's accuracy block for a measurement."""
    top1 = round(measurement.top1, 3)
    low, high = wilson_interval(measurement.correct_top1, measurement.images)
    return AccuracyResult(
        top1=top1, top5=round(measurement.top5, 3), images=measurement.images,
        dataset_fingerprint=dataset_fingerprint, per_class=per_class,
        verdict=verdict(top1, claimed_top1, tolerance, subset=per_class is not None or not full_set),
        claim_delta_top1=round(top1 - claimed_top1, 3),
        top1_ci95_low=round(low, 3), top1_ci95_high=round(high, 3),
        preprocessing=prep.record(), weights_sha256=weights_sha256,
        decode_path="gpu" if measurement.path == "gpu" else "cpu",
    )


# ---------------------------------------------------------------------------------------------
# One entry end to end


@dataclass(frozen=True)
class AccuracyOutcome:
    """What :func:`validate_accuracy` did.

    Attributes:
        record: The record written.
        path: Where it was written.
        result: Its accuracy block.
        measurement: The raw measurement.
        message: The verdict sentence.
        dataset: The dataset read (before any subset).
        updated: True when an existing record (energy) got the accuracy block.
        written: False when a subset result was not written over a full-set verdict.
    """

    record: MeasurementRecord
    path: Path
    result: AccuracyResult
    measurement: AccuracyMeasurement
    message: str
    dataset: Dataset
    updated: bool
    written: bool = True


def default_cache_dir() -> Path:
    """``$LEADERBOARD_CACHE/weights``, else ``~/.cache/leaderboard/weights``."""
    base = os.environ.get(CACHE_ENV)
    return Path(base) / "weights" if base else Path.home() / ".cache" / "leaderboard" / "weights"


def find_weights(submission: Submission, *, weights_file: Path | None = None,
                 weights_dir: Path | None = None, cache_dir: Path | None = None,
                 hub_cache_dir: Path | None = None, local_files_only: bool = False) -> LocalWeights:
    """The verified weights of an entry: a given file, ``<weights_dir>/<id>.<ext>``, or a fetch."""
    if weights_file is not None:
        return local_weights(submission, weights_file)
    if weights_dir is not None:
        for suffix in WEIGHTS_SUFFIXES:
            candidate = Path(weights_dir) / f"{submission.id}{suffix}"
            if candidate.is_file():
                return local_weights(submission, candidate)
        names = ", ".join(f"{submission.id}{s}" for s in WEIGHTS_SUFFIXES)
        raise LeaderboardError(f"{weights_dir}: no weights for {submission.id} (looked for {names})")
    return fetch_weights(submission, cache_dir or default_cache_dir(), hub_cache_dir=hub_cache_dir,
                         local_files_only=local_files_only)


def _check_device(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise UsageError(f"--device {device}: torch {torch.__version__} sees no CUDA device "
                             "here; run on a GPU machine or pass --device cpu")
    elif device != "cpu":
        raise UsageError(f"--device {device}: use cuda, cuda:N or cpu")


def _device_hardware(device: str) -> tuple[str, str]:
    """(device label for provenance, hardware slug) of ``device``."""
    from leaderboard.measure.runner import cpu_name, device_name, hardware_slug

    name = device_name(device, None)
    return (cpu_name() if name == "cpu" else name), hardware_slug(name)


def validate_accuracy(
    submission: Submission,
    submissions_dir: Path,
    imagenet_root: Path,
    *,
    labels_file: Path | None = None,
    per_class: int | None = None,
    expected_images: int | None = IMAGENET_VAL_IMAGES,
    device: str = "cuda",
    path: EvalPath = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    weights_file: Path | None = None,
    weights_dir: Path | None = None,
    cache_dir: Path | None = None,
    hub_cache_dir: Path | None = None,
    local_files_only: bool = False,
    hardware: str | None = None,
    scenario: str = HEADLINE_SCENARIO,
    progress: Callable[[int, int], None] | None = None,
) -> AccuracyOutcome:
    """Measure an entry's ImageNet accuracy and write it into its record for the board.

    The accuracy block goes into ``<hardware>--<scenario>.json``: an existing record (energy)
    keeps everything else; otherwise an accuracy-only record (no energy) is written.

    Args:
        submission: The entry.
        submissions_dir: The ``submissions/`` folder.
        imagenet_root: ImageNet val folder (ImageFolder, or flat with ``labels_file``).
        labels_file: Labels of a flat folder (default ``<root>/labels.txt``).
        per_class: Evaluate only the first N images of each class (verdict ``subset``).
        expected_images: Images a full set has (50,000); another count gives ``subset``.
            ``None`` takes any folder as the full set (small test sets).
        device: ``cuda``, ``cuda:N`` or ``cpu``.
        path: ``auto``, ``gpu`` or ``cpu`` (see :func:`evaluate`).
        batch_size: Images per forward pass.
        workers: Reader threads / loader processes.
        weights_file: A local weights file (checked against a URL pin).
        weights_dir: Folder with ``<id>.safetensors`` (or ``.pth``/``.bin``/``.pt``).
        cache_dir: Digest-keyed cache of URL downloads.
        hub_cache_dir: Hugging Face cache folder (default: the Hub's).
        local_files_only: Do not contact the Hub; use its cache only.
        hardware: Board hardware slug; default from the device's name.
        scenario: Board scenario whose record gets the accuracy block.
        progress: Called with ``(images_done, images_total)``.

    Raises:
        DatasetError, WeightsUnavailable, WeightsRefused, WorkloadError, UsageError.
    """
    from leaderboard.measure.runner import make_provenance, utc_now
    from leaderboard.measure.workload import WeightsInfo, build_model, count_params_m

    _check_device(device)
    if weights_file is not None and weights_dir is not None:
        raise UsageError("give --weights FILE or --weights-dir DIR, not both")
    dataset = load_dataset(imagenet_root, labels_file)  # before weights: fail fast on a bad path
    device_label, default_hardware = _device_hardware(device)
    hardware = hardware or default_hardware
    target = record_path(submissions_dir, submission.id, hardware, scenario)
    # Read (and validate) the record this joins before the long evaluation, not after it.
    existing = read_record(target) if target.is_file() else None
    samples = list(dataset.samples) if per_class is None else per_class_subset(dataset.samples, per_class)
    full_set = per_class is None and (expected_images is None or len(dataset.samples) == expected_images)
    weights = find_weights(submission, weights_file=weights_file, weights_dir=weights_dir,
                           cache_dir=cache_dir, hub_cache_dir=hub_cache_dir,
                           local_files_only=local_files_only)
    with as_safetensors(weights) as safetensors_path:
        model, info = build_model(submission, "pretrained", device, safetensors_path,
                                  weights=WeightsInfo(kind="pretrained", sha256=weights.sha256))
    prep = eval_preprocessing(submission, model)
    dataset_fingerprint = fingerprint(samples, workers=workers or default_workers())
    measurement = evaluate(model, samples, prep, device=device, batch_size=batch_size, path=path,
                           workers=workers, progress=progress)
    claimed = submission.claims.top1
    result = accuracy_result(measurement, claimed, dataset_fingerprint, prep, per_class=per_class,
                             full_set=full_set, weights_sha256=weights.sha256)
    message = verdict_message(result, claimed)
    if per_class is None and not full_set:
        message += (f" ({len(dataset.samples)} images in {imagenet_root}, expected "
                    f"{expected_images})")

    if (existing is not None and existing.accuracy is not None and result.verdict == "subset"
            and existing.accuracy.verdict in ("verified", "rejected")):
        # A quick subset check must not wipe out a full-set verdict the site shows.
        message += (f". Not written: {target} keeps its full-set verdict "
                    f"({existing.accuracy.verdict}, top-1 {existing.accuracy.top1:.3f} %)")
        return AccuracyOutcome(existing, target, result, measurement, message, dataset,
                               updated=False, written=False)
    if existing is not None:
        record = existing.model_copy(update={"accuracy": result})
    else:
        record = MeasurementRecord(
            entry_id=submission.id, hardware=hardware, scenario=scenario, status="ok",
            measured_at=utc_now(), weights=MeasuredWeights(kind=info.kind, sha256=info.sha256),
            input_shape=[batch_size, *prep.input_size], batch_size=batch_size,
            precision=measurement.precision, params_m=count_params_m(model), accuracy=result,
            provenance=make_provenance(device_label, None, None),
        )
    # Validate the combined record before it replaces anything on disk.
    record = MeasurementRecord.model_validate(record.model_dump())
    written = write_record(submissions_dir, record)
    return AccuracyOutcome(record, written, result, measurement, message, dataset,
                           updated=existing is not None, written=True)
