"""The wire protocols coding agents use: how to build a minimal probe and how to read the answer.

Each protocol is a small object with the same four jobs: the path, the request body, reading a
plain JSON reply and reading an SSE stream. Nothing here does I/O; every reader takes untrusted
bytes or JSON and always returns a `Reply`, never raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from routing_guard.config import Api, Auth

PROMPT = "ping"
DEFAULT_OUTPUT_BUDGET = 16  # GPT-5-class models reject a smaller output limit
BUDGET_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
ANTHROPIC_VERSION = "2023-06-01"


@dataclass
class Reply:
    """What a successful (HTTP 200) answer says about itself."""

    model: str | None = None
    choices: int = 0
    has_text: bool = False
    finish_reason: str | None = None
    body_error: str | None = None  # an error object inside a 200 (OpenRouter does this mid-generation)
    provider: str | None = None  # OpenRouter's non-standard upstream field
    tool_calls: bool = False
    models: tuple[str, ...] = ()  # every distinct model the answer names, in order (a stream's chunks)
    cut_short: str | None = None  # how a stream ended before its protocol's clean end
    unreadable: str | None = None  # why the body could not be read as this protocol

    def saw_model(self, model: str | None) -> None:
        if model is not None and model not in self.models:
            self.models = (*self.models, model)
        self.model = self.model or model


@dataclass
class SSEEvent:
    event: str
    data: str


_LINE_END = re.compile(r"\r\n|\r|\n")  # the SSE format allows all three


@dataclass
class SSEParser:
    """Incremental Server-Sent Events parser (the subset LLM APIs use: `event:` and `data:` lines)."""

    _buffer: str = ""
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _started: bool = False

    def feed(self, text: str) -> list[SSEEvent]:
        if not self._started and text:
            text, self._started = text.removeprefix("\ufeff"), True  # a BOM may open the stream
        pending = self._buffer + text
        # A CR at the end may be the first half of a CRLF: keep it until the next text shows.
        held = "\r" if pending.endswith("\r") else ""
        *lines, rest = _LINE_END.split(pending.removesuffix("\r") if held else pending)
        self._buffer = rest + held
        events: list[SSEEvent] = []
        for line in lines:
            if not line:
                if self._data or self._event:
                    events.append(SSEEvent(self._event or "message", "\n".join(self._data)))
                self._event, self._data = "", []
            elif line.startswith(":"):
                continue  # comment / keep-alive such as ": OPENROUTER PROCESSING"
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    self._event = value
                elif name == "data":
                    self._data.append(value)
        return events

    def close(self) -> list[SSEEvent]:
        return self.feed("\n\n")


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


MAX_ID = 512  # a gateway-supplied identity longer than this is cut: it can only be hostile or broken


def _str_or_none(value: Any) -> str | None:
    return value[:MAX_ID] if isinstance(value, str) and value else None


def error_message(doc: Any) -> str | None:
    """The human message of an error object, in any of the shapes gateways use, else None."""
    if isinstance(doc, list) and doc:  # Gemini's OpenAI layer wraps errors in an array
        return error_message(doc[0])
    if not isinstance(doc, dict):
        return None
    err = doc.get("error")
    if isinstance(err, dict):
        return str(err.get("message") or err.get("code") or err.get("type") or "error")
    if isinstance(err, str) and err:
        return err
    if isinstance(err, list) and err:  # Cloudflare's v4 envelope
        return error_message({"error": err[0]})
    if doc.get("type") == "error" or doc.get("object") == "error":
        return str(doc.get("message") or "error")
    return None


def error_kind(doc: Any) -> str:
    """The machine-readable type/code of an error body, lower-cased, '' when none."""
    if isinstance(doc, list) and doc:
        return error_kind(doc[0])
    if not isinstance(doc, dict):
        return ""
    err = doc.get("error")
    parts: list[Any] = []
    if isinstance(err, dict):
        parts = [err.get("type"), err.get("code"), err.get("status")]
    parts += [doc.get("type") if doc.get("type") != "error" else None, doc.get("code")]
    return " ".join(str(p) for p in parts if p not in (None, "")).lower()


class Protocol:
    name: Api
    path: str
    default_auth: Auth = "bearer"
    budget_field: str = "max_tokens"
    terminal_events: frozenset[str] = frozenset()

    def extra_headers(self) -> dict[str, str]:
        return {}

    def body(self, model: str, extra: dict[str, Any], stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, **self.prompt()}
        if not any(f in extra for f in BUDGET_FIELDS):
            body[self.budget_field] = DEFAULT_OUTPUT_BUDGET
        if stream:
            body["stream"] = True
        body.update({k: v for k, v in extra.items() if k != "model"})  # never switch model
        return body

    def prompt(self) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, doc: Any) -> Reply:
        raise NotImplementedError

    @staticmethod
    def _envelope(doc: Any, items_field: str) -> tuple[Reply, list[Any] | None]:
        """What every protocol's JSON answer shares, and its list of choices / output / content."""
        if not isinstance(doc, dict):
            return Reply(body_error=error_message(doc), unreadable="the body is not a JSON object"), None
        reply = Reply(provider=_str_or_none(doc.get("provider")))
        reply.saw_model(_str_or_none(doc.get("model")))
        reply.body_error = error_message(doc)
        if doc.get("status") == "failed" and reply.body_error is None:  # a failed Responses object
            reply.body_error = "response status is failed"
        items = doc.get(items_field)
        if not isinstance(items, list):
            if reply.body_error is None:
                reply.unreadable = f"the body has no `{items_field}` list"
            return reply, None
        return reply, items

    def parse_stream(self, events: Iterable[SSEEvent]) -> Reply:
        raise NotImplementedError

    def is_terminal(self, event: SSEEvent) -> bool:
        return event.event in self.terminal_events or event.data.strip() == "[DONE]"

    def stream_cut(self, events: list[SSEEvent]) -> str | None:
        """How the stream ended before its clean end, or None when it reached it."""
        return self.parse_stream(events).cut_short


