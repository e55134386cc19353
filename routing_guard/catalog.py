"""What the gateway offers: its token-free `GET {base}/models` listing, for `routing-guard models` and
`routing-guard init`.

The listing is read by the same code as the check's preflight (listing.py); this module fetches it
outside a check and renders it. Model IDs come from the gateway: untrusted, so the text form
passes them through `terminal_text` and the JSON form carries them as JSON strings.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing_guard.check import Checker, CheckOptions, endpoint, gateway_host
from routing_guard.config import Gateway, RoutingConfig
from routing_guard.escape import terminal_text
from routing_guard.listing import Listing
from routing_guard.probe import Prober
from routing_guard.redact import Redactor
from routing_guard.results import EXIT_OK, EXIT_OPERATIONAL
from routing_guard.transport import Connection


@dataclass(frozen=True)
class Offer:
    """The listing as fetched, with where it came from."""

    url: str
    gateway_host: str
    listing: Listing

    @property
    def ok(self) -> bool:
        return self.listing.failure is None

    @property
    def exit_code(self) -> int:
        """0 with a listing; 3 without one (whatever the reason, there is nothing to judge)."""
        return EXIT_OK if self.ok else EXIT_OPERATIONAL


def gateway_only(gateway: Gateway) -> RoutingConfig:
    """A routing config with no routes, for asking a gateway before any routing file exists."""
    return RoutingConfig(gateway=gateway, routes=(), source=Path("-"))


def fetch_offer(
    config: RoutingConfig,
    key: str,
    options: CheckOptions,
    redactor: Redactor,
    connection: Connection,
    gateway_key: str = "",
) -> Offer:
    """GET {base}/models with the routing file's auth and headers (and the gateway's own key, in
    gateway.gateway_key_header); nothing that costs tokens."""
    checker = Checker(config, key, options, redactor, connection, gateway_key)

    async def fetch() -> Listing:
        async with Prober(
            timeout=options.timeout, retries=options.retries, concurrency=1, connection=connection
        ) as prober:
            return await checker.listing(prober)

    listing: Listing = redactor.scrub_obj(asyncio.run(fetch()))
    base = config.gateway.base_url
    return Offer(url=endpoint(base.rstrip("/"), "/models"), gateway_host=gateway_host(base), listing=listing)


def routed_by(offer: Offer, config: RoutingConfig | None) -> dict[str, list[str]]:
    """Listed ID -> the routes whose model it is (exactly or with a provider prefix)."""
    found: dict[str, list[str]] = {}
    for route in config.routes if config else ():
        entry = offer.listing.find(route.model)
        if entry is not None:
            found.setdefault(entry.id, []).append(route.name)
    return found


def as_json(offer: Offer, config: RoutingConfig | None) -> dict[str, Any]:
    routes = routed_by(offer, config)
    doc: dict[str, Any] = {
        "version": 1,
        "gateway_host": offer.gateway_host,
        "url": offer.url,
        "pass": offer.ok,
        "exit_code": offer.exit_code,
        "models": [
            {
                "id": entry.id,
                "context_window": entry.context_window,
                "deprecation_date": entry.retires.isoformat() if entry.retires else None,
                "routes": routes.get(entry.id, []),
            }
            for entry in offer.listing.models.values()
        ],
    }
    if config is not None:
        doc["unlisted_routes"] = [
            {"route": r.name, "model": r.model} for r in config.routes if offer.listing.find(r.model) is None
        ]
    if not offer.ok:
        verdict, notes, hint = offer.listing.failure_judgement()
        doc["error"] = {"verdict": verdict, "http_status": offer.listing.status, "notes": notes, "hint": hint}
    return doc


def render_text(offer: Offer, config: RoutingConfig | None) -> str:
    """A table of the listing: ID, context window, deprecation date, the routes that use it."""
    if not offer.ok:
        _, notes, hint = offer.listing.failure_judgement()
        return "\n".join(line for line in (f"GET {offer.url}: {terminal_text(notes)}", hint) if line)
    models = offer.listing.models.values()
    routes = routed_by(offer, config)
    header = ("model", "context", "deprecation", "routes")
    rows = [
        (
            terminal_text(entry.id),
            f"{entry.context_window:,}" if entry.context_window else "-",
            entry.retires.isoformat() if entry.retires else "-",
            ", ".join(routes.get(entry.id, [])) or "-",
        )
        for entry in models
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [f"GET {offer.url}: {len(rows)} model(s), no tokens spent", ""]
    for row in [header, *rows]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    unlisted = [r for r in (config.routes if config else ()) if offer.listing.find(r.model) is None]
    if unlisted:
        named = ", ".join(f"{r.name} ({terminal_text(r.model)})" for r in unlisted)
        lines += ["", f"not in the listing: {named} (an alias the gateway resolves itself is often unlisted)"]
    return "\n".join(lines)


def show_offer(
    config: RoutingConfig,
    key: str,
    fmt: str,
    redactor: Redactor,
    connection: Connection,
    *,
    routed: bool = True,
    options: CheckOptions | None = None,
    gateway_key: str = "",
) -> tuple[str, int]:
    """`routing-guard models`: the text to print (table or JSON) and the exit code.
    `routed`: the config is a real routing file (its routes are matched against the listing)."""
    import json

    offer = fetch_offer(config, key, options or CheckOptions(), redactor, connection, gateway_key)
    shown = config if routed else None
    text = json.dumps(as_json(offer, shown), indent=2) if fmt == "json" else render_text(offer, shown)
    return redactor.scrub(text), offer.exit_code
