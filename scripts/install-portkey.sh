#!/usr/bin/env bash
# Install the open-source Portkey AI gateway, pinned, for the integration tests: npm package
# @portkey-ai/gateway into .portkey/ at the repository root (gitignored).
#
# The published package asks for @hono/node-server ^1.3.3, which today resolves to 1.19.x: that
# version breaks every SSE answer and GET /v1/models (500 "Something went wrong", TypeError:
# immutable). Portkey's own lockfile pins 1.13.5, so an npm override pins it here too.
#
# Idempotent: when both pinned versions are already installed, nothing is done.
# Needs node (>= 18), npm and ss; as root on Debian they are installed when missing.
# Environment: PORTKEY_DIR overrides the install folder.
set -euo pipefail

PORTKEY_VERSION="1.15.2"
HONO_NODE_SERVER_VERSION="1.13.5"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${PORTKEY_DIR:-$repo_root/.portkey}"
start=$(date +%s)

# node and npm run the gateway; ss (iproute2) is how the tests see which addresses it listens on.
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v ss >/dev/null || missing+=(iproute2)
if ((${#missing[@]})); then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} from the distribution's packages"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null
  else
    echo "error: the Portkey gateway tests need ${missing[*]} (Debian: apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

installed_version() {  # the version of the package at node_modules/$1, or nothing
  node -e 'try { console.log(require(process.argv[1]).version) } catch { }' \
    "$dir/node_modules/$1/package.json" 2>/dev/null || true
}

installed() {
  [[ "$(installed_version @portkey-ai/gateway)" == "$PORTKEY_VERSION" ]] \
    && [[ "$(installed_version @hono/node-server)" == "$HONO_NODE_SERVER_VERSION" ]] \
    && [[ ! -e "$dir/node_modules/@portkey-ai/gateway/node_modules/@hono/node-server" ]]
}

if installed; then
  echo "portkey gateway $PORTKEY_VERSION (@hono/node-server $HONO_NODE_SERVER_VERSION) already installed in $dir (0 s)"
  exit 0
fi

mkdir -p "$dir"
cat >"$dir/package.json" <<JSON
{
  "name": "routing-guard-portkey",
  "private": true,
  "description": "The Portkey gateway the integration tests run (made by scripts/install-portkey.sh)",
  "dependencies": {
    "@portkey-ai/gateway": "$PORTKEY_VERSION",
    "@hono/node-server": "$HONO_NODE_SERVER_VERSION"
  },
  "overrides": {
    "@hono/node-server": "$HONO_NODE_SERVER_VERSION"
  }
}
JSON
rm -f "$dir/package-lock.json"
npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --omit=dev

if ! installed; then
  echo "error: expected @portkey-ai/gateway $PORTKEY_VERSION with @hono/node-server $HONO_NODE_SERVER_VERSION in $dir" >&2
  exit 1
fi
test -f "$dir/node_modules/@portkey-ai/gateway/build/start-server.js"

echo "portkey gateway $PORTKEY_VERSION (@hono/node-server $HONO_NODE_SERVER_VERSION) installed in $dir in $(( $(date +%s) - start )) s"
