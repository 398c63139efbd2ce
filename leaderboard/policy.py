"""What a pull request may change: the policy behind `leaderboard check --changed-against BASE`.

A *submission* pull request (one that touches ``submissions/``) adds or edits only
``submissions/<id>/submission.yaml``. Measurement records are written by the validator, so a
contributor never adds, edits or removes them; entries are not deleted or renamed (a rename is a
delete plus an add); nothing else changes in the same pull request. A pull request that touches
nothing under ``submissions/`` is a *code* pull request: the policy has nothing to say about it
(maintainers review code), and the GPU validation never runs for it.

Two fields of a submission are not the contributor's to set: ``imported_from`` (written by
``leaderboard import-timm`` only; an imported entry's unpinned weights are a warning, so a forged
block would turn the missing-pin error into a warning and get the entry measured), and the
``model.weights`` of an existing entry (its records were measured with those weights).
:func:`protected_field_problems` compares each changed file with its base version.

The rules are a pure function of the changed paths (:func:`policy_problems`); :func:`git_changes`
is the small part that asks git. Maintainers relax the rules with flags (records from the
validator, deletions, code next to submissions); the pull-request check passes none of them for
pull requests from forks.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from leaderboard.errors import LeaderboardError, Problem, ProblemsReport
from leaderboard.record_rules import record_problems
from leaderboard.records import (
    MEASUREMENTS_DIRNAME,
    missing_provenance,
    provenance_problem,
    read_record,
    record_path,
    rules_problem,
)
from leaderboard.safe_yaml import Lines, load_yaml_file, load_yaml_text
from leaderboard.submission import SUBMISSION_FILENAME, Submission, check_submission_file

SUBMISSIONS_PREFIX = "submissions/"
_SUBMISSION_RE = re.compile(r"^submissions/(?P<entry>[^/]+)/" + re.escape(SUBMISSION_FILENAME) + "$")
_RECORD_RE = re.compile(r"^submissions/(?P<entry>[^/]+)/" + re.escape(MEASUREMENTS_DIRNAME) + "/.+$")
_ENTRY_FILE_RE = re.compile(r"^submissions/(?P<entry>[^/]+)/.+$")

# git's file modes: only regular files (normal or executable) may be changed by a pull request.
REGULAR_MODES = frozenset({"100644", "100755"})
_MODE_NAMES = {"120000": "a symbolic link", "160000": "a git submodule"}

PathKind = Literal["submission", "record", "entry-file", "submissions-file", "outside"]



@dataclass(frozen=True)
class Change:
    """One changed path between the base and the pull request.

    Attributes:
        status: git's status letter: ``A`` added, ``M`` modified, ``D`` deleted, ``R`` renamed,
            ``C`` copied, ``T`` type changed (file <-> symlink), ``U`` unmerged.
        path: The path after the change (the new path of a rename), relative to the repository.
        old_path: The path before a rename or copy.
        mode: git's file mode after the change (``100644``, ``120000`` for a symlink, ...);
            ``None`` when unknown or deleted.
    """

    status: str
    path: str
    old_path: str | None = None
    mode: str | None = None


@dataclass
class PolicyResult:
    """What the policy found in one set of changes.

    Attributes:
        kind: ``submission`` (touches submissions/), ``code`` (does not) or ``empty``.
        problems: Refusals (errors) and notes (warnings), each with file, what and fix.
        submission_files: Submission files added or edited (to be checked against the schema).
        record_files: Record files added or edited with ``allow_records`` (to be validated).
    """

    kind: Literal["submission", "code", "empty"]
    problems: list[Problem] = field(default_factory=list)
    submission_files: list[str] = field(default_factory=list)
    record_files: list[str] = field(default_factory=list)

    @property
    def entries(self) -> list[str]:
        """Ids of the entries whose submission file is added or edited, sorted."""
        return sorted({_SUBMISSION_RE.match(p).group("entry") for p in self.submission_files})


def path_kind(path: str) -> PathKind:
    """Which part of the repository a path belongs to."""
    if _SUBMISSION_RE.match(path):
        return "submission"
    if _RECORD_RE.match(path):
        return "record"
    if _ENTRY_FILE_RE.match(path):
        return "entry-file"
    if path.startswith(SUBMISSIONS_PREFIX):
        return "submissions-file"
    return "outside"


def _entry_of(path: str) -> str:
    return path.split("/")[1]


def policy_problems(
    changes: Sequence[Change],
    *,
    allow_records: bool = False,
    allow_delete: bool = False,
    allow_code: bool = False,
    base: str = "origin/main",
) -> PolicyResult:
    """Apply the pull-request policy to a list of changes.

    Args:
        changes: Changed paths, as :func:`git_changes` returns them.
        allow_records: Measurement records may be added, edited and removed (the validator's
            records, imported by a maintainer).
        allow_delete: Entries may be deleted or renamed (maintainers retiring an entry).
        allow_code: Files outside entry folders may change next to submissions (maintainers).
        base: The base branch or commit, named in the fixes (``git checkout BASE -- PATH``).

    Returns:
        The kind of pull request, every refusal, and the files to check further.
    """
    if not changes:
        return PolicyResult("empty")
    touches_submissions = any(
        p.startswith(SUBMISSIONS_PREFIX) for c in changes for p in (c.path, c.old_path) if p
    )
    if not touches_submissions:
        return PolicyResult("code")
    judge = _Judge(PolicyResult("submission"), allow_records, allow_delete, allow_code, base)
    judge.deleted_entries = {
        _entry_of(c.old_path or c.path) for c in changes
        if c.status[:1] in ("D", "R") and path_kind(c.old_path or c.path) == "submission"
    }
    for change in sorted(changes, key=lambda c: (c.path, c.old_path or "")):
        judge.result.problems.extend(judge.change(change))
    return judge.result


@dataclass
class _Judge:
    result: PolicyResult
    allow_records: bool
    allow_delete: bool
    allow_code: bool
    base: str
    deleted_entries: set[str] = field(default_factory=set)

    def change(self, change: Change) -> Iterable[Problem]:
        status, path = change.status[:1], change.path
        if status == "R" and change.old_path is not None:
            yield from self.rename(change)
            return
        if status == "U":
            yield Problem(path, "", "has unresolved merge conflicts", "resolve them and commit")
            return
        if status == "D":
            yield from self.removal(path)
            return
        # Added (A, C), modified (M) or type-changed (T): the path exists after the change.
        kind = path_kind(path)
        mode_problem = _mode_problem(change)
        if kind == "submission":
            if mode_problem:
                yield mode_problem
            else:
                self.result.submission_files.append(path)
        elif kind == "record":
            if not self.allow_records:
                yield self.record_problem(path, "added" if status in ("A", "C") else "edited")
            elif mode_problem:
                yield mode_problem
            else:
                self.result.record_files.append(path)
        elif not self.allow_code:
            yield _misplaced_problem(path, kind)
        elif mode_problem:
            yield mode_problem

    def rename(self, change: Change) -> Iterable[Problem]:
        old, new = change.old_path or "", change.path
        if path_kind(old) == "submission" and path_kind(new) == "submission" and not self.allow_delete:
            old_id, new_id = _entry_of(old), _entry_of(new)
            yield Problem(old, "", f"renames entry '{old_id}' to '{new_id}': a rename deletes the "
                          "old entry, and deleting an entry is refused",
                          f"keep submissions/{old_id}/ as it is and add "
                          f"submissions/{new_id}/{SUBMISSION_FILENAME} as a new entry; "
                          "maintainers retire old entries")
            return
        # Anything else that moved is judged as a removal of the old path and an addition.
        yield from self.removal(old)
        yield from self.change(Change("A", new, None, change.mode))

    def removal(self, path: str) -> Iterable[Problem]:
        kind = path_kind(path)
        if kind == "submission":
            if not self.allow_delete:
                yield Problem(path, "", f"deletes entry '{_entry_of(path)}': deleting an entry is "
                              "refused",
                              f"restore it with `git checkout {self.base} -- {path}` and commit; "
                              "to correct the entry, edit its submission.yaml; to retire it, open "
                              "an issue and a maintainer removes it")
        elif kind == "record":
            if not (self.allow_records
                    or (self.allow_delete and _entry_of(path) in self.deleted_entries)):
                yield self.record_problem(path, "removed")
        elif not self.allow_code:
            yield _misplaced_problem(path, kind)

    def record_problem(self, path: str, done: str) -> Problem:
        undo = f"`git rm {path}`" if done == "added" else f"`git checkout {self.base} -- {path}`"
        return Problem(path, "", f"measurement record {done}: records are written by the "
                       "validator only",
                       f"undo it with {undo} and commit; after a maintainer approves the GPU run, "
                       "the validator measures your entry and writes its records")


def _misplaced_problem(path: str, kind: PathKind) -> Problem:
    if kind == "entry-file":
        return Problem(path, "", f"only {SUBMISSION_FILENAME} belongs in an entry folder",
                       f"remove this file from the pull request; weights are referenced from "
                       f"{SUBMISSION_FILENAME} (model.weights), never committed")
    if kind == "submissions-file":
        return Problem(path, "", "a file directly in submissions/ is not an entry",
                       f"put your entry at submissions/<id>/{SUBMISSION_FILENAME}")
    return Problem(path, "", "changes a file outside submissions/ in a submission pull request",
                   f"a submission pull request changes only submissions/<id>/{SUBMISSION_FILENAME}; "
                   "open a separate pull request for code or documentation changes")


def _mode_problem(change: Change) -> Problem | None:
    if change.mode is None or change.mode in REGULAR_MODES:
        return None
    what = _MODE_NAMES.get(change.mode, f"not a regular file (mode {change.mode})")
    return Problem(change.path, "", f"is {what}", "commit a regular file here")


# ---------------------------------------------------------------------------------------------
# Asking git


def _git(repo: Path, *args: str) -> bytes:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise LeaderboardError("git is not installed; --changed-against needs git") from exc
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        hint = ("; comparing with a base needs a clone of the repository: run it in the clone"
                if message and "not a git repository" in message[-1] else "")
        raise LeaderboardError(f"git {' '.join(args[:2])} failed in {repo}: "
                               f"{message[-1] if message else f'exit {proc.returncode}'}{hint}")
    return proc.stdout


def repository_root(path: Path = Path(".")) -> Path:
    """The top folder of the git work tree that holds ``path``."""
    return Path(_git(path, "rev-parse", "--show-toplevel").decode("utf-8").strip())


def parse_raw_diff(output: bytes) -> list[Change]:
    """Parse ``git diff --raw -z`` output into changes.

    Each record is ``:<old mode> <new mode> <old sha> <new sha> <status>`` then one path (two
    for renames and copies), NUL-separated.
    """
    fields = output.decode("utf-8", "surrogateescape").split("\0")
    changes: list[Change] = []
    index = 0
    while index < len(fields) and fields[index]:
        header = fields[index].lstrip(":").split()
        if len(header) < 5:
            raise LeaderboardError(f"unexpected git diff output: {fields[index]!r}")
        new_mode, status = header[1], header[4]
        if status[0] in ("R", "C"):
            old, new = fields[index + 1], fields[index + 2]
            index += 3
        else:
            old, new = None, fields[index + 1]
            index += 2
        mode = None if status[0] == "D" or set(new_mode) == {"0"} else new_mode
        changes.append(Change(status[0], new, old, mode))
    return changes


def _untracked(repo: Path) -> list[Change]:
    names = _git(repo, "ls-files", "-z", "--others", "--exclude-standard")
    changes = []
    for name in filter(None, names.decode("utf-8", "surrogateescape").split("\0")):
        info = os.lstat(repo / name)
        mode = "120000" if stat.S_ISLNK(info.st_mode) else (
            "100755" if info.st_mode & stat.S_IXUSR else "100644")
        changes.append(Change("A", name, None, mode))
    return changes


def git_changes(base: str, repo: Path = Path("."), *, committed_only: bool = False) -> list[Change]:
    """The changes of the current branch since it left ``base`` (``git diff -M base...HEAD``).

    Args:
        base: The branch or commit the pull request goes into (``origin/main``, a SHA).
        repo: Any folder inside the work tree.
        committed_only: Compare commits only (``base...HEAD``). By default uncommitted edits
            and untracked (not ignored) files count too, so a contributor sees what a pull
            request of everything in the work tree would contain.

    Raises:
        LeaderboardError: Not a git work tree, or ``base`` is unknown (fetch it first).
    """
    root = repository_root(repo)
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except LeaderboardError as exc:
        raise LeaderboardError(f"unknown base '{base}': fetch it first (e.g. `git fetch origin "
                               "main` and pass origin/main) or pass a commit SHA") from exc
    common = ["diff", "--raw", "-z", "-M", "--no-color", "--no-ext-diff", "--no-textconv"]
    if committed_only:
        return parse_raw_diff(_git(root, *common, f"{base}...HEAD", "--"))
    tracked = parse_raw_diff(_git(root, *common, "--merge-base", base, "--"))
    return tracked + _untracked(root)


# ---------------------------------------------------------------------------------------------
# Fields only maintainers change: imported_from, and the weights of an existing entry

_MAINTAINER_FIX = ("a maintainer regenerates imported entries with `leaderboard import-timm` (which "
                   "keeps pins) and pins or re-points weights in a maintainer pull request checked "
                   "with `--allow-rewrite`")


def protected_field_problems(name: str, old: dict | None, new: dict, lines: Lines) -> list[Problem]:
    """Refusals for a submission whose ``imported_from`` or existing weights a pull request changes.

    Args:
        name: The file, as named in messages.
        old: The file's mapping at the base (``None`` for a new entry, or when unreadable there).
        new: The file's mapping in the pull request.
        lines: Key lines of the new file (:func:`leaderboard.safe_yaml.load_yaml_file`).
    """
    def at(*loc: str) -> str:
        line = lines.get(loc)
        return ".".join(loc) + (f" (line {line})" if line else "")

    problems = []
    old_imported = old.get("imported_from") if old is not None else None
    new_imported = new.get("imported_from")
    if old is None and new_imported is not None:
        problems.append(Problem(
            name, at("imported_from"), "a new entry may not carry 'imported_from': only "
            "`leaderboard import-timm` writes it",
            "remove the imported_from block and pin the weights (hf_hub.revision or url.sha256); "
            + _MAINTAINER_FIX))
    elif old is not None and old_imported != new_imported:
        what = "adds" if old_imported is None else "removes" if new_imported is None else "changes"
        problems.append(Problem(
            name, at("imported_from"), f"{what} 'imported_from' of an existing entry: only "
            "`leaderboard import-timm` writes it",
            f"restore the block as it is on the base branch; {_MAINTAINER_FIX}"))
    if old is not None:
        old_weights = (old.get("model") or {}).get("weights") if isinstance(old.get("model"), dict) else None
        new_model = new.get("model") if isinstance(new.get("model"), dict) else {}
        if old_weights is not None and new_model.get("weights") != old_weights:
            problems.append(Problem(
                name, at("model", "weights"), "changes the weights of an existing entry: its "
                "records were measured with the old weights",
                "restore model.weights as on the base branch; for other weights, add a new entry "
                "with its own id; " + _MAINTAINER_FIX))
    return problems


def pull_request_author(explicit: str | None = None) -> str | None:
    """Who opened the pull request: ``explicit`` (``--author``), else the GitHub event's.

    In CI, the workflow's event payload (the file ``GITHUB_EVENT_PATH`` names) holds
    ``pull_request.user.login``: the pull request's author, whoever re-runs the job (not
    ``GITHUB_ACTOR``, which is whoever triggered this run). Locally, ``--author LOGIN``.

    Returns:
        The GitHub login, or ``None`` when neither tells.
    """
    if explicit:
        return explicit
    event_path = os.environ.get("GITHUB_EVENT_PATH")
    if not event_path:
        return None
    try:
        event = json.loads(Path(event_path).read_text("utf-8"))
        login = event["pull_request"]["user"]["login"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return login if isinstance(login, str) and login else None


def submitter_problems(name: str, old: dict | None, lines: Lines, author: str | None) -> list[Problem]:
    """A refusal when a pull request edits an entry whose ``submitter.github`` is someone else.

    A contributor's claims and submitter are theirs: another person's edit needs a maintainer's
    ``--allow-other-submitter``. New entries are the author's own.
    """
    if old is None:
        return []
    submitter = old.get("submitter") if isinstance(old.get("submitter"), dict) else {}
    owner = submitter.get("github")
    if not isinstance(owner, str) or not owner:
        owner = None
    where = "submitter.github" + (f" (line {lines[('submitter', 'github')]})"
                                  if ("submitter", "github") in lines else "")
    if author is None:
        return [Problem(name, where, "cannot tell who opened the pull request, so cannot check "
                        f"that it edits the author's own entry (submitter: {owner or 'none'})",
                        "pass --author LOGIN (in CI the event payload gives it)", severity="warning")]
    if owner is not None and owner.lower() == author.lower():
        return []
    return [Problem(name, where, f"edits the entry of '{owner or 'no one'}' (submitter.github on "
                    f"the base branch), but the pull request is by '{author}'",
                    f"ask {owner or 'a maintainer'} to make the change; a maintainer who approves "
                    "it checks with --allow-other-submitter")]


def _base_text(root: Path, base: str, name: str) -> str | None:
    """The file at the merge base of ``base`` and HEAD, or ``None`` where it did not exist."""
    merge_base = _git(root, "merge-base", base, "HEAD").decode("ascii").strip()
    proc = subprocess.run(["git", "-C", str(root), "show", f"{merge_base}:{name}"],
                          capture_output=True, check=False)
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "replace")


def _protected_problems_of(root: Path, base: str, name: str, *, rewrite: bool,
                           author: str | None, other_submitter: bool) -> list[Problem]:
    new, _, lines = load_yaml_file(root / name, name)
    if new is None:
        return []  # the file's own check reports why it cannot be read
    old_text = _base_text(root, base, name)
    old = load_yaml_text(old_text, name)[0] if old_text is not None else None
    problems = [] if rewrite else protected_field_problems(name, old, new, lines)
    if not other_submitter:
        problems += submitter_problems(name, old, lines, author)
    return problems


# ---------------------------------------------------------------------------------------------
# The whole check of a pull request


@dataclass
class PullRequestCheck(ProblemsReport):
    """Policy problems plus the problems of the changed submission and record files."""

    base: str
    policy: PolicyResult
    submissions: list[Submission] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check_pull_request(
    base: str,
    repo: Path = Path("."),
    *,
    committed_only: bool = False,
    allow_records: bool = False,
    allow_delete: bool = False,
    allow_code: bool = False,
    allow_rewrite: bool = False,
    allow_other_submitter: bool = False,
    author: str | None = None,
    known_architectures: frozenset[str] | None = None,
) -> PullRequestCheck:
    """Apply the policy to the changes since ``base`` and check the changed files.

    Changed submission files are checked like `leaderboard check FILE`, and against their base
    version (:func:`protected_field_problems`, skipped with ``allow_rewrite``, for maintainers);
    changed records (only with ``allow_records``) are validated and must sit at their canonical
    path. Paths in the problems are relative to the repository root. An edit of an entry whose
    submitter is not the pull request's author (:func:`pull_request_author`, from ``author`` or
    the GitHub event) is refused unless ``allow_other_submitter``.
    """
    author = pull_request_author(author)
    root = repository_root(repo)
    changes = git_changes(base, root, committed_only=committed_only)
    policy = policy_problems(changes, allow_records=allow_records, allow_delete=allow_delete,
                             allow_code=allow_code, base=base)
    report = PullRequestCheck(base, policy, problems=list(policy.problems))
    for name in policy.submission_files:
        submission, problems = check_submission_file(root / name, display=name,
                                                     known_architectures=known_architectures)
        report.problems.extend(problems)
        protected = _protected_problems_of(root, base, name, rewrite=allow_rewrite, author=author,
                                           other_submitter=allow_other_submitter)
        report.problems.extend(protected)
        if submission is not None and not [p for p in protected if p.severity == "error"]:
            report.submissions.append(submission)
    for name in policy.record_files:
        path = root / name
        try:
            record = read_record(path)
        except ValueError as exc:
            report.problems.append(Problem(name, "", str(exc).removeprefix(f"{path}: "),
                                           "records are written by the validator; re-run it"))
            continue
        expected = record_path(root / "submissions", record.entry_id, record.hardware, record.scenario)
        if expected != path:
            report.problems.append(Problem(name, "entry_id",
                                           f"record belongs at {expected.relative_to(root)}",
                                           "do not rename or move records by hand"))
        elif not (root / "submissions" / record.entry_id / SUBMISSION_FILENAME).is_file():
            report.problems.append(Problem(name, "entry_id", f"no submission '{record.entry_id}'",
                                           "records belong to an existing entry"))
        elif missing := missing_provenance(record):
            report.problems.append(provenance_problem(name, missing))
        elif rules := record_problems(record):  # the rules import, check and the writer apply
            report.problems.append(rules_problem(name, rules))
    return report


# ---------------------------------------------------------------------------------------------
# The rules as a table, for the "How to submit" page (generated, so it cannot drift)

_EXAMPLE = "resnet50.a1_in1k"
_EXAMPLE_RECORD = f"submissions/{_EXAMPLE}/{MEASUREMENTS_DIRNAME}/nvidia-h100-sxm--offline.json"
_EXAMPLES: tuple[tuple[str, Change], ...] = (
    ("add a new entry's submission.yaml", Change("A", f"submissions/{_EXAMPLE}/{SUBMISSION_FILENAME}")),
    ("edit an entry's submission.yaml", Change("M", f"submissions/{_EXAMPLE}/{SUBMISSION_FILENAME}")),
    ("add a measurement record", Change("A", _EXAMPLE_RECORD)),
    ("edit a measurement record", Change("M", _EXAMPLE_RECORD)),
    ("remove a measurement record", Change("D", _EXAMPLE_RECORD)),
    ("delete an entry", Change("D", f"submissions/{_EXAMPLE}/{SUBMISSION_FILENAME}")),
    ("rename an entry", Change("R", f"submissions/{_EXAMPLE}-288/{SUBMISSION_FILENAME}",
                               f"submissions/{_EXAMPLE}/{SUBMISSION_FILENAME}")),
    ("add another file to an entry folder", Change("A", f"submissions/{_EXAMPLE}/model.safetensors")),
    ("add a submission.yaml that is a symbolic link",
     Change("A", f"submissions/{_EXAMPLE}/{SUBMISSION_FILENAME}", mode="120000")),
    ("change code or docs in the same pull request", Change("M", "leaderboard/scoring.py")),
)


def policy_table() -> list[dict[str, str]]:
    """What a submission pull request may change, each row decided by :func:`policy_problems`.

    Each example change is judged next to an added submission file (so the pull request is a
    submission pull request); the verdict is "allowed" or the refusal's message.
    """
    context = Change("A", f"submissions/another.entry/{SUBMISSION_FILENAME}")
    rows = []
    for what, change in _EXAMPLES:
        problems = [p for p in policy_problems([context, change]).problems if p.severity == "error"]
        rows.append({"change": what, "path": change.path,
                     "verdict": problems[0].message if problems else "allowed"})
    return rows
