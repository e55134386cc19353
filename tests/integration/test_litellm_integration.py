"""The product's verdicts against a real LiteLLM proxy (1.108.7, mock deployments, no database).

Each test drives routing-guard the way a user does: the CLI in a subprocess, the key in
ROUTING_GUARD_API_KEY, `--gateway-url` pointing at a proxy from `tests/support/litellm_proxy.py`, and
then reads the exit code, the JSON report, the JSON Lines log, the Markdown summary and stdout.
The routing files are in `tests/routing_files/litellm/`; what the proxy answers to each request
is recorded in the proxy configs under `tests/gateways/litellm/`.

Every output of every run is checked for the key (and any 8-character run of it) as it is made,
and once more, all together, by the last test of the module.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.litellm_proxy import (
    CONFIG_CATCH_ALL,
    CONFIG_DIR,
    CONFIG_FALLBACK,
    CONFIG_GATEWAY,
    CONFIG_HEALTHY,
    MASTER_KEY,
    LiteLLMNotInstalledError,
    Proxy,
    ProxyPool,
    ProxyStartError,
)

pytestmark = pytest.mark.litellm

REPO_ROOT = Path(__file__).resolve().parents[2]
ROUTING_DIR = "tests/routing_files/litellm"  # relative to the repository root, where the CLI runs
CONFIG_LISTING = "config-listing.yaml"  # a served-but-hidden alias and a model without a context window
ALL_CONFIGS = (CONFIG_HEALTHY, CONFIG_GATEWAY, CONFIG_CATCH_ALL, CONFIG_FALLBACK, CONFIG_LISTING)

WRONG_KEY = "sk-wrong-7Hq2Vx9Lm4Pz8Rt6"
INVALID_MODEL = "routing-guard-invalid-model-id"
LOG_FIELDS = {
    "date_utc",
    "gateway_host",
    "model_requested",
    "model_returned",
    "http_status",
    "choices_count",
    "error_path_status",
    "pass",
    "notes",
    "route",
}
DATE_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
ALL_APIS = ["openai-chat", "openai-responses", "anthropic-messages"]

# (run, output name, text) of every run in this module, for the leak canary at the end.
OUTPUTS: list[tuple[str, str, str]] = []


# --- proxies -----------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _start_proxies(litellm_pool: ProxyPool) -> None:
    """Launch every proxy this module needs at once: they start in parallel (~10 s instead of ~50)."""
    try:
        litellm_pool.start_many(ALL_CONFIGS)
    except (LiteLLMNotInstalledError, ProxyStartError) as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def litellm_listing(litellm_pool: ProxyPool) -> Proxy:
    """config-listing.yaml: `hidden-coder` is served but hidden from /v1/models."""
    return litellm_pool.get(CONFIG_DIR / CONFIG_LISTING)


# --- running the CLI ---------------------------------------------------------------------------


def secret_runs(secret: str, size: int = 8) -> set[str]:
    """Every run of `size` consecutive characters of `secret` (the contract's leak unit)."""
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def leaked(text: str, secret: str) -> list[str]:
    return sorted(run for run in secret_runs(secret) if run in text)


def unmarkdown(text: str) -> str:
    """The summary's text with Markdown backslash escapes and HTML entities undone, for asserts."""
    return html.unescape(re.sub(r"\\(.)", r"\1", text))


@dataclass
class Run:
    name: str
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any]
    log: list[dict[str, Any]]
    summary: str

    def route(self, name: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = [r for r in self.report["routes"] if r["route"] == name]
        assert len(found) == 1, f"{self.name}: route {name!r} in report: {self.dump()}"
        return found[0]

    def verdicts(self) -> dict[str, str]:
        return {r["route"]: r["verdict"] for r in self.report["routes"]}

    def error_path(self, api: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = [e for e in self.report["error_paths"] if e["api"] == api]
        assert len(found) == 1, f"{self.name}: error path for {api} in report: {self.dump()}"
        return found[0]

    def dump(self) -> str:
        return (
            f"\nexit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}\n--- report\n"
            f"{json.dumps(self.report, indent=1)}"
        )


def run_check(proxy: Proxy, routing_file: str, tmp_path: Path, *args: str, key: str = MASTER_KEY) -> Run:
    """`routing-guard check` as a user runs it, with every output file; checks what every run
    must satisfy (no key in any output, report and log agree with the exit code)."""
    name = f"{routing_file} {' '.join(args)}".strip()
    out = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}"
    out.mkdir()
    report, log, summary = out / "report.json", out / "log.jsonl", out / "summary.md"
    routing_path = f"{ROUTING_DIR}/{routing_file}"
    cmd = [
        sys.executable,
        "-m",
        "routing_guard",
        "check",
        "--routing-file",
        routing_path,
        "--gateway-url",
        proxy.base_url,
        "--report",
        str(report),
        "--log",
        str(log),
        "--summary",
        str(summary),
        "--retries",
        "1",
        *args,
    ]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GITHUB_") and k not in ("ROUTING_GUARD_API_KEY", "ROUTING_GUARD_DEBUG")
    }
    env["ROUTING_GUARD_API_KEY"] = key
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=100, check=False
    )
    texts = {
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "report": report.read_text(encoding="utf-8") if report.exists() else "",
        "log": log.read_text(encoding="utf-8") if log.exists() else "",
        "summary": summary.read_text(encoding="utf-8") if summary.exists() else "",
    }
    OUTPUTS.extend((name, what, text) for what, text in texts.items())
    for secret in {MASTER_KEY, key}:
        for what, text in texts.items():
            assert not leaked(text, secret), f"{name}: {what} shows part of the key: {leaked(text, secret)}"

    context = f"{name}: exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert texts["report"], f"no report written; {context}"
    doc = json.loads(texts["report"])
    run = Run(
        name=name,
        code=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        report=doc,
        log=[json.loads(line) for line in texts["log"].splitlines()],
        summary=texts["summary"],
    )

    # the report agrees with the process
    assert doc["exit_code"] == proc.returncode, run.dump()
    assert doc["pass"] is (proc.returncode == 0), run.dump()
    assert doc["gateway_host"] == f"127.0.0.1:{proxy.port}", run.dump()
    assert doc["routing_file"] == routing_path, run.dump()
    assert doc["error_path"] == (doc["error_paths"][0] if doc["error_paths"] else None), run.dump()
    for entry in doc["routes"]:
        assert entry["pass"] is (entry["verdict"] == "pass"), run.dump()
        assert entry["gateway_host"] == doc["gateway_host"]
        assert DATE_UTC.fullmatch(entry["date_utc"]), entry["date_utc"]

    # the log: one record per route, exactly the logging fields plus `route`, same values as the report
    assert len(run.log) == len(doc["routes"]), texts["log"]
    for record, entry in zip(run.log, doc["routes"], strict=True):
        assert set(record) == LOG_FIELDS, sorted(record)
        assert record == {k: entry[k] for k in LOG_FIELDS}
        assert DATE_UTC.fullmatch(record["date_utc"]), record["date_utc"]

    # the summary and the table name every route and its verdict, and the exit code
    summary_text = unmarkdown(run.summary)
    assert f"exit {proc.returncode}" in summary_text, run.summary
    assert f"exit {proc.returncode}" in proc.stdout, proc.stdout
    for entry in doc["routes"]:
        assert entry["route"] in summary_text and entry["verdict"] in summary_text, run.summary
        assert entry["route"] in proc.stdout and entry["verdict"] in proc.stdout, proc.stdout
    for entry in doc["error_paths"]:
        assert entry["verdict"] in summary_text, run.summary
    return run


