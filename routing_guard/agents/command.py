"""The agents' part of each command: `routing-guard agents` itself, and what validate and check add.

The one Redactor of a run learns the secrets found in agent files here (`inspect`), before anything
about them is printed, so every output of the run is scrubbed of them too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from routing_guard.agents import AgentReport, check_agents
from routing_guard.agents.render import render_json, render_text
from routing_guard.results import EXIT_OK, EXIT_ROUTING

if TYPE_CHECKING:
    from routing_guard.config import RoutingConfig
    from routing_guard.output import Output
    from routing_guard.redact import Redactor

NO_ROUTING_FILE = "routing-guard: no routing file found, so no setting was checked against routes"


def inspect(root: Path | None, config: RoutingConfig | None, redactor: Redactor) -> AgentReport | None:
    """root's agent settings checked against config (None: no root, nothing to inspect)."""
    if root is None:
        return None
    found, report = check_agents(root, config)
    redactor.add(found.secret_values())
    return report


def exit_code(report: AgentReport | None) -> int:
    return EXIT_ROUTING if report is not None and report.failed else EXIT_OK


def run_agents(
    routing_file: str | None, root: Path, fmt: Literal["text", "json"], redactor: Redactor, output: Output
) -> int:
    """`routing-guard agents`: list the settings and findings; exit 1 on an unrouted setting.

    Without a routing file (none named, none found) the settings are listed with no route."""
    from routing_guard import app
    from routing_guard.routing import RoutingError, find_routing_file

    config = None
    if routing_file is not None:
        config = app.load_config(app.RoutingFile(routing_file))
    else:
        try:
            find_routing_file(Path.cwd())
        except RoutingError:
            output.print(NO_ROUTING_FILE, err=True)
        else:
            config = app.load_config(app.RoutingFile(None), lambda line: output.print(line, err=True))
    report = inspect(root, config, redactor)
    assert report is not None
    output.print(render_json(report) if fmt == "json" else render_text(report))
    return exit_code(report)
