"""The checks a schema cannot express: URL safety, secrets in headers, request fields the probe owns."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from routing_guard.routing.parsed import JsonPath, Parsed, dotted
from routing_guard.sendable import gateway_problems, url_problem

ROUTE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
ROUTE_NAME_RULE = "use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"


def base_url_problem(url: str, allow_insecure_http: bool = False) -> str | None:
    """What is wrong with a gateway base URL, or None. Never repeats the URL: it may hold a secret."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return "is not a valid URL; write it as https://HOST[:PORT]/PATH"
    if parts.scheme.lower() not in ("http", "https"):
        return (
            "must be an https:// URL (http:// is allowed for loopback); write it as https://HOST[:PORT]/PATH"
        )
    if "@" in parts.netloc:
        return (
            "must not contain credentials (user:password@); remove them: the key comes from the "
            "ROUTING_GUARD_API_KEY environment variable"
        )
    if not parts.hostname:
        return "has no host name; write it as https://HOST[:PORT]/PATH"
    if (unsendable := url_problem(parts, url)) is not None:  # before trusting the host as loopback
        return unsendable
    if parts.scheme.lower() == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        return (
            f"plain http:// to {parts.hostname} would send the API key in clear text; use https://, "
            "or set gateway.allow_insecure_http: true if the network is trusted"
        )
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)


def other_origin_problem(url: str, base_url: str) -> str | None:
    """A per-protocol base must stay on the gateway's origin: the key goes only where base_url says
    (and --gateway-url moves them all together)."""
    try:
        same = _origin(url) == _origin(base_url)
    except ValueError:
        return "is not a valid URL; write it as https://HOST[:PORT]/PATH"
    if same:
        return None
    return (
        "must have the same scheme, host and port as gateway.base_url (only the path may differ): the "
        "key is sent only to the gateway that base_url names"
    )


def check_meaning(parsed: Parsed) -> None:
    """What the schema cannot say: URL safety, secrets in headers, request fields the probe owns."""
    data = parsed.data
    gateway = data["gateway"]
    problem = base_url_problem(gateway["base_url"], gateway.get("allow_insecure_http", False))
    if problem:
        parsed.fail(parsed.line(("gateway", "base_url")), f"gateway.base_url: {problem}")
    for api, url in gateway.get("base_urls", {}).items():
        problem = base_url_problem(url, gateway.get("allow_insecure_http", False))
        problem = problem or other_origin_problem(url, gateway["base_url"])
        if problem:
            parsed.fail(parsed.line(("gateway", "base_urls", api)), f"gateway.base_urls.{api}: {problem}")
    for inside, message in gateway_problems(gateway):  # secrets, and what HTTP cannot carry
        parsed.fail(parsed.line(("gateway", *inside)), message)
    for name in data["routes"]:
        if not ROUTE_NAME.fullmatch(name):
            # The schema's pattern lets a trailing newline through (Python's `$`); fullmatch does not.
            parsed.fail(
                parsed.line(("routes", name)), f"route name {name!r} is not allowed: {ROUTE_NAME_RULE}"
            )
    owners: list[JsonPath] = [("defaults",), *(("routes", name) for name in data["routes"])]
    for owner in owners:
        fields = data.get(owner[0], {}) if len(owner) == 1 else data["routes"][owner[1]]
        request = fields.get("request", {})
        where = dotted((*owner, "request"))
        if "model" in request:
            parsed.fail(
                parsed.line((*owner, "request", "model")),
                f"{where}.model: the probe sends the route's own model; remove it from request",
            )
        if "stream" in request:
            parsed.fail(
                parsed.line((*owner, "request", "stream")),
                f"{where}.stream: use the route field `stream: true` instead of a request body field",
            )


def _is_loopback(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback
