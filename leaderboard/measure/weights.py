"""Safe weight fetching and loading: pinned references, digests checked first, safetensors first.

Weights are data, never code. The rules, in order:

1. A reference must be pinned: a Hugging Face Hub ``revision`` (40-hex commit) or a URL's
   ``sha256``. Unpinned references are refused before any download.
2. A file's digest is checked before it is parsed: URL downloads and the digest-keyed cache
   against the submission's ``sha256``; Hub files against the content address the Hub cache
   stores them under (``blobs/<sha256>`` for LFS files, the git blob sha1 for small files).
3. The format is sniffed from the bytes, not the name. safetensors files are read with
   ``safetensors``; pickle checkpoints (``.pth``/``.bin``/``.pt``) only through
   ``torch.load(weights_only=True)`` on torch >= 2.10 (older restricted unpicklers had known
   bypasses). There is no fallback to a full unpickler: a refused file stays refused, with a
   message that says why (for a blocked global, its name).

``build_model`` (``leaderboard.measure.workload``) reads safetensors only; :func:`as_safetensors`
turns a safely loaded pickle checkpoint into a temporary safetensors file for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import re
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from leaderboard.measure.workload import WorkloadError
from leaderboard.submission import Submission
from leaderboard.weights_url import weights_url_problems

if TYPE_CHECKING:
    import torch

WeightsFormat = Literal["safetensors", "pickle"]

MIN_SAFE_TORCH = (2, 10)
DEFAULT_MAX_BYTES = 2 * 1024**3  # 2 GiB: larger than any ImageNet-1k classifier timm ships in fp32
DEFAULT_TIMEOUT_S = 60.0
# A total deadline per file, not only per read: a server sending 1 byte a second never trips a
# read timeout. An hour fetches 2 GiB at 0.6 MB/s.
DEFAULT_DEADLINE_S = 3600.0
CHUNK_BYTES = 1 << 20
# Checkpoints often wrap the state dict; these keys are unwrapped (timm's load_checkpoint does too).
STATE_DICT_KEYS = ("state_dict", "model", "module")
LOOPBACK_HOSTS = frozenset({"localhost"})


class WeightsUnavailable(WorkloadError):
    """The weights could not be fetched: not pinned, not cached offline, network or size limits."""


class WeightsRefused(WorkloadError):
    """A weights file was refused: digest mismatch, unsafe or unreadable format, old torch."""


@dataclass(frozen=True)
class LocalWeights:
    """A verified weights file on local disk.

    Attributes:
        path: The file.
        sha256: Hex sha256 of its bytes (checked against the pin where there is one).
        format: ``safetensors`` or ``pickle`` (sniffed from the content).
    """

    path: Path
    sha256: str
    format: WeightsFormat


# ---------------------------------------------------------------------------------------------
# Digests and formats


def _hash_file(path: Path, algorithm: str = "sha256", prefix: bytes = b"") -> str:
    digest = hashlib.new(algorithm)
    digest.update(prefix)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, streamed."""
    return _hash_file(path)


def git_blob_sha1(path: Path) -> str:
    """The git object id of a file (``sha1("blob <size>\\0" + content)``), as the Hub names it."""
    return _hash_file(path, "sha1", f"blob {path.stat().st_size}\0".encode())


def sniff_format(path: Path) -> WeightsFormat:
    """The format of a weights file, from its first bytes (names can lie).

    Raises:
        WeightsRefused: Neither safetensors nor a torch pickle checkpoint.
    """
    with open(path, "rb") as handle:
        head = handle.read(9)
    size = path.stat().st_size
    # safetensors: little-endian u64 header length, then a JSON object.
    if len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < size:
        return "safetensors"
    # torch.save's zip container, or a legacy pickle (protocol 2+ starts with 0x80).
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x80"):
        return "pickle"
    raise WeightsRefused(f"{path}: refused: not a safetensors file or a torch checkpoint "
                         f"(starts with {head[:8]!r}); publish the weights as .safetensors")


def check_digest(path: Path, expected_sha256: str | None, what: str) -> str:
    """Hash ``path`` and compare with the pin; returns the digest.

    Raises:
        WeightsRefused: The digest differs (the file is never parsed).
    """
    actual = sha256_file(path)
    if expected_sha256 is not None and actual != expected_sha256.lower():
        raise WeightsRefused(
            f"{path}: refused before loading: sha256 is {actual} but {what} pins "
            f"{expected_sha256}; the file is corrupt or was changed. Delete it and fetch again"
        )
    return actual


# ---------------------------------------------------------------------------------------------
# Fetching


