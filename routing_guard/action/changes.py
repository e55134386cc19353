"""What a pull request changed in the routing: which routes to probe, and the table that shows it.

Routes are compared with every default already applied, so a change to `defaults` shows up as a
change of each route it reaches. Only the line a route sits on is ignored. A change to the
`gateway` section (base URL, protocol, auth, extra headers, invalid-model ID) changes how every
route is probed, so it marks every route as changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from routing_guard.config import Route, RoutingConfig
from routing_guard.escape import markdown_cell

ChangeKind = Literal["added", "changed", "removed", "unchanged"]


@dataclass(frozen=True)
class RouteChange:
    route: str
    kind: ChangeKind
    old_model: str | None
    new_model: str | None


@dataclass(frozen=True)
class RouteChanges:
    added: tuple[RouteChange, ...]
    changed: tuple[RouteChange, ...]
    removed: tuple[RouteChange, ...]
    unchanged: tuple[RouteChange, ...]
    gateway_changed: bool = False

    @property
    def to_probe(self) -> tuple[str, ...]:
        """Routes a pull-request check should send requests for: the added and the changed ones."""
        return tuple(change.route for change in (*self.added, *self.changed))

    @property
    def all(self) -> tuple[RouteChange, ...]:
        return (*self.added, *self.changed, *self.removed, *self.unchanged)


def _fields(route: Route) -> dict[str, object]:
    fields = dataclasses.asdict(route)
    del fields["line"]
    return fields


def diff_routes(old: RoutingConfig | None, new: RoutingConfig) -> RouteChanges:
    """Compare the base branch's routing (None: it had none) with the pull request's."""
    old_routes = {route.name: route for route in old.routes} if old else {}
    gateway_changed = old is not None and old.gateway != new.gateway
    added: list[RouteChange] = []
    changed: list[RouteChange] = []
    unchanged: list[RouteChange] = []
    for route in new.routes:
        before = old_routes.get(route.name)
        if before is None:
            added.append(RouteChange(route.name, "added", None, route.model))
        elif gateway_changed or _fields(before) != _fields(route):
            changed.append(RouteChange(route.name, "changed", before.model, route.model))
        else:
            unchanged.append(RouteChange(route.name, "unchanged", before.model, route.model))
    new_names = {route.name for route in new.routes}
    removed = [
        RouteChange(name, "removed", route.model, None)
        for name, route in old_routes.items()
        if name not in new_names
    ]
    return RouteChanges(tuple(added), tuple(changed), tuple(removed), tuple(unchanged), gateway_changed)


def changes_markdown(
    changes: RouteChanges,
    verdicts: dict[str, str],
    base: str,
    locks: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> str:
    """The "Routing change" table for the job summary; `verdicts` maps probed routes to verdicts.

    `locks` maps routes whose routing-lock entry changed to the locked identity (was, now); with
    any, the table shows both, and such a route counts as changed even where its entry did not."""
    locks = locks or {}
    lines = [
        "### Routing change",
        "",
        f"Compared with the routing file on {markdown_cell(base)}."
        + (" The `gateway` section changed, so every route was probed." if changes.gateway_changed else ""),
        "",
        "| route | old model | new model | change | verdict |"
        + (" locked (was) | locked (now) |" if locks else ""),
        "| --- | --- | --- | --- | --- |" + (" --- | --- |" if locks else ""),
    ]
    for change in changes.all:
        kind: str = change.kind
        if change.kind == "unchanged" and change.route in locks:
            kind = "lock changed"
        if change.kind == "removed":
            verdict = "not probed (removed)"
        elif kind == "unchanged":
            verdict = "not probed (unchanged)"
        else:
            verdict = verdicts.get(change.route, "not probed")
        cells = [change.route, change.old_model or "—", change.new_model or "—", kind, verdict]
        if locks:
            locked = locks.get(change.route)
            cells += [(side or "—") for side in locked] if locked else ["", ""]
        lines.append("| " + " | ".join(markdown_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"
