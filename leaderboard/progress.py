"""Progress on stderr: a tqdm bar on a terminal, plain lines in logs, nothing when quiet.

Every long command (``measure``, ``records import``/``merge``, ``build``) reports progress the
same way, so the choice is made once, here:

* ``bar``: stderr is a terminal, ``NO_COLOR`` is unset and ``TERM`` is not ``dumb``: a tqdm
  bar (the library timm and the Hugging Face tools use), redrawn in place;
* ``lines``: anything else (CI logs, a file, a pipe, ``NO_COLOR``): one plain line per step,
  at most about every tenth of the work, so a log stays short and greppable;
* ``quiet`` (``--quiet``): nothing.

Progress never goes to stdout: that is for the command's report (``leaderboard.cli``).

Library code takes a :data:`ProgressFn` (``progress(done, total, label)``) and never imports
this module's terminal logic; the command line makes one with :func:`progress_for`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import IO, Any, Literal

Mode = Literal["bar", "lines", "quiet"]
ProgressFn = Callable[[int, int, str], None]
_TASK_LINE = re.compile(r"^\[(?P<done>\d+)/(?P<total>\d+)\] (?P<rest>.*)$")


def progress_mode(stream: IO[str] | None = None, quiet: bool = False,
                  environ: dict[str, str] | None = None) -> Mode:
    """Which kind of progress ``stream`` (default stderr) gets."""
    env = os.environ if environ is None else environ
    stream = stream if stream is not None else sys.stderr
    if quiet:
        return "quiet"
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return "lines"
    isatty = getattr(stream, "isatty", None)
    return "bar" if isatty is not None and isatty() else "lines"


class Progress:
    """One task's progress: :meth:`update` it, :meth:`note` beside it, :meth:`close` at the end.

    Use it as a context manager; it is also a :data:`ProgressFn` (``progress(done, total,
    label)``) for library functions.
    """

    def __init__(self, description: str, total: int | None = None, *, mode: Mode = "lines",
                 stream: IO[str] | None = None, unit: str = "item") -> None:
        self.description = description
        self.total = total
        self.mode = mode
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._last_line_at = -1
        self._bar: Any = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=description, unit=unit, file=self.stream,
                             dynamic_ncols=True, leave=True)

    def __call__(self, done: int, total: int, label: str = "") -> None:
        self.update(done, total, label)

    def update(self, done: int, total: int | None = None, label: str = "") -> None:
        """Set the work done so far (out of ``total``, which may grow), and what it is on."""
        if total is not None:
            self.total = total
        self.done = done
        if self.mode == "bar":
            if total is not None and self._bar.total != total:
                self._bar.total = total
            self._bar.n = done
            if label:
                self._bar.set_postfix_str(label, refresh=False)
            self._bar.refresh()
        elif self.mode == "lines" and self._worth_a_line(done):
            self._last_line_at = done
            of = f"/{self.total}" if self.total else ""
            print(f"{self.description}: {done}{of}" + (f" {label}" if label else ""),
                  file=self.stream, flush=True)

    def _worth_a_line(self, done: int) -> bool:
        if not self.total or done >= self.total or self._last_line_at < 0:
            return True
        return done - self._last_line_at >= max(1, self.total // 10)

    def note(self, text: str) -> None:
        """A line that is not a step (a warning, a result): above the bar, or plain."""
        if self.mode == "bar":
            self._bar.write(text, file=self.stream)
        elif self.mode == "lines":
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """End the bar (its last state stays on screen)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_for(description: str, total: int | None = None, *, quiet: bool = False,
                 unit: str = "item", stream: IO[str] | None = None) -> Progress:
    """A :class:`Progress` on stderr in the mode the terminal, ``NO_COLOR`` and ``quiet`` ask for."""
    stream = stream if stream is not None else sys.stderr
    return Progress(description, total, mode=progress_mode(stream, quiet), stream=stream, unit=unit)


class TaskLineStream:
    """A text stream for code that already logs ``[i/N] ...`` lines (the measure campaign).

    Each ``[i/N] rest`` line moves the bar to ``i`` of ``N`` and is kept above it; any other
    line is printed above the bar. In ``lines`` mode it is a plain pass-through, so logs read
    exactly as before; in ``quiet`` mode it drops everything.
    """

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._line(line)
        return len(text)

    def _line(self, line: str) -> None:
        match = _TASK_LINE.match(line)
        if self.progress.mode == "lines":
            print(line, file=self.progress.stream, flush=True)
            return
        self.progress.note(line)
        if match:
            self.progress.update(int(match["done"]), int(match["total"]))

    def flush(self) -> None:
        if self._pending:
            self._line(self._pending)
            self._pending = ""

    def isatty(self) -> bool:
        return False  # the bar owns the terminal; nothing else should draw on it
