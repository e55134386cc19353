"""The routing lock against a real LiteLLM proxy whose alias is re-pointed between two runs.

`routing-guard lock` runs against the proxy started with config-lock-before.yaml; the proxy is
stopped and started again on the same port with config-lock-after.yaml, where `coder-heavy` is
served by another deployment. LiteLLM (1.108.7) echoes the alias in the body, so the route still
"matches exactly"; only the served-model header moved, and the lock catches it. The CLI runs in a
subprocess, as a user runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.litellm_proxy import (
    CONFIG_DIR,
    MASTER_KEY,
    LiteLLMNotInstalledError,
    Proxy,
    ProxyStartError,
    free_port,
    start_proxy,
)

pytestmark = pytest.mark.litellm

REPO_ROOT = Path(__file__).resolve().parents[2]


def proxy_with(config: str, port: int, logs: Path) -> Proxy:
    try:
        return start_proxy(CONFIG_DIR / config, port=port, log_path=logs / f"{config}.log")
    except (LiteLLMNotInstalledError, ProxyStartError) as error:
        pytest.fail(str(error), pytrace=False)


def cli(folder: Path, *args: str) -> tuple[int, str, dict[str, object]]:
    """`routing-guard ARGS --report report.json` in folder; exit code, all output, the report."""
    report = folder / "report.json"
    report.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["ROUTING_GUARD_API_KEY"] = MASTER_KEY
    env["PYTHONPATH"] = str(REPO_ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "routing_guard", *args, "--report", str(report), "--retries", "0"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert MASTER_KEY[:8] not in output
    document = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {}
    return done.returncode, output, document


def verdicts(report: dict[str, object]) -> dict[str, str]:
    return {str(r["route"]): str(r["verdict"]) for r in report["routes"]}  # type: ignore[attr-defined]


def test_an_alias_re_pointed_between_two_runs_is_drifted(tmp_path: Path) -> None:
    port = free_port()
    routing = tmp_path / ".github" / "model-routing.yml"
    routing.parent.mkdir()
    routing.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "gateway": {"base_url": f"http://127.0.0.1:{port}/v1"},
                "routes": {"code-generation": {"model": "gpt-4o"}, "heavy": {"model": "coder-heavy"}},
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    lock_path = tmp_path / ".github" / "model-routing.lock.json"

    with proxy_with("config-lock-before.yaml", port, tmp_path):
        code, output, report = cli(tmp_path, "lock")
        assert code == 0, output
        assert verdicts(report) == {"code-generation": "pass", "heavy": "pass"}
        assert "locked 2 route(s) in .github/model-routing.lock.json" in output
        assert cli(tmp_path, "check")[0] == 0

    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    heavy = lock["routes"]["heavy"]
    assert heavy["model_returned"] == "coder-heavy"  # the echo
    assert heavy["served_header"] == "x-litellm-model-name"
    assert heavy["served_model"] == "anthropic/claude-opus-4-20250514"
    assert lock["gateway_host"] == f"127.0.0.1:{port}"
    assert lock["routing_file"] == ".github/model-routing.yml"

    with proxy_with("config-lock-after.yaml", port, tmp_path):
        code, output, report = cli(tmp_path, "check")
        assert code == 1, output
        assert verdicts(report) == {"code-generation": "pass", "heavy": "drifted"}
        [moved] = [r for r in report["routes"] if r["route"] == "heavy"]  # type: ignore[attr-defined]
        assert moved["notes"] == (
            "drifted from the lock: served_model was anthropic/claude-opus-4-20250514, now "
            f"openai/gpt-4o-mini-2024-07-18 (locked {heavy['locked_utc']})"
        )
        assert cli(tmp_path, "check", "--on-drift", "warn")[0] == 0

        code, output, _ = cli(tmp_path, "lock")
        assert code == 0, output
        assert (
            "heavy: coder-heavy, served by anthropic/claude-opus-4-20250514 -> coder-heavy, served by "
            in output
        )
        assert cli(tmp_path, "check")[0] == 0

    relocked = json.loads(lock_path.read_text(encoding="utf-8"))
    assert relocked["routes"]["heavy"]["served_model"] == "openai/gpt-4o-mini-2024-07-18"
    assert relocked["routes"]["code-generation"] == lock["routes"]["code-generation"]  # same date: no diff
