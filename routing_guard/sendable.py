"""What `validate` must refuse because `check` could not send it, or must not send it.

- A base URL whose authority is not one host and an optional port (`http://[::1]evil.com/v1`
  parses as loopback in one library and as something else in another), a control character in
  the URL, a host name that is not valid IDNA.
- Header values an HTTP request cannot carry (non-ASCII, control characters, leading or trailing
  whitespace): httpx would crash on them in the middle of a run.
- Secrets in `gateway.headers`: a routing file is committed, so a header that carries a credential
  (by its name, or a JSON value with an `api_key` field) is refused with a hint to the gateway key
  (`gateway.gateway_key_header` + `ROUTING_GUARD_GATEWAY_KEY`); a header whose value holds the key
  itself is refused once the key is known (`secret_problem_of`, in validate and check).

Pure functions over plain data; the routing reader turns each problem into an error at its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult

import idna

from routing_guard.config import Gateway, RoutingConfig
from routing_guard.credentials import GATEWAY_KEY_ENV, KEY_ENV, secret_problem, unsendable

# Headers that carry the provider key: it comes from the environment, gateway.auth says how.
AUTH_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key"})
# Headers known to carry a gateway's own secret (docs/gateways.md), and words that mark one.
GATEWAY_SECRET_HEADERS = frozenset(
    {"x-portkey-api-key", "cf-aig-authorization", "ocp-apim-subscription-key", "x-goog-api-key"}
)
_SECRET_WORDS = re.compile(
    r"(?:^|[-_])(?:authorization|auth|api[-_]?key|apikey|token|secret|password|passwd|cookie|"
    r"credentials?|subscription[-_]key|access[-_]key|secret[-_]key|private[-_]key|session)(?:$|[-_])"
)
_SECRET_FIELDS = re.compile(r"api[-_]?key|secret|token|password|authorization", re.IGNORECASE)
# Headers the client itself owns; a routing file setting them would break the request.
CLIENT_HEADERS = frozenset({"host", "content-length", "content-type", "transfer-encoding", "connection"})
_AUTHORITY = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[^\[\]@:/?#\s]+)(?::[0-9]{1,5})?")


def url_problem(parts: SplitResult, url: str) -> str | None:
    """What makes a base URL unsendable, or None. Never repeats the URL: it may hold a secret."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return "contains a space or a control character; write it as https://HOST[:PORT]/PATH"
    authority = parts.netloc.rpartition("@")[2]
    if not _AUTHORITY.fullmatch(authority):
        return (
            "has a malformed host part (a host name or [IPv6 address], then an optional :PORT); "
            "write it as https://HOST[:PORT]/PATH"
        )
    host = parts.hostname or ""
    if not host.isascii():
        try:
            idna.encode(host.lower())
        except idna.IDNAError:
            return "has a host name that is not a valid international domain name (IDNA)"
    return None


def _secret_header_hint(name: str) -> str:
    lower = name.lower()
    if lower in AUTH_HEADERS:
        return (
            f"this header carries the API key; remove it: the key comes from the {KEY_ENV} "
            "environment variable and gateway.auth says how it is sent"
        )
    return (
        "this header carries a secret, and a routing file is committed; remove it, name the header in "
        f"gateway.gateway_key_header and pass the value in ${GATEWAY_KEY_ENV} (action input gateway-key)"
    )


def is_secret_header(name: str) -> bool:
    lower = name.lower()
    return lower in AUTH_HEADERS or lower in GATEWAY_SECRET_HEADERS or bool(_SECRET_WORDS.search(lower))


def _json_secret_field(value: str) -> str | None:
    """The first credential-looking field of a JSON header value (Portkey's x-portkey-config)."""
    if not value.lstrip().startswith(("{", "[")):
        return None
    try:
        doc = json.loads(value)
    except ValueError:
        return None
    stack: list[Any] = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if _SECRET_FIELDS.search(str(key)) and isinstance(inner, str) and inner:
                    return str(key)
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)
    return None


