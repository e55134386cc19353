"""The API key never appears in any output, nor request bodies, answer text or token usage.

One canary key goes through every scenario that could echo it: healthy, mismatch, fallback, silent
fallback, auth errors that echo the key in the body, in headers and masked (`sk-canary-01***mnop`),
a 500 and a 429 whose bodies hold it, redirects whose Location holds it, streams whose chunks hold
it, a model listing that holds it, the demo, a subprocess run and the action's entrypoint. Every
output is collected and searched for the key and for every 8-character run of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.fault_servers import RawServer, Request, closed_port, run_cli

KEY = "sk-canary-0123456789abcdefghijklmnop"
RUNS = {KEY[i : i + 8] for i in range(len(KEY) - 7)}
MASKED = [f"{KEY[:12]}***{KEY[-4:]}", "sk-canary12***wxyz", f"{KEY[:8]}...{KEY[-8:]}", f"Bearer {KEY}"]
ANSWER_TEXT = "PONG-PLANTED-ANSWER-TEXT"
USAGE = {"prompt_tokens": 918273, "completion_tokens": 827364, "total_tokens": 1745637}
USAGE_NUMBERS = [str(v) for v in USAGE.values()]
INVALID = "bogus-model-id"
ROOT = Path(__file__).resolve().parents[2]


def leaks(text: str) -> list[str]:
    """Every secret-derived or private thing found in `text`."""
    found = sorted(run for run in RUNS if run in text)
    found += [n for n in USAGE_NUMBERS if n in text]
    if ANSWER_TEXT in text:
        found.append(ANSWER_TEXT)
    if re.search(r"\bping\b", text, re.IGNORECASE) or '"messages"' in text or '"role"' in text:
        found.append("request body")
    return found


def raw(status: int, body: Any, headers: list[tuple[str, str]] = ()) -> bytes:  # type: ignore[assignment]
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in headers)]
    if not any(k.lower() == "content-type" for k, _ in headers):
        lines.append("Content-Type: application/json")
    lines += [f"Content-Length: {len(data)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def completion(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-canary",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": ANSWER_TEXT}, "finish_reason": "stop"}
        ],
        "usage": dict(USAGE),
        **extra,
    }


def sse(*chunks: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


def echo_error(status: int, kind: str) -> bytes:
    message = f"Incorrect API key provided: {KEY}. You passed {MASKED[0]} ({MASKED[1]})."
    headers = [
        ("x-echo-key", KEY),
        ("www-authenticate", f'Bearer realm="gateway", error="invalid_token", key="{MASKED[0]}"'),
        ("x-litellm-model-name", f"openai/{KEY}"),
    ]
    return raw(
        status, {"error": {"message": message, "type": kind, "code": KEY, "param": MASKED[2]}}, headers
    )


REFUSED = closed_port()
ROUTES: dict[str, dict[str, Any]] = {
    "healthy": {"model": "gpt-4o"},
    "snapshot": {"model": "gpt-4.1"},
    "mismatch": {"model": "m-mismatch"},
    "fallback": {"model": "m-fallback"},
    "auth-401": {"model": "m-auth"},
    "auth-by-body": {"model": "m-nodb"},
    "server-error": {"model": "m-500"},
    "rate-limited": {"model": "m-429"},
    "redirect-query": {"model": "m-redirect-query"},
    "redirect-userinfo": {"model": "m-redirect-userinfo"},
    "redirect-host": {"model": "m-redirect-host"},
    "body-error": {"model": "m-body-error"},
    "provider": {"model": "m-provider"},
    "stream": {"model": "m-stream", "stream": True},
    "stream-error": {"model": "m-stream-error", "stream": True},
    "no-text": {"model": "m-no-text"},
}


def leaky_gateway(*, listing_status: int = 200):
    def handler(server: RawServer, request: Request, conn) -> None:
        if request.method == "GET":
            if listing_status != 200:
                conn.sendall(echo_error(listing_status, "authentication_error"))
                return
            data = [
                {"id": f"{KEY}/gpt-4o", "context_length": 128000, "deprecation_date": "2000-01-01"},
                {"id": KEY, "owned_by": KEY},
                {"id": "m-mismatch", "description": f"use key {KEY}"},
            ]
            conn.sendall(raw(200, {"object": "list", "data": data}, [("x-echo-key", KEY)]))
            return
        if request.headers.get("authorization") != f"Bearer {KEY}":
            conn.sendall(raw(401, {"error": {"message": "missing key", "type": "auth"}}))
            return
        model = request.model
        answers: dict[str, bytes] = {
            "gpt-4o": raw(200, completion("gpt-4o"), [("x-litellm-model-name", "openai/gpt-4o")]),
            "gpt-4.1": raw(200, completion("gpt-4.1-2025-04-14")),
            "m-mismatch": raw(
                200, completion(f"gpt-4o-mini-{KEY}"), [("x-litellm-model-name", f"openai/{MASKED[0]}")]
            ),
            "m-fallback": raw(
                200,
                completion("m-fallback"),
                [("x-litellm-attempted-fallbacks", f"1 {KEY}"), ("x-litellm-model-name", f"azure/{KEY}")],
            ),
            "m-auth": echo_error(401, "invalid_request_error"),
            "m-nodb": raw(
                400, {"error": {"message": f"No connected db. key={KEY}", "type": "no_db_connection"}}
            ),
            "m-500": raw(
                500, f"Internal Server Error while using {KEY} ({MASKED[1]})".encode(), [("x-echo-key", KEY)]
            ),
            "m-429": raw(
                429, {"error": {"message": f"quota exceeded for {MASKED[0]}"}}, [("retry-after", "0")]
            ),
            "m-redirect-query": raw(307, b"", [("Location", f"http://127.0.0.1:{REFUSED}/v1?api_key={KEY}")]),
            "m-redirect-userinfo": raw(301, b"", [("Location", f"http://user:{KEY}@127.0.0.1:{REFUSED}/v1")]),
            "m-redirect-host": raw(302, b"", [("Location", f"https://{KEY}.evil.example/v1")]),
            "m-body-error": raw(200, {"error": {"message": f"Incorrect API key provided: {MASKED[0]}"}}),
            "m-provider": raw(200, completion("m-provider", provider=f"OpenAI {KEY}")),
            "m-stream": raw(
                200,
                sse(
                    {"model": f"m-stream-{KEY}", "choices": [{"index": 0, "delta": {"content": KEY}}]},
                    {
                        "model": f"m-stream-{KEY}",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                        "usage": USAGE,
                    },
                ),
                [("content-type", "text/event-stream"), ("x-echo-key", KEY)],
            ),
            "m-stream-error": raw(
                200,
                sse({"error": {"message": f"key {KEY} revoked"}}),
                [("content-type", "text/event-stream")],
            ),
            "m-no-text": raw(
                200,
                {
                    "model": "m-no-text",
                    "choices": [{"index": 0, "message": {"content": ""}, "finish_reason": "length"}],
                    "usage": USAGE,
                },
            ),
            INVALID: raw(
                200, completion(f"catch-all-{KEY}"), [("x-litellm-model-name", f"openai/{MASKED[0]}")]
            ),
        }
        default = raw(404, {"error": {"message": f"The model `{model}` does not exist ({KEY})"}})
        conn.sendall(answers.get(model, default))

    return handler


def write_routing(folder: Path, base_url: str, routes: dict[str, dict[str, Any]] = ROUTES) -> Path:
    doc = {
        "version": 1,
        "gateway": {"base_url": base_url, "api": "openai-chat", "auth": "bearer", "invalid_model": INVALID},
        "routes": routes,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model-routing.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_leaks_helper_finds_every_form() -> None:
    for form in [KEY, *MASKED, KEY.upper().lower(), f"x{KEY[5:13]}y", "ping", str(USAGE["total_tokens"])]:
        assert leaks(form), form
    assert leaks("sk-canar")  # the first 8 characters are a run
    assert not leaks("routing-guard check: 3 routes, mapping, skipping, exit 1, 16 tokens")


def test_the_key_never_leaks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("ROUTING_GUARD_DEBUG", raising=False)
    outputs: dict[str, str] = {}
    common = ["--retries", "0", "--timeout", "5"]

    with RawServer(leaky_gateway(), lifetime=60) as server:
        path = write_routing(tmp_path / "check", server.base_url)
        runs = {
            "check": ["check", "--routing-file", str(path), "--models", *common],
            "check-json": ["check", "--routing-file", str(path), "--format", "json", *common],
            "models-only": ["check", "--routing-file", str(path), "--models-only", *common],
            "strict-one-route": ["check", "--routing-file", str(path), "--route", "mismatch", "--strict", *common],
            "unknown-route": ["check", "--routing-file", str(path), "--route", KEY],
            "retried": ["check", "--routing-file", str(path), "--route", "rate-limited,server-error", "--retries", "1"],
        }  # fmt: skip
        for name, argv in runs.items():
            run = run_cli(tmp_path / "check", argv)
            outputs[name] = run.everything
            if name == "check":
                full = run
        # The scenarios really happened: every route answered as planned, the key was sent.
        posts = [r for r in server.requests if r.method == "POST"]
        assert posts and all(r.headers["authorization"] == f"Bearer {KEY}" for r in posts)

    verdicts = {r["route"]: r["verdict"] for r in full.routes}
    assert verdicts == {
        "healthy": "pass",
        "snapshot": "pass",
        "mismatch": "model_mismatch",
        "fallback": "fallback_detected",
        "auth-401": "auth_error",
        "auth-by-body": "auth_error",
        "server-error": "http_error",
        "rate-limited": "rate_limited",
        "redirect-query": "http_error",
        "redirect-userinfo": "http_error",
        "redirect-host": "http_error",
        "body-error": "bad_response",
        "provider": "pass",
        "stream": "model_mismatch",
        "stream-error": "bad_response",
        "no-text": "empty_response",
    }
    assert full.report["error_path"]["verdict"] == "silent_fallback"
    assert full.code == 1
    assert "***" in full.report_text  # the echoes were there, and were masked

    # The listing itself refuses the key and echoes it.
    with RawServer(leaky_gateway(listing_status=401), lifetime=30) as server:
        path = write_routing(tmp_path / "listing", server.base_url, {"healthy": {"model": "gpt-4o"}})
        run = run_cli(tmp_path / "listing", ["check", "--routing-file", str(path), "--models-only", *common])
        assert run.code == 3
        outputs["listing-401"] = run.everything

    # A gateway that cannot be reached at all, and a TLS-less remote URL refused by configuration.
    path = write_routing(
        tmp_path / "down", f"http://127.0.0.1:{REFUSED}/v1", {"healthy": {"model": "gpt-4o"}}
    )
    outputs["unreachable"] = run_cli(
        tmp_path / "down", ["check", "--routing-file", str(path), *common]
    ).everything
    url = f"http://{KEY}.example/v1"
    outputs["bad-url"] = run_cli(
        tmp_path / "down", ["check", "--routing-file", str(path), "--gateway-url", url]
    ).everything

    # The demo: its own output and the summary file it names.
    demo = run_cli(tmp_path, ["demo"])
    assert demo.code == 0
    match = re.search(r"summary written to (\S+)", demo.out)
    assert match, demo.out
    outputs["demo"] = demo.everything + Path(match.group(1)).read_text(encoding="utf-8")

    for name, text in outputs.items():
        assert text.strip(), name
        assert leaks(text) == [], f"{name}: {leaks(text)}"


def test_the_key_never_leaks_from_a_real_process(tmp_path: Path) -> None:
    """A real process, so nothing but the CLI's own handling stands between an error and stderr."""
    with RawServer(leaky_gateway(), lifetime=30) as server:
        path = write_routing(tmp_path, server.base_url, {k: ROUTES[k] for k in ("auth-401", "server-error")})
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ROUTING_GUARD_"))}
        env["ROUTING_GUARD_API_KEY"] = KEY
        proc = subprocess.run(
            [sys.executable, "-m", "routing_guard", "check", "--routing-file", str(path), "--retries", "0",
             "--report", str(tmp_path / "r.json"), "--log", str(tmp_path / "l.jsonl")],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
        )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # the bogus ID answered 200: a silent fallback
    files = (tmp_path / "r.json").read_text() + (tmp_path / "l.jsonl").read_text()
    assert "auth_error" in proc.stdout
    for text in (proc.stdout, proc.stderr, files):
        assert leaks(text) == []


