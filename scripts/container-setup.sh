#!/usr/bin/env bash
# Prepare this machine to build and run the action image the way the GitHub runner does,
# without a Docker engine: podman (runc, vfs storage, chroot builds) as root.
#
# Idempotent and fast when already done; every step is skipped when its result exists:
#   1. podman, runc and mmdebstrap from Debian's packages (apt-get update first);
#   2. a containers.conf for this machine (no default ulimits, cgroupfs) in the cache dir;
#   3. localhost/debian-python:local, a Debian bookworm root with python3 + python3-venv, built by
#      mmdebstrap from the mirror this machine's apt already uses: the stand-in for the official
#      python image, which cannot be pulled here. Like the official slim images it keeps no docs,
#      man pages or translations (dpkg path-exclude, which also applies to packages installed
#      later). Rebuilt when this recipe changes;
#   4. localhost/python-base:local, that base plus this machine's CA bundle, so pip and apt-get
#      inside `podman build` trust the registries' certificate chain. Rebuilt when the host bundle
#      or the Debian base changes;
#   5. localhost/debian-stock:local, a newcomer's stock Debian bookworm for the README's install
#      command (tests/container/test_readme_install.py): minbase (what Debian's own container image
#      is), Debian's python3 WITHOUT python3-venv, sudo, apt's package lists kept as on an installed
#      system, a user `newcomer` in the sudo group (passwordless: a test cannot type a password) and
#      this machine's CA bundle as in step 4. Rebuilt when its recipe or the host bundle changes.
#
# Exports nothing: tests/support/container_harness.py derives the same cache dir and sets CONTAINERS_CONF
# for its own podman calls. Cache dir: $ROUTING_GUARD_CONTAINER_CACHE, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/routing-guard-container.
#
# Usage: scripts/container-setup.sh            (prints the timing of each step)
set -euo pipefail

DEBIAN_IMAGE=localhost/debian-python:local
BASE_IMAGE=localhost/python-base:local
SUITE=bookworm
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
INCLUDE=python3,python3-venv,ca-certificates
# the paths debuerreotype's slimify excludes in the official slim images
DPKG_OPTS=(
  'path-exclude=/usr/share/doc/*'
  'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/man/*'
  'path-exclude=/usr/share/groff/*'
  'path-exclude=/usr/share/info/*'
  'path-exclude=/usr/share/lintian/*'
  'path-exclude=/usr/share/linda/*'
  'path-exclude=/usr/share/locale/*'
)
RECIPE_LABEL=org.routing-guard.recipe
STOCK_IMAGE=localhost/debian-stock:local
STOCK_INCLUDE=python3,sudo,ca-certificates
STOCK_USER=newcomer

cache_dir="${ROUTING_GUARD_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/routing-guard-container}"
conf="$cache_dir/containers.conf"

now() { date +%s.%N; }
t_all=$(now)
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
report() { printf '[container-setup] %-52s %6s s\n' "$1" "$2"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "container-setup: run as root (podman with vfs storage and chroot builds)" >&2
  exit 1
fi

# 1. tools ---------------------------------------------------------------------------------------
t=$(now)
missing=()
for tool in podman runc mmdebstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  report "apt-get install ${missing[*]}" "$(elapsed "$t")"
else
  report "tools present (podman runc mmdebstrap)" "$(elapsed "$t")"
fi

# 2. containers.conf -----------------------------------------------------------------------------
mkdir -p "$cache_dir"
want_conf=$'[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n'
if [ ! -f "$conf" ] || [ "$(cat "$conf")"$'\n' != "$want_conf" ]; then
  printf '%s' "$want_conf" > "$conf"
fi
export CONTAINERS_CONF="$conf"  # for this script's own podman calls only
P=(podman --runtime runc --storage-driver=vfs)

# 3. Debian + python3 base -----------------------------------------------------------------------
apt_mirror() {
  # The first Debian archive URI that apt on this machine uses (deb822 or one-line format).
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } else break } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  return 1
}

label_of() {  # label_of IMAGE: the recipe label of an image, empty when it does not exist
  "${P[@]}" image exists "$1" || return 0
  "${P[@]}" image inspect --format "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$1"
}

