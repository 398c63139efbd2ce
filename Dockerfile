# The GPU validator's environment: Python 3.11, torch, timm, nvidia-ml-py and this project.
#
#   docker build -t leaderboard-validator .
#   docker run --rm --gpus all -v "$PWD:/work" -w /work leaderboard-validator leaderboard measure resnet50.a1_in1k
#
# torch's PyPI wheels carry their CUDA runtime, so the image needs no CUDA base: only the
# host's NVIDIA driver, passed in by the NVIDIA container toolkit (`--gpus all`). The GPU
# workflows (validate, sweep) run their jobs in this image and reinstall the default branch's
# copy of the project over the one baked in (`pip install --no-deps`, seconds), so the code that
# measures is always main's even when the image is older; the heavy dependencies come from here.
#
# Reproducible: the base image by digest (a tag can move, a digest cannot) and every Python
# package from requirements/validator.txt, pinned with its sha256 (`pip --require-hashes`).
#
# The base: Docker Hub's official python:3.11.10-slim-bookworm at the digest another public
# project pins for that tag (nalabelle/build, images/digests.Dockerfile, kept by Renovate); no
# registry was reachable where this line was written, and a digest that does not exist fails
# `docker build` at once, so the container workflow's first build is its check. To update it:
# Dependabot (.github/dependabot.yml, docker ecosystem) proposes a pull request with the new
# tag and digest; by hand,
#   docker buildx imagetools inspect python:3.11-slim-bookworm --format '{{json .Manifest.Digest}}'
# and replace tag and digest below together. The container workflow builds every such pull
# request. The Python packages: `bash scripts/lock_validator.sh` (see there).
FROM python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

# 1 adds Debian's chromium and npm (axe-core) for the browser tests (the devcontainer); the
# validator needs neither.
ARG WITH_CHROMIUM=0

# git: `leaderboard changed-entries` and the validator's provenance (git SHA) read the history.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && if [ "$WITH_CHROMIUM" = "1" ]; then apt-get install -y --no-install-recommends chromium npm; fi \
    && rm -rf /var/lib/apt/lists/*

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# The venv belongs to an unprivileged user, so the devcontainer can reinstall the project
# editable without root. GitHub Actions container jobs run as root (the runner mounts its
# workspace owned by its own user); root can use the venv as it is.
RUN useradd --create-home --shell /bin/bash validator \
    && install -d -o validator -g validator /opt/venv /opt/leaderboard
USER validator
# The base image's pip (no upgrade from the network: the image must be the same each build).
RUN python -m venv "$VIRTUAL_ENV"

WORKDIR /opt/leaderboard
# Dependencies first, in their own layer: a code change does not reinstall torch. Every file's
# hash is checked; a package missing from the lock fails the build instead of being resolved.
COPY --chown=validator:validator requirements/validator.txt requirements/validator.txt
RUN pip install --require-hashes --no-deps -r requirements/validator.txt

# Then the project itself (not editable: the image must not depend on a checkout), built with
# the locked setuptools rather than one fetched for an isolated build.
COPY --chown=validator:validator pyproject.toml README.md LICENSE ./
COPY --chown=validator:validator leaderboard/ leaderboard/
RUN pip install --no-deps --no-build-isolation --no-index . \
    && pip check \
    && leaderboard --version \
    && python -c "import torch, timm, pynvml, safetensors, torchvision, huggingface_hub; print('torch', torch.__version__, 'timm', timm.__version__)"

USER root
WORKDIR /work
CMD ["leaderboard", "--help"]
