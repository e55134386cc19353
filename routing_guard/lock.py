"""The routing lock: who served each route when it was locked, and whether that has moved since.

Reads a lock file (every problem a LockError naming the file and the line), writes one (stable,
sorted, diff-friendly JSON), builds a new lock from a passing run, and judges a run against a lock:
a route whose answering identity moved is `drifted`. The design is docs/lock.md's.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped, unused-ignore]

from routing_guard.config import Route, RoutingConfig
from routing_guard.files import FileProblem, read_capped
from routing_guard.results import RouteResult, RunResult
from routing_guard.routing import ROUTE_NAME, RoutingError, _describe, _JsonReader, _Parsed

LOCK_VERSION = 1
LOCK_SUFFIX = ".lock.json"
MARKDOWN_LOCK_NAME = "model-routing.lock.json"  # the lock of a routing block inside an .md file
MAX_BYTES = 1024 * 1024

OnDrift = Literal["fail", "warn"]
LockChanges = dict[str, tuple[str | None, str | None]]  # route -> (locked identity was, now); None: no entry

# The identity fields a lock entry pins, as named in the file and in drift notes.
IDENTITY_FIELDS = ("model_returned", "served_model", "provider")


class LockError(Exception):
    """A lock file that cannot be used (exit 2), with the file, the line (if known) and what is wrong."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class LockEntry:
    """What answered one route's probe when it was locked; None where the gateway said nothing."""

    api: str
    locked_utc: str
    model_requested: str
    model_returned: str | None
    provider: str | None = None
    served_header: str | None = None
    served_model: str | None = None

    def same_identity(self, other: LockEntry) -> bool:
        return all(getattr(self, name) == getattr(other, name) for name in IDENTITY_FIELDS)


@dataclass(frozen=True)
class Lock:
    gateway_host: str
    routing_file: str
    routes: Mapping[str, LockEntry]
    path: str = ""  # the lock file as the user named it, for messages
    lines: Mapping[str, int] = field(default_factory=dict)  # route name -> its line in the lock file


def default_lock_path(routing_file: Path) -> Path:
    """Beside the routing file: `x.yml` -> `x.lock.json`; a block in an `.md` -> `model-routing.lock.json`."""
    if routing_file.suffix.lower() == ".md":
        return routing_file.with_name(MARKDOWN_LOCK_NAME)
    return routing_file.with_name(routing_file.stem + LOCK_SUFFIX)


def lock_path_for(routing_file: Path, lock_file: str | None) -> Path:
    """The lock a run uses: the one named (--lock-file, input lock-file), else the default one."""
    return Path(lock_file) if lock_file else default_lock_path(routing_file)


def read_lock_for(routing_file: Path, lock_file: str | None) -> Lock | None:
    """The lock `check` and `validate` judge against: a named lock must exist, the default one may not."""
    path = lock_path_for(routing_file, lock_file)
    if not lock_file and not path.exists():
        return None
    return load_lock(path, str(path))


# --- reading ---------------------------------------------------------------------------------------


@cache
def _validator() -> Any:
    schema = json.loads(
        resources.files("routing_guard").joinpath("schema/lock.schema.json").read_text("utf-8")
    )
    return Draft202012Validator(schema)


_RELOCK = "write it again with `routing-guard lock` rather than by hand"


def load_lock(path: Path, display_path: str | None = None) -> Lock:
    """Read and validate a lock file; raises LockError (also for a missing file)."""
    display = str(path) if display_path is None else display_path
    if not os.path.lexists(path):
        raise LockError(display, None, "lock file not found; create it with `routing-guard lock`")
    try:
        # A committed symlink can name a FIFO or a device: read only a regular file, capped.
        data = read_capped(path, MAX_BYTES)
    except FileProblem as problem:
        raise LockError(display, None, str(problem)) from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise LockError(display, data.count(b"\n", 0, exc.start) + 1, "is not UTF-8 text") from None
    return parse_lock(text, display)