def output_budget(body: dict[str, Any]) -> int:
    for name in BUDGET_FIELDS:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 0


def _text_of(content: Any) -> bool:
    if isinstance(content, str):
        return bool(content.strip())
    if isinstance(content, list):
        return any(isinstance(p, dict) and _text_of(p.get("text")) for p in content)
    return False


class OpenAIChat(Protocol):
    name: Api = "openai-chat"
    path = "/chat/completions"

    def prompt(self) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": PROMPT}]}

    def parse(self, doc: Any) -> Reply:
        reply, choices = self._envelope(doc, "choices")
        if choices is None:
            return reply
        reply.choices = len(choices)
        first = _dict(choices[0]) if choices else {}
        message = _dict(first.get("message"))
        reply.has_text = _text_of(message.get("content"))
        reply.tool_calls = bool(message.get("tool_calls"))
        reply.finish_reason = _str_or_none(first.get("finish_reason"))
        return reply

    def parse_stream(self, events: Iterable[SSEEvent]) -> Reply:
        reply = Reply()
        indexes: set[int] = set()
        done = False
        for event in events:
            if event.data.strip() == "[DONE]":
                done = True
                continue
            chunk = _json_or_none(event.data)
            if not isinstance(chunk, dict):
                continue
            reply.body_error = reply.body_error or error_message(chunk)
            reply.saw_model(_str_or_none(chunk.get("model")))
            reply.provider = reply.provider or _str_or_none(chunk.get("provider"))
            for choice in _list(chunk.get("choices")):
                if not isinstance(choice, dict):
                    continue
                index = choice.get("index", 0)
                indexes.add(index if isinstance(index, int) else 0)
                delta = _dict(choice.get("delta"))
                reply.has_text = reply.has_text or _text_of(delta.get("content"))
                reply.tool_calls = reply.tool_calls or bool(delta.get("tool_calls"))
                reply.finish_reason = _str_or_none(choice.get("finish_reason")) or reply.finish_reason
        reply.choices = len(indexes)
        if reply.body_error is None and not done:
            reply.cut_short = "it ended without `data: [DONE]`"
        elif reply.body_error is None and reply.finish_reason is None:
            reply.cut_short = "it ended with `data: [DONE]` but no chunk gave a finish_reason"
        return reply


