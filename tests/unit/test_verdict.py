"""Model matching rules, header signals and the verdicts built on them."""

from __future__ import annotations

import pytest

from routing_guard.protocols import Reply
from routing_guard.verdict import (
    Served,
    is_auth_failure,
    judge_error_path,
    judge_http_failure,
    judge_reply,
    match_model,
    matches_served,
    read_served,
)


@pytest.mark.parametrize(
    ("requested", "returned", "rule"),
    [
        ("gpt-4o", "gpt-4o", "exact match"),
        ("gpt-4o", "gpt-4o-2024-08-06", "dated snapshot of gpt-4o"),
        ("gpt-4", "gpt-4-0613", "dated snapshot of gpt-4"),
        ("gpt-4.1", "gpt-4.1-2025-04-14", "dated snapshot of gpt-4.1"),
        ("claude-3-5-sonnet", "claude-3-5-sonnet-20241022", "dated snapshot of claude-3-5-sonnet"),
        ("claude-3-5-sonnet-v2", "claude-3-5-sonnet-v2@20241022", "dated snapshot of claude-3-5-sonnet-v2"),
        (
            "claude-3-5-sonnet-latest",
            "claude-3-5-sonnet-20241022",
            "snapshot behind claude-3-5-sonnet-latest",
        ),
        ("openai/gpt-4o", "gpt-4o", "provider-prefixed form of openai/gpt-4o"),
        ("gpt-4o", "openai/gpt-4o", "provider-prefixed form of gpt-4o"),
        ("openai/gpt-4o", "gpt-4o-2024-08-06", "dated snapshot of openai/gpt-4o (provider-prefixed)"),
        ("gemini-2.0-flash", "gemini-2.0-flash-001", "dated snapshot of gemini-2.0-flash"),
        ("claude-sonnet-4-0", "claude-sonnet-4-20250514", "snapshot behind claude-sonnet-4-0"),
        ("claude-opus-4-0", "claude-opus-4@20250514", "snapshot behind claude-opus-4-0"),
    ],
)
def test_accepted_forms_name_their_rule(requested: str, returned: str, rule: str) -> None:
    assert match_model(requested, returned, strict=False) == rule


@pytest.mark.parametrize(
    ("requested", "returned"),
    [
        ("gpt-4o", "gpt-4o-mini"),
        ("gpt-4o", "gpt-4o-mini-2024-07-18"),
        ("gpt-4o-mini", "gpt-4o-2024-08-06"),
        ("gpt-4", "gpt-4-turbo"),
        ("gpt-4o", "gpt-4o-2024"),  # not a date
        ("openai/gpt-4o", "azure/gpt-4o"),  # two different upstreams
        ("claude-sonnet-4-5", "claude-opus-4-1-20250805"),
        ("coder-heavy", "anthropic/claude-opus-4-20250514"),
        ("gpt-4o", ""),
        ("claude-opus-4-0", "claude-opus-4-1-20250805"),  # Opus 4.1 is not behind the Opus 4 alias
        ("claude-sonnet-4-0", "claude-sonnet-4-0613"),  # an -0 alias stands for a full date only
    ],
)
def test_other_models_do_not_match(requested: str, returned: str) -> None:
    assert match_model(requested, returned, strict=False) is None


def test_strict_accepts_only_the_exact_echo() -> None:
    assert match_model("gpt-4o", "gpt-4o", strict=True) == "exact match"
    assert match_model("gpt-4o", "gpt-4o-2024-08-06", strict=True) is None
    assert match_model("gpt-4o", "gpt-4o-2024-08-06", strict=True, accept=("gpt-4o-*",)) is None


def test_accept_takes_exact_ids_and_globs() -> None:
    assert match_model("coder", "qwen3-coder", strict=False, accept=("qwen3-coder",)) == "listed in accept"
    assert (
        match_model("coder", "qwen3-coder-480b", strict=False, accept=("qwen3-*",))
        == "accept pattern qwen3-*"
    )
    assert match_model("coder", "llama-3", strict=False, accept=("qwen3-*",)) is None


def test_served_pins_match_full_ids_or_the_part_after_the_prefix() -> None:
    assert matches_served("anthropic/claude-opus-4-20250514", ("anthropic/claude-opus-4-*",))
    assert matches_served("anthropic/claude-opus-4-20250514", ("claude-opus-4-*",))
    assert not matches_served("openai/gpt-4o-mini", ("anthropic/claude-opus-4-*",))


