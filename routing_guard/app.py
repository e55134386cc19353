"""The application core every front end shares: a typed request in, one `RunResult` out.

The CLI parses argv into a `CheckRequest` (or a `ValidateRequest`), the action builds the same
request from its inputs, the demo builds one for its own gateway; each then calls `execute` (or
`validate`). The routing file is read once per run (`load_config`, or a `RoutingConfig` already
read), the keys travel in `Secrets` (never argv, never a write to the environment) and the one
`Redactor` of a run scrubs gateway text where it enters (`check.py`) and everything written out
(`output.Output`). docs/architecture.md draws the whole flow.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from routing_guard.cancel import Cancelled
from routing_guard.credentials import GATEWAY_KEY_ENV, KEY_ENV, proxy_passwords, read_secret, secret_problem

if TYPE_CHECKING:
    from routing_guard.agents import AgentReport
    from routing_guard.check import CheckOptions
    from routing_guard.config import RoutingConfig
    from routing_guard.lock import Lock
    from routing_guard.output import Output
    from routing_guard.redact import Redactor
    from routing_guard.results import RunResult

Format = Literal["text", "json"]
OnDrift = Literal["fail", "warn"]


class ConfigError(Exception):
    """A configuration or usage problem (exit 2): the message, and the routing file's line if known."""

    def __init__(self, message: str, *, file: str = "", line: int = 0) -> None:
        super().__init__(message)
        self.message, self.file, self.line = message, file, line


@dataclass(frozen=True)
class Secrets:
    """The keys of one run, and the one `Redactor` that hides them (and `hidden`) in every output."""

    api_key: str = field(default="", repr=False)
    gateway_key: str = field(default="", repr=False)
    hidden: tuple[str, ...] = field(default=(), repr=False)  # never sent, never shown: proxy passwords
    redactor: Redactor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from routing_guard.redact import Redactor

        object.__setattr__(self, "redactor", Redactor([self.api_key, self.gateway_key, *self.hidden]))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], api_key: str | None = None) -> Secrets:
        """The CLI's secrets (and the action's, with the `api-key` input in place of the variable)."""
        key = read_secret(environ, KEY_ENV) if api_key is None else api_key
        return cls(key, read_secret(environ, GATEWAY_KEY_ENV), tuple(proxy_passwords(environ)))


@dataclass(frozen=True)
class RoutingFile:
    """Where the routing file is: a path as the user wrote it, or None to auto-detect under `root`.

    With `root` (the action's workspace) the path is taken inside it and shown relative to it;
    without, the path is taken as given and an auto-detected file is shown relative to the cwd."""

    path: str | None = None
    root: Path | None = None


@dataclass(frozen=True)
class ValidateRequest:
    routing: RoutingConfig | RoutingFile
    lock_file: str | None = None
    use_lock: bool = True
    agents_root: Path | None = None  # where the coding agents' settings are read (docs/agents/README.md)


@dataclass(frozen=True)
class Validated:
    """What `validate` found: the routing file, and the agents' settings checked against it."""

    config: RoutingConfig
    agents: AgentReport | None = None

    @property
    def exit_code(self) -> int:
        from routing_guard.agents.command import exit_code

        return exit_code(self.agents)


@dataclass(frozen=True)
class CheckRequest:
    """Everything one check (or `lock`) run needs, whichever front end built it."""

    routing: RoutingConfig | RoutingFile
    options: CheckOptions
    gateway_url: str | None = None
    ca_certificates: str | None = None
    lock_file: str | None = None
    use_lock: bool = True
    on_drift: OnDrift = "fail"
    write_lock: bool = False  # the `lock` command: check, then write the lock when everything passed
    report: Path | None = None
    log: Path | None = None
    summary: Path | None = None
    format: Format = "text"
    # Where the coding agents' settings are read: their routes are probed as the agents call them,
    # and (except for `lock`) their findings join the run (docs/agents/README.md).
    agents_root: Path | None = None


def _ignore(line: str) -> None:
    return None


def load_config(routing: RoutingFile | RoutingConfig, warn: Callable[[str], None] = _ignore) -> RoutingConfig:
    """Find and read the routing file (once per run); ConfigError names the file and the line.
    `warn` gets a line for each routing block an auto-detected file's neighbours hold unused."""
    if not isinstance(routing, RoutingFile):
        return routing
    from routing_guard.routing import RoutingError, find_routing_file, load_routing, unused_blocks

    try:
        if routing.root is None:
            if not routing.path:
                found = find_routing_file(Path.cwd())
                for warning in unused_blocks(found):
                    warn(f"warning: {warning}")
                return load_routing(found, os.path.relpath(found))
            path = Path(routing.path)
            if not path.exists() and not path.is_symlink():
                raise ConfigError(f"{routing.path}: no such routing file")
            return load_routing(path, routing.path)  # a FIFO, device or folder: an error naming it
        path = Path(routing.path) if routing.path else find_routing_file(routing.root)
        if path.is_absolute() and path.is_relative_to(routing.root):
            path = path.relative_to(routing.root)
        from routing_guard.files import inside

        if not inside(routing.root, path):
            raise ConfigError(
                f"{path}: the routing file must be inside the workspace, and this leads outside"
            )
        return load_routing(routing.root / path, str(path))
    except RoutingError as error:
        raise ConfigError(str(error), file=error.path if error.line else "", line=error.line or 0) from None


