"""Verdicts: does the model that answered match the route, did a fallback serve it, what failed.

Pure functions over already-read answers; no I/O. The matching rules are docs/contract.md's
"Matching the returned model"; the header signals are docs/gateways.md's "Headers that say who
really answered".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from routing_guard import portkey
from routing_guard.protocols import MAX_ID, Reply, error_kind, error_message
from routing_guard.results import Verdict

# A dated or versioned snapshot suffix: -2024-08-06, -20241022, -0613 (MMDD), -001, @20241022.
_SNAPSHOT = re.compile(r"(?:-\d{4}-\d{2}-\d{2}|-\d{8}|-(?:0[1-9]|1[0-2])\d{2}|-0\d\d|@\d{8})")

_DATE = re.compile(r"[-@]\d{8}")  # the snapshot behind an Anthropic `-0` alias: -20250514, @20250514

# Headers naming the model that really answered, most specific first.
SERVED_MODEL_HEADERS = ("x-litellm-model-name", "x-ms-served-model", "ngrok-aig-model", "x-kong-llm-model")
# Headers whose value above zero means a fallback served the request (Portkey's index: portkey.py).
FALLBACK_HEADERS = ("x-litellm-attempted-fallbacks", "cf-aig-step")

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
    # Anthropic's `-0` aliases: claude-sonnet-4-0 answers as claude-sonnet-4-20250514 (dated only).
    undated = req_base.removesuffix("-0")
    if undated != req_base and ret_base.startswith(undated) and _DATE.fullmatch(ret_base[len(undated) :]):
        return f"snapshot behind {requested}{prefixed}"
    return None


# Model families by vendor line: a routed ID of a family is a real model ID, one whose name starts
# with none of these is taken for a gateway alias (docs/verdicts.md).
_FAMILIES = {
    "openai": ("gpt", "chatgpt", "o1", "o3", "o4", "codex", "davinci", "babbage"),
    "anthropic": ("claude",),
    "google": ("gemini", "gemma", "palm"),
    "meta": ("llama", "meta-llama", "codellama"),
    "mistral": ("mistral", "mixtral", "codestral", "ministral", "devstral", "magistral", "pixtral"),
    "alibaba": ("qwen", "qwq"),
    "deepseek": ("deepseek",),
    "xai": ("grok",),
    "cohere": ("command", "c4ai"),
    "microsoft": ("phi",),
    "moonshot": ("kimi", "moonshot"),
    "zhipu": ("glm", "chatglm"),
}


def family(model_id: str) -> str | None:
    """The vendor line a model ID belongs to by its name (`gpt-4o` -> openai), None for an alias.

    The name is read after any provider prefix (`openai/`) and Bedrock's `anthropic.` style one."""
    base = model_id.rpartition("/")[2].lower()
    for part in [base, *(base[i + 1 :] for i, char in enumerate(base) if char in ".:")]:
        for vendor, prefixes in _FAMILIES.items():
            for prefix in prefixes:
                rest = part[len(prefix) :]
                if part.startswith(prefix) and not rest[:1].isalpha():
                    return vendor
    return None


# Bedrock's model IDs: [region.]vendor.model[-vN[:M]], e.g. us.anthropic.claude-sonnet-4-5-20250929-v1:0
_BEDROCK = re.compile(
    r"(?:[a-z]{2,4}\.)?(?:anthropic|meta|mistral|amazon|cohere|ai21|deepseek|openai|qwen|writer)\."
    r"(?P<model>.+?)(?:-v\d+(?::\d+)?)?"
)


def bedrock_model(model_id: str) -> str | None:
    """The model a Bedrock ID names (`bedrock/us.anthropic.claude-x-20250929-v1:0` -> claude-x-20250929)."""
    found = _BEDROCK.fullmatch(_split_provider(model_id)[1])
    return found["model"] if found else None