def parse_lock(text: str, display: str) -> Lock:
    """A lock from its text (e.g. read from git); raises LockError naming display and the line."""
    if not text.strip():
        raise LockError(display, None, f"is empty; {_RELOCK}")
    parsed = _Parsed(display)
    try:
        _JsonReader(text, parsed).read()
    except RoutingError as err:  # JSON syntax or a duplicate key, with its line
        raise LockError(display, err.line, err.message) from None
    except RecursionError:
        raise LockError(display, None, "is nested too deeply to be a lock file") from None
    errors: list[ValidationError] = list(_validator().iter_errors(parsed.data))
    if errors:
        line, message = _describe(best_match(errors), parsed)[0]
        more = len(errors) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise LockError(display, line, f"{message} ({_RELOCK})")
    data: dict[str, Any] = parsed.data
    for name in data["routes"]:
        if not ROUTE_NAME.fullmatch(name):  # the schema's pattern lets a trailing newline through
            raise LockError(display, parsed.line(("routes", name)), f"route name {name!r} is not allowed")
    return Lock(
        gateway_host=data["gateway_host"],
        routing_file=data["routing_file"],
        routes={name: LockEntry(**entry) for name, entry in data["routes"].items()},
        path=display,
        lines={name: parsed.lines.get(("routes", name), 0) for name in data["routes"]},
    )


def lock_warnings(lock: Lock, config: RoutingConfig, routes: tuple[Route, ...] | None = None) -> list[str]:
    """Where the lock and the routing file disagree (each says to re-lock); the given routes, or all."""
    relock = f"run `routing-guard lock` and commit {lock.path}"
    warnings = []
    for route in config.routes if routes is None else routes:
        entry = lock.routes.get(route.name)
        if entry is None:
            warnings.append(f"{route.name}: not locked (no entry in {lock.path}); {relock}")
        elif (problem := _entry_outdated(entry, route)) is not None:
            warnings.append(f"{route.name}: {problem}; {relock}")
    if routes is None:
        known = {route.name for route in config.routes}
        for name in lock.routes:
            if name not in known:
                line = lock.lines.get(name) or None
                where = f"{lock.path}:{line}" if line else lock.path
                warnings.append(f"{where}: entry {name!r} names no route of {config.source}; {relock}")
    return warnings


def _entry_outdated(entry: LockEntry, route: Route) -> str | None:
    if entry.model_requested != route.model:
        return (
            f"the routing file now routes {route.model}, the lock was taken for {entry.model_requested}: "
            "not compared with the lock"
        )
    if entry.api != route.api:
        return (
            f"the route now uses {route.api}, the lock was taken over {entry.api}: not compared with the lock"
        )
    return None


# --- writing ---------------------------------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    # A lone surrogate (from a gateway's broken \ud800 escape) would make the file invalid for other readers.
    return value.encode("utf-8", "replace").decode("utf-8") if value is not None else None


def entry_of(result: RouteResult) -> LockEntry:
    """The lock entry a passing route result records."""
    return LockEntry(
        api=result.api,
        locked_utc=result.date_utc,
        model_requested=result.model_requested,
        model_returned=_clean(result.model_returned),
        provider=_clean(result.provider),
        served_header=result.served_header if result.served_model else None,
        served_model=_clean(result.served_model),
    )


def relock(previous: Lock | None, run: RunResult, *, only_selected: bool) -> Lock:
    """The lock after a passing run: its routes' entries rewritten, the rest kept if only_selected.

    An entry whose identity did not change keeps its date, so re-locking an unchanged gateway
    writes an identical file (no diff, no pull request).
    """
    routes: dict[str, LockEntry] = dict(previous.routes) if previous is not None and only_selected else {}
    for result in run.routes:
        entry = entry_of(result)
        before = previous.routes.get(result.route) if previous is not None else None
        if (
            before is not None
            and before.same_identity(entry)
            and before.model_requested == entry.model_requested
        ):
            entry = replace(entry, locked_utc=before.locked_utc)
        routes[result.route] = entry
    return Lock(
        gateway_host=run.gateway_host,
        routing_file=run.routing_file,
        routes=routes,
        path=previous.path if previous is not None else "",
    )


def lock_document(lock: Lock) -> dict[str, Any]:
    return {
        "version": LOCK_VERSION,
        "gateway_host": lock.gateway_host,
        "routing_file": lock.routing_file,
        "routes": {
            name: {
                "api": entry.api,
                "locked_utc": entry.locked_utc,
                "model_requested": entry.model_requested,
                "model_returned": entry.model_returned,
                "provider": entry.provider,
                "served_header": entry.served_header,
                "served_model": entry.served_model,
            }
            for name, entry in lock.routes.items()
        },
    }


