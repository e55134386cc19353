"""Fake LLM gateways on pytest-httpserver, and a way to run `routing-guard check` against them.

Reusable by any test module (`from tests.support.gateway_fixtures import ...`). The bodies have the shape
real gateways send; tests/integration/test_gateways.py serves the recorded bodies and headers of real gateways
(the shared gateway corpus) and names the gateway and source in each test. The API is small:

Bodies (plain dicts, ready for `respond_with_json` or `json_response`):
    chat_completion(model, text="pong", finish_reason="stop", **fields)   OpenAI chat.completion
    chat_chunk(model, text=None, finish_reason=None, **fields)   one chat.completion.chunk
    responses_object(model, text="pong", **fields)     OpenAI Responses API `response`
    anthropic_message(model, text="pong", **fields)    Anthropic Messages `message`
    (`**fields` adds or overrides top-level keys, e.g. `provider="OpenAI"`.)

Wire helpers:
    sse(events, done=True)            SSE text; dicts become `data: {json}`, `(name, dict)` pairs
                                      become `event: name` + data, strings are sent as-is
                                      (e.g. ": OPENROUTER PROCESSING"); `done` appends `data: [DONE]`.
    json_response(doc, status=200, headers=None)     a werkzeug Response (doc may be a list)
    sse_response(events, done=True, headers=None)    a text/event-stream Response
    by_model(answers, default=None)   a handler for `respond_with_handler` that answers by the
                                      request body's "model": answers[model] may be a Response, a
                                      dict (sent as 200 JSON) or a callable(request) -> Response.
                                      A model without an answer gets 500 "no fake answer for ...".

Running the product:
    gateway_url(httpserver, path="/v1")   the server's URL on 127.0.0.1 (loopback: plain http allowed)
    routing_file(folder, routes, *, base_url, api=..., auth=..., ...)   writes model-routing.yml
    use_key(monkeypatch, key=KEY)     sets ROUTING_GUARD_API_KEY, removes GITHUB_* summary/output
    run_check(capsys, routing, *args, command="check")   runs `routing-guard check` (or `lock`)
                                      in-process with --report, --summary
                                      and --log next to the routing file (defaults --retries 0
                                      --timeout 5, which later args override) -> CheckRun
    CheckRun                          exit_code, report (the --report document), stdout, stderr,
                                      summary, log; .route(name), .error_path, .error_path_for(api),
                                      .everything (all outputs in one string, for leak checks)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from routing_guard.cli import main

KEY = "sk-fake-7Hq2Zr9Kx4Vn8Wm3Pb6Tj5Ld"  # no 8-char run of it occurs in any fixture text

Answer = Response | dict[str, Any] | Callable[[Request], Response]
SSEItem = dict[str, Any] | tuple[str, dict[str, Any]] | str


# --- bodies ------------------------------------------------------------------------------------


def chat_completion(
    model: str, text: str | None = "pong", *, finish_reason: str = "stop", **fields: Any
) -> dict[str, Any]:
    """An OpenAI-style `chat.completion` with one choice saying `text`."""
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": 1727000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
        **fields,
    }


def chat_chunk(
    model: str, text: str | None = None, finish_reason: str | None = None, **fields: Any
) -> dict[str, Any]:
    """One `chat.completion.chunk` for a streamed chat answer."""
    delta: dict[str, Any] = {"content": text} if text is not None else {}
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion.chunk",
        "created": 1727000000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **fields,
    }


def responses_object(model: str, text: str | None = "pong", **fields: Any) -> dict[str, Any]:
    """An OpenAI Responses API `response` (status completed) with one output_text message."""
    content = [{"type": "output_text", "text": text, "annotations": []}] if text is not None else []
    return {
        "id": "resp_fake0001",
        "object": "response",
        "created_at": 1741476777,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "model": model,
        "output": [
            {
                "type": "message",
                "id": "msg_fake0001",
                "status": "completed",
                "role": "assistant",
                "content": content,
            }
        ],
        "usage": {"input_tokens": 8, "output_tokens": 1, "total_tokens": 9},
        **fields,
    }


def anthropic_message(model: str, text: str | None = "pong", **fields: Any) -> dict[str, Any]:
    """An Anthropic Messages API `message` with one text block."""
    content = [{"type": "text", "text": text}] if text is not None else []
    return {
        "id": "msg_fake0001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 8, "output_tokens": 1},
        **fields,
    }


def anthropic_stream(model: str, text: str = "pong") -> list[SSEItem]:
    """The events of a streamed Anthropic Messages answer, `message_start` to `message_stop`."""
    start = {**anthropic_message(model, text=None), "stop_reason": None}
    return [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


# --- wire helpers ------------------------------------------------------------------------------


def sse(events: Iterable[SSEItem], done: bool = True) -> str:
    """Server-Sent Events text, each event followed by a blank line."""
    lines: list[str] = []
    for item in events:
        if isinstance(item, str):
            lines.append(item + "\n\n")
        elif isinstance(item, tuple):
            name, data = item
            lines.append(f"event: {name}\ndata: {json.dumps(data)}\n\n")
        else:
            lines.append(f"data: {json.dumps(item)}\n\n")
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines)


def json_response(doc: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(doc), status=status, headers=dict(headers or {}), content_type="application/json"
    )


def sse_response(
    events: Iterable[SSEItem], done: bool = True, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        sse(events, done), status=200, headers=dict(headers or {}), content_type="text/event-stream"
    )


def by_model(answers: Mapping[str, Answer], default: Answer | None = None) -> Callable[[Request], Response]:
    """A request handler that answers according to the "model" in the JSON request body."""

    def handle(request: Request) -> Response:
        body = request.get_json(silent=True)
        model = body.get("model") if isinstance(body, dict) else None
        answer = answers.get(model, default) if isinstance(model, str) else default
        if answer is None:
            return Response(f"no fake answer for model {model!r}", status=500, content_type="text/plain")
        if isinstance(answer, Response):
            return answer
        if isinstance(answer, dict):
            return json_response(answer)
        return answer(request)

    return handle


# --- running the product -----------------------------------------------------------------------


def gateway_url(httpserver: HTTPServer, path: str = "/v1") -> str:
    return f"http://127.0.0.1:{httpserver.port}{path}"


def routing_file(
    folder: Path,
    routes: Mapping[str, str | Mapping[str, Any]],
    *,
    base_url: str,
    api: str = "openai-chat",
    auth: str | None = None,
    invalid_model: str | None = None,
    headers: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
    name: str = "model-routing.yml",
) -> Path:
    """Write a routing file; a route given as a string is `{model: that string}`."""
    gateway: dict[str, Any] = {"base_url": base_url, "api": api}
    if auth is not None:
        gateway["auth"] = auth
    if invalid_model is not None:
        gateway["invalid_model"] = invalid_model
    if headers:
        gateway["headers"] = dict(headers)
    doc: dict[str, Any] = {"version": 1, "gateway": gateway}
    if defaults:
        doc["defaults"] = dict(defaults)
    doc["routes"] = {
        route: {"model": spec} if isinstance(spec, str) else dict(spec) for route, spec in routes.items()
    }
    path = folder / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def use_key(monkeypatch: pytest.MonkeyPatch, key: str = KEY) -> str:
    """Set the API key the way users do and keep the run from writing to a real job summary."""
    monkeypatch.setenv("ROUTING_GUARD_API_KEY", key)
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    return key


@dataclass
class CheckRun:
    """What one `routing-guard check` run produced."""

    exit_code: int
    report: dict[str, Any]
    stdout: str
    stderr: str
    summary: str
    log: str

    def route(self, name: str) -> dict[str, Any]:
        for entry in self.report["routes"]:
            if entry["route"] == name:
                return entry
        raise KeyError(f"no route {name!r} in the report")

    @property
    def error_path(self) -> dict[str, Any]:
        entry = self.report["error_path"]
        assert entry is not None, "the error path was not probed"
        return entry

    def error_path_for(self, api: str) -> dict[str, Any]:
        for entry in self.report["error_paths"]:
            if entry["api"] == api:
                return entry
        raise KeyError(f"no error path for {api!r} in the report")

    @property
    def everything(self) -> str:
        """Every output the run wrote, for "never in any output" checks."""
        return "\n".join([self.stdout, self.stderr, json.dumps(self.report), self.summary, self.log])


def run_check(
    capsys: pytest.CaptureFixture[str], routing: Path, *args: str, command: str = "check"
) -> CheckRun:
    """Run `routing-guard check --routing-file ROUTING ...` in-process, as a user would.

    `command="lock"` runs `routing-guard lock` with the same options instead."""
    folder = routing.parent
    report, summary, log = folder / "report.json", folder / "summary.md", folder / "log.jsonl"
    for path in (report, summary, log):
        path.unlink(missing_ok=True)
    capsys.readouterr()
    argv = [command, "--routing-file", str(routing), "--report", str(report), "--summary", str(summary)]
    argv += ["--log", str(log), "--retries", "0", "--timeout", "5", *args]
    code = main(argv)
    out = capsys.readouterr()
    assert report.is_file(), f"no report written; stderr: {out.err}"
    return CheckRun(
        exit_code=code,
        report=json.loads(report.read_text(encoding="utf-8")),
        stdout=out.out,
        stderr=out.err,
        summary=summary.read_text(encoding="utf-8") if summary.is_file() else "",
        log=log.read_text(encoding="utf-8") if log.is_file() else "",
    )