@pytest.mark.parametrize(
    ("headers", "fallback"),
    [
        ({"x-litellm-attempted-fallbacks": "1"}, "x-litellm-attempted-fallbacks: 1"),
        ({"x-litellm-attempted-fallbacks": "0"}, None),
        # Portkey's option index without the config inline: no verdict (see the Portkey tests below)
        ({"x-portkey-last-used-option-index": "config.targets[1]"}, None),
        ({"x-portkey-last-used-option-index": "config.targets[0]"}, None),
        ({"cf-aig-step": "2"}, "cf-aig-step: 2"),
        ({"cf-aig-step": "0"}, None),
        ({"cf-aig-step": "garbage"}, None),
        ({}, None),
    ],
)
def test_fallback_headers(headers: dict[str, str], fallback: str | None) -> None:
    assert read_served(headers).fallback == fallback


def test_served_model_header_and_provider_field() -> None:
    served = read_served({"x-ms-served-model": "gpt-4o-2024-11-20"}, Reply(provider="OpenAI"))
    assert (served.model, served.header, served.provider) == (
        "gpt-4o-2024-11-20",
        "x-ms-served-model",
        "OpenAI",
    )


def _judge(reply: Reply, served: Served | None = None, **kw: object) -> str:
    args: dict[str, object] = {
        "requested": "gpt-4o",
        "reply": reply,
        "served": served or Served(),
        "strict": False,
        "accept": (),
        "served_pins": (),
        "budget": 16,
    }
    args.update(kw)
    return judge_reply(**args).verdict  # type: ignore[arg-type]


def test_reply_verdicts() -> None:
    good = Reply(model="gpt-4o-2024-08-06", choices=1, has_text=True)
    assert _judge(good) == "pass"
    assert _judge(Reply(model="gpt-4o-mini", choices=1, has_text=True)) == "model_mismatch"
    assert _judge(good, Served(fallback="x-litellm-attempted-fallbacks: 1")) == "fallback_detected"
    assert _judge(Reply(model="gpt-4o", choices=0)) == "empty_response"
    assert _judge(Reply(model="gpt-4o", choices=1, has_text=False, tool_calls=True)) == "empty_response"
    assert _judge(Reply(model=None, choices=1, has_text=True)) == "bad_response"
    assert _judge(Reply(body_error="upstream died", choices=0)) == "bad_response"
    assert _judge(Reply(unreadable="not JSON")) == "bad_response"
    cut = Reply(model="gpt-4o", choices=1, has_text=True, cut_short="it ended without `data: [DONE]`")
    assert _judge(cut) == "bad_response"


def test_budget_exhaustion_says_how_to_fix_it() -> None:
    judged = judge_reply(
        requested="o3",
        reply=Reply(model="o3-2025-04-16", choices=1, has_text=False, finish_reason="length"),
        served=Served(),
        strict=False,
        accept=(),
        served_pins=(),
        budget=16,
    )
    assert judged.verdict == "empty_response"
    assert "16 tokens" in judged.notes and "max_completion_tokens" in judged.hint


def test_served_pin_fails_a_re_pointed_alias_only_where_pinned() -> None:
    reply = Reply(model="coder-heavy", choices=1, has_text=True)
    served = Served(model="openai/gpt-4o-mini", header="x-litellm-model-name")
    assert _judge(reply, served, requested="coder-heavy") == "pass"
    assert (
        _judge(reply, served, requested="coder-heavy", served_pins=("anthropic/claude-opus-4-*",))
        == "model_mismatch"
    )
    good = Served(model="anthropic/claude-opus-4-20250514", header="x-litellm-model-name")
    assert _judge(reply, good, requested="coder-heavy", served_pins=("anthropic/claude-opus-4-*",)) == "pass"


@pytest.mark.parametrize(
    ("status", "doc", "verdict"),
    [
        (404, {"error": {"message": "The model `x` does not exist", "code": "model_not_found"}}, "pass"),
        (400, {"error": {"message": "Invalid model name passed in model=x", "code": "400"}}, "pass"),
        (400, {"error": {"message": "No connected db.", "type": "no_db_connection"}}, "auth_error"),
        (401, {"error": {"message": "Incorrect API key provided"}}, "auth_error"),
        (403, None, "auth_error"),
        (429, None, "rate_limited"),
        (500, None, "http_error"),
        (503, None, "http_error"),
        (307, None, "http_error"),
    ],
)
def test_error_path_statuses(status: int, doc: object, verdict: str) -> None:
    assert judge_error_path(status, doc, "", None, Served(), model="x").verdict == verdict


def test_error_path_200_is_a_silent_fallback_naming_what_answered() -> None:
    judged = judge_error_path(
        200,
        {},
        "",
        Reply(model="routing-guard-invalid-model-id", choices=1, has_text=True),
        Served(model="openai/gpt-4o-mini", header="x-litellm-model-name"),
        model="routing-guard-invalid-model-id",
    )
    assert judged.verdict == "silent_fallback"
    assert "openai/gpt-4o-mini" in judged.notes and "x-litellm-model-name" in judged.notes
    assert "echoed the ID" in judged.notes and judged.echoed