def render_lock(lock: Lock) -> str:
    """The file's text: keys sorted, 2-space indent, ASCII, one trailing newline."""
    return json.dumps(lock_document(lock), indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def write_lock(lock: Lock, path: Path) -> None:
    """Write atomically (a reader never sees half a lock); an unchanged lock is not rewritten."""
    text = render_lock(lock)
    with contextlib.suppress(FileProblem):
        if read_capped(path, MAX_BYTES) == text.encode("utf-8"):
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def identity_text(entry: LockEntry | None) -> str | None:
    """One line for a table cell: "gpt-4o-2024-08-06, served by openai/gpt-4o, provider OpenAI"."""
    if entry is None:
        return None
    parts = [entry.model_returned or "no model"]
    if entry.served_model:
        parts.append(f"served by {entry.served_model}")
    if entry.provider:
        parts.append(f"provider {entry.provider}")
    return ", ".join(parts)


def lock_diff(old: Lock | None, new: Lock | None) -> LockChanges:
    """Routes whose locked identity differs between two locks: route -> (was, now), None for no entry."""
    before = old.routes if old is not None else {}
    after = new.routes if new is not None else {}
    changed: LockChanges = {}
    for name in sorted({*before, *after}):
        was, now = before.get(name), after.get(name)
        if (
            was is None
            or now is None
            or not was.same_identity(now)
            or was.model_requested != now.model_requested
        ):
            changed[name] = (identity_text(was), identity_text(now))
    return changed


# --- judging a run against the lock ------------------------------------------------------------------


def _show(value: str | None) -> str:
    return "none" if value is None else value


def drift_changes(entry: LockEntry, result: RouteResult) -> list[str]:
    """Each identity field that moved: "served_model was X, now Y (locked DATE)"."""
    now = {
        "model_returned": result.model_returned,
        "served_model": result.served_model,
        "provider": result.provider,
    }
    changes = []
    for name in IDENTITY_FIELDS:
        was = getattr(entry, name)
        if was != now[name]:
            changes.append(f"{name} was {_show(was)}, now {_show(now[name])} (locked {entry.locked_utc})")
    return changes


def unobservable(result: RouteResult) -> bool:
    """The answer only echoed the requested ID and nothing named who served it (LiteLLM echoes aliases)."""
    return result.model_returned == result.model_requested and not result.served_model and not result.provider


def unobservable_warning(result: RouteResult) -> str:
    return (
        f"the gateway only echoed {result.model_requested} and named no served model or provider: the "
        "identity behind this route cannot be observed on this gateway, so the lock records the echo "
        "and cannot see an upstream re-pointed behind it (pin it with `served` where a header names it)"
    )


def apply_lock(run: RunResult, config: RoutingConfig, lock: Lock, *, on_drift: OnDrift = "fail") -> None:
    """Judge each passing route of the run against its lock entry, in place."""
    relock = f"run `routing-guard lock` and commit {lock.path}"
    routes = {route.name: route for route in config.routes}
    if lock.gateway_host != run.gateway_host:
        run.warnings.append(
            f"{lock.path} was locked against {lock.gateway_host}, this run probed {run.gateway_host}"
        )
    for result in run.routes:
        route = routes.get(result.route)
        if route is None or result.verdict != "pass":
            continue
        entry = lock.routes.get(result.route)
        if entry is None:
            result.warnings.append(f"not locked (no entry in {lock.path}); {relock}")
            continue
        if (problem := _entry_outdated(entry, route)) is not None:
            result.warnings.append(f"{problem}; {relock}")
            continue
        if unobservable(result):
            result.warnings.append(unobservable_warning(result))
        changes = drift_changes(entry, result)
        if not changes:
            continue
        moved = "; ".join(changes)
        accept = f"If the change is intended, {relock}; otherwise fix the gateway's mapping."
        if on_drift == "warn":
            result.warnings.append(f"drifted from the lock: {moved}. {accept}")
            continue
        result.verdict = "drifted"
        result.notes = f"drifted from the lock: {moved}"
        result.hint = (
            f"The gateway now answers this route with another identity than {lock.path} records. {accept}"
        )