# --- 1. healthy config: chat routes, aliases, snapshots --------------------------------------------


def test_healthy_chat_routes_pass(litellm_healthy: Proxy, tmp_path: Path) -> None:
    run = run_check(litellm_healthy, "healthy-chat.yml", tmp_path)

    assert run.code == 0, run.dump()
    assert run.verdicts() == dict.fromkeys(
        ["code-generation", "commit-message", "heavy-alias", "pinned-snapshot", "legacy-review"], "pass"
    ), run.dump()
    for entry in run.report["routes"]:
        assert entry["http_status"] == 200
        assert entry["choices_count"] == 1
        assert entry["error_path_status"] == 400
        assert entry["api"] == "openai-chat"
        # LiteLLM >= 1.81.7 echoes what was asked for in the body; the header names the upstream
        assert entry["model_returned"] == entry["model_requested"]

    gpt4o = run.route("code-generation")
    assert gpt4o["served_model"] == "openai/gpt-4o-2024-08-06"
    assert "exact match" in gpt4o["notes"] and "served by openai/gpt-4o-2024-08-06" in gpt4o["notes"]
    heavy = run.route("heavy-alias")
    assert heavy["served_model"] == "anthropic/claude-opus-4-20250514", run.dump()
    assert "served by anthropic/claude-opus-4-20250514" in heavy["notes"]
    assert run.route("pinned-snapshot")["served_model"] == "openai/gpt-4.1-2025-04-14"
    assert run.route("legacy-review")["served_model"] == "openai/gpt-4-0613"
    assert run.route("commit-message")["notes"].startswith("accepted: exact match")

    assert [e["api"] for e in run.report["error_paths"]] == ["openai-chat"]
    error_path = run.report["error_path"]
    assert error_path["verdict"] == "pass" and error_path["pass"] is True, run.dump()
    assert error_path["http_status"] == 400
    assert error_path["model_requested"] == INVALID_MODEL
    assert error_path["model_returned"] is None
    assert "invalid_request_error" in error_path["notes"]


