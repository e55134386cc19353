"""The action: GitHub inputs in, one `app` request, GitHub annotations, summary and outputs out.

Order matters: the key and its derived forms are masked before anything else is printed. The key
reaches the check in `app.Secrets`, never argv or the environment. What the check prints runs
between `::stop-commands::` markers, so nothing a gateway sent can become a workflow command; the
annotations come after the markers, rendered from the `RunResult`, scrubbed and escaped.

Exit code of the step: the check's (0 pass, 1 routing failure, 2 configuration, 3 operational,
4 internal error), except that `fail-on: routing` tolerates a 3 (`policy.py`). A bug (exit 4, in
the check or here) prints one `::error title=routing-guard: internal error (exit 4)::` line (no
traceback) and fails the step whatever `fail-on` says: a guard that crashed has proved nothing.
docs/runner.md lists the runner behaviour this relies on.

Files: every file the step writes in the workspace goes through `Output(root=workspace)`, which
follows no symlink (files.py); the routing file and the CA file must resolve inside the workspace.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from routing_guard import app
from routing_guard.action.annotations import cancelled as cancelled_note
from routing_guard.action.annotations import render_annotations
from routing_guard.action.changes import RouteChanges, changes_markdown, diff_routes
from routing_guard.action.commands import command, emit, group, mask_key, stop_commands
from routing_guard.action.inputs import ActionInputs, InputError, read_input, read_inputs
from routing_guard.action.outputs import REPORT_NAME, step_outputs, write_outputs
from routing_guard.action.policy import step_code, tolerated
from routing_guard.cancel import Cancelled, on_signals
from routing_guard.check import BUG_REPORT
from routing_guard.config import RoutingConfig
from routing_guard.credentials import GATEWAY_KEY_ENV, KEY_ENV, proxy_passwords
from routing_guard.escape import markdown_cell
from routing_guard.files import inside
from routing_guard.output import Output
from routing_guard.results import EXIT_CONFIG, EXIT_INTERNAL, EXIT_OK, EXIT_OPERATIONAL, RunResult

if TYPE_CHECKING:
    from routing_guard.agents import AgentReport

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

T = TypeVar("T")


class ActionError(Exception):
    """A problem the action explains itself: one error annotation, a summary section, exit 2."""

    def __init__(self, title: str, message: str, *, file: str = "", line: int = 0) -> None:
        super().__init__(message)
        self.title, self.message, self.file, self.line = title, message, file, line


class Step:
    """One action run: the inputs, the run's secrets and output edge, and where files go."""

    def __init__(self, inputs: ActionInputs, environ: Mapping[str, str], secrets: app.Secrets) -> None:
        self.inputs = inputs
        self.environ = environ
        self.secrets = secrets
        self.workspace = Path(environ.get("GITHUB_WORKSPACE") or os.getcwd())
        # The log is one stream, in order; files are written inside the workspace only.
        self.output = Output(secrets.redactor, merge_err=True, root=self.workspace)
        self.summary_path = environ.get("GITHUB_STEP_SUMMARY", "")
        self.report_path = self.workspace / REPORT_NAME
        self.path = inputs.routing_file or ""  # the routing file, relative to the workspace, once known

    def say(self, kind: str, message: str, *, title: str, file: str = "", line: int = 0) -> None:
        """One annotation; its text is scrubbed of the key here and escaped by `command`."""
        scrub = self.secrets.redactor.scrub
        emit(command(kind, scrub(message), file=file or None, line=line or None, title=scrub(title)))

    def summary(self, markdown: str) -> None:
        if self.summary_path:
            self.output.append_summary(self.summary_path, markdown)

    def routing(self) -> RoutingConfig:
        """Find and read the routing file; an invalid one ends the run with an annotation at its line."""
        try:
            config = app.load_config(app.RoutingFile(self.path or None, root=self.workspace))
        except app.ConfigError as error:
            raise ActionError(
                "routing-guard: invalid routing file", error.message, file=error.file, line=error.line
            ) from None
        self.path = str(config.source)
        return config

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        git = shutil.which("git") or "/usr/bin/git"  # a workflow's `env: PATH` may hide it
        argv = [git, "-C", str(self.workspace), *args]
        try:
            return subprocess.run(argv, capture_output=True, encoding="utf-8", errors="replace", check=False)
        except OSError as error:
            raise ActionError(
                "routing-guard: git not available", f"changed-only needs git: {error}"
            ) from None

    def base_routing(self, base: str) -> tuple[str, RoutingConfig | None]:
        """The base branch's ref and its routing file (None: the base has no valid one)."""
        from routing_guard.routing import RoutingError, load_routing_text

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
        """The `lock-file` input as a path inside the workspace (None: auto, or `none`). The lock
        either names must resolve inside the workspace: a committed symlink's target is not read."""
        from routing_guard.files import inside
        from routing_guard.lock import default_lock_path

        value = self.inputs.lock_file
        if value == "none":
            return None
        path = Path(value) if value is not None else default_lock_path(Path(self.path))
        if not inside(self.workspace, path):
            named = f"input `lock-file` must name a file inside the workspace, not `{value}`"
            raise ActionError(
                "routing-guard: lock file outside the workspace",
                named if value is not None else f"`{path}` leads outside the workspace (a symlink?)",
            )
        if value is None:
            return None
        return str((self.workspace / path).resolve().relative_to(self.workspace.resolve()))

    def default_lock(self) -> str:
        from routing_guard.lock import default_lock_path

        return self.lock_path() or str(default_lock_path(Path(self.path)))

    def fenced(self, name: str, work: Callable[[], T]) -> T | int:
        """Run `work` with its output fenced off from the runner; a configuration error is an
        annotation after the fence and exit 2 (the value returned in place of `work`'s)."""
        with group(f"routing-guard {name}"), stop_commands():
            where: tuple[str, int] = ("", 0)
            try:
                return work()
            except app.ConfigError as error:
                message, where = error.message, (error.file, error.line)
            except OSError as error:
                message = app.os_error_message(error)
            except KeyboardInterrupt:
                self.output.print("routing-guard: error: interrupted")
                return EXIT_OPERATIONAL
            self.output.print(f"routing-guard: error: {message}")
        file, line = where if where[1] else ("", 0)  # a file is named where its line is known
        self.say(
            "error",
            f"routing-guard: error: {message}",
            title=f"routing-guard {name}: configuration error",
            file=file,
            line=line,
        )
        return EXIT_CONFIG

    def validate(self, config: RoutingConfig) -> int:
        if self.inputs.lock_file == "none":
            request = app.ValidateRequest(config, use_lock=False, agents_root=self.workspace)
        else:
            request = app.ValidateRequest(config, lock_file=self.lock_path(), agents_root=self.workspace)
        outcome = self.fenced("validate", lambda: app.validate(request, self.secrets, self.output))
        if isinstance(outcome, int):
            return outcome
        self.summary(f"routing-guard: {markdown_cell(self.path)} is a valid routing file.\n")
        if outcome.agents is not None:
            from routing_guard.agents.render import render_markdown

            self.summary(render_markdown(outcome.agents))
            self.annotate_agents(outcome.agents)
        return outcome.exit_code

    def check_request(
        self, config: RoutingConfig, routes: tuple[str, ...], *, lock: bool
    ) -> app.CheckRequest:
        from routing_guard.check import CheckOptions

        inputs = self.inputs
        if lock and inputs.lock_file == "none":
            raise ActionError(
                "routing-guard: no lock to write",
                "`mode: lock` writes the routing lock: set `lock-file` to a path, or `auto`, not `none`",
            )
        return app.CheckRequest(
            routing=config,
            options=CheckOptions(
                routes=routes,
                invalid_model=None if inputs.invalid_model == "skip" else inputs.invalid_model,
                skip_error_path=inputs.invalid_model == "skip",
                strict=inputs.strict,
                models={"false": "off", "true": "with", "only": "only"}[inputs.models_check],  # type: ignore[arg-type]
                timeout=inputs.timeout,
                retries=inputs.retries,
                concurrency=inputs.concurrency,
                time_budget=inputs.time_budget,
            ),
            gateway_url=inputs.gateway_url,
            ca_certificates=self.ca_certificates(),
            lock_file=self.lock_path(),
            use_lock=inputs.lock_file != "none",
            on_drift=inputs.on_drift,
            write_lock=lock,
            report=self.report_path,
            log=self.workspace / inputs.log_file if inputs.log_file else None,
            summary=Path(self.summary_path) if self.summary_path else None,
            agents_root=self.workspace,
        )

    def ca_certificates(self) -> str | None:
        """The `ca-certificates` input, checked: a PEM file inside the workspace (its absolute path)."""
        from routing_guard.transport import CaSource, TransportError, read_pem

        value = self.inputs.ca_certificates
        if not value:
            return None
        title = "routing-guard: bad ca-certificates"
        if not inside(self.workspace, value):
            raise ActionError(title, f"input `ca-certificates`: {value} is not a file inside the workspace")
        try:
            read_pem(CaSource(value, "input `ca-certificates`"))
        except TransportError as error:
            raise ActionError(title, str(error)) from None
        return str(self.workspace / value)

    def check(self, request: app.CheckRequest, name: str) -> tuple[int, RunResult | None]:
        self.report_path.unlink(missing_ok=True)
        outcome = self.fenced(name, lambda: app.execute(request, self.secrets, self.output))
        if isinstance(outcome, int):
            return outcome, None
        if outcome.exit_code == EXIT_INTERNAL:
            errors = "; ".join(outcome.internal_errors)[:500]
            self.say(
                "error",
                f"routing-guard could not judge every probe ({errors}): a bug in routing-guard. {BUG_REPORT}",
                title="routing-guard: internal error (exit 4)",
            )
        return outcome.exit_code, outcome

    def execute(self) -> tuple[int, RunResult | None]:
        """Do what the inputs ask: the check's exit code and its result, if one ran."""
        inputs = self.inputs
        config = self.routing()
        if inputs.mode == "validate":
            return self.validate(config), None
        if app.missing_key(config, self.secrets):
            return self.missing_key(config), None
        routes = inputs.routes
        if inputs.mode == "lock":
            code, run = self.check(self.check_request(config, routes, lock=True), "lock")
            if code == EXIT_OK:
                self.summary(
                    f"routing-guard wrote the routing lock {markdown_cell(self.default_lock())}: "
                    "commit it to keep it.\n"
                )
            return code, run
        changes: RouteChanges | None = None
        locks: dict[str, tuple[str | None, str | None]] = {}
        base = ""
        event = self.environ.get("GITHUB_EVENT_NAME", "")
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
                code = self.validate(config)
                self.summary(changes_markdown(changes, {}, base, locks))
                return code, None
        code, run = self.check(self.check_request(config, routes, lock=False), "check")
        if changes is not None:
            verdicts: dict[str, str] = {r.route: r.verdict for r in run.routes} if run is not None else {}
            self.summary(changes_markdown(changes, verdicts, base, locks))
        return code, run

    def lock_changes(self, ref: str) -> dict[str, tuple[str | None, str | None]]:
        """Routes whose lock entry differs between the base branch and the checkout (was, now)."""
        from routing_guard.lock import LockError, load_lock, lock_diff, parse_lock

        if self.inputs.lock_file == "none":
            return {}
        path = self.default_lock()
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

    def missing_key(self, config: RoutingConfig) -> int:
        if self.inputs.on_missing_key == "validate":
            why = (
                f"{NO_KEY} Only the routing file was validated; no request was sent. "
                f"To run the check: {KEY_ADVICE}"
            )
            self.say("notice", why, title="routing-guard: live check skipped, no API key")
            self.summary(f"### routing-guard: live check skipped\n\n{why}\n\n")
            return self.validate(config)
        why = (
            f"{NO_KEY} {KEY_ADVICE} To only validate the routing file when there is no key, "
            "set `on-missing-key: validate`."
        )
        self.say("error", why, title="routing-guard: no API key")
        self.summary(f"### routing-guard: no API key\n\n{why}\n")
        return EXIT_CONFIG

    def annotate(self, run: RunResult) -> None:
        for note in render_annotations(run, self.inputs.fail_on):
            file = self.path if note.at_file else ""
            self.say(note.kind, note.message, title=note.title, file=file, line=note.line)
        if run.agents is not None:
            self.annotate_agents(run.agents)

    def annotate_agents(self, report: AgentReport) -> None:
        """One annotation per agent finding, on the agent file's line (paths are workspace-relative)."""
        from routing_guard.agents.render import annotation_commands

        for line in annotation_commands(report, redactor=self.secrets.redactor):
            emit(line)


