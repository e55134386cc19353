"""The routing lock through the action image, run as the GitHub runner runs it, against a real
LiteLLM proxy whose alias is re-pointed between two runs.

`mode: lock` writes .github/model-routing.lock.json into the mounted workspace; the proxy restarts
on the same port with config-lock-after.yaml; the next `mode: check` run (lock-file auto) fails the
step with an error annotation at the route's line that says was / now and how to re-lock.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.support.container_harness import build_image, require_podman, run_action
from tests.support.litellm_proxy import (
    CONFIG_DIR,
    MASTER_KEY,
    LiteLLMNotInstalledError,
    Proxy,
    ProxyStartError,
    free_port,
    start_proxy,
)

pytestmark = [pytest.mark.container, pytest.mark.litellm, pytest.mark.timeout(900)]

LOCK = ".github/model-routing.lock.json"


def test_mode_lock_then_a_re_pointed_alias_fails_the_step_at_its_line(tmp_path: Path) -> None:
    require_podman()
    image = build_image()
    port = free_port()
    workspace = tmp_path / "ws"
    (workspace / ".github").mkdir(parents=True)
    routing = workspace / ".github" / "model-routing.yml"
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
    inputs = {"api-key": MASTER_KEY, "retries": "0"}

    def proxy(config: str) -> Proxy:
        try:
            return start_proxy(CONFIG_DIR / config, port=port, log_path=tmp_path / f"{config}.log")
        except (LiteLLMNotInstalledError, ProxyStartError) as error:
            pytest.fail(str(error), pytrace=False)

    with proxy("config-lock-before.yaml"):
        locked = run_action(image, inputs={**inputs, "mode": "lock"}, env={}, workspace=workspace)
    assert locked.exit_code == 0, locked.describe()
    lock = json.loads((workspace / LOCK).read_text(encoding="utf-8"))
    assert lock["routing_file"] == ".github/model-routing.yml"
    assert lock["routes"]["heavy"]["served_model"] == "anthropic/claude-opus-4-20250514"
    assert MASTER_KEY[:8] not in (workspace / LOCK).read_text(encoding="utf-8")

    with proxy("config-lock-after.yaml"):
        checked = run_action(image, inputs=inputs, env={}, workspace=workspace)
    assert checked.exit_code == 1 and checked.step_failed, checked.describe()
    assert checked.outputs["failed-routes"] == "heavy"
    [error] = checked.commands("error")
    assert error.properties["file"] == ".github/model-routing.yml"
    assert error.properties["line"] == str(
        routing.read_text(encoding="utf-8").splitlines().index("  heavy:") + 1
    )
    assert "drifted" in error.properties["title"]
    assert (
        "served_model was anthropic/claude-opus-4-20250514, now openai/gpt-4o-mini-2024-07-18 (locked "
        f"{lock['routes']['heavy']['locked_utc']})"
    ) in error.data
    assert "routing-guard lock" in error.data
