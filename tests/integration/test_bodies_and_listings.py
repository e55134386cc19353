"""Answers are never shown, whatever their status; real listing sizes are read, an oversize one is named.

Driven through the CLI against raw-socket gateways on loopback; every output (stdout, stderr, the
report, the JSON Lines log, the summary) is searched for the planted answer text and usage numbers.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.support.fault_servers import (
    RawServer,
    Request,
    by_model,
    json_response,
    response_bytes,
    run_cli,
    write_routing,
)

ANSWER = "PLANTED-ANSWER-TEXT-7f3a"
USAGE = {"prompt_tokens": 918273, "completion_tokens": 827364, "total_tokens": 1745637}
INVALID = "routing-guard-invalid-model-id"


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ROUTING_GUARD_API_KEY", "GITHUB_STEP_SUMMARY", "ROUTING_GUARD_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def completion(model: str) -> dict[str, object]:
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}
        ],
        "usage": USAGE,
    }


def shown_private(text: str) -> list[str]:
    found = [ANSWER] if ANSWER in text else []
    return found + [str(n) for n in USAGE.values() if str(n) in text]


SSE_500 = response_bytes(
    500,
    b"data: " + json.dumps(completion("gpt-4o")).encode() + b"\n\ndata: [DONE]\n\n",
    {"Content-Type": "text/event-stream"},
)


@pytest.mark.parametrize(
    ("status", "answer", "code"),
    [
        (203, json_response(203, completion("gpt-4o")), 1),  # a transforming proxy's 203
        (206, json_response(206, completion("gpt-4o")), 1),
        (400, json_response(400, completion("gpt-4o")), 1),
        (500, json_response(500, completion("gpt-4o")), 3),
        (500, SSE_500, 3),
    ],
)
def test_no_answer_text_or_usage_in_any_output(tmp_path: Path, status: int, answer: bytes, code: int) -> None:
    with RawServer(by_model({"gpt-4o": answer, INVALID: answer}), lifetime=30) as server:
        path = write_routing(tmp_path, server.base_url)
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--retries", "0", "--timeout", "5"])
    assert run.code == code, (run.out, run.err)
    route = run.report["routes"][0]
    assert route["http_status"] == status and route["verdict"] == "http_error"
    if 200 <= status < 300:
        assert route["notes"] == f"HTTP {status} instead of 200 (the body is not shown)"
    everything = [run.out, run.err, run.report_text, run.log_text, run.summary]
    for text in everything:
        assert shown_private(text) == [], shown_private(text)


def test_a_plain_text_error_page_is_still_quoted(tmp_path: Path) -> None:
    page = response_bytes(502, b"Bad gateway: upstream connect error", {"Content-Type": "text/plain"})
    with RawServer(by_model({"gpt-4o": page}), lifetime=30) as server:
        path = write_routing(tmp_path, server.base_url)
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--retries", "0", "--skip-error-path"])
    assert run.report["routes"][0]["notes"] == "HTTP 502: Bad gateway: upstream connect error"


# --- model listings of real sizes ------------------------------------------------------------------


def listing_of(size: int, routed: str) -> bytes:
    """An OpenRouter-shaped listing of about `size` bytes, the routed model last."""
    entry = {"id": "", "name": "x", "description": "d" * 2000, "context_length": 128000,
             "top_provider": {"context_length": 128000}, "pricing": {"prompt": "0.000001"}}  # fmt: skip
    count = max(1, size // (len(json.dumps(entry)) + 20))
    data = [{**entry, "id": f"vendor/model-{i:05d}"} for i in range(count)]
    data.append({**entry, "id": routed, "context_length": 200000})
    return json.dumps({"data": data}).encode()


def serve_listing(body: bytes):  # type: ignore[no-untyped-def]
    def handler(server: RawServer, request: Request, conn: socket.socket) -> None:
        conn.sendall(response_bytes(200, body))

    return handler


def test_a_listing_of_several_mib_is_read_whole(tmp_path: Path) -> None:
    body = listing_of(5 * 1024 * 1024, "anthropic/claude-sonnet-4.5")
    assert len(body) > 4 * 1024 * 1024  # over the probe's own read limit
    with RawServer(serve_listing(body), lifetime=30) as server:
        path = write_routing(tmp_path, server.base_url, {"review": {"model": "anthropic/claude-sonnet-4.5"}})
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--models-only", "--timeout", "20"])
    assert run.code == 0, (run.out, run.err)
    assert run.report["routes"][0]["notes"] == "listed as anthropic/claude-sonnet-4.5"


def test_a_listing_over_the_cap_says_so(tmp_path: Path) -> None:
    body = listing_of(33 * 1024 * 1024, "gpt-4o")
    with RawServer(serve_listing(body), lifetime=60) as server:
        path = write_routing(tmp_path, server.base_url)
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--models-only", "--timeout", "30"])
    assert run.code == 1, (run.out, run.err)
    notes = run.report["routes"][0]["notes"]
    assert notes == "model listing: the listing is larger than 32 MiB (not read further)"
    assert "not a model list" not in run.out + run.summary
