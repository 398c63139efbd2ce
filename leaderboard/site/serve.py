"""`leaderboard serve`: a static file server for a built site (local browsing only)."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path


def serve_directory(root: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``root`` over HTTP until interrupted."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"serving {root} at http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