@pytest.mark.skipif(not (ROOT / "entrypoint.py").exists(), reason="no action entrypoint yet")
def test_the_action_prints_the_key_only_to_add_mask(tmp_path: Path) -> None:
    workspace, commands = tmp_path / "workspace", tmp_path / "file_commands"
    commands.mkdir()
    with RawServer(leaky_gateway(), lifetime=60) as server:
        write_routing(workspace / ".github", server.base_url)
        output, summary = commands / "set_output_1", commands / "step_summary_1"
        output.touch()
        summary.touch()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ROUTING_GUARD_"))
        }
        env.update(
            {
                "INPUT_API-KEY": KEY,
                "INPUT_MODE": "check",
                "INPUT_RETRIES": "0",
                "INPUT_TIMEOUT": "5",
                "INPUT_MODELS-CHECK": "true",
                "INPUT_FAIL-ON": "any",
                "INPUT_LOG-FILE": "logs/routing.jsonl",
                "INPUT_ROUTING-FILE": "",
                "INPUT_GATEWAY-URL": "",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_EVENT_NAME": "push",
            }
        )
        proc = subprocess.run(
            [sys.executable, str(ROOT / "entrypoint.py")],
            capture_output=True, text=True, timeout=60, env=env, cwd=workspace,
        )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = (proc.stdout + proc.stderr).splitlines()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert any(KEY in line for line in masks)
    first_leak = next(i for i, line in enumerate(lines) if leaks(line))
    assert lines[first_leak].startswith("::add-mask::")  # masked before anything else is printed
    for line in lines:
        if not line.startswith("::add-mask::"):
            assert leaks(line) == [], line
    for path in [output, summary, *workspace.rglob("*.json*")]:
        text = path.read_text(encoding="utf-8")
        assert text.strip(), path.name
        assert leaks(text) == [], (path.name, leaks(text))
    assert "exit-code<<" in output.read_text() and "passed<<" in output.read_text()
