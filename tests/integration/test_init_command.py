"""`routing-guard init`'s engine: a scaffold from a real HTTP listing and a repository's Claude Code
settings, written once, valid, never over an existing file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from routing_guard.routing import load_routing
from routing_guard.scaffold import InitProblem, init_routing_file

KEY = "sk-init-test-0123456789abcdef"
LISTING = {
    "object": "list",
    "data": [{"id": i, "object": "model"} for i in ("gpt-4o", "gpt-4o-mini", "text-embedding-3-large")],
}
CLAUDE_SETTINGS = {"model": "claude-sonnet-4-5", "env": {"ANTHROPIC_BASE_URL": "https://gateway.example.com"}}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".claude").mkdir(parents=True)
    (root / ".claude" / "settings.json").write_text(json.dumps(CLAUDE_SETTINGS, indent=2), encoding="utf-8")
    (root / "src").mkdir()
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)
    return root


def test_init_writes_a_valid_scaffold_from_the_listing_and_the_agents(
    repo: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/models", headers={"authorization": f"Bearer {KEY}"}).respond_with_json(
        LISTING
    )
    said = init_routing_file(
        gateway_url=httpserver.url_for("/v1"), output=None, key=KEY, cwd=repo / "src", environ={}
    )
    target = repo / ".github" / "model-routing.yml"
    assert said.startswith("wrote ../.github/model-routing.yml: 7 routes (code-generation, ")
    config = load_routing(target)
    models = {r.name: r.model for r in config.routes}
    assert models["code-generation"] == "gpt-4o" and models["quick-lookup"] == "gpt-4o-mini"
    assert "claude-sonnet-4-5" in models.values()  # the route Claude Code's settings need
    assert "text-embedding" not in json.dumps(models)
    assert KEY not in target.read_text()

    with pytest.raises(InitProblem, match="is already a routing file; init never replaces one"):
        init_routing_file(gateway_url=None, output=None, key="", cwd=repo, environ={})
    with pytest.raises(InitProblem, match="already exists: init never overwrites"):
        init_routing_file(gateway_url=None, output=".github/model-routing.yml", key="", cwd=repo, environ={})


def test_a_refused_listing_still_gives_a_valid_scaffold_that_says_why(
    repo: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/models").respond_with_json({"error": {"message": "no key"}}, status=401)
    init_routing_file(
        gateway_url=httpserver.url_for("/v1"), output="routing.yml", key="", cwd=repo, environ={}
    )
    text = (repo / "routing.yml").read_text()
    assert "could not be read" in text and "401" in text
    assert load_routing(repo / "routing.yml").routes


def test_a_bad_gateway_url_is_refused_before_anything_is_written(repo: Path) -> None:
    with pytest.raises(InitProblem, match="--gateway-url: must be an https:// URL"):
        init_routing_file(gateway_url="ftp://gw.example.com", output=None, key="", cwd=repo, environ={})
    assert not (repo / ".github").exists()


def test_an_agent_under_another_path_of_the_gateway_gets_its_protocol_base(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(LISTING)
    origin = httpserver.url_for("/").rstrip("/")
    root = tmp_path / "project"
    (root / ".claude").mkdir(parents=True)
    settings = {"model": "claude-sonnet-4-5", "env": {"ANTHROPIC_BASE_URL": f"{origin}/anthropic"}}
    (root / ".claude" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)
    init_routing_file(gateway_url=httpserver.url_for("/v1"), output=None, key="", cwd=root, environ={})
    config = load_routing(root / ".github" / "model-routing.yml")
    assert (
        config.gateway.base_for("anthropic-messages") == f"{origin}/anthropic/v1"
    )  # Claude Code adds /v1/messages
    assert config.gateway.base_for("openai-chat") == httpserver.url_for("/v1")


def test_an_agent_on_another_host_adds_no_base(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(LISTING)
    root = tmp_path / "project"
    (root / ".claude").mkdir(parents=True)
    (root / ".claude" / "settings.json").write_text(json.dumps(CLAUDE_SETTINGS), encoding="utf-8")
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)
    init_routing_file(gateway_url=httpserver.url_for("/v1"), output=None, key="", cwd=root, environ={})
    assert load_routing(root / ".github" / "model-routing.yml").gateway.base_urls == {}
