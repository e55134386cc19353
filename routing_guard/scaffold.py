"""`routing-guard init`: a first routing file, from the gateway's model listing and the repository's
coding-agent settings.

Six task classes most coding-agent setups have, each given a listed model (a larger one for the
code tasks, a small one for the quick ones, guessed from the IDs: the user is told to check), then
one route per model the agents' committed settings send (`agents.propose_routes`). Every model ID
comes from the gateway or an agent file, so each is written as a JSON-quoted YAML string, comments
included. The text is validated like any routing file before it is written, and an existing file
is never replaced. Design notes: docs/first-steps.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from routing_guard.agents import ProposedRoute, Setting, render_routes
from routing_guard.routing import load_routing_text

PLACEHOLDER_URL = "https://gateway.example.com/v1"
PLACEHOLDER_MODEL = "choose-a-model"
DEFAULT_OUTPUT = ".github/model-routing.yml"

# task class -> (size of model it usually wants, what it covers)
TASK_CLASSES: dict[str, tuple[str, str]] = {
    "code-generation": ("large", "writing and changing code"),
    "test-repair": ("large", "making failing tests pass"),
    "ci-triage": ("large", "reading CI logs to find the cause"),
    "commit-message": ("small", "commit messages and pull-request titles"),
    "docs": ("small", "documentation and comments"),
    "quick-lookup": ("small", "short questions, search and summaries"),
}
SMALL_MARKS = ("mini", "nano", "haiku", "flash", "small", "lite", "fast", "tiny", "8b", "7b", "3b")
NOT_CHAT = ("embed", "whisper", "tts", "dall-e", "image", "moderation", "rerank", "audio", "transcribe")
SHOWN_IDS = 8


class OutputExists(Exception):
    """init never overwrites: the file named (or found) is already there."""


@dataclass(frozen=True)
class Scaffold:
    text: str
    routes: tuple[str, ...]


def chat_models(ids: Sequence[str]) -> list[str]:
    """Listed IDs that look like text models (not embeddings, speech or images), in listing order."""
    return [i for i in ids if not any(mark in i.lower() for mark in NOT_CHAT)]


def is_small(model: str) -> bool:
    name = model.lower().rpartition("/")[2]
    return any(mark in name for mark in SMALL_MARKS)


def pick(ids: Sequence[str], size: str) -> str | None:
    """The first listed model of the wanted size, else the first of the other size."""
    wanted = [i for i in ids if is_small(i) == (size == "small")]
    others = [i for i in ids if i not in wanted]
    choices = wanted or others
    return choices[0] if choices else None


def _quoted(value: str) -> str:
    return json.dumps(value)


def build_scaffold(
    *,
    base_url: str | None,
    listed: Sequence[str] | None,
    listing_problem: str | None,
    proposals: Sequence[ProposedRoute],
    source: str,
    today: dt.date | None = None,
    protocol_bases: Mapping[str, str] | None = None,
) -> Scaffold:
    """The routing file text. `listed`: the gateway's IDs (None: no listing); `source`: where from."""
    today = today or dt.datetime.now(dt.UTC).date()
    ids = chat_models(listed or [])
    lines = [
        f"# Routing file scaffold written by `routing-guard init` on {today.isoformat()} from {source}.",
        "# Check each route's model (the sizes are guessed from the IDs), then run:",
        "#   routing-guard validate && routing-guard check",
    ]
    if listing_problem:
        lines.append(f"# The gateway's model listing could not be read ({_quoted(listing_problem)[1:-1]}):")
        lines.append(f"# replace {PLACEHOLDER_MODEL} with the models your gateway serves.")
    lines += ["version: 1", "gateway:", f"  base_url: {_quoted(base_url or PLACEHOLDER_URL)}"]
    if base_url is None:
        lines[-1] += "  # the gateway's base URL (or pass --gateway-url)"
    if protocol_bases:
        lines.append("  base_urls:  # where the agents' settings send these protocols")
        lines += [f"    {api}: {_quoted(url)}" for api, url in protocol_bases.items()]
    lines += ["  api: openai-chat", "routes:"]
    if ids:
        shown = ", ".join(_quoted(i) for i in ids[:SHOWN_IDS])
        more = f" and {len(ids) - SHOWN_IDS} more (routing-guard models)" if len(ids) > SHOWN_IDS else ""
        lines.append(f"  # listed by the gateway: {shown}{more}")
    names = list(TASK_CLASSES)
    for name, (size, covers) in TASK_CLASSES.items():
        model = pick(ids, size) or (proposals[0].model if proposals else PLACEHOLDER_MODEL)
        lines += [f"  {name}:  # {covers}", f"    model: {_quoted(model)}"]
    agent_routes = [p for p in proposals if p.name not in TASK_CLASSES]
    if agent_routes:
        lines.append("  # the models the coding agents' committed settings send (routing-guard agents)")
        lines.append(render_routes(agent_routes).rstrip("\n"))
        names += [p.name for p in agent_routes]
    text = "\n".join(lines) + "\n"
    load_routing_text(text, "model-routing.yml")  # a scaffold that does not validate is a bug here
    return Scaffold(text=text, routes=tuple(names))


