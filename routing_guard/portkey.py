"""Portkey's answer headers, read against the strategy tree of the config the routing file sends.

`x-portkey-last-used-option-index` is a JSON path into the config (`config.targets[0].targets[1]`).
A later index means a fallback only under a `fallback`-mode group; `loadbalance` and `conditional`
groups report the target they chose. Without the config inline (a saved config ID, or none) the
strategy is unknown, so a later index is only worth a warning. See docs/verdicts.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INDEX_HEADER = "x-portkey-last-used-option-index"
RETRY_HEADER = "x-portkey-retry-attempt-count"
CONFIG_HEADER = "x-portkey-config"

_STEP = re.compile(r"targets\[(\d{1,6})\]")


@dataclass(frozen=True)
class PortkeyConfig:
    """The config a routing file sends in `x-portkey-config`: inline JSON, or a saved config's ID."""

    inline: dict[str, Any] | None


def config_of(headers: Mapping[str, str]) -> PortkeyConfig | None:
    """The Portkey config among the routing file's gateway headers, or None when it sends none."""
    for name, value in headers.items():
        if name.lower() == CONFIG_HEADER:
            try:
                doc = json.loads(value)
            except (ValueError, RecursionError):
                doc = None
            return PortkeyConfig(doc if isinstance(doc, dict) else None)
    return None


@dataclass
class OptionIndex:
    """What a later option index means under the config: at most one of the three is set."""

    fallback: str | None = None  # a fallback group's later target served
    chosen: str | None = None  # a loadbalance / conditional choice, for the notes
    unknown: str | None = None  # the strategy cannot be known, for a warning


def _describe(path: str, target: Any) -> str:
    """A target by its path, name, provider and overriding model; never its keys."""
    if not isinstance(target, dict):
        return path
    facts = []
    if isinstance(target.get("name"), str):
        facts.append(f"name {target['name'][:80]}")
    if isinstance(target.get("provider"), str):
        facts.append(f"provider {target['provider'][:40]}")
    override = target.get("override_params")
    if isinstance(override, dict) and isinstance(override.get("model"), str):
        facts.append(f"model {override['model'][:120]}")
    return f"{path} ({', '.join(facts)})" if facts else path


def read_index(value: str, config: PortkeyConfig | None) -> OptionIndex:
    """Judge one `x-portkey-last-used-option-index` value against the config sent."""
    steps = [int(n) for n in _STEP.findall(value)]
    shown = value.strip()[:80]
    if config is None or config.inline is None:
        if not any(steps):
            return OptionIndex()
        where = "a saved config" if config is not None else "a config the routing file does not send"
        return OptionIndex(
            unknown=f"{INDEX_HEADER}: {shown}: a later target answered, but the strategy is in {where}, "
            "so routing-guard cannot tell a fallback from a load-balance choice (send the config inline "
            "in gateway.headers to have it judged)"
        )
    node: Any = config.inline
    path = "config"
    chosen: list[str] = []
    for step in steps:
        strategy = node.get("strategy") if isinstance(node, dict) else None
        mode = strategy.get("mode") if isinstance(strategy, dict) else None
        targets = node.get("targets") if isinstance(node, dict) else None
        target = targets[step] if isinstance(targets, list) and step < len(targets) else None
        path += f".targets[{step}]"
        if mode == "fallback" and step > 0:
            return OptionIndex(fallback=f"{INDEX_HEADER}: {shown}: a later target of a fallback group served")
        if mode in ("loadbalance", "conditional") or (mode is None and step == 0):
            if mode is not None:
                chosen.append(f"{mode} chose {_describe(path, target)}")
        elif step > 0:
            return OptionIndex(
                unknown=f"{INDEX_HEADER}: {shown}: a later target answered under a group whose strategy "
                f"mode ({str(mode)[:40]}) routing-guard does not know"
            )
        node = target
    return OptionIndex(chosen="; ".join(chosen) or None)


def retry_note(headers: Mapping[str, str]) -> str | None:
    """`x-portkey-retry-attempt-count`: retries on the same target, -1 once they ran out."""
    value = headers.get(RETRY_HEADER, "").strip()
    if value in ("", "0") or not re.fullmatch(r"-?\d{1,4}", value):
        return None
    if value == "-1":
        return "Portkey retried the target until its retries ran out"
    return f"Portkey retried the target {int(value)} time{'s' if int(value) != 1 else ''}"


def own_refusal(status: int, doc: Any, headers: Mapping[str, str]) -> str | None:
    """Portkey refusing a request before routing it: `{"status":"failure","message":...}` and no
    x-portkey-* headers on the answer (an answer from a provider always carries some)."""
    if status < 400 or any(name.lower().startswith("x-portkey-") for name in headers):
        return None
    if isinstance(doc, dict) and doc.get("status") == "failure" and isinstance(doc.get("message"), str):
        return str(doc["message"])[:300]
    return None
