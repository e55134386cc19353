"""The `routing-guard` command line: argv parsed into an `app` request, exit codes, error lines.

The work is `routing_guard.app`'s (the action and the demo call it too). Heavy modules (httpx,
the engine) are imported only by the commands that send requests, so `--version` and `validate`
start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from routing_guard import __version__
from routing_guard.app import ConfigError as UsageError
from routing_guard.cancel import Cancelled, on_signals
from routing_guard.credentials import KEY_ENV
from routing_guard.results import EXIT_CONFIG, EXIT_INTERNAL, EXIT_OK, EXIT_OPERATIONAL

if TYPE_CHECKING:
    from routing_guard.app import CheckRequest
    from routing_guard.output import Output

__all__ = ["KEY_ENV", "UsageError", "main", "run"]


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
    agents = commands.add_parser(
        "agents",
        parents=[routing_file],
        help="list the coding agents' model settings and check them against the routes (no network, no key)",
    )
    agents.add_argument("--format", choices=("text", "json"), default="text", help="stdout format (text)")
    commands.add_parser("demo", help="run the check against a local demo gateway (no key, no network)")
    from routing_guard.start import add_parsers

    add_parsers(commands)  # models, init
    return parser


def check_request(args: argparse.Namespace) -> CheckRequest:
    """The `check` / `lock` arguments as the request every front end builds."""
    from routing_guard.app import CheckRequest, RoutingFile
    from routing_guard.check import CheckOptions
    from routing_guard.config import route_names

    summary = args.summary or os.environ.get("GITHUB_STEP_SUMMARY")  # docs/runner.md: the job summary
    return CheckRequest(
        routing=RoutingFile(args.routing_file),
        options=CheckOptions(
            routes=route_names(args.route),
            invalid_model=args.invalid_model,
            skip_error_path=args.skip_error_path,
            strict=args.strict,
            models="only" if args.models_only else "with" if args.models else "off",
            timeout=args.timeout,
            retries=args.retries,
            concurrency=args.concurrency,
            time_budget=args.time_budget,
        ),
        gateway_url=args.gateway_url,
        ca_certificates=args.ca_certificates,
        lock_file=args.lock_file,
        use_lock=not getattr(args, "no_lock", False),
        on_drift=getattr(args, "on_drift", "fail"),
        write_lock=args.command == "lock",
        report=Path(args.report) if args.report else None,
        log=Path(args.log) if args.log else None,
        summary=Path(summary) if summary else None,
        format=args.format,
        agents_root=Path.cwd(),
    )


def fail(message: str, code: int, output: Output | None) -> NoReturn:
    line = f"routing-guard: error: {message}"
    if output is not None:
        output.print(line, err=True)
    else:  # before the run's secrets were read: nothing to scrub yet
        sys.stderr.write(line + "\n")
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    with on_signals():  # SIGTERM and SIGINT: a partial report and exit 128 + the signal
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    output: Output | None = None
    try:
        from routing_guard import app
        from routing_guard.output import Output

        secrets = app.Secrets.from_environ(os.environ)
        output = Output(secrets.redactor)
        if args.command == "validate":
            request = app.ValidateRequest(
                app.RoutingFile(args.routing_file),
                lock_file=args.lock_file,
                use_lock=not args.no_lock,
                agents_root=Path.cwd(),
            )
            return app.validate(request, secrets, output).exit_code
        if args.command == "agents":
            from routing_guard.agents.command import run_agents

            return run_agents(args.routing_file, Path.cwd(), args.format, secrets.redactor, output)
        if args.command == "demo":
            from routing_guard.demo import run_demo

            return run_demo(output)
        if args.command in ("models", "init"):
            from routing_guard import start

            try:
                return start.run(
                    args,
                    key=secrets.api_key,
                    redactor=secrets.redactor,
                    say=lambda text, err: output.print(text, err=err) if output else None,
                )
            except start.StartProblem as err:
                raise UsageError(str(err)) from None
        return app.execute(check_request(args), secrets, output).exit_code
    except UsageError as err:
        fail(err.message, EXIT_CONFIG, output)
    except OSError as err:
        fail(app.os_error_message(err), EXIT_CONFIG, output)
    except Cancelled as cancelled:  # outside the check itself: nothing judged is lost
        fail(str(cancelled), cancelled.exit_code, output)
    except KeyboardInterrupt:
        fail("interrupted", EXIT_OPERATIONAL, output)
    except Exception as err:  # a crash must still end in one scrubbed line, never a traceback
        if os.environ.get("ROUTING_GUARD_DEBUG"):
            raise
        from routing_guard.check import BUG_REPORT

        fail(
            f"internal error ({type(err).__name__}: {err}), a bug in routing-guard. {BUG_REPORT}",
            EXIT_INTERNAL,
            output,
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
