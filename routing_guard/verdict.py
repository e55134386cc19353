"""Verdicts: does the model that answered match the route, did a fallback serve it, what failed.

Pure functions over already-read answers; no I/O. The matching rules are CONTRACT.md's
"Matching the returned model"; the header signals are GATEWAYS.md's "Headers that say who
really answered".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from routing_guard.protocols import MAX_ID, Reply, error_kind, error_message
from routing_guard.results import Verdict

# A dated or versioned snapshot suffix: -2024-08-06, -20241022, -0613 (MMDD), -001, @20241022.
_SNAPSHOT = re.compile(r"(?:-\d{4}-\d{2}-\d{2}|-\d{8}|-(?:0[1-9]|1[0-2])\d{2}|-0\d\d|@\d{8})")

# Headers naming the model that really answered, most specific first.
SERVED_MODEL_HEADERS = ("x-litellm-model-name", "x-ms-served-model", "ngrok-aig-model", "x-kong-llm-model")
# Headers whose value above zero means a later fallback target served the request.
FALLBACK_HEADERS = ("x-litellm-attempted-fallbacks", "x-portkey-last-used-option-index", "cf-aig-step")

_AUTH_KINDS = ("authentication", "invalid_api_key", "no_db_connection", "permission", "unauthorized")
_AUTH_MESSAGE = re.compile(
    r"no connected db|api[ _-]?key|authenticat|unauthori[sz]ed|auth credentials|access denied|"
    r"invalid (?:token|credentials)|user not found",
    re.IGNORECASE,
)


def _split_provider(model_id: str) -> tuple[str, str]:
    prefix, _, base = model_id.rpartition("/")
    return prefix, base


def _is_snapshot(base: str, candidate: str) -> bool:
    return candidate.startswith(base) and _SNAPSHOT.fullmatch(candidate[len(base) :]) is not None


def match_model(requested: str, returned: str, *, strict: bool, accept: tuple[str, ...] = ()) -> str | None:
    """The rule that accepts `returned` for a route asking for `requested`, or None."""
    if returned == requested:
        return "exact match"
    if strict:
        return None
    for pattern in accept:
        if pattern == returned:
            return "listed in accept"
        if fnmatchcase(returned, pattern):
            return f"accept pattern {pattern}"
    req_prefix, req_base = _split_provider(requested)
    ret_prefix, ret_base = _split_provider(returned)
    if req_prefix and ret_prefix and req_prefix != ret_prefix:
        return None  # openai/x and azure/x are different upstreams
    prefixed = " (provider-prefixed)" if req_prefix != ret_prefix else ""
    if req_base == ret_base:
        return f"provider-prefixed form of {requested}"
    if _is_snapshot(req_base, ret_base):
        return f"dated snapshot of {requested}{prefixed}"
    if req_base.endswith("-latest") and _is_snapshot(req_base.removesuffix("-latest"), ret_base):
        return f"snapshot behind {requested}{prefixed}"
    return None


def matches_served(served_model: str, patterns: tuple[str, ...]) -> bool:
    """A route's `served` pin: globs over the full ID, or over the part after a provider prefix."""
    _, base = _split_provider(served_model)
    return any(fnmatchcase(served_model, p) or ("/" not in p and fnmatchcase(base, p)) for p in patterns)


@dataclass
class Served:
    """What the gateway's headers (and OpenRouter's body) say about who really answered."""

    model: str | None = None
    header: str | None = None
    fallback: str | None = None  # e.g. "x-litellm-attempted-fallbacks: 1"
    provider: str | None = None


