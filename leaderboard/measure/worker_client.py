"""The campaign's side of a long-lived worker: start it, send tasks, read results, kill it.

Results are read by a thread into a queue so that a hung worker costs its timeout and no
more; stderr goes to a log file (a pipe could fill up and stall the worker). The worker runs in
its own process group, in the campaign's session: the whole group is killed on a timeout, on
SIGTERM (see :mod:`leaderboard.measure.lifetime`) and when the campaign ends, and a machine
that kills a finished command's processes still finds it.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from leaderboard.measure.lifetime import worker_environment

CLOSE_GRACE_S = 5.0


class WorkerDied(Exception):
    """The worker ended or stopped answering; carries the exit code (None: killed at timeout)."""

    def __init__(self, message: str, returncode: int | None):
        super().__init__(message)
        self.returncode = returncode


class LongLivedWorker:
    """One ``leaderboard.measure.worker`` process.

    Args:
        command: The worker's full command line.
        log_path: Where its stderr goes (a temporary file when None).
    """

    def __init__(self, command: list[str], log_path: Path | None = None):
        self.command = command
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log: IO[str] = open(log_path, "a", encoding="utf-8")  # noqa: SIM115
        else:
            self._log = tempfile.TemporaryFile("a+", encoding="utf-8")  # noqa: SIM115
        self._log.write(f"$ {' '.join(command)}\n")
        self._log.flush()
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, errors="replace", bufsize=1,
                                     process_group=0, env=worker_environment())
        self._reader = threading.Thread(target=self._read, daemon=True, name="worker-stdout")
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _next_json(self, timeout_s: float) -> dict[str, Any]:
        """The next JSON object the worker prints (other lines are logged and skipped)."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(left, 0.0)) if left > 0 else None
            except queue.Empty:
                line = None
                left = 0
            if line is None:
                if left <= 0:
                    self.kill()
                    raise WorkerDied(f"no answer within {timeout_s:.0f} s; killed", None)
                code = self.proc.wait()
                raise WorkerDied(f"worker exited ({exit_text(code)})", code)
            text = line.strip()
            if text.startswith("{"):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    value = None
                if isinstance(value, dict):
                    return value
            self._log.write(f"[stdout] {line}")

    def start(self, timeout_s: float) -> dict[str, Any]:
        """Wait for the ``ready`` line (or the meter-unavailable line); returns it."""
        return self._next_json(timeout_s)

    def request(self, task: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one task and wait for its result line.

        Raises:
            WorkerDied: It exited or timed out (then it was killed).
        """
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(task) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied(f"worker gone ({exc})", self.proc.poll()) from exc
        return self._next_json(timeout_s)

    def stderr_tail(self, lines: int = 15) -> list[str]:
        """The last non-empty lines the worker wrote to stderr."""
        self._log.flush()
        if self._log.closed:
            return []
        try:  # pread: the worker shares this file's offset, which must not move
            fd = self._log.fileno()
            text = os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.strip() and not line.startswith("$ ")][-lines:]

    def kill(self) -> None:
        """SIGKILL the worker's process group and reap it."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def close(self, grace_s: float = CLOSE_GRACE_S) -> None:
        """End of input; kill what has not exited after ``grace_s`` (0: at once)."""
        if self.proc.poll() is None and grace_s > 0:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=grace_s)
            except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
                pass
        self.kill()  # anything left in its group (or the worker itself) goes now
        if not self._log.closed:
            self._log.close()


def exit_text(code: int | None) -> str:
    """``exit code 1``, ``killed by SIGABRT`` or ``killed at timeout`` (None)."""
    if code is None:
        return "killed at timeout"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