def matches_served(served_model: str, patterns: tuple[str, ...]) -> bool:
    """A route's `served` pin: globs over the full ID, or over the part after a provider prefix
    (for a Bedrock ID, also over the model it names)."""
    bases = [_split_provider(served_model)[1], bedrock_model(served_model) or ""]
    return any(
        fnmatchcase(served_model, p) or ("/" not in p and any(b and fnmatchcase(b, p) for b in bases))
        for p in patterns
    )


@dataclass
class Served:
    """What the gateway's headers (and OpenRouter's body) say about who really answered."""

    model: str | None = None
    header: str | None = None
    fallback: str | None = None  # e.g. "x-litellm-attempted-fallbacks: 1"
    provider: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. a load-balance choice, Portkey's retries
    warnings: list[str] = field(default_factory=list)  # e.g. an option index under an unknown strategy


def read_served(
    headers: Mapping[str, str], reply: Reply | None = None, config: portkey.PortkeyConfig | None = None
) -> Served:
    """The answer's own witnesses; `config` is the Portkey config the routing file sends, if any."""
    served = Served(provider=reply.provider if reply else None)
    for name in SERVED_MODEL_HEADERS:
        value = headers.get(name, "").strip()[:MAX_ID]
        if value:
            served.model, served.header = value, name
            break
    for name in FALLBACK_HEADERS:
        value = headers.get(name, "").strip()
        if any(int(n) > 0 for n in re.findall(r"\d{1,18}", value)):  # chunked: no 4300-digit int limit
            served.fallback = f"{name}: {value[:40]}"
            # After a LiteLLM fallback the model group is the reliable witness of who answered;
            # x-litellm-model-name can still name the deployment that failed (seen on /v1/messages).
            group = headers.get("x-litellm-model-group", "").strip()[:MAX_ID]
            if group:
                served.fallback += f", model group {group}"
            break
    index = headers.get(portkey.INDEX_HEADER, "")
    if index and served.fallback is None:
        reading = portkey.read_index(index, config)
        served.fallback = reading.fallback
        served.notes += [reading.chosen] if reading.chosen else []
        served.warnings += [reading.unknown] if reading.unknown else []
    if (retries := portkey.retry_note(headers)) is not None:
        served.notes.append(retries)
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


def is_echo(requested: str, returned: str) -> bool:
    """`returned` is `requested` itself or its provider-prefixed form: what an echoing gateway sends."""
    rule = match_model(requested, returned, strict=False)
    return rule is not None and (rule == "exact match" or rule.startswith("provider-prefixed form"))


@dataclass
class Judgement:
    verdict: Verdict
    notes: str = ""
    hint: str = ""
    warnings: list[str] = field(default_factory=list)
    rule: str = ""  # the matching rule that accepted a route's model, e.g. "exact match"
    echoed: bool = False  # the error path's 200 named the invalid ID itself


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


def about_model(doc: Any, text: str, model: str) -> bool:
    """Does an error answer speak of the model (names it, or says model / deployment)?"""
    message = (error_message(doc) or text)[:2000].lower()
    param = (
        doc.get("error", {}).get("param")
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict)
        else None
    )
    return (
        model.lower() in message
        or param == "model"
        or bool(re.search(r"model|deployment", message + " " + error_kind(doc)))
    )


def endpoint_hint(url: str, path: str) -> str:
    """What to check in gateway.base_url when POST url answered 404/405 for a reason not about the model."""
    base = url[: -len(path)] if path and url.endswith(path) else url
    hint = (
        f"The endpoint was not found: routing-guard appended `{path}` to gateway.base_url (`{base}`). "
        "base_url must be the gateway's API root, usually ending in `/v1`"
    )
    if not base.split("?")[0].rstrip("/").endswith("/v1"):
        return hint + f"; yours does not: try `{base.split('?')[0].rstrip('/')}/v1`."
    return hint + ", as yours does: check that the gateway serves this protocol (api) at that path."


