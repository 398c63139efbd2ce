#!/usr/bin/env bash
# Set up a development environment in .venv.
#   bash scripts/setup.sh          the site and the checker (no torch)
#   bash scripts/setup.sh --test   also the validator (torch, timm), the test tools and chromium
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
python="${PYTHON:-python3}"
AXE_CORE_VERSION=4.14.1  # keep equal to AXE_CORE_VERSION in tests/test_browser_visitor.py

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# Until 0.1.0 the distribution was called "leaderboard": drop it from an older .venv, or two
# distributions would claim the same package.
if .venv/bin/python -m pip show leaderboard >/dev/null 2>&1; then
    .venv/bin/python -m pip uninstall --quiet --yes leaderboard
fi

if [ "$mode" = "--test" ]; then
    # Browser tests drive Debian's chromium; Playwright must never download its own browser.
    if ! command -v chromium >/dev/null 2>&1; then
        if [ "$(id -u)" = "0" ]; then
            apt-get update -qq && apt-get install -y -qq chromium >/dev/null
        else
            sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
        fi
    fi
    .venv/bin/python -m pip install --quiet -e ".[measure,test]"
    # The accessibility tests run this axe-core (pinned; npm checks the registry's integrity
    # hash), not the older copy bundled in axe-playwright-python.
    if [ ! -f .venv/axe-core/node_modules/axe-core/axe.min.js ] \
        || ! grep -q "axe v$AXE_CORE_VERSION" .venv/axe-core/node_modules/axe-core/axe.min.js; then
        if ! command -v npm >/dev/null 2>&1; then
            echo "setup.sh --test: npm (Node.js) is needed to install axe-core $AXE_CORE_VERSION" >&2
            exit 1
        fi
        npm install --silent --no-audit --no-fund --prefix .venv/axe-core "axe-core@$AXE_CORE_VERSION"
    fi
else
    .venv/bin/python -m pip install --quiet -e .
fi
echo "setup done: $(.venv/bin/leaderboard --version)"
