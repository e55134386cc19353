"""The product's verdicts through a real Portkey gateway (open-source, npm, on loopback).

Each test writes a routing file whose `gateway.headers` tell Portkey where to go, the way a user
configures it: `x-portkey-provider` + `x-portkey-custom-host`, or an inline `x-portkey-config`
with targets and a strategy. Portkey forwards to a fake provider on 127.0.0.1
(tests/support/fake_provider.py) whose URL path picks its behaviour (healthy, broken, rate limited...).
`routing-guard check` runs in-process as a user runs it; the exit code, the report and every
output are checked, and no output may carry any 8-character run of the key.

What Portkey does with each config (which target it picks, the index header it sends) is the
gateway's own behaviour, checked first in each test where it decides the verdict.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from tests.support import portkey_gateway
from tests.support.fake_provider import SWITCHED_MODEL, UPSTREAM_KEY, masked, provider_url, serve_provider
from tests.support.gateway_fixtures import KEY, CheckRun, routing_file, run_check, use_key
from tests.support.live_server import ServerProcess, listening_addresses

pytestmark = pytest.mark.portkey

INVALID = "routing-guard-invalid-model-id"
INDEX = "x-portkey-last-used-option-index"
PING = {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 16}


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch)


@pytest.fixture
def provider(upstream: HTTPServer) -> HTTPServer:
    serve_provider(upstream)
    return upstream


# --- routing files -----------------------------------------------------------------------------


def by_provider(provider: HTTPServer, prefix: str = "/", name: str = "openai") -> dict[str, str]:
    return {"x-portkey-provider": name, "x-portkey-custom-host": provider_url(provider, prefix)}


def target(provider: HTTPServer, prefix: str = "/", **fields: Any) -> dict[str, Any]:
    """A config target on the fake provider. Portkey wants an `api_key` on each target (the key the
    client sends is then not used upstream); a committed routing file must not hold one, so it is
    left empty: routing-guard refuses a credential in gateway.headers."""
    return {
        "provider": "openai",
        "api_key": "",
        "custom_host": provider_url(provider, prefix),
        **fields,
    }


def by_config(config: dict[str, Any]) -> dict[str, str]:
    return {"x-portkey-config": json.dumps(config, separators=(",", ":"))}


def check(
    capsys: pytest.CaptureFixture[str],
    folder: Path,
    portkey: ServerProcess,
    routes: dict[str, Any],
    headers: dict[str, str],
    *args: str,
    api: str = "openai-chat",
    auth: str | None = None,
) -> CheckRun:
    routing = routing_file(folder, routes, base_url=portkey.base_url, api=api, auth=auth, headers=headers)
    run = run_check(capsys, routing, *args)
    for secret in {KEY, UPSTREAM_KEY}:
        runs = {secret[i : i + 8] for i in range(len(secret) - 7)}
        shown = sorted(r for r in runs if r in run.everything)
        assert not shown, f"an output shows part of a key: {shown}"
    assert run.report["exit_code"] == run.exit_code
    return run


def verdicts(run: CheckRun) -> dict[str, str]:
    return {r["route"]: r["verdict"] for r in run.report["routes"]}


def dump(run: CheckRun) -> str:
    return f"exit {run.exit_code}\n{run.stdout}\n{run.stderr}\n{json.dumps(run.report, indent=1)}"


def gateway_post(portkey: ServerProcess, headers: dict[str, str], model: str) -> httpx.Response:
    """One chat request straight to Portkey: what the gateway itself does with a config."""
    with httpx.Client(timeout=20.0, trust_env=False) as client:
        return client.post(
            f"{portkey.base_url}/chat/completions",
            headers={**headers, "Authorization": f"Bearer {KEY}"},
            json={"model": model, **PING},
        )


# --- the harness ---------------------------------------------------------------------------------


def test_gateway_listens_on_loopback_only(portkey: ServerProcess) -> None:
    assert portkey.is_running()
    assert listening_addresses(portkey.pid) == {f"127.0.0.1:{portkey.port}"}
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        assert client.get(f"{portkey.root_url}/").text == "AI Gateway says hey!"


def test_stop_ends_the_gateway(tmp_path: Path) -> None:
    gateway = portkey_gateway.start_portkey(tmp_path / "portkey.log")
    with gateway:
        assert listening_addresses(gateway.pid) == {f"127.0.0.1:{gateway.port}"}
    assert gateway.process.poll() is not None
    with pytest.raises(httpx.ConnectError), httpx.Client(timeout=2.0, trust_env=False) as client:
        client.get(f"{gateway.root_url}/")


def test_the_install_script_finds_its_pinned_install() -> None:
    """A second run of scripts/install-portkey.sh does nothing (CI runs it on every test run)."""
    if not portkey_gateway.GATEWAY_JS.is_file():
        pytest.fail(portkey_gateway.not_installed_message(), pytrace=False)
    done = subprocess.run(
        ["bash", portkey_gateway.INSTALL_SCRIPT],
        cwd=portkey_gateway.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "portkey gateway 1.15.2 (@hono/node-server 1.13.5) already installed" in done.stdout


def test_a_missing_install_fails_and_names_the_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(portkey_gateway, "GATEWAY_JS", tmp_path / "start-server.js")
    with pytest.raises(FileNotFoundError, match=r"Run `bash scripts/install-portkey\.sh`"):
        portkey_gateway.start_portkey(tmp_path / "portkey.log")


def test_gateway_streams_and_lists_with_the_pinned_node_server(
    portkey: ServerProcess, provider: HTTPServer
) -> None:
    """@hono/node-server 1.19 breaks SSE and /v1/models on Portkey (500 "Something went wrong")."""
    headers = {**by_provider(provider), "Authorization": f"Bearer {KEY}"}
    with httpx.Client(timeout=20.0, trust_env=False) as client:
        listing = client.get(f"{portkey.base_url}/models", headers=headers)
        with client.stream(
            "POST",
            f"{portkey.base_url}/chat/completions",
            headers=headers,
            json={"model": "gpt-4o", "stream": True, **PING},
        ) as stream:
            text = "".join(stream.iter_text())
    assert listing.status_code == 200, listing.text
    assert "gpt-4o" in [m["id"] for m in listing.json()["data"]]
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
    assert '"finish_reason": "stop"' in text and text.rstrip().endswith("data: [DONE]")


# --- pass-through: x-portkey-provider + x-portkey-custom-host -------------------------------------


def test_pass_through_every_protocol_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    routes = {
        "code-generation": "gpt-4o",
        "code-generation-stream": {"model": "gpt-4o", "stream": True},
        "codex": {"model": "gpt-4.1", "api": "openai-responses"},
        "codex-stream": {"model": "gpt-4.1", "api": "openai-responses", "stream": True},
    }
    run = check(capsys, tmp_path, portkey, routes, by_provider(provider))

    assert run.exit_code == 0, dump(run)
    assert verdicts(run) == dict.fromkeys(routes, "pass"), dump(run)
    assert run.route("code-generation")["model_returned"] == "gpt-4o-2024-08-06"
    assert "dated snapshot of gpt-4o" in run.route("code-generation")["notes"]
    assert run.route("codex-stream")["model_returned"] == "gpt-4.1-2025-04-14"
    for api in ("openai-chat", "openai-responses"):
        error_path = run.error_path_for(api)
        assert error_path["verdict"] == "pass", dump(run)
        assert error_path["http_status"] == 404


def test_messages_through_custom_host(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """Anthropic Messages reach an `anthropic` custom host; the Bearer key becomes X-API-Key."""
    routes = {
        "claude-code-review": "claude-sonnet-4-5",
        "claude-code-review-stream": {"model": "claude-haiku-4-5", "stream": True},
    }
    headers = by_provider(provider, name="anthropic")
    run = check(capsys, tmp_path, portkey, routes, headers, api="anthropic-messages")

    assert run.exit_code == 0, dump(run)
    assert verdicts(run) == dict.fromkeys(routes, "pass"), dump(run)
    assert run.route("claude-code-review")["model_returned"] == "claude-sonnet-4-5-20250929"
    assert run.route("claude-code-review-stream")["model_returned"] == "claude-haiku-4-5-20251001"
    assert run.error_path["verdict"] == "pass" and run.error_path["http_status"] == 404, dump(run)


def test_messages_to_an_openai_provider_is_no_pass(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """Portkey answers 500 "messages is not supported by openai": no routing verdict, exit 3."""
    run = check(
        capsys,
        tmp_path,
        portkey,
        {"review": "claude-sonnet-4-5"},
        by_provider(provider),
        api="anthropic-messages",
    )

    assert run.exit_code == 3, dump(run)
    assert run.route("review")["verdict"] == "http_error" and run.route("review")["http_status"] == 500


def test_override_params_re_pointing_is_model_mismatch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """`override_params.model` silently rewrites the model sent upstream; only the body shows it."""
    config = target(provider, override_params={"model": "gpt-4o-mini"})
    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 1, dump(run)
    entry = run.route("code-generation")
    assert entry["verdict"] == "model_mismatch", dump(run)
    assert entry["model_returned"] == "gpt-4o-mini-2024-07-18"


# --- fallback groups: a later target served -------------------------------------------------------


def test_fallback_after_a_500_is_fallback_detected(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    config = {"strategy": {"mode": "fallback"}, "targets": [target(provider, "/broken/"), target(provider)]}
    answer = gateway_post(portkey, by_config(config), "gpt-4o")
    assert answer.status_code == 200 and answer.headers[INDEX] == "config.targets[1]"

    run = check(
        capsys,
        tmp_path,
        portkey,
        {"code-generation": "gpt-4o", "commit-message": "gpt-4o-mini"},
        by_config(config),
    )

    assert run.exit_code == 1, dump(run)
    assert verdicts(run) == dict.fromkeys(["code-generation", "commit-message"], "fallback_detected"), dump(
        run
    )
    entry = run.route("code-generation")
    # the body names a dated snapshot of gpt-4o, which alone would pass: the header says otherwise
    assert entry["model_returned"] == "gpt-4o-2024-08-06"
    assert "config.targets[1]" in entry["notes"]


def test_fallback_by_host_is_fallback_detected(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """The first target's host is unreachable (Portkey: 500 "fetch failed"): the second serves."""
    dead = {**target(provider), "custom_host": "http://127.0.0.1:9/v1"}
    config = {"strategy": {"mode": "fallback"}, "targets": [dead, target(provider)]}
    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 1, dump(run)
    assert run.route("code-generation")["verdict"] == "fallback_detected", dump(run)
    assert "config.targets[1]" in run.route("code-generation")["notes"]


