#!/usr/bin/env bash
# Download the wheels the lent GPU machine lacks (its image has torch, nvidia-ml-py, jinja2,
# pyyaml, click, numpy, but not pydantic, and an older typing-extensions than pydantic-core
# imports: typing_extensions.Sentinel needs >= 4.14) into .whl/, for Python 3.12 on x86-64, and
# timm pinned to the version `check` validates against (leaderboard/data/timm_catalog.json's
# timm_version): the image's own timm is of unknown version, and another timm builds another
# network, or none ("Unknown model"). .whl/ is git-ignored; name it in the device call's `carry`,
# then run scripts/gpu_session.sh, which installs them with --no-deps first on PYTHONPATH and
# checks every requirement and the timm pin.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${LB_PYTHON:-python3}
rm -rf .whl && mkdir .whl
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
         manylinux1_x86_64; do
    platforms+=(--platform "$p")
done
download() {
    "$python" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp "${platforms[@]}" -d .whl "$@"
}
# One version of each, matching pyproject.toml's pydantic>=2.6,<3.
download "pydantic>=2.6,<3" annotated-types typing-inspection
# pydantic pins pydantic-core exactly, and pydantic-core names the typing-extensions it needs.
wanted=$(unzip -p .whl/pydantic-2*.whl '*/METADATA' | sed -n 's/^Requires-Dist: pydantic-core==\([0-9.]*\).*/\1/p')
download "pydantic-core==$wanted"
spec=$(unzip -p .whl/pydantic_core-*.whl '*/METADATA' \
       | sed -n 's/^Requires-Dist: typing-extensions *\([^;]*\).*/\1/p' | tr -d ' ()')
download "typing-extensions${spec:->=4.14}"
# timm needs torch, torchvision, pyyaml, huggingface_hub and safetensors: the image has them all.
timm_version=$("$python" -c "import json; print(json.load(open('leaderboard/data/timm_catalog.json'))['timm_version'])")
download "timm==$timm_version"
# Every requirement between the carried wheels must hold for Python 3.12 (no-deps hides gaps).
"$python" scripts/check_carried_wheels.py --wheels .whl  # and the timm pin
ls -la .whl
