#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (idempotent, fast when
# already done), lints, then runs every test: unit, gateway fixtures, faults, the real LiteLLM
# proxy and the action's container run as the GitHub runner runs it.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k verdict`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' -r requirements-lint.txt
bash scripts/install-litellm.sh
bash scripts/container-setup.sh

export PATH="$PWD/.venv/bin:$PATH"
bash scripts/lint.sh
exec python -m pytest "$@"
