#!/usr/bin/env bash
# Every static check CI runs, offline. Installs nothing: first
#   python -m pip install -e '.[test]' -r requirements-lint.txt
# Runs all checks, then exits non-zero if any of them found something.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed=()
check() {
  echo "--- $*"
  "$@" || failed+=("$1")
}

workflows=(.github/workflows/*.yml examples/workflows/*.yml)

check ruff check .
check ruff format --check .
check mypy
check zizmor --offline --strict-collection --no-progress .github/ action.yml examples/workflows/*.yml
check check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
check check-jsonschema --builtin-schema vendor.github-actions action.yml
# the runner refuses an action.yml with an expression where its template schema allows none
check python scripts/check_action_metadata.py action.yml
check actionlint "${workflows[@]}"
check check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
check check-jsonschema --builtin-schema vendor.gitlab-ci examples/gitlab/.gitlab-ci.yml
check hadolint Dockerfile

if ((${#failed[@]})); then
  echo "lint failed: ${failed[*]}" >&2
  exit 1
fi
echo "lint passed"
