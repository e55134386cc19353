"""The commands that help a user start: `models` (what the gateway offers) and `init` (a first
routing file). Both are token-free: `GET {base}/models` at most.

`add_parsers` adds them to the command line; `run` executes one. The CLI passes the run's key, its
redactor and how to print, so these commands follow the same output rules as every other.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from routing_guard.credentials import GATEWAY_KEY_ENV, read_secret
from routing_guard.results import EXIT_CONFIG, EXIT_OK

if TYPE_CHECKING:  # imported by build_parser: nothing heavy at import time (--version stays fast)
    from routing_guard.config import RoutingConfig
    from routing_guard.redact import Redactor

Say = Callable[[str, bool], None]  # (text, to stderr)
COMMANDS = ("models", "init")


class StartProblem(Exception):
    """A usage or configuration problem of `models` / `init`: exit 2 with this message."""


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = commands.add_parser(
        "models", help="list the models the gateway offers: GET /models, no tokens spent"
    )
    models.add_argument("--routing-file", metavar="PATH", help="routing file (default: auto-detected)")
    models.add_argument("--gateway-url", metavar="URL", help="override gateway.base_url, or ask a gateway "
                        "before any routing file exists")  # fmt: skip
    models.add_argument("--format", choices=("text", "json"), default="text", help="stdout format (text)")
    init = commands.add_parser(
        "init", help="write a first routing file from the gateway's model list and the agents' settings"
    )
    init.add_argument("--gateway-url", metavar="URL", help="the gateway to ask for its model list")
    init.add_argument(
        "--output", metavar="PATH", help=".github/model-routing.yml by default; never overwritten"
    )


def _routing_for_models(args: argparse.Namespace) -> tuple[RoutingConfig, bool]:
    """The config to ask with, and whether it is a real routing file (its routes are shown)."""
    from routing_guard.catalog import gateway_only
    from routing_guard.config import Gateway
    from routing_guard.routing import RoutingError, base_url_problem, find_routing_file, load_routing

    url = args.gateway_url.strip().rstrip("/") if args.gateway_url else None
    if url is not None and (problem := base_url_problem(url)) is not None:
        raise StartProblem(f"--gateway-url: {problem}")
    try:
        if args.routing_file:
            path = Path(args.routing_file)
            if not path.is_file():
                raise StartProblem(f"{args.routing_file}: no such routing file")
            config = load_routing(path, args.routing_file)
        else:
            found = find_routing_file(Path.cwd())
            config = load_routing(found, os.path.relpath(found))
    except RoutingError as err:
        if url is None or args.routing_file:
            raise StartProblem(
                f"{err}\n(or name a gateway with --gateway-url to list its models without a routing file)"
            ) from None
        return gateway_only(Gateway(base_url=url)), False
    if url is not None:
        config = dataclasses.replace(config, gateway=config.gateway.moved_to(url))
    return config, True


def run_models(args: argparse.Namespace, *, key: str, redactor: Redactor, say: Say,
               environ: Mapping[str, str]) -> int:  # fmt: skip
    from routing_guard.catalog import show_offer
    from routing_guard.transport import TransportError, connect

    config, routed = _routing_for_models(args)
    if not key and config.needs_key and routed:
        raise StartProblem(
            "no API key: set $ROUTING_GUARD_API_KEY (the listing is token-free, but most gateways want "
            "the key for it). A gateway without authentication needs `gateway.auth: none`."
        )
    if not key:
        config = dataclasses.replace(config, gateway=dataclasses.replace(config.gateway, auth="none"))
    gateway_key = read_secret(environ, GATEWAY_KEY_ENV) if config.gateway.gateway_key_header else ""
    try:
        connection = connect(config.gateway.base_url, environ, sends_secret=bool(key or gateway_key))
    except TransportError as err:
        raise StartProblem(str(err)) from None
    text, code = show_offer(
        config, key, args.format, redactor, connection, routed=routed, gateway_key=gateway_key
    )
    say(text, False)
    return code


def run_init(args: argparse.Namespace, *, key: str, redactor: Redactor, say: Say,
             environ: Mapping[str, str]) -> int:  # fmt: skip
    from routing_guard.scaffold import InitProblem, init_routing_file

    try:
        said = init_routing_file(
            gateway_url=args.gateway_url, output=args.output, key=key, cwd=Path.cwd(), environ=environ
        )
    except InitProblem as err:
        raise StartProblem(str(err)) from None
    say(redactor.scrub(said), False)
    return EXIT_OK


def run(args: argparse.Namespace, *, key: str, redactor: Redactor, say: Say,
        environ: Mapping[str, str] | None = None) -> int:  # fmt: skip
    """Run `models` or `init`; StartProblem (exit EXIT_CONFIG) for a usage problem."""
    command = run_models if args.command == "models" else run_init
    return command(
        args, key=key, redactor=redactor, say=say, environ=os.environ if environ is None else environ
    )


__all__ = ["COMMANDS", "EXIT_CONFIG", "StartProblem", "add_parsers", "run"]