def read_served(headers: Mapping[str, str], reply: Reply | None = None) -> Served:
    served = Served(provider=reply.provider if reply else None)
    for name in SERVED_MODEL_HEADERS:
        value = headers.get(name, "").strip()[:MAX_ID]
        if value:
            served.model, served.header = value, name
            break
    for name in FALLBACK_HEADERS:
        value = headers.get(name, "")
        # Portkey sends a JSON path such as "config.targets[1]"; any index above 0 is a later target.
        if any(int(n) > 0 for n in re.findall(r"\d{1,18}", value)):  # chunked: no 4300-digit int limit
            served.fallback = f"{name}: {value.strip()[:40]}"
            # After a LiteLLM fallback the model group is the reliable witness of who answered;
            # x-litellm-model-name can still name the deployment that failed (seen on /v1/messages).
            group = headers.get("x-litellm-model-group", "").strip()[:MAX_ID]
            if group:
                served.fallback += f", model group {group}"
            break
    return served


def is_auth_failure(status: int, doc: Any, text: str) -> bool:
    if status in (401, 403):
        return True
    if status < 400:
        return False
    kind = error_kind(doc)
    if any(k in kind for k in _AUTH_KINDS):
        return True
    message = error_message(doc) or (text if doc is None else "")
    return bool(_AUTH_MESSAGE.search(message[:2000]))


@dataclass
class Judgement:
    verdict: Verdict
    notes: str = ""
    hint: str = ""


_ANSWER_LIKE = re.compile(r"^\s*[\[{]|^(?:data|event):", re.MULTILINE)


def failure_detail(status: int, doc: Any, text: str) -> str:
    """What a non-200 answer says about itself, for the notes: its error message, or an excerpt of
    a non-JSON error page. Never a body that may be an answer (a 203 from a transforming proxy, a
    JSON or SSE body without an error message): response text and usage must never be shown."""
    message = error_message(doc)
    if message:
        return message[:300]
    if doc is None and status >= 400 and not _ANSWER_LIKE.search(text[:4096]):
        return text.strip()[:300] or f"HTTP {status}"
    return "the body holds no error message (not shown)"


def judge_http_failure(status: int, doc: Any, text: str, *, model: str, location: str = "") -> Judgement:
    """Any non-200 answer to a route's probe."""
    detail = failure_detail(status, doc, text)
    if 300 <= status < 400:
        where = f" to {location}" if location else ""
        return Judgement(
            "http_error",
            f"redirected (HTTP {status}){where}; redirects are never followed",
            "Point gateway.base_url (or the gateway-url input) at the final URL of the gateway.",
        )
    if 200 <= status < 300:
        return Judgement(
            "http_error",
            f"HTTP {status} instead of 200 (the body is not shown)",
            "Only an HTTP 200 answer is a verdict; a proxy in front of the gateway may rewrite answers.",
        )
    if is_auth_failure(status, doc, text):
        return Judgement(
            "auth_error",
            f"HTTP {status}: {detail}",
            "The gateway refused the key: check the secret passed as api-key (ROUTING_GUARD_API_KEY) "
            "and gateway.auth (bearer, x-api-key or api-key).",
        )
    if status == 429:
        return Judgement(
            "rate_limited",
            f"HTTP 429: {detail}",
            "The gateway rate-limited the probe; run again later or raise --retries.",
        )
    if status == 408:
        return Judgement("timeout", "HTTP 408", "The gateway timed out; raise --timeout.")
    if status >= 500:
        return Judgement(
            "http_error",
            f"HTTP {status}: {detail}",
            "The gateway failed on its side (5xx); no routing verdict was possible. Check its health.",
        )
    if status == 404:
        hint = (
            f"The gateway does not serve `{model}` on this endpoint: check the ID in the routing file "
            "and the gateway's model list (`routing-guard check --models-only`)."
        )
    else:
        hint = f"The gateway refused the probe for `{model}` (HTTP {status}); the notes say why."
    return Judgement("http_error", f"HTTP {status}: {detail}", hint)