def test_alias_with_wrong_served_pin_is_model_mismatch(litellm_healthy: Proxy, tmp_path: Path) -> None:
    run = run_check(litellm_healthy, "healthy-wrong-pin.yml", tmp_path)

    assert run.code == 1, run.dump()
    assert run.verdicts() == {"code-generation": "pass", "heavy-alias": "model_mismatch"}, run.dump()
    heavy = run.route("heavy-alias")
    # the body echoes the alias: only the served header shows the mismatch
    assert heavy["model_returned"] == "coder-heavy"
    assert heavy["http_status"] == 200
    assert heavy["served_model"] == "anthropic/claude-opus-4-20250514"
    assert "anthropic/claude-opus-4-20250514" in heavy["notes"]
    assert "anthropic/claude-sonnet-4-*" in heavy["notes"]
    assert heavy["hint"]
    assert [r["pass"] for r in run.log] == [True, False]
    assert run.report["error_path"]["verdict"] == "pass"
    assert "model_mismatch" in unmarkdown(run.summary)


# --- 2. every protocol on a healthy config -----------------------------------------------------


def test_every_protocol_passes_with_one_error_path_each(litellm_healthy: Proxy, tmp_path: Path) -> None:
    run = run_check(litellm_healthy, "healthy-protocols.yml", tmp_path)

    assert run.code == 0, run.dump()
    assert run.verdicts() == dict.fromkeys(
        ["code-generation", "code-generation-stream", "codex-heavy", "claude-code-review"], "pass"
    ), run.dump()
    assert {r["route"]: r["api"] for r in run.report["routes"]} == {
        "code-generation": "openai-chat",
        "code-generation-stream": "openai-chat",
        "codex-heavy": "openai-responses",
        "claude-code-review": "anthropic-messages",
    }
    stream = run.route("code-generation-stream")
    assert stream["model_returned"] == "gpt-4o" and stream["choices_count"] == 1
    assert "plain JSON" not in stream["notes"]  # LiteLLM streams chat completions for real
    assert run.route("codex-heavy")["served_model"] == "anthropic/claude-opus-4-20250514"
    assert run.route("claude-code-review")["served_model"] == "anthropic/claude-sonnet-4-5-20250929"

    assert [e["api"] for e in run.report["error_paths"]] == ALL_APIS
    for api in ALL_APIS:
        error_path = run.error_path(api)
        assert error_path["verdict"] == "pass", run.dump()
        assert error_path["http_status"] == 400
        assert error_path["model_requested"] == INVALID_MODEL
    assert run.report["error_path"]["api"] == "openai-chat"  # the gateway's own protocol
    for entry in run.report["routes"]:
        assert entry["error_path_status"] == 400