def write_new(path: Path, text: str) -> None:
    """Create path with text; OutputExists when anything is there already (never overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except FileExistsError:
        raise OutputExists(f"{path} already exists: init never overwrites a file (choose --output)") from None
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)


class InitProblem(Exception):
    """`init` cannot write a scaffold: exit 2 with this message."""


def _shown(path: Path, cwd: Path) -> str:
    return os.path.relpath(path, cwd) if path.is_absolute() else str(path)


def init_routing_file(
    *, gateway_url: str | None, output: str | None, key: str, cwd: Path, environ: Mapping[str, str]
) -> str:
    """`routing-guard init`: write the scaffold; the line to print. InitProblem when it cannot."""
    from routing_guard.agents import discover, propose_routes
    from routing_guard.catalog import fetch_offer, gateway_only
    from routing_guard.check import CheckOptions
    from routing_guard.config import Gateway
    from routing_guard.redact import Redactor
    from routing_guard.routing import RoutingError, base_url_problem, find_routing_file, repository_root
    from routing_guard.transport import TransportError, connect

    root = repository_root(cwd) or cwd
    if output is None:
        try:
            existing: Path | None = find_routing_file(cwd)
        except RoutingError:
            existing = None
        if existing is not None:
            raise InitProblem(
                f"{_shown(existing, cwd)} is already a routing file; init never replaces one "
                "(--output PATH writes a scaffold elsewhere)"
            )
    target = cwd / output if output else root / DEFAULT_OUTPUT
    found = discover(root)
    proposals = propose_routes(found)
    listed: list[str] | None = None
    problem: str | None = None
    source = "the repository's agent settings" if proposals else "no gateway listing"
    if gateway_url:
        url = gateway_url.strip().rstrip("/")
        if (wrong := base_url_problem(url)) is not None:
            raise InitProblem(f"--gateway-url: {wrong}")
        try:
            connection = connect(url, environ, sends_secret=bool(key))
        except TransportError as err:
            raise InitProblem(str(err)) from None
        gateway = Gateway(base_url=url, auth=None if key else "none")
        redactor = Redactor([key, *found.secret_values()] if key else found.secret_values())
        offer = fetch_offer(gateway_only(gateway), key, CheckOptions(retries=1), redactor, connection)
        if offer.ok:
            listed = list(offer.listing.models)
        else:
            problem = offer.listing.failure_judgement()[1]
        source = f"GET {offer.url}" + (" and the repository's agent settings" if proposals else "")
    elif not proposals:
        problem = "no --gateway-url given, and no coding-agent settings in the repository"
    base = gateway_url.strip().rstrip("/") if gateway_url else None
    scaffold = build_scaffold(
        base_url=base,
        listed=listed,
        listing_problem=problem,
        proposals=proposals,
        source=source,
        protocol_bases=agent_bases(found.settings, base) if base else None,
    )
    try:
        write_new(target, scaffold.text)
    except OutputExists as err:
        raise InitProblem(str(err).replace(str(target), _shown(target, cwd))) from None
    return (
        f"wrote {_shown(target, cwd)}: {len(scaffold.routes)} routes ({', '.join(scaffold.routes)}). "
        "Check each model, then run: routing-guard validate && routing-guard check"
    )


def agent_bases(settings: Sequence[Setting], base_url: str) -> dict[str, str]:
    """gateway.base_urls for the protocols the agents send under another path of the same gateway
    (Claude Code's ANTHROPIC_BASE_URL=https://gw/anthropic posts to https://gw/anthropic/v1/messages)."""
    from urllib.parse import urlsplit, urlunsplit

    from routing_guard.protocols import PROTOCOLS

    origin = urlsplit(base_url)
    bases: dict[str, str] = {}
    for setting in settings:
        if setting.api is None or not setting.endpoint or setting.api in bases:
            continue
        parts = urlsplit(setting.endpoint)
        path = PROTOCOLS[setting.api].path
        same = (parts.scheme.lower(), parts.netloc.lower()) == (origin.scheme.lower(), origin.netloc.lower())
        if not same or not parts.path.endswith(path):
            continue
        base = urlunsplit(parts._replace(path=parts.path.removesuffix(path), query="", fragment=""))
        if base.rstrip("/") != base_url.rstrip("/"):
            bases[setting.api] = base.rstrip("/")
    return bases