def test_first_target_serving_passes_and_the_error_path_sees_the_last_target(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """A fallback group whose first target serves: index config.targets[0], no fallback. Without
    on_status_codes the bogus ID's 404 falls back too, so the error path sees the last target's 500."""
    config = {"strategy": {"mode": "fallback"}, "targets": [target(provider), target(provider, "/broken/")]}
    answer = gateway_post(portkey, by_config(config), "gpt-4o")
    assert answer.status_code == 200 and answer.headers[INDEX] == "config.targets[0]"

    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 3, dump(run)
    assert run.route("code-generation")["verdict"] == "pass", dump(run)
    assert run.error_path["http_status"] == 500 and run.error_path["verdict"] != "pass", dump(run)


# --- the error path ------------------------------------------------------------------------------


def test_error_path_with_a_catch_all_target_is_silent_fallback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """Fallback without on_status_codes fires on the bogus ID's 404 too; a last target that
    overrides the model then answers it with 200."""
    catch_all = target(provider, override_params={"model": "gpt-4o-mini"})
    config = {"strategy": {"mode": "fallback"}, "targets": [target(provider), catch_all]}
    answer = gateway_post(portkey, by_config(config), INVALID)
    assert answer.status_code == 200 and answer.headers[INDEX] == "config.targets[1]"

    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 1, dump(run)
    assert run.route("code-generation")["verdict"] == "pass", dump(run)
    error_path = run.error_path
    assert error_path["verdict"] == "silent_fallback", dump(run)
    assert error_path["http_status"] == 200
    assert error_path["model_returned"] == "gpt-4o-mini-2024-07-18"
    assert run.route("code-generation")["error_path_status"] == 200


def test_error_path_with_fallback_on_5xx_only_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """`on_status_codes: [500]`: the bogus ID's 404 is not a reason to fall back."""
    catch_all = target(provider, override_params={"model": "gpt-4o-mini"})
    config = {
        "strategy": {"mode": "fallback", "on_status_codes": [500]},
        "targets": [target(provider), catch_all],
    }
    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 0, dump(run)
    assert run.error_path["verdict"] == "pass" and run.error_path["http_status"] == 404, dump(run)


# --- errors without a fallback -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "status", "verdict"), [("/limited/", 429, "rate_limited"), ("/broken/", 500, "http_error")]
)
def test_upstream_error_without_fallback_is_exit_3(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    portkey: ServerProcess,
    provider: HTTPServer,
    prefix: str,
    status: int,
    verdict: str,
) -> None:
    run = check(
        capsys,
        tmp_path,
        portkey,
        {"code-generation": "gpt-4o"},
        by_provider(provider, prefix),
        "--retries",
        "1",
    )

    assert run.exit_code == 3, dump(run)
    entry = run.route("code-generation")
    assert entry["verdict"] == verdict and entry["http_status"] == status, dump(run)
    # Portkey prefixes the provider's message and adds its name
    assert "openai error: " in entry["notes"], dump(run)