def judge_reply(
    *,
    requested: str,
    reply: Reply,
    served: Served,
    strict: bool,
    accept: tuple[str, ...],
    served_pins: tuple[str, ...],
    budget: int,
) -> Judgement:
    """A 200 answer to a route's probe."""
    if reply.body_error is not None:
        return Judgement(
            "bad_response",
            f"HTTP 200 with an error in the body: {reply.body_error[:300]}",
            "The gateway answered 200 but the body is an error; a 200 is not a pass until the body says so.",
        )
    if reply.unreadable is not None:
        return Judgement(
            "bad_response", reply.unreadable, "The gateway's answer is not this protocol's shape."
        )
    if not reply.stream_ended:
        return Judgement(
            "bad_response",
            "the stream ended without its closing event",
            "The stream was cut off; check gateway or proxy buffering and timeouts.",
        )
    if served.fallback is not None:
        who = f"; served by {served.model}" if served.model else ""
        return Judgement(
            "fallback_detected",
            f"{served.fallback}{who}",
            "A fallback target served this request even though the body names the routed model: "
            "check the primary deployment (quota, health, credentials).",
        )
    if reply.choices == 0:
        return Judgement("empty_response", "no choices / content blocks", "The gateway returned no answer.")
    if not reply.has_text:
        if reply.finish_reason == "length":
            return Judgement(
                "empty_response",
                f"no text: the output budget of {budget} tokens ran out (finish_reason: length)",
                "The model spent the whole output budget before writing text (reasoning models think "
                "first). Raise this route's budget, e.g. `request: {max_completion_tokens: 256}` "
                "(or max_output_tokens / max_tokens for the route's protocol).",
            )
        what = "tool calls only" if reply.tool_calls else "empty text"
        return Judgement("empty_response", f"no text ({what})", "The model answered without any text.")
    if reply.model is None:
        return Judgement(
            "bad_response",
            "the answer names no model",
            "The gateway's answer has no `model` field, so the route cannot be verified.",
        )
    rule = match_model(requested, reply.model, strict=strict, accept=accept)
    if rule is None:
        return Judgement(
            "model_mismatch",
            f"answered by {reply.model}",
            f"The gateway answered `{requested}` with `{reply.model}`. If that is intended, add it to "
            "the route's `accept`; otherwise fix the gateway's mapping.",
        )
    if served_pins:
        identity = served.model or reply.model
        if not matches_served(identity, served_pins):
            return Judgement(
                "model_mismatch",
                f"served by {identity}, route pins served: {', '.join(served_pins)}",
                "The alias now points at another upstream model than the route pins with `served`.",
            )
    notes = [f"accepted: {rule}"]
    if served.model and served.model != reply.model:
        notes.append(f"served by {served.model}")
    if served.provider:
        notes.append(f"provider {served.provider}")
    return Judgement("pass", "; ".join(notes))


def judge_error_path(status: int, doc: Any, text: str, reply: Reply | None, served: Served) -> Judgement:
    """The answer to the deliberately invalid model ID: a 4xx (not auth) passes."""
    if status == 200:
        returned = reply.model if reply else None
        if reply is not None and reply.body_error is not None and not reply.has_text:
            return Judgement(
                "bad_response",
                f"HTTP 200 with an error in the body: {reply.body_error[:200]}",
                "The gateway should refuse an unknown model ID with a 4xx status.",
            )
        who = served.model or returned or "an unnamed model"
        header = f" ({served.header})" if served.model else ""
        return Judgement(
            "silent_fallback",
            f"HTTP 200 for an unknown model ID: answered by {who}{header}",
            "The gateway answers unknown model IDs instead of refusing them, so a typo or a retired ID "
            "in an agent's config is silently served by another model. Remove the catch-all (`*`) "
            "deployment or default fallback for unknown models.",
        )
    if 400 <= status < 500 and status not in (408, 429) and not is_auth_failure(status, doc, text):
        detail = error_kind(doc) or (error_message(doc) or "")[:80]
        return Judgement("pass", f"refused with HTTP {status}" + (f" ({detail})" if detail else ""))
    judged = judge_http_failure(status, doc, text, model="the invalid model ID")
    if judged.verdict == "http_error" and status >= 500:
        judged.hint = "No verdict on the error path: the gateway failed on its side."
    return judged
