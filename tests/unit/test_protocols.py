"""Request bodies and response readers of the three protocols, on recorded shapes (docs/gateways.md)."""

from __future__ import annotations

import json

from routing_guard.protocols import (
    PROTOCOLS,
    SSEEvent,
    SSEParser,
    auth_headers,
    error_kind,
    error_message,
    output_budget,
)

CHAT = PROTOCOLS["openai-chat"]
RESPONSES = PROTOCOLS["openai-responses"]
MESSAGES = PROTOCOLS["anthropic-messages"]


def sse(*events: tuple[str, object]) -> list:  # type: ignore[type-arg]
    text = "".join(
        (f"event: {name}\n" if name else "")
        + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
        for name, data in events
    )
    parser = SSEParser()
    # feed in awkward pieces, as a network would deliver them
    out = [e for i in range(0, len(text), 7) for e in parser.feed(text[i : i + 7])]
    return out + parser.close()


def test_bodies_are_minimal_with_a_budget_every_model_accepts() -> None:
    assert CHAT.body("gpt-4o", {}, False) == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "ping"}],
        "max_tokens": 16,
    }
    assert RESPONSES.body("gpt-4.1", {}, True) == {
        "model": "gpt-4.1",
        "input": "ping",
        "max_output_tokens": 16,
        "stream": True,
    }
    assert MESSAGES.body("claude-sonnet-4-5", {}, False)["max_tokens"] == 16


def test_route_request_fields_replace_the_budget_but_never_the_model() -> None:
    body = CHAT.body("o3", {"max_completion_tokens": 256, "model": "other", "reasoning_effort": "low"}, False)
    assert body["model"] == "o3" and "max_tokens" not in body
    assert body["max_completion_tokens"] == 256 and body["reasoning_effort"] == "low"
    assert output_budget(body) == 256


def test_auth_headers() -> None:
    assert auth_headers("bearer", "k") == {"Authorization": "Bearer k"}
    assert auth_headers("x-api-key", "k") == {"x-api-key": "k"}
    assert auth_headers("api-key", "k") == {"api-key": "k"}
    assert auth_headers("none", "k") == {}
    assert MESSAGES.extra_headers() == {"anthropic-version": "2023-06-01"}


def test_chat_reply() -> None:
    reply = CHAT.parse(
        {
            "model": "gpt-4o-2024-08-06",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}
            ],
        }
    )
    assert (reply.model, reply.choices, reply.has_text, reply.finish_reason) == (
        "gpt-4o-2024-08-06",
        1,
        True,
        "stop",
    )


def test_chat_reply_oddities() -> None:
    assert CHAT.parse({"model": "m", "choices": []}).choices == 0
    tool = CHAT.parse(
        {"model": "m", "choices": [{"message": {"content": None, "tool_calls": [{"id": "t"}]}}]}
    )
    assert tool.tool_calls and not tool.has_text
    assert CHAT.parse({"model": 42, "choices": [{"message": {"content": "x"}}]}).model is None
    assert CHAT.parse([{"error": {"code": 404, "message": "models/x is not found"}}]).body_error is not None
    assert CHAT.parse("just a string").unreadable
    in_body = CHAT.parse(
        {"id": "gen-1", "provider": "Stealth", "choices": [], "error": {"code": 502, "message": "x"}}
    )
    assert in_body.body_error == "x" and in_body.provider == "Stealth"


def test_chat_stream() -> None:
    events = sse(
        (
            "",
            {
                "model": "gpt-4o-mini",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
            },
        ),
        ("", {"model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": "po"}}]}),
        ("", {"model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        ("", "[DONE]"),
    )
    reply = CHAT.parse_stream(events)
    assert (reply.model, reply.has_text, reply.cut_short, reply.choices) == ("gpt-4o-mini", True, None, 1)
    assert reply.models == ("gpt-4o-mini",)
    assert CHAT.is_terminal(events[-1])


def test_chat_stream_names_every_model_its_chunks_name() -> None:
    """The issue's stream: the first chunk names gpt-4o, the text chunks gpt-3.5-turbo."""
    reply = CHAT.parse_stream(
        sse(
            ("", {"model": "gpt-4o", "choices": [{"index": 0, "delta": {"role": "assistant"}}]}),
            ("", {"model": "gpt-3.5-turbo", "choices": [{"index": 0, "delta": {"content": "po"}}]}),
            ("", {"model": "gpt-3.5-turbo", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            ("", "[DONE]"),
        )
    )
    assert (reply.model, reply.models) == ("gpt-4o", ("gpt-4o", "gpt-3.5-turbo"))


def test_chat_stream_cut_off_or_erroring_mid_way() -> None:
    text = ("", {"model": "m", "choices": [{"index": 0, "delta": {"content": "p"}}]})
    assert CHAT.parse_stream(sse(text)).cut_short == "it ended without `data: [DONE]`"
    # llama.cpp's server ends an interrupted stream with [DONE] and no finish_reason (docs/gateways.md)
    interrupted = CHAT.parse_stream(sse(text, ("", "[DONE]")))
    assert interrupted.cut_short is not None and "finish_reason" in interrupted.cut_short
    assert CHAT.stream_cut(sse(text, ("", "[DONE]"))) == interrupted.cut_short
    failed = CHAT.parse_stream(
        sse(
            ("", {"model": "m", "choices": [{"index": 0, "delta": {"content": "p"}}]}),
            ("", {"choices": [], "error": {"code": 502, "message": "provider died"}}),
            ("", "[DONE]"),
        )
    )
    assert failed.body_error == "provider died"
    assert failed.cut_short is None  # an error in the stream is judged as such, not retried


def test_sse_comments_and_crlf() -> None:
    parser = SSEParser()
    events = parser.feed(': OPENROUTER PROCESSING\r\n\r\ndata: {"a": 1}\r\n\r\n')
    assert [e.data for e in events] == ['{"a": 1}']


def test_responses_reply_and_incomplete() -> None:
    doc = {
        "object": "response",
        "model": "gpt-4.1-2025-04-14",
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "pong"}]}],
    }
    reply = RESPONSES.parse(doc)
    assert (reply.model, reply.choices, reply.has_text) == ("gpt-4.1-2025-04-14", 1, True)
    reasoning = RESPONSES.parse(
        {
            "model": "o3",
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
            "output": [{"type": "reasoning", "summary": []}],
        }
    )
    assert reasoning.finish_reason == "length" and not reasoning.has_text


def test_responses_stream() -> None:
    created = {"type": "response.created", "response": {"model": "gpt-4.1-2025-04-14", "output": []}}
    done = {
        "type": "response.completed",
        "response": {
            "model": "gpt-4.1-2025-04-14",
            "status": "completed",
            "output": [{"type": "message", "content": [{"type": "output_text", "text": "pong"}]}],
        },
    }
    events = sse(
        ("response.created", created),
        ("response.output_text.delta", {"type": "response.output_text.delta", "delta": "po"}),
        ("response.completed", done),
    )
    reply = RESPONSES.parse_stream(events)
    assert (reply.model, reply.has_text, reply.cut_short, reply.choices) == (
        "gpt-4.1-2025-04-14",
        True,
        None,
        1,
    )
    assert RESPONSES.stream_cut(events[:-1]) == "it ended without `response.completed`"
    failed = RESPONSES.parse_stream(
        sse(("response.created", created), ("error", {"type": "error", "message": "boom"}))
    )
    assert failed.body_error == "boom"


def test_messages_reply_and_stream() -> None:
    doc = {
        "type": "message",
        "model": "claude-3-5-sonnet-20241022",
        "content": [{"type": "text", "text": "pong"}],
        "stop_reason": "end_turn",
    }
    assert MESSAGES.parse(doc).has_text
    assert MESSAGES.parse({**doc, "content": [], "stop_reason": "max_tokens"}).finish_reason == "length"
    events = sse(
        (
            "message_start",
            {"type": "message_start", "message": {"model": "claude-3-5-sonnet-20241022", "content": []}},
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "p"}},
        ),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
        ("message_stop", {"type": "message_stop"}),
    )
    reply = MESSAGES.parse_stream(events)
    assert (reply.model, reply.has_text, reply.cut_short, reply.choices) == (
        "claude-3-5-sonnet-20241022",
        True,
        None,
        1,
    )
    assert MESSAGES.stream_cut(events[:-1]) == "it ended without `message_stop`"
    overloaded = MESSAGES.parse_stream(
        sse(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
    )
    assert overloaded.body_error == "Overloaded"


def test_error_shapes_of_real_gateways() -> None:
    anthropic = {"type": "error", "error": {"type": "not_found_error", "message": "model: x"}}
    assert error_message(anthropic) == "model: x" and "not_found_error" in error_kind(anthropic)
    mistral = {"object": "error", "message": "Invalid model: API", "type": "invalid_model", "code": "1500"}
    assert error_message(mistral) == "Invalid model: API" and "invalid_model" in error_kind(mistral)
    cloudflare = {
        "success": False,
        "error": [{"code": 2008, "message": "Invalid provider"}],
        "name": "AiGatewayError",
    }
    assert error_message(cloudflare) == "Invalid provider"
    gemini = [{"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}]
    assert error_message(gemini) == "models/x is not found" and "not_found" in error_kind(gemini)
    assert error_message({"detail": "Unauthorized"}) is None
    assert error_message(None) is None


def test_sse_line_ends_cr_crlf_lf_and_a_bom_even_split_between_pieces() -> None:
    expected = [SSEEvent("message", "a"), SSEEvent("x", "b\nc")]
    for text in (
        "data: a\n\nevent: x\ndata: b\ndata: c\n\n",
        "\ufeffdata: a\r\revent: x\rdata: b\rdata: c\r\r",
    ):
        for wire in (text, text.replace("\n", "\r\n")):
            for size in (1, 2, 3, len(wire)):
                parser = SSEParser()
                got = [e for i in range(0, len(wire), size) for e in parser.feed(wire[i : i + size])]
                assert got + parser.close() == expected, (wire, size)
