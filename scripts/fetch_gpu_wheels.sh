#!/usr/bin/env bash
# Download the wheels the lent GPU machine lacks (its image has torch, timm, nvidia-ml-py,
# jinja2, pyyaml, click, numpy, but not pydantic) into .whl/, for Python 3.12 on x86-64.
# .whl/ is git-ignored; name it in the device call's `carry`, then run scripts/gpu_session.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir .whl
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
         manylinux1_x86_64; do
    platforms+=(--platform "$p")
done
# One version of each, matching pyproject.toml's pydantic>=2.6,<3.
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${platforms[@]}" -d .whl \
    "pydantic>=2.6,<3" pydantic-core annotated-types typing-inspection
# pydantic pins pydantic-core exactly: keep the one it names.
wanted=$(unzip -p .whl/pydantic-2*.whl '*/METADATA' | sed -n 's/^Requires-Dist: pydantic-core==\([0-9.]*\).*/\1/p')
if ! ls .whl/pydantic_core-"$wanted"-*.whl >/dev/null 2>&1; then
    rm -f .whl/pydantic_core-*.whl
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp "${platforms[@]}" -d .whl "pydantic-core==$wanted"
fi
ls -la .whl