def test_auth_is_classified_by_body_as_well_as_status() -> None:
    assert is_auth_failure(400, {"error": {"message": "No connected db.", "type": "no_db_connection"}}, "")
    assert is_auth_failure(400, {"error": {"message": "API key not valid. Please pass a valid API key."}}, "")
    assert not is_auth_failure(
        404, {"error": {"message": "The model `x` does not exist or you do not have access"}}, ""
    )
    assert not is_auth_failure(200, None, "")


def test_http_failures_name_the_problem() -> None:
    unknown = {"error": {"message": "The model `gpt-9` does not exist", "code": "model_not_found"}}
    assert judge_http_failure(404, unknown, "", model="gpt-9").verdict == "http_error"
    assert "gpt-9" in judge_http_failure(404, unknown, "", model="gpt-9").hint
    redirect = judge_http_failure(301, None, "", model="m", location="evil.example")
    assert redirect.verdict == "http_error" and "evil.example" in redirect.notes
    assert judge_http_failure(408, None, "", model="m").verdict == "timeout"


def test_endpoint_keeps_a_query_string() -> None:
    from routing_guard.check import endpoint, gateway_host

    assert (
        endpoint("https://gw.example.com/v1", "/chat/completions")
        == "https://gw.example.com/v1/chat/completions"
    )
    assert (
        endpoint("https://r.openai.azure.com/openai/v1?api-version=preview", "/responses")
        == "https://r.openai.azure.com/openai/v1/responses?api-version=preview"
    )
    assert gateway_host("http://127.0.0.1:4000/v1") == "127.0.0.1:4000"
    assert gateway_host("https://gw.example.com/v1") == "gw.example.com"


def test_a_litellm_fallback_names_the_model_group_that_answered() -> None:
    headers = {"x-litellm-attempted-fallbacks": "1", "x-litellm-model-group": "gpt-4o-backup"}
    assert read_served(headers).fallback == "x-litellm-attempted-fallbacks: 1, model group gpt-4o-backup"


def test_portkey_own_answers_are_named() -> None:
    """GATEWAYS.md "Portkey, run live": its own 400 (no x-portkey-* headers), its gateway exception."""
    own = {"status": "failure", "message": "Invalid config passed"}
    refused = judge_http_failure(400, own, "", model="gpt-4o", headers={"content-type": "application/json"})
    assert "Portkey refused the request" in refused.notes and "configuration" in refused.hint
    relayed = judge_http_failure(400, own, "", model="gpt-4o", headers={"x-portkey-provider": "openai"})
    assert "Portkey" not in relayed.notes  # an answer from a provider carries x-portkey-* headers
    crashed = judge_http_failure(
        500, None, "Something went wrong", model="gpt-4o", headers={"x-portkey-gateway-exception": "true"}
    )
    assert "Portkey gateway exception" in crashed.notes


@pytest.mark.parametrize(
    ("requested", "served", "warned"),
    [
        ("claude-sonnet-4-5", "openai/gpt-4o-mini", "another model family"),  # LiteLLM's catch-all
        ("gpt-4o", "openai/gpt-4o-mini", "another model answered"),  # a re-pointed alias of that name
        ("gpt-4o", "openai/gpt-4o-2024-08-06", None),  # a dated snapshot of it
        ("claude-3-5-sonnet-latest", "anthropic/claude-3-5-sonnet-20241022", None),  # its snapshot
        ("coder-heavy", "anthropic/claude-opus-4-20250514", None),  # an alias served by its upstream
        ("smollm2", "gpt-4o", None),  # no family: an alias
    ],
)
def test_served_by_another_model_warns_only_for_real_model_ids(
    requested: str, served: str, warned: str | None
) -> None:
    reply = Reply(model=requested, choices=1, has_text=True)
    judged = judge_reply(
        requested=requested,
        reply=reply,
        served=Served(model=served, header="x-litellm-model-name"),
        strict=False,
        accept=(),
        served_pins=(),
        budget=16,
    )
    assert judged.verdict == "pass"
    if warned is None:
        assert judged.warnings == []
    else:
        [warning] = judged.warnings
        assert warned in warning and f"served by {served}" in warning and "served:" in warning
    pinned = judge_reply(
        requested=requested,
        reply=reply,
        served=Served(model=served, header="x-litellm-model-name"),
        strict=False,
        accept=(),
        served_pins=(served,),
        budget=16,
    )
    assert pinned.warnings == []  # a pin that covers it says the user knows


def test_family_reads_the_name_after_any_prefix() -> None:
    from routing_guard.verdict import family

    assert family("gpt-4o") == family("openai/o3-mini") == "openai"
    assert family("us.anthropic.claude-3-5-sonnet") == family("claude-sonnet-4-5") == "anthropic"
    assert family("meta-llama/Llama-3.1-8B") == "meta"
    assert family("coder-heavy") is None and family("phind-coder") is None
