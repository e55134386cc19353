"""The action's container entry: GitHub inputs in, one in-process `routing-guard` run, GitHub outputs out.

Order matters: the key and its derived forms are masked before anything else is printed. The key
reaches the CLI through ROUTING_GUARD_API_KEY, never argv. The CLI's own output runs between
`::stop-commands::` markers, so nothing a gateway sent can become a workflow command; this file's
annotations come after the markers, built from the JSON report with every gateway string scrubbed
of the key and escaped.

Exit code of the step: the CLI's (0 pass, 1 routing failure, 2 configuration, 3 operational),
except that with `fail-on: routing` a 3 becomes a warning and exit 0. An unexpected crash prints
one `::error title=routing-guard crashed::` line (no traceback) and exits 3 whatever `fail-on`
says: a guard that crashed has proved nothing, so it must not pass quietly.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from routing_guard import cli, github
from routing_guard.changes import RouteChanges, changes_markdown, diff_routes
from routing_guard.config import RoutingConfig
from routing_guard.github import ActionInputs, InputError, command, emit, group
from routing_guard.lock import LockChanges, LockError, default_lock_path, load_lock, lock_diff, parse_lock
from routing_guard.redact import Redactor, markdown_cell
from routing_guard.report import append_summary
from routing_guard.results import EXIT_CONFIG, EXIT_OK, EXIT_OPERATIONAL, exit_code_of
from routing_guard.routing import RoutingError, find_routing_file, load_routing, load_routing_text

REPORT_NAME = "routing-guard-report.json"  # in the workspace: the `report` output is relative to it
MAX_ANNOTATIONS = 10  # GitHub shows at most 10 of each kind per step
PR_EVENTS = ("pull_request", "pull_request_target")
FETCH_HINT = (
    "changed-only needs the base branch in the checkout: use `actions/checkout` with `fetch-depth: 0`, "
    "or run `git fetch origin <base branch>` before this step."
)
NO_KEY = (
    "No API key reached the action: the `api-key` input is empty. Pull requests from forks get no secrets, "
    "so `${{ secrets.X }}` is empty there."
)
KEY_ADVICE = (
    "Pass the gateway key as `api-key: ${{ secrets.GATEWAY_API_KEY }}`; the secret must exist in the "
    "repository or organisation."
)


class ActionError(Exception):
    """A problem the action explains itself: one error annotation, a summary section, exit 2."""

    def __init__(self, title: str, message: str, *, file: str = "", line: int = 0) -> None:
        super().__init__(message)
        self.title, self.message, self.file, self.line = title, message, file, line


def mask_key(key: str) -> None:
    """Mask the key and the forms of it that could be printed, before anything else is printed."""
    if key:
        for value in (key, f"Bearer {key}", base64.b64encode(key.encode()).decode()):
            github.add_mask(value)


def read_report(path: Path) -> dict[str, Any] | None:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


class Run:
    """One action run: the inputs, the key's redactor, and where files go."""

    def __init__(self, inputs: ActionInputs, environ: dict[str, str], key: str) -> None:
        self.inputs = inputs
        self.environ = environ
        self.key = key
        self.redactor = Redactor([key])
        self.workspace = Path(environ.get("GITHUB_WORKSPACE") or os.getcwd())
        self.summary_path = environ.get("GITHUB_STEP_SUMMARY", "")
        self.report_path = self.workspace / REPORT_NAME
        self.path = inputs.routing_file or ""  # the routing file, relative to the workspace, once known

    def say(self, kind: str, message: str, *, title: str, file: str = "", line: int = 0) -> None:
        """One annotation; its text is scrubbed of the key here and escaped by `command`."""
        scrub = self.redactor.scrub
        emit(command(kind, scrub(message), file=file or None, line=line or None, title=scrub(title)))

    def summary(self, markdown: str) -> None:
        if self.summary_path:
            append_summary(self.summary_path, markdown)

    def routing(self) -> RoutingConfig:
        """Find and read the routing file; an invalid one ends the run with an annotation at its line."""
        try:
            path = Path(self.path) if self.path else find_routing_file(self.workspace)
            if path.is_absolute() and path.is_relative_to(self.workspace):
                path = path.relative_to(self.workspace)
            self.path = str(path)
            return load_routing(self.workspace / path, display_path=self.path)
        except RoutingError as error:
            raise ActionError(
                "routing-guard: invalid routing file",
                str(error),
                file=error.path if error.line else "",
                line=error.line or 0,
            ) from None

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        git = shutil.which("git") or "/usr/bin/git"  # a workflow's `env: PATH` may hide it
        command = [git, "-C", str(self.workspace), *args]
        try:
            return subprocess.run(
                command, capture_output=True, encoding="utf-8", errors="replace", check=False
            )
        except OSError as error:
            raise ActionError(
                "routing-guard: git not available", f"changed-only needs git: {error}"
            ) from None

    def base_routing(self, base: str) -> tuple[str, RoutingConfig | None]:
        """The base branch's ref and its routing file (None: the base has no valid one)."""
        if not base:
            raise ActionError("routing-guard: no base branch", "GITHUB_BASE_REF is empty. " + FETCH_HINT)
        for ref in (f"origin/{base}", base):
            if self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0:
                break
        else:
            raise ActionError(
                "routing-guard: base branch not in the checkout",
                f"The base branch '{base}' is not in the checkout. {FETCH_HINT}",
            )
        shown = self.git("show", f"{ref}:./{self.path}")
        if shown.returncode != 0:
            return ref, None  # the pull request adds the routing file
        try:
            return ref, load_routing_text(shown.stdout, f"{ref}:{self.path}")
        except RoutingError as error:
            emit(
                command(
                    "notice",
                    f"The routing file on {ref} is not valid ({error}): every route counts as added.",
                )
            )
            return ref, None

    def lock_path(self) -> str | None:
        """The `lock-file` input as a path inside the workspace (None: auto, or `none`)."""
        value = self.inputs.lock_file
        if value is None or value == "none":
            return None
        path = Path(value)
        resolved = (self.workspace / path).resolve()
        if not resolved.is_relative_to(self.workspace.resolve()):
            raise ActionError(
                "routing-guard: lock file outside the workspace",
                f"input `lock-file` must name a file inside the workspace, not `{value}`",
            )
        return str(resolved.relative_to(self.workspace.resolve()))

    def lock_arguments(self, command: str) -> list[str]:
        if self.inputs.lock_file == "none":
            if command == "lock":
                raise ActionError(
                    "routing-guard: no lock to write",
                    "`mode: lock` writes the routing lock: set `lock-file` to a path, or `auto`, not `none`",
                )
            return ["--no-lock"]
        path = self.lock_path()
        argv = ["--lock-file", path] if path else []
        if command == "check":
            argv += ["--on-drift", self.inputs.on_drift]
        return argv

    def check_arguments(self, routes: tuple[str, ...], command: str = "check") -> list[str]:
        inputs = self.inputs
        argv = [command, "--routing-file", self.path, "--report", str(self.report_path)]
        argv += self.lock_arguments(command)
        if self.summary_path:
            argv += ["--summary", self.summary_path]
        if inputs.gateway_url:
            argv += ["--gateway-url", inputs.gateway_url]
        for route in routes:
            argv += ["--route", route]
        if inputs.invalid_model == "skip":
            argv.append("--skip-error-path")
        elif inputs.invalid_model:
            argv += ["--invalid-model", inputs.invalid_model]
        if inputs.strict:
            argv.append("--strict")
        if inputs.models_check != "false":
            argv.append("--models" if inputs.models_check == "true" else "--models-only")
        argv += ["--timeout", f"{inputs.timeout:g}", "--retries", str(inputs.retries)]
        argv += ["--concurrency", str(inputs.concurrency)]
        if inputs.log_file:
            (self.workspace / inputs.log_file).parent.mkdir(parents=True, exist_ok=True)
            argv += ["--log", inputs.log_file]
        return argv

    def call_cli(self, argv: list[str]) -> int:
        """The real CLI, in process, its output fenced off so that none of it is a workflow command."""
        token = secrets.token_hex(16)
        stderr = io.StringIO()
        with group(f"routing-guard {argv[0]}"):
            emit(f"::stop-commands::{token}")
            try:
                with contextlib.redirect_stderr(stderr):
                    code = cli.main(argv)
            except SystemExit as exit_:  # the CLI exits this way on a usage or configuration error
                code = exit_.code if isinstance(exit_.code, int) else EXIT_CONFIG
            finally:
                sys.stdout.write(stderr.getvalue())
                emit(f"::{token}::")
        errors = [line for line in stderr.getvalue().splitlines() if line.strip()]
        if code == EXIT_CONFIG and errors:
            self.say("error", errors[-1], title=f"routing-guard {argv[0]}: configuration error")
        return code

    def validate(self) -> int:
        code = self.call_cli(["validate", "--routing-file", self.path, *self.lock_arguments("validate")])
        if code == EXIT_OK:
            self.summary(f"routing-guard: {markdown_cell(self.path)} is a valid routing file.\n")
        return code

    def execute(self) -> tuple[int, dict[str, Any] | None]:
        """Do what the inputs ask; the CLI's exit code and the report it wrote, if any."""
        inputs = self.inputs
        config = self.routing()
        if inputs.mode == "validate":
            return self.validate(), None
        if not self.key and config.needs_key:
            return self.missing_key(), None
        routes = inputs.routes
        changes: RouteChanges | None = None
        locks: LockChanges = {}
        base = ""
        event = self.environ.get("GITHUB_EVENT_NAME", "")
        if inputs.mode == "lock":
            return self.write_lock(routes)
        if inputs.changed_only and event not in PR_EVENTS:
            emit(
                command(
                    "notice", f"changed-only applies to pull requests; on '{event}' every route is checked."
                )
            )
        elif inputs.changed_only:
            base, old = self.base_routing(self.environ.get("GITHUB_BASE_REF", ""))
            changes = diff_routes(old, config)
            locks = self.lock_changes(base)
            # A route whose lock entry changed is probed too: it proves the new entry is the gateway's.
            known = {route.name for route in config.routes}
            wanted = dict.fromkeys([*changes.to_probe, *(name for name in locks if name in known)])
            routes = tuple(r for r in wanted if not inputs.routes or r in inputs.routes)
            if not routes:
                emit(
                    command(
                        "notice",
                        f"No route in {self.path} changed against {base}: validated it, sent no request.",
                    )
                )
                code = self.validate()
                self.summary(changes_markdown(changes, {}, base, locks))
                return code, None
        if self.key:
            os.environ[cli.KEY_ENV] = self.key
        self.report_path.unlink(missing_ok=True)
        code = self.call_cli(self.check_arguments(routes))
        report = read_report(self.report_path)
        if changes is not None:
            verdicts = {str(r.get("route")): str(r.get("verdict")) for r in (report or {}).get("routes", [])}
            self.summary(changes_markdown(changes, verdicts, base, locks))
        return code, report

    def write_lock(self, routes: tuple[str, ...]) -> tuple[int, dict[str, Any] | None]:
        """`mode: lock`: the check, then the lock written into the workspace when everything passed."""
        if self.key:
            os.environ[cli.KEY_ENV] = self.key
        self.report_path.unlink(missing_ok=True)
        code = self.call_cli(self.check_arguments(routes, command="lock"))
        path = self.lock_path() or str(default_lock_path(Path(self.path)))
        if code == EXIT_OK:
            self.summary(
                f"routing-guard wrote the routing lock {markdown_cell(path)}: commit it to keep it.\n"
            )
        return code, read_report(self.report_path)

    def lock_changes(self, ref: str) -> LockChanges:
        """Routes whose lock entry differs between the base branch and the checkout (was, now)."""
        if self.inputs.lock_file == "none":
            return {}
        path = self.lock_path() or str(default_lock_path(Path(self.path)))
        try:
            new = load_lock(self.workspace / path, path) if (self.workspace / path).is_file() else None
        except LockError:
            new = None  # the check itself reports it, at its line
        old = None
        shown = self.git("show", f"{ref}:./{path}")
        if shown.returncode == 0:
            try:
                old = parse_lock(shown.stdout, f"{ref}:{path}")
            except LockError:
                old = None
        return lock_diff(old, new)

    def missing_key(self) -> int:
        if self.inputs.on_missing_key == "validate":
            why = (
                f"{NO_KEY} Only the routing file was validated; no request was sent. "
                f"To run the check: {KEY_ADVICE}"
            )
            self.say("notice", why, title="routing-guard: live check skipped, no API key")
            self.summary(f"### routing-guard: live check skipped\n\n{why}\n\n")
            return self.validate()
        why = (
            f"{NO_KEY} {KEY_ADVICE} To only validate the routing file when there is no key, "
            "set `on-missing-key: validate`."
        )
        self.say("error", why, title="routing-guard: no API key")
        self.summary(f"### routing-guard: no API key\n\n{why}\n")
        return EXIT_CONFIG

    def annotate(self, report: dict[str, Any]) -> None:
        """Errors at the failing routes' lines, then warnings; at most 10 of each, the rest in one line."""
        found: dict[str, list[tuple[str, str, int]]] = {"error": [], "warning": []}  # title, message, line
        for route in report.get("routes") or []:
            name, verdict, line = route.get("route"), str(route.get("verdict")), int(route.get("line") or 0)
            for warning in route.get("warnings") or []:
                found["warning"].append((f"routing-guard: {name}", str(warning), line))
            if verdict in ("pass", "skipped"):
                continue
            returned = route.get("model_returned") or route.get("served_model") or "no model"
            message = (
                f"{route.get('model_requested')} -> {returned} "
                f"(HTTP {route.get('http_status') or 'none'}): {route.get('notes') or verdict}"
            )
            if route.get("hint"):
                message = f"{message.rstrip('.')}. {route['hint']}"
            found[self.kind(verdict, route.get("http_status"))].append(
                (f"routing-guard: {name} {verdict}", message, line)
            )
        for path in report.get("error_paths") or []:
            verdict = str(path.get("verdict"))
            if verdict in ("pass", "skipped"):
                continue
            returned = path.get("served_model") or path.get("model_returned") or "no model"
            message = (
                f"bogus model ID {path.get('model_requested')} ({path.get('api')}) -> HTTP "
                f"{path.get('http_status') or 'none'}, answered by {returned}: {path.get('notes') or verdict}"
            )
            found[self.kind(verdict, path.get("http_status"))].append(
                (f"routing-guard: error path {verdict}", message, 0)
            )
        for warning in report.get("warnings") or []:
            found["warning"].append(("routing-guard", str(warning), 0))
        for kind, items in found.items():
            for title, message, line in items[:MAX_ANNOTATIONS]:
                self.say(kind, message, title=title, file=self.path, line=line)
            if len(items) > MAX_ANNOTATIONS:
                rest = ", ".join(
                    title.removeprefix("routing-guard: ") for title, _, _ in items[MAX_ANNOTATIONS:]
                )
                self.say(
                    kind,
                    f"and {len(items) - MAX_ANNOTATIONS} more: {rest}. See the job summary.",
                    title=f"routing-guard: {len(items) - MAX_ANNOTATIONS} more",
                )

    def kind(self, verdict: str, status: Any) -> str:
        """A routing failure is an error; an outage is one too, but a warning under `fail-on: routing`."""
        code = exit_code_of(verdict, status if isinstance(status, int) else None)
        return "warning" if code == EXIT_OPERATIONAL and self.inputs.fail_on == "routing" else "error"


