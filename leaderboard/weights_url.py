"""Which weights URLs a submission may give: https to a known file host, never the runner's network.

The GPU runner fetches a submission's ``model.weights.url``. A URL with credentials, an IP
address (``https://user:pass@10.0.0.1:8443/...``), a private or local host name, a port of its
own or ``..`` segments would let a pull request aim the runner at its own network. Only the
hosts in :data:`ALLOWED_WEIGHT_HOSTS` are accepted (for other files, use the Hugging Face Hub).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse

# Where published ImageNet weights live: the Hub, GitHub releases (and their asset host),
# PyTorch's and Meta's downloads, Google Cloud Storage, Zenodo.
ALLOWED_WEIGHT_HOSTS = ("huggingface.co", "github.com", "objects.githubusercontent.com",
                        "download.pytorch.org", "dl.fbaipublicfiles.com",
                        "storage.googleapis.com", "zenodo.org")
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")  # 2130706433, 0x7f.1, 127.1: IPv4 in other spellings


def weights_url_problems(url: str) -> list[str]:
    """Every reason ``url`` is not an acceptable weights URL; empty when it is."""
    if re.search(r"[\s\\\x00-\x1f\x7f]", url):
        return ["the URL holds spaces, backslashes or control characters"]
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return [f"not a URL ({exc})"]
    problems = []
    if parts.scheme != "https":
        problems.append("only https:// URLs are fetched")
    if "@" in parts.netloc:
        problems.append("the URL holds credentials (user:password@); weights must be public")
    host = (parts.hostname or "").lower().rstrip(".")
    is_ip = parts.netloc.rpartition("@")[2].startswith("[") or bool(_NUMERIC_HOST.fullmatch(host))
    try:
        address = ipaddress.ip_address(host)
        is_ip = True
        kind = ("loopback" if address.is_loopback else "link-local" if address.is_link_local
                else "private" if address.is_private else "public")
        problems.append(f"the host is an IP address ({kind}); give the file host's name")
    except ValueError:
        if is_ip:
            problems.append("the host is an IP address; give the file host's name")
    if not is_ip and host not in ALLOWED_WEIGHT_HOSTS:
        problems.append(f"host '{host}' is not an allowed weights host ({', '.join(ALLOWED_WEIGHT_HOSTS)}); "
                        "publish the file on the Hugging Face Hub and use model.weights.hf_hub")
    if port is not None and port != 443:
        problems.append(f"port {port}: only the default https port is used")
    segments = urllib.parse.unquote(parts.path).split("/")
    if any(segment in (".", "..") for segment in segments):
        problems.append("the path holds '.' or '..' segments")
    return problems
