"""Each wrong verdict of issue 10, reproduced on pytest-httpserver with the recorded behaviour of the
gateway that gave it (docs/gateways.md: "Portkey, run live", "More that real gateways do", llama.cpp),
and the verdict routing-guard gives now. Each test fails on the engine that gave the wrong verdict.

The real Portkey gateway, llama.cpp server and LiteLLM proxy assert the same verdicts in their own
integration tests; these fixtures keep the rules covered on every run, in milliseconds.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.gateway_fixtures import (
    KEY,
    anthropic_message,
    by_model,
    chat_chunk,
    chat_completion,
    gateway_url,
    json_response,
    routing_file,
    run_check,
    sse,
    sse_response,
    use_key,
)

INVALID = "routing-guard-invalid-model-id"
CHAT, MESSAGES, MODELS = "/v1/chat/completions", "/v1/messages", "/v1/models"


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch)


def serve(httpserver: HTTPServer, path: str, answers: dict[str, Any], default: Any = None) -> None:
    httpserver.expect_request(path, method="POST").respond_with_handler(by_model(answers, default))


def unmarkdown(text: str) -> str:
    """The summary's text with Markdown backslash escapes and HTML entities undone, for asserts."""
    return html.unescape(re.sub(r"\\(.)", r"\1", text))


def bodies(httpserver: HTTPServer, path: str) -> list[dict[str, Any]]:
    return [json.loads(req.get_data()) for req, _ in httpserver.log if req.path == path]


# --- Portkey: the option index is judged against the config's strategy ---------------------------

PORTKEY_HEADERS = {"x-portkey-provider": "openai", "x-portkey-retry-attempt-count": "0"}


def portkey_answer(model: str, index: str, **headers: str) -> Response:
    """A provider's answer relayed by Portkey 1.15.2: the body is the upstream's, the index a JSON path."""
    return json_response(
        chat_completion(model),
        headers={**PORTKEY_HEADERS, "x-portkey-last-used-option-index": index, **headers},
    )


def portkey_config(mode: str, *targets: dict[str, Any]) -> dict[str, Any]:
    return {"strategy": {"mode": mode}, "targets": list(targets)}


UPSTREAM = {"provider": "openai", "custom_host": "http://127.0.0.1:9/v1"}
OPENAI_404 = {
    "error": {
        "message": f"openai error: The model `{INVALID}` does not exist",
        "type": "invalid_request_error",
        "code": "model_not_found",
    },
    "provider": "openai",
}


@pytest.mark.parametrize(
    ("config", "index", "verdict", "note"),
    [
        # a loadbalance choice of the second target: healthy (was fallback_detected)
        (portkey_config("loadbalance", UPSTREAM, UPSTREAM), "config.targets[1]", "pass", "loadbalance chose"),
        # a conditional router's choice: healthy (was fallback_detected)
        (
            {
                **portkey_config("conditional", {**UPSTREAM, "name": "a"}, {**UPSTREAM, "name": "b"}),
                "strategy": {"mode": "conditional", "conditions": [], "default": "b"},
            },
            "config.targets[1]",
            "pass",
            "conditional chose config.targets[1] (name b",
        ),
        # a fallback group's second target served: the primary failed
        (
            portkey_config("fallback", UPSTREAM, UPSTREAM),
            "config.targets[1]",
            "fallback_detected",
            "fallback group",
        ),
        # nested: a loadbalance choice of a fallback group, whose second target served
        (
            portkey_config("loadbalance", portkey_config("fallback", UPSTREAM, UPSTREAM), UPSTREAM),
            "config.targets[0].targets[1]",
            "fallback_detected",
            "config.targets[0].targets[1]",
        ),
        # nested: a fallback group's first target, a loadbalance group choosing its second: healthy
        (
            portkey_config("fallback", portkey_config("loadbalance", UPSTREAM, UPSTREAM), UPSTREAM),
            "config.targets[0].targets[1]",
            "pass",
            "loadbalance chose config.targets[0].targets[1]",
        ),
    ],
    ids=["loadbalance", "conditional", "fallback", "nested-fallback", "nested-loadbalance"],
)
def test_portkey_option_index_follows_the_strategy_tree(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    config: dict[str, Any],
    index: str,
    verdict: str,
    note: str,
) -> None:
    serve(
        httpserver,
        CHAT,
        {"gpt-4o": portkey_answer("gpt-4o-2024-08-06", index, **{"x-portkey-retry-attempt-count": "2"})},
        default=json_response(OPENAI_404, 404, headers={"x-portkey-last-used-option-index": index}),
    )
    routing = routing_file(
        tmp_path,
        {"code-generation": "gpt-4o"},
        base_url=gateway_url(httpserver),
        headers={"x-portkey-config": json.dumps(config)},
    )
    run = run_check(capsys, routing)
    entry = run.route("code-generation")
    assert entry["verdict"] == verdict, entry
    assert note in entry["notes"], entry["notes"]
    assert run.exit_code == (0 if verdict == "pass" else 1)
    if verdict == "pass":
        assert "Portkey retried the target 2 times" in entry["notes"]
        assert note in unmarkdown(run.summary)  # the summary names the chosen target