def test_error_path_follows_the_gateway_protocol(litellm_healthy: Proxy, tmp_path: Path) -> None:
    run = run_check(litellm_healthy, "healthy-responses-gateway.yml", tmp_path)

    assert run.code == 0, run.dump()
    assert run.report["api"] == "openai-responses"
    assert run.verdicts() == {"codex": "pass", "chat-helper": "pass"}, run.dump()
    assert [e["api"] for e in run.report["error_paths"]] == ["openai-responses", "openai-chat"]
    assert run.report["error_path"]["api"] == "openai-responses"
    assert run.report["error_path"]["verdict"] == "pass"
    assert run.report["error_path"]["http_status"] == 400


# --- 3. catch-all: the error path is answered 200 ------------------------------------------------


def test_catch_all_is_silent_fallback_on_every_protocol(litellm_catch_all: Proxy, tmp_path: Path) -> None:
    run = run_check(litellm_catch_all, "catch-all.yml", tmp_path)

    assert run.code == 1, run.dump()
    # the routed model exists, so every route itself passes (stream included)
    assert run.verdicts() == dict.fromkeys(
        ["code-generation", "code-generation-stream", "codex", "claude-code-review"], "pass"
    ), run.dump()
    assert [e["api"] for e in run.report["error_paths"]] == ALL_APIS
    for api in ALL_APIS:
        error_path = run.error_path(api)
        assert error_path["verdict"] == "silent_fallback", run.dump()
        assert error_path["pass"] is False
        assert error_path["http_status"] == 200
        # the body echoes the bogus ID; only x-litellm-model-name names the catch-all's model
        assert error_path["model_returned"] == INVALID_MODEL
        assert error_path["served_model"] == "openai/gpt-4o-mini"
        assert "openai/gpt-4o-mini" in error_path["notes"]
        assert error_path["hint"]
    for entry in run.report["routes"]:
        assert entry["error_path_status"] == 200
    assert "silent_fallback" in run.stdout and "openai/gpt-4o-mini" in run.stdout
    summary = unmarkdown(run.summary)
    assert "silent_fallback" in summary and "openai/gpt-4o-mini" in summary


def test_catch_all_with_an_invalid_model_from_the_command_line(
    litellm_catch_all: Proxy, tmp_path: Path
) -> None:
    bogus = "no-such-model-42"
    run = run_check(
        litellm_catch_all, "catch-all.yml", tmp_path, "--route", "code-generation", "--invalid-model", bogus
    )

    assert run.code == 1, run.dump()
    assert run.verdicts() == {"code-generation": "pass"}
    assert [e["api"] for e in run.report["error_paths"]] == ["openai-chat"]
    error_path = run.report["error_path"]
    assert error_path["verdict"] == "silent_fallback"
    assert error_path["model_requested"] == bogus and error_path["model_returned"] == bogus
    assert error_path["served_model"] == "openai/gpt-4o-mini"


def test_catch_all_without_error_path_passes(litellm_catch_all: Proxy, tmp_path: Path) -> None:
    """The catch-all is found only by the error path: skipping it lets the run pass."""
    run = run_check(litellm_catch_all, "catch-all.yml", tmp_path, "--skip-error-path")

    assert run.code == 0, run.dump()
    assert run.report["error_paths"] == [] and run.report["error_path"] is None
    assert all(r["error_path_status"] is None for r in run.report["routes"])


def test_catch_all_serving_a_claude_route_with_gpt_passes_with_a_warning(
    litellm_catch_all: Proxy, tmp_path: Path
) -> None:
    """Issue 10: the served-model header names openai/gpt-4o-mini for a Claude route; without a
    `served` pin that passes, but the row, the table and the summary say which model served."""
    run = run_check(litellm_catch_all, "catch-all-other-family.yml", tmp_path, "--skip-error-path")

    assert run.code == 0, run.dump()
    review = run.route("claude-review")
    assert review["verdict"] == "pass" and review["model_returned"] == "claude-sonnet-4-5", run.dump()
    assert review["served_model"] == "openai/gpt-4o-mini"
    [warning] = review["warnings"]
    assert "served by openai/gpt-4o-mini" in warning and "served:" in warning
    assert "warning: claude-review: served by openai/gpt-4o-mini" in run.stdout
    assert "served by openai/gpt-4o-mini" in unmarkdown(run.summary)
    assert run.route("code-generation")["warnings"] == []  # gpt-4o served by openai/gpt-4o-2024-08-06