def check_key(secrets: Secrets) -> None:
    """ConfigError for an API key that no HTTP header can carry (an invisible character pasted with it)."""
    if secrets.api_key and (problem := secret_problem(KEY_ENV, secrets.api_key)):
        raise ConfigError(problem)


def check_secrets(config: RoutingConfig, secrets: Secrets, *, sending: bool) -> None:
    """ConfigError for a secret that does not fit the routing file (or that HTTP cannot carry)."""
    from routing_guard.sendable import secret_problem_of

    problem = secret_problem_of(config, secrets.api_key, secrets.gateway_key, sending=sending)
    if problem:
        raise ConfigError(problem)


def load_lock_for(config: RoutingConfig, lock_file: str | None) -> Lock | None:
    from routing_guard.lock import LockError, read_lock_for

    try:
        return read_lock_for(config.source, lock_file)
    except LockError as err:
        raise ConfigError(str(err), file=err.path, line=err.line or 0) from None


def validate(request: ValidateRequest, secrets: Secrets, output: Output) -> Validated:
    """`validate`: the routing file (and its lock), and the agents' settings, no network; prints
    what it found. An unrouted agent setting is a routing failure (`Validated.exit_code` 1)."""
    from routing_guard.agents.command import inspect
    from routing_guard.agents.render import render_findings
    from routing_guard.lock import lock_warnings

    check_key(secrets)
    config = load_config(request.routing, lambda line: output.print(line, err=True))
    check_secrets(config, secrets, sending=False)
    names = ", ".join(r.name for r in config.routes)
    output.print(f"{config.source}: valid, {len(config.routes)} route(s): {names}")
    lock = load_lock_for(config, request.lock_file) if request.use_lock else None
    if lock is not None:
        output.print(f"{lock.path}: valid, {len(lock.routes)} locked route(s)")
        for warning in lock_warnings(lock, config):
            output.print(f"warning: {warning}", err=True)
    agents = inspect(request.agents_root, config, secrets.redactor)
    if agents is not None and (findings := render_findings(agents)):
        output.print(findings)
    return Validated(config, agents)


def with_gateway_url(config: RoutingConfig, url: str | None) -> RoutingConfig:
    """The config with gateway.base_url (and each gateway.base_urls entry's host) replaced: the
    --gateway-url / gateway-url override."""
    if not url:
        return config
    from routing_guard.routing import base_url_problem

    url = url.strip().rstrip("/")
    problem = base_url_problem(url, config.gateway.allow_insecure_http)
    if problem:
        raise ConfigError(f"--gateway-url: {problem}")
    gateway = config.gateway.moved_to(url)  # gateway.base_urls keep their paths on the new host
    return dataclasses.replace(config, gateway=gateway)


def missing_key(config: RoutingConfig, secrets: Secrets) -> bool:
    """True when the gateway needs a key and none was given."""
    return not secrets.api_key and config.needs_key


