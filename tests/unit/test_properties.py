"""Property-based tests: the pure parts of the engine hold their promises on any input."""

from __future__ import annotations

import json
import re
import string
import unicodedata
from typing import Any, get_args

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from routing_guard.escape import markdown_cell, neutralise_line, terminal_text
from routing_guard.probe import _retry_after
from routing_guard.protocols import PROTOCOLS, Reply, SSEEvent, SSEParser
from routing_guard.redact import MIN_RUN, Redactor
from routing_guard.results import Verdict
from routing_guard.verdict import (
    Served,
    judge_error_path,
    judge_http_failure,
    judge_reply,
    match_model,
    read_served,
)

VERDICTS = set(get_args(Verdict))
# The contract's list, spelled out: the Literal must not drift from it.
CONTRACT_VERDICTS = {
    "pass", "model_mismatch", "fallback_detected", "silent_fallback", "empty_response", "bad_response",
    "http_error", "auth_error", "rate_limited", "unreachable", "timeout", "context_too_small",
    "not_listed", "drifted", "inconclusive", "skipped",
}  # fmt: skip

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ----------------------------------------------------------------------------------

MODEL_CHARS = string.ascii_letters + string.digits + "-._/@:*?[]!"
model_ids = st.one_of(
    st.text(MODEL_CHARS, max_size=30),
    st.sampled_from(
        ["gpt-4o", "gpt-4o-2024-08-06", "openai/gpt-4o", "gpt-4-0613", "claude-3-5-sonnet-latest",
         "claude-3-5-sonnet-20241022", "claude-3-5-sonnet@20241022", "azure/gpt-4o", "", "/", "-latest"]
    ),
    st.text(max_size=20),
)  # fmt: skip

# JSON the way gateways shape it: the keys the readers look for, nested, with any values.
KEYS = [
    "model", "choices", "message", "content", "error", "type", "code", "status", "output", "text",
    "delta", "index", "finish_reason", "tool_calls", "provider", "response", "content_block",
    "stop_reason", "incomplete_details", "reason", "object", "message_start", "param",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["text", "output_text", "message", "error", "function_call", "tool_use", "failed",
                     "incomplete", "max_output_tokens", "max_tokens", "length", "stop", "response.completed",
                     "message_stop", "content_block_start", "content_block_delta", "message_delta"]),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=20,
)

SSE_NAMES = ["message", "error", "response.completed", "response.output_text.delta", "response.failed",
             "response.incomplete", "message_start", "content_block_start", "content_block_delta",
             "message_delta", "message_stop", ""]  # fmt: skip


