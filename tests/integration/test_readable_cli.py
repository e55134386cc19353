"""What a newcomer meets at the command line: colour as NO_COLOR / FORCE_COLOR say, the routing file
found from a subfolder, a warning for a second routing block, every validation problem listed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BLOCK = "# Agents\n\n```yaml model-routing\nversion: 1\ngateway: {base_url: 'https://gw.example.com/v1'}\nroutes:\n  docs: {model: gpt-4o-mini}\n```\n"


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "GITHUB_STEP_SUMMARY")
    }
    return subprocess.run(
        [sys.executable, "-m", "routing_guard", *args], cwd=cwd, env={**environ, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_demo_in_colour_only_when_forced(tmp_path: Path) -> None:
    plain = cli("demo", cwd=tmp_path)
    forced = cli("demo", cwd=tmp_path, FORCE_COLOR="1")
    vetoed = cli("demo", cwd=tmp_path, FORCE_COLOR="1", NO_COLOR="1")
    assert plain.returncode == forced.returncode == vetoed.returncode == 0
    assert "\x1b[" not in plain.stdout and "\x1b[" not in vetoed.stdout
    assert "\x1b[32mpass" in forced.stdout and "\x1b[31mfallback_detected" in forced.stdout
    assert "to fix (ci-triage): " in plain.stdout
    assert "to fix (error path [openai-chat]): " in plain.stdout
    assert "served by anthropic/claude-sonnet-4-5" in plain.stdout and "…" not in plain.stdout


def test_from_a_subfolder_with_two_blocks(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "src" / "pkg").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    (repo / "AGENTS.md").write_text(BLOCK, encoding="utf-8")
    (repo / "CLAUDE.md").write_text(BLOCK, encoding="utf-8")
    run = cli("validate", cwd=repo / "src" / "pkg")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("../../AGENTS.md: valid, 1 route(s): docs")
    assert "warning: CLAUDE.md also carries a model-routing block, which is not used: AGENTS.md" in run.stderr


def test_every_problem_is_listed(tmp_path: Path) -> None:
    (tmp_path / "model-routing.yml").write_text(
        "version: 1\ngateway: {base_url: 'https://gw.example.com/v1'}\nroutes:\n"
        "  a: {model: x, strict: maybe}\n  b: {model: y, stream: 3}\n",
        encoding="utf-8",
    )
    run = cli("validate", cwd=tmp_path)
    assert run.returncode == 2
    problems = [
        line.split("model-routing.yml:", 1)[1]
        for line in run.stderr.splitlines()
        if "model-routing.yml:" in line
    ]
    assert sorted(p.split(":")[0] for p in problems) == ["4", "5"], run.stderr
    assert any("'maybe'" in p for p in problems) and any("stream" in p for p in problems)
    assert "more problem" not in run.stderr
