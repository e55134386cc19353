"""Build the action image and run it exactly as the GitHub runner runs a Docker container action.

There is no Docker engine on these machines: podman as root, with runc, vfs storage and chroot
builds (docs/runner.md). ``scripts/container-setup.sh`` installs podman and builds the
stand-in base ``localhost/python-base:local``; this module finds the same ``containers.conf`` and
never changes the test process's environment.

What ``run_action`` reproduces, from the runner's ContainerActionHandler, DockerCommandManager,
FileCommandManager and ActionCommandManager:

- ``--workdir /github/workspace --rm``, a ``--name`` and ``--label``; every variable passed as
  ``-e NAME`` with its value only in the podman client's environment, never in argv;
- inputs as ``INPUT_<NAME>`` (upper-cased, spaces to ``_``, hyphens kept: ``INPUT_API-KEY``), with
  action.yml's defaults for inputs the workflow leaves out and ``""`` for inputs without one;
- the workflow's ``env:`` first, then the github context (``GITHUB_*``, ``RUNNER_*``), which wins,
  then ``HOME=/github/home``, ``-e GITHUB_ACTIONS=true`` and ``-e CI=true`` (unless ``env`` set CI);
- the host paths rewritten to container paths (``GITHUB_WORKSPACE=/github/workspace``,
  ``GITHUB_OUTPUT=/github/file_commands/set_output_<guid>`` and the other file commands,
  ``GITHUB_EVENT_PATH=/github/workflow/event.json``), with the five mounts made from fresh dirs;
- the file commands created empty before the run and processed after it, even on a non-zero
  exit; a malformed ``GITHUB_OUTPUT`` fails the step as it does on GitHub;
- workflow commands parsed from stdout and stderr in arrival order, with ``::stop-commands::``.

Differences, on purpose: ``--network=host`` (the gateway under test listens on loopback) or
``--network=none`` instead of the job's bridge network; no ``/var/run/docker.sock`` mount; the
workspace is chowned to uid 1001 (the hosted runner's ``runner`` user) so that git inside the
container sees a workspace owned by someone else, as on GitHub.

Typical use (the ``container`` marker is declared in pyproject.toml)::

    from tests.support.container_harness import build_image, require_podman, run_action

    @pytest.mark.container
    @pytest.mark.timeout(900)
    def test_passing_run(tmp_path: Path) -> None:
        require_podman()
        image = build_image()  # built once per test session
        workspace = tmp_path / "ws"
        workspace.mkdir()
        (workspace / "model-routing.yml").write_text(...)
        run = run_action(
            image,
            inputs={"api-key": key, "gateway-url": proxy.base_url},
            env={},
            workspace=workspace,
        )
        assert run.exit_code == 0, run.describe()
        assert run.outputs["passed"] == "true"
        assert not run.commands("error")

A container run costs about 8-12 s here: vfs copies the whole image for every container.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION_YML = REPO_ROOT / "action.yml"
SETUP_SCRIPT = "scripts/container-setup.sh"

BASE_IMAGE = "localhost/python-base:local"  # built by scripts/container-setup.sh
DEFAULT_TAG = "localhost/routing-guard:test"
HOSTILE_PATH = "utter-nonsense"  # what pypa/gh-action-pypi-publish's self-test sets
RUNNER_UID = 1001  # the `runner` user of GitHub's hosted Linux runners
REQUIRE_ENV = "ROUTING_GUARD_CONTAINER_TESTS"  # "skip": missing podman skips instead of failing

SUMMARY_LIMIT = 1024 * 1024  # bytes; over it the runner errors and uploads no summary
LABEL = "routing-guard-test-harness"  # on every container this module starts

WORKSPACE = "/github/workspace"
FILE_COMMANDS = "/github/file_commands"
HOME = "/github/home"
WORKFLOW = "/github/workflow"
RUNNER_TEMP = "/github/runner_temp"
EVENT_PATH = f"{WORKFLOW}/event.json"

# The runner's file commands: environment variable -> file name prefix.
FILE_COMMAND_PREFIXES = {
    "GITHUB_OUTPUT": "set_output_",
    "GITHUB_STEP_SUMMARY": "step_summary_",
    "GITHUB_ENV": "set_env_",
    "GITHUB_PATH": "add_path_",
    "GITHUB_STATE": "save_state_",
}

# The github context as the runner exports it for a push to main; override through `github=`.
GITHUB_CONTEXT_DEFAULTS: dict[str, str] = {
    "GITHUB_ACTION": "__self",
    "GITHUB_ACTION_REPOSITORY": "",
    "GITHUB_ACTOR": "octocat",
    "GITHUB_ACTOR_ID": "583231",
    "GITHUB_API_URL": "https://api.github.com",
    "GITHUB_BASE_REF": "",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
    "GITHUB_HEAD_REF": "",
    "GITHUB_JOB": "check",
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_REF_NAME": "main",
    "GITHUB_REF_PROTECTED": "false",
    "GITHUB_REF_TYPE": "branch",
    "GITHUB_REPOSITORY": "octo-org/octo-repo",
    "GITHUB_REPOSITORY_ID": "123456789",
    "GITHUB_REPOSITORY_OWNER": "octo-org",
    "GITHUB_REPOSITORY_OWNER_ID": "987654321",
    "GITHUB_RETENTION_DAYS": "90",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_RUN_ID": "1658821493",
    "GITHUB_RUN_NUMBER": "1",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_SHA": "ffac537e6cbbf934b08745a378932722df287a53",
    "GITHUB_TRIGGERING_ACTOR": "octocat",
    "GITHUB_WORKFLOW": "routing",
    "GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/routing.yml@refs/heads/main",
    "GITHUB_WORKFLOW_SHA": "ffac537e6cbbf934b08745a378932722df287a53",
    "RUNNER_ARCH": "X64",
    "RUNNER_ENVIRONMENT": "github-hosted",
    "RUNNER_NAME": "GitHub Actions 2",
    "RUNNER_OS": "Linux",
    "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
}
# Set by the runner itself after the github context: `env` and `github` may not set them.
RUNNER_SET = frozenset(
    {"HOME", "GITHUB_WORKSPACE", "GITHUB_EVENT_PATH", "RUNNER_TEMP", *FILE_COMMAND_PREFIXES}
)

# ActionCommandManager's registered commands (internal-set-repo-path is only for the runner's plugins).
WORKFLOW_COMMANDS = frozenset(
    {
        "add-mask",
        "add-matcher",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "remove-matcher",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    }
)


# --- podman --------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where scripts/container-setup.sh keeps containers.conf (same rule as the script)."""
    configured = os.environ.get("ROUTING_GUARD_CONTAINER_CACHE")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "routing-guard-container"


