"""The ImageNet-1k validation set on local disk: layouts, labels, fingerprint, per-class subset.

Two layouts are read:

* **ImageFolder**: ``<root>/<class>/<image>``; the sorted class folder names are the labels
  0..N-1, as in ``torchvision.datasets.ImageFolder`` and timm. When every folder is an
  ImageNet-1k synset (``n01440764`` ...) its label is the synset's index in timm's list, which
  is the same order for the full 1,000 folders and stays right when some are missing.
* **Flat**: all images directly in ``<root>`` plus a labels file (``--labels``, default
  ``<root>/labels.txt``). Each non-empty line is either ``<file> <label>`` (separated by
  whitespace or a comma; ``<file>`` with or without its extension) or just ``<label>``, the
  latter assigned to the images in sorted file-name order. A label is a class index 0..999 in
  timm's order or a WordNet id (``n01440764``). Kaggle's ``LOC_val_solution.csv`` reads as is
  (header skipped, first synset of each row). The devkit's
  ``ILSVRC2012_validation_ground_truth.txt`` uses 1-based ILSVRC ids in a *different* class
  order and is refused with a hint: convert it to synsets first.

The dataset fingerprint hashes, for every image in sorted order, its relative path, size,
label and the sha256 of its first and last 64 KiB. Hashing all 6.4 GB would take a minute on
slow disks; since a typical ImageNet val JPEG is about 110 KiB, head and tail cover most
files entirely, and any re-encode, crop, truncation or relabel changes the fingerprint.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from leaderboard.errors import LeaderboardError

IMAGE_SUFFIXES = frozenset({".jpeg", ".jpg", ".png"})
IMAGENET_VAL_IMAGES = 50_000
FINGERPRINT_SCHEME = "head-tail-64k-v1"
FINGERPRINT_EDGE_BYTES = 64 * 1024
DEFAULT_LABELS_FILENAME = "labels.txt"
WNID_PATTERN = re.compile(r"^n\d{8}$")


class DatasetError(LeaderboardError):
    """The dataset folder or its labels file cannot be used."""


@dataclass(frozen=True)
class Sample:
    """One image and its class index.

    Attributes:
        path: The image file.
        label: Class index (timm / torchvision order).
        relpath: Path relative to the dataset root, POSIX style (for the fingerprint).
    """

    path: Path
    label: int
    relpath: str


@dataclass(frozen=True)
class Dataset:
    """A labelled evaluation set.

    Attributes:
        root: The folder given.
        layout: ``imagefolder`` or ``flat``.
        samples: Images in sorted order.
        classes: Class names (folders or synsets) by index, when known.
    """

    root: Path
    layout: str
    samples: tuple[Sample, ...]
    classes: tuple[str, ...] = ()


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() and not path.name.startswith(".")


def imagenet_synsets() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k WordNet ids in class-index order (the list timm ships)."""
    from importlib import resources

    text = resources.files("timm.data").joinpath("_info/imagenet_synsets.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def load_dataset(root: Path, labels_file: Path | None = None) -> Dataset:
    """Read an evaluation set in ImageFolder or flat layout (see the module docstring).

    Raises:
        DatasetError: No such folder, no images, a bad or incomplete labels file.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder; pass the ImageNet val folder with --imagenet "
                           "or the LEADERBOARD_IMAGENET environment variable")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if class_dirs and labels_file is None:
        return _image_folder(root, class_dirs)
    return _flat(root, labels_file or root / DEFAULT_LABELS_FILENAME)


def _image_folder(root: Path, class_dirs: list[Path]) -> Dataset:
    names = [d.name for d in class_dirs]
    synsets = imagenet_synsets()
    if all(WNID_PATTERN.match(name) for name in names):
        # Synset folders take their ImageNet-1k index, so a folder missing some classes (a
        # hand-made subset) still lines up with the model's 1,000 outputs.
        synset_index = {wnid: index for index, wnid in enumerate(synsets)}
        unknown = [name for name in names if name not in synset_index]
        if unknown:
            raise DatasetError(f"{root}: folders {', '.join(unknown[:5])} are not ImageNet-1k synsets")
        labels = [synset_index[name] for name in names]
    else:
        labels = list(range(len(names)))
    samples: list[Sample] = []
    for label, folder in zip(labels, class_dirs, strict=True):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if _is_image(path):
                    samples.append(Sample(path, label, path.relative_to(root).as_posix()))
    if not samples:
        raise DatasetError(f"{root}: no .JPEG/.jpg/.png images in its class folders")
    classes = synsets if labels != list(range(len(names))) else tuple(names)
    return Dataset(root, "imagefolder", tuple(samples), classes)


def _parse_label(token: str, where: str, synset_index: dict[str, int]) -> int:
    if WNID_PATTERN.match(token):
        if token not in synset_index:
            raise DatasetError(f"{where}: {token} is not one of the 1,000 ImageNet-1k synsets")
        return synset_index[token]
    if not token.isdigit():
        raise DatasetError(f"{where}: label {token!r} is neither a class index nor a synset id")
    return int(token)


def _flat(root: Path, labels_file: Path) -> Dataset:
    images = sorted((p for p in root.iterdir() if _is_image(p)), key=lambda p: p.name)
    if not images:
        raise DatasetError(f"{root}: no class folders and no .JPEG/.jpg/.png images")
    if not labels_file.is_file():
        raise DatasetError(f"{root}: flat layout needs a labels file; none at {labels_file}. Pass "
                           "--labels FILE (lines '<file> <label>' or one label per sorted file)")
    synsets = imagenet_synsets()
    synset_index = {wnid: index for index, wnid in enumerate(synsets)}
    by_name: dict[str, int] = {}
    ordered: list[int] = []
    for number, line in enumerate(labels_file.read_text("utf-8").splitlines(), start=1):
        tokens = [t for t in re.split(r"[\s,]+", line.strip()) if t]
        if not tokens:
            continue
        where = f"{labels_file}: line {number}"
        if len(tokens) == 1:
            ordered.append(_parse_label(tokens[0], where, synset_index))
            continue
        if number == 1 and not (tokens[1].isdigit() or WNID_PATTERN.match(tokens[1])):
            continue  # a CSV header such as "ImageId,PredictionString"
        by_name[tokens[0]] = _parse_label(tokens[1], where, synset_index)
    if by_name and ordered:
        raise DatasetError(f"{labels_file}: mixes '<file> <label>' lines with bare labels; use one")
    if ordered:
        if len(ordered) != len(images):
            raise DatasetError(f"{labels_file}: {len(ordered)} labels for {len(images)} images in "
                               f"{root}; one label per image in sorted file-name order")
        labels = ordered
    else:
        labels = []
        for path in images:
            label = by_name.get(path.name, by_name.get(path.stem))
            if label is None:
                raise DatasetError(f"{labels_file}: no label for {path.name}")
            labels.append(label)
    if max(labels) >= len(synsets):
        hint = (" (1-based ILSVRC2012_ID labels from the devkit? They use another class order: "
                "convert them to synset ids first)" if min(labels) >= 1 else "")
        raise DatasetError(f"{labels_file}: label {max(labels)} is outside 0..{len(synsets) - 1}{hint}")
    samples = tuple(Sample(p, label, p.name) for p, label in zip(images, labels, strict=True))
    return Dataset(root, "flat", samples, synsets)


# ---------------------------------------------------------------------------------------------
# Fingerprint and subsets


def _file_line(sample: Sample) -> str:
    size = sample.path.stat().st_size
    digest = hashlib.sha256()
    with open(sample.path, "rb") as handle:
        digest.update(handle.read(FINGERPRINT_EDGE_BYTES))
        if size > 2 * FINGERPRINT_EDGE_BYTES:
            handle.seek(size - FINGERPRINT_EDGE_BYTES)
        digest.update(handle.read(FINGERPRINT_EDGE_BYTES))
    return f"{sample.relpath}\t{size}\t{sample.label}\t{digest.hexdigest()}\n"


def fingerprint(samples: Sequence[Sample], workers: int = 8) -> str:
    """A digest of the evaluated files and labels: ``head-tail-64k-v1:<sha256 hex>``.

    Covers relative paths, sizes, labels and the first and last 64 KiB of every file (all of a
    file up to 128 KiB). Independent of the root folder and of file times.
    """
    ordered = sorted(samples, key=lambda s: s.relpath)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        lines = pool.map(_file_line, ordered)
        digest = hashlib.sha256()
        for line in lines:
            digest.update(line.encode("utf-8"))
    return f"{FINGERPRINT_SCHEME}:{digest.hexdigest()}"


def per_class_subset(samples: Sequence[Sample], per_class: int) -> list[Sample]:
    """The first ``per_class`` images of each class in sorted path order (deterministic).

    Sorted order, not a random draw: the same folder always gives the same subset, on any
    machine, with no seed to record.
    """
    if per_class < 1:
        raise DatasetError(f"--per-class must be at least 1, got {per_class}")
    by_class: dict[int, list[Sample]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: s.relpath):
        if len(by_class[sample.label]) < per_class:
            by_class[sample.label].append(sample)
    return sorted((s for group in by_class.values() for s in group), key=lambda s: s.relpath)


def wilson_interval(correct: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion, in percent (95% by default).

    Better than the normal approximation near 0% and 100%, where small subsets of a good model
    land.
    """
    if total <= 0:
        raise ValueError("total must be positive")
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    # The bounds at 0 and N correct are exactly 0% and 100%; say so despite rounding.
    low = 0.0 if correct == 0 else 100.0 * max(0.0, centre - half)
    high = 100.0 if correct == total else 100.0 * min(1.0, centre + half)
    return low, high