def test_wrong_key_is_relayed_masked_and_never_shown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """Open-source Portkey checks no key: it forwards ours and relays the upstream's masked echo."""
    answer = gateway_post(portkey, by_provider(provider, "/keyed/"), "gpt-4o")
    assert answer.status_code == 401 and masked(KEY) in answer.text  # the echo really carries key runs

    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_provider(provider, "/keyed/"))

    assert run.exit_code == 3, dump(run)
    entry = run.route("code-generation")
    assert entry["verdict"] == "auth_error" and entry["http_status"] == 401, dump(run)
    assert masked(KEY) not in run.everything and KEY[:12] not in run.everything


def test_right_key_is_forwarded(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    portkey: ServerProcess,
    provider: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_key(monkeypatch, UPSTREAM_KEY)
    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_provider(provider, "/keyed/"))

    assert run.exit_code == 0, dump(run)
    assert run.route("code-generation")["verdict"] == "pass"


# --- --models-only ---------------------------------------------------------------------------------


def test_models_only_through_portkey(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """GET /v1/models is forwarded to the custom host (it 500s with @hono/node-server 1.19)."""
    routes = {"code-generation": "gpt-4o", "legacy": "gpt-4-turbo"}
    run = check(capsys, tmp_path, portkey, routes, by_provider(provider), "--models-only")

    assert run.exit_code == 1, dump(run)
    assert verdicts(run) == {"code-generation": "pass", "legacy": "not_listed"}, dump(run)
    # the listing reached the provider through Portkey, and nothing else was sent: no tokens spent
    assert provider.log and all(req.method == "GET" and req.path == "/v1/models" for req, _ in provider.log)


# --- Portkey's strategies: only a fallback group's later target is a fallback (issue 10, 3) -------


def test_loadbalance_choice_is_not_a_fallback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """A weight-0 first target is never picked: Portkey reports config.targets[1], nothing failed."""
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [target(provider, weight=0), target(provider, weight=1)],
    }
    answer = gateway_post(portkey, by_config(config), "gpt-4o")
    assert answer.status_code == 200 and answer.headers[INDEX] == "config.targets[1]"

    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 0, dump(run)
    entry = run.route("code-generation")
    assert entry["verdict"] == "pass", dump(run)
    assert "config.targets[1]" in entry["notes"], dump(run)  # the chosen target is named