def test_base_url_without_v1_is_an_endpoint_problem_on_messages(
    litellm_healthy: Proxy, tmp_path: Path
) -> None:
    """Issue 10: LiteLLM serves /chat/completions without /v1 but answers POST /messages with 404
    {"detail":"Not Found"} for every model: the route's hint points at base_url, the error path is
    inconclusive (was: "refused with HTTP 404", a pass)."""
    without_v1 = litellm_healthy.base_url.removesuffix("/v1")
    run = run_check(
        litellm_healthy,
        "healthy-protocols.yml",
        tmp_path,
        "--route",
        "claude-code-review",
        "--gateway-url",
        without_v1,
    )

    assert run.code == 1, run.dump()
    review = run.route("claude-code-review")
    assert (review["verdict"], review["http_status"]) == ("http_error", 404), run.dump()
    assert "endpoint not found" in review["notes"]
    assert "/messages" in review["hint"] and "/v1" in review["hint"], review["hint"]
    assert run.error_path("anthropic-messages")["verdict"] == "inconclusive", run.dump()
    # the chat path works without /v1 and LiteLLM's 400 names the bogus ID: evidence on its own
    assert run.error_path("openai-chat")["verdict"] == "pass", run.dump()


# --- 4. a configured fallback served the route --------------------------------------------------


def test_configured_fallback_is_fallback_detected(litellm_fallback: Proxy, tmp_path: Path) -> None:
    run = run_check(litellm_fallback, "fallback.yml", tmp_path)

    assert run.code == 1, run.dump()
    assert run.verdicts() == {
        "code-generation": "fallback_detected",
        "code-generation-stream": "fallback_detected",
        "test-repair": "fallback_detected",
        "flaky": "fallback_detected",
        "claude-code-review": "fallback_detected",
        "commit-message": "pass",
    }, run.dump()
    gpt4o = run.route("code-generation")
    # the body names a dated snapshot of gpt-4o, which alone would pass: the header says otherwise
    assert gpt4o["model_returned"] == "gpt-4o-2024-08-06"
    assert gpt4o["http_status"] == 200
    assert "x-litellm-attempted-fallbacks: 1" in gpt4o["notes"]
    assert "openai/gpt-4o-2024-08-06" in gpt4o["notes"]
    assert gpt4o["hint"]
    assert run.route("code-generation-stream")["model_returned"] == "gpt-4o-backup"
    repair = run.route("test-repair")
    assert repair["served_model"] == "openai/gpt-4o-mini-2024-07-18"
    assert "x-litellm-attempted-fallbacks: 1" in repair["notes"]
    assert "x-litellm-attempted-fallbacks: 1" in run.route("claude-code-review")["notes"]
    assert run.report["error_path"]["verdict"] == "pass"
    assert run.report["error_path"]["http_status"] == 400
    assert "fallback_detected" in unmarkdown(run.summary)


# --- 5. wrong key --------------------------------------------------------------------------------


def test_wrong_key_is_auth_error_and_never_shown(litellm_healthy: Proxy, tmp_path: Path) -> None:
    run = run_check(litellm_healthy, "healthy-protocols.yml", tmp_path, key=WRONG_KEY)

    assert run.code == 3, run.dump()
    assert set(run.verdicts().values()) == {"auth_error"}, run.dump()
    for entry in run.report["routes"]:
        # LiteLLM without a database answers a wrong key with 400 "No connected db."
        assert entry["http_status"] == 400
        assert "No connected db." in entry["notes"]
        assert entry["hint"]
    assert [e["api"] for e in run.report["error_paths"]] == ALL_APIS
    for api in ALL_APIS:
        assert run.error_path(api)["verdict"] == "auth_error", run.dump()
    # run_check has already checked every output for WRONG_KEY and its 8-character runs
    assert WRONG_KEY not in run.stdout + run.stderr + json.dumps(run.report) + run.summary