def gateway_problems(gateway: Mapping[str, Any]) -> Iterable[tuple[tuple[str, ...], str]]:
    """(path inside gateway, message) for every header problem of a gateway section."""
    headers: Mapping[str, str] = gateway.get("headers", {})
    for name, value in headers.items():
        where = ("headers", name)
        prefix = f"gateway.headers.{name}: "
        if is_secret_header(name):
            yield where, prefix + _secret_header_hint(name)
        elif name.lower() in CLIENT_HEADERS:
            yield where, prefix + "routing-guard sets this header itself; remove it"
        elif "\r" in value or "\n" in value:
            yield where, prefix + "a header value cannot contain a line break"
        elif problem := unsendable(value):
            yield where, prefix + problem + "; use ASCII (percent-encode it if the gateway expects that)"
        elif value != value.strip():
            yield where, prefix + "a header value cannot start or end with a space; remove it"
        elif field := _json_secret_field(value):
            yield (
                where,
                (
                    prefix
                    + f"the value has a {field!r} field: a secret in a committed file; move it into the "
                    f"gateway's own store, or send it with gateway.gateway_key_header and ${GATEWAY_KEY_ENV}"
                ),
            )
    key_header = gateway.get("gateway_key_header")
    if key_header:
        lower = key_header.lower()
        auth = gateway.get("auth")
        # Without `auth` the protocol's own scheme applies: Authorization or x-api-key.
        sent_by_auth = {"none": set(), "bearer": {"authorization"}, "x-api-key": {"x-api-key"}}.get(
            str(auth), {"api-key"} if auth == "api-key" else {"authorization", "x-api-key"}
        )
        taken = {h.lower() for h in headers} | sent_by_auth
        if lower in taken or lower in CLIENT_HEADERS or lower == "proxy-authorization":
            yield (
                ("gateway_key_header",),
                (
                    f"gateway.gateway_key_header: {key_header!r} is already sent (gateway.auth, "
                    "gateway.headers or the client); name the header the gateway reads its own key from"
                ),
            )


def secret_problem_of(config: RoutingConfig, key: str, gateway_key: str, *, sending: bool) -> str | None:
    """What is wrong with the run's secrets for this routing file, or None; `sending` adds what only
    `check` needs (a gateway key where the file names its header, and only there)."""
    from routing_guard.redact import Redactor

    gateway = config.gateway
    redactor = Redactor([s for s in (key, gateway_key) if s])
    for name, value in gateway.headers.items():
        if redactor.scrub(value) != value:
            line = gateway.header_lines.get(name)
            where = f"{config.source}:{line}" if line else str(config.source)
            return (
                f"{where}: gateway.headers.{name}: the value holds the API key (or the gateway key); "
                "remove it: secrets come from the environment, never from the routing file"
            )
    if gateway_key and (problem := secret_problem(GATEWAY_KEY_ENV, gateway_key)):
        return problem
    if not sending:
        return None
    if gateway.gateway_key_header and not gateway_key:
        return (
            f"no gateway key: {config.source} names gateway.gateway_key_header "
            f"({gateway.gateway_key_header}) but ${GATEWAY_KEY_ENV} is empty "
            "(in GitHub Actions pass a secret to the gateway-key input)"
        )
    if gateway_key and not gateway.gateway_key_header:
        return (
            f"${GATEWAY_KEY_ENV} (action input gateway-key) is set but {config.source} names no "
            "gateway.gateway_key_header; "
            "say which header carries it (e.g. x-portkey-api-key), or unset it"
        )
    return None


def gateway_key_headers(gateway: Gateway, gateway_key: str) -> dict[str, str]:
    if not gateway.gateway_key_header or not gateway_key:
        return {}
    value = f"Bearer {gateway_key}" if gateway.gateway_key_scheme == "bearer" else gateway_key
    return {gateway.gateway_key_header: value}