def containers_conf() -> Path:
    return cache_dir() / "containers.conf"


def podman() -> list[str]:
    """The podman command prefix: CONTAINERS_CONF, runc and vfs storage, by absolute paths.

    Absolute, so that the client environment of `run_action` (whose PATH may be `utter-nonsense`,
    as the container's is) cannot hide podman.
    """
    exe = shutil.which("podman") or "/usr/bin/podman"
    return [
        "/usr/bin/env",
        f"CONTAINERS_CONF={containers_conf()}",
        exe,
        "--runtime",
        "runc",
        "--storage-driver=vfs",
    ]


def run_podman(
    *args: str, check: bool = True, timeout: float = 300.0, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """One podman call, output captured as text; raises PodmanError with the output when it fails."""
    proc = subprocess.run(
        [*podman(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=dict(env) if env is not None else None,
    )
    if check and proc.returncode != 0:
        raise PodmanError(f"podman {' '.join(args[:3])} ... exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    return proc


class PodmanError(RuntimeError):
    pass


def unavailable_reason() -> str | None:
    """Why containers cannot be built or run on this machine, or None when they can."""
    fix = f"run `{SETUP_SCRIPT}` (as root) first"
    if os.geteuid() != 0:
        return "the container tests need root (podman with vfs storage and chroot builds)"
    if shutil.which("podman") is None:
        return f"podman is not installed: {fix}"
    if not containers_conf().is_file():
        return f"{containers_conf()} is missing: {fix}"
    if run_podman("image", "exists", BASE_IMAGE, check=False, timeout=60).returncode != 0:
        return f"the base image {BASE_IMAGE} is missing: {fix}"
    return None


def require_podman() -> None:
    """Fail the calling test when containers cannot run here, saying how to fix it.

    With ROUTING_GUARD_CONTAINER_TESTS=skip the test is skipped instead (a machine that cannot run
    podman at all); deselecting with `-m "not container"` is the usual way to leave them out.
    """
    import pytest

    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "skip":
        pytest.skip(reason)
    pytest.fail(reason, pytrace=False)


# --- building and inspecting the image -----------------------------------------------------------


@dataclass(frozen=True)
class Build:
    image_id: str
    tag: str
    seconds: float
    log: str


_builds: dict[tuple[str, str, tuple[tuple[str, str], ...]], Build] = {}
_build_lock = threading.Lock()
_CONTEXT_SKIP = shutil.ignore_patterns(
    ".git", "__pycache__", ".venv*", ".*_cache", ".hypothesis", "*.egg-info", "build", "dist", ".ci-work"
)


def build_image(
    tag: str = DEFAULT_TAG,
    *,
    base_image: str = BASE_IMAGE,
    overrides: Mapping[str, str] | None = None,
    timeout: float = 900.0,
) -> str:
    """Build the repository's Dockerfile as the action's CI does; the image ID.

    Built once per test session for each (tag, base image, overrides); podman's layer cache makes
    a rebuild after a code change fast. `overrides` maps paths in the build context to file
    contents: the build then runs on a copy of the repository with those files written over it (a
    stand-in entrypoint, a broken requirements file), and the repository is left alone.

    The image the tag named before is removed when nothing else uses it: vfs storage keeps a full
    copy of the filesystem for every layer, so each code change would otherwise leave ~700 MB.
    """
    key = (tag, base_image, tuple(sorted((overrides or {}).items())))
    with _build_lock:
        if key in _builds:
            return _builds[key].image_id
        with tempfile.TemporaryDirectory(prefix="routing-guard-build-") as tmp:
            context = REPO_ROOT
            if overrides:
                context = Path(tmp) / "context"
                shutil.copytree(REPO_ROOT, context, ignore=_CONTEXT_SKIP, symlinks=True)
                for relative, text in overrides.items():
                    target = context / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
            iidfile = Path(tmp) / "iid"
            previous = run_podman("image", "inspect", "--format", "{{.Id}}", tag, check=False, timeout=60)
            started = time.monotonic()
            proc = run_podman(
                "build",
                "--isolation=chroot",
                "--build-arg",
                f"BASE_IMAGE={base_image}",
                "--iidfile",
                str(iidfile),
                "-t",
                tag,
                "-f",
                str(context / "Dockerfile"),
                str(context),
                check=False,
                timeout=timeout,
            )
            seconds = time.monotonic() - started
            log = proc.stdout + proc.stderr
            if proc.returncode != 0:
                raise PodmanError(f"podman build exited {proc.returncode}:\n{log[-6000:]}")
            image_id = iidfile.read_text().strip().removeprefix("sha256:")
        old_id = previous.stdout.strip()
        if previous.returncode == 0 and old_id and old_id != image_id:
            # fails, harmlessly, while another tag or a container still uses it
            run_podman("rmi", old_id, check=False, timeout=120)
        _builds[key] = Build(image_id=image_id, tag=tag, seconds=seconds, log=log)
        return image_id


def build_info(image_id: str) -> Build:
    """The record of a build made by `build_image` in this session (time taken, log)."""
    for build in _builds.values():
        if build.image_id == image_id:
            return build
    raise KeyError(image_id)


def inspect_image(image: str) -> dict[str, Any]:
    data = json.loads(run_podman("image", "inspect", image, timeout=60).stdout)
    return dict(data[0])


def image_size(image: str) -> int:
    """Bytes, as `podman image inspect` counts them (uncompressed)."""
    return int(inspect_image(image)["Size"])


def layer_count(image: str) -> int:
    return len(inspect_image(image)["RootFS"]["Layers"])


def size_above_base(image: str, base: str = BASE_IMAGE) -> int:
    """Bytes the Dockerfile adds on top of its base image."""
    return image_size(image) - image_size(base)


def exec_in_image(
    image: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run argv[0] (an absolute path) as the entrypoint of a throwaway container, no network.

    For inspecting the image, not for running the action: use `run_action` for that.
    """
    names = [arg for name in (env or {}) for arg in ("-e", name)]
    client_env = {**os.environ, **(env or {})}
    return run_podman(
        "run",
        "--rm",
        "--network=none",
        "--label",
        LABEL,
        *names,
        "--entrypoint",
        argv[0],
        image,
        *argv[1:],
        check=False,
        timeout=timeout,
        env=client_env,
    )


# --- GITHUB_OUTPUT and the other key-value file commands ------------------------------------------


class FileCommandError(ValueError):
    """A file command the runner rejects: the step fails with this message."""


def _read_line(text: str, index: int) -> tuple[str | None, int, str | None]:
    """The runner's ReadLine on Linux: the line, the next index, the newline consumed (None at EOF)."""
    if index >= len(text):
        return None, index, None
    lf = text.find("\n", index)
    if lf < 0:
        return text[index:], len(text), None
    return text[index:lf], lf + 1, "\n"


def parse_key_value_file(text: str) -> dict[str, str]:
    """Parse GITHUB_OUTPUT (or GITHUB_ENV, GITHUB_STATE) text exactly as the runner does on Linux.

    `NAME=VALUE` on one line, or `NAME<<DELIMITER`, the value's lines, then DELIMITER alone on its
    line. Empty lines between entries are skipped; a later entry replaces an earlier one of the
    same name; only "\\n" ends a line ("\\r" stays in the value). Raises FileCommandError with the
    runner's message for a line that is neither form, an empty name or delimiter, a missing closing
    delimiter, or a value line that ends the file without a newline ("EOF marker missing new line").
    One deliberate difference: `=value` (empty name) is an error here; the runner's own check for it
    tests the wrong variable and lets it through.
    """
    result: dict[str, str] = {}
    index = 0
    line, index, _ = _read_line(text, index)
    while line is not None:
        if line:
            equals, heredoc = line.find("="), line.find("<<")
            if equals >= 0 and (heredoc < 0 or equals < heredoc):
                name, value = line.split("=", 1)
                if not name:
                    raise FileCommandError(f"Invalid format '{line}'. Name must not be empty")
                result[name] = value
            elif heredoc >= 0 and (equals < 0 or heredoc < equals):
                name, delimiter = line.split("<<", 1)
                if not name or not delimiter:
                    raise FileCommandError(
                        f"Invalid format '{line}'. Name must not be empty and delimiter must not be empty"
                    )
                start = end = index
                current, index, newline = _read_line(text, index)
                while current != delimiter:
                    if current is None:
                        raise FileCommandError(f"Invalid value. Matching delimiter not found '{delimiter}'")
                    if newline is None:
                        raise FileCommandError("Invalid value. EOF marker missing new line.")
                    end = index - len(newline)
                    current, index, newline = _read_line(text, index)
                result[name] = text[start:end] if end > start else ""
            else:
                raise FileCommandError(f"Invalid format '{line}'")
        line, index, _ = _read_line(text, index)
    return result


def read_file_command(path: Path) -> str:
    """A file command's text as the runner reads it: UTF-8, a byte-order mark dropped, bad bytes replaced."""
    try:
        return path.read_bytes().decode("utf-8-sig", errors="replace")
    except FileNotFoundError:
        return ""


# --- workflow commands ---------------------------------------------------------------------------

_DATA_UNESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
_PROPERTY_UNESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
_V1_UNESCAPES = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%"))


def _unescape(value: str, mappings: Iterable[tuple[str, str]]) -> str:
    for escaped, plain in mappings:
        value = value.replace(escaped, plain)
    return value


@dataclass(frozen=True)
class WorkflowCommand:
    """One line the runner took as a workflow command."""

    name: str  # lower-case: the runner matches command names case-insensitively
    properties: Mapping[str, str]
    data: str
    stream: str  # "stdout" or "stderr"
    line: str  # the raw line
    syntax: str = "v2"  # "v2" is `::name props::data`; "v1" is the legacy `##[name props]data`


def _parse_command(line: str, registered: set[str]) -> tuple[str, dict[str, str], str, str] | None:
    """ActionCommand.TryParseV2, then TryParse (v1), as the runner tries them."""
    message = line.lstrip()
    if message.startswith("::"):
        end = message.find("::", 2)
        if end >= 0:
            info = message[2:end]
            name = info.split(" ", 1)[0]
            if name.lower() in registered:
                props: dict[str, str] = {}
                if " " in info:
                    for prop in info.split(" ", 1)[1].strip().split(","):
                        pair = [part for part in prop.split("=", 1) if part]
                        if len(pair) == 2:
                            props[pair[0]] = _unescape(pair[1], _PROPERTY_UNESCAPES)
                return name, props, _unescape(message[end + 2 :], _DATA_UNESCAPES), "v2"
    start = line.find("##[")
    if start >= 0:
        close = line.find("]", start)
        if close >= 0:
            info = line[start + 3 : close]
            name = info.split(" ", 1)[0]
            if name.lower() in registered:
                props = {}
                if " " in info:
                    for prop in info.split(" ", 1)[1].split(";"):
                        pair = [part for part in prop.split("=", 1) if part]
                        if len(pair) == 2:
                            props[pair[0]] = _unescape(pair[1], _V1_UNESCAPES)
                return name, props, _unescape(line[close + 1 :], _V1_UNESCAPES), "v1"
    return None


def parse_workflow_commands(lines: Iterable[tuple[str, str]]) -> list[WorkflowCommand]:
    """The workflow commands in (stream, line) pairs, in order, as the runner processes them.

    Lines are commands when, after leading whitespace, they start with `::` and name a registered
    command, or when they contain the legacy `##[name]` form anywhere. After
    `::stop-commands::TOKEN` nothing is a command until the line `::TOKEN::`; the stop and the
    resume markers are not returned.
    """
    registered = set(WORKFLOW_COMMANDS)
    stop_token: str | None = None
    found: list[WorkflowCommand] = []
    for stream, raw in lines:
        line = raw.rstrip("\n")
        parsed = _parse_command(line, registered | ({stop_token.lower()} if stop_token else set()))
        if parsed is None:
            continue
        name, props, data, syntax = parsed
        if stop_token is not None:
            if stop_token and name.lower() == stop_token.lower():  # an empty token never resumes
                stop_token = None
            continue
        if name.lower() == "stop-commands":
            stop_token = data
            continue
        found.append(WorkflowCommand(name.lower(), props, data, stream, line, syntax))
    return found


# --- running the action --------------------------------------------------------------------------


def input_variable(name: str) -> str:
    """The runner's environment name for an input: `api-key` -> `INPUT_API-KEY`."""
    return "INPUT_" + name.replace(" ", "_").upper()


def _action_manifest(action_yml: Path | None) -> dict[str, Any]:
    if action_yml is None or not action_yml.is_file():
        return {}
    import yaml

    loaded = yaml.safe_load(action_yml.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def _literal(value: Any, what: str) -> str:
    text = "" if value is None else str(value)
    if "${{" in text:
        raise NotImplementedError(f"{what} is an expression ({text!r}): pass the evaluated value yourself")
    if isinstance(value, bool):  # YAML `true` is the string "true" to the runner
        text = text.lower()
    return text


@dataclass(frozen=True)
class Invocation:
    """What `run_action` hands to podman: argv (names only) and the client's environment (values)."""

    argv: list[str]
    client_env: dict[str, str]
    container_env: dict[str, str]  # what the container should see, for assertions and debugging


def plan_invocation(
    image: str,
    *,
    inputs: Mapping[str, str],
    env: Mapping[str, str],
    github: Mapping[str, str],
    mounts: Mapping[str, Path],
    guid: str,
    network_host: bool = True,
    hostile_path: bool = True,
    args: Sequence[str] | None = None,
    entrypoint: str | None = None,
    action_yml: Path | None = ACTION_YML,
) -> Invocation:
    """The podman command line and environment for one run, without running it (unit-testable).

    `mounts` maps container paths (/github/workspace, ...) to host directories.
    """
    for name in env:
        if name in RUNNER_SET or name in GITHUB_CONTEXT_DEFAULTS:
            raise ValueError(f"{name} is set by the runner: pass it through `github=`, if at all")
    for name in github:
        if name in RUNNER_SET:
            raise ValueError(f"{name} is set by the runner itself")
    manifest = _action_manifest(action_yml)
    runs = manifest.get("runs") or {}

    container_env: dict[str, str] = dict(env)
    if hostile_path and "PATH" not in env:
        container_env["PATH"] = HOSTILE_PATH
    declared = manifest.get("inputs") or {}
    for name, spec in declared.items():  # AddInputsToEnvironment: given value, else default, else ""
        if name not in inputs:
            default = (spec or {}).get("default") if isinstance(spec, dict) else None
            container_env[input_variable(name)] = _literal(default, f"the default of input {name!r}")
    for name, value in inputs.items():
        container_env[input_variable(name)] = value
    for name, value in (runs.get("env") or {}).items():  # runs.env: only names the workflow did not set
        container_env.setdefault(str(name), _literal(value, f"runs.env.{name}"))
    container_env.update(GITHUB_CONTEXT_DEFAULTS)
    container_env.update(github)
    container_env.update(
        {
            "GITHUB_WORKSPACE": WORKSPACE,
            "GITHUB_EVENT_PATH": EVENT_PATH,
            "RUNNER_TEMP": RUNNER_TEMP,
            "HOME": HOME,
            **{var: f"{FILE_COMMANDS}/{prefix}{guid}" for var, prefix in FILE_COMMAND_PREFIXES.items()},
        }
    )
    # TranslateToContainerPath: a value naming a mounted host directory is rewritten
    for container_path, host in sorted(mounts.items(), key=lambda item: -len(str(item[1]))):
        for name, value in container_env.items():
            if value == str(host) or value.startswith(f"{host}/"):
                container_env[name] = container_path + value[len(str(host)) :]

    if entrypoint is None and runs.get("entrypoint"):
        entrypoint = _literal(runs["entrypoint"], "runs.entrypoint")
    if args is None:
        args = [_literal(arg, "runs.args") for arg in runs.get("args") or []]

    slug = re.sub(r"[^a-z0-9]+", "", image.split("/")[-1].split(":")[0].lower())[:40] or "image"
    argv = ["run", "--name", f"{slug}_{uuid.uuid4().hex[:6]}", "--label", LABEL]
    argv += ["--workdir", WORKSPACE, "--rm"]
    for name in container_env:
        argv += ["-e", name]
    argv += ["-e", "GITHUB_ACTIONS=true"]
    if "CI" not in container_env:
        argv += ["-e", "CI=true"]
    if entrypoint:
        argv += ["--entrypoint", entrypoint]
    argv += ["--network", "host" if network_host else "none"]
    for container_path, host in mounts.items():
        argv += ["-v", f"{host}:{container_path}"]
    argv += [image, *args]

    # The client needs its own PATH and nothing of the container's: only the `-e` names are passed.
    client_env = {key: value for key, value in os.environ.items() if key not in container_env}
    client_env.update(container_env)
    return Invocation(argv=argv, client_env=client_env, container_env=container_env)


@dataclass
class ActionRun:
    """One run of the action container, as the runner would see it."""

    exit_code: int
    stdout: str
    stderr: str
    log: list[tuple[str, str]]  # (stream, line) in arrival order, as the runner reads them
    output_text: str  # the GITHUB_OUTPUT file as the action left it
    summary: str  # the GITHUB_STEP_SUMMARY file as the action left it
    env_text: str
    state_text: str
    path_text: str
    commands_found: list[WorkflowCommand]
    invocation: Invocation
    seconds: float
    runner_dir: Path  # host side of the mounts (removed after the run unless `runner_dir` was given)
    file_command_errors: list[str] = field(default_factory=list)

    @property
    def outputs(self) -> dict[str, str]:
        """The step outputs; raises FileCommandError for a file the runner would reject."""
        return parse_key_value_file(self.output_text)

    @property
    def summary_uploaded(self) -> bool:
        """Whether GitHub would show the summary: not empty and at most 1 MiB."""
        size = len(self.summary.encode("utf-8"))
        return 0 < size <= SUMMARY_LIMIT

    @property
    def step_failed(self) -> bool:
        """The step's outcome on GitHub: a non-zero exit or a file command the runner rejects."""
        return self.exit_code != 0 or bool(self.file_command_errors)

    @property
    def masks(self) -> list[str]:
        return [command.data for command in self.commands_found if command.name == "add-mask"]

    def commands(self, name: str | None = None) -> list[WorkflowCommand]:
        """The workflow commands, or those of one name (`error`, `warning`, `add-mask`, ...)."""
        if name is None:
            return list(self.commands_found)
        return [command for command in self.commands_found if command.name == name.lower()]

    def describe(self) -> str:
        """A readable account of the run for assertion messages (the log as printed, unmasked)."""
        lines = [f"exit code {self.exit_code} after {self.seconds:.1f} s"]
        lines += [f"{stream}: {line.rstrip()}" for stream, line in self.log[-200:]]
        lines.append(f"GITHUB_OUTPUT:\n{self.output_text}")
        lines.append(f"GITHUB_STEP_SUMMARY ({len(self.summary)} chars):\n{self.summary[:4000]}")
        if self.file_command_errors:
            lines.append(f"file command errors: {self.file_command_errors}")
        return "\n".join(lines)


class ActionTimeout(TimeoutError):
    pass


def _pump(pipe: IO[bytes], stream: str, sink: list[tuple[str, str]], lock: threading.Lock) -> None:
    with pipe:
        for raw in pipe:
            text = raw.decode("utf-8", errors="replace")
            with lock:
                sink.append((stream, text))


def run_action(
    image: str,
    *,
    inputs: Mapping[str, str],
    env: Mapping[str, str],
    workspace: Path,
    network_host: bool = True,
    hostile_path: bool = True,
    github: Mapping[str, str] | None = None,
    event: Mapping[str, Any] | None = None,
    args: Sequence[str] | None = None,
    entrypoint: str | None = None,
    workspace_owner: int | None = RUNNER_UID,
    runner_dir: Path | None = None,
    action_yml: Path | None = ACTION_YML,
    timeout: float = 300.0,
) -> ActionRun:
    """Run the action image as the GitHub runner runs a Docker container action step.

    inputs: the step's `with:` (names as in action.yml); action.yml's defaults fill the rest.
    env: the workflow's `env:` for the step (not GITHUB_* context variables: use `github`).
    workspace: the checkout, mounted at /github/workspace; chowned to `workspace_owner` (uid 1001,
        the hosted runner's user; None leaves it) so that git sees another owner, as on GitHub.
    network_host: `--network=host`, so that a gateway on 127.0.0.1 is reachable; False: no network.
    hostile_path: PATH=utter-nonsense unless `env` sets PATH.
    github: github context variables over GITHUB_CONTEXT_DEFAULTS, for example
        {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main", "GITHUB_HEAD_REF": "feature"}.
    event: the webhook payload written to /github/workflow/event.json ({} by default).
    args / entrypoint: as `runs.args` / `runs.entrypoint` would give them (default: action.yml's).
    runner_dir: where the host side of the other mounts goes (kept); default a temporary directory,
        removed after the run.
    """
    workspace = workspace.resolve()
    if not workspace.is_dir():
        raise FileNotFoundError(f"workspace {workspace} is not a directory")
    if workspace_owner is not None:
        for path in [workspace, *workspace.rglob("*")]:
            os.lchown(path, workspace_owner, workspace_owner)
    keep = runner_dir is not None
    root = (
        Path(runner_dir) if runner_dir is not None else Path(tempfile.mkdtemp(prefix="routing-guard-runner-"))
    )
    try:
        mounts = {
            RUNNER_TEMP: root / "runner_temp",
            HOME: root / "_github_home",
            WORKFLOW: root / "_github_workflow",
            FILE_COMMANDS: root / "_runner_file_commands",
            WORKSPACE: workspace,
        }
        for container_path, host in mounts.items():
            if container_path != WORKSPACE:
                host.mkdir(parents=True, exist_ok=True)
        guid = str(uuid.uuid4())
        files = {
            var: mounts[FILE_COMMANDS] / f"{prefix}{guid}" for var, prefix in FILE_COMMAND_PREFIXES.items()
        }
        for path in files.values():
            path.write_bytes(b"")
        (mounts[WORKFLOW] / "event.json").write_text(json.dumps(dict(event or {})), encoding="utf-8")

        invocation = plan_invocation(
            image,
            inputs=inputs,
            env=env,
            github=github or {},
            mounts=mounts,
            guid=guid,
            network_host=network_host,
            hostile_path=hostile_path,
            args=args,
            entrypoint=entrypoint,
            action_yml=action_yml,
        )
        log: list[tuple[str, str]] = []
        lock = threading.Lock()
        started = time.monotonic()
        proc = subprocess.Popen(
            [*podman(), *invocation.argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=invocation.client_env,
        )
        assert proc.stdout is not None and proc.stderr is not None
        pumps = [
            threading.Thread(target=_pump, args=(proc.stdout, "stdout", log, lock), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, "stderr", log, lock), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        try:
            exit_code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            name = invocation.argv[invocation.argv.index("--name") + 1]
            run_podman("rm", "--force", "--time", "0", name, check=False, timeout=60)
            proc.kill()
            proc.wait()
            for pump in pumps:
                pump.join(timeout=10)
            tail = "".join(line for _, line in log[-50:])
            raise ActionTimeout(f"the action ran over {timeout} s; last output:\n{tail}") from None
        for pump in pumps:
            pump.join(timeout=30)
        seconds = time.monotonic() - started

        texts = {var: read_file_command(path) for var, path in files.items()}
        errors = []
        for var in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STATE"):
            try:
                parse_key_value_file(texts[var])
            except FileCommandError as error:
                errors.append(f"{var}: {error}")
        return ActionRun(
            exit_code=exit_code,
            stdout="".join(line for stream, line in log if stream == "stdout"),
            stderr="".join(line for stream, line in log if stream == "stderr"),
            log=log,
            output_text=texts["GITHUB_OUTPUT"],
            summary=texts["GITHUB_STEP_SUMMARY"],
            env_text=texts["GITHUB_ENV"],
            state_text=texts["GITHUB_STATE"],
            path_text=texts["GITHUB_PATH"],
            commands_found=parse_workflow_commands(log),
            invocation=invocation,
            seconds=seconds,
            runner_dir=root,
            file_command_errors=errors,
        )
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