def write_step_outputs(environ: Mapping[str, str], code: int, run: RunResult | None) -> None:
    if environ.get("GITHUB_OUTPUT"):
        write_outputs(environ["GITHUB_OUTPUT"], step_outputs(code, run))


def step_exit(code: int, fail_on: str) -> int:
    """The step's exit code; an outage `fail-on: routing` tolerates is said in a warning."""
    if tolerated(code, fail_on):
        emit(
            command(
                "warning",
                "No routing verdict was possible (gateway unreachable, timeouts, auth, 429 or 5xx errors). "
                "The step passes because fail-on is `routing`; the exit-code output is 3.",
                title="routing-guard: gateway not checked",
            )
        )
    return step_code(code, fail_on)


def main(environ: Mapping[str, str] | None = None) -> int:
    # PID 1 in the container: SIGTERM does nothing unless handled (routing_guard/cancel.py)
    with on_signals():
        try:
            return run_step(dict(os.environ if environ is None else environ))
        except Cancelled as cancelled:  # before the step could say anything
            return cancelled.exit_code


def run_step(environ: dict[str, str]) -> int:
    key = read_input(environ, "api-key") or environ.get(KEY_ENV, "").strip()
    gateway_key = read_input(environ, "gateway-key") or environ.get(GATEWAY_KEY_ENV, "").strip()
    mask_key(key, gateway_key)  # first: nothing may be printed before the masks
    secrets = app.Secrets(key, gateway_key, tuple(proxy_passwords(environ)))
    redactor = secrets.redactor
    try:
        inputs = read_inputs(environ)
    except InputError as error:
        emit(command("error", redactor.scrub(str(error)), title="routing-guard: bad input"))
        write_step_outputs(environ, EXIT_CONFIG, None)
        return EXIT_CONFIG
    step = Step(inputs, environ, secrets)
    try:
        os.chdir(step.workspace)
        try:
            code, run = step.execute()
        except ActionError as error:
            step.say("error", error.message, title=error.title, file=error.file, line=error.line)
            step.summary(
                f"### {markdown_cell(error.title)}\n\n{markdown_cell(redactor.scrub(error.message), 2000)}\n"
            )
            code, run = EXIT_CONFIG, None
        if run is not None:
            step.annotate(run)
        write_step_outputs(environ, code, run)
        return step_exit(code, inputs.fail_on)
    except Cancelled as cancelled:  # outside the check itself: nothing judged is lost
        note = cancelled_note(cancelled.signal_name)
        step.say(note.kind, note.message, title=note.title)
        write_step_outputs(environ, cancelled.exit_code, None)
        return cancelled.exit_code
    except Exception as error:  # a bug: no traceback in a workflow log, one scrubbed line, exit 4
        if environ.get("ROUTING_GUARD_DEBUG"):
            raise
        message = f"{type(error).__name__}: {error}, a bug in routing-guard. {BUG_REPORT}"
        emit(command("error", redactor.scrub(message), title="routing-guard: internal error (exit 4)"))
        with contextlib.suppress(Exception):
            write_step_outputs(environ, EXIT_INTERNAL, None)
        return EXIT_INTERNAL


def run() -> None:
    sys.exit(main())
