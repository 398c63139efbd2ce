"""Run the Dockerfile's steps in a clean folder and venv, for machines without a Docker daemon.

    python scripts/replay_dockerfile.py [--root DIR] [--keep] [--python PYTHON]

Each instruction is replayed: ENV sets the environment, COPY copies from the repository, WORKDIR
changes folder, RUN runs the command with bash. Absolute paths of the image (/opt/..., /work)
are mapped under ``--root``. Steps that change the system (apt-get, useradd, install -d) are
skipped and listed, and FROM/USER/CMD have no meaning outside a container: what this proves is
that the Python steps (the venv, the locked dependency layer with its hashes, the project, the
import check) work from nothing. It prints the seconds each step took.

The image has no pip configuration, so neither has the replay: the machine's ``PIP_*``
variables and pip.conf files are left out (a local wheel mirror would otherwise serve files
whose hashes are not the lock's).

The replay installs torch with its CUDA libraries: several GB. Without ``--root`` it works in a
temporary folder and removes it at the end, whatever happened, saying how much it freed; with
``--keep`` or ``--root`` it leaves the folder and says where and how big it is.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SYSTEM_STEPS = ("apt-get", "useradd", "install -d")
IMAGE_ROOTS = ("/opt/", "/work")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def folder_size_bytes(root: Path) -> int:
    """Bytes of the files under ``root`` (links not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def main() -> int:
    """Replay the Dockerfile; exit status of the first failing step, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help="where the image's / is mapped (kept afterwards)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (default: removed at the end)")
    parser.add_argument("--python", default="python3.11", help="the base image's python")
    args = parser.parse_args()
    keep = args.keep or args.root is not None
    root = (args.root or Path(tempfile.mkdtemp(prefix="dockerfile-replay-"))).resolve()
    try:
        return replay(root, args.python)
    finally:
        size_gb = folder_size_bytes(root) / 1e9
        if keep:
            print(f"left {size_gb:.1f} GB in {root} (remove it with: rm -rf {root})")
        else:
            shutil.rmtree(root, ignore_errors=True)
            print(f"removed {root} ({size_gb:.1f} GB)")


def replay(root: Path, python_name: str) -> int:
    """Run the Dockerfile's steps with ``root`` as the image's ``/``; the first failing status."""
    shim = root / "shim-bin"
    shim.mkdir(parents=True, exist_ok=True)
    python = shutil.which(python_name) or sys.exit(f"error: {python_name} not found; pass --python")
    (shim / "python").symlink_to(python)

    def mapped(text: str) -> str:
        for prefix in IMAGE_ROOTS:
            text = re.sub(rf"(?<![\w.$]){re.escape(prefix)}", f"{root}{prefix}", text)
        return text

    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH") and not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # the image has no pip.conf
    env["PATH"] = f"{shim}:{env['PATH']}"
    build_args: dict[str, str] = {}
    cwd = root
    started = time.perf_counter()
    for keyword, rest in instructions((REPO / "Dockerfile").read_text(encoding="utf-8")):
        step_started = time.perf_counter()
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            build_args[name] = default
            env[name] = default
            continue
        if keyword == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", rest):
                env[name] = os.path.expandvars(mapped(value).replace("$PATH", env["PATH"]))
            continue
        if keyword == "WORKDIR":
            cwd = Path(mapped(rest))
            cwd.mkdir(parents=True, exist_ok=True)
            continue
        if keyword == "COPY":
            parts = [p for p in shlex.split(rest) if not p.startswith("--")]
            *sources, dest = parts
            target = cwd / dest
            for source in sources:
                src = REPO / source
                goal = target / src.name if dest.endswith("/") and src.is_file() else target
                if src.is_dir():
                    shutil.copytree(src, goal, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    goal.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, goal)
            continue
        if keyword != "RUN":
            print(f"-- {keyword} {rest}: no meaning outside a container, skipped")
            continue
        commands = [c.strip() for c in rest.split("&&")]
        kept = [c for c in commands if not any(c.startswith(s) or c.startswith("if [") for s in SYSTEM_STEPS)
                and not c.startswith("rm -rf /var/")]
        for skipped in sorted(set(commands) - set(kept), key=commands.index):
            print(f"-- skipped system step: {skipped}")
        if not kept:
            continue
        command = mapped(" && ".join(kept))
        print(f"-> RUN {command}", flush=True)
        done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, check=False)
        print(f"   {time.perf_counter() - step_started:.1f} s, exit {done.returncode}", flush=True)
        if done.returncode != 0:
            return done.returncode
    print(f"replayed the Dockerfile under {root} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
