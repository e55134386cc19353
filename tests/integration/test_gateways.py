"""Recorded behaviours of real gateways we cannot run here, served by pytest-httpserver, and the
verdicts `routing-guard check` gives on them.

Every body and header below is the one the shared gateway corpus (gateways/corpus.yaml, summarised
in docs/gateways.md) records for that gateway; each test names the gateway and the corpus entry. The
product is driven as users drive it: the CLI in-process, the key in ROUTING_GUARD_API_KEY, a
routing file, and the exit code plus the `--report` document checked.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from routing_guard.cli import main
from tests.support.gateway_fixtures import (
    KEY,
    anthropic_message,
    by_model,
    chat_chunk,
    chat_completion,
    gateway_url,
    json_response,
    responses_object,
    routing_file,
    run_check,
    sse_response,
    use_key,
)

GATEWAYS = Path(__file__).resolve().parents[1] / "routing_files" / "gateways"
INVALID = "routing-guard-invalid-model-id"
CHAT, RESPONSES, MESSAGES = "/v1/chat/completions", "/v1/responses", "/v1/messages"


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch)


def serve(httpserver: HTTPServer, path: str, answers: dict[str, Any], default: Any = None) -> None:
    httpserver.expect_request(path, method="POST").respond_with_handler(by_model(answers, default))


def posts(httpserver: HTTPServer, path: str | None = None) -> list[Any]:
    """Requests the fake gateway received (optionally only those to `path`)."""
    return [req for req, _ in httpserver.log if path is None or req.path == path]


def sent_models(httpserver: HTTPServer, path: str) -> list[str]:
    return [json.loads(req.get_data())["model"] for req in posts(httpserver, path)]


def routes_file(tmp_path: Path, name: str) -> Path:
    """A copy of a gateway's routing file from tests/routing_files/gateways/."""
    path = tmp_path / name
    path.write_text((GATEWAYS / name).read_text(encoding="utf-8"), encoding="utf-8")
    return path


# --- recorded error bodies (gateways/corpus.yaml) ------------------------------------------------

