"""Accuracy validation on real images, on CPU: dataset, preprocessing, safe weights, verdict, CLI.

The fixture writes scikit-learn's handwritten digits (1,797 real 8x8 scans) as upsampled,
tinted RGB JPEGs in ImageFolder layout, trains timm's ``test_resnet`` on half of them for a few
epochs and saves it as safetensors. Everything downstream is the real code path: the same
validator a maintainer runs on ImageNet, with ``--expect-images 0`` because the set is small.

Images and weights are made once and kept in a cache folder (``$LEADERBOARD_TEST_CACHE``, else
``~/.cache/leaderboard-tests``) under a key of the code that makes them and the library
versions; each session copies them into its own temporary folder. Writing and training took
a sixth of the suite's time on a 2-core machine.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from conftest import TEST_CACHE_ROOT, loopback_server, valid_submission_dict, write_submission

from leaderboard.cli import cli
from leaderboard.measure import accuracy as acc
from leaderboard.measure import weights as wt
from leaderboard.measure.imagenet import (
    DatasetError,
    fingerprint,
    load_dataset,
    per_class_subset,
    wilson_interval,
)
from leaderboard.records import read_record, record_path, write_record
from leaderboard.submission import Submission, UrlWeights
from leaderboard.submission import Weights as SubmissionWeights
from leaderboard.testing import synthetic_record

# torchvision 0.29 warns on every decode that its image I/O moves to TorchCodec (see the report).
pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding:DeprecationWarning")

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
sklearn_datasets = pytest.importorskip("sklearn.datasets")

ENTRY = "test_resnet.digits"
IMG_SIZE = 48
EVAL = {"img_size": IMG_SIZE, "crop_pct": 0.875, "interpolation": "bicubic"}
WORKERS = 2


def _write_digits(root: Path) -> None:
    """The digits as 96x72 / 72x96 RGB JPEGs (both orientations, so resize and crop matter)."""
    from PIL import Image

    digits = sklearn_datasets.load_digits()
    rng = np.random.default_rng(0)
    for index, (image, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        gray = Image.fromarray((image / 16 * 255).astype(np.uint8))
        gray = gray.resize((96, 72) if index % 2 else (72, 96), Image.BICUBIC)
        rgb = np.repeat(np.asarray(gray, dtype=np.float32)[..., None], 3, axis=2)
        rgb = rgb * rng.uniform(0.6, 1.0, 3) + rng.normal(0.0, 6.0, rgb.shape)
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(folder / f"{index:04d}.jpg", quality=90)


def _train(dataset_root: Path, prep: acc.EvalPreprocessing) -> torch.nn.Module:
    """test_resnet (1,000 outputs, as build_model makes it) trained on half of the digits."""
    import timm
    import timm.data
    from PIL import Image

    samples = load_dataset(dataset_root).samples
    transform = timm.data.create_transform(**prep.timm_config())
    images = torch.stack([transform(Image.open(s.path).convert("RGB")) for s in samples])
    labels = torch.tensor([s.label for s in samples])
    torch.manual_seed(0)
    model = timm.create_model("test_resnet", num_classes=1000)
    train = torch.randperm(len(samples))[: len(samples) // 2]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    model.train()
    for _epoch in range(5):
        order = train[torch.randperm(len(train))]
        for start in range(0, len(order), 64):
            batch = order[start:start + 64]
            loss = torch.nn.functional.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def _preprocessing() -> acc.EvalPreprocessing:
    return acc.EvalPreprocessing((3, IMG_SIZE, IMG_SIZE), EVAL["crop_pct"], EVAL["interpolation"],
                                 (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def _cache_key() -> str:
    """Changes with the code that writes and trains the fixture and with the libraries it uses."""
    import inspect

    import PIL
    import sklearn
    import timm

    parts = [inspect.getsource(_write_digits), inspect.getsource(_train), repr(EVAL),
             torch.__version__, timm.__version__, np.__version__, PIL.__version__,
             sklearn.__version__]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


def _make_fixture(folder: Path) -> None:
    """Write the images to ``folder/digits`` and the trained weights to ``folder/weights``."""
    import safetensors.torch

    _write_digits(folder / "digits")
    model = _train(folder / "digits", _preprocessing())
    (folder / "weights").mkdir()
    safetensors.torch.save_file(model.state_dict(), str(folder / "weights" / f"{ENTRY}.safetensors"))


def _cached_fixture() -> Path | None:
    """The cache folder with images and weights, made now when missing; None if uncachable."""
    folder = TEST_CACHE_ROOT / f"digits-{_cache_key()}"
    if (folder / "complete").is_file():
        return folder
    try:
        TEST_CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".digits-", dir=TEST_CACHE_ROOT))
    except OSError:
        return None
    try:
        _make_fixture(staging)
        (staging / "complete").write_text("images and weights are whole\n", encoding="utf-8")
        try:
            os.replace(staging, folder)  # whole or not at all; a parallel session may win
        except OSError:
            shutil.rmtree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


class Digits:
    """Paths and numbers of the trained digits fixture."""

    def __init__(self, root: Path):
        import safetensors.torch
        import timm

        self.root = root
        cached = _cached_fixture()
        if cached is None:
            _make_fixture(root)
        else:  # a private copy: no test can change the cache for the next session
            shutil.copytree(cached / "digits", root / "digits")
            shutil.copytree(cached / "weights", root / "weights")
        self.images = root / "digits"
        self.prep = _preprocessing()
        self.weights = root / "weights" / f"{ENTRY}.safetensors"
        self.model = timm.create_model("test_resnet", num_classes=1000)
        self.model.load_state_dict(safetensors.torch.load_file(str(self.weights)))
        self.model.eval()
        self.sha256 = hashlib.sha256(self.weights.read_bytes()).hexdigest()
        self.samples = load_dataset(self.images).samples
        self.reference = acc.evaluate(self.model, self.samples, self.prep, device="cpu", path="cpu",
                                      workers=WORKERS)

    def submission_dict(self, top1: float) -> dict:
        data = valid_submission_dict(ENTRY, "test_resnet")
        data["model"]["weights"] = {"url": {"url": f"https://github.com/example/{ENTRY}.safetensors",
                                            "sha256": self.sha256}}
        data["model"]["family"] = "resnet"
        data["eval"] = dict(EVAL)
        data["claims"] = {"top1": top1, "source": "digits fixture"}
        data["compute"] = {"params_m": 0.47, "source": "timm"}
        return data

    def tree(self, tmp_path: Path, top1: float) -> Path:
        """A submissions folder holding the entry with this claim."""
        write_submission(tmp_path, self.submission_dict(top1))
        return tmp_path / "submissions"

    def submission(self, top1: float) -> Submission:
        return Submission.model_validate(self.submission_dict(top1))


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Digits:
    return Digits(tmp_path_factory.mktemp("accuracy"))


def _run_cli(args: list[str], env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=True, standalone_mode=False)


def _cli_args(digits: Digits, tree: Path, *extra: str) -> list[str]:
    return ["validate-accuracy", ENTRY, "--submissions", str(tree), "--expect-images", "0",
            "--weights-dir", str(digits.weights.parent), "--device", "cpu", "--workers", str(WORKERS),
            "--batch-size", "128", "--hardware", "cpu-test", *extra]


# ---------------------------------------------------------------------------------------------
# Dataset


def test_digits_image_folder_layout(digits):
    dataset = load_dataset(digits.images)
    assert dataset.layout == "imagefolder"
    assert dataset.classes == tuple(str(i) for i in range(10))
    assert len(dataset.samples) == 1797
    assert [s.label for s in dataset.samples] == sorted(s.label for s in dataset.samples)
    assert all(s.relpath.startswith(f"{s.label}/") for s in dataset.samples)


def test_synset_folders_take_their_imagenet_index(tmp_path, digits):
    source = digits.samples[0].path
    for wnid in ("n01443537", "n15075141"):  # class 1 and class 999; class 0 is missing
        (tmp_path / wnid).mkdir()
        shutil.copy(source, tmp_path / wnid / "a.JPEG")
    assert [s.label for s in load_dataset(tmp_path).samples] == [1, 999]


def test_flat_layout_with_labels_file(tmp_path, digits):
    chosen = digits.samples[::200]
    for index, sample in enumerate(chosen):
        shutil.copy(sample.path, tmp_path / f"ILSVRC2012_val_{index + 1:08d}.JPEG")
    names = sorted(p.name for p in tmp_path.glob("*.JPEG"))
    # "<file> <label>", stems allowed, in any order.
    (tmp_path / "labels.txt").write_text(
        "".join(f"{Path(n).stem} {s.label}\n" for n, s in reversed(list(zip(names, chosen, strict=True)))))
    dataset = load_dataset(tmp_path)
    assert dataset.layout == "flat"
    assert [s.label for s in dataset.samples] == [s.label for s in chosen]
    # One label per sorted file, and synset ids (Kaggle CSV with a header).
    bare = tmp_path / "bare.txt"
    bare.write_text("".join(f"{s.label}\n" for s in chosen))
    assert [s.label for s in load_dataset(tmp_path, bare).samples] == [s.label for s in chosen]
    csv = tmp_path / "LOC_val_solution.csv"
    csv.write_text("ImageId,PredictionString\n" + "".join(
        f"{Path(n).stem},n01443537 1 2 3 4\n" for n in names))
    assert {s.label for s in load_dataset(tmp_path, csv).samples} == {1}


def test_flat_layout_refuses_devkit_labels_and_missing_ones(tmp_path, digits):
    for index in range(3):
        shutil.copy(digits.samples[index].path, tmp_path / f"{index}.JPEG")
    devkit = tmp_path / "ILSVRC2012_validation_ground_truth.txt"
    devkit.write_text("490\n361\n1000\n")
    with pytest.raises(DatasetError, match="1-based ILSVRC2012_ID"):
        load_dataset(tmp_path, devkit)
    short = tmp_path / "short.txt"
    short.write_text("1\n2\n")
    with pytest.raises(DatasetError, match="2 labels for 3 images"):
        load_dataset(tmp_path, short)
    with pytest.raises(DatasetError, match="needs a labels file"):
        load_dataset(tmp_path)


def test_fingerprint_changes_when_a_file_changes_not_when_the_folder_moves(tmp_path, digits):
    copy = tmp_path / "copy"
    shutil.copytree(digits.images, copy)
    before = fingerprint(load_dataset(copy).samples)
    assert before == fingerprint(digits.samples)  # independent of the root folder
    assert before.startswith("head-tail-64k-v1:")
    victim = next((copy / "3").iterdir())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the middle of a small file
    victim.write_bytes(bytes(data))
    assert fingerprint(load_dataset(copy).samples) != before


def test_per_class_subset_is_deterministic(digits):
    subset = per_class_subset(digits.samples, 3)
    assert len(subset) == 30
    assert subset == per_class_subset(list(reversed(digits.samples)), 3)
    for label in range(10):
        mine = [s.relpath for s in subset if s.label == label]
        assert mine == sorted(s.relpath for s in digits.samples if s.label == label)[:3]


def test_wilson_interval():
    low, high = wilson_interval(80, 100)
    assert (round(low, 2), round(high, 2)) == (71.12, 86.66)
    assert wilson_interval(10, 10)[1] == 100.0 and wilson_interval(10, 10)[0] > 65


def test_verdict_threshold():
    assert acc.verdict(80.082, 80.382) == "verified"  # exactly 0.3 below
    assert acc.verdict(80.081, 80.382) == "rejected"
    assert acc.verdict(80.682, 80.382) == "verified"
    assert acc.verdict(80.382, 80.382, subset=True) == "subset"


# ---------------------------------------------------------------------------------------------
# Preprocessing: the device transform (run on CPU) against timm's PIL transform


@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear", "nearest"])
@pytest.mark.parametrize("crop_pct", [0.875, 1.0, 1.15])
def test_device_transform_matches_timm_pixels(digits, interpolation, crop_pct):
    import timm.data
    from PIL import Image

    prep = acc.EvalPreprocessing((3, IMG_SIZE, IMG_SIZE), crop_pct, interpolation,
                                 (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    transform = timm.data.create_transform(**prep.timm_config())
    samples = digits.samples[:40]
    expected = torch.stack([transform(Image.open(s.path).convert("RGB")) for s in samples])
    got = acc.DeviceTransform(prep, "cpu")([acc.read_and_decode_cpu(s.path) for s in samples])
    levels = (expected - got).abs() * torch.tensor(prep.std).view(1, 3, 1, 1) * 255
    assert levels.max() <= 1.001  # at most one 8-bit level apart (rounding)
    assert levels.mean() < 0.2


def test_gpu_path_on_cpu_agrees_with_timm_transform(digits, capsys):
    ours = acc.evaluate(digits.model, digits.samples, digits.prep, device="cpu", path="gpu",
                        workers=WORKERS)
    timm_path = digits.reference
    same = np.mean(np.array(ours.predictions) == np.array(timm_path.predictions))
    with capsys.disabled():
        print(f"\n[agreement] timm top-1 {timm_path.top1:.3f} %, ours {ours.top1:.3f} %, "
              f"difference {ours.top1 - timm_path.top1:+.3f} points, identical predictions "
              f"{100 * same:.2f} % of {ours.images}")
    assert ours.path == "gpu" and timm_path.path == "cpu"
    assert abs(ours.top1 - timm_path.top1) <= 0.1
    assert same >= 0.99
    assert 80.0 < timm_path.top1 < 100.0  # a real, imperfect classifier


def test_auto_path_and_unsupported_configs():
    prep = acc.EvalPreprocessing((3, 224, 224), 0.9, "bicubic", (0.5,) * 3, (0.5,) * 3)
    assert acc.choose_path("auto", "cpu", prep) == "cpu"
    assert acc.choose_path("auto", "cuda", prep) == "gpu"
    border = acc.EvalPreprocessing((3, 224, 224), 0.9, "bicubic", (0.5,) * 3, (0.5,) * 3, "border")
    assert acc.choose_path("auto", "cuda", border) == "cpu"
    with pytest.raises(acc.UsageError, match="crop_mode 'border'"):
        acc.choose_path("gpu", "cuda", border)


def test_decode_batch_falls_back_for_png_and_cmyk(digits):
    import io

    from PIL import Image

    jpeg = digits.samples[0].path.read_bytes()
    png, cmyk = io.BytesIO(), io.BytesIO()
    Image.open(digits.samples[1].path).save(png, "PNG")
    Image.open(digits.samples[2].path).convert("CMYK").save(cmyk, "JPEG")
    datas = [torch.frombuffer(bytearray(b), dtype=torch.uint8)
             for b in (jpeg, png.getvalue(), cmyk.getvalue())]
    images = acc.decode_batch(datas, torch.device("cpu"))
    sizes = [Image.open(digits.samples[i].path).size for i in range(3)]
    assert [tuple(i.shape) for i in images] == [(3, h, w) for w, h in sizes]
    assert all(i.dtype == torch.uint8 for i in images)


# ---------------------------------------------------------------------------------------------
# End to end from the CLI


def test_cli_true_claim_verifies_and_writes_the_record(digits, tmp_path):
    claim = round(digits.reference.top1, 3)
    tree = digits.tree(tmp_path, claim)
    env = {"LEADERBOARD_IMAGENET": str(digits.images)}  # the maintainer's default
    result = _run_cli(_cli_args(digits, tree), env=env)
    assert result.exception is None, result.output
    assert "verified: measured top-1" in result.stdout
    assert "preprocessing: 48 px, crop_pct 0.875 (center), bicubic" in result.stdout
    assert "images" in result.stderr and "verified" not in result.stderr  # progress only
    record = read_record(record_path(tree, ENTRY, "cpu-test", "offline"))
    accuracy = record.accuracy
    assert accuracy.verdict == "verified" and abs(accuracy.claim_delta_top1) <= 0.1
    assert accuracy.images == 1797 and accuracy.per_class is None
    assert accuracy.dataset_fingerprint == fingerprint(digits.samples)
    assert accuracy.weights_sha256 == digits.sha256 == record.weights.sha256
    assert accuracy.preprocessing.model_dump() == {
        "img_size": 48, "crop_pct": 0.875, "interpolation": "bicubic", "mean": [0.5] * 3,
        "std": [0.5] * 3, "crop_mode": "center"}
    assert record.energy is None and record.status == "ok" and record.precision == "fp32"


def test_cli_false_claim_is_rejected_with_the_difference(digits, tmp_path):
    claim = round(digits.reference.top1 + 2.5, 3)
    tree = digits.tree(tmp_path, claim)
    result = _run_cli(_cli_args(digits, tree, "--imagenet", str(digits.images), "--path", "gpu"))
    assert result.exception is not None and "claim rejected" in str(result.exception)
    assert "points below the claimed" in result.output
    accuracy = read_record(record_path(tree, ENTRY, "cpu-test", "offline")).accuracy
    assert accuracy.verdict == "rejected" and accuracy.decode_path == "gpu"
    assert accuracy.claim_delta_top1 == pytest.approx(-2.5, abs=0.1)
    assert f"{abs(accuracy.claim_delta_top1):.3f} points below" in result.output


def test_cli_per_class_subset_reports_a_confidence_interval(digits, tmp_path):
    tree = digits.tree(tmp_path, round(digits.reference.top1, 3))
    result = _run_cli(_cli_args(digits, tree, "--imagenet", str(digits.images), "--per-class", "5"))
    assert result.exception is None, result.output
    assert "subset (50 images, 5 per class)" in result.output and "95% CI" in result.output
    accuracy = read_record(record_path(tree, ENTRY, "cpu-test", "offline")).accuracy
    assert accuracy.verdict == "subset" and accuracy.per_class == 5 and accuracy.images == 50
    assert accuracy.top1_ci95_low <= accuracy.top1 <= accuracy.top1_ci95_high


def test_accuracy_joins_an_existing_energy_record(digits, tmp_path):
    tree = digits.tree(tmp_path, round(digits.reference.top1, 3))
    energy = synthetic_record(ENTRY, 0.05, hardware="cpu-test")
    write_record(tree, energy)
    outcome = acc.validate_accuracy(digits.submission(round(digits.reference.top1, 3)), tree,
                                    digits.images, per_class=10, device="cpu", workers=WORKERS,
                                    weights_file=digits.weights, hardware="cpu-test")
    assert outcome.updated
    record = read_record(outcome.path)
    assert record.energy == energy.energy and record.skip_key == energy.skip_key
    assert record.accuracy.verdict == "subset"


def test_a_broken_record_is_refused_before_the_evaluation(digits, tmp_path, monkeypatch):
    tree = digits.tree(tmp_path, 50.0)
    target = tree / ENTRY / "measurements" / "cpu-test--offline.json"
    target.parent.mkdir(parents=True)
    target.write_text('{"entry_id": "x"}', encoding="utf-8")
    monkeypatch.setattr(acc, "evaluate", lambda *a, **k: pytest.fail("evaluated before reading"))
    with pytest.raises(ValueError, match="invalid measurement record"):
        acc.validate_accuracy(digits.submission(50.0), tree, digits.images, per_class=2,
                              device="cpu", workers=WORKERS, weights_file=digits.weights,
                              hardware="cpu-test")


def test_a_subset_check_keeps_a_full_set_verdict(digits, tmp_path):
    tree = digits.tree(tmp_path, 50.0)
    assert _run_cli(_cli_args(digits, tree, "--imagenet", str(digits.images))).exception is not None
    path = record_path(tree, ENTRY, "cpu-test", "offline")
    before = path.read_bytes()
    result = _run_cli(_cli_args(digits, tree, "--imagenet", str(digits.images), "--per-class", "2"))
    assert result.exception is None, result.output
    assert "keeps its full-set verdict (rejected" in result.output
    assert path.read_bytes() == before


def test_a_partial_folder_is_a_subset_not_a_verdict(digits, tmp_path):
    outcome = acc.validate_accuracy(digits.submission(round(digits.reference.top1, 3)),
                                    tmp_path, digits.images, device="cpu", workers=WORKERS,
                                    weights_file=digits.weights, hardware="cpu-test", path="gpu")
    assert outcome.result.verdict == "subset"
    assert "1797 images in" in outcome.message and "expected 50000" in outcome.message


def test_cli_without_a_gpu_says_so(digits, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    tree = digits.tree(tmp_path, 90.0)
    result = _run_cli(["validate-accuracy", ENTRY, "--submissions", str(tree),
                       "--imagenet", str(digits.images)])
    assert "sees no CUDA device" in str(result.exception)


def test_cli_import_does_not_import_torch():
    code = "import sys, leaderboard.cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------------
# Weights, safely


@pytest.fixture
def no_loading(monkeypatch):
    """Fail the test if any weights loader runs."""
    import safetensors.torch

    def forbidden(*args, **kwargs):
        raise AssertionError("a weights file was loaded")

    monkeypatch.setattr(safetensors.torch, "load_file", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(wt, "load_state_dict_safely", forbidden)


def test_tampered_file_is_refused_before_loading(digits, tmp_path, no_loading):
    tampered = tmp_path / f"{ENTRY}.safetensors"
    data = bytearray(digits.weights.read_bytes())
    data[-1] ^= 0xFF
    tampered.write_bytes(bytes(data))
    tree = digits.tree(tmp_path, 90.0)
    args = _cli_args(digits, tree, "--imagenet", str(digits.images))
    args[args.index("--weights-dir") + 1] = str(tmp_path)
    result = _run_cli(args)
    assert isinstance(result.exception, wt.WeightsRefused)
    message = str(result.exception)
    assert "refused before loading" in message and digits.sha256 in message
    assert not (tree / ENTRY / "measurements").exists()


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_never_runs(digits, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / f"{ENTRY}.pth"
    torch.save({"conv1.weight": torch.zeros(1), "payload": _Evil(marker)}, evil)
    sha256 = hashlib.sha256(evil.read_bytes()).hexdigest()
    submission = Submission.model_validate(
        {**digits.submission_dict(90.0), "model": {
            **digits.submission_dict(90.0)["model"],
            "weights": {"url": {"url": "https://github.com/example/evil.pth", "sha256": sha256}}}})
    with pytest.raises(wt.WeightsRefused) as refused:
        acc.validate_accuracy(submission, tmp_path / "submissions", digits.images, device="cpu",
                              weights_file=evil, hardware="cpu-test")
    assert "not weights-only" in str(refused.value) and "system" in str(refused.value)
    assert not marker.exists()
    # The payload is real: the unsafe loader that was refused would have run it.
    torch.load(evil, weights_only=False)
    assert marker.exists()


def test_pickle_checkpoint_loads_through_weights_only(digits, tmp_path):
    checkpoint = tmp_path / f"{ENTRY}.pth"
    state = {f"module.{k}": v for k, v in digits.model.state_dict().items()}  # DDP-style names
    torch.save({"state_dict": state, "epoch": 5}, checkpoint)
    loaded = wt.load_state_dict_safely(checkpoint)
    assert loaded.keys() == digits.model.state_dict().keys()
    sha256 = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    data = digits.submission_dict(round(digits.reference.top1, 3))
    data["model"]["weights"] = {"url": {"url": "https://github.com/example/m.pth", "sha256": sha256}}
    outcome = acc.validate_accuracy(Submission.model_validate(data), tmp_path / "s", digits.images,
                                    per_class=20, device="cpu", workers=WORKERS,
                                    weights_dir=tmp_path, hardware="cpu-test")
    expected = acc.evaluate(digits.model, per_class_subset(digits.samples, 20), digits.prep,
                            device="cpu", path="cpu", workers=WORKERS)
    assert outcome.result.weights_sha256 == sha256
    assert outcome.measurement.correct_top1 == expected.correct_top1


def test_pickles_need_torch_2_10(tmp_path, monkeypatch):
    checkpoint = tmp_path / "w.pt"
    torch.save({"w": torch.ones(2)}, checkpoint)
    assert wt.torch_is_safe("2.10.0a0+git") and wt.torch_is_safe("2.14.1+cu130")
    assert not wt.torch_is_safe("2.9.1") and not wt.torch_is_safe("1.13.0")
    monkeypatch.setattr(torch, "__version__", "2.9.1")
    with pytest.raises(wt.WeightsRefused, match=r"torch >= 2\.10 \(this is 2\.9\.1"):
        wt.load_state_dict_safely(checkpoint)


def test_unknown_format_is_refused(tmp_path):
    junk = tmp_path / "model.safetensors"
    junk.write_bytes(b"GIF89a not weights")
    with pytest.raises(wt.WeightsRefused, match="not a safetensors file or a torch checkpoint"):
        wt.sniff_format(junk)


def test_unpinned_references_are_refused(digits, tmp_path):
    hub = digits.submission_dict(90.0)
    hub["model"]["weights"] = {"hf_hub": {"repo": "timm/test", "revision": None}}
    hub["imported_from"] = {"file": "x", "repository": "y", "commit": "0" * 40, "row": 1}
    with pytest.raises(wt.WeightsUnavailable, match="revision is not pinned"):
        wt.fetch_weights(Submission.model_validate(hub), tmp_path)
    url = digits.submission_dict(90.0)
    url["model"]["weights"] = {"url": {"url": "https://github.com/example/m.safetensors"}}
    with pytest.raises(wt.WeightsUnavailable, match="sha256 is not pinned"):
        wt.fetch_weights(Submission.model_validate(url), tmp_path)


def _hub_cache(root: Path, repo: str, revision: str, source: Path) -> Path:
    """A Hugging Face cache holding one file, laid out as huggingface_hub writes it."""
    storage = root / f"models--{repo.replace('/', '--')}"
    blob = storage / "blobs" / hashlib.sha256(source.read_bytes()).hexdigest()
    blob.parent.mkdir(parents=True)
    shutil.copy(source, blob)
    snapshot = storage / "snapshots" / revision / "model.safetensors"
    snapshot.parent.mkdir(parents=True)
    snapshot.symlink_to(os.path.relpath(blob, snapshot.parent))
    return blob


def test_hub_reference_is_served_from_the_offline_cache(digits, tmp_path):
    revision = "a" * 40
    blob = _hub_cache(tmp_path / "hf", "timm/test_resnet.digits", revision, digits.weights)
    data = digits.submission_dict(90.0)
    data["model"]["weights"] = {"hf_hub": {"repo": "timm/test_resnet.digits", "revision": revision}}
    submission = Submission.model_validate(data)
    found = wt.fetch_weights(submission, tmp_path / "cache", hub_cache_dir=tmp_path / "hf",
                             local_files_only=True)
    assert found.sha256 == digits.sha256 and found.format == "safetensors"
    # A cached blob whose bytes no longer match its content address is refused.
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[:-1] + b"\0")
    with pytest.raises(wt.WeightsRefused, match="the cached file was changed"):
        wt.fetch_weights(submission, tmp_path / "cache", hub_cache_dir=tmp_path / "hf",
                         local_files_only=True)
    # A snapshot that resolves to a file not named by its content address is not trusted.
    snapshot = next((tmp_path / "hf").glob("models--*/snapshots/*/model.safetensors"))
    stray = blob.with_name("model.safetensors")
    shutil.copy(digits.weights, stray)
    snapshot.unlink()
    snapshot.symlink_to(os.path.relpath(stray, snapshot.parent))
    with pytest.raises(wt.WeightsRefused, match="not a Hub cache blob named by its sha256"):
        wt.fetch_weights(submission, tmp_path / "cache", hub_cache_dir=tmp_path / "hf",
                         local_files_only=True)
    other = Submission.model_validate({**data, "model": {**data["model"], "weights": {
        "hf_hub": {"repo": "timm/other", "revision": revision}}}})
    with pytest.raises(wt.WeightsUnavailable, match="not in the local Hugging Face cache"):
        wt.fetch_weights(other, tmp_path / "cache", hub_cache_dir=tmp_path / "hf",
                         local_files_only=True)


@pytest.fixture
def server(tmp_path):
    """A static file server on 127.0.0.1 that counts its requests."""
    served = tmp_path / "served"
    served.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def do_GET(self):  # noqa: N802 - http.server's naming
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    with loopback_server(Handler) as base:
        yield served, base, requests


def test_url_download_verifies_caches_by_digest_and_caps_size(digits, tmp_path, server):
    served, base, requests = server
    shutil.copy(digits.weights, served / "m.safetensors")
    cache = tmp_path / "cache"
    url_weights = UrlWeights.model_construct(url=f"{base}/m.safetensors", sha256=digits.sha256)
    submission = digits.submission(90.0).model_copy(update={"model": digits.submission(90.0).model.model_copy(
        update={"weights": SubmissionWeights.model_construct(hf_hub=None, url=url_weights)})})
    # the loopback server is this test's own: the explicit test-only keyword lets it through
    found = wt.fetch_weights(submission, cache, allow_loopback_http=True)
    assert found.path == cache / f"{digits.sha256}.safetensors" and found.sha256 == digits.sha256
    assert wt.fetch_weights(submission, cache, allow_loopback_http=True).path == found.path
    assert requests == ["/m.safetensors"]  # the second fetch was a cache hit
    # Wrong digest: refused, and nothing unverified stays in the cache.
    with pytest.raises(wt.WeightsRefused, match="but the submission pins " + "0" * 64):
        wt.download_url(f"{base}/m.safetensors", "0" * 64, tmp_path / "other", allow_loopback_http=True)
    assert not any((tmp_path / "other").iterdir())
    with pytest.raises(wt.WeightsUnavailable, match="over the 1,000-byte limit"):
        wt.download_url(f"{base}/m.safetensors", digits.sha256, tmp_path / "small", max_bytes=1000,
                        allow_loopback_http=True)
    assert not any((tmp_path / "small").iterdir())
    with pytest.raises(wt.WeightsUnavailable, match="download failed"):
        wt.download_url(f"{base}/missing.safetensors", digits.sha256, tmp_path / "x",
                        allow_loopback_http=True)
    with pytest.raises(wt.WeightsUnavailable, match="only https"):
        wt.download_url("http://example.com/m.safetensors", digits.sha256, tmp_path / "x")
    # A cached file changed on disk is refused before loading.
    found.path.write_bytes(b"\0" + found.path.read_bytes()[1:])
    with pytest.raises(wt.WeightsRefused, match="refused before loading"):
        wt.fetch_weights(submission, cache, allow_loopback_http=True)


def test_record_schema_accepts_old_accuracy_blocks(tmp_path):
    record = synthetic_record(ENTRY, 0.05).model_dump(mode="json")
    record["accuracy"] = {"top1": 80.0, "top5": 95.0, "images": 50000, "dataset_fingerprint": "x",
                          "verdict": "verified", "claim_delta_top1": 0.1}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record))
    assert read_record(path).accuracy.preprocessing is None


# ---------------------------------------------------------------------------------------------
# On a GPU (pytest -m gpu)


@pytest.mark.gpu
def test_nvjpeg_path_agrees_with_timm_on_cuda(digits, capsys):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    model = digits.model.to("cuda")
    ours = acc.evaluate(model, digits.samples, digits.prep, device="cuda", path="gpu")
    timm_path = acc.evaluate(model, digits.samples, digits.prep, device="cuda", path="cpu",
                             workers=WORKERS)
    same = np.mean(np.array(ours.predictions) == np.array(timm_path.predictions))
    with capsys.disabled():
        print(f"\n[cuda agreement] timm {timm_path.top1:.3f} %, ours {ours.top1:.3f} %, identical "
              f"{100 * same:.2f} %")
    assert abs(ours.top1 - timm_path.top1) <= 0.1 and same >= 0.99


def test_submission_fixture_passes_check(digits, tmp_path):
    from leaderboard.submission import check_submission_file
    from leaderboard.timm_catalog import load_catalog

    path = write_submission(tmp_path, digits.submission_dict(90.0))
    submission, problems = check_submission_file(path, known_architectures=load_catalog().architectures)
    assert submission is not None, [p.format() for p in problems]
    assert yaml.safe_load(path.read_text())["eval"] == EVAL