class OpenAIResponses(Protocol):
    name: Api = "openai-responses"
    path = "/responses"
    budget_field = "max_output_tokens"
    terminal_events = frozenset({"response.completed", "response.incomplete", "response.failed", "error"})

    def prompt(self) -> dict[str, Any]:
        return {"input": PROMPT}

    def parse(self, doc: Any) -> Reply:
        reply, output = self._envelope(doc, "output")
        if output is None:
            return reply
        self._read_output(reply, output)
        details = doc.get("incomplete_details")
        if doc.get("status") == "incomplete" and isinstance(details, dict):
            reply.finish_reason = "length" if details.get("reason") == "max_output_tokens" else "incomplete"
        else:
            reply.finish_reason = _str_or_none(doc.get("status"))
        return reply

    @staticmethod
    def _read_output(reply: Reply, output: list[Any]) -> None:
        reply.choices = sum(1 for item in output if isinstance(item, dict) and item.get("type") == "message")
        for item in output:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "function_call":
                reply.tool_calls = True
            for part in _list(item.get("content")):
                if (
                    isinstance(part, dict)
                    and part.get("type") == "output_text"
                    and _text_of(part.get("text"))
                ):
                    reply.has_text = True

    def parse_stream(self, events: Iterable[SSEEvent]) -> Reply:
        reply = Reply()
        ended = False
        for event in events:
            data = _json_or_none(event.data)
            if not isinstance(data, dict):
                continue
            kind = str(data.get("type") or event.event)
            response = _dict(data.get("response"))
            reply.saw_model(_str_or_none(response.get("model")))
            if kind == "response.output_text.delta" and _text_of(data.get("delta")):
                reply.has_text = True
            elif kind in ("error", "response.failed"):
                reply.body_error = error_message(data) or error_message(response) or kind
                ended = True
            elif kind in ("response.completed", "response.incomplete"):
                final = self.parse(response)
                reply.choices = max(reply.choices, final.choices)
                reply.has_text = reply.has_text or final.has_text
                reply.finish_reason = final.finish_reason
                ended = True
        if reply.has_text and reply.choices == 0:
            reply.choices = 1
        if not ended:
            reply.cut_short = "it ended without `response.completed`"
        return reply


class AnthropicMessages(Protocol):
    name: Api = "anthropic-messages"
    path = "/messages"
    default_auth: Auth = "x-api-key"
    terminal_events = frozenset({"message_stop", "error"})

    def extra_headers(self) -> dict[str, str]:
        return {"anthropic-version": ANTHROPIC_VERSION}

    def prompt(self) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": PROMPT}]}

    def parse(self, doc: Any) -> Reply:
        reply, content = self._envelope(doc, "content")
        if content is None:
            return reply
        reply.choices = len(content)
        reply.has_text = any(
            isinstance(b, dict) and b.get("type") == "text" and _text_of(b.get("text")) for b in content
        )
        reply.tool_calls = any(isinstance(b, dict) and b.get("type") == "tool_use" for b in content)
        stop = _str_or_none(doc.get("stop_reason"))
        reply.finish_reason = "length" if stop == "max_tokens" else stop
        return reply

    def parse_stream(self, events: Iterable[SSEEvent]) -> Reply:
        reply = Reply()
        blocks: set[int] = set()
        ended = False
        for event in events:
            data = _json_or_none(event.data)
            if not isinstance(data, dict):
                continue
            kind = str(data.get("type") or event.event)
            if kind == "message_start" and isinstance(data.get("message"), dict):
                reply.saw_model(_str_or_none(data["message"].get("model")))
            elif kind == "content_block_start":
                index = data.get("index", 0)
                blocks.add(index if isinstance(index, int) else 0)
                block = _dict(data.get("content_block"))
                reply.tool_calls = reply.tool_calls or block.get("type") == "tool_use"
                reply.has_text = reply.has_text or _text_of(block.get("text"))
            elif kind == "content_block_delta":
                delta = _dict(data.get("delta"))
                reply.has_text = reply.has_text or _text_of(delta.get("text"))
            elif kind == "message_delta" and isinstance(data.get("delta"), dict):
                stop = _str_or_none(data["delta"].get("stop_reason"))
                reply.finish_reason = "length" if stop == "max_tokens" else stop
            elif kind == "message_stop":
                ended = True
            elif kind == "error":
                reply.body_error = error_message(data) or "error event"
                ended = True
        reply.choices = max(len(blocks), int(reply.has_text))
        if not ended:
            reply.cut_short = "it ended without `message_stop`"
        return reply


PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (OpenAIChat(), OpenAIResponses(), AnthropicMessages())}


def auth_headers(auth: Auth, key: str) -> dict[str, str]:
    if auth == "none" or not key:
        return {}
    if auth == "bearer":
        return {"Authorization": f"Bearer {key}"}
    return {auth: key}  # "x-api-key" or Azure's "api-key"