t=$(now)
base_recipe=$(printf '%s\n' "$SUITE" "$INCLUDE" "${DPKG_OPTS[@]}" | sha256sum | cut -c1-16)
if [ "$(label_of "$DEBIAN_IMAGE")" = "$base_recipe" ]; then
  report "$DEBIAN_IMAGE is current" "$(elapsed "$t")"
else
  mirror=$(apt_mirror) || { echo "container-setup: no Debian mirror in the apt sources" >&2; exit 1; }
  work=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  mmdebstrap --quiet --variant=apt --include="$INCLUDE" "${DPKG_OPTS[@]/#/--dpkgopt=}" \
    "$SUITE" "$work/base.tar" "$mirror"
  "${P[@]}" import --quiet --change "LABEL $RECIPE_LABEL=$base_recipe" \
    "$work/base.tar" "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$work"
  trap - EXIT
  report "built $DEBIAN_IMAGE (mmdebstrap + import)" "$(elapsed "$t")"
fi

# 4. CA layer ------------------------------------------------------------------------------------
t=$(now)
ca_recipe=$( { sha256sum "$CA_BUNDLE"; "${P[@]}" image inspect --format '{{ .Id }}' "$DEBIAN_IMAGE"; } \
  | sha256sum | cut -c1-16)
if [ "$(label_of "$BASE_IMAGE")" = "$ca_recipe" ]; then
  report "$BASE_IMAGE is current" "$(elapsed "$t")"
else
  ctx=$(mktemp -d "$cache_dir/base-ca.XXXXXX")
  trap 'rm -rf "$ctx"' EXIT
  cp "$CA_BUNDLE" "$ctx/ca-certificates.crt"
  cat > "$ctx/Containerfile" <<CONTAINERFILE
FROM $DEBIAN_IMAGE
COPY ca-certificates.crt $CA_BUNDLE
ENV PIP_CERT=$CA_BUNDLE SSL_CERT_FILE=$CA_BUNDLE
LABEL $RECIPE_LABEL=$ca_recipe
CONTAINERFILE
  "${P[@]}" build --quiet --isolation=chroot -t "$BASE_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
  trap - EXIT
  report "built $BASE_IMAGE (CA layer)" "$(elapsed "$t")"
fi

# 5. stock Debian for the README's install command ------------------------------------------------
t=$(now)
stock_recipe=$( { printf '%s\n' stock-2 "$SUITE" "$STOCK_INCLUDE" "$STOCK_USER"; sha256sum "$CA_BUNDLE"; } \
  | sha256sum | cut -c1-16)
if [ "$(label_of "$STOCK_IMAGE")" = "$stock_recipe" ]; then
  report "$STOCK_IMAGE is current" "$(elapsed "$t")"
else
  mirror=$(apt_mirror) || { echo "container-setup: no Debian mirror in the apt sources" >&2; exit 1; }
  work=$(mktemp -d "$cache_dir/stock.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  cp "$CA_BUNDLE" "$work/ca-certificates.crt"
  mmdebstrap --quiet --variant=minbase --include="$STOCK_INCLUDE" --skip=cleanup/apt/lists \
    --customize-hook="chroot \"\$1\" useradd --create-home --groups sudo --shell /bin/bash $STOCK_USER" \
    --customize-hook="echo '$STOCK_USER ALL=(ALL) NOPASSWD: ALL' > \"\$1/etc/sudoers.d/$STOCK_USER\"" \
    --customize-hook="copy-in $work/ca-certificates.crt /etc/ssl/certs" \
    "$SUITE" "$work/stock.tar" "$mirror"
  "${P[@]}" import --quiet --change "LABEL $RECIPE_LABEL=$stock_recipe" \
    --change "ENV PIP_CERT=$CA_BUNDLE" --change "ENV SSL_CERT_FILE=$CA_BUNDLE" \
    "$work/stock.tar" "$STOCK_IMAGE" >/dev/null
  rm -rf "$work"
  trap - EXIT
  report "built $STOCK_IMAGE (mmdebstrap + import)" "$(elapsed "$t")"
fi

report "total" "$(elapsed "$t_all")"
echo "[container-setup] CONTAINERS_CONF=$conf"
