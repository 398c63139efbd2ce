#!/usr/bin/env bash
# Time what the check workflow does for a submission-only pull request, from nothing:
#   clone -> bash scripts/setup.sh (pip install -e ., no extras) -> leaderboard new + claims ->
#   check --changed-against main --committed --format github -> check --format github
# and show that neither torch nor chromium was needed. Prints seconds per step and the total.
#   bash scripts/time_submission_pr_check.sh [PYTHON]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${1:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com
unset PYTHONPATH VIRTUAL_ENV
step() { local name="$1"; shift; local t0=$SECONDS; "$@"; echo "step: $name: $((SECONDS - t0)) s" >&2; }
total0=$SECONDS

step "clone" git clone --quiet --no-hardlinks "$repo" "$work/clone"
cd "$work/clone"
base="$(git rev-parse HEAD)"
git switch --quiet -c add-entry
step "install the checker (scripts/setup.sh, no extras)" env PYTHON="$python" bash scripts/setup.sh
id=resnet50.bamboo
step "leaderboard new" .venv/bin/leaderboard new "$id" --revision "$(printf 'c0ffee%034d' 1)"
sed -i -e 's/^  top1: null.*/  top1: 79.1/' -e 's/^  source: null.*/  source: my evaluation, 50,000 images/' \
    -e 's/^  name: null.*/  name: Ada Lovelace/' "submissions/$id/submission.yaml"
git add submissions && git commit --quiet -m "Add $id"
step "check --changed-against BASE --committed --format github" \
    .venv/bin/leaderboard check --changed-against "$base" --committed --format github
step "check --format github (every submission and record)" .venv/bin/leaderboard check --format github -q
if .venv/bin/python -c "import torch" 2>/dev/null; then echo "torch is installed: not the no-extras path" >&2; exit 1; fi
echo "torch: not installed; chromium: not used" >&2
echo "total: $((SECONDS - total0)) s" >&2
