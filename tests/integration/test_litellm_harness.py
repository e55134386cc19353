"""The LiteLLM test harness itself: the proxy starts, answers, and stop() really ends it."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.support.litellm_proxy import (
    CONFIG_DIR,
    LITELLM_BIN,
    POOL,
    LiteLLMNotInstalledError,
    Proxy,
    ProxyPool,
    not_installed_message,
    start_proxy,
)

# the fixtures (litellm_healthy, litellm_catch_all, ...) come from the harness module
pytestmark = pytest.mark.litellm

PING = [{"role": "user", "content": "ping"}]


def _client() -> httpx.Client:
    return httpx.Client(timeout=30.0, trust_env=False, follow_redirects=False)


def test_proxy_is_live_and_on_loopback(litellm_healthy: Proxy) -> None:
    assert litellm_healthy.is_running()
    assert litellm_healthy.base_url == f"http://127.0.0.1:{litellm_healthy.port}/v1"
    with _client() as client:
        response = client.get(f"{litellm_healthy.root_url}/health/liveliness")
    assert response.status_code == 200


def test_chat_with_master_key_answers_200(litellm_healthy: Proxy) -> None:
    with _client() as client:
        response = client.post(
            f"{litellm_healthy.base_url}/chat/completions",
            headers=litellm_healthy.auth,
            json={"model": "gpt-4o", "messages": PING, "max_tokens": 16},
        )
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "gpt-4o"
    assert body["choices"][0]["message"]["content"]
    assert response.headers["x-litellm-model-name"] == "openai/gpt-4o-2024-08-06"
    assert response.headers["x-litellm-attempted-fallbacks"] == "0"


def test_healthy_config_refuses_unknown_model(litellm_healthy: Proxy) -> None:
    with _client() as client:
        response = client.post(
            f"{litellm_healthy.base_url}/chat/completions",
            headers=litellm_healthy.auth,
            json={"model": "routing-guard-invalid-model-id", "messages": PING, "max_tokens": 16},
        )
    assert response.status_code == 400


def test_catch_all_config_answers_unknown_model(litellm_catch_all: Proxy) -> None:
    with _client() as client:
        response = client.post(
            f"{litellm_catch_all.base_url}/chat/completions",
            headers=litellm_catch_all.auth,
            json={"model": "routing-guard-invalid-model-id", "messages": PING, "max_tokens": 16},
        )
    assert response.status_code == 200
    assert response.json()["model"] == "routing-guard-invalid-model-id"
    assert response.headers["x-litellm-model-name"] == "openai/gpt-4o-mini"


def test_pool_gives_one_proxy_per_config(litellm_pool: ProxyPool, litellm_healthy: Proxy) -> None:
    assert litellm_pool is POOL
    assert litellm_pool.get("config-healthy.yaml") is litellm_healthy


def test_stop_ends_the_process_group(tmp_path: Path) -> None:
    if not LITELLM_BIN.exists():
        pytest.fail(not_installed_message(), pytrace=False)
    proxy = start_proxy(CONFIG_DIR / "config-catch-all.yaml", log_path=tmp_path / "proxy.log")
    pgid = proxy.pid
    try:
        assert proxy.is_running()
    finally:
        proxy.stop()
    assert not proxy.is_running()
    assert proxy.process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)  # nothing is left in the process group
    with _client() as client, pytest.raises(httpx.ConnectError):
        client.get(f"{proxy.root_url}/health/liveliness")
    proxy.stop()  # idempotent


def test_missing_venv_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tests.support.litellm_proxy as harness

    monkeypatch.setattr(harness, "LITELLM_BIN", tmp_path / "no-such-venv" / "bin" / "litellm")
    with pytest.raises(LiteLLMNotInstalledError, match=r"scripts/install-litellm\.sh"):
        harness.start_proxy(CONFIG_DIR / "config.yaml", log_path=tmp_path / "x.log")