def local_weights(submission: Submission, path: Path) -> LocalWeights:
    """Verify a weights file the maintainer already has, against the submission's pin.

    A URL reference pins a sha256, checked here. A Hub reference pins a commit, which a loose
    local file cannot be checked against: its digest is recorded so the result can be traced.

    Raises:
        WeightsUnavailable: No such file.
        WeightsRefused: Digest mismatch or unknown format.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailable(f"{submission.id}: weights file {path} does not exist")
    url = submission.model.weights.url
    pin = url.sha256 if url is not None else None
    sha256 = check_digest(path, pin, f"{submission.id} (model.weights.url.sha256)")
    return LocalWeights(path, sha256, sniff_format(path))


def fetch_weights(submission: Submission, cache_dir: Path, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                  max_bytes: int = DEFAULT_MAX_BYTES, hub_cache_dir: Path | None = None,
                  local_files_only: bool = False,
                  deadline_s: float = DEFAULT_DEADLINE_S,
                  allow_loopback_http: bool = False) -> LocalWeights:
    """Fetch (or find cached) the submission's pinned weights and verify them.

    Args:
        submission: The entry.
        cache_dir: Cache of URL downloads, keyed by digest: ``<cache_dir>/<sha256>.<ext>``.
        timeout_s: Timeout of one network read (URL and Hub), s.
        max_bytes: Largest file accepted, bytes (URL and Hub).
        deadline_s: Longest a whole download may take, s (URL and Hub).
        hub_cache_dir: Hugging Face cache; default is the Hub's own (``HF_HUB_CACHE``/``HF_HOME``).
        local_files_only: Hub: use the local cache only (``HF_HUB_OFFLINE=1`` does the same).
        allow_loopback_http: Tests only: a URL may name this machine (see :func:`download_url`).

    Raises:
        WeightsUnavailable: Unpinned, not reachable, not cached offline, too large.
        WeightsRefused: Digest mismatch or unknown format.
    """
    weights = submission.model.weights
    if weights.hf_hub is not None:
        hub = weights.hf_hub
        if hub.revision is None:
            raise WeightsUnavailable(
                f"{submission.id}: refused: model.weights.hf_hub.revision is not pinned; a branch "
                "can change under the same name. Pin the full 40-hex commit of the repo")
        path = hub_download(hub.repo, hub.filename, hub.revision, cache_dir=hub_cache_dir,
                            local_files_only=local_files_only, max_bytes=max_bytes,
                            timeout_s=timeout_s, deadline_s=deadline_s)
        sha256 = verify_hub_blob(path)
        return LocalWeights(path, sha256, sniff_format(path))
    assert weights.url is not None  # the schema requires exactly one of hf_hub and url
    if weights.url.sha256 is None:
        raise WeightsUnavailable(
            f"{submission.id}: refused: model.weights.url.sha256 is not pinned; without a digest "
            "the download cannot be verified. Add the file's sha256")
    path = download_url(weights.url.url, weights.url.sha256, cache_dir, timeout_s=timeout_s,
                        max_bytes=max_bytes, deadline_s=deadline_s,
                        allow_loopback_http=allow_loopback_http)
    return LocalWeights(path, weights.url.sha256, sniff_format(path))


def hub_download(repo: str, filename: str, revision: str, *, cache_dir: Path | None = None,
                 local_files_only: bool = False, max_bytes: int = DEFAULT_MAX_BYTES,
                 timeout_s: float = DEFAULT_TIMEOUT_S,
                 deadline_s: float = DEFAULT_DEADLINE_S) -> Path:
    """``hf_hub_download`` at a pinned commit, with its errors turned into clear ones.

    A file cached for a commit hash is returned without any network request, so pinned
    references work offline once fetched. The file's size is asked first (a dry run: the
    Hub's HEAD request, or the cache) and a file over ``max_bytes`` is refused before any byte
    is fetched; the fetched file is measured again. Each network read times out after
    ``timeout_s``; the whole download is abandoned after ``deadline_s`` (it runs in a thread:
    huggingface_hub has no total deadline of its own).

    Raises:
        WeightsUnavailable: Unpinned revision, too large, past the deadline, or the Hub's error
            (offline and not cached, unknown repo/revision/file, gated repo, network).
    """
    import huggingface_hub
    from huggingface_hub import constants, errors

    if not re.fullmatch(r"[0-9a-f]{40}", revision or ""):
        raise WeightsUnavailable(f"{repo}: refused: revision {revision!r} is not a pinned 40-hex "
                                 "commit")
    where = f"{repo}@{revision[:12]}/{filename}"
    options = {"revision": revision, "cache_dir": str(cache_dir) if cache_dir else None,
               "local_files_only": local_files_only, "etag_timeout": timeout_s}
    try:
        info = huggingface_hub.hf_hub_download(repo, filename, dry_run=True, **options)
        if info.file_size is not None and info.file_size > max_bytes:
            raise WeightsUnavailable(f"{where}: refused: {info.file_size:,} bytes is over the "
                                     f"{max_bytes:,}-byte limit")
        # huggingface_hub reads its per-read download timeout from this module constant.
        previous_timeout = constants.HF_HUB_DOWNLOAD_TIMEOUT
        constants.HF_HUB_DOWNLOAD_TIMEOUT = timeout_s
        try:
            path = _within_deadline(lambda: huggingface_hub.hf_hub_download(repo, filename, **options),
                                    deadline_s, where)
        finally:
            constants.HF_HUB_DOWNLOAD_TIMEOUT = previous_timeout
    except errors.LocalEntryNotFoundError as exc:
        raise WeightsUnavailable(
            f"{where}: not in the local Hugging Face cache and the Hub cannot be reached "
            "(offline mode or no network). Fetch it on a connected machine with "
            f"`hf download {repo} {filename} --revision {revision}` and copy the cache, or pass "
            "the file with --weights") from exc
    except errors.GatedRepoError as exc:
        raise WeightsUnavailable(f"{where}: the repo is gated; accept its terms and log in "
                                 "(`hf auth login`), or pass the file with --weights") from exc
    except errors.RepositoryNotFoundError as exc:
        raise WeightsUnavailable(f"{where}: no such repo on the Hub (or it is private)") from exc
    except errors.RevisionNotFoundError as exc:
        raise WeightsUnavailable(f"{where}: the repo has no commit {revision}") from exc
    except errors.EntryNotFoundError as exc:
        raise WeightsUnavailable(f"{where}: the commit has no file {filename}") from exc
    except (errors.HfHubHTTPError, OSError, ValueError) as exc:
        raise WeightsUnavailable(f"{where}: download failed: {exc}") from exc
    size_bytes = Path(path).stat().st_size
    if size_bytes > max_bytes:
        raise WeightsUnavailable(f"{where}: refused: {size_bytes:,} bytes is over the "
                                 f"{max_bytes:,}-byte limit")
    return Path(path)


def _within_deadline(download: Any, deadline_s: float, where: str) -> Any:
    """Run ``download()`` in a thread; its result, its exception, or a deadline refusal.

    A download past the deadline keeps its daemon thread until the process ends (the
    validator runs each model in its own process, so that is soon); its partial file stays
    in the Hub cache's ``.incomplete`` form, never as a blob.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = download()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"hub-download {where}", daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive():
        raise WeightsUnavailable(f"{where}: download did not finish within {deadline_s:g} s; "
                                 "abandoned")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def verify_hub_blob(path: Path) -> str:
    """Check a Hub cache file against the content address it is stored under; return its sha256.

    The Hub cache keeps files at ``blobs/<etag>`` (snapshots link there): the sha256 for LFS
    files (all weights of any size), the git blob sha1 for small files. A blob whose bytes no
    longer match its name was changed on disk and is refused.

    Raises:
        WeightsRefused: The bytes do not match the blob name.
    """
    blob = Path(os.path.realpath(path))
    sha256 = sha256_file(blob)
    name = blob.name
    if re.fullmatch(r"[0-9a-f]{64}", name) and name != sha256:
        raise WeightsRefused(f"{path}: refused before loading: the Hub cache stores it as sha256 "
                             f"{name} but its content hashes to {sha256}; the cached file was "
                             f"changed. Delete {blob} and fetch again")
    if re.fullmatch(r"[0-9a-f]{40}", name) and name != git_blob_sha1(blob):
        raise WeightsRefused(f"{path}: refused before loading: its content does not match the git "
                             f"blob id {name} it is cached under. Delete {blob} and fetch again")
    if not re.fullmatch(r"[0-9a-f]{64}|[0-9a-f]{40}", name):
        # Not a content address: nothing to check the bytes against, so nothing to trust.
        raise WeightsRefused(f"{path}: refused before loading: it resolves to {blob}, which is not "
                             "a Hub cache blob named by its sha256 or git blob id. Delete it and "
                             "fetch again")
    return sha256


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(url: str, *, allow_loopback_http: bool = False) -> urllib.parse.ParseResult:
    """Refuse ``url`` unless ``check`` would accept it (:mod:`leaderboard.weights_url`).

    Every URL the downloader requests passes here: the submission's, and each redirect's target
    (a public host must not bounce the runner to its own network).

    Args:
        allow_loopback_http: Also accept http(s) to this machine (127.0.0.1, ::1, localhost), any
            port: the tests' own server. A keyword of the Python call only: nothing in a
            submission or the command line sets it.

    Raises:
        WeightsUnavailable: Naming the URL and every rule it breaks.
    """
    parts = urllib.parse.urlparse(url)
    if (allow_loopback_http and parts.scheme in ("http", "https") and "@" not in parts.netloc
            and _is_loopback((parts.hostname or "").lower())):
        return parts
    problems = weights_url_problems(url)
    if problems:
        raise WeightsUnavailable(f"{url}: refused: {'; '.join(problems)}")
    return parts


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a URL the same rules accept."""

    def __init__(self, allow_loopback_http: bool) -> None:
        self.allow_loopback_http = allow_loopback_http

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        try:
            _check_url(newurl, allow_loopback_http=self.allow_loopback_http)
        except WeightsUnavailable as exc:
            raise WeightsUnavailable(f"{req.full_url}: redirect ({code}) refused: {exc}") from None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _suffix(url_path: str) -> str:
    suffix = Path(url_path).suffix.lower()
    return suffix if suffix in {".safetensors", ".bin", ".pth", ".pt"} else ".weights"


def download_url(url: str, sha256: str, cache_dir: Path, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_bytes: int = DEFAULT_MAX_BYTES, deadline_s: float = DEFAULT_DEADLINE_S,
                 allow_loopback_http: bool = False) -> Path:
    """Download ``url`` into a cache keyed by its digest, verifying size and sha256.

    The URL and every redirect target must pass ``check``'s weights URL rules
    (:func:`leaderboard.weights_url.weights_url_problems`: https, an allowed host, no
    credentials, IP address, port or dot segments) before it is requested. A cached
    ``<cache_dir>/<sha256>.<ext>`` is re-hashed and returned without a request. A download is
    streamed to a temporary file, hashed on the way and moved into place only when the digest
    matches, so the cache never holds an unverified file. Each read waits at most ``timeout_s``
    and never past the total ``deadline_s``.

    Args:
        allow_loopback_http: Tests only: also fetch from this machine (see :func:`_check_url`).

    Raises:
        WeightsUnavailable: The URL or a redirect breaks the rules, network error or timeout,
            past the deadline, larger than ``max_bytes``.
        WeightsRefused: The digest differs from ``sha256`` (of the download or of a cached file).
    """
    sha256 = sha256.lower()
    parts = _check_url(url, allow_loopback_http=allow_loopback_http)
    target = Path(cache_dir) / f"{sha256}{_suffix(parts.path)}"
    if target.is_file():
        check_digest(target, sha256, f"the cache key of {url}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size_bytes = 0
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "leaderboard-validator"})
            ends_at = time.monotonic() + deadline_s
            opener = urllib.request.build_opener(_CheckedRedirects(allow_loopback_http))
            with opener.open(request, timeout=min(timeout_s, deadline_s)) as response:
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise WeightsUnavailable(f"{url}: refused: {int(declared):,} bytes is over the "
                                             f"{max_bytes:,}-byte limit")
                # read1: at most one socket read per call (read(n) keeps reading until it has n
                # bytes, so a trickle would never reach the deadline check).
                while chunk := _read_before(response, ends_at, timeout_s, url, deadline_s):
                    size_bytes += len(chunk)
                    # Checked while streaming too: a server can omit or understate Content-Length.
                    if size_bytes > max_bytes:
                        raise WeightsUnavailable(f"{url}: refused: more than {max_bytes:,} bytes; "
                                                 "download stopped")
                    digest.update(chunk)
                    out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != sha256:
            raise WeightsRefused(f"{url}: refused before loading: downloaded {size_bytes:,} bytes "
                                 f"with sha256 {actual}, but the submission pins {sha256}")
        os.replace(tmp_name, target)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise WeightsUnavailable(f"{url}: download failed: {getattr(exc, 'reason', exc)}") from exc
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return target


def _read_before(response: Any, ends_at: float, timeout_s: float, url: str,
                 deadline_s: float) -> bytes:
    """One read of at most CHUNK_BYTES, waiting no longer than the deadline allows."""
    remaining_s = ends_at - time.monotonic()
    if remaining_s <= 0:
        raise WeightsUnavailable(f"{url}: download did not finish within {deadline_s:g} s; stopped")
    # The socket's timeout bounds this one read; shrink it to what is left of the deadline.
    sock = getattr(getattr(response.fp, "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(0.001, min(timeout_s, remaining_s)))
    try:
        return response.read1(CHUNK_BYTES)
    except TimeoutError:
        if time.monotonic() >= ends_at:
            raise WeightsUnavailable(f"{url}: download did not finish within {deadline_s:g} s; "
                                     "stopped") from None
        raise


# ---------------------------------------------------------------------------------------------
# Loading


def torch_is_safe(version: str | None = None) -> bool:
    """True when torch's ``weights_only`` unpickler is trusted (torch >= 2.10)."""
    if version is None:
        import torch

        version = torch.__version__
    match = re.match(r"(\d+)\.(\d+)", version)
    return bool(match) and (int(match[1]), int(match[2])) >= MIN_SAFE_TORCH


