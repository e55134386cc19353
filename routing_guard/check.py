"""One check run: every selected route, the error path per protocol and the model listing, concurrently.

Turns a validated `RoutingConfig` into a `RunResult`. All gateway text that enters the result is
scrubbed of the key here, at the single point where it enters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from routing_guard import portkey
from routing_guard.cancel import Cancelled
from routing_guard.config import Api, Route, RoutingConfig
from routing_guard.listing import (
    MAX_LISTING,
    ListedModel,
    Listing,
    add_page,
    listing_summary,
    next_page_url,
    read_listing,
    retirement_warning,
)
from routing_guard.probe import Exchange, Prober
from routing_guard.progress import ProgressSink
from routing_guard.protocols import PROTOCOLS, Protocol, Reply, auth_headers, output_budget
from routing_guard.redact import Redactor
from routing_guard.results import ErrorPathResult, RouteResult, RunResult
from routing_guard.sendable import gateway_key_headers
from routing_guard.transport import Connection, connect
from routing_guard.verdict import (
    Judgement,
    is_echo,
    judge_error_path,
    judge_http_failure,
    judge_reply,
    read_served,
)

ModelsMode = Literal["off", "with", "only"]
T = TypeVar("T")
U = TypeVar("U")


@dataclass
class CheckOptions:
    routes: tuple[str, ...] = ()  # empty: every route
    invalid_model: str | None = None  # None: the routing file's
    skip_error_path: bool = False
    strict: bool = False
    models: ModelsMode = "off"
    timeout: float = 30.0
    retries: int = 2
    concurrency: int = 32
    time_budget: float | None = None  # seconds for the whole run; None: each probe's own budget only
    progress: ProgressSink | None = None  # told when each probe starts and ends


def gateway_host(base_url: str) -> str:
    """Host, with the port where the URL names one; never userinfo."""
    return urlsplit(base_url).netloc.rpartition("@")[2]


def location_host(location: str) -> str:
    """Where a redirect points, for its notes; any Location a server sends, parsable or not."""
    try:
        return gateway_host(location)
    except ValueError:  # "http://a]b/": "Invalid IPv6 URL"
        return "a malformed URL"


def endpoint(base_url: str, path: str) -> str:
    """The base URL with the protocol's path appended, keeping a query such as Azure's ?api-version=."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + path))


def route_result(
    route: Route, *, http_status: int | None, attempts: int, requested_tokens: int = 0
) -> RouteResult:
    return RouteResult(
        route=route.name,
        model_requested=route.model,
        api=route.api,
        line=route.line,
        http_status=http_status,
        attempts=attempts,
        requested_tokens=requested_tokens,
    )