def test_portkey_loadbalance_to_a_target_overriding_the_model_is_model_mismatch(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`override_params.model` silently rewrites the model upstream; only the body shows it."""
    config = portkey_config(
        "loadbalance", UPSTREAM, {**UPSTREAM, "override_params": {"model": "gpt-4o-mini"}}
    )
    serve(
        httpserver,
        CHAT,
        {"gpt-4o": portkey_answer("gpt-4o-mini-2024-07-18", "config.targets[1]")},
        default=json_response(
            OPENAI_404, 404, headers={"x-portkey-last-used-option-index": "config.targets[0]"}
        ),
    )
    routing = routing_file(
        tmp_path,
        {"code-generation": "gpt-4o"},
        base_url=gateway_url(httpserver),
        headers={"x-portkey-config": json.dumps(config)},
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    entry = run.route("code-generation")
    assert entry["verdict"] == "model_mismatch", entry
    assert "gpt-4o-mini-2024-07-18" in entry["notes"]


def test_portkey_saved_config_index_is_a_warning_not_a_failure(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(
        httpserver,
        CHAT,
        {"gpt-4o": portkey_answer("gpt-4o-2024-08-06", "config.targets[1]")},
        default=json_response(OPENAI_404, 404, headers={"x-portkey-last-used-option-index": "config"}),
    )
    routing = routing_file(
        tmp_path,
        {"code-generation": "gpt-4o"},
        base_url=gateway_url(httpserver),
        headers={"x-portkey-config": "pc-routing-1a2b3c"},
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 0, run.stdout
    entry = run.route("code-generation")
    assert entry["verdict"] == "pass"
    assert any("config.targets[1]" in w and "saved config" in w for w in entry["warnings"]), entry
    assert "warning: code-generation: x-portkey-last-used-option-index" in run.stdout
    assert "saved config" in unmarkdown(run.summary)


PORTKEY_OWN_400 = {
    "status": "failure",
    "message": "Either x-portkey-config or x-portkey-provider header is required",
}


def test_portkey_refusing_every_request_is_no_error_path_pass(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Portkey without its routing headers answers 400 (no x-portkey-* headers) to every model: the
    bogus ID's 400 proves nothing (was: error path "pass")."""
    httpserver.expect_request(CHAT, method="POST").respond_with_json(PORTKEY_OWN_400, status=400)
    routing = routing_file(tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 1  # the route's own refusal is a routing failure
    entry = run.route("code-generation")
    assert entry["verdict"] == "http_error"
    assert "Portkey refused the request" in entry["notes"]
    assert "gateway configuration problem" in entry["hint"] and "x-portkey-config" in entry["hint"]
    error = run.error_path
    assert (error["http_status"], error["verdict"], error["pass"]) == (400, "inconclusive", False)
    assert "Portkey" in error["hint"] and "gateway.headers" in error["hint"]
    assert "inconclusive" in run.stdout


# --- the error path is a differential test --------------------------------------------------------


def test_liteLLM_base_url_without_v1_is_an_endpoint_problem_not_a_model_one(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM 1.108.7 answers `POST /messages` (no /v1) with 404 {"detail":"Not Found"} for every model
    (was: error path "refused with HTTP 404" and a route hint blaming the model ID)."""
    httpserver.expect_request("/messages", method="POST").respond_with_json(
        {"detail": "Not Found"}, status=404
    )
    routing = routing_file(
        tmp_path,
        {"claude-code-review": "claude-sonnet-4-5"},
        base_url=gateway_url(httpserver, path=""),
        api="anthropic-messages",
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    entry = run.route("claude-code-review")
    assert entry["verdict"] == "http_error"
    assert "endpoint not found" in entry["notes"]
    assert "/messages" in entry["hint"] and "/v1" in entry["hint"] and "base_url" in entry["hint"]
    assert "claude-sonnet-4-5" not in entry["hint"]  # not blamed on the model ID
    error = run.error_path
    assert error["verdict"] == "inconclusive", error
    assert "every request" in error["hint"] and "/v1" in error["hint"]


def test_catch_all_needing_a_body_field_is_found_because_the_probe_sends_it(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A catch-all that wants `user` (sent by `defaults.request`) answers the bogus ID 200 when sent what the
    routes send, 400 to a bare probe (was: the bare probe's 400 passed the error path, exit 0)."""

    def gateway(request: Request) -> Response:
        body = request.get_json()
        if "user" not in body:
            return json_response({"error": {"message": "`user` is required", "code": "400"}}, 400)
        return sse_response(
            [chat_chunk(body["model"], "pong"), chat_chunk(body["model"], finish_reason="stop")],
            headers={"x-litellm-model-name": "openai/gpt-4o-mini"},
        )

    httpserver.expect_request(CHAT, method="POST").respond_with_handler(gateway)
    routing = routing_file(
        tmp_path,
        {"code-generation": {"model": "gpt-4o", "stream": True}},
        base_url=gateway_url(httpserver),
        defaults={"request": {"user": "ci-bot"}},
        headers={"x-team": "platform"},
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    error = run.error_path
    assert (error["http_status"], error["verdict"]) == (200, "silent_fallback"), error
    route_body, error_body = sorted(bodies(httpserver, CHAT), key=lambda b: b["model"] == INVALID)
    assert error_body == {**route_body, "model": INVALID}  # exactly the route's request
    assert all(req.headers.get("x-team") == "platform" for req, _ in httpserver.log)


@pytest.mark.parametrize(
    ("status", "doc", "reason"),
    [
        (422, {"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}, "HTTP 422"),
        (402, {"error": {"message": "Insufficient credits"}}, "HTTP 402"),
        (413, {"error": {"message": "Request too large"}}, "HTTP 413"),
        (400, {"error": {"message": "Budget has been exceeded! Current cost: 12.3"}}, "budget"),
        (
            400,
            {"error": {"message": "The response was filtered by the content management policy"}},
            "content filter",
        ),
    ],
    ids=["422", "402", "413", "budget", "content-filter"],
)
def test_refusals_not_about_the_model_are_inconclusive_exit_3(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    status: int,
    doc: Any,
    reason: str,
) -> None:
    serve(
        httpserver,
        CHAT,
        {"gpt-4o": chat_completion("gpt-4o-2024-08-06"), INVALID: json_response(doc, status)},
    )
    routing = routing_file(tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 3, run.stdout  # no verdict on the error path, the route passed
    assert run.route("code-generation")["verdict"] == "pass"
    error = run.error_path
    assert error["verdict"] == "inconclusive" and reason in error["hint"], error
    assert run.report["exit_code"] == 3


def test_a_plain_refusal_passes_only_with_a_served_route_as_evidence(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refusal = json_response({"error": {"message": "Bad request", "code": "400"}}, 400)
    serve(httpserver, CHAT, {"gpt-4o": chat_completion("gpt-4o-2024-08-06"), INVALID: refusal})
    routing = routing_file(tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver))
    served = run_check(capsys, routing)
    assert served.exit_code == 0
    assert served.error_path["verdict"] == "pass"
    assert "while route code-generation was served" in served.error_path["notes"]

    httpserver.clear()
    serve(httpserver, CHAT, {}, default=refusal)
    refused = run_check(capsys, routing)
    assert refused.exit_code == 1  # the route's 400
    assert refused.error_path["verdict"] == "inconclusive"
    assert "every request of this protocol" in refused.error_path["hint"]


def test_a_model_not_found_answer_naming_the_id_passes_on_its_own(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gateway's own protocol has no route here, so only the answer can show it is about the model."""
    serve(httpserver, CHAT, {INVALID: json_response(OPENAI_404, 404)})
    anthropic = {"type": "error", "error": {"type": "not_found_error", "message": f"model: {INVALID}"}}
    serve(
        httpserver,
        MESSAGES,
        {
            "claude-sonnet-4-5": {
                "type": "message",
                "model": "claude-sonnet-4-5-20250929",
                "role": "assistant",
                "content": [{"type": "text", "text": "pong"}],
                "stop_reason": "end_turn",
            },
            INVALID: json_response(anthropic, 404),
        },
    )
    routing = routing_file(
        tmp_path,
        {"review": {"model": "claude-sonnet-4-5", "api": "anthropic-messages"}},
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 0, run.stdout
    chat = run.error_path_for("openai-chat")
    assert chat["verdict"] == "pass" and "names the ID as unknown" in chat["notes"]
    assert run.error_path_for("anthropic-messages")["verdict"] == "pass"


# --- streams: every chunk is judged; a cut stream is not an empty answer --------------------------


def test_stream_whose_text_chunks_name_another_model_is_model_mismatch(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first chunk names gpt-4o, every text chunk gpt-3.5-turbo (was: pass, exact match)."""
    stream = [
        chat_chunk("gpt-4o"),
        chat_chunk("gpt-3.5-turbo", "po"),
        chat_chunk("gpt-3.5-turbo", "ng"),
        chat_chunk("gpt-3.5-turbo", finish_reason="stop"),
    ]
    serve(httpserver, CHAT, {"gpt-4o": sse_response(stream), INVALID: json_response(OPENAI_404, 404)})
    routing = routing_file(
        tmp_path, {"code-generation": {"model": "gpt-4o", "stream": True}}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    entry = run.route("code-generation")
    assert entry["verdict"] == "model_mismatch", entry
    assert "switched models from gpt-4o to gpt-3.5-turbo" in entry["notes"]


def test_stream_chunks_naming_what_the_served_header_names_are_no_switch(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM: chunks may name the alias and the deployment; the served-model header is the witness."""
    stream = [
        chat_chunk("coder-heavy"),
        chat_chunk("claude-opus-4-20250514", "pong"),
        chat_chunk("claude-opus-4-20250514", finish_reason="stop"),
    ]
    headers = {"x-litellm-model-name": "anthropic/claude-opus-4-20250514"}
    serve(
        httpserver,
        CHAT,
        {"coder-heavy": sse_response(stream, headers=headers), INVALID: json_response(OPENAI_404, 404)},
    )
    routing = routing_file(
        tmp_path, {"heavy": {"model": "coder-heavy", "stream": True}}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 0, run.stdout
    assert run.route("heavy")["served_model"] == "anthropic/claude-opus-4-20250514"
    assert run.route("heavy")["warnings"] == []  # an alias served by its upstream: quiet


def test_litellm_stream_after_a_fallback_chunks_echo_the_request_headers_say_fallback(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """BerriAI/litellm#31722: after a fallback the chunks carry the requested model."""
    stream = [chat_chunk("gpt-4o", "pong"), chat_chunk("gpt-4o", finish_reason="stop")]
    headers = {"x-litellm-attempted-fallbacks": "1", "x-litellm-model-name": "openai/gpt-4o-mini"}
    serve(
        httpserver,
        CHAT,
        {"gpt-4o": sse_response(stream, headers=headers), INVALID: json_response(OPENAI_404, 404)},
    )
    routing = routing_file(
        tmp_path, {"code-generation": {"model": "gpt-4o", "stream": True}}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing)
    entry = run.route("code-generation")
    assert entry["verdict"] == "fallback_detected" and "openai/gpt-4o-mini" in entry["notes"]


def cut_stream(model: str) -> Response:
    """llama.cpp's interrupted stream: text, then `[DONE]` without any finish_reason."""
    return sse_response([chat_chunk(model, "po")])


def test_a_stream_cut_short_is_retried_then_bad_response_never_empty(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attempts: list[str] = []

    def once_cut(request: Request) -> Response:
        attempts.append("x")
        if len(attempts) == 1:
            return cut_stream("smollm2")
        return sse_response([chat_chunk("smollm2", "pong"), chat_chunk("smollm2", finish_reason="stop")])

    serve(
        httpserver,
        CHAT,
        {
            "smollm2": once_cut,
            "always-cut": lambda r: cut_stream("always-cut"),
            INVALID: json_response(OPENAI_404, 404),
        },
    )
    routing = routing_file(
        tmp_path,
        {"local": {"model": "smollm2", "stream": True}},
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing, "--retries", "2")
    entry = run.route("local")
    assert entry["verdict"] == "pass", entry
    assert "retried after stream cut short" in entry["notes"]

    routing = routing_file(
        tmp_path, {"local": {"model": "always-cut", "stream": True}}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing, "--retries", "1")
    entry = run.route("local")
    assert entry["verdict"] == "bad_response", entry
    assert "cut short" in entry["notes"] and "finish_reason" in entry["notes"]
    assert "2 attempts" in entry["notes"]
    assert "interrupt" in entry["hint"]


# --- echoes prove nothing: the listing decides -------------------------------------------------


def echoing_server(httpserver: HTTPServer, listing: Response | None) -> None:
    """llama.cpp's Python server with one model: any ID is served and echoed; no header names who."""

    def echo(request: Request) -> Response:
        return json_response(chat_completion(request.get_json()["model"]))

    httpserver.expect_request(CHAT, method="POST").respond_with_handler(echo)
    if listing is not None:
        httpserver.expect_request(MODELS, method="GET").respond_with_response(listing)


SMOLLM_LISTING = {"object": "list", "data": [{"id": "smollm2", "object": "model", "owned_by": "me"}]}


def test_an_echoing_server_is_judged_on_its_listing(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """gpt-4o on a server that has only SmolLM2 loaded (was: "pass: exact match")."""
    echoing_server(httpserver, json_response(SMOLLM_LISTING))
    routing = routing_file(
        tmp_path, {"code-generation": "gpt-4o", "local": "smollm2"}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing)  # no --models: the listing is read all the same
    assert run.exit_code == 1
    gpt4o = run.route("code-generation")
    assert gpt4o["verdict"] == "model_mismatch", gpt4o
    assert gpt4o["notes"].startswith("echoed, not listed")
    local = run.route("local")
    assert local["verdict"] == "pass" and "identity rests on the listing" in local["notes"]
    error = run.error_path
    assert error["verdict"] == "silent_fallback"
    assert "echoed the ID" in error["notes"]
    assert f"answered by {INVALID}" not in error["notes"]


def test_an_echoing_server_without_a_listing_passes_with_a_warning(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    echoing_server(httpserver, json_response({"detail": "Not Found"}, 404))
    routing = routing_file(tmp_path, {"local": "smollm2"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.exit_code == 1  # the silent fallback
    local = run.route("local")
    assert local["verdict"] == "pass"
    assert any(w.startswith("identity not observed") for w in local["warnings"]), local
    assert "warning: local: identity not observed" in run.stdout
    assert "identity not observed" in unmarkdown(run.summary)


def test_a_route_with_a_served_header_is_not_judged_on_the_listing(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM's catch-all echoes too, but its x-litellm-model-name header is a witness."""
    headers = {"x-litellm-model-name": "openai/gpt-4o-2024-08-06"}
    serve(
        httpserver,
        CHAT,
        {"gpt-4o": json_response(chat_completion("gpt-4o"), headers=headers)},
        default=json_response(
            chat_completion(INVALID), headers={"x-litellm-model-name": "openai/gpt-4o-mini"}
        ),
    )
    routing = routing_file(tmp_path, {"code-generation": "gpt-4o"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing)
    assert run.route("code-generation")["verdict"] == "pass"
    assert not any(req.method == "GET" for req, _ in httpserver.log)  # no listing needed


# --- served by another family ----------------------------------------------------------------------


def test_a_claude_route_served_by_gpt_passes_with_a_warning(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM's catch-all serves `claude-sonnet-4-5` with openai/gpt-4o-mini (was: a plain pass)."""
    catch_all = {"x-litellm-model-name": "openai/gpt-4o-mini"}
    serve(
        httpserver,
        CHAT,
        {
            "claude-sonnet-4-5": json_response(chat_completion("claude-sonnet-4-5"), headers=catch_all),
            "coder-heavy": json_response(chat_completion("coder-heavy"), headers=catch_all),
            INVALID: json_response(
                {"error": {"message": f"Invalid model name passed in model={INVALID}"}}, 400
            ),
        },
    )
    routing = routing_file(
        tmp_path,
        {"review": "claude-sonnet-4-5", "heavy": "coder-heavy"},
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 0, run.stdout
    review = run.route("review")
    assert review["verdict"] == "pass"
    [warning] = review["warnings"]
    assert "served by openai/gpt-4o-mini" in warning and "served:" in warning
    assert "warning: review: served by openai/gpt-4o-mini" in run.stdout
    assert "served by openai/gpt-4o-mini" in unmarkdown(run.summary)
    assert run.route("heavy")["warnings"] == []  # an alias: served by its upstream, quiet


# --- --models-only across providers ---------------------------------------------------------------


def test_models_only_applies_the_provider_rule_and_reads_the_matching_entry(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = {
        "data": [
            {"id": "azure/gpt-4o", "context_length": 8000},
            {"id": "anthropic/claude-sonnet-4-5", "context_length": 200000},
            {"id": "openai/gpt-4.1", "context_length": 1000000},
        ]
    }
    httpserver.expect_request(MODELS, method="GET").respond_with_json(listing)
    routing = routing_file(
        tmp_path,
        {
            "azure-listed-only": "openai/gpt-4o",
            "review": {"model": "claude-sonnet-4-5", "min_context": 150000},
            "long": {"model": "openai/gpt-4.1", "min_context": 500000},
        },
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing, "--models-only")
    assert run.route("azure-listed-only")["verdict"] == "not_listed"  # was: pass, listed as azure/gpt-4o
    assert run.route("review")["verdict"] == "pass"
    assert run.route("long")["verdict"] == "pass"
    assert run.exit_code == 1

    listing["data"].insert(0, {"id": "azure/gpt-4.1", "context_length": 8000})
    httpserver.clear()
    httpserver.expect_request(MODELS, method="GET").respond_with_json(listing)
    run = run_check(capsys, routing, "--models-only", "--route", "long")
    assert run.route("long")["verdict"] == "pass", run.route("long")  # read openai/gpt-4.1, not azure's


# --- found in review --------------------------------------------------------------------------------


def test_an_error_path_refusal_about_another_parameter_is_no_evidence(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A catch-all serves unknown IDs with gpt-4o-mini, which refuses the first route's budget
    (`max_tokens: 20000`) that gpt-4.1 accepts: the invalid ID's 400 is about `max_tokens`, so it proves
    nothing about the model even though the routes were served (was: error path pass, exit 0)."""

    def catch_all(request: Request) -> Response:
        body = request.get_json()
        model = body["model"]
        if model not in ("gpt-4.1", "gpt-4o") and body.get("max_tokens", 0) > 16384:
            message = "max_tokens is too large: 20000. This model supports at most 16384 completion tokens"
            # OpenAI names the parameter; LiteLLM re-wraps provider errors with `param: null`
            param = "max_tokens" if "openai" in request.path else None
            error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
            return json_response({"error": error}, 400)
        return json_response(chat_completion(model))

    for prefix in ("/openai", "/litellm"):
        httpserver.expect_request(prefix + CHAT, method="POST").respond_with_handler(catch_all)
        routing = routing_file(
            tmp_path,
            {"long": {"model": "gpt-4.1", "request": {"max_tokens": 20000}}, "code": "gpt-4o"},
            base_url=gateway_url(httpserver, prefix + "/v1"),
        )
        run = run_check(capsys, routing)
        assert run.route("long")["verdict"] == "pass"
        error = run.error_path
        assert error["verdict"] == "inconclusive", (prefix, error)
        assert "max_tokens" in error["notes"] and "max_tokens" in error["hint"], error
        assert run.exit_code == 3, run.stdout


ANTHROPIC_LISTING = {  # GET /v1/models on Anthropic: dated IDs only, no aliases
    "data": [
        {"type": "model", "id": "claude-sonnet-4-5-20250929", "display_name": "Claude Sonnet 4.5"},
        {"type": "model", "id": "claude-3-5-sonnet-20241022", "display_name": "Claude Sonnet 3.5 (New)"},
        {"type": "model", "id": "claude-3-5-sonnet-20240620", "display_name": "Claude Sonnet 3.5 (Old)"},
    ],
    "has_more": False,
    "first_id": "claude-sonnet-4-5-20250929",
    "last_id": "claude-3-5-sonnet-20240620",
}


def test_models_only_finds_an_alias_by_the_snapshot_the_listing_carries(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anthropic lists dated IDs only: `claude-sonnet-4-5` and `claude-3-5-sonnet-latest` are listed by
    their snapshots, as the live check accepts them (was: not_listed, exit 1, on a healthy gateway)."""
    httpserver.expect_request(MODELS, method="GET").respond_with_json(ANTHROPIC_LISTING)
    routing = routing_file(
        tmp_path,
        {
            "review": "claude-sonnet-4-5",
            "latest": "claude-3-5-sonnet-latest",
            "strict": {"model": "claude-3-5-sonnet", "strict": True},
            "gone": "claude-3-opus",
        },
        base_url=gateway_url(httpserver),
        api="anthropic-messages",
    )
    run = run_check(capsys, routing, "--models-only")
    review, latest = run.route("review"), run.route("latest")
    assert review["verdict"] == "pass" and "claude-sonnet-4-5-20250929" in review["notes"], review
    assert latest["verdict"] == "pass" and "claude-3-5-sonnet-20241022" in latest["notes"], latest
    assert run.route("strict")["verdict"] == "not_listed"  # strict: only the exact ID
    assert run.route("gone")["verdict"] == "not_listed"
    assert "2 of 4 routed model ID(s) listed" in run.report["models_preflight"]
    assert run.exit_code == 1


def anthropic_pages(models: list[str]) -> Any:
    """GET /v1/models as Anthropic pages it: newest first, 20 per page unless `limit` (1 to 1000) says
    otherwise, continued by `after_id`; each page says `has_more`, `first_id` and `last_id`."""

    def handler(request: Request) -> Response:
        limit = min(max(int(request.args.get("limit", 20)), 1), 1000)
        after = request.args.get("after_id")
        start = models.index(after) + 1 if after else 0
        page = models[start : start + limit]
        doc = {
            "data": [{"type": "model", "id": m, "display_name": m} for m in page],
            "has_more": start + limit < len(models),
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }
        return json_response(doc)

    return handler


def test_models_only_reads_every_page_of_anthropics_listing(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anthropic's listing gives 20 models a page: a routed model on a later page was `not_listed`
    (exit 1 on a healthy gateway). The pages are followed by `after_id`, 1000 at a time."""
    models = [f"claude-model-{i:02d}-20250101" for i in range(45)]
    httpserver.expect_request(MODELS, method="GET").respond_with_handler(anthropic_pages(models))
    routing = routing_file(
        tmp_path,
        {"first": models[0], "last": models[-1], "gone": "claude-3-opus-20240229"},
        base_url=gateway_url(httpserver),
        api="anthropic-messages",
    )
    run = run_check(capsys, routing, "--models-only")
    assert run.route("first")["verdict"] == "pass"
    assert run.route("last")["verdict"] == "pass", run.route("last")
    assert run.route("gone")["verdict"] == "not_listed"
    gets = [request for request, _ in httpserver.log if request.path == MODELS]
    assert [dict(request.args) for request in gets] == [{}, {"after_id": models[19], "limit": "1000"}]
    assert all(request.headers["x-api-key"] == KEY for request in gets)
    assert run.exit_code == 1


@pytest.mark.parametrize(
    ("second_page", "says"),
    [
        (
            json_response({"data": [], "has_more": True, "last_id": "claude-a"}),
            "page 2 points back to an earlier page",
        ),
        (json_response({"error": {"type": "api_error", "message": "Overloaded"}}, 529), "page 2: HTTP 529"),
    ],
)
def test_a_listing_whose_later_page_loops_or_fails_is_not_used(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    second_page: Response,
    says: str,
) -> None:
    """A listing that cannot be read to its end could be missing the routed model: it is unusable
    (the verdict says why), never read as complete and never followed round in a loop."""
    first = {"data": [{"type": "model", "id": "claude-a"}], "has_more": True, "last_id": "claude-a"}
    httpserver.expect_ordered_request(MODELS, method="GET").respond_with_json(first)
    httpserver.expect_ordered_request(MODELS, method="GET").respond_with_response(second_page)
    routing = routing_file(
        tmp_path, {"review": "claude-b"}, base_url=gateway_url(httpserver), api="anthropic-messages"
    )
    run = run_check(capsys, routing, "--models-only", "--retries", "0")
    entry = run.route("review")
    # a page that is no listing is a bad answer (exit 1); a 5xx page, an outage (exit 3)
    assert (entry["verdict"], run.exit_code) == (("http_error", 3) if "529" in says else ("bad_response", 1))
    assert says in entry["notes"], entry
    assert len([request for request, _ in httpserver.log if request.path == MODELS]) == 2
    if "529" in says:
        assert entry["http_status"] == 529  # the failed page's status, not the first page's 200


def test_a_listing_that_cycles_or_gives_no_cursor_is_not_used(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pages A -> B -> A stop at the repeat (not after MAX_PAGES); `has_more` without a `last_id`
    is no complete listing either. The base URL's own query is sent as written on every page."""

    def cycling(request: Request) -> Response:
        after = request.args.get("after_id")
        nxt = {None: "claude-a", "claude-a": "claude-b", "claude-b": "claude-a"}[after]
        return json_response({"data": [{"type": "model", "id": nxt}], "has_more": True, "last_id": nxt})

    httpserver.expect_request(MODELS, method="GET").respond_with_handler(cycling)
    base = gateway_url(httpserver) + "?api-version=2024-10-21&flag"
    routing = routing_file(tmp_path, {"review": "claude-c"}, base_url=base, api="anthropic-messages")
    run = run_check(capsys, routing, "--models-only", "--retries", "0")
    assert "page 3 points back to an earlier page (after_id claude-a)" in run.route("review")["notes"]
    queries = [request.query_string.decode() for request, _ in httpserver.log]
    assert queries == [
        "api-version=2024-10-21&flag",
        "api-version=2024-10-21&flag&after_id=claude-a&limit=1000",
        "api-version=2024-10-21&flag&after_id=claude-b&limit=1000",
    ]

    httpserver.clear()
    no_cursor = {"data": [{"type": "model", "id": "claude-c"}], "has_more": True}
    httpserver.expect_request(MODELS, method="GET").respond_with_json(no_cursor)
    run = run_check(capsys, routing, "--models-only", "--retries", "0")
    assert run.route("review")["verdict"] == "bad_response"
    assert "gives no `last_id`" in run.route("review")["notes"]


def test_models_only_without_a_listing_endpoint_says_which_url(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 404 on GET /models named an empty path and base URL in its hint (was: "appended `` to
    gateway.base_url (``)... try `/v1`")."""
    httpserver.expect_request(MODELS, method="GET").respond_with_json({"detail": "Not Found"}, status=404)
    routing = routing_file(tmp_path, {"code": "gpt-4o"}, base_url=gateway_url(httpserver))
    run = run_check(capsys, routing, "--models-only")
    entry = run.route("code")
    assert entry["verdict"] == "http_error"
    assert "``" not in entry["hint"], entry["hint"]
    assert "`/models`" in entry["hint"] and gateway_url(httpserver) in entry["hint"], entry["hint"]
    assert "no model listing" in entry["hint"]


def test_an_anthropic_dash_zero_alias_is_served_by_its_snapshot(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anthropic's `claude-sonnet-4-0` alias answers as `claude-sonnet-4-20250514` (was: model_mismatch)."""
    not_found = {"type": "error", "error": {"type": "not_found_error", "message": f"model: {INVALID}"}}
    serve(
        httpserver,
        MESSAGES,
        {
            "claude-sonnet-4-0": anthropic_message("claude-sonnet-4-20250514"),
            "claude-opus-4-0": anthropic_message("claude-opus-4-1-20250805"),
        },
        default=json_response(not_found, 404),
    )
    routing = routing_file(
        tmp_path,
        {"review": "claude-sonnet-4-0", "heavy": "claude-opus-4-0"},
        base_url=gateway_url(httpserver),
        api="anthropic-messages",
    )
    run = run_check(capsys, routing)
    review = run.route("review")
    assert review["verdict"] == "pass", review
    assert "snapshot behind claude-sonnet-4-0" in review["notes"]
    assert run.route("heavy")["verdict"] == "model_mismatch"  # Opus 4.1 is not Opus 4
    assert run.exit_code == 1


def test_an_echo_with_a_provider_prefix_is_still_an_echo(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A proxy in front of an echoing server prefixes the provider (`openai/<asked ID>`): gpt-4o
    passed as its "provider-prefixed form" and the error path named `openai/<invalid ID>` as the model
    that answered (was: route pass on a server that has only SmolLM2 loaded)."""

    def echo(request: Request) -> Response:
        return json_response(chat_completion("openai/" + request.get_json()["model"]))

    httpserver.expect_request(CHAT, method="POST").respond_with_handler(echo)
    httpserver.expect_request(MODELS, method="GET").respond_with_json(SMOLLM_LISTING)
    routing = routing_file(
        tmp_path, {"code-generation": "gpt-4o", "local": "smollm2"}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing)
    assert run.exit_code == 1
    gpt4o = run.route("code-generation")
    assert gpt4o["verdict"] == "model_mismatch" and gpt4o["notes"].startswith("echoed, not listed"), gpt4o
    local = run.route("local")
    assert local["verdict"] == "pass" and "identity rests on the listing" in local["notes"], local
    error = run.error_path
    assert error["verdict"] == "silent_fallback" and "echoed the ID" in error["notes"], error
    assert f"answered by openai/{INVALID}" not in error["notes"]


@pytest.mark.parametrize(
    ("wire", "verdict_was"),
    [
        (
            lambda events: events.replace("\n", "\r"),
            "bad_response: cut short",
        ),  # CR line ends (SSE allows them)
        (lambda events: "\ufeff" + events, "empty_response: the first chunk's text was lost"),  # a BOM first
        (lambda events: events.replace("\n", "\r\n"), "pass"),  # CRLF, already read
    ],
    ids=["cr", "bom", "crlf"],
)
def test_a_stream_is_read_with_every_line_end_and_a_bom_the_sse_format_allows(
    httpserver: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    wire: Any,
    verdict_was: str,
) -> None:
    text = sse(
        [chat_chunk("gpt-4o-2024-08-06", "pong"), chat_chunk("gpt-4o-2024-08-06", finish_reason="stop")]
    )
    answer = Response(wire(text).encode("utf-8"), content_type="text/event-stream; charset=utf-8")
    serve(httpserver, CHAT, {"gpt-4o": answer, INVALID: json_response(OPENAI_404, 404)})
    routing = routing_file(
        tmp_path, {"code-generation": {"model": "gpt-4o", "stream": True}}, base_url=gateway_url(httpserver)
    )
    run = run_check(capsys, routing)
    entry = run.route("code-generation")
    assert (entry["verdict"], entry["notes"]) == ("pass", "accepted: dated snapshot of gpt-4o"), verdict_was
    assert run.exit_code == 0


def test_a_claude_route_served_by_its_bedrock_id_is_quiet_and_its_pin_holds(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LiteLLM in front of Bedrock names the deployment `bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0`:
    that is Claude Sonnet 4.5 (was: a warning "another model answered", whose suggested pin
    `served: ["claude-sonnet-4-5*"]` then failed the healthy route as model_mismatch)."""
    bedrock = {"x-litellm-model-name": "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"}
    haiku = {"x-litellm-model-name": "bedrock/anthropic.claude-3-5-haiku-20241022-v1:0"}
    serve(
        httpserver,
        CHAT,
        {
            "claude-sonnet-4-5": json_response(chat_completion("claude-sonnet-4-5"), headers=bedrock),
            "claude-sonnet-4-5-pinned": json_response(
                chat_completion("claude-sonnet-4-5-pinned"), headers=bedrock
            ),
            "claude-opus-4-1": json_response(chat_completion("claude-opus-4-1"), headers=haiku),
        },
        default=json_response(OPENAI_404, 404),
    )
    routing = routing_file(
        tmp_path,
        {
            "review": "claude-sonnet-4-5",
            "pinned": {"model": "claude-sonnet-4-5-pinned", "served": ["claude-sonnet-4-5*"]},
            "heavy": "claude-opus-4-1",
        },
        base_url=gateway_url(httpserver),
    )
    run = run_check(capsys, routing)
    review, pinned, heavy = run.route("review"), run.route("pinned"), run.route("heavy")
    assert (review["verdict"], review["warnings"]) == ("pass", []), review
    assert pinned["verdict"] == "pass", pinned
    assert heavy["verdict"] == "pass" and "claude-3-5-haiku" in heavy["warnings"][0], heavy  # still said
    assert run.exit_code == 0, run.stdout