def _blocked_global(message: str) -> str | None:
    # torch says e.g. "Unsupported global: GLOBAL posix.system was not an allowed global".
    match = re.search(r"GLOBAL ([\w.]+)", message)
    return match[1] if match else None


def load_state_dict_safely(path: Path, format: WeightsFormat | None = None) -> dict[str, torch.Tensor]:
    """Read a state dict without running code from the file.

    Args:
        path: A verified weights file.
        format: Its format; sniffed when not given.

    Raises:
        WeightsRefused: Old torch for a pickle, a blocked global, a file that is not a flat
            mapping of names to tensors, or an unreadable file.
    """
    import pickle

    import torch

    path = Path(path)
    format = format or sniff_format(path)
    if format == "safetensors":
        import safetensors.torch

        try:
            return safetensors.torch.load_file(str(path), device="cpu")
        except Exception as exc:  # safetensors raises its own error types
            raise WeightsRefused(f"{path}: refused: not a readable safetensors file: {exc}") from exc
    if not torch_is_safe(torch.__version__):
        raise WeightsRefused(
            f"{path}: refused: pickle checkpoints are loaded only with torch >= "
            f"{'.'.join(map(str, MIN_SAFE_TORCH))} (this is {torch.__version__}; older "
            "weights_only unpicklers have known bypasses). Upgrade torch or convert the file to "
            "safetensors on a trusted machine")
    try:
        loaded: Any = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        blocked = _blocked_global(str(exc))
        why = (f"it asks to run {blocked}, which is not plain tensor data" if blocked
               else str(exc).splitlines()[0])
        raise WeightsRefused(f"{path}: refused: the pickle is not weights-only: {why}. Only "
                             "tensors and plain containers are accepted; publish safetensors") from exc
    except Exception as exc:  # corrupt zip, truncated file
        raise WeightsRefused(f"{path}: refused: not a readable torch checkpoint: {exc}") from exc
    return _flat_state_dict(path, loaded)


