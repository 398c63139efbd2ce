"""Rewrite the table in .github/ACTIONS_PINS.md from the `uses:` lines of the workflows.

Dependabot's pull requests move an action's SHA and version comment in the workflows; run this
on such a branch (`python scripts/sync_action_pins.py`) so the table says the same, then
`python -m pytest tests/test_workflows.py`. It refuses, naming the lines, when one action is
pinned to two commits or a pin has no `# vX.Y.Z` comment. `--check` only reports (exit 1 when
the table is stale).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PINS_FILE = REPO / ".github" / "ACTIONS_PINS.md"
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")
ROW = re.compile(r"^\| (\S+) \| (v[\d.]+) \| ([0-9a-f]{40}) \|$")


def pins_in_workflows(workflows: list[Path]) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Action -> (version, sha) from the workflows, and every inconsistency found."""
    found: dict[str, tuple[str, str, str]] = {}
    problems: list[str] = []
    for path in workflows:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = USES_LINE.match(line)
            if not match or match["ref"].startswith("./"):
                continue
            where = f"{path.name}:{number}"
            action, _, sha = match["ref"].partition("@")
            version = (match["comment"] or "").strip()
            if not re.fullmatch(r"[0-9a-f]{40}", sha) or not re.fullmatch(r"v[\d.]+", version):
                problems.append(f"{where}: pin {action} to a full SHA with a '# vX.Y.Z' comment")
                continue
            if action in found and found[action][:2] != (version, sha):
                problems.append(f"{where}: {action}@{sha} ({version}) differs from "
                                f"{found[action][2]} ({found[action][0]}); use one pin")
                continue
            found.setdefault(action, (version, sha, where))
    return {a: (v, s) for a, (v, s, _) in found.items()}, problems


def synced_text(text: str, pins: dict[str, tuple[str, str]]) -> str:
    """The pins file with its table rows replaced: listed order kept, new actions appended."""
    lines = text.splitlines()
    rows = [i for i, line in enumerate(lines) if ROW.match(line)]
    if not rows:
        raise ValueError(f"{PINS_FILE.name}: no table rows '| action | vX | sha |' found")
    listed = [ROW.match(lines[i])[1] for i in rows]
    order = [a for a in listed if a in pins] + sorted(set(pins) - set(listed))
    table = [f"| {a} | {pins[a][0]} | {pins[a][1]} |" for a in order]
    return "\n".join(lines[:rows[0]] + table + lines[rows[-1] + 1:]) + "\n"


def main(argv: list[str]) -> int:
    """Sync (or with --check, compare) the pins table; 0 when it agrees with the workflows."""
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    pins, problems = pins_in_workflows(workflows)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    text = PINS_FILE.read_text(encoding="utf-8")
    new = synced_text(text, pins)
    if new == text:
        print(f"{PINS_FILE.relative_to(REPO)}: up to date ({len(pins)} actions)")
        return 0
    if "--check" in argv:
        print(f"error: {PINS_FILE.relative_to(REPO)} is stale; run python scripts/sync_action_pins.py",
              file=sys.stderr)
        return 1
    from leaderboard.records import atomic_write_text

    atomic_write_text(PINS_FILE, new)
    print(f"{PINS_FILE.relative_to(REPO)}: updated ({len(pins)} actions)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main(sys.argv[1:]))