def test_loadbalance_target_overriding_the_model_is_model_mismatch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    override = target(provider, weight=1, override_params={"model": "gpt-4o-mini"})
    config = {"strategy": {"mode": "loadbalance"}, "targets": [target(provider, weight=0), override]}
    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 1, dump(run)
    entry = run.route("code-generation")
    assert entry["verdict"] == "model_mismatch", dump(run)
    assert entry["model_returned"] == "gpt-4o-mini-2024-07-18"


def test_conditional_router_choice_passes_and_its_default_is_a_catch_all(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """gpt-4o goes to the target named "b" (index 1, no failure); any other ID, the bogus one
    included, to the default "a", which re-points the model: a silent fallback."""
    config = {
        "strategy": {
            "mode": "conditional",
            "conditions": [{"query": {"params.model": {"$eq": "gpt-4o"}}, "then": "b"}],
            "default": "a",
        },
        "targets": [
            target(provider, name="a", override_params={"model": "gpt-4o-mini"}),
            target(provider, name="b"),
        ],
    }
    assert gateway_post(portkey, by_config(config), "gpt-4o").headers[INDEX] == "config.targets[1]"
    assert gateway_post(portkey, by_config(config), INVALID).status_code == 200

    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 1, dump(run)
    assert run.route("code-generation")["verdict"] == "pass", dump(run)
    assert run.error_path["verdict"] == "silent_fallback", dump(run)
    assert run.error_path["model_returned"] == "gpt-4o-mini-2024-07-18"


def test_nested_loadbalance_under_a_fallback_group_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    inner = {
        "strategy": {"mode": "loadbalance"},
        "targets": [target(provider, weight=0), target(provider, weight=1)],
    }
    config = {"strategy": {"mode": "fallback"}, "targets": [inner, target(provider)]}
    assert gateway_post(portkey, by_config(config), "gpt-4o").headers[INDEX] == "config.targets[0].targets[1]"

    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.route("code-generation")["verdict"] == "pass", dump(run)
    assert run.exit_code == 0, dump(run)


def test_nested_fallback_under_a_loadbalance_group_is_fallback_detected(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    inner = {
        "weight": 1,
        "strategy": {"mode": "fallback"},
        "targets": [target(provider, "/broken/"), target(provider)],
    }
    config = {"strategy": {"mode": "loadbalance"}, "targets": [target(provider, weight=0), inner]}
    assert gateway_post(portkey, by_config(config), "gpt-4o").headers[INDEX] == "config.targets[1].targets[1]"

    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 1, dump(run)
    entry = run.route("code-generation")
    assert entry["verdict"] == "fallback_detected", dump(run)
    assert "config.targets[1].targets[1]" in entry["notes"]


def test_retries_on_the_same_target_are_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """Portkey retried the first 500 on the same target: a pass, with the retry count noted."""
    config = target(provider, "/flaky/", retry={"attempts": 2, "on_status_codes": [500]})
    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, by_config(config))

    assert run.exit_code == 0, dump(run)
    entry = run.route("code-generation")
    assert entry["verdict"] == "pass", dump(run)
    # x-portkey-retry-attempt-count: 1, in whatever words
    assert re.search(r"retr(?:y|ied)\D{0,40}\b1\b", entry["notes"]), dump(run)


# --- Portkey's own refusals say nothing about the model (issue 10, 1 and 3) -----------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Either x-portkey-config or x-portkey-provider header is required"),
        ({"x-portkey-provider": "no-such-provider"}, "Invalid provider passed"),
        (
            by_config({"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai"}]}),
            "Invalid config passed",
        ),
    ],
    ids=["no-gateway-headers", "invalid-provider", "invalid-config"],
)
def test_portkey_refusing_every_request_is_inconclusive(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    portkey: ServerProcess,
    headers: dict[str, str],
    message: str,
) -> None:
    """400 before any routing, no x-portkey-* headers: the bogus ID's 400 proves nothing."""
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        answer = client.post(
            f"{portkey.base_url}/chat/completions", headers=headers, json={"model": INVALID, **PING}
        )
    assert answer.status_code == 400 and message in answer.text
    assert not [h for h in answer.headers if h.lower().startswith("x-portkey-")]

    run = check(capsys, tmp_path, portkey, {"code-generation": "gpt-4o"}, headers)

    assert run.exit_code != 0, dump(run)
    error_path = run.error_path
    assert error_path["verdict"] == "inconclusive", dump(run)
    assert error_path["pass"] is False
    assert run.route("code-generation")["verdict"] != "pass"
    said = " ".join(
        [error_path["notes"], error_path.get("hint") or "", run.route("code-generation").get("hint") or ""]
    )
    assert "configuration" in said.lower(), dump(run)  # named a gateway configuration problem