def _flat_state_dict(path: Path, loaded: Any) -> dict[str, torch.Tensor]:
    import torch

    while isinstance(loaded, dict) and not any(isinstance(v, torch.Tensor) for v in loaded.values()):
        key = next((k for k in STATE_DICT_KEYS if isinstance(loaded.get(k), dict)), None)
        if key is None:
            break
        loaded = loaded[key]
    if not isinstance(loaded, dict) or not loaded:
        raise WeightsRefused(f"{path}: refused: expected a mapping of parameter names to tensors, "
                             f"found {type(loaded).__name__}")
    state: dict[str, torch.Tensor] = {}
    for key, value in loaded.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise WeightsRefused(f"{path}: refused: entry {key!r} is a {type(value).__name__}, not a "
                                 "tensor; save only the model's state_dict")
        # Checkpoints saved from DistributedDataParallel prefix every name with "module.".
        state[key.removeprefix("module.")] = value
    return state


@contextlib.contextmanager
def as_safetensors(weights: LocalWeights, scratch_dir: Path | None = None) -> Iterator[Path]:
    """A safetensors path for ``build_model``: the file itself, or a converted temporary copy.

    Pickle checkpoints are read with :func:`load_state_dict_safely` and written to a temporary
    safetensors file that is deleted on exit.
    """
    if weights.format == "safetensors":
        yield weights.path
        return
    import safetensors.torch

    state = load_state_dict_safely(weights.path, weights.format)
    # safetensors refuses tensors sharing memory; independent contiguous copies avoid that.
    state = {key: value.detach().clone().contiguous() for key, value in state.items()}
    fd, name = tempfile.mkstemp(prefix=f".{weights.sha256[:16]}-", suffix=".safetensors",
                                dir=scratch_dir)
    os.close(fd)
    try:
        safetensors.torch.save_file(state, name)
        del state
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