def judge_http_failure(
    status: int,
    doc: Any,
    text: str,
    *,
    model: str,
    location: str = "",
    url: str = "",
    path: str = "",
    headers: Mapping[str, str] | None = None,
) -> Judgement:
    """Any non-200 answer to a route's probe (`url` is where it was sent, `path` the protocol's part)."""
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
        if (headers or {}).get("x-portkey-gateway-exception", "").strip().lower() == "true":
            return Judgement(
                "http_error",
                f"HTTP {status}: Portkey gateway exception: {detail}",
                "Portkey itself failed (x-portkey-gateway-exception), before or after the provider: "
                "check its log and the config in gateway.headers. No routing verdict was possible.",
            )
        return Judgement(
            "http_error",
            f"HTTP {status}: {detail}",
            "The gateway failed on its side (5xx); no routing verdict was possible. Check its health.",
        )
    if (refusal := portkey.own_refusal(status, doc, headers or {})) is not None:
        return Judgement("http_error", f"HTTP {status}: Portkey refused the request: {refusal}", PORTKEY_HINT)
    if status in (404, 405) and not about_model(doc, text, model):
        return Judgement(
            "http_error",
            f"HTTP {status}: endpoint not found" + (f" ({m[:120]})" if (m := error_message(doc)) else ""),
            endpoint_hint(url, path),
        )
    if status == 404:
        hint = (
            f"The gateway does not serve `{model}` on this endpoint: check the ID in the routing file "
            "and the gateway's model list (`routing-guard check --models-only`)."
        )
    else:
        hint = f"The gateway refused the probe for `{model}` (HTTP {status}); the notes say why."
    return Judgement("http_error", f"HTTP {status}: {detail}", hint)


PORTKEY_HINT = (
    "Portkey refused the request before routing it (its answer carries no x-portkey-* headers): a "
    "gateway configuration problem, not a model one. Send `x-portkey-config`, or `x-portkey-provider` "
    "(with `x-portkey-custom-host` for your own upstream), with valid values in gateway.headers."
)


def _stream_models_judgement(
    requested: str, reply: Reply, served: Served, strict: bool, accept: tuple[str, ...]
) -> Judgement | None:
    """A stream whose later chunks name another model than the route's: model_mismatch naming the switch.

    A chunk's model is fine when it is a form of the route's model or of the model the gateway's
    header says served (headers win where a gateway echoes, e.g. LiteLLM after a fallback)."""
    for other in reply.models:
        if match_model(requested, other, strict=strict, accept=accept) is not None:
            continue
        if served.model and (
            match_model(served.model, other, strict=False) or match_model(other, served.model, strict=False)
        ):
            continue
        first = reply.models[0]
        switch = f"from {first} to {other}" if other != first else f"to {other}"
        return Judgement(
            "model_mismatch",
            f"the stream switched models {switch}",
            f"The stream's chunks name `{other}`, which is not a form of `{requested}`: another model "
            "wrote (part of) the answer. Fix the gateway's mapping, or add the ID to `accept` if intended.",
        )
    return None


def served_family_warning(requested: str, served_model: str, accept: tuple[str, ...]) -> str | None:
    """A served-model header naming a model that is not a form of a route's real model ID: worth a
    warning, since the route passes without a `served` pin. An alias (a name of no model family, such
    as `coder-heavy`) served by its upstream is what the file asked for: quiet (docs/verdicts.md)."""
    bedrock = bedrock_model(served_model)
    for form in (served_model, *([bedrock] if bedrock else [])):
        if match_model(requested, form, strict=False, accept=accept) is not None:
            return None
    wanted, got = family(requested), family(served_model)
    if wanted is None:
        return None
    which = "another model family" if got != wanted else "another model"
    return (
        f"served by {served_model}, not a form of {requested}: the gateway says {which} answered. "
        f'To make that fail, pin the route: `served: ["{requested}*"]`; to accept it, '
        f'`served: ["{served_model}"]`.'
    )