@dataclass
class ErrorProbe:
    """The error path's answer, kept until the routes of its protocol are judged."""

    api: Api
    model: str
    exchange: Exchange
    stream: bool
    url: str
    notes: list[str]
    requested_tokens: int
    fields: tuple[str, ...]  # the body's fields besides the model and the prompt, for the verdict


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Checker:
    def __init__(
        self,
        config: RoutingConfig,
        key: str,
        options: CheckOptions,
        redactor: Redactor,
        connection: Connection,
        gateway_key: str = "",
    ) -> None:
        self.config = config
        self.connection = connection
        self.gateway_key = gateway_key
        self.internal_errors: list[str] = []
        self.key = key
        self.options = options
        self.redactor = redactor
        self.base = config.gateway.base_url.rstrip("/")
        self.portkey = portkey.config_of(config.gateway.headers)
        self.echo_only: set[str] = set()  # routes that passed on an echo alone (exact or prefixed), no header
        self.answered: list[RouteResult] = []  # as they come back, for a cancelled run's partial report

    def headers(self, protocol: Protocol) -> dict[str, str]:
        auth = self.config.gateway.auth or protocol.default_auth
        return {
            **protocol.extra_headers(),
            **self.config.gateway.headers,
            **auth_headers(auth, self.key),
            **gateway_key_headers(self.config.gateway, self.gateway_key),
        }

    async def run(self, routes: tuple[Route, ...]) -> RunResult:
        gateway = self.config.gateway
        run = RunResult(
            gateway_host=gateway_host(self.base),
            api=gateway.api,
            routing_file=str(self.config.source),
            routes=[],
            error_paths=[],
            date_utc=utc_now(),
            mode="models-only" if self.options.models == "only" else "check",
        )
        want_listing = self.options.models != "off" or any(r.min_context for r in routes)
        budget = self.options.time_budget
        async with Prober(
            timeout=self.options.timeout,
            retries=self.options.retries,
            concurrency=self.options.concurrency,
            connection=self.connection,
            deadline=None if budget is None else time.monotonic() + budget,
        ) as prober:
            listing_task = (
                asyncio.ensure_future(
                    self.watched("GET /models", self.guarded(self.listing(prober), crashed_listing))
                )
                if want_listing
                else None
            )
            echoing: set[str] = set()
            if self.options.models != "only":
                # Routes and error paths go out together; an error path is judged once they are back.
                templates = {r.api: r for r in reversed(routes)}  # the first route of each protocol
                route_tasks = [
                    self.watched(r.name, self.guarded(self.probe_route(prober, r), partial(crashed_route, r)))
                    for r in routes
                ]
                error_tasks = (
                    []
                    if self.options.skip_error_path
                    else [
                        self.watched(
                            f"error path [{api}]",
                            self.guarded(
                                self.probe_error_path(prober, api, templates.get(api)),
                                partial(self.crashed_error_path, api),
                            ),
                        )
                        for api in self.config.apis_in_use(routes)
                    ]
                )
                gathered = await asyncio.gather(*route_tasks, *error_tasks)
                run.routes = [r for r in gathered if isinstance(r, RouteResult)]
                for probe in gathered[len(route_tasks) :]:
                    if isinstance(probe, ErrorPathResult):  # the probe crashed: said so already
                        run.error_paths.append(probe)
                        continue
                    if not isinstance(probe, ErrorProbe):
                        continue
                    try:
                        error_path, echoed = self.judge_error_path(probe, run.routes)
                    except Exception as exc:
                        run.error_paths.append(self.crashed_error_path(probe.api, self.crash(exc)))
                        continue
                    run.error_paths.append(error_path)
                    echoing |= {probe.api} if echoed else set()
            listing = await listing_task if listing_task else None
            judged_by_listing = [
                (route, result)
                for route, result in zip(routes, run.routes, strict=False)
                if route.api in echoing and route.name in self.echo_only and result.verdict == "pass"
            ]
            if judged_by_listing and listing is None:
                listing = await self.watched("GET /models", self.listing(prober))
        for route, result in judged_by_listing:
            self.apply_echo_rule(route, result, listing)
        if listing is not None and self.options.models == "only":
            run.routes = [self.listed_only(route, listing) for route in routes]
        elif listing is not None and want_listing:
            for route, result in zip(routes, run.routes, strict=True):
                if not result.notes.startswith("echoed, not listed"):  # said already
                    self.apply_listing(route, result, listing, warn_missing=self.options.models == "with")
        if listing is not None and want_listing:
            missing = [r.model for r in routes if self.listed(r, listing) is None]
            run.listing_summary = listing_summary(listing, [r.model for r in routes], missing)
        statuses = {e.api: e.http_status for e in run.error_paths}
        for result in run.routes:
            result.error_path_status = statuses.get(result.api)
            result.gateway_host = run.gateway_host
        if self.internal_errors:
            run.internal_errors = self.internal_errors
            run.warnings.append(
                "routing-guard hit an internal error (a bug) and could not judge everything: "
                f"{'; '.join(self.internal_errors)[:500]}. {BUG_REPORT}"
            )
        scrubbed: RunResult = self.redactor.scrub_obj(run)
        return scrubbed

    async def guarded(self, probe: Awaitable[T], crashed: Callable[[str], U]) -> T | U:
        """Await a probe; a bug in it becomes a record that says so (exit 4), and the other probes'
        verdicts are kept and written."""
        try:
            return await probe
        except Exception as exc:
            return crashed(self.crash(exc))

    def crash(self, exc: Exception) -> str:
        """Record a bug in a probe or its judging; re-raised under ROUTING_GUARD_DEBUG."""
        if os.environ.get("ROUTING_GUARD_DEBUG"):
            raise exc
        what = f"{type(exc).__name__}: {exc}"[:300]
        self.internal_errors.append(what)
        return what

    def crashed_error_path(self, api: Api, what: str) -> ErrorPathResult:
        model = self.options.invalid_model or self.config.gateway.invalid_model
        return ErrorPathResult(api=api, model_requested=model, notes=f"not judged: internal error ({what})")

    async def watched(self, label: str, probe: Awaitable[T]) -> T:
        """Await a probe, telling the progress sink (if any) when it starts and ends."""
        sink = self.options.progress
        if sink is not None:
            sink.started(label)
        try:
            result = await probe
        finally:
            if sink is not None:
                sink.finished(label)
        if isinstance(result, RouteResult):
            self.answered.append(result)
        return result

    def partial(self, routes: tuple[Route, ...], cancelled: str) -> RunResult:
        """What was judged when the run was cancelled: the routes answered so far, the rest skipped."""
        answered = {result.route: result for result in self.answered}
        run = RunResult(
            gateway_host=gateway_host(self.base),
            api=self.config.gateway.api,
            routing_file=str(self.config.source),
            routes=[],
            error_paths=[],
            date_utc=utc_now(),
            cancelled=cancelled,
        )
        for route in routes:
            result = answered.get(route.name) or route_result(route, http_status=None, attempts=0)
            if route.name not in answered:
                result.notes = f"cancelled ({cancelled}) before an answer"
            result.gateway_host = run.gateway_host
            run.routes.append(result)
        scrubbed: RunResult = self.redactor.scrub_obj(run)
        return scrubbed

    # -- probes --------------------------------------------------------------------------------

    async def send(
        self, prober: Prober, protocol: Protocol, route: Route | None, model: str
    ) -> tuple[Exchange, dict[str, Any], list[str]]:
        extra = route.request if route else {}
        stream = route.stream if route else False
        body = protocol.body(model, extra, stream)
        url = endpoint(self.config.gateway.base_for(protocol.name).rstrip("/"), protocol.path)
        headers = self.headers(protocol)
        if route is not None and (route.agent_headers or route.agent_query):  # as a coding agent calls it
            url += f"?{route.agent_query}" if route.agent_query else ""
            headers = {**route.agent_headers, **headers}
        terminal = protocol if stream else None
        exchange = await prober.post(url, headers, body, terminal)
        notes: list[str] = []
        # OpenAI's reasoning models refuse max_tokens on chat completions; ask once more the way they want.
        if (
            exchange.status == 400
            and "max_tokens" in body
            and "max_completion_tokens" in exchange.text
            and "max_tokens" not in extra
        ):
            body["max_completion_tokens"] = body.pop("max_tokens")
            retry = await prober.post(url, headers, body, terminal)
            retry.attempts += exchange.attempts
            exchange = retry
            notes.append("sent max_completion_tokens (the model refuses max_tokens; set it in `request`)")
        if exchange.retried:
            notes.append(f"retried after {', '.join(exchange.retried)}")
        return exchange, body, notes

    @staticmethod
    def read_reply(protocol: Protocol, exchange: Exchange, stream: bool) -> Reply:
        if stream and (exchange.events or exchange.cut_short):
            reply = protocol.parse_stream(exchange.events)
            reply.cut_short = exchange.cut_short or reply.cut_short
            return reply
        doc = exchange.json()
        if doc is None:
            return Reply(unreadable="the body is not JSON")
        return protocol.parse(doc)

    async def probe_route(self, prober: Prober, route: Route) -> RouteResult:
        protocol = PROTOCOLS[route.api]
        exchange, body, notes = await self.send(prober, protocol, route, route.model)
        result = route_result(
            route,
            http_status=exchange.status,
            attempts=exchange.attempts,
            requested_tokens=output_budget(body) * exchange.attempts,
        )
        reply: Reply | None = None
        if exchange.failure is not None:
            judged = self.transport_judgement(exchange)
        elif exchange.undecodable and exchange.status == 200:
            judged = Judgement(
                "bad_response",
                f"the answer is compressed as {exchange.undecodable!r}, which routing-guard does not decode",
                "The gateway (or a proxy in front of it) ignored Accept-Encoding: gzip, deflate.",
            )
        elif exchange.truncated and exchange.status == 200:
            judged = Judgement(
                "bad_response",
                "the answer was larger than the read limit (not read further)",
                "A one-word probe got more than 2 MiB back: check what the gateway (or a proxy) sends.",
            )
        elif exchange.status != 200:
            location = location_host(exchange.headers.get("location", ""))
            judged = judge_http_failure(
                exchange.status or 0,
                exchange.json(),
                exchange.text,
                model=route.model,
                location=location,
                url=endpoint(self.config.gateway.base_for(route.api), protocol.path),
                path=protocol.path,
                headers=exchange.headers,
            )
        else:
            reply = self.read_reply(protocol, exchange, route.stream)
            served = read_served(exchange.headers, reply, self.portkey)
            result.served_model, result.served_header = served.model, served.header
            result.provider = served.provider
            judged = judge_reply(
                requested=route.model,
                reply=reply,
                served=served,
                strict=route.strict or self.options.strict,
                accept=route.accept,
                served_pins=route.served,
                budget=output_budget(body),
                attempts=exchange.attempts,
            )
            if judged.verdict == "pass" and served.model is None and is_echo(route.model, reply.model or ""):
                self.echo_only.add(route.name)
            if route.stream and not exchange.events:
                notes.append("asked to stream, the gateway answered with plain JSON")
                result.warnings.append("asked to stream, the gateway answered with plain JSON (no SSE)")
        if reply is not None:
            result.model_returned = reply.model
            result.choices_count = reply.choices
        result.verdict, result.hint = judged.verdict, judged.hint
        result.notes = "; ".join(n for n in [judged.notes, *notes] if n)
        result.warnings.extend(judged.warnings)
        result.date_utc = utc_now()
        return result

    async def probe_error_path(self, prober: Prober, api: Api, template: Route | None) -> ErrorProbe:
        """The invalid ID sent exactly as `template` (the protocol's first route) is sent: same body
        fields, headers, auth and stream flag; only the model differs (CONTRACT "The checks")."""
        protocol = PROTOCOLS[api]
        model = self.options.invalid_model or self.config.gateway.invalid_model
        exchange, body, notes = await self.send(prober, protocol, template, model)
        return ErrorProbe(
            api=api,
            model=model,
            exchange=exchange,
            stream=template.stream if template else False,
            url=endpoint(self.config.gateway.base_for(api), protocol.path),
            notes=notes,
            requested_tokens=output_budget(body) * exchange.attempts,
            fields=tuple(k for k in body if k not in ("model", "messages", "input", "stream")),
        )

    def judge_error_path(self, probe: ErrorProbe, routes: list[RouteResult]) -> tuple[ErrorPathResult, bool]:
        """The error path's verdict, with the routes of its protocol as evidence; and whether the
        gateway echoed the invalid ID as the model of its 200."""
        exchange = probe.exchange
        result = ErrorPathResult(
            api=probe.api,
            model_requested=probe.model,
            http_status=exchange.status,
            attempts=exchange.attempts,
            requested_tokens=probe.requested_tokens,
        )
        same = [r for r in routes if r.api == probe.api]
        if exchange.failure is not None:
            judged = self.transport_judgement(exchange)
            judged.hint = "No verdict on the error path: " + judged.hint
        else:
            protocol = PROTOCOLS[probe.api]
            reply = self.read_reply(protocol, exchange, probe.stream) if exchange.status == 200 else None
            served = read_served(exchange.headers, reply, self.portkey)
            judged = judge_error_path(
                exchange.status or 0,
                exchange.json(),
                exchange.text,
                reply,
                served,
                model=probe.model,
                served_routes=[r.route for r in same if r.http_status == 200 and r.verdict != "bad_response"],
                route_statuses=[r.http_status for r in same],
                headers=exchange.headers,
                url=probe.url,
                path=protocol.path,
                sent_fields=probe.fields,
            )
            result.model_returned = reply.model if reply else None
            result.served_model = served.model
        result.verdict, result.hint = judged.verdict, judged.hint
        result.notes = "; ".join(n for n in [judged.notes, *probe.notes] if n)
        return result, judged.echoed

    def transport_judgement(self, exchange: Exchange) -> Judgement:
        tries = f"{exchange.attempts} attempt" + ("s" if exchange.attempts != 1 else "")
        if exchange.failure == "timeout" and exchange.out_of_budget:
            return Judgement(
                "timeout",
                f"the run's time budget of {self.options.time_budget:g}s ran out ({tries})",
                "The run's total time budget ran out: raise --time-budget (input time-budget), "
                "or check why the gateway is slow.",
            )
        if exchange.failure == "timeout":
            return Judgement(
                "timeout",
                f"no complete answer within {self.options.timeout:g}s ({tries})",
                "The gateway did not answer in time: raise --timeout (input timeout) or check the gateway.",
            )
        hint = f"Could not reach {gateway_host(self.base)}: check gateway.base_url, DNS and the network."
        if "TLS" in exchange.failure_detail:
            hint = (
                f"TLS failed; trusted: {self.connection.trust}. For a gateway behind a corporate CA "
                "(or a TLS-inspecting proxy), pass its PEM file with --ca-certificates PATH "
                "(action input ca-certificates)."
            )
        if self.connection.proxy_shown:
            hint += f" Requests go through the proxy {self.connection.proxy_shown}; NO_PROXY bypasses it."
        return Judgement("unreachable", f"{exchange.failure_detail} ({tries})", hint)

    # -- model listing -------------------------------------------------------------------------

    async def listing(self, prober: Prober) -> Listing:
        """GET {base}/models, and its later pages where the answer says there are more."""
        protocol = PROTOCOLS[self.config.gateway.api]
        url = endpoint(self.base, "/models")
        listing = read_listing(await prober.get(url, self.headers(protocol), max_body=MAX_LISTING), url)
        number = 1
        while listing.next_after is not None:
            number += 1
            page_url = next_page_url(url, listing.next_after)
            # every page together stays under MAX_LISTING; a first page whose text re-encodes larger
            # (replacement characters) leaves no budget: one byte, so the page reads as too large
            budget = max(MAX_LISTING - listing.size, 1)
            exchange = await prober.get(page_url, self.headers(protocol), max_body=budget)
            add_page(listing, read_listing(exchange, page_url), number)
        return listing

    def listed(self, route: Route, listing: Listing) -> ListedModel | None:
        """The listing's entry for a route, by the matching rules its live check uses."""
        return listing.find(route.model, strict=route.strict or self.options.strict, accept=route.accept)

    def apply_echo_rule(self, route: Route, result: RouteResult, listing: Listing | None) -> None:
        """A route that passed on an exact echo, on a gateway whose error path shows it echoes any ID:
        the echo proves nothing, so the model listing decides (docs/verdicts.md)."""
        echoes = "the gateway echoes any model ID (see the error path)"
        if listing is None or listing.failure is not None:
            why = listing.failure if listing is not None else "was not read"
            result.warnings.append(
                f"identity not observed: {echoes}, and the model listing is unusable ({why}), so nothing "
                f"shows which model served {route.model}"
            )
            result.notes += "; identity not observed (the gateway echoes any ID)"
            return
        entry = self.listed(route, listing)
        if entry is None:
            result.verdict = "model_mismatch"
            result.notes = f"echoed, not listed: {echoes}, and its model listing does not carry {route.model}"
            result.hint = (
                f"The gateway answers any model ID with whatever it runs, and `{route.model}` is not in its "
                "model listing: another model served this route. Route to a model the gateway lists "
                "(`routing-guard check --models-only`), or make the gateway refuse unknown IDs."
            )
            return
        result.notes += f"; identity rests on the listing: {echoes}, and its model listing carries {entry.id}"

    def apply_listing(
        self, route: Route, result: RouteResult, listing: Listing, *, warn_missing: bool
    ) -> None:
        if listing.failure is not None:
            if warn_missing or route.min_context:
                result.warnings.append(f"model listing unavailable: {listing.failure}")
            return
        entry = self.listed(route, listing)
        if entry is None:
            if warn_missing or route.min_context:
                result.warnings.append(
                    f"{route.model} is not in the gateway's model listing (aliases often are not)"
                )
            return
        self.check_entry(route, result, entry)

    @staticmethod
    def check_entry(route: Route, result: RouteResult, entry: ListedModel) -> None:
        """Retirement dates and the context window the listing gives for a routed model."""
        if (warning := retirement_warning(entry)) is not None:
            result.warnings.append(warning)
        window = entry.context_window
        if not route.min_context:
            return
        if window is None:
            result.warnings.append("the model listing does not say the context window")
        elif window < route.min_context and result.passed:
            result.verdict = "context_too_small"
            result.notes = f"context window {window} < min_context {route.min_context}"
            result.hint = "The gateway serves this model with a smaller context window than the route needs."

    def listed_only(self, route: Route, listing: Listing) -> RouteResult:
        result = route_result(route, http_status=listing.status, attempts=listing.attempts)
        result.date_utc = utc_now()
        if listing.failure is not None:
            result.verdict, result.notes, result.hint = listing.failure_judgement()
            return result
        entry = self.listed(route, listing)
        if entry is None:
            result.verdict = "not_listed"
            result.notes = "not in the gateway's model listing"
            result.hint = (
                "The listing does not name this model. If it is an alias the gateway does not list, "
                "use the full check instead of --models-only."
            )
            return result
        result.verdict, result.notes = "pass", f"listed as {entry.id}"
        self.check_entry(route, result, entry)
        return result


