"""Workflow commands on stdout: escaping, annotations, masks, log groups and the stop-commands fence.

The runner reads a stdout line that starts with `::` as a command and decodes `%25`, `%0D`, `%0A`
(and `%3A`, `%2C` in properties) inside it; docs/runner.md has the rules and their sources.
"""

from __future__ import annotations

import base64
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from routing_guard.escape import annotation_text

_SURROGATE = re.compile("[\ud800-\udfff]")


def workflow_data(text: str) -> str:
    """Escape the message part of a workflow command (`::error::MESSAGE`)."""
    text = _SURROGATE.sub("\ufffd", text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """Escape a property value of a workflow command (`::error file=VALUE,title=VALUE::`)."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


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


@contextmanager
def stop_commands(out: TextIO | None = None) -> Iterator[None]:
    """Between the markers the runner reads no command: untrusted output is printed inside."""
    token = secrets.token_hex(16)
    emit(f"::stop-commands::{token}", out)
    try:
        yield
    finally:
        emit(f"::{token}::", out)


def mask_key(*keys: str) -> None:
    """Mask the keys and the forms of them that could be printed, before anything else is printed."""
    for key in filter(None, keys):
        for value in (key, f"Bearer {key}", base64.b64encode(key.encode()).decode()):
            add_mask(value)
