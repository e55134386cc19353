"""The GitHub Actions side of routing-guard: inputs, workflow commands, outputs and the job summary.

Only `entrypoint.py` uses this module; the checking core never touches the runner's environment.
"""

from __future__ import annotations

import math
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal, TextIO, cast

from routing_guard.config import route_names
from routing_guard.redact import annotation_text, workflow_data, workflow_property

Mode = Literal["check", "validate", "lock"]
OnDrift = Literal["fail", "warn"]
FailOn = Literal["any", "routing"]
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
    on_missing_key: OnMissingKey = "fail"
    fail_on: FailOn = "any"
    log_file: str | None = None
    lock_file: str | None = None  # None: beside the routing file, if it exists; "none": ignore the lock
    on_drift: OnDrift = "fail"


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
        on_missing_key=cast(OnMissingKey, _choice(environ, "on-missing-key", ("fail", "validate"), "fail")),
        fail_on=cast(FailOn, _choice(environ, "fail-on", ("any", "routing"), "any")),
        log_file=read_input(environ, "log-file"),
        lock_file=_lock_file(environ),
        on_drift=cast(OnDrift, _choice(environ, "on-drift", ("fail", "warn"), "fail")),
    )


def _lock_file(environ: Mapping[str, str]) -> str | None:
    value = read_input(environ, "lock-file")
    if value is None or value.lower() == "auto":
        return None
    return "none" if value.lower() == "none" else value


def emit(line: str, out: TextIO | None = None) -> None:
    """Print one line to the log and flush, so commands and program output keep their order."""
    stream = out or sys.stdout
    stream.write(line + "\n")
    stream.flush()


def add_mask(value: str, out: TextIO | None = None) -> None:
    """Ask the runner to mask a value in all later output (each line of it, so the summary too)."""
    for line in value.splitlines():
        if line.strip():
            emit(f"::add-mask::{workflow_data(line)}", out)


def command(
    kind: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """A workflow command line such as `::error file=F,line=N,title=T::message`, escaped."""
    props = []
    if file:
        props.append(f"file={workflow_property(file)}")
    if line:
        props.append(f"line={int(line)}")
    if title:
        props.append(f"title={workflow_property(annotation_text(title, 200))}")
    head = f"{kind} {','.join(props)}" if props else kind
    return f"::{head}::{workflow_data(annotation_text(message))}"


@contextmanager
def group(title: str, out: TextIO | None = None) -> Iterator[None]:
    """A folded section of the log."""
    emit(f"::group::{workflow_data(title)}", out)
    try:
        yield
    finally:
        emit("::endgroup::", out)


def write_outputs(path: str | os.PathLike[str], outputs: Mapping[str, str]) -> None:
    """Append step outputs to $GITHUB_OUTPUT, each in a heredoc whose delimiter the value cannot hold."""
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            while delimiter in value or delimiter in name:
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
