"""The `routing-guard` command line: argument parsing, exit codes, and where each output goes.

Heavy modules (httpx, the engine) are imported only by the commands that send requests, so
`--version` and `validate` start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from routing_guard import __version__
from routing_guard.credentials import GATEWAY_KEY_ENV, KEY_ENV, read_secret, run_secrets, secret_problem
from routing_guard.results import EXIT_CONFIG, EXIT_INTERNAL, EXIT_OK, EXIT_OPERATIONAL, RunResult

if TYPE_CHECKING:
    from routing_guard.config import RoutingConfig
    from routing_guard.lock import Lock
    from routing_guard.redact import Redactor

__all__ = ["KEY_ENV", "main", "run"]


class UsageError(Exception):
    """A configuration or usage problem: exit 2 with this message."""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def _int_at_least(minimum: int) -> type[int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        return value

    return parse  # type: ignore[return-value]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="routing-guard",
        description="Prove that an LLM gateway serves each coding-agent task with the model "
        "your routing file names.",
        epilog="Exit codes: 0 all checks passed, 1 routing failure, 2 configuration or usage error, "
        "3 operational blocker (no verdict possible), 4 internal error (a bug). The API key is read from $"
        + KEY_ENV
        + ".",
    )
    parser.add_argument("--version", action="version", version=f"routing-guard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    routing_file = argparse.ArgumentParser(add_help=False)
    routing_file.add_argument(
        "--routing-file", metavar="PATH", help="routing file (default: auto-detected, see README)"
    )

    lock_file = argparse.ArgumentParser(add_help=False)
    lock_file.add_argument(
        "--lock-file", metavar="PATH", help="routing lock (default: beside the routing file, .lock.json)"
    )

    check = argparse.ArgumentParser(add_help=False)  # the options `check` and `lock` share
    check.add_argument("--gateway-url", metavar="URL", help="override gateway.base_url")
    check.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="NAME",
        help="only these routes (repeat or comma-separate)",
    )
    error_path = check.add_mutually_exclusive_group()
    error_path.add_argument("--invalid-model", metavar="ID", help="model ID for the error-path probe")
    error_path.add_argument("--skip-error-path", action="store_true", help="do not probe the error path")
    check.add_argument("--strict", action="store_true", help="only an exact echo of the routed ID passes")
    models = check.add_mutually_exclusive_group()
    models.add_argument("--models", action="store_true", help="also run the token-free GET /models preflight")
    models.add_argument("--models-only", action="store_true", help="run only the GET /models preflight")
    check.add_argument(
        "--timeout", type=_positive_float, default=30.0, metavar="SECONDS", help="per request (30)"
    )
    check.add_argument(
        "--retries", type=_int_at_least(0), default=2, metavar="N", help="transient retries (2)"
    )
    check.add_argument(
        "--concurrency", type=_int_at_least(1), default=32, metavar="N", help="parallel requests (32)"
    )
    check.add_argument(
        "--time-budget",
        type=_positive_float,
        metavar="SECONDS",
        help="end the whole run after this long; probes still waiting then are timeouts (default: none, "
        "each probe's own limit: timeout x attempts + back-off)",
    )
    check.add_argument("--report", metavar="PATH", help="write the JSON report here")
    check.add_argument("--log", metavar="PATH", help="write JSON Lines logging fields here")
    check.add_argument(
        "--summary",
        metavar="PATH",
        help="append the Markdown summary here (default: $GITHUB_STEP_SUMMARY if set)",
    )
    check.add_argument("--format", choices=("text", "json"), default="text", help="stdout format (text)")
    check.add_argument(
        "--ca-certificates",
        metavar="PATH",
        help="PEM file of CA certificates to trust besides the public ones, e.g. a corporate CA "
        "(default: $ROUTING_GUARD_CA_CERTIFICATES)",
    )

    check_command = commands.add_parser(
        "check",
        parents=[routing_file, check, lock_file],
        help="probe the gateway for every route and the error path",
    )
    check_command.add_argument("--no-lock", action="store_true", help="ignore the routing lock")
    check_command.add_argument(
        "--on-drift",
        choices=("fail", "warn"),
        default="fail",
        help="a route whose identity moved from its lock entry fails (default) or warns",
    )
    commands.add_parser(
        "lock",
        parents=[routing_file, check, lock_file],
        help="run the check and, when every route passed, write the routing lock",
    )
    validate = commands.add_parser(
        "validate",
        parents=[routing_file, lock_file],
        help="validate the routing file and its lock (no network, no key)",
    )
    validate.add_argument("--no-lock", action="store_true", help="ignore the routing lock")
    commands.add_parser("demo", help="run the check against a local demo gateway (no key, no network)")
    from routing_guard.start import add_parsers

    add_parsers(commands)  # models, init
    return parser


def _print(text: str, *, err: bool = False, redactor: Redactor | None = None) -> None:
    from routing_guard.redact import neutralise_line

    if redactor is not None:
        text = redactor.scrub(text)
    stream = sys.stderr if err else sys.stdout
    for line in text.splitlines() or [""]:
        stream.write(neutralise_line(line) + "\n")
    stream.flush()


def load_config(routing_file: str | None) -> RoutingConfig:
    from routing_guard.routing import RoutingError, find_routing_file, load_routing, unused_blocks

    try:
        if routing_file:
            path = Path(routing_file)
            if not path.exists() and not path.is_symlink():
                raise UsageError(f"{routing_file}: no such routing file")
            return load_routing(path, routing_file)  # a FIFO, device or folder: an error naming it
        found = find_routing_file(Path.cwd())
        for warning in unused_blocks(found):
            _print(f"warning: {warning}", err=True)
        return load_routing(found, os.path.relpath(found))
    except RoutingError as err:
        raise UsageError(str(err)) from None


def load_lock_for(config: RoutingConfig, lock_file: str | None) -> Lock | None:
    from routing_guard.lock import LockError, read_lock_for

    try:
        return read_lock_for(config.source, lock_file)
    except LockError as err:
        raise UsageError(str(err)) from None


def check_secrets(config: RoutingConfig, *, sending: bool) -> str:
    """The gateway key; UsageError for a secret that does not fit the routing file."""
    from routing_guard.sendable import secret_problem_of

    gateway_key = read_secret(os.environ, GATEWAY_KEY_ENV)
    problem = secret_problem_of(config, read_secret(os.environ, KEY_ENV), gateway_key, sending=sending)
    if problem:
        raise UsageError(problem)
    return gateway_key


def cmd_validate(args: argparse.Namespace) -> int:
    from routing_guard.lock import lock_warnings

    config = load_config(args.routing_file)
    check_secrets(config, sending=False)
    names = ", ".join(r.name for r in config.routes)
    _print(f"{config.source}: valid, {len(config.routes)} route(s): {names}")
    lock = None if args.no_lock else load_lock_for(config, args.lock_file)
    if lock is not None:
        warnings = lock_warnings(lock, config)
        _print(f"{lock.path}: valid, {len(lock.routes)} locked route(s)")
        for warning in warnings:
            _print(f"warning: {warning}", err=True)
    return EXIT_OK


def _apply_gateway_url(config: RoutingConfig, url: str | None) -> RoutingConfig:
    if not url:
        return config
    from routing_guard.routing import base_url_problem

    url = url.strip().rstrip("/")
    problem = base_url_problem(url, config.gateway.allow_insecure_http)
    if problem:
        raise UsageError(f"--gateway-url: {problem}")
    gateway = config.gateway.model_copy(update={"base_url": url})
    return config.model_copy(update={"gateway": gateway})


def cmd_check(args: argparse.Namespace, *, key: str, redactor: Redactor) -> int:
    from routing_guard import report
    from routing_guard.check import CheckOptions, UnknownRoute, run_check
    from routing_guard.config import route_names

    config = _apply_gateway_url(load_config(args.routing_file), args.gateway_url)
    if not key and config.needs_key:
        raise UsageError(
            f"no API key: set ${KEY_ENV} (in GitHub Actions pass a secret to the api-key input). "
            "A gateway without authentication needs `gateway.auth: none` in the routing file."
        )
    gateway_key = check_secrets(config, sending=True)
    from routing_guard.transport import TransportError, connect

    try:
        connection = connect(
            config.gateway.base_url,
            os.environ,
            sends_secret=config.needs_key or bool(gateway_key),
            ca_file=args.ca_certificates,
        )
    except TransportError as err:
        raise UsageError(str(err)) from None
    for output in (args.report, args.log):
        if output:  # fail on an unwritable place before any request goes out
            Path(output).parent.mkdir(parents=True, exist_ok=True)
    options = CheckOptions(
        routes=route_names(args.route),
        invalid_model=args.invalid_model,
        skip_error_path=args.skip_error_path,
        strict=args.strict,
        models="only" if args.models_only else "with" if args.models else "off",
        timeout=args.timeout,
        retries=args.retries,
        concurrency=args.concurrency,
        time_budget=args.time_budget,
    )
    locking = args.command == "lock"
    if locking and options.models == "only":
        raise UsageError("lock: --models-only sends no probe, so it observes nothing to lock; drop it")
    if locking:
        lock = previous_lock(config, args)
    else:
        lock = None if args.no_lock else load_lock_for(config, args.lock_file)
    from routing_guard.progress import Progress

    try:
        with Progress(sys.stderr, budget=options.time_budget) as progress:  # stderr only, even with json
            options.progress = progress
            run = run_check(config, key, options, redactor, connection, gateway_key=gateway_key)
    except UnknownRoute as err:
        known = ", ".join(r.name for r in config.routes)
        raise UsageError(
            f"--route: unknown route {err.args[0]!r} (routes in {config.source}: {known})"
        ) from None
    if locking:
        written = write_run_lock(config, run, lock, args, redactor)
    elif lock is not None and options.models != "only":
        from routing_guard.lock import apply_lock

        apply_lock(run, config, lock, on_drift=args.on_drift)

    if args.format == "json":
        _print(report.format_json(run), redactor=redactor)
    else:
        from routing_guard.terminal import look_for

        _print(report.render_table(run, look=look_for(sys.stdout)), redactor=redactor)
    if args.report:
        report.write_report(run, Path(args.report), redactor=redactor)
    if args.log:
        report.write_log(run, Path(args.log), redactor=redactor)
    summary = args.summary or os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        report.append_summary(summary, report.render_summary(run, redactor=redactor))
    if locking:
        _print(written, err=args.format == "json", redactor=redactor)
    return run.exit_code


def previous_lock(config: RoutingConfig, args: argparse.Namespace) -> Lock | None:
    """The lock `lock` rewrites: none is fine; an unreadable one is replaced, unless --route keeps parts."""
    from routing_guard.lock import LockError, load_lock, lock_path_for

    path = lock_path_for(config.source, args.lock_file)
    if not path.exists():
        return None
    try:
        return load_lock(path, str(path))
    except LockError as err:
        if args.route:
            raise UsageError(
                f"{err} (--route keeps the other entries, so the lock must be readable)"
            ) from None
        _print(f"routing-guard: {path} is unreadable and will be replaced ({err})", err=True)
        return None


def write_run_lock(
    config: RoutingConfig, run: RunResult, previous: Lock | None, args: argparse.Namespace, redactor: Redactor
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

    path = lock_path_for(config.source, args.lock_file)
    for result in run.routes:
        if result.passed and unobservable(result):
            result.warnings.append(unobservable_warning(result))
    if not run.passed:
        written = f"routing-guard: not every check passed, so {path} was not written (exit {run.exit_code})"
        if all(r.passed for r in run.routes) and not args.skip_error_path:
            written += "; every route passed: --skip-error-path locks them without the error path"
        return written
    lock = relock(previous, run, only_selected=bool(args.route))
    changed = lock_diff(previous, lock)
    write_lock(lock, path)
    lines = [f"routing-guard: locked {len(run.routes)} route(s) in {path}"]
    if previous is not None and not changed:
        lines[0] += " (unchanged)"
    lines += [
        f"  {name}: {was or 'not locked'} -> {now or 'removed'}" for name, (was, now) in changed.items()
    ]
    return redactor.scrub("\n".join(lines))


def fail(message: str, code: int, redactor: Redactor | None) -> NoReturn:
    _print(f"routing-guard: error: {message}", err=True, redactor=redactor)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    key = read_secret(os.environ, KEY_ENV)
    redactor: Redactor | None = None
    try:
        from routing_guard.redact import Redactor

        redactor = Redactor(run_secrets(os.environ))
        if args.command != "demo" and key and (problem := secret_problem(KEY_ENV, key)):
            raise UsageError(problem)
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "demo":
            from routing_guard.demo import run_demo

            return run_demo()
        if args.command in ("models", "init"):
            from routing_guard import start

            def printed(text: str, err: bool) -> None:
                _print(text, err=err, redactor=redactor)

            try:
                return start.run(args, key=key, redactor=redactor, say=printed)
            except start.StartProblem as err:
                raise UsageError(str(err)) from None
        return cmd_check(args, key=key, redactor=redactor)
    except UsageError as err:
        fail(str(err), EXIT_CONFIG, redactor)
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        fail(f"{where}{err.strerror or err}", EXIT_CONFIG, redactor)
    except KeyboardInterrupt:
        fail("interrupted", EXIT_OPERATIONAL, redactor)
    except Exception as err:  # a crash must still end in one scrubbed line, never a traceback
        if os.environ.get("ROUTING_GUARD_DEBUG"):
            raise
        from routing_guard.check import BUG_REPORT

        fail(
            f"internal error ({type(err).__name__}: {err}), a bug in routing-guard. {BUG_REPORT}",
            EXIT_INTERNAL,
            redactor,
        )


def run() -> NoReturn:
    """The console script: `main`, then exit without interpreter teardown, which costs more
    (~60-100 ms of garbage collection) than the whole run after the last answer."""
    try:
        code = main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else EXIT_CONFIG if exc.code else EXIT_OK
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
