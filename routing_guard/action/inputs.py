"""The action's inputs: each `INPUT_*` variable read once, checked, into a typed `ActionInputs`.

The runner passes `INPUT_<NAME>` with the input's hyphens kept (`INPUT_API-KEY`); the underscore
spelling is accepted too (docs/runner.md). Nothing else in the package reads the environment's inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from routing_guard.action.policy import FailOn
from routing_guard.config import route_names

Mode = Literal["check", "validate", "lock"]
OnDrift = Literal["fail", "warn"]

OnMissingKey = Literal["fail", "validate"]
ModelsCheck = Literal["false", "true", "only"]


class InputError(ValueError):
    """An action input has a value routing-guard cannot use; the message names the input."""


@dataclass(frozen=True)
class ActionInputs:
    routing_file: str | None = None
    gateway_url: str | None = None
    api_key: str = field(default="", repr=False)
    mode: Mode = "check"
    routes: tuple[str, ...] = ()
    changed_only: bool = False
    invalid_model: str | None = None  # "skip" disables the error path
    models_check: ModelsCheck = "false"
    strict: bool = False
    timeout: float = 30.0
    retries: int = 2
    concurrency: int = 32
    time_budget: float | None = None  # seconds for the whole check; None: each probe's own limit
    on_missing_key: OnMissingKey = "fail"
    fail_on: FailOn = "any"
    log_file: str | None = None
    lock_file: str | None = None  # None: beside the routing file, if it exists; "none": ignore the lock
    on_drift: OnDrift = "fail"
    ca_certificates: str | None = None  # a PEM file in the workspace: CAs to trust besides the public ones
    gateway_key: str = field(default="", repr=False)  # the gateway's own secret, for gateway_key_header


def read_input(environ: Mapping[str, str], name: str) -> str | None:
    """One input, as the runner passes it (`INPUT_API-KEY`) or with underscores; empty means unset."""
    upper = name.replace(" ", "_").upper()
    for variable in (f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"):
        value = environ.get(variable, "").strip()
        if value:
            return value
    return None


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = (read_input(environ, name) or default).lower()
    if value not in choices:
        allowed = ", ".join(f"`{c}`" for c in choices)
        raise InputError(f"input `{name}` must be one of {allowed}, not `{value}`")
    return value


def _bool(environ: Mapping[str, str], name: str) -> bool:
    return _choice(environ, name, ("true", "false"), "false") == "true"


def _number(environ: Mapping[str, str], name: str, default: str) -> float:
    value = read_input(environ, name) or default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not (number > 0 and math.isfinite(number)):  # also refuses NaN
        raise InputError(f"input `{name}` must be a number above 0, not `{value}`")
    return number


def _integer(environ: Mapping[str, str], name: str, default: str, *, minimum: int) -> int:
    value = read_input(environ, name) or default
    if not (value.isascii() and value.isdigit()) or int(value) < minimum:
        raise InputError(f"input `{name}` must be a whole number of at least {minimum}, not `{value}`")
    return int(value)


def read_inputs(environ: Mapping[str, str]) -> ActionInputs:
    """Every input of action.yml, checked; raises InputError naming the first bad one."""
    return ActionInputs(
        routing_file=read_input(environ, "routing-file"),
        gateway_url=read_input(environ, "gateway-url"),
        api_key=read_input(environ, "api-key") or "",
        mode=cast(Mode, _choice(environ, "mode", ("check", "validate", "lock"), "check")),
        routes=route_names([read_input(environ, "routes") or ""]),
        changed_only=_bool(environ, "changed-only"),
        invalid_model=read_input(environ, "invalid-model"),
        models_check=cast(ModelsCheck, _choice(environ, "models-check", ("false", "true", "only"), "false")),
        strict=_bool(environ, "strict"),
        timeout=_number(environ, "timeout", "30"),
        retries=_integer(environ, "retries", "2", minimum=0),
        concurrency=_integer(environ, "concurrency", "32", minimum=1),
        time_budget=_number(environ, "time-budget", "1") if read_input(environ, "time-budget") else None,
        on_missing_key=cast(OnMissingKey, _choice(environ, "on-missing-key", ("fail", "validate"), "fail")),
        fail_on=cast(FailOn, _choice(environ, "fail-on", ("any", "routing"), "any")),
        log_file=read_input(environ, "log-file"),
        ca_certificates=read_input(environ, "ca-certificates"),
        gateway_key=read_input(environ, "gateway-key") or "",
        lock_file=_lock_file(environ),
        on_drift=cast(OnDrift, _choice(environ, "on-drift", ("fail", "warn"), "fail")),
    )


def _lock_file(environ: Mapping[str, str]) -> str | None:
    value = read_input(environ, "lock-file")
    if value is None or value.lower() == "auto":
        return None
    return "none" if value.lower() == "none" else value
