"""The weights downloader applies check's URL rules (leaderboard.weights_url) to the submission's
URL and to every redirect target, before requesting it.

A real HTTP server on 127.0.0.1 stands in for a file host; the downloader reaches it only through
the explicit, test-only ``allow_loopback_http`` keyword (no submission field or CLI option sets it).
"""

from __future__ import annotations

import hashlib
import http.server

import pytest
from conftest import loopback_server

from leaderboard.measure import weights as wt

BODY = b"weights bytes " * 64
SHA256 = hashlib.sha256(BODY).hexdigest()


@pytest.fixture(scope="module")
def redirector():
    """``/file`` serves BODY; ``/to?<url>`` answers 302 to that URL; every path is logged."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            requests.append(self.path)
            if self.path.startswith("/to?"):
                self.send_response(302)
                self.send_header("Location", self.path.removeprefix("/to?"))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args):
            pass

    with loopback_server(Handler) as base:
        yield base, requests


def test_without_the_test_switch_a_loopback_url_is_refused_before_any_request(redirector, tmp_path):
    base, requests = redirector
    before = len(requests)
    with pytest.raises(wt.WeightsUnavailable) as caught:
        wt.download_url(f"{base}/file", SHA256, tmp_path)
    message = str(caught.value)
    assert "only https:// URLs are fetched" in message
    assert "the host is an IP address (loopback)" in message and "only the default https port" in message
    assert len(requests) == before  # refused before connecting


@pytest.mark.parametrize("url, why", [
    ("https://user:pass@10.0.0.1:8443/m.safetensors", "credentials"),
    ("https://huggingface.co/../m.safetensors", "'..' segments"),
    ("https://weights.example.org/m.safetensors", "not an allowed weights host"),
])
def test_the_submissions_url_gets_checks_rules(url, why, tmp_path):
    with pytest.raises(wt.WeightsUnavailable, match=why):
        wt.download_url(url, SHA256, tmp_path, allow_loopback_http=True)
    assert list(tmp_path.iterdir()) == []


def test_a_redirect_inside_the_rules_is_followed(redirector, tmp_path):
    base, requests = redirector
    path = wt.download_url(f"{base}/to?{base}/file", SHA256, tmp_path / "cache",
                           allow_loopback_http=True)
    assert path.read_bytes() == BODY
    assert requests[-2:] == [f"/to?{base}/file", "/file"]


@pytest.mark.parametrize("target, why", [
    ("http://10.0.0.7/m.safetensors", "IP address (private)"),
    ("https://169.254.169.254/latest/meta-data", "IP address (link-local)"),
    ("https://huggingface.co:8443/m.safetensors", "port 8443"),
    ("https://metadata.internal/m", "not an allowed weights host"),
    ("http://huggingface.co/m.safetensors", "only https"),
])
def test_a_redirect_the_rules_refuse_is_not_followed(redirector, tmp_path, target, why):
    base, requests = redirector
    with pytest.raises(wt.WeightsUnavailable) as caught:
        wt.download_url(f"{base}/to?{target}", SHA256, tmp_path / "cache", allow_loopback_http=True)
    message = str(caught.value)
    assert f"redirect (302) refused: {target}: refused:" in message and why in message
    assert requests[-1] == f"/to?{target}"  # the server was asked once; the target never was
    assert list((tmp_path / "cache").iterdir()) == []  # no partial download left behind


def test_only_tests_turn_the_switch_on():
    import inspect
    from pathlib import Path

    package = Path(wt.__file__).resolve().parents[1]
    setters = [str(p) for p in package.rglob("*.py") if "allow_loopback_http=True" in p.read_text("utf-8")]
    assert setters == []  # no command, submission field or environment variable reaches it
    for function in (wt.fetch_weights, wt.download_url):
        assert inspect.signature(function).parameters["allow_loopback_http"].default is False