# --- 6. mock errors on a route ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("routes", "exit_code", "verdicts"),
    [
        pytest.param("throttled", 3, {"throttled": "rate_limited"}, id="429-rate-limited"),
        pytest.param("broken", 3, {"broken": "http_error"}, id="500-server-error"),
        pytest.param("typo", 1, {"typo": "http_error"}, id="400-unknown-model"),
        pytest.param("long-context", 1, {"long-context": "http_error"}, id="400-context-exceeded"),
        pytest.param("flaky", 1, {"flaky": "fallback_detected"}, id="fallback-after-429"),
        pytest.param(
            "throttled,typo", 1, {"throttled": "rate_limited", "typo": "http_error"}, id="exit-1-beats-3"
        ),
        pytest.param(
            "broken,code-generation",
            3,
            {"code-generation": "pass", "broken": "http_error"},
            id="outage-and-pass",
        ),
    ],
)
def test_mock_errors_on_routes(
    litellm_gateway: Proxy, tmp_path: Path, routes: str, exit_code: int, verdicts: dict[str, str]
) -> None:
    run = run_check(litellm_gateway, "gateway-errors.yml", tmp_path, "--route", routes)

    assert run.code == exit_code, run.dump()
    assert run.verdicts() == verdicts, run.dump()
    assert run.report["error_path"]["verdict"] == "pass", run.dump()
    if "throttled" in verdicts:
        throttled = run.route("throttled")
        assert throttled["http_status"] == 429
        assert "retried after 429" in throttled["notes"], run.dump()  # --retries 1: two attempts
        assert "rate limit" in throttled["notes"]
    if "broken" in verdicts:
        broken = run.route("broken")
        assert broken["http_status"] == 500
        assert "retried after 500" in broken["notes"], run.dump()
    if "typo" in verdicts:
        typo = run.route("typo")
        assert typo["http_status"] == 400
        assert "Invalid model name" in typo["notes"]
        assert "retried" not in typo["notes"]  # a 4xx is never retried
    if "long-context" in verdicts:
        assert run.route("long-context")["http_status"] == 400
        assert "ContextWindowExceededError" in run.route("long-context")["notes"]
    if "flaky" in verdicts:
        flaky = run.route("flaky")
        assert flaky["model_returned"] == "gpt-4o-2024-08-06"
        assert flaky["served_model"] == "openai/gpt-4o-2024-08-06"
        assert "x-litellm-attempted-fallbacks: 1" in flaky["notes"]


# --- 7. the model listing ------------------------------------------------------------------------

LISTED_ROUTES = "code-generation,claude-code-review,pinned-snapshot"


def test_models_preflight_listed_models_pass(litellm_healthy: Proxy, tmp_path: Path) -> None:
    run = run_check(litellm_healthy, "healthy-listing.yml", tmp_path, "--models", "--route", LISTED_ROUTES)

    assert run.code == 0, run.dump()
    assert run.verdicts() == dict.fromkeys(LISTED_ROUTES.split(","), "pass"), run.dump()
    assert all(r["warnings"] == [] for r in run.report["routes"]), run.dump()
    assert run.report["error_path"]["verdict"] == "pass"


