"""Weight downloads: a total deadline (not only per read) and a size cap on Hub files too."""

from __future__ import annotations

import http.server
import os
import threading
import time
from pathlib import Path

import pytest

from leaderboard.measure import weights as wt


@pytest.fixture
def trickle_server():
    """A server on 127.0.0.1 that sends one byte every 0.1 s of a declared 1,000-byte body."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_trickling_url_download_stops_at_the_total_deadline(trickle_server, tmp_path):
    started = time.monotonic()
    with pytest.raises(wt.WeightsUnavailable, match=r"did not finish within 1 s; stopped"):
        wt.download_url(f"{trickle_server}/m.safetensors", "0" * 64, tmp_path / "cache",
                        timeout_s=2.0, deadline_s=1.0, allow_loopback_http=True)
    elapsed = time.monotonic() - started
    # Each read came within the 2 s read timeout; only the total deadline could stop it.
    assert elapsed < 1.8, elapsed
    assert list((tmp_path / "cache").iterdir()) == []  # the partial download was removed


def _hub_cache(root: Path, repo: str, revision: str, data: bytes) -> Path:
    """A Hugging Face cache holding one file of ``repo`` at ``revision``, as the Hub lays it out."""
    import hashlib

    storage = root / f"models--{repo.replace('/', '--')}"
    blob = storage / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True)
    blob.write_bytes(data)
    snapshot = storage / "snapshots" / revision / "model.safetensors"
    snapshot.parent.mkdir(parents=True)
    snapshot.symlink_to(os.path.relpath(blob, snapshot.parent))
    return blob


def test_a_hub_file_over_the_size_cap_is_refused(tmp_path):
    revision = "b" * 40
    _hub_cache(tmp_path / "hf", "timm/big", revision, b"\0" * 4096)
    with pytest.raises(wt.WeightsUnavailable, match="4,096 bytes is over the 1,000-byte limit"):
        wt.hub_download("timm/big", "model.safetensors", revision, cache_dir=tmp_path / "hf",
                        local_files_only=True, max_bytes=1000)
    path = wt.hub_download("timm/big", "model.safetensors", revision, cache_dir=tmp_path / "hf",
                           local_files_only=True, max_bytes=4096)
    assert path.stat().st_size == 4096


def test_a_hub_download_is_abandoned_at_the_deadline(tmp_path, monkeypatch):
    import huggingface_hub

    def slow_download(repo, filename, *, dry_run=False, **options):
        if dry_run:
            return huggingface_hub.file_download.DryRunFileInfo(
                commit_hash="c" * 40, file_size=10, filename=filename, local_path="",
                is_cached=False, will_download=True)
        time.sleep(5)
        raise AssertionError("not reached before the deadline")

    # A unit test double: the Hub cannot be reached from the test machine.
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", slow_download)
    started = time.monotonic()
    with pytest.raises(wt.WeightsUnavailable, match="did not finish within 0.5 s"):
        wt.hub_download("timm/slow", "model.safetensors", "c" * 40, deadline_s=0.5)
    assert time.monotonic() - started < 2.0