OPENAI_CHAT_404 = {  # openai.invalid_model.chat_completions
    "error": {
        "message": f"The model `{INVALID}` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }
}
OPENAI_RESPONSES_UNKNOWN = {  # openai.invalid_model.responses_api
    "error": {
        "message": f"The requested model '{INVALID}' does not exist.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
}
OPENAI_401 = {  # openai.auth_failure (chatanywhere/GPT_API_free#62)
    "error": {
        "message": "Incorrect API key provided: sk-VKMIs***...wjh3. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
AZURE_404 = {  # azure_openai.invalid_model
    "error": {
        "code": "DeploymentNotFound",
        "message": "The API deployment for this resource does not exist. If you created the deployment "
        "within the last 5 minutes, please wait a moment and try again.",
    }
}
ANTHROPIC_404 = {  # anthropic.invalid_model
    "type": "error",
    "error": {"type": "not_found_error", "message": f"model: {INVALID}"},
    "request_id": "req_011Ce2ECGNwLB6AZANFUeCBs",
}
ANTHROPIC_401 = {  # anthropic.auth_failure
    "type": "error",
    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    "request_id": "req_011CaJCR7Pm2Jh2LbWpBH5Y6",
}
OPENROUTER_400 = {  # openrouter.invalid_model
    "error": {"message": f"{INVALID} is not a valid model ID", "code": 400},
    "user_id": "user_2x7DNyswjOHVRWDYVMCIROyGjsS",
}
OPENROUTER_MID_GENERATION_ERROR = {  # openrouter.silent_fallback[2] (message elided in the record)
    "id": "gen-1764926476-fake",
    "provider": "Stealth",
    "choices": [],
    "error": {"code": 502, "message": "...", "metadata": {"error_type": "provider_unavailable"}},
}
LITELLM_400 = {  # litellm_proxy.invalid_model
    "error": {
        "message": f"/chat/completions: Invalid model name passed in model={INVALID}. Call `/v1/models` "
        "to view available models for your key.",
        "type": "None",
        "param": "None",
        "code": "400",
    }
}
LITELLM_NO_DB = {  # docs/gateways.md "Auth and rate limits": LiteLLM without a database, wrong key
    "error": {"message": "No connected db.", "type": "no_db_connection", "param": None, "code": "400"}
}


# --- OpenAI -----------------------------------------------------------------------------------


def test_openai_chat_and_responses_answer_dated_snapshots(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OpenAI: gpt-4o -> gpt-4o-2024-08-06, gpt-4 -> gpt-4-0613, gpt-4.1 -> gpt-4.1-2025-04-14 on chat
    and Responses (openai-openapi createResponse example); unknown IDs 404 model_not_found on chat,
    400 on Responses."""
    serve(
        httpserver,
        CHAT,
        {
            "gpt-4o": chat_completion("gpt-4o-2024-08-06"),
            "gpt-4": chat_completion("gpt-4-0613"),
            "gpt-4.1": chat_completion("gpt-4.1-2025-04-14"),
            INVALID: json_response(OPENAI_CHAT_404, 404),
        },
    )
    serve(
        httpserver,
        RESPONSES,
        {
            "gpt-4.1": responses_object("gpt-4.1-2025-04-14"),
            INVALID: json_response(OPENAI_RESPONSES_UNKNOWN, 400),
        },
    )
    run = run_check(capsys, routes_file(tmp_path, "openai.yml"), "--gateway-url", gateway_url(httpserver))

    assert run.exit_code == 0, run.stdout
    assert run.report["pass"] is True
    for route, alias in [
        ("code-generation", "gpt-4o"),
        ("code-review", "gpt-4"),
        ("refactoring", "gpt-4.1"),
        ("commit-message", "gpt-4.1"),
    ]:
        entry = run.route(route)
        assert entry["verdict"] == "pass", entry
        assert f"dated snapshot of {alias}" in entry["notes"]
    assert run.route("code-generation")["model_returned"] == "gpt-4o-2024-08-06"
    assert run.route("code-review")["model_returned"] == "gpt-4-0613"
    assert run.route("commit-message")["model_returned"] == "gpt-4.1-2025-04-14"
    assert run.route("commit-message")["error_path_status"] == 400
    assert run.route("code-generation")["error_path_status"] == 404

    chat_error, responses_error = run.error_path_for("openai-chat"), run.error_path_for("openai-responses")
    assert (chat_error["http_status"], chat_error["verdict"]) == (404, "pass")
    assert (responses_error["http_status"], responses_error["verdict"]) == (400, "pass")
    assert run.error_path["api"] == "openai-chat"
    assert all(req.headers["Authorization"] == f"Bearer {KEY}" for req in posts(httpserver))


@pytest.mark.parametrize("status", [400, 404])
def test_openai_responses_unknown_model_either_status_passes(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    """OpenAI Responses: unknown model was 400 historically, 404 reported since ~2026-09 (corpus notes:
    fixtures should allow both); both refuse the bogus ID."""
    serve(
        httpserver,
        RESPONSES,
        {
            "gpt-4o": responses_object("gpt-4o-2024-08-06"),
            INVALID: json_response(OPENAI_RESPONSES_UNKNOWN, status),
        },
    )
    routing = routing_file(
        tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver), api="openai-responses"
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 0
    assert run.route("code-generation")["notes"] == "accepted: dated snapshot of gpt-4o"
    assert (run.error_path["http_status"], run.error_path["verdict"]) == (status, "pass")
    # The probe used the Responses budget field, at least 16 tokens (GPT-5-class models refuse less).
    body = json.loads(posts(httpserver, RESPONSES)[0].get_data())
    assert body["max_output_tokens"] >= 16 and "stream" not in body


@pytest.mark.parametrize(
    ("key", "echo"),
    [
        # The recorded echo: its 8-character prefix is a run of the real key.
        ("sk-VKMIsQx7pZ2mN4bR8tY6uW1eAwjh3", "sk-VKMIs***...wjh3"),
        # The same style with a longer visible prefix.
        ("sk-VKMIsQx7pZ2mN4bR8tY6uW1eAwjh3", "sk-VKMIsQx7p***...wjh3"),
    ],
)
def test_openai_401_with_masked_key_echo_is_auth_error_and_scrubbed(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    echo: str,
) -> None:
    """OpenAI 401 invalid_api_key echoing a masked key (chatanywhere/GPT_API_free#62): auth_error,
    exit 3, and no run of 8+ characters of the key in any output."""
    use_key(monkeypatch, key)
    body = json.loads(json.dumps(OPENAI_401).replace("sk-VKMIs***...wjh3", echo))
    httpserver.expect_request(CHAT, method="POST").respond_with_json(body, status=401)
    routing = routing_file(tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)

    assert run.exit_code == 3
    assert run.route("code-generation")["verdict"] == "auth_error"
    assert run.route("code-generation")["http_status"] == 401
    assert run.error_path["verdict"] == "auth_error"
    assert "Incorrect API key provided" in run.route("code-generation")["notes"]
    leaked = echo.split("*")[0]
    assert len(leaked) >= 8
    assert leaked not in run.everything
    assert key not in run.everything
    assert key[:8] not in run.everything


def test_openai_responses_stream_reads_the_snapshot_from_the_events(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OpenAI Responses streaming: response.created / response.completed carry "model":
    "gpt-4.1-2025-04-14" for a gpt-4.1 request (openai-openapi createResponse streaming example)."""
    created = responses_object("gpt-4.1-2025-04-14", None, status="in_progress")
    created["output"] = []
    stream = [
        ("response.created", {"type": "response.created", "sequence_number": 0, "response": created}),
        (
            "response.output_text.delta",
            {
                "type": "response.output_text.delta",
                "sequence_number": 1,
                "item_id": "msg_fake0001",
                "output_index": 0,
                "content_index": 0,
                "delta": "pong",
            },
        ),
        (
            "response.completed",
            {
                "type": "response.completed",
                "sequence_number": 2,
                "response": responses_object("gpt-4.1-2025-04-14"),
            },
        ),
    ]
    serve(
        httpserver,
        RESPONSES,
        {"gpt-4.1": sse_response(stream, done=False), INVALID: json_response(OPENAI_RESPONSES_UNKNOWN, 400)},
    )
    routing = routing_file(
        tmp_path,
        {"refactoring": {"model": "gpt-4.1", "stream": True}},
        base_url=gateway_url(httpserver),
        api="openai-responses",
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 0, run.stdout
    entry = run.route("refactoring")
    assert (entry["verdict"], entry["model_returned"]) == ("pass", "gpt-4.1-2025-04-14")
    assert entry["notes"] == "accepted: dated snapshot of gpt-4.1"


def test_reasoning_model_spending_the_budget_is_empty_response_with_a_fix(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GPT-5-class reasoning models can spend the whole output budget thinking: 200, empty content,
    finish_reason "length" (docs/gateways.md "Probe budget"). An empty_response that says how to fix it."""
    serve(
        httpserver,
        CHAT,
        {
            "gpt-5-nano": chat_completion("gpt-5-nano-2025-08-07", "", finish_reason="length"),
            INVALID: json_response(OPENAI_CHAT_404, 404),
        },
    )
    routing = routing_file(tmp_path, {"commit-message": "gpt-5-nano"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    entry = run.route("commit-message")
    assert entry["verdict"] == "empty_response"
    assert "finish_reason: length" in entry["notes"]
    assert "max_completion_tokens" in entry["hint"]
    assert json.loads(posts(httpserver, CHAT)[0].get_data()).get("max_tokens", 16) >= 16


def test_model_refusing_max_tokens_is_asked_again_with_max_completion_tokens(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """o1/o3-style models reject `max_tokens` on chat completions and want `max_completion_tokens`
    (docs/gateways.md "Probe budget"); the probe asks once more that way, with the same model."""
    unsupported = {
        "error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "unsupported_parameter",
        }
    }

    def o3_mini(request: Any) -> Any:
        body = json.loads(request.get_data())
        if "max_tokens" in body:
            return json_response(unsupported, 400)
        return json_response(chat_completion("o3-mini-2025-01-31"))

    serve(httpserver, CHAT, {"o3-mini": o3_mini, INVALID: json_response(OPENAI_CHAT_404, 404)})
    routing = routing_file(tmp_path, {"planning": "o3-mini"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 0, run.stdout
    entry = run.route("planning")
    assert entry["verdict"] == "pass"
    assert "max_completion_tokens" in entry["notes"]
    assert sent_models(httpserver, CHAT).count("o3-mini") == 2


# --- Azure OpenAI -------------------------------------------------------------------------------


def test_azure_api_key_header_chat_snapshot_and_responses_served_model(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Azure OpenAI: `api-key` auth; chat answers deployment gpt-5-nano with gpt-5-nano-2025-08-07 and
    names the deployment in x-ms-deployment-name (openai-python#3271); Responses echoes the alias with
    x-ms-served-model: gpt-4o-2024-11-20 (openai-python#3293); unknown deployments 404 DeploymentNotFound."""
    serve(
        httpserver,
        "/openai/v1/chat/completions",
        {
            "gpt-5-nano": json_response(
                chat_completion("gpt-5-nano-2025-08-07"), headers={"x-ms-deployment-name": "gpt-5-nano"}
            ),
            INVALID: json_response(AZURE_404, 404),
        },
    )
    serve(
        httpserver,
        "/openai/v1/responses",
        {
            "gpt-4o": json_response(
                responses_object("gpt-4o"), headers={"x-ms-served-model": "gpt-4o-2024-11-20"}
            ),
            INVALID: json_response(AZURE_404, 404),
        },
    )
    run = run_check(
        capsys, routes_file(tmp_path, "azure.yml"), "--gateway-url", gateway_url(httpserver, "/openai/v1")
    )

    assert run.exit_code == 0, run.stdout
    chat = run.route("code-generation")
    assert (chat["verdict"], chat["model_returned"]) == ("pass", "gpt-5-nano-2025-08-07")
    assert chat["notes"] == "accepted: dated snapshot of gpt-5-nano"
    assert chat["served_model"] is None  # x-ms-deployment-name names the deployment, not a model
    responses = run.route("code-review")
    assert (responses["verdict"], responses["model_returned"]) == ("pass", "gpt-4o")
    assert responses["served_model"] == "gpt-4o-2024-11-20"
    assert "served by gpt-4o-2024-11-20" in responses["notes"]
    assert "gpt-4o-2024-11-20" in run.summary
    for api in ("openai-chat", "openai-responses"):
        assert (run.error_path_for(api)["http_status"], run.error_path_for(api)["verdict"]) == (404, "pass")

    requests = posts(httpserver)
    assert len(requests) == 4
    for req in requests:
        assert req.headers["api-key"] == KEY
        assert "Authorization" not in req.headers


def test_azure_deployment_alias_needs_accept_or_served_pin(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Azure: a deployment named unlike its model (`my-deploy`) answers with the underlying snapshot
    (corpus: deployment name never appears in the chat body), which needs `accept`; a Responses
    alias pinned with `served` to another snapshot than x-ms-served-model fails."""
    serve(
        httpserver,
        "/openai/v1/chat/completions",
        {
            "my-deploy": json_response(
                chat_completion("gpt-5-nano-2025-08-07"), headers={"x-ms-deployment-name": "my-deploy"}
            )
        },
        default=json_response(AZURE_404, 404),
    )
    serve(
        httpserver,
        "/openai/v1/responses",
        {
            "gpt-4o": json_response(
                responses_object("gpt-4o"), headers={"x-ms-served-model": "gpt-4o-2024-11-20"}
            )
        },
        default=json_response(AZURE_404, 404),
    )
    routing = routing_file(
        tmp_path,
        {
            "unpinned": "my-deploy",
            "accepted": {"model": "my-deploy", "accept": ["gpt-5-nano-*"]},
            "pinned": {"model": "gpt-4o", "api": "openai-responses", "served": ["gpt-4o-2024-08-*"]},
        },
        base_url=gateway_url(httpserver, "/openai/v1"),
        auth="api-key",
    )
    run = run_check(capsys, routing)

    assert run.exit_code == 1
    assert run.route("unpinned")["verdict"] == "model_mismatch"
    assert "gpt-5-nano-2025-08-07" in run.route("unpinned")["notes"]
    assert run.route("accepted")["verdict"] == "pass"
    assert run.route("accepted")["notes"] == "accepted: accept pattern gpt-5-nano-*"
    pinned = run.route("pinned")
    assert (pinned["verdict"], pinned["served_model"]) == ("model_mismatch", "gpt-4o-2024-11-20")


def test_azure_429_retry_after_beyond_the_budget_is_not_waited_for(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Azure's token-rate 429 says "Please retry after 86400 seconds" with retry-after (climb#1,
    azure-openai-benchmark#32): no retry can fit the time budget, so rate_limited at once, exit 3."""
    limited = {
        "error": {
            "code": "429",
            "message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
            "2024-08-01-preview have exceeded token rate limit of your current OpenAI S0 pricing tier. "
            "Please retry after 86400 seconds. Please go here: https://aka.ms/oai/quotaincrease if you "
            "would like to further increase the default rate limit.",
        }
    }
    httpserver.expect_request("/openai/v1/chat/completions", method="POST").respond_with_json(
        limited, status=429, headers={"retry-after": "86400", "retry-after-ms": "86400000"}
    )
    routing = routing_file(
        tmp_path,
        {"code-generation": "gpt-5-nano"},
        base_url=gateway_url(httpserver, "/openai/v1"),
        auth="api-key",
    )
    start = time.monotonic()
    run = run_check(capsys, routing, "--skip-error-path", "--retries", "2")
    assert time.monotonic() - start < 5
    assert run.exit_code == 3
    assert run.route("code-generation")["verdict"] == "rate_limited"
    assert len(posts(httpserver)) == 1


# --- Anthropic ----------------------------------------------------------------------------------

ANTHROPIC_STREAM = [  # anthropic.streaming (anthropic-sdk-python basic_response.txt event sequence)
    (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_fake0001",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-3-5-sonnet-20241022",
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 8, "output_tokens": 1},
            },
        },
    ),
    (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    ("ping", {"type": "ping"}),
    (
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "pong"}},
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 1},
        },
    ),
    ("message_stop", {"type": "message_stop"}),
]


def _anthropic_answer(request: Any) -> Any:
    body = json.loads(request.get_data())
    if body.get("stream"):
        return sse_response(ANTHROPIC_STREAM, done=False)
    return json_response(anthropic_message("claude-3-5-sonnet-20241022"))


def test_anthropic_latest_alias_resolves_to_snapshot(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anthropic: claude-3-5-sonnet-latest -> claude-3-5-sonnet-20241022, dated IDs echoed (anthropic-sdk
    test_runners.py, live snapshots); streamed the same; unknown model 404 not_found_error."""
    serve(
        httpserver,
        MESSAGES,
        {
            "claude-3-5-sonnet-latest": _anthropic_answer,
            "claude-3-5-sonnet-20241022": anthropic_message("claude-3-5-sonnet-20241022"),
            INVALID: json_response(ANTHROPIC_404, 404),
        },
    )
    run = run_check(capsys, routes_file(tmp_path, "anthropic.yml"), "--gateway-url", gateway_url(httpserver))

    assert run.exit_code == 0, run.stdout
    assert run.route("code-review")["notes"] == "accepted: snapshot behind claude-3-5-sonnet-latest"
    assert run.route("code-review")["model_returned"] == "claude-3-5-sonnet-20241022"
    assert run.route("test-repair")["notes"] == "accepted: exact match"
    streamed = run.route("claude-code-review")
    assert (streamed["verdict"], streamed["model_returned"]) == ("pass", "claude-3-5-sonnet-20241022")
    assert (run.error_path["api"], run.error_path["http_status"], run.error_path["verdict"]) == (
        "anthropic-messages",
        404,
        "pass",
    )
    assert "not_found_error" in run.error_path["notes"]

    requests = posts(httpserver, MESSAGES)
    assert len(requests) == 4
    for req in requests:
        assert req.headers["x-api-key"] == KEY
        assert req.headers["anthropic-version"] == "2023-06-01"
        assert "Authorization" not in req.headers
    streamed_bodies = [json.loads(r.get_data()) for r in requests if json.loads(r.get_data()).get("stream")]
    assert len(streamed_bodies) == 1


def test_anthropic_401_authentication_error(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anthropic 401 authentication_error "invalid x-api-key" (opencode-websearch#15): auth_error, exit 3."""
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(ANTHROPIC_401, status=401)
    routing = routing_file(
        tmp_path,
        {"code-review": "claude-3-5-sonnet-latest"},
        base_url=gateway_url(httpserver),
        api="anthropic-messages",
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 3
    assert run.route("code-review")["verdict"] == "auth_error"
    assert run.error_path["verdict"] == "auth_error"
    assert "invalid x-api-key" in run.route("code-review")["notes"]


def test_anthropic_529_overloaded_is_retried(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anthropic answers 529 overloaded_error when busy (corpus anthropic.auth_failure.other): a 5xx, so
    transient and retried (docs/contract.md: retry 5xx)."""
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    httpserver.expect_ordered_request(MESSAGES, method="POST").respond_with_json(overloaded, status=529)
    httpserver.expect_ordered_request(MESSAGES, method="POST").respond_with_json(
        anthropic_message("claude-3-5-sonnet-20241022")
    )
    routing = routing_file(
        tmp_path,
        {"review": "claude-3-5-sonnet-20241022"},
        base_url=gateway_url(httpserver),
        api="anthropic-messages",
    )
    run = run_check(capsys, routing, "--skip-error-path", "--retries", "2")
    assert run.exit_code == 0, run.stdout
    assert "retried after 529" in run.route("review")["notes"]
    httpserver.check_assertions()


def test_anthropic_529_after_retries_is_no_verdict(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anthropic still overloaded after the retries: a 5xx http_error, exit 3 (no routing verdict)."""
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(overloaded, status=529)
    routing = routing_file(
        tmp_path,
        {"review": "claude-3-5-sonnet-20241022"},
        base_url=gateway_url(httpserver),
        api="anthropic-messages",
    )
    run = run_check(capsys, routing, "--retries", "1")
    assert run.exit_code == 3
    assert (run.route("review")["http_status"], run.route("review")["verdict"]) == (529, "http_error")
    assert run.error_path["verdict"] == "http_error"
    assert len(posts(httpserver)) == 4


# --- OpenRouter ---------------------------------------------------------------------------------


def test_openrouter_slugs_provider_field_and_auto_router(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OpenRouter: openai/gpt-4o-mini echoed with "provider":"OpenAI" (captured response); a streamed
    google/gemini-2.5-flash with ': OPENROUTER PROCESSING' keep-alives and "provider":"Google";
    openrouter/auto answered by anthropic/claude-sonnet-4 (litellm#29710) is a model_mismatch;
    unknown IDs 400 "is not a valid model ID"."""
    stream = [
        ": OPENROUTER PROCESSING",
        chat_chunk("google/gemini-2.5-flash", "", provider="Google"),
        chat_chunk("google/gemini-2.5-flash", "pong", provider="Google"),
        chat_chunk("google/gemini-2.5-flash", None, "stop", provider="Google"),
    ]
    serve(
        httpserver,
        CHAT,
        {
            "openai/gpt-4o-mini": chat_completion("openai/gpt-4o-mini", provider="OpenAI"),
            "google/gemini-2.5-flash": sse_response(stream),
            "openrouter/auto": chat_completion("anthropic/claude-sonnet-4", provider="Anthropic"),
            INVALID: json_response(OPENROUTER_400, 400),
        },
    )
    run = run_check(capsys, routes_file(tmp_path, "openrouter.yml"), "--gateway-url", gateway_url(httpserver))

    assert run.exit_code == 1
    assert run.route("commit-message")["verdict"] == "pass"
    assert "provider OpenAI" in run.route("commit-message")["notes"]
    quick = run.route("quick-question")
    assert (quick["verdict"], quick["model_returned"]) == ("pass", "google/gemini-2.5-flash")
    assert "provider Google" in quick["notes"]
    auto = run.route("triage")
    assert (auto["verdict"], auto["model_returned"]) == ("model_mismatch", "anthropic/claude-sonnet-4")
    assert (run.error_path["http_status"], run.error_path["verdict"]) == (400, "pass")


def test_openrouter_auto_passes_when_accepted(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OpenRouter openrouter/auto -> anthropic/claude-sonnet-4 passes once the route lists it in `accept`."""
    serve(
        httpserver,
        CHAT,
        {
            "openrouter/auto": chat_completion("anthropic/claude-sonnet-4", provider="Anthropic"),
            INVALID: json_response(OPENROUTER_400, 400),
        },
    )
    routing = routing_file(
        tmp_path,
        {"triage": {"model": "openrouter/auto", "accept": ["anthropic/claude-sonnet-4", "openai/gpt-4o*"]}},
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 0
    assert run.route("triage")["notes"].startswith("accepted: listed in accept")


def test_openrouter_200_with_error_object_is_bad_response(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OpenRouter returns HTTP 200 with an error object in the body once generation started
    (openrouter.ai/docs/errors): a 200 is not a pass until the body says so."""
    serve(
        httpserver,
        CHAT,
        {
            "openai/gpt-4o-mini": {
                **OPENROUTER_MID_GENERATION_ERROR,
                "object": "chat.completion",
                "model": "openai/gpt-4o-mini",
            },
            INVALID: json_response(OPENROUTER_400, 400),
        },
    )
    routing = routing_file(
        tmp_path, {"commit-message": "openai/gpt-4o-mini"}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    entry = run.route("commit-message")
    assert (entry["http_status"], entry["verdict"]) == (200, "bad_response")
    assert "error in the body" in entry["notes"]


@pytest.mark.parametrize("done", [False, True], ids=["stream-cut", "then-DONE"])
def test_openrouter_stream_error_after_200_is_not_a_pass(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], done: bool
) -> None:
    """OpenRouter SSE that errors after the 200: `data: {"id":"gen-...","provider":"Stealth","choices":[],
    "error":{"code":502,...}}` (code-index id 70436641038), with or without a final [DONE]."""
    stream = [
        ": OPENROUTER PROCESSING",
        chat_chunk("openai/gpt-4o-mini", "po", provider="OpenAI"),
        OPENROUTER_MID_GENERATION_ERROR,
    ]
    serve(
        httpserver,
        CHAT,
        {"openai/gpt-4o-mini": sse_response(stream, done=done), INVALID: json_response(OPENROUTER_400, 400)},
    )
    routing = routing_file(
        tmp_path,
        {"commit-message": {"model": "openai/gpt-4o-mini", "stream": True}},
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    entry = run.route("commit-message")
    assert entry["verdict"] == "bad_response"
    assert entry["pass"] is False
    # an error in the stream is not a cut stream: no retry; the error path streams as the route does
    streamed = [r for r in posts(httpserver, CHAT) if json.loads(r.get_data()).get("stream")]
    assert sorted(json.loads(r.get_data())["model"] for r in streamed) == ["openai/gpt-4o-mini", INVALID]


# --- LiteLLM proxy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "upstream"),
    [
        ("conversation.voice", "gpt-4.1-2025-04-14"),  # litellm#22709, before v1.81.3
        ("gpt-baseten-openai-oss-120b", "openai/gpt-oss-120b"),  # litellm#13352
        ("oss-coder", "hosted_vllm/gpt-oss-120b"),  # litellm#15141's leaked prefix, behind an alias
    ],
)
def test_litellm_old_versions_return_the_upstream_model(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], alias: str, upstream: str
) -> None:
    """LiteLLM proxy <= v1.81.3 answered an alias with the upstream model in the body: a
    model_mismatch unless the route accepts it."""
    serve(httpserver, CHAT, {alias: chat_completion(upstream), INVALID: json_response(LITELLM_400, 400)})
    routing = routing_file(
        tmp_path,
        {"plain": alias, "accepted": {"model": alias, "accept": [upstream]}},
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    assert (run.route("plain")["verdict"], run.route("plain")["model_returned"]) == (
        "model_mismatch",
        upstream,
    )
    assert run.route("accepted")["verdict"] == "pass"
    assert run.route("accepted")["notes"] == "accepted: listed in accept"
    assert (run.error_path["http_status"], run.error_path["verdict"]) == (400, "pass")


def test_litellm_leaked_provider_prefix_on_the_same_id_is_a_provider_prefixed_form(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM (litellm#15141): gpt-oss-120b answered as hosted_vllm/gpt-oss-120b. docs/contract.md accepts
    a provider-prefixed form in either direction, so this one passes and says why."""
    serve(
        httpserver,
        CHAT,
        {
            "gpt-oss-120b": chat_completion("hosted_vllm/gpt-oss-120b"),
            INVALID: json_response(LITELLM_400, 400),
        },
    )
    routing = routing_file(tmp_path, {"oss": "gpt-oss-120b"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 0
    assert run.route("oss")["notes"] == "accepted: provider-prefixed form of gpt-oss-120b"


def test_litellm_alias_echo_with_served_header_and_pins(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM >= v1.81.7 echoes the alias (litellm#22709) and names the deployment in
    x-litellm-model-name: reported as served model; a `served` pin decides."""
    serve(
        httpserver,
        CHAT,
        {
            "coder-heavy": json_response(
                chat_completion("coder-heavy"),
                headers={
                    "x-litellm-model-name": "anthropic/claude-opus-4-20250514",
                    "x-litellm-model-group": "coder-heavy",
                },
            ),
            # Re-pointed: the alias now lands on another deployment than the route pins.
            "coder-fast": json_response(
                chat_completion("coder-fast"), headers={"x-litellm-model-name": "openai/gpt-4.1-nano"}
            ),
            INVALID: json_response(LITELLM_400, 400),
        },
    )
    run = run_check(capsys, routes_file(tmp_path, "litellm.yml"), "--gateway-url", gateway_url(httpserver))
    assert run.exit_code == 1
    heavy = run.route("heavy-alias")
    assert (heavy["verdict"], heavy["served_model"]) == ("pass", "anthropic/claude-opus-4-20250514")
    assert "served by anthropic/claude-opus-4-20250514" in heavy["notes"]
    fast = run.route("fast-alias")
    assert (fast["verdict"], fast["served_model"]) == ("model_mismatch", "openai/gpt-4.1-nano")
    assert (run.error_path["http_status"], run.error_path["verdict"]) == (400, "pass")


def test_litellm_attempted_fallbacks_is_fallback_detected_even_when_body_matches(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM: a fallback after an error gives 200 with x-litellm-attempted-fallbacks: 1 (docs/gateways.md,
    docs.litellm.ai/docs/proxy/reliability) while the body still echoes the alias."""
    serve(
        httpserver,
        CHAT,
        {
            "gpt-4o": json_response(
                chat_completion("gpt-4o"),
                headers={
                    "x-litellm-model-name": "openai/gpt-4o-mini",
                    "x-litellm-attempted-fallbacks": "1",
                    "x-litellm-attempted-retries": "0",
                },
            ),
            INVALID: json_response(LITELLM_400, 400),
        },
    )
    routing = routing_file(tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    entry = run.route("code-generation")
    assert (entry["verdict"], entry["model_returned"]) == ("fallback_detected", "gpt-4o")
    assert "x-litellm-attempted-fallbacks: 1" in entry["notes"]
    assert "openai/gpt-4o-mini" in entry["notes"]


def test_litellm_no_connected_db_400_is_auth_error(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM without a database answers a wrong key with 400 "No connected db." (docs/gateways.md): an auth
    failure by body, on the route and on the error path (no verdict there), exit 3."""
    httpserver.expect_request(CHAT, method="POST").respond_with_json(LITELLM_NO_DB, status=400)
    routing = routing_file(tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 3
    assert (run.route("code-generation")["http_status"], run.route("code-generation")["verdict"]) == (
        400,
        "auth_error",
    )
    assert (run.error_path["http_status"], run.error_path["verdict"]) == (400, "auth_error")


def test_litellm_missing_auth_500_text_is_no_verdict(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """LiteLLM without prisma answers a missing Authorization header with 500 text/plain
    "Internal Server Error" (docs/gateways.md): an operational blocker, exit 3."""
    monkeypatch.delenv("ROUTING_GUARD_API_KEY")
    httpserver.expect_request(CHAT, method="POST").respond_with_data(
        "Internal Server Error", status=500, content_type="text/plain"
    )
    routing = routing_file(
        tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver), auth="none"
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 3
    assert (run.route("code-generation")["http_status"], run.route("code-generation")["verdict"]) == (
        500,
        "http_error",
    )
    assert "Authorization" not in posts(httpserver)[0].headers


def test_litellm_catch_all_answers_the_invalid_model_silent_fallback(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM 1.108.7 with a catch-all `*` deployment: the bogus ID gets 200, the body echoes it and only
    x-litellm-model-name: openai/gpt-4o-mini shows who answered (docs/gateways.md): silent_fallback naming it."""
    serve(
        httpserver,
        CHAT,
        {"gpt-4o": chat_completion("gpt-4o")},
        default=json_response(
            chat_completion(INVALID),
            headers={"x-litellm-model-name": "openai/gpt-4o-mini", "x-litellm-model-group": INVALID},
        ),
    )
    routing = routing_file(tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    assert run.route("code-generation")["verdict"] == "pass"
    error = run.error_path
    assert (error["http_status"], error["verdict"]) == (200, "silent_fallback")
    assert error["served_model"] == "openai/gpt-4o-mini"
    assert error["model_returned"] == INVALID
    assert "openai/gpt-4o-mini" in error["notes"] and "x-litellm-model-name" in error["notes"]
    assert "silent\\_fallback" in run.summary  # Markdown-escaped


# --- Portkey and Cloudflare AI Gateway fallbacks -------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "returned", "header", "value", "verdict"),
    [
        # Portkey (code-index id 70853747462): @slug/gpt-4.1 passes through OpenAI's snapshot. Its
        # option index is judged against the config's strategy: tests/integration/test_wrong_verdicts.py.
        (
            "@openai-prod/gpt-4.1",
            "gpt-4.1-2025-04-14",
            "x-portkey-last-used-option-index",
            "config.targets[0]",
            "pass",
        ),
        # Cloudflare AI Gateway: cf-aig-step says which fallback step answered (glossary).
        ("openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18", "cf-aig-step", "1", "fallback_detected"),
        ("openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18", "cf-aig-step", "0", "pass"),
    ],
)
def test_portkey_and_cloudflare_fallback_headers(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    requested: str,
    returned: str,
    header: str,
    value: str,
    verdict: str,
) -> None:
    """Cloudflare `cf-aig-step` above 0: a fallback served; Portkey's first target: no fallback."""
    serve(
        httpserver,
        CHAT,
        {requested: json_response(chat_completion(returned), headers={header: value})},
        default=json_response(OPENAI_CHAT_404, 404),
    )
    routing = routing_file(tmp_path, {"code-generation": requested}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    entry = run.route("code-generation")
    assert entry["verdict"] == verdict, entry
    if verdict == "pass":
        assert run.exit_code == 0
        assert entry["notes"].startswith(f"accepted: dated snapshot of {requested}")
    else:
        assert run.exit_code == 1
        assert f"{header}: {value}" in entry["notes"]


def test_portkey_empty_model_field_cannot_be_verified(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Portkey returned `"model": ""` for several transformed providers (Portkey-AI/gateway#981, 2025-03):
    the answer names no model, so the route cannot pass."""
    serve(
        httpserver,
        CHAT,
        {"@bedrock-prod/anthropic.claude-3-5-sonnet": chat_completion("", provider="bedrock")},
        default=json_response(OPENAI_CHAT_404, 404),
    )
    routing = routing_file(
        tmp_path, {"review": "@bedrock-prod/anthropic.claude-3-5-sonnet"}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    entry = run.route("review")
    assert entry["verdict"] == "bad_response"
    assert "names no model" in entry["notes"]


# --- unknown model IDs across gateways -----------------------------------------------------------

ERROR_PATHS = [
    pytest.param(  # vllm_openai_server.invalid_model.body_current (vllm#58025)
        "Qwen/Qwen2.5-7B-Instruct",
        404,
        {
            "error": {
                "message": f"The model `{INVALID}` does not exist.",
                "type": "NotFoundError",
                "param": "model",
                "code": 404,
            }
        },
        id="vllm-nested",
    ),
    pytest.param(  # vllm_openai_server.invalid_model.body_legacy (vllm#15845)
        "Qwen/Qwen2.5-7B-Instruct",
        404,
        {
            "object": "error",
            "message": f"The model `{INVALID}` does not exist.",
            "type": "NotFoundError",
            "param": None,
            "code": 404,
        },
        id="vllm-flat",
    ),
    pytest.param(  # ollama_openai_compat.invalid_model (claude-code-router#518)
        "gpt-oss:20b",
        404,
        {
            "error": {
                "message": f'model "{INVALID}" not found, try pulling it first',
                "type": "api_error",
                "param": None,
                "code": None,
            }
        },
        id="ollama",
    ),
    pytest.param(  # mistral.invalid_model (open-notebook#441)
        "mistral-small-latest",
        400,
        {
            "object": "error",
            "message": "Invalid model: API",
            "type": "invalid_model",
            "param": None,
            "code": "1500",
        },
        id="mistral",
    ),
    pytest.param(  # deepseek.invalid_model (easy-dataset#9)
        "deepseek-chat",
        400,
        {
            "error": {
                "message": "Model Not Exist",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_request_error",
            }
        },
        id="deepseek",
    ),
    pytest.param(  # gemini_openai_compat.invalid_model: the error object in a JSON array
        "gemini-2.5-flash",
        404,
        [
            {
                "error": {
                    "code": 404,
                    "message": f"models/{INVALID} is not found for API version v1main, or is not supported for generateContent.",
                    "status": "NOT_FOUND",
                }
            }
        ],
        id="gemini-array",
    ),
    pytest.param(  # cloudflare_ai_gateway.invalid_model.invalid_provider_prefix (DevoxxGenie#1254)
        "openai/gpt-4o-mini",
        400,
        {
            "success": False,
            "result": [],
            "messages": [],
            "error": [{"code": 2008, "message": "Invalid provider"}],
            "name": "AiGatewayError",
            "httpCode": 400,
            "internalCode": 2008,
            "message": "Invalid provider",
            "description": "Invalid provider",
        },
        id="cloudflare-invalid-provider",
    ),
    pytest.param(  # cloudflare_ai_gateway.invalid_model.unroutable_bare_id
        "openai/gpt-4o-mini",
        400,
        {
            "description": "Failed to get response from provider",
            "message": "Failed to get response from provider",
            "internalCode": 2005,
            "httpCode": 400,
            "name": "AiGatewayError",
            "error": [{"code": 2005, "message": "Failed to get response from provider"}],
            "messages": [],
            "result": [],
            "success": False,
        },
        id="cloudflare-unroutable",
    ),
    pytest.param(  # groq.invalid_model.unknown (lobehub#3367)
        "openai/gpt-oss-20b",
        404,
        {
            "error": {
                "message": f"The model `{INVALID}` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "code": "model_not_found",
            }
        },
        id="groq",
    ),
    pytest.param(  # together_ai.invalid_model.unknown_model (evo#14)
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        404,
        {
            "error": {
                "message": f"Unable to access model {INVALID}. Please visit https://api.together.xyz to see the list of "
                "supported models or contact the owner to request access.",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            }
        },
        id="together",
    ),
    pytest.param(  # llama_cpp_server.invalid_model.router_mode (llama.cpp#17968)
        "qwen2.5-coder-7b",
        400,
        {"error": {"code": 400, "message": "model not found", "type": "invalid_request_error"}},
        id="llama-cpp-router",
    ),
    pytest.param(  # portkey.invalid_model: upstream status passed through, provider-prefixed message
        "gpt-4o",
        404,
        {
            "error": {
                "message": f"openai error: The model `{INVALID}` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            },
            "provider": "openai",
        },
        id="portkey",
    ),
    pytest.param(  # openai.invalid_model.chat_completions legacy 2023 variant
        "gpt-4",
        404,
        {
            "error": {
                "message": "That model does not exist",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
        id="openai-legacy",
    ),
]


@pytest.mark.parametrize(("model", "status", "body"), ERROR_PATHS)
def test_unknown_model_refusals_pass_the_error_path(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    model: str,
    status: int,
    body: Any,
) -> None:
    """Each gateway's recorded refusal of an unknown model ID (echoing gateways answer the routed ID
    with itself) is a pass on the error path."""
    serve(httpserver, CHAT, {model: chat_completion(model), INVALID: json_response(body, status)})
    routing = routing_file(tmp_path, {"code-generation": model}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 0, run.stdout
    assert run.route("code-generation")["notes"] == "accepted: exact match"
    assert (run.error_path["http_status"], run.error_path["verdict"]) == (status, "pass")
    assert run.route("code-generation")["error_path_status"] == status


AUTH_FAILURES = [
    pytest.param(
        "openai-chat",
        401,
        {
            "error": {
                "code": "401",
                "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
            }
        },
        id="azure",
    ),
    pytest.param("anthropic-messages", 401, ANTHROPIC_401, id="anthropic"),
    pytest.param(
        "openai-chat", 401, {"error": {"message": "No auth credentials found", "code": 401}}, id="openrouter"
    ),
    pytest.param(
        "openai-chat", 401, {"error": {"message": "User not found.", "code": 401}}, id="openrouter-user"
    ),
    pytest.param(
        "openai-chat",
        401,
        {
            "error": {
                "message": "Authentication Error, Invalid proxy server token passed. Received API Key = sk-...8aSP, Key Hash (Token) =5699...7585. Unable to find token in cache or `LiteLLM_VerificationTokenTable`",
                "type": "token_not_found_in_db",
                "param": "key",
                "code": "401",
            }
        },
        id="litellm",
    ),
    pytest.param("openai-chat", 400, LITELLM_NO_DB, id="litellm-no-db"),
    pytest.param(
        "openai-chat",
        401,
        {"message": "Unauthorized", "request_id": "c61f2f15feca71626a990e3740f99245"},
        id="mistral",
    ),
    pytest.param(
        "openai-chat",
        401,
        {
            "error": {
                "message": "Authentication Fails, Your api key: ****d569 is invalid",
                "type": "authentication_error",
                "param": None,
                "code": "invalid_request_error",
            }
        },
        id="deepseek",
    ),
    pytest.param(
        "openai-chat",
        401,
        {
            "success": False,
            "error": [{"code": 2009, "message": "Unauthorized"}],
            "name": "AiGatewayError",
            "httpCode": 400,
            "internalCode": 2009,
            "message": "Unauthorized",
        },
        id="cloudflare",
    ),
    pytest.param(
        "openai-chat",
        401,
        {
            "error": {
                "message": "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        },
        id="together",
    ),
    pytest.param(
        "openai-chat",
        401,
        {"error": {"message": "Invalid API Key", "type": "invalid_request_error", "code": "invalid_api_key"}},
        id="groq",
    ),
    pytest.param("openai-chat", 401, {"error": "Unauthorized"}, id="vllm"),
    pytest.param(
        "openai-chat",
        401,
        {"error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}},
        id="llama-cpp",
    ),
]


@pytest.mark.parametrize(("api", "status", "body"), AUTH_FAILURES)
def test_recorded_auth_failures_are_operational(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    api: str,
    status: int,
    body: Any,
) -> None:
    """Each gateway's recorded bad-key answer: auth_error on the route and the error path, exit 3."""
    path = MESSAGES if api == "anthropic-messages" else CHAT
    httpserver.expect_request(path, method="POST").respond_with_json(body, status=status)
    routing = routing_file(
        tmp_path, {"code-generation": "some-model"}, base_url=gateway_url(httpserver), api=api
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 3, run.stdout
    assert run.route("code-generation")["verdict"] == "auth_error"
    assert run.error_path["verdict"] == "auth_error"
    assert KEY not in run.everything


# --- llama.cpp single-model mode ------------------------------------------------------------------


def test_llama_cpp_single_model_answers_everything_as_gpt_35_turbo(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """llama.cpp server (old builds, single-model mode) answers any model ID as gpt-3.5-turbo
    (llama.cpp#11069): the route is a model_mismatch and the error path a silent_fallback."""
    monkeypatch.delenv("ROUTING_GUARD_API_KEY")
    httpserver.expect_request(CHAT, method="POST").respond_with_json(chat_completion("gpt-3.5-turbo"))
    routing = routing_file(
        tmp_path, {"local-coder": "qwen2.5-coder-7b"}, base_url=gateway_url(httpserver), auth="none"
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    entry = run.route("local-coder")
    assert (entry["verdict"], entry["model_returned"]) == ("model_mismatch", "gpt-3.5-turbo")
    error = run.error_path
    assert (error["http_status"], error["verdict"], error["model_returned"]) == (
        200,
        "silent_fallback",
        "gpt-3.5-turbo",
    )
    assert "answered by gpt-3.5-turbo" in error["notes"]
    assert sorted(sent_models(httpserver, CHAT)) == sorted(["qwen2.5-coder-7b", INVALID])


# --- model listings -------------------------------------------------------------------------------

OPENAI_LISTING = {  # GET /v1/models: bare ids, no context window
    "object": "list",
    "data": [
        {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
        {"id": "gpt-4.1", "object": "model", "created": 1744316542, "owned_by": "system"},
        {"id": "gpt-4o-2024-08-06", "object": "model", "created": 1722814719, "owned_by": "system"},
    ],
}


def _openrouter_model(
    slug: str, context: int | None, top: int | None, expires: str | None = None
) -> dict[str, Any]:
    """An OpenRouter /api/v1/models entry (fields per openrouter.ai/docs SDK `Model`)."""
    return {
        "id": slug,
        "canonical_slug": slug,
        "name": slug,
        "created": 1721260800,
        "context_length": context,
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
        },
        "pricing": {"prompt": "0.00000015", "completion": "0.0000006"},
        "top_provider": {"context_length": top, "max_completion_tokens": 16384, "is_moderated": True},
        "per_request_limits": None,
        "expiration_date": expires,
    }


def test_openai_listing_models_only(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--models-only against OpenAI's bare-id listing: listed IDs pass, an unlisted one is not_listed,
    and no completion request is sent."""
    httpserver.expect_request("/v1/models", method="GET").respond_with_json(OPENAI_LISTING)
    routing = routing_file(
        tmp_path,
        {"code-generation": "gpt-4o", "refactoring": "gpt-4.1", "heavy": "coder-heavy"},
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing, "--models-only")
    assert run.exit_code == 1
    assert run.report["mode"] == "models-only"
    assert run.route("code-generation")["verdict"] == "pass"
    assert run.route("code-generation")["notes"] == "listed as gpt-4o"
    assert run.route("refactoring")["verdict"] == "pass"
    assert run.route("heavy")["verdict"] == "not_listed"
    assert run.report["error_paths"] == []
    assert [req.method for req in posts(httpserver)] == ["GET"]
    assert posts(httpserver)[0].headers["Authorization"] == f"Bearer {KEY}"


def test_models_preflight_with_check_warns_about_unlisted_alias(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--models with a full check: an unlisted alias is a warning (aliases often are not listed), not a failure."""
    httpserver.expect_request("/v1/models", method="GET").respond_with_json(OPENAI_LISTING)
    serve(
        httpserver,
        CHAT,
        {
            "gpt-4o": chat_completion("gpt-4o-2024-08-06"),
            "coder-heavy": chat_completion("coder-heavy"),
            INVALID: json_response(OPENAI_CHAT_404, 404),
        },
    )
    routing = routing_file(
        tmp_path, {"code-generation": "gpt-4o", "heavy": "coder-heavy"}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing, "--models")
    assert run.exit_code == 0
    assert run.route("heavy")["verdict"] == "pass"
    assert any(
        "coder-heavy is not in the gateway's model listing" in w for w in run.route("heavy")["warnings"]
    )
    assert run.route("code-generation")["warnings"] == []
    assert "not in the gateway" in run.summary


def test_openrouter_listing_context_windows(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OpenRouter's listing gives `context_length` and `top_provider.context_length`: min_context is
    checked against them (context_too_small when smaller)."""
    listing = {
        "data": [
            _openrouter_model("openai/gpt-4o-mini", 128000, 128000),
            _openrouter_model("anthropic/claude-sonnet-4", 200000, 200000),
            _openrouter_model("google/gemini-2.5-flash", None, 1048576),  # only the top provider says
        ]
    }
    httpserver.expect_request("/api/v1/models", method="GET").respond_with_json(listing)
    routing = routing_file(
        tmp_path,
        {
            "small": {"model": "openai/gpt-4o-mini", "min_context": 200000},
            "enough": {"model": "anthropic/claude-sonnet-4", "min_context": 200000},
            "top-provider": {"model": "google/gemini-2.5-flash", "min_context": 1000000},
        },
        base_url=gateway_url(httpserver, "/api/v1"),
    )
    run = run_check(capsys, routing, "--models-only")
    assert run.exit_code == 1
    small = run.route("small")
    assert small["verdict"] == "context_too_small"
    assert small["notes"] == "context window 128000 < min_context 200000"
    assert run.route("enough")["verdict"] == "pass"
    assert run.route("top-provider")["verdict"] == "pass"
    assert run.route("top-provider")["warnings"] == []


def test_vllm_listing_max_model_len(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """vLLM's /v1/models gives `max_model_len` per served model (vllm serve listing)."""
    listing = {
        "object": "list",
        "data": [
            {
                "id": "Qwen/Qwen2.5-7B-Instruct",
                "object": "model",
                "created": 1735689600,
                "owned_by": "vllm",
                "root": "Qwen/Qwen2.5-7B-Instruct",
                "parent": None,
                "max_model_len": 32768,
                "permission": [],
            }
        ],
    }
    httpserver.expect_request("/v1/models", method="GET").respond_with_json(listing)
    routing = routing_file(
        tmp_path,
        {
            "long": {"model": "Qwen/Qwen2.5-7B-Instruct", "min_context": 65536},
            "short": {"model": "Qwen/Qwen2.5-7B-Instruct", "min_context": 32768},
        },
        base_url=gateway_url(httpserver),
        auth="none",
    )
    run = run_check(capsys, routing, "--models-only")
    assert run.exit_code == 1
    assert run.route("long")["verdict"] == "context_too_small"
    assert run.route("long")["notes"] == "context window 32768 < min_context 65536"
    assert run.route("short")["verdict"] == "pass"


def test_min_context_without_a_window_in_the_listing_warns(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """min_context on a route triggers the listing even without --models; OpenAI's listing has no
    context window, so the route passes with a warning."""
    httpserver.expect_request("/v1/models", method="GET").respond_with_json(OPENAI_LISTING)
    serve(
        httpserver,
        CHAT,
        {"gpt-4o": chat_completion("gpt-4o-2024-08-06"), INVALID: json_response(OPENAI_CHAT_404, 404)},
    )
    routing = routing_file(
        tmp_path,
        {"code-generation": {"model": "gpt-4o", "min_context": 128000}},
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 0
    entry = run.route("code-generation")
    assert entry["verdict"] == "pass"
    assert entry["warnings"] == ["the model listing does not say the context window"]
    assert "does not say the context window" in run.summary
    assert len([r for r in posts(httpserver) if r.method == "GET"]) == 1


def _in_days(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def test_openrouter_expiration_date_within_30_days_warns(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OpenRouter's listing `expiration_date` (YYYY-MM-DD, "the date after which the model may be removed"):
    within 30 days it is a warning in the report and the summary; later dates are not."""
    listing = {
        "data": [
            _openrouter_model("openai/gpt-4o-mini", 128000, 128000, expires=_in_days(10)),
            _openrouter_model("anthropic/claude-sonnet-4", 200000, 200000, expires=_in_days(90)),
        ]
    }
    httpserver.expect_request("/api/v1/models", method="GET").respond_with_json(listing)
    routing = routing_file(
        tmp_path,
        {"soon": "openai/gpt-4o-mini", "later": "anthropic/claude-sonnet-4"},
        base_url=gateway_url(httpserver, "/api/v1"),
    )
    run = run_check(capsys, routing, "--models-only")
    assert run.exit_code == 0
    warning = f"openai/gpt-4o-mini retires on {_in_days(10)} per the gateway's model listing"
    assert run.route("soon")["warnings"] == [warning]
    assert run.route("later")["warnings"] == []
    assert "### Warnings" in run.summary
    assert "retires on" in run.summary
    assert "warning: soon: openai/gpt-4o-mini retires on" in run.stdout


def test_mistral_listing_deprecation_within_30_days_warns(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mistral's /v1/models entries carry `deprecation` (a datetime or null) and `max_context_length`
    (Mistral BaseModelCard)."""
    listing = {
        "object": "list",
        "data": [
            {
                "id": "mistral-small-latest",
                "object": "model",
                "created": 1741996800,
                "owned_by": "mistralai",
                "capabilities": {"completion_chat": True, "function_calling": True, "vision": False},
                "name": "mistral-small-2503",
                "description": "Mistral Small",
                "max_context_length": 131072,
                "aliases": ["mistral-small-2503"],
                "deprecation": f"{_in_days(5)}T12:00:00Z",
                "default_model_temperature": 0.3,
                "type": "base",
            }
        ],
    }
    httpserver.expect_request("/v1/models", method="GET").respond_with_json(listing)
    routing = routing_file(
        tmp_path,
        {"chat": {"model": "mistral-small-latest", "min_context": 200000}},
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing, "--models-only")
    entry = run.route("chat")
    assert entry["verdict"] == "context_too_small"
    assert entry["warnings"] == [
        f"mistral-small-latest retires on {_in_days(5)} per the gateway's model listing"
    ]


# --- retries --------------------------------------------------------------------------------------


def test_503_then_200_is_retried_and_passes(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A transient 503 (Ollama's 'server busy' shape) then a 200: pass, and the notes say it was retried."""
    busy = {
        "error": {
            "message": "server busy, please try again.  maximum pending requests exceeded",
            "type": "api_error",
        }
    }
    httpserver.expect_ordered_request(CHAT, method="POST").respond_with_json(busy, status=503)
    httpserver.expect_ordered_request(CHAT, method="POST").respond_with_json(chat_completion("gpt-oss:20b"))
    routing = routing_file(tmp_path, {"local": "gpt-oss:20b"}, base_url=gateway_url(httpserver), auth="none")
    run = run_check(capsys, routing, "--skip-error-path", "--retries", "2")
    assert run.exit_code == 0, run.stdout
    entry = run.route("local")
    assert entry["verdict"] == "pass"
    assert "retried after 503" in entry["notes"]
    assert run.report["requests"] == 2
    assert len(posts(httpserver)) == 2
    httpserver.check_assertions()


def test_429_retry_after_is_honoured(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 429 with `Retry-After: 1` (Anthropic and Groq send retry-after on 429): the retry waits ~1 s."""
    limited = {  # anthropic.rate_limit.variant_2026
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "This request would exceed your account's rate limit. Please try again later.",
        },
        "request_id": "req_fake",
    }
    httpserver.expect_ordered_request(MESSAGES, method="POST").respond_with_json(
        limited, status=429, headers={"retry-after": "1"}
    )
    httpserver.expect_ordered_request(MESSAGES, method="POST").respond_with_json(
        anthropic_message("claude-3-5-sonnet-20241022")
    )
    routing = routing_file(
        tmp_path,
        {"review": "claude-3-5-sonnet-20241022"},
        base_url=gateway_url(httpserver),
        api="anthropic-messages",
    )
    start = time.monotonic()
    run = run_check(capsys, routing, "--skip-error-path", "--retries", "2")
    elapsed = time.monotonic() - start
    assert run.exit_code == 0, run.stdout
    assert "retried after 429" in run.route("review")["notes"]
    assert elapsed >= 0.95
    assert len(posts(httpserver)) == 2
    httpserver.check_assertions()


def test_429_without_retry_after_exhausts_retries_as_rate_limited(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM's mock rate limit sends 429 without Retry-After (docs/gateways.md): retried with backoff, then
    rate_limited, exit 3."""
    httpserver.expect_request(CHAT, method="POST").respond_with_json(
        {
            "error": {
                "message": "litellm.RateLimitError: ...",
                "type": "throttling_error",
                "param": None,
                "code": "429",
            }
        },
        status=429,
    )
    routing = routing_file(tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing, "--skip-error-path", "--retries", "1")
    assert run.exit_code == 3
    assert run.route("code-generation")["verdict"] == "rate_limited"
    assert len(posts(httpserver)) == 2


def test_no_retry_on_400_or_404(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 404 for the routed model (OpenAI model_not_found: retired or no access) and the 400 refusal on
    the error path are final answers: one request each, never retried, never with another model."""
    serve(
        httpserver,
        CHAT,
        {
            "gpt-4-1106-preview": json_response(
                json.loads(json.dumps(OPENAI_CHAT_404).replace(INVALID, "gpt-4-1106-preview")), 404
            ),
            INVALID: json_response(LITELLM_400, 400),
        },
    )
    routing = routing_file(tmp_path, {"legacy": "gpt-4-1106-preview"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing, "--retries", "2")
    assert run.exit_code == 1
    entry = run.route("legacy")
    assert (entry["http_status"], entry["verdict"]) == (404, "http_error")
    assert "does not exist" in entry["notes"]
    assert (run.error_path["http_status"], run.error_path["verdict"]) == (400, "pass")
    assert sorted(sent_models(httpserver, CHAT)) == sorted(["gpt-4-1106-preview", INVALID])
    assert run.report["requests"] == 2


# --- the routing files themselves -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in GATEWAYS.glob("*.yml")))
def test_gateway_routing_files_validate(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--routing-file", str(GATEWAYS / name)]) == 0
    assert "valid" in capsys.readouterr().out