BUG_REPORT = (
    "Please report it as an issue in routing-guard's repository, with the output of the same run "
    "with ROUTING_GUARD_DEBUG=1 (check it for secrets first)."
)


def crashed_route(route: Route, what: str) -> RouteResult:
    result = route_result(route, http_status=None, attempts=0)
    result.notes = f"not judged: internal error ({what})"
    result.date_utc = utc_now()
    return result


def crashed_listing(what: str) -> Listing:
    return Listing(failure=f"not read: internal error ({what})")


class UnknownRoute(Exception):
    """A route selected by name that the routing file does not have."""


def select_routes(config: RoutingConfig, names: tuple[str, ...]) -> tuple[Route, ...]:
    """The routes to probe, in file order; raises UnknownRoute naming a name the file lacks."""
    if not names:
        return config.routes
    known = {r.name for r in config.routes}
    for name in names:
        if name not in known:
            raise UnknownRoute(name)
    return tuple(r for r in config.routes if r.name in names)


def run_check(
    config: RoutingConfig,
    key: str,
    options: CheckOptions,
    redactor: Redactor,
    connection: Connection | None = None,
    *,
    gateway_key: str = "",
) -> RunResult:
    """Run the check; without `connection`, proxies and CAs come from the environment
    (raises TransportError for a setting that cannot work, before any request)."""
    routes = select_routes(config, options.routes)
    if connection is None:
        sends_secret = config.needs_key or bool(gateway_key)
        connection = connect(config.gateway.base_url, os.environ, sends_secret=sends_secret)
    checker = Checker(config, key, options, redactor, connection, gateway_key)
    try:
        return asyncio.run(checker.run(routes))
    except Cancelled as cancelled:
        cancelled.partial = checker.partial(routes, cancelled.signal_name)
        raise