# --- streams: every chunk is judged (issue 10, 4) --------------------------------------------------


def test_stream_switching_model_mid_way_is_model_mismatch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """The first chunk names gpt-4o's snapshot, every text chunk gpt-3.5-turbo."""
    routes = {"code-generation-stream": {"model": "gpt-4o", "stream": True}}
    run = check(capsys, tmp_path, portkey, routes, by_provider(provider, "/switch/"))

    assert run.exit_code == 1, dump(run)
    entry = run.route("code-generation-stream")
    assert entry["verdict"] == "model_mismatch", dump(run)
    assert SWITCHED_MODEL in entry["notes"], dump(run)


# --- --models-only across providers (issue 10, 7) --------------------------------------------------


def test_models_only_other_provider_prefix_is_not_listed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """The listing has only azure/gpt-4o: openai/gpt-4o is another upstream."""
    routes = {"openai-route": "openai/gpt-4o", "azure-route": "azure/gpt-4o", "plain": "gpt-4o"}
    run = check(capsys, tmp_path, portkey, routes, by_provider(provider, "/azure/"), "--models-only")

    assert run.exit_code == 1, dump(run)
    assert verdicts(run) == {"openai-route": "not_listed", "azure-route": "pass", "plain": "pass"}, dump(run)


# --- the error path sends exactly a route's request (issue 10, 1) --------------------------------


