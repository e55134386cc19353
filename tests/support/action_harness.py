"""The runner's side of one action step, in process: environment, workspace, file commands, the
captured log read as the runner reads it, and a fake OpenAI-chat gateway. Used by tests/action/;
the fixtures `action` and `pull_request` are in tests/action/conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from routing_guard.action import main as entrypoint  # the action, imported as a module

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-live-0123456789abcdefghijKLMN"


def parse_output_file(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it (FileCommandManager.cs): name=value or name<<DELIM."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)  # ValueError: a malformed file fails the step
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
            i += 1
    return outputs


class Action:
    """The runner's side of one step: environment, workspace, file commands, captured log."""

    def __init__(self, workspace: Path, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.workspace = workspace
        self.output = files / "set_output"
        self.summary = files / "step_summary"
        self.monkeypatch = monkeypatch
        self.stdout = ""

    def run(self, capsys: pytest.CaptureFixture[str], **inputs: str) -> int:
        for name, value in inputs.items():
            self.monkeypatch.setenv(f"INPUT_{name.replace('_', '-').upper()}", value)
        code = entrypoint.main()
        captured = capsys.readouterr()
        assert captured.err == ""  # everything goes to stdout, in order
        self.stdout = captured.out
        return int(code)

    def outputs(self) -> dict[str, str]:
        return parse_output_file(self.output.read_text()) if self.output.exists() else {}

    def summary_text(self) -> str:
        return self.summary.read_text() if self.summary.exists() else ""

    def commands(self) -> list[str]:
        """The lines the runner would read as commands (outside any stop-commands fence)."""
        found, token = [], None
        for line in self.stdout.splitlines():
            stripped = line.lstrip()
            if token is not None:
                if stripped == f"::{token}::":
                    token = None
                continue
            if stripped.startswith("::stop-commands::"):
                token = stripped.removeprefix("::stop-commands::")
            if stripped.startswith("::"):
                found.append(stripped)
        assert token is None, "stop-commands fence left open"
        return found

    def annotations(self, kind: str) -> list[str]:
        return [c for c in self.commands() if c.startswith(f"::{kind} ") or c.startswith(f"::{kind}::")]


def write_routing(workspace: Path, base_url: str, routes: dict[str, str], *, auth: str = "bearer") -> Path:
    lines = ["version: 1", "gateway:", f"  base_url: {base_url}", f"  auth: {auth}", "routes:"]
    for name, model in routes.items():
        lines += [f"  {name}:", f"    model: {model}"]
    path = workspace / ".github" / "model-routing.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def route_line(path: Path, route: str) -> int:
    return path.read_text().splitlines().index(f"  {route}:") + 1


def chat(model: str) -> dict[str, Any]:
    return {
        "id": "x",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}
        ],
    }


def not_found(model: str) -> Response:
    body = {
        "error": {
            "message": f"The model `{model}` does not exist",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
    }
    return Response(json.dumps(body), status=404, content_type="application/json")


def fake_gateway(httpserver: HTTPServer, served: dict[str, str], answer_unknown: str | None = None) -> str:
    """An OpenAI-chat gateway: `served` maps requested -> returned IDs; others 404, or 200 from a catch-all."""

    def handle(request: Request) -> Response:
        model = str(request.get_json()["model"])
        returned = served.get(model, answer_unknown)
        if returned is None:
            return not_found(model)
        return Response(json.dumps(chat(returned)), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handle)
    return httpserver.url_for("/v1")


def probed_models(httpserver: HTTPServer) -> list[str]:
    return [str(request.get_json()["model"]) for request, _ in httpserver.log]


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def gateway_routing(url: str, routes: dict[str, str]) -> str:
    lines = ["version: 1", "gateway:", f"  base_url: {url}", "routes:"]
    for name, model in routes.items():
        lines += [f"  {name}:", f"    model: {model}"]
    return "\n".join(lines) + "\n"