def judge_reply(
    *,
    requested: str,
    reply: Reply,
    served: Served,
    strict: bool,
    accept: tuple[str, ...],
    served_pins: tuple[str, ...],
    budget: int,
    attempts: int = 1,
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
    if reply.cut_short is not None:
        tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
        return Judgement(
            "bad_response",
            f"the stream was cut short: {reply.cut_short} ({tries})",
            "The gateway ended the stream before its end, which says nothing about the model: a server "
            "that interrupts a running stream when another request arrives (llama.cpp's "
            "interrupt_requests; try --concurrency 1), or a proxy timeout or buffering limit.",
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
    if (switched := _stream_models_judgement(requested, reply, served, strict, accept)) is not None:
        return switched
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
    warnings = list(served.warnings)
    if served.model and not served_pins:
        warning = served_family_warning(requested, served.model, accept)
        warnings += [warning] if warning else []
    return Judgement("pass", "; ".join([*notes, *served.notes]), warnings=warnings, rule=rule)


# Model-not-found answers, by error type/code or by message (docs/gateways.md "Unknown model IDs").
_NOT_FOUND_KIND = re.compile(r"model_not_found|not_found|notfound|invalid_model|deploymentnotfound")
_NOT_FOUND_MESSAGE = re.compile(
    r"not found|does not exist|not exist|invalid model|not a valid model|unknown model|no such model|"
    r"not supported|not available|model:",
    re.IGNORECASE,
)
# 4xx answers that say nothing about the model, whatever else was served.
_BUDGET = re.compile(
    r"budget|quota|credit|spend|insufficient (?:funds|balance)|billing|payment", re.IGNORECASE
)
_CONTENT_FILTER = re.compile(
    r"content[ _-]?(?:filter|policy|management)|moderation|flagged|safety", re.IGNORECASE
)
_NO_EVIDENCE_STATUS = {
    402: "HTTP 402 (payment required: credits or budget)",
    413: "HTTP 413 (the request is too large for the gateway)",
    422: "HTTP 422 (the gateway could not process the request body: check `defaults.request` and `request`)",
}


def names_unknown_model(doc: Any, text: str, model: str) -> bool:
    """A recognised model-not-found answer that names the model."""
    message = (error_message(doc) or text)[:2000]
    kind = error_kind(doc)
    return model.lower() in message.lower() and bool(
        _NOT_FOUND_KIND.search(kind) or _NOT_FOUND_MESSAGE.search(message)
    )


_NO_PARAM = ("", "none", "null", "model")


def refused_field(doc: Any, text: str, sent_fields: Sequence[str]) -> str | None:
    """The request field other than `model` that a refusal is about: its OpenAI-style `param`, or
    a field the probe sent (its budget, `request` fields) that the message names."""
    err = doc.get("error") if isinstance(doc, dict) else None
    param = err.get("param") if isinstance(err, dict) else None
    if isinstance(param, str) and param.strip().lower() not in _NO_PARAM:
        return param.strip()[:60]
    message = (error_message(doc) or text)[:2000]
    for name in sent_fields:
        if name != "model" and re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", message):
            return name[:60]
    return None


def _no_evidence(
    status: int, doc: Any, text: str, headers: Mapping[str, str], sent_fields: Sequence[str] = ()
) -> str | None:
    """Why a 4xx cannot be about the model ID, whatever the routes got; None when it may be."""
    if (refusal := portkey.own_refusal(status, doc, headers)) is not None:
        return f"Portkey refused the request before routing it: {refusal}"
    if status in _NO_EVIDENCE_STATUS:
        return _NO_EVIDENCE_STATUS[status]
    if (name := refused_field(doc, text, sent_fields)) is not None:
        # A catch-all serving unknown IDs with a model of other limits refuses the route's own
        # request fields (max_tokens above its limit): a refusal, but not of the model ID.
        return f"HTTP {status} about `{name}`, not the model ID"
    message = (error_message(doc) or text)[:2000] + " " + error_kind(doc)
    if _BUDGET.search(message):
        return f"HTTP {status} about a budget or quota"
    if _CONTENT_FILTER.search(message):
        return f"HTTP {status} from a content filter"
    return None


def judge_error_path(
    status: int,
    doc: Any,
    text: str,
    reply: Reply | None,
    served: Served,
    *,
    model: str,
    served_routes: Sequence[str] = (),
    route_statuses: Sequence[int | None] = (),
    headers: Mapping[str, str] | None = None,
    url: str = "",
    path: str = "",
    sent_fields: Sequence[str] = (),
) -> Judgement:
    """The answer to the deliberately invalid model ID, sent exactly as a route of its protocol.

    A refusal passes only with evidence that it is about the model: the answer names the model as
    unknown, or a route of the same protocol (`served_routes`) was served in the same run and the
    refusal is not about another field of the request (`sent_fields`: the body's fields).
    `route_statuses` are the HTTP statuses those routes got, for the hint.
    """
    headers = headers or {}
    if status == 200:
        returned = reply.model if reply else None
        if reply is not None and reply.body_error is not None and not reply.has_text:
            return Judgement(
                "bad_response",
                f"HTTP 200 with an error in the body: {reply.body_error[:200]}",
                "The gateway should refuse an unknown model ID with a 4xx status.",
            )
        # An echo, also with a provider prefix put in front of the asked ID (`openai/<ID>`).
        echoed = reply is not None and any(is_echo(model, m) for m in {reply.model or "", *reply.models})
        if echoed:
            who = "the gateway echoed the ID"
            if served.model:
                who += f"; {served.header}: {served.model}"
        else:
            who = "answered by " + (served.model or returned or "an unnamed model")
            who += f" ({served.header})" if served.model else ""
        return Judgement(
            "silent_fallback",
            f"HTTP 200 for an unknown model ID: {who}",
            "The gateway answers unknown model IDs instead of refusing them, so a typo or a retired ID "
            "in an agent's config is silently served by another model. Remove the catch-all (`*`) "
            "deployment or default fallback for unknown models.",
            echoed=echoed,
        )
    if not (400 <= status < 500) or status in (408, 429) or is_auth_failure(status, doc, text):
        judged = judge_http_failure(status, doc, text, model="the invalid model ID", headers=headers)
        if judged.verdict == "http_error" and status >= 500:
            judged.hint = "No verdict on the error path: the gateway failed on its side."
        return judged
    detail = error_kind(doc) or (error_message(doc) or "")[:80]
    refused = f"refused with HTTP {status}" + (f" ({detail})" if detail else "")
    if names_unknown_model(doc, text, model):
        return Judgement("pass", f"{refused}: the answer names the ID as unknown")
    reason = _no_evidence(status, doc, text, headers, sent_fields)
    if reason is None and served_routes:
        return Judgement("pass", f"{refused} while route {served_routes[0]} was served")
    return Judgement(
        "inconclusive",
        f"{reason or refused}: not shown to be about the model",
        _inconclusive_hint(status, doc, text, reason, route_statuses, url, path),
    )


def _inconclusive_hint(
    status: int,
    doc: Any,
    text: str,
    reason: str | None,
    route_statuses: Sequence[int | None],
    url: str,
    path: str,
) -> str:
    alike = bool(route_statuses) and all(s == status for s in route_statuses)
    answered = (
        f"the gateway answered every request of this protocol, routes included, with HTTP {status}"
        if alike
        else f"the gateway answered the invalid ID with HTTP {status}"
        + ("" if route_statuses else " and no route of this protocol was probed")
    )
    if reason is not None and reason.startswith("Portkey"):
        return f"No verdict on the error path: {PORTKEY_HINT}"
    if reason is not None and "about `" in reason:
        name = reason.split("`")[1]
        return (
            f"No verdict on the error path: the gateway refused the invalid ID over `{name}`, not over "
            "the ID itself. A catch-all may be serving unknown IDs with a model whose limits differ "
            f"from the routed ones: probe with a `{name}` every model accepts (the protocol's first "
            "route's `request` is sent with the invalid ID), then the answer shows whether it is refused."
        )
    if reason is not None:
        return f"No verdict on the error path: {answered}: {reason}, which says nothing about model IDs."
    if status in (404, 405):
        return f"No verdict on the error path: {answered}. {endpoint_hint(url, path)}"
    return (
        f"No verdict on the error path: {answered} ({failure_detail(status, doc, text)[:160]}), and "
        "the answer does not name the ID as unknown, so the refusal may have nothing to do with the model."
    )