def test_error_path_sends_the_routes_body_fields(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, portkey: ServerProcess, provider: HTTPServer
) -> None:
    """A conditional router that sends CI traffic (`user: ci`, from defaults.request) for any model
    but gpt-4o to a catch-all target: only a probe with the routes' body fields finds it."""
    catch_all = target(provider, name="catch-all", override_params={"model": "gpt-4o-mini"})
    ci_and_not_gpt4o = {"$and": [{"params.user": {"$eq": "ci"}}, {"params.model": {"$nin": ["gpt-4o"]}}]}
    config = {
        "strategy": {
            "mode": "conditional",
            "conditions": [{"query": ci_and_not_gpt4o, "then": "catch-all"}],
            "default": "plain",
        },
        "targets": [catch_all, target(provider, name="plain")],
    }
    assert gateway_post(portkey, by_config(config), INVALID).status_code == 404  # a bare probe is refused

    routing = routing_file(
        tmp_path,
        {"code-generation": "gpt-4o"},
        base_url=portkey.base_url,
        headers=by_config(config),
        defaults={"request": {"user": "ci"}},
    )
    run = run_check(capsys, routing)

    assert run.exit_code == 1, dump(run)
    assert run.route("code-generation")["verdict"] == "pass", dump(run)
    assert run.error_path["verdict"] == "silent_fallback", dump(run)
    assert run.error_path["model_returned"] == "gpt-4o-mini-2024-07-18"
