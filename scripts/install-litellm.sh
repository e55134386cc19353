#!/usr/bin/env bash
# Install a pinned LiteLLM proxy into its own virtual environment, .venv-litellm at the
# repository root. Its dependency pins must never decide the product's environment, so it
# is kept apart from the venv that runs routing-guard and its tests.
#
# Idempotent: when the pinned version is already installed, nothing is done.
# Needs only python3 (>= 3.10) with the venv module (Debian: apt-get install python3-venv).
#
# The proxy runs without a database (see docs/gateways.md): no prisma, no DATABASE_URL.
# Environment: LITELLM_VENV overrides the venv location; PYTHON the interpreter used to make it.
set -euo pipefail

LITELLM_VERSION="1.108.7"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LITELLM_VENV:-$repo_root/.venv-litellm}"
python="${PYTHON:-python3}"
start=$(date +%s)

installed_version() {
  "$venv/bin/python" - <<'PY' 2>/dev/null || true
from importlib.metadata import PackageNotFoundError, version
try:
    print(version("litellm"))
except PackageNotFoundError:
    pass
PY
}

if [[ -x "$venv/bin/litellm" && "$(installed_version)" == "$LITELLM_VERSION" ]]; then
  echo "litellm $LITELLM_VERSION already installed in $venv (0 s)"
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating $venv"
  "$python" -m venv "$venv"
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "litellm[proxy]==$LITELLM_VERSION"

got="$(installed_version)"
if [[ "$got" != "$LITELLM_VERSION" ]]; then
  echo "error: expected litellm $LITELLM_VERSION in $venv, found '${got:-nothing}'" >&2
  exit 1
fi
LITELLM_LOCAL_MODEL_COST_MAP=True "$venv/bin/litellm" --help >/dev/null

echo "litellm $LITELLM_VERSION installed in $venv in $(( $(date +%s) - start )) s"
