#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (idempotent, fast when
# already done), lints, then runs every test: unit, gateway fixtures, faults, the real LiteLLM
# proxy, the real Portkey gateway, the real llama.cpp server and the action's container run as the
# GitHub runner runs it.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k verdict`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-python3}
# llama.cpp compiles for minutes on a fresh machine: make sure its compiler is there (no other
# apt-get may run alongside), start it in the background, wait for it before the linters.
bash scripts/install-llama.sh --build-tools
llama_log=$(mktemp)
bash scripts/install-llama.sh >"$llama_log" 2>&1 &
llama_install=$!
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' -r requirements-lint.txt \
  -r requirements-release.txt
bash scripts/install-litellm.sh
bash scripts/install-portkey.sh
bash scripts/install-act.sh
# The container tests run the image with podman as root (scripts/container-setup.sh builds a local
# Debian base). Where that is impossible (GitHub's hosted runners: not root, no Debian mirror) set
# ROUTING_GUARD_CONTAINER_TESTS=skip; the workflow's own image job covers the image there.
if [ "${ROUTING_GUARD_CONTAINER_TESTS:-}" != skip ]; then
  bash scripts/container-setup.sh
fi

if ! wait "$llama_install"; then
  cat "$llama_log" >&2
  echo "scripts/install-llama.sh failed" >&2
  exit 1
fi
cat "$llama_log"
rm -f "$llama_log"

export PATH="$PWD/.venv/bin:$PATH"
bash scripts/lint.sh
exec python -m pytest "$@"