@pytest.mark.parametrize(
    "flags", [(), ("--models",), ("--models-only",)], ids=["check", "models", "models-only"]
)
def test_min_context_over_the_listed_window_is_context_too_small(
    litellm_healthy: Proxy, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    run = run_check(litellm_healthy, "healthy-listing.yml", tmp_path, *flags, "--route", "small-window")

    assert run.code == 1, run.dump()
    entry = run.route("small-window")
    assert entry["verdict"] == "context_too_small", run.dump()
    assert "4096" in entry["notes"] and "8000" in entry["notes"]
    assert entry["hint"]


def test_models_only_runs_just_the_listing(litellm_healthy: Proxy, tmp_path: Path) -> None:
    run = run_check(litellm_healthy, "healthy-listing.yml", tmp_path, "--models-only")

    assert run.code == 1, run.dump()
    assert run.verdicts() == {
        "code-generation": "pass",
        "claude-code-review": "pass",
        "pinned-snapshot": "pass",
        "small-window": "context_too_small",
    }, run.dump()
    assert run.route("code-generation")["notes"] == "listed as gpt-4o"
    assert run.report["error_paths"] == [] and run.report["error_path"] is None
    assert run.report["mode"] == "models-only"
    assert all(r["model_returned"] is None for r in run.report["routes"])  # no model was asked

    listed = run_check(
        litellm_healthy, "healthy-listing.yml", tmp_path, "--models-only", "--route", LISTED_ROUTES
    )
    assert listed.code == 0, listed.dump()


def test_unlisted_alias_warns_in_models_and_fails_in_models_only(
    litellm_listing: Proxy, tmp_path: Path
) -> None:
    run = run_check(litellm_listing, "hidden-alias.yml", tmp_path, "--models")

    assert run.code == 0, run.dump()
    assert run.verdicts() == {"code-generation": "pass", "hidden-alias": "pass", "house": "pass"}, run.dump()
    hidden = run.route("hidden-alias")
    assert hidden["served_model"] == "openai/gpt-4o-2024-08-06"  # served, just not listed
    assert any("not in the gateway's model listing" in w for w in hidden["warnings"]), run.dump()
    house = run.route("house")
    assert any("does not say the context window" in w for w in house["warnings"]), run.dump()
    assert run.route("code-generation")["warnings"] == []
    assert "warning: hidden-alias:" in run.stdout and "warning: house:" in run.stdout
    assert "not in the gateway's model listing" in unmarkdown(run.summary)

    only = run_check(litellm_listing, "hidden-alias.yml", tmp_path, "--models-only")
    assert only.code == 1, only.dump()
    assert only.verdicts() == {"code-generation": "pass", "hidden-alias": "not_listed", "house": "pass"}
    assert only.route("hidden-alias")["hint"]
    assert any("does not say the context window" in w for w in only.route("house")["warnings"])


def test_min_context_without_a_listed_window_warns(litellm_listing: Proxy, tmp_path: Path) -> None:
    """min_context alone (no --models) still reads the listing; a missing window is a warning."""
    run = run_check(litellm_listing, "hidden-alias.yml", tmp_path, "--route", "house,hidden-alias")

    assert run.code == 0, run.dump()
    assert run.verdicts() == {"hidden-alias": "pass", "house": "pass"}, run.dump()
    assert any("does not say the context window" in w for w in run.route("house")["warnings"])
    assert run.route("hidden-alias")["warnings"] == []  # not asked for the listing: no warning


# --- 8. the leak canary over every output of this module ---------------------------------------


def test_canary_finds_runs_of_a_key() -> None:
    assert leaked("masked as sk-test-m***1234", MASTER_KEY) == ["k-test-m", "sk-test-"]
    assert leaked("key ending ...aster-1234", MASTER_KEY) == sorted(secret_runs("aster-1234"))
    assert leaked("sk-test-", MASTER_KEY) == ["sk-test-"]
    assert leaked("sk-test", MASTER_KEY) == []


@pytest.fixture
def all_outputs() -> Iterator[list[tuple[str, str, str]]]:
    if not OUTPUTS:
        pytest.skip("no routing-guard run in this session: run the whole module")
    yield OUTPUTS


def test_no_output_of_any_run_shows_the_key(all_outputs: list[tuple[str, str, str]]) -> None:
    outputs_per_run: dict[str, set[str]] = {}
    for name, what, _ in all_outputs:
        outputs_per_run.setdefault(name, set()).add(what)
    assert all(
        whats == {"stdout", "stderr", "report", "log", "summary"} for whats in outputs_per_run.values()
    ), outputs_per_run
    for name, what, text in all_outputs:
        for secret in (MASTER_KEY, WRONG_KEY):
            assert MASTER_KEY not in text
            assert not leaked(text, secret), f"{name}: {what} shows {leaked(text, secret)}"
