"""Failures the command line expects and ends with one line, not a traceback.

The core install has no torch, timm or Playwright: a command that needs one of them says
which extra installs it. A closed pipe (``leaderboard schema | head``) is the reader's choice.
"""

from __future__ import annotations

import os
import sys

import click

# Top-level module -> the extra of pyproject.toml that installs it.
EXTRA_OF_MODULE = {
    "torch": "measure", "torchvision": "measure", "timm": "measure", "pynvml": "measure",
    "safetensors": "measure", "huggingface_hub": "measure",
    "playwright": "test", "hypothesis": "test", "sklearn": "test",
}
EXIT_MISSING_DEPENDENCY = 1
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a process killed by it


def missing_dependency_message(exc: ModuleNotFoundError) -> str | None:
    """The one-line message for a missing optional dependency, or None if it is not one."""
    module = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    command = " ".join(["leaderboard", *sys.argv[1:2]])
    return (f"error: `{command}` needs {module}, which is not installed here: install the "
            f"'{extra}' extra (pip install -e '.[{extra}]' in a checkout, or bash scripts/setup.sh "
            "--test)")


def exit_for(exc: ModuleNotFoundError | BrokenPipeError) -> int:
    """Print the message for an expected failure and return its exit code; re-raise the rest."""
    if isinstance(exc, BrokenPipeError):
        # Python would complain again while flushing stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    message = missing_dependency_message(exc)
    if message is None:
        raise exc  # a module the core needs is missing: a broken install, worth a traceback
    click.echo(message, err=True)
    return EXIT_MISSING_DEPENDENCY