def execute(request: CheckRequest, secrets: Secrets, output: Output) -> RunResult:
    """Run the check the request describes, print it and write its files; raises ConfigError."""
    from routing_guard import report
    from routing_guard.agents.render import render_findings, render_markdown
    from routing_guard.check import UnknownRoute, run_check
    from routing_guard.transport import TransportError, connect

    check_key(secrets)
    config = load_config(request.routing, lambda line: output.print(line, err=True))
    config = with_gateway_url(config, request.gateway_url)
    if missing_key(config, secrets):
        raise ConfigError(
            f"no API key: set ${KEY_ENV} (in GitHub Actions pass a secret to the api-key input). "
            "A gateway without authentication needs `gateway.auth: none` in the routing file."
        )
    check_secrets(config, secrets, sending=True)
    from routing_guard.agents import as_agents_call_it
    from routing_guard.agents.command import inspect

    agents = inspect(request.agents_root, config, secrets.redactor)
    if agents is not None:  # routes the agents use are probed the way they call them
        config = as_agents_call_it(agents, config)
    try:
        connection = connect(
            config.gateway.base_url,
            os.environ,
            sends_secret=config.needs_key or bool(secrets.gateway_key),
            ca_file=request.ca_certificates,
        )
    except TransportError as err:
        raise ConfigError(str(err)) from None
    from routing_guard.files import FileProblem

    for path in (request.report, request.log):
        if path:  # fail on an unwritable place before any request goes out
            try:
                output.prepare(path)
            except FileProblem as problem:
                raise ConfigError(str(problem)) from None
    options = request.options
    if request.write_lock and options.models == "only":
        raise ConfigError("lock: --models-only sends no probe, so it observes nothing to lock; drop it")
    if request.write_lock:
        lock = previous_lock(config, request, output)
    else:
        lock = load_lock_for(config, request.lock_file) if request.use_lock else None
    from routing_guard.progress import Progress

    try:
        with Progress(output.stderr, budget=options.time_budget) as progress:  # stderr only, even with json
            options.progress = progress
            run = run_check(
                config,
                secrets.api_key,
                options,
                secrets.redactor,
                connection,
                gateway_key=secrets.gateway_key,
            )
    except UnknownRoute as err:
        known = ", ".join(dict.fromkeys(r.name for r in config.routes))
        raise ConfigError(
            f"--route: unknown route {err.args[0]!r} (routes in {config.source}: {known})"
        ) from None
    except Cancelled as cancelled:
        if cancelled.partial is None:
            raise
        run = cancelled.partial  # written out like any run, marked as cancelled
        output.print(f"routing-guard: {cancelled}: the results are partial", err=True)
    written = ""
    if run.cancelled:
        pass  # neither the lock nor drift is judged on a partial run
    elif request.write_lock:
        written = write_run_lock(config, run, lock, request)
    elif lock is not None and options.models != "only":
        from routing_guard.lock import apply_lock

        apply_lock(run, config, lock, on_drift=request.on_drift)
    if not request.write_lock:  # `lock` locks what the probes saw; the findings are check's
        run.agents = agents

    if request.format == "json":
        output.print(report.format_json(run))
    else:
        from routing_guard.terminal import look_for

        output.print(report.render_table(run, look=look_for(output.stdout)))
        if run.agents is not None and (findings := render_findings(run.agents)):
            output.print(findings)
    try:
        if request.report:
            output.write(request.report, report.format_json(run) + "\n")
        if request.log:
            output.write(request.log, report.format_log(run))
    except FileProblem as problem:  # replaced by a symlink since `prepare`: still never followed
        raise ConfigError(str(problem)) from None
    if request.summary:
        appendix = render_markdown(run.agents) if run.agents is not None else ""
        preface = (
            f"**Cancelled by {run.cancelled}** before every probe was answered: a partial result.\n\n"
            if run.cancelled
            else ""
        )
        output.append_summary(request.summary, report.render_summary(run, preface=preface, appendix=appendix))
    if written:
        output.print(written, err=request.format == "json")
    return run


def previous_lock(config: RoutingConfig, request: CheckRequest, output: Output) -> Lock | None:
    """The lock `lock` rewrites: none is fine; an unreadable one is replaced, unless --route keeps parts."""
    from routing_guard.lock import LockError, load_lock, lock_path_for

    path = lock_path_for(config.source, request.lock_file)
    if not path.exists():
        return None
    try:
        return load_lock(path, str(path))
    except LockError as err:
        if request.options.routes:
            raise ConfigError(
                f"{err} (--route keeps the other entries, so the lock must be readable)"
            ) from None
        output.print(f"routing-guard: {path} is unreadable and will be replaced ({err})", err=True)
        return None


def write_run_lock(
    config: RoutingConfig, run: RunResult, previous: Lock | None, request: CheckRequest
) -> str:
    """`lock`: after a passing run, write the lock; the line to print says what happened."""
    from routing_guard.lock import (
        lock_diff,
        lock_path_for,
        relock,
        unobservable,
        unobservable_warning,
        write_lock,
    )

    path = lock_path_for(config.source, request.lock_file)
    for result in run.routes:
        if result.passed and unobservable(result):
            result.warnings.append(unobservable_warning(result))
    if not run.passed:
        written = f"routing-guard: not every check passed, so {path} was not written (exit {run.exit_code})"
        if all(r.passed for r in run.routes) and not request.options.skip_error_path:
            written += "; every route passed: --skip-error-path locks them without the error path"
        return written
    lock = relock(previous, run, only_selected=bool(request.options.routes))
    changed = lock_diff(previous, lock)
    write_lock(lock, path)
    lines = [f"routing-guard: locked {len(run.routes)} route(s) in {path}"]
    if previous is not None and not changed:
        lines[0] += " (unchanged)"
    lines += [
        f"  {name}: {was or 'not locked'} -> {now or 'removed'}" for name, (was, now) in changed.items()
    ]
    return "\n".join(lines)


def os_error_message(err: OSError) -> str:
    """An OSError as the one line a user sees (exit 2): the file and what went wrong."""
    where = f"{err.filename}: " if err.filename else ""
    return f"{where}{err.strerror or err}"
