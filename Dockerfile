# The routing-guard GitHub Action image (runs.using: docker).
#
# The base is the official slim Python image on Debian bookworm, pinned by the digest of its
# multi-platform index (python:3.12-slim-bookworm, Python 3.12.14, published 2026-08-25). Bump the
# tag and digest together. Any Debian base with python3 and python3-venv also works: the tests build
# this file with --build-arg BASE_IMAGE=<a Debian python3 image> (see scripts/container-setup.sh).
ARG BASE_IMAGE=python:3.12-slim-bookworm@sha256:0f5b26b9518d002b6173fd61daad821fa340635ebfec5bba471013f9ca114579
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="routing-guard" \
      org.opencontainers.image.description="Prove that an LLM gateway serves each coding-agent task with the model your routing file names." \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git: changed-only mode diffs the workspace against the base branch. The runner mounts the
# workspace owned by another uid, so git must trust every directory.
# Debian's git is not version-pinned: the archive drops superseded versions, so a pin would break
# the build at the next security update; the digest-pinned base fixes the release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && git config --system --add safe.directory '*'

# Runtime dependencies first (fully pinned, hash-checked, wheels only), so code changes reuse this
# layer. pip is removed from the venv afterwards: nothing installs at run time. The .pth file puts
# the application directory on the venv's sys.path. The official slim image ships its standard
# library without .pyc files and PYTHONDONTWRITEBYTECODE keeps it that way, so every run would
# compile what it imports (~300 ms): compile it once here.
COPY requirements.txt /opt/routing-guard/requirements.txt
RUN python3 -m compileall -q -j0 "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')" \
 && python3 -m venv /opt/routing-guard \
 && /opt/routing-guard/bin/python -m pip install --no-cache-dir --require-hashes --no-deps \
      --only-binary=:all: -r /opt/routing-guard/requirements.txt \
 && /opt/routing-guard/bin/python -m pip uninstall --yes --quiet pip setuptools \
 && /opt/routing-guard/bin/python -c "import pathlib, sysconfig; \
      pathlib.Path(sysconfig.get_path('purelib'), 'routing_guard_app.pth').write_text('/opt/routing-guard/app\n')"

COPY entrypoint.py /opt/routing-guard/app/entrypoint.py
COPY routing_guard/ /opt/routing-guard/app/routing_guard/
RUN /opt/routing-guard/bin/python -m compileall -q /opt/routing-guard/app

# Absolute paths: a workflow's `env: PATH: ...` replaces the image's PATH. No WORKDIR (the runner
# sets --workdir /github/workspace) and no USER (the workspace must stay writable).
ENTRYPOINT ["/opt/routing-guard/bin/python", "/opt/routing-guard/app/entrypoint.py"]
CMD []
