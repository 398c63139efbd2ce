"""Crash-safe writes: one file, one folder, a set of files. A SIGKILL leaves old or new, never torn.

* :func:`atomic_write_bytes` / :func:`atomic_write_text`: temp file beside the target, fsync,
  ``os.replace``, fsync the folder. The temp file gets the target's permissions (``mkstemp``
  would leave 0600) and a name holding the writer's pid, ``.<name>.<pid>.<random>.tmp``, so the
  next writer removes what a killed one left (:func:`remove_stale_temp_files`); ``.gitignore``
  ignores ``.*.tmp``, so such a file never reaches a pull request meanwhile.
* :func:`replace_dir`: swap a finished folder in for the old one with one ``renameat2``
  (``RENAME_EXCHANGE``) where Linux offers it, else two renames that :func:`recover_dir` undoes.
* :func:`write_all_or_nothing`: stage every file in this write's own stage folder, commit it with
  one rename, then move the files into place; :func:`recover_staged` finishes a dead writer's
  committed stage or drops its uncommitted one; :func:`tree_lock` lets one writer in at a time.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from leaderboard.errors import LeaderboardError

# Read once: os.umask can only be read by setting it.
_UMASK = os.umask(0)
os.umask(_UMASK)


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def pid_alive(pid: int, since: float | None = None) -> bool:
    """Whether ``pid`` is a live process that could have made something at time ``since``.

    A killed writer that its parent has not reaped yet is a zombie: ``kill(pid, 0)`` still
    succeeds, but it writes nothing more. A pid the kernel gave to a new process after the
    writer died (one started after ``since``, the temp file's last change) is not the writer.
    """
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        pass
    state, started = _proc_state(pid)
    if state in ("Z", "X") or _sigkill_pending(pid):
        return False
    # 1 s: boot time in /proc/stat has whole seconds.
    return not (since is not None and started is not None and started > since + 1.0)


def _proc_state(pid: int) -> tuple[str | None, float | None]:
    """(state letter, start time as a Unix time) from /proc; (None, None) where unknown."""
    try:
        stat_text = Path(f"/proc/{pid}/stat").read_text()
        fields = stat_text[stat_text.rindex(")") + 2:].split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return fields[0], boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None, None


_SIGKILL_BIT = 1 << (9 - 1)  # signal 9 in /proc/<pid>/status's pending-signal masks


def _sigkill_pending(pid: int) -> bool:
    """True for a process that was sent SIGKILL and is still dying: it never runs user code
    again. (Right after ``kill -9`` a writer can still be in its last system call.)"""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("SigPnd", "ShdPnd") and int(value.strip(), 16) & _SIGKILL_BIT:
                return True
    except (OSError, ValueError):
        pass
    return False


def _remove_tree(path: Path) -> None:
    """rmtree that retries: a writer killed a moment ago may finish one last file creation."""
    for _ in range(20):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return
        time.sleep(0.05)


def _changed_at(path: Path) -> float | None:
    try:
        return path.lstat().st_ctime
    except OSError:
        return None


def _temp_prefix(name: str) -> str:
    return f".{name}.{os.getpid()}."


def remove_stale_temp_files(folder: Path, name: str) -> list[Path]:
    """Remove temp files (or folders) a killed writer of ``folder/name`` left behind.

    Only names this module makes (``.<name>.<pid>.<random>.tmp``) whose pid is no longer a
    live process are removed; a concurrent writer's temp file is left alone.

    Returns:
        The paths removed.
    """
    pattern = re.compile(re.escape(f".{name}.") + r"(\d+)\.[^/]*\.tmp$")
    removed = []
    try:
        candidates = list(folder.iterdir())
    except FileNotFoundError:
        return []
    for path in candidates:
        match = pattern.fullmatch(path.name)
        if match and not pid_alive(int(match.group(1)), _changed_at(path)):
            if path.is_dir() and not path.is_symlink():
                _remove_tree(path)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


# The site build stages its generated docs in a memory-backed scratch folder (thousands of
# small files written once and read once: ~1 ms each on disk, ~0.04 ms on tmpfs). Named here so
# that every writer can remove what a killed build left there, not only the next build.
BUILD_STAGING_NAME = "leaderboard-docs"


def scratch_dir() -> Path:
    """``/dev/shm`` where it is a writable folder, else the system's temp folder."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def remove_stale_build_staging() -> list[Path]:
    """Remove the scratch staging folders of killed site builds (live builds' are kept)."""
    return remove_stale_temp_files(scratch_dir(), BUILD_STAGING_NAME)


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so readers see the old or the new content, never a torn one.

    Temp file in the same directory, fsync, ``os.replace``, then fsync the directory so the
    rename itself survives a crash. A new file gets the permissions ``open()`` would give it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path.parent, path.name)
    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` of UTF-8 text with ``\\n`` line ends."""
    atomic_write_bytes(path, text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# A folder


def temp_dir_beside(target: Path) -> Path:
    """A new empty folder next to ``target`` that :func:`remove_stale_temp_files` knows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(target.parent, target.name)
    return Path(tempfile.mkdtemp(prefix=_temp_prefix(target.name), suffix=".tmp", dir=target.parent))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with ``renameat2(RENAME_EXCHANGE)``; False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False  # the file system or kernel cannot exchange: fall back
    raise OSError(code, os.strerror(code), str(b))


def _backup_name(target: Path) -> Path:
    return target.parent / f".{target.name}.previous.tmp"


def recover_dir(target: Path) -> None:
    """Undo a two-rename swap that was killed between its renames (see :func:`replace_dir`)."""
    backup = _backup_name(target)
    if backup.exists():
        if target.exists():
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.rename(backup, target)


def replace_dir(new: Path, target: Path) -> None:
    """Put the finished folder ``new`` at ``target``; the old folder is removed.

    A reader (or a SIGKILL) sees the old folder or the new one at ``target``: one atomic
    exchange on Linux; elsewhere two renames, undone by :func:`recover_dir` if interrupted.
    """
    recover_dir(target)
    if not target.exists():
        os.rename(new, target)
    elif _exchange(new, target):
        shutil.rmtree(new)  # now holds the old folder
    else:
        backup = _backup_name(target)
        os.rename(target, backup)
        os.rename(new, target)
        shutil.rmtree(backup)
    _fsync_dir(target.parent)


BUILD_MARKER = ".leaderboard-build"


def check_replaceable(target: Path, force: bool) -> None:
    """Refuse to replace a non-empty folder that is not a previous build, unless ``force``.

    A previous build holds :data:`BUILD_MARKER` (or, built before the marker existed, the
    site's ``assets/data/catalog.js``).

    Raises:
        LeaderboardError: ``target`` is a file, or a folder with other content.
    """
    recover_dir(target)
    if not target.exists():
        return
    if not target.is_dir():
        raise LeaderboardError(f"{target}: is a file, not a folder; choose another --output")
    if force or (target / BUILD_MARKER).is_file() or (target / "assets/data/catalog.js").is_file():
        return
    if any(target.iterdir()):
        raise LeaderboardError(f"{target}: is not empty and is not a previous build; the build "
                               "replaces its output folder as a whole. Choose another --output, or "
                               "pass --force to replace this folder and everything in it")


# ---------------------------------------------------------------------------------------------
# A set of files, all or nothing, one writer per tree at a time

# Every stage ends in .tmp, so git ignores it (.gitignore: .*.tmp) while it exists. Each write
# has its own stage, ``.staged-write.<pid>.<token>.<state>.tmp`` (state new, commit or done):
# two writes never share a folder, and recovery knows whose stage it is by the pid.
STAGE_PREFIX = ".staged-write."
_STAGE_PATTERN = re.compile(r"\.staged-write\.(\d+)\.([A-Za-z0-9_]+)\.(new|commit|done)\.tmp")
# The single fixed stage of versions before per-write stages; still finished when found.
STAGE_DIRNAME = ".staged-write.tmp"
_LEGACY_LEFTOVERS = (".staged-write.new.tmp", ".staged-write.done.tmp")
_PLAN = "plan.json"


@contextlib.contextmanager
def tree_lock(root: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on the folder ``root`` (``flock`` on the folder itself).

    One all-or-nothing write per tree at a time: a second writer waits here until the first
    is done (or killed: the kernel drops a dead process's lock). Nothing is written to the
    tree for the lock, so a kill leaves no lock file behind.

    Args:
        root: An existing folder.
        on_wait: Told once, with a sentence, when another writer holds the lock.
    """
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(f"{root}: another records import is writing here; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _stages(root: Path) -> list[tuple[Path, int | None, str]]:
    """Every stage folder under ``root``: (path, writer pid or None for a legacy one, state)."""
    found: list[tuple[Path, int | None, str]] = []
    try:
        names = sorted(p.name for p in root.iterdir() if p.name.startswith(STAGE_PREFIX))
    except FileNotFoundError:
        return []
    for name in names:
        match = _STAGE_PATTERN.fullmatch(name)
        if match:
            found.append((root / name, int(match.group(1)), match.group(3)))
        elif name == STAGE_DIRNAME:
            found.append((root / name, None, "commit"))
        elif name in _LEGACY_LEFTOVERS:
            found.append((root / name, None, "new"))
    return found


def has_stages(root: Path) -> bool:
    """Whether any write's stage folder (live or left by a killed one) is under ``root``."""
    return bool(_stages(root))


def interrupted_stage(root: Path) -> Path | None:
    """A committed stage of a killed :func:`write_all_or_nothing` under ``root``, if any."""
    for path, pid, state in _stages(root):
        if state == "commit" and (pid is None or not pid_alive(pid, _changed_at(path))):
            return path
    return None


def _apply(committed: Path, root: Path) -> None:
    plan = json.loads((committed / _PLAN).read_text("utf-8"))
    for relative, staged_name in plan:
        staged = committed / staged_name
        if not staged.exists():
            continue  # moved before an interruption
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        _fsync_dir(target.parent)
    # Renamed before it is removed: rmtree is not atomic, and a committed stage that lost its
    # plan half-way through removal could be neither finished nor dropped.
    done = committed.parent / (committed.name.removesuffix(".commit.tmp") + ".done.tmp"
                               if committed.name != STAGE_DIRNAME else _LEGACY_LEFTOVERS[1])
    os.rename(committed, done)
    _fsync_dir(root)
    shutil.rmtree(done)


def recover_staged(root: Path) -> bool:
    """Finish the committed stages of dead writers under ``root``; drop their other stages.

    Only a stage whose writer (the pid in its name) is no longer alive is touched: a live
    writer's stage is its own business. Callers hold :func:`tree_lock`, so a dead writer's
    committed stage is finished before anything else is written.

    Returns:
        True when an interrupted write was finished.
    """
    finished = False
    for path, pid, state in _stages(root):
        if pid is not None and pid_alive(pid, _changed_at(path)):
            continue
        if state == "commit":
            _apply(path, root)
            finished = True
        else:
            _remove_tree(path)
    return finished


def write_all_or_nothing(root: Path, files: dict[str, bytes]) -> None:
    """Write every file (paths relative to ``root``) or, if killed before the commit, none.

    Each file is written and fsynced into this write's own stage folder under ``root``; one
    rename commits the stage; then the files are moved into place (each ``os.replace``
    atomic). A write killed after the commit is finished by :func:`recover_staged` (called
    first by the next write); until then :func:`interrupted_stage` reports it, so readers can
    refuse a half-moved set. Callers hold :func:`tree_lock` for the whole read-check-write.
    """
    recover_staged(root)
    uncommitted = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}.", suffix=".new.tmp",
                                        dir=root))
    token = uncommitted.name.removeprefix(f"{STAGE_PREFIX}{os.getpid()}.").removesuffix(".new.tmp")
    if not re.fullmatch(r"[A-Za-z0-9_]+", token):  # mkdtemp's alphabet; recovery parses it
        shutil.rmtree(uncommitted)
        raise LeaderboardError(f"{uncommitted}: unexpected temp folder name")
    committed = root / f"{STAGE_PREFIX}{os.getpid()}.{token}.commit.tmp"
    plan = []
    for index, (relative, data) in enumerate(sorted(files.items())):
        target = root / relative
        staged_name = f"{index:06d}"
        fd = os.open(uncommitted / staged_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                     _mode_for(target))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        plan.append((relative, staged_name))
    (uncommitted / _PLAN).write_text(json.dumps(plan), encoding="utf-8")
    with open(uncommitted / _PLAN, "rb") as handle:
        os.fsync(handle.fileno())
    _fsync_dir(uncommitted)
    os.rename(uncommitted, committed)  # the commit point
    _fsync_dir(root)
    _apply(committed, root)
