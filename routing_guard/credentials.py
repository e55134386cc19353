"""The secrets of a run, read from the environment and checked before anything is sent.

- the API key (`ROUTING_GUARD_API_KEY`), sent in the auth header `gateway.auth` names;
- the gateway's own key (`ROUTING_GUARD_GATEWAY_KEY`), for gateways that want one besides the
  provider key (Portkey's x-portkey-api-key, Cloudflare's cf-aig-authorization, Azure API
  Management's Ocp-Apim-Subscription-Key), sent in the header `gateway.gateway_key_header` names;
- passwords inside proxy URLs, which are never sent to the gateway but must not be shown either.

A secret an HTTP header cannot carry (a zero-width space pasted with it, a non-ASCII or control
character) is a configuration error that names the variable, never a crash in the middle of a run.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

KEY_ENV = "ROUTING_GUARD_API_KEY"
GATEWAY_KEY_ENV = "ROUTING_GUARD_GATEWAY_KEY"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def unsendable(value: str) -> str | None:
    """Why `value` cannot be an HTTP header value (printable ASCII, spaces inside), or None.
    Names the position and the character's code, never the value: it may be a secret."""
    for position, char in enumerate(value, start=1):
        if not " " <= char <= "~":
            name = unicodedata.name(char, "a control character" if ord(char) < 0x100 else "unnamed")
            return f"character {position} is U+{ord(char):04X} ({name}), which an HTTP header cannot carry"
    return None


def secret_problem(variable: str, value: str) -> str | None:
    problem = unsendable(value)
    if problem is None:
        return None
    return f"${variable}: {problem}; copy the secret again without it (pastes bring invisible characters)"


def read_secret(environ: Mapping[str, str], variable: str) -> str:
    return environ.get(variable, "").strip()


def proxy_passwords(environ: Mapping[str, str]) -> list[str]:
    """Passwords in proxy URLs (`http://user:secret@proxy:3128`): to be scrubbed from every output."""
    found = []
    for name in PROXY_VARIABLES:
        for variable in (name, name.upper()):
            value = environ.get(variable, "")
            userinfo = value.partition("://")[2].rpartition("@")[0] if "://" in value else ""
            if password := userinfo.partition(":")[2]:
                found.append(password)
    return found


def run_secrets(environ: Mapping[str, str]) -> list[str]:
    """Everything a run must never show."""
    return [read_secret(environ, KEY_ENV), read_secret(environ, GATEWAY_KEY_ENV), *proxy_passwords(environ)]