def _encode(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


sse_data = st.one_of(json_values.map(_encode), st.just("[DONE]"), st.text(max_size=30))
sse_events = st.lists(
    st.builds(SSEEvent, event=st.one_of(st.sampled_from(SSE_NAMES), st.text(max_size=8)), data=sse_data),
    max_size=8,
)

optional_text = st.none() | st.text(max_size=20)
replies = st.builds(
    Reply,
    model=optional_text | model_ids,
    choices=st.integers(min_value=0, max_value=4),
    has_text=st.booleans(),
    finish_reason=st.none() | st.sampled_from(["stop", "length", "tool_calls"]) | st.text(max_size=8),
    body_error=optional_text,
    provider=optional_text,
    tool_calls=st.booleans(),
    models=st.lists(model_ids, max_size=3).map(tuple),
    cut_short=optional_text,
    unreadable=optional_text,
)
served = st.builds(Served, model=optional_text | model_ids, header=optional_text, fallback=optional_text,
                   provider=optional_text)  # fmt: skip
statuses = st.integers(min_value=100, max_value=599) | st.sampled_from(
    [200, 301, 400, 401, 403, 404, 408, 429, 500]
)
patterns = st.lists(model_ids, max_size=3).map(tuple)

# --- matching ----------------------------------------------------------------------------------


@FAST
@given(requested=model_ids, returned=model_ids, strict=st.booleans(), accept=patterns)
def test_match_model_never_raises_and_strict_means_exact(
    requested: str, returned: str, strict: bool, accept: tuple[str, ...]
) -> None:
    rule = match_model(requested, returned, strict=strict, accept=accept)
    assert rule is None or (isinstance(rule, str) and rule)
    if strict and rule is not None:
        assert requested == returned and rule == "exact match"
    if rule is not None and not strict:
        assert match_model(requested, returned, strict=False, accept=accept) == rule  # deterministic


@FAST
@given(model=model_ids, strict=st.booleans(), accept=patterns)
def test_match_model_is_reflexive(model: str, strict: bool, accept: tuple[str, ...]) -> None:
    assert match_model(model, model, strict=strict, accept=accept) == "exact match"


@FAST
@given(requested=model_ids, returned=model_ids, accept=patterns)
def test_strict_accepts_a_subset_of_lenient(requested: str, returned: str, accept: tuple[str, ...]) -> None:
    if match_model(requested, returned, strict=True, accept=accept) is not None:
        assert match_model(requested, returned, strict=False, accept=accept) is not None


# --- protocol readers --------------------------------------------------------------------------


@FAST
@given(doc=json_values)
@example({"output": [{"type": "message", "content": True}]})  # once crashed the Responses reader
@example({"choices": [None, 1, {"message": True}], "content": 5, "output": "x"})
def test_parse_any_json_returns_a_reply(doc: Any) -> None:
    for protocol in PROTOCOLS.values():
        reply = protocol.parse(doc)
        assert isinstance(reply, Reply)
        assert isinstance(reply.choices, int) and reply.choices >= 0
        assert reply.model is None or isinstance(reply.model, str)


@FAST
@given(events=sse_events)
@example([SSEEvent("message", '{"choices": true}')])  # once crashed the chat stream reader
@example(
    [
        SSEEvent(
            "response.completed", '{"type": "response.completed", "response": {"output": [{"content": 1}]}}'
        )
    ]
)
def test_parse_stream_any_events_returns_a_reply(events: list[SSEEvent]) -> None:
    for protocol in PROTOCOLS.values():
        reply = protocol.parse_stream(events)
        assert isinstance(reply, Reply)
        assert isinstance(reply.choices, int) and reply.choices >= 0
        assert reply.model is None or isinstance(reply.model, str)
        for event in events:
            assert isinstance(protocol.is_terminal(event), bool)


@FEWER
@given(text=st.text(max_size=200), cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_sse_parser_never_raises_and_chunking_does_not_matter(text: str, cuts: list[int]) -> None:
    whole = SSEParser()
    expected = whole.feed(text) + whole.close()
    pieces, last = [], 0
    for cut in sorted(set(cuts)):
        pieces.append(text[last:cut])
        last = cut
    pieces.append(text[last:])
    chunked = SSEParser()
    got = [event for piece in pieces for event in chunked.feed(piece)] + chunked.close()
    assert got == expected


# --- verdicts ----------------------------------------------------------------------------------


def test_the_verdict_literal_is_the_contracts_list() -> None:
    assert VERDICTS == CONTRACT_VERDICTS


@FAST
@given(
    requested=model_ids,
    reply=replies,
    served=served,
    strict=st.booleans(),
    accept=patterns,
    pins=patterns,
    budget=st.integers(min_value=0, max_value=10**6),
)
def test_judge_reply_gives_a_contract_verdict(
    requested: str,
    reply: Reply,
    served: Served,
    strict: bool,
    accept: tuple[str, ...],
    pins: tuple[str, ...],
    budget: int,
) -> None:
    judged = judge_reply(
        requested=requested, reply=reply, served=served, strict=strict, accept=accept, served_pins=pins,
        budget=budget,
    )  # fmt: skip
    assert judged.verdict in CONTRACT_VERDICTS
    if judged.verdict == "pass":
        assert reply.has_text and reply.choices > 0 and reply.model is not None and served.fallback is None
    else:
        assert judged.hint


@FAST
@given(
    status=statuses,
    doc=json_values,
    text=st.text(max_size=50),
    model=model_ids,
    location=st.text(max_size=20),
)
def test_judge_http_failure_gives_a_contract_verdict(
    status: int, doc: Any, text: str, model: str, location: str
) -> None:
    judged = judge_http_failure(status, doc, text, model=model, location=location)
    assert judged.verdict in CONTRACT_VERDICTS - {"pass"}
    assert judged.hint and judged.notes
    if status in (401, 403):
        assert judged.verdict == "auth_error"


@FAST
@given(
    status=statuses,
    doc=json_values,
    text=st.text(max_size=50),
    reply=st.none() | replies,
    served=served,
    served_routes=st.lists(st.sampled_from(["a", "b"]), max_size=2),
)
def test_judge_error_path_gives_a_contract_verdict(
    status: int, doc: Any, text: str, reply: Reply | None, served: Served, served_routes: list[str]
) -> None:
    judged = judge_error_path(status, doc, text, reply, served, model="bogus-id", served_routes=served_routes)
    assert judged.verdict in CONTRACT_VERDICTS
    if judged.verdict == "pass":
        assert 400 <= status < 500 and status not in (401, 403, 408, 429)
        # evidence that the refusal is about the model: a served route, or the answer names the ID
        assert served_routes or "bogus-id" in f"{text} {doc}".lower()
    if judged.verdict == "inconclusive":
        assert judged.hint.startswith("No verdict on the error path")
    if status == 200:
        assert judged.verdict in ("silent_fallback", "bad_response")


@FAST
@given(
    headers=st.dictionaries(
        st.sampled_from(["x-litellm-model-name", "x-litellm-attempted-fallbacks", "x-portkey-last-used-option-index",
                         "cf-aig-step", "x-ms-served-model", "other"]),
        st.text(max_size=30) | st.integers(min_value=4000, max_value=6000).map(lambda n: "0" * n + "1"),
    ),
    reply=st.none() | replies,
)  # fmt: skip
def test_read_served_never_raises(headers: dict[str, str], reply: Reply | None) -> None:
    result = read_served(headers, reply)
    assert isinstance(result, Served)


@FAST
@given(value=st.text(max_size=40))
@example("²")
@example("١٢")
@example("Wed, 21 Oct 2015 07:28:00 GMT")
@example("9" * 400)
def test_retry_after_never_raises(value: str) -> None:
    value = re.sub(r"[\r\n\x00]", " ", value)
    try:
        headers = httpx.Headers({"retry-after": value})
    except (UnicodeEncodeError, ValueError):
        return
    delay = _retry_after(headers)
    assert delay is None or delay >= 0


# --- redaction and neutralising ----------------------------------------------------------------

KEY_CHARS = string.ascii_letters + string.digits + "-_."
secrets_ = st.text(KEY_CHARS, min_size=1, max_size=40)


@st.composite
def text_around(draw: st.DrawFn, secret: str) -> str:
    """Text built from pieces of the secret (whole, runs, masked echoes) and arbitrary text."""
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        start = draw(st.integers(min_value=0, max_value=len(secret)))
        end = draw(st.integers(min_value=start, max_value=len(secret)))
        parts.append(
            draw(
                st.sampled_from(
                    [
                        secret,
                        secret[start:end],
                        f"{secret[:12]}***{secret[-4:]}",
                        secret + secret,
                        secret.upper(),
                    ]
                )
                | st.text(max_size=10)
                | st.text(KEY_CHARS, max_size=10)
            )
        )
    return "".join(parts)


def secret_runs(secret: str) -> list[str]:
    if len(secret) < MIN_RUN:
        return [secret]
    return [secret[i : i + MIN_RUN] for i in range(len(secret) - MIN_RUN + 1)]


@FAST
@given(data=st.data(), secret=secrets_)
def test_scrub_removes_the_secret_and_every_run_of_it(data: st.DataObject, secret: str) -> None:
    text = data.draw(text_around(secret))
    scrubbed = Redactor([secret]).scrub(text)
    for run in secret_runs(secret):
        assert run not in scrubbed
    assert Redactor([secret]).scrub(scrubbed) == scrubbed  # idempotent


def strings_in(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in strings_in(v)]
    return []


@FEWER
@given(data=st.data(), first=secrets_, second=secrets_)
def test_scrub_obj_with_two_secrets(data: st.DataObject, first: str, second: str) -> None:
    texts = data.draw(st.lists(st.one_of(text_around(first), text_around(second)), min_size=1, max_size=4))
    doc = {"a": texts, texts[0]: {"b": (texts[-1], 3, None)}}
    scrubbed = strings_in(Redactor([first, second]).scrub_obj(doc))
    assert len(scrubbed) == len(strings_in(doc))
    for run in secret_runs(first) + secret_runs(second):
        assert not any(run in text for text in scrubbed)


LEAD = st.sampled_from(
    [" ", "\t", "\u00a0", "\u2003", "\u3000", "\ufeff", "\u200b", "\x00", "\x1b", "\r", "\n"]
)
commands = st.sampled_from(
    ["::error::x", "::add-mask::k", "::set-output name=a::b", "::", "::stop-commands::t"]
)


@FAST
@given(lead=st.lists(LEAD, max_size=4).map("".join), command=commands, tail=st.text(max_size=30))
def test_neutralise_line_never_starts_a_workflow_command(lead: str, command: str, tail: str) -> None:
    for text in (lead + command + tail, tail + "\n" + lead + command, tail):
        line = neutralise_line(text)
        assert len(line.splitlines()) <= 1
        assert not line.lstrip().startswith("::")
        lead_end = next((i for i, c in enumerate(line) if not _is_lead(c)), len(line))
        assert not line[lead_end:].startswith("::")
        assert "##[" not in line


def _is_lead(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


@FAST
@given(text=st.text(max_size=300), limit=st.integers(min_value=1, max_value=120))
def test_terminal_text_is_one_safe_line(text: str, limit: int) -> None:
    shown = terminal_text(text, limit)
    assert len(shown) <= limit
    assert len(shown.splitlines()) <= 1
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in shown)
    assert not shown.lstrip().startswith("::")


_UNESCAPED_PIPE = re.compile(r"(?<!\\)(?:\\\\)*\|")


@FAST
@given(text=st.text(max_size=300), limit=st.integers(min_value=1, max_value=120))
def test_markdown_cell_stays_in_its_cell(text: str, limit: int) -> None:
    cell = markdown_cell(text, limit)
    assert "<" not in cell and "\n" not in cell and "\r" not in cell
    assert _UNESCAPED_PIPE.search(cell) is None
    assert "](" not in cell