def write_outputs(environ: dict[str, str], code: int, report: dict[str, Any] | None) -> None:
    """The step outputs; `exit-code` is the CLI's, whatever `fail-on` makes of it."""
    if not environ.get("GITHUB_OUTPUT"):
        return
    failed = [str(r.get("route")) for r in (report or {}).get("routes") or [] if not r.get("pass", True)]
    github.write_outputs(
        environ["GITHUB_OUTPUT"],
        {
            "passed": "true" if code == EXIT_OK else "false",
            "exit-code": str(code),
            "failed-routes": ",".join(failed),
            "report": REPORT_NAME if report is not None else "",
        },
    )


def step_exit(code: int, fail_on: str) -> int:
    if code == EXIT_OPERATIONAL and fail_on == "routing":
        emit(
            command(
                "warning",
                "No routing verdict was possible (gateway unreachable, timeouts, auth, 429 or 5xx errors). "
                "The step passes because fail-on is `routing`; the exit-code output is 3.",
                title="routing-guard: gateway not checked",
            )
        )
        return EXIT_OK
    return code


def main() -> int:
    environ = dict(os.environ)
    key = github.read_input(environ, "api-key") or environ.get(cli.KEY_ENV, "").strip()
    mask_key(key)  # first: nothing may be printed before the masks
    redactor = Redactor([key])
    try:
        inputs = github.read_inputs(environ)
    except InputError as error:
        emit(command("error", redactor.scrub(str(error)), title="routing-guard: bad input"))
        write_outputs(environ, EXIT_CONFIG, None)
        return EXIT_CONFIG
    run = Run(inputs, environ, key)
    try:
        os.chdir(run.workspace)
        try:
            code, report = run.execute()
        except ActionError as error:
            run.say("error", error.message, title=error.title, file=error.file, line=error.line)
            run.summary(
                f"### {markdown_cell(error.title)}\n\n{markdown_cell(redactor.scrub(error.message), 2000)}\n"
            )
            code, report = EXIT_CONFIG, None
        if report:
            run.annotate(report)
        write_outputs(environ, code, report)
        return step_exit(code, inputs.fail_on)
    except Exception as error:  # no traceback in a workflow log: one scrubbed line
        emit(
            command(
                "error", redactor.scrub(f"{type(error).__name__}: {error}"), title="routing-guard crashed"
            )
        )
        with contextlib.suppress(Exception):
            write_outputs(environ, EXIT_OPERATIONAL, None)
        return EXIT_OPERATIONAL


if __name__ == "__main__":
    sys.exit(main())
