"""The token-free preflight: what `GET {base}/models` says about the routed models.

Listings differ: OpenAI and Anthropic give bare IDs, OpenRouter adds `context_length` and
`top_provider.context_length`, vLLM `max_model_len`, LiteLLM's model info `max_input_tokens`.
Some carry deprecation or expiry dates; those become warnings before the date arrives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from routing_guard.probe import Exchange
from routing_guard.results import Verdict
from routing_guard.verdict import judge_http_failure, match_model

CONTEXT_FIELDS = (
    "context_length",
    "context_window",
    "max_input_tokens",
    "max_context_length",
    "max_model_len",
)
DATE_FIELDS = (
    "deprecation_date",
    "deprecation",  # Mistral's /v1/models: a datetime, or null
    "deprecated_at",
    "expiration_date",
    "expires_at",
    "shutdown_date",
    "sunset_date",
    "retirement_date",
)
WARN_DAYS = 30
# OpenRouter's listing is over 1 MiB; a listing this large is no listing routing-guard can use.
MAX_LISTING = 32 * 1024 * 1024
# Anthropic's listing comes in pages (20 models unless `limit` says more, at most 1000), each saying
# `has_more` and its `last_id`, which the next page's `after_id` continues from.
PAGE_LIMIT = 1000
MAX_PAGES = 10


@dataclass
class ListedModel:
    id: str
    context_window: int | None = None
    retires: dt.date | None = None


@dataclass
class Listing:
    status: int | None = None
    attempts: int = 0
    models: dict[str, ListedModel] = field(default_factory=dict)
    failure: str | None = None
    failure_verdict: Verdict = "bad_response"
    failure_hint: str = ""
    next_after: str | None = None  # the answer says more pages follow, after this ID
    size: int = 0  # bytes read so far, every page together
    cursors: set[str] = field(default_factory=set)  # the after_id of every page asked for so far

    def find(self, model: str, *, strict: bool = False, accept: tuple[str, ...] = ()) -> ListedModel | None:
        """The listed entry for a routed ID by the live check's matching rules: the ID itself, else
        the same model with a provider prefix on one side only, else the newest listed ID the rules
        accept (Anthropic lists `claude-sonnet-4-5-20250929`, never the alias `claude-sonnet-4-5`).
        Two different prefixes are two upstreams (`openai/gpt-4o` is not listed by `azure/gpt-4o`)."""
        if model in self.models:
            return self.models[model]
        accepted: list[ListedModel] = []
        for listed_id, entry in self.models.items():
            rule = match_model(model, listed_id, strict=strict, accept=accept)
            if rule is not None and rule.startswith("provider-prefixed form"):
                return entry
            if rule is not None:
                accepted.append(entry)
        return max(accepted, key=lambda e: e.id, default=None)  # the latest date sorts last

    def failure_judgement(self) -> tuple[Verdict, str, str]:
        return self.failure_verdict, f"model listing: {self.failure}", self.failure_hint


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _context_window(item: dict[str, Any]) -> int | None:
    for source in (item, item.get("model_info"), item.get("top_provider")):
        if isinstance(source, dict):
            for name in CONTEXT_FIELDS:
                if (window := _int(source.get(name))) is not None:
                    return window
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _retires(item: dict[str, Any]) -> dt.date | None:
    for source in (item, item.get("model_info")):
        if isinstance(source, dict):
            for name in DATE_FIELDS:
                if (day := _date(source.get(name))) is not None:
                    return day
    return None


def read_listing(exchange: Exchange, url: str) -> Listing:
    """The listing `GET url` (the base URL with `/models`) answered."""
    listing = Listing(status=exchange.status, attempts=exchange.attempts)
    if exchange.failure is not None:
        listing.failure, listing.failure_verdict = exchange.failure_detail, exchange.failure
        return listing
    if exchange.status != 200:
        judged = judge_http_failure(
            exchange.status or 0,
            exchange.json(),
            exchange.text,
            model="the listing",
            url=url,
            path="/models",
            headers=exchange.headers,
        )
        listing.failure = f"HTTP {exchange.status}"
        listing.failure_verdict, listing.failure_hint = judged.verdict, judged.hint
        if exchange.status in (404, 405) and "endpoint was not found" in judged.hint:
            listing.failure_hint += " Some gateways offer no model listing: then use the full check."
        return listing
    if exchange.truncated:
        listing.failure = f"the listing is larger than {MAX_LISTING // 1024 // 1024} MiB (not read further)"
        return listing
    doc = exchange.json()
    items = doc.get("data") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        listing.failure = "the answer is not a model list"
        return listing
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        entry = ListedModel(item["id"], _context_window(item), _retires(item))
        listing.models.setdefault(entry.id, entry)
    listing.size = len(exchange.text.encode("utf-8", "surrogatepass"))
    if isinstance(doc, dict) and doc.get("has_more") is True:
        last_id = doc.get("last_id")
        if isinstance(last_id, str) and last_id:
            listing.next_after = last_id
        else:  # more pages, and no way to ask for them
            listing.failure = "the listing says it has more pages but gives no `last_id` to continue from"
    return listing


def next_page_url(url: str, after_id: str) -> str:
    """The listing URL for the page after `after_id`, its own query (Azure's api-version) kept."""
    parts = urlsplit(url)
    page = urlencode([("after_id", after_id), ("limit", str(PAGE_LIMIT))])
    return urlunsplit(parts._replace(query=f"{parts.query}&{page}" if parts.query else page))


def add_page(listing: Listing, page: Listing, number: int) -> None:
    """Join a later page to the listing; the listing fails when the page does, or when the pages
    repeat a cursor, pass MAX_PAGES or MAX_LISTING: an incomplete listing could miss a routed model."""
    listing.attempts += page.attempts
    if page.failure is not None:
        listing.status = page.status
        listing.failure = f"page {number}: {page.failure}"
        listing.failure_verdict, listing.failure_hint = page.failure_verdict, page.failure_hint
        listing.next_after = None
        return
    for model_id, entry in page.models.items():
        listing.models.setdefault(model_id, entry)
    listing.size += page.size
    if listing.next_after is not None:
        listing.cursors.add(listing.next_after)
    listing.next_after = page.next_after
    if listing.next_after is None:
        return
    if listing.next_after in listing.cursors:
        cursor = listing.next_after[:100]
        listing.failure = f"page {number} points back to an earlier page (after_id {cursor})"
    elif number >= MAX_PAGES:
        listing.failure = f"the listing goes on past {MAX_PAGES} pages (not read further)"
    elif listing.size >= MAX_LISTING:
        listing.failure = f"the listing is larger than {MAX_LISTING // 1024 // 1024} MiB (not read further)"
    if listing.failure is not None:
        listing.next_after = None


def retirement_warning(entry: ListedModel, today: dt.date | None = None) -> str | None:
    """A warning when the listing says the model retires within WARN_DAYS (or already has)."""
    if entry.retires is None:
        return None
    today = today or dt.datetime.now(dt.UTC).date()
    if (entry.retires - today).days > WARN_DAYS:
        return None
    when = "retired on" if entry.retires <= today else "retires on"
    return f"{entry.id[:200]} {when} {entry.retires.isoformat()} per the gateway's model listing"


def listing_summary(listing: Listing, models: list[str], missing: list[str]) -> str:
    """One line on what the preflight found: how many models, which routed IDs (`missing`) are not listed."""
    if listing.failure is not None:
        return f"GET /models: no usable listing ({listing.failure})"
    routed = list(dict.fromkeys(models))
    missing = list(dict.fromkeys(missing))
    line = f"GET /models: {len(listing.models)} model(s) listed; "
    if not missing:
        return line + f"all {len(routed)} routed model ID(s) listed"
    shown = ", ".join(m[:100] for m in missing[:10])
    if len(missing) > 10:
        shown += f" and {len(missing) - 10} more"
    listed = len(routed) - len(missing)
    return line + f"{listed} of {len(routed)} routed model ID(s) listed (not listed: {shown})"
