#!/usr/bin/env bash
# Regenerate requirements/validator.txt: the validator image's Python dependencies (the core and
# the `measure` extra of pyproject.toml), every version pinned and every file's sha256 listed,
# for Linux x86-64 and the image's Python 3.11. The Dockerfile installs it with
# `pip install --require-hashes`; tests/test_repository_files.py checks it still satisfies
# pyproject.toml. Run it after changing a dependency in pyproject.toml (or to take newer
# releases within its ranges), and commit the result with that change.
#
#   bash scripts/lock_validator.sh     # needs uv: .venv/bin/python -m pip install -e '.[maintain]'
set -euo pipefail
cd "$(dirname "$0")/.."
uv="$(command -v uv || echo .venv/bin/uv)"
if [ ! -x "$uv" ] && ! command -v "$uv" >/dev/null 2>&1; then
    echo "lock_validator.sh: needs uv (https://docs.astral.sh/uv/): .venv/bin/python -m pip install -e '.[maintain]'" >&2
    exit 1
fi
# --no-config: a developer's uv.toml or extra indexes must not leak into the lock; PyPI only.
exec "$uv" pip compile pyproject.toml --extra measure --generate-hashes --no-config \
    --index-url https://pypi.org/simple --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 \
    --custom-compile-command "bash scripts/lock_validator.sh" \
    --output-file requirements/validator.txt --quiet "$@"
