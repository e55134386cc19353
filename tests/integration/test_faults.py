"""Faults a real gateway (or the network in front of it) produces, driven through the CLI.

Every test asserts the verdict, the exit code, a message a user can act on, and an upper bound on
the time taken: the bound proves that nothing hangs, it is not a benchmark.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from routing_guard.probe import MAX_BODY, _Decoder
from tests.support.fault_servers import (
    CliRun,
    RawServer,
    chat_completion,
    closed_port,
    huge_json_body,
    json_response,
    never_answer,
    response_bytes,
    run_cli,
    self_signed_cert,
    send,
    sequence,
    server_tls_context,
    stream,
    trickle,
    write_routing,
    zeros_bomb,
)

INVALID = "routing-guard-invalid-model-id"
OK = json_response(200, chat_completion("gpt-4o"))
KEY = "sk-fault-test-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the machine's environment holds, these runs use no key and write no job summary."""
    for name in ("ROUTING_GUARD_API_KEY", "GITHUB_STEP_SUMMARY", "ROUTING_GUARD_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def check(folder: Path, base_url: str, *args: str, routes: dict | None = None, **gateway: object) -> CliRun:
    """`routing-guard check` against `base_url`, with --timeout 2 --retries 0 unless args say otherwise."""
    path = write_routing(folder, base_url, routes, **gateway)
    argv = ["check", "--routing-file", str(path)]
    if "--timeout" not in args:
        argv += ["--timeout", "2"]
    if "--retries" not in args:
        argv += ["--retries", "0"]
    return run_cli(folder, [*argv, *args])


def assert_clean_exit(run: CliRun, code: int, verdict: str, *, within: float) -> dict:
    assert run.code == code, (run.out, run.err)
    assert run.elapsed < within, f"took {run.elapsed:.1f}s"
    route = run.route
    assert route["verdict"] == verdict, route
    assert not route["pass"]
    assert verdict in run.out  # the terminal table says it too
    assert "Traceback" not in run.err
    assert run.report is not None and run.report["exit_code"] == code
    log = [json.loads(line) for line in run.log_text.splitlines()]
    assert [r["route"] for r in log] == [route["route"]]
    assert verdict.replace("_", "\\_") in run.summary  # Markdown-escaped there
    return route


# --- the gateway cannot be reached -------------------------------------------------------------


def test_connection_refused_is_unreachable(tmp_path: Path) -> None:
    run = check(tmp_path, f"http://127.0.0.1:{closed_port()}/v1", "--retries", "1")
    route = assert_clean_exit(run, 3, "unreachable", within=5)
    assert "connection refused" in route["notes"]
    assert "2 attempts" in route["notes"]  # a refused connection may be a restart: retried once
    assert "127.0.0.1" in route["hint"]
    assert run.report["error_path"]["verdict"] == "unreachable"


def test_dns_failure_is_unreachable_and_not_retried(tmp_path: Path) -> None:
    run = check(tmp_path, "http://gateway.invalid/v1", "--retries", "2", allow_insecure_http=True)
    route = assert_clean_exit(run, 3, "unreachable", within=5)
    assert "DNS" in route["notes"]
    assert "1 attempt)" in route["notes"]  # a name that does not resolve will not resolve in a second
    assert "gateway.invalid" in route["hint"]


def test_dns_failure_offline_resolver_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a resolver the error is EAI_AGAIN ("Temporary failure in name resolution"), not
    "Name or service not known": it is a DNS failure all the same."""
    real = socket.getaddrinfo

    def offline(host: object, *args: object, **kwargs: object) -> object:
        if isinstance(host, str | bytes) and str(host).endswith("invalid"):
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    run = check(tmp_path, "http://gateway.invalid/v1", allow_insecure_http=True)
    route = assert_clean_exit(run, 3, "unreachable", within=5)
    assert "DNS" in route["notes"]


def test_plain_http_to_a_remote_host_needs_allow_insecure_http(tmp_path: Path) -> None:
    run = check(tmp_path, "http://gateway.invalid/v1")
    assert run.code == 2
    assert "allow_insecure_http" in run.err and "model-routing.yml" in run.err
    assert run.report is None and run.elapsed < 5


@pytest.fixture
def tls_gateway(tmp_path_factory: pytest.TempPathFactory):
    cert, key = self_signed_cert(tmp_path_factory.mktemp("tls"))
    with RawServer(send(OK), tls=server_tls_context(cert, key), lifetime=20) as server:
        yield server, cert


def test_untrusted_certificate_is_unreachable_with_a_hint(
    tmp_path: Path, tls_gateway: tuple[RawServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = tls_gateway
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    run = check(tmp_path, server.base_url, "--retries", "2", "--skip-error-path")
    route = assert_clean_exit(run, 3, "unreachable", within=5)
    assert "certificate not trusted" in route["notes"]
    assert "1 attempt)" in route["notes"]  # not retried
    assert "--ca-certificates" in route["hint"] and "the public CAs (certifi)" in route["hint"]
    assert "--ca-certificates" in run.summary  # the summary's "What to do"
    assert server.requests == []  # the request never left the client


def test_ssl_cert_file_trusts_a_custom_ca(
    tmp_path: Path, tls_gateway: tuple[RawServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented custom-CA path: SSL_CERT_FILE pointing at the CA makes the same server pass,
    with the certificate's IP SAN matching the host 127.0.0.1."""
    server, cert = tls_gateway
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    run = check(tmp_path, server.base_url, "--skip-error-path")
    assert run.code == 0, run.out
    assert run.route["verdict"] == "pass"
    assert run.route["gateway_host"] == f"127.0.0.1:{server.port}"
    assert len(server.requests) == 1 and server.requests[0].target == "/v1/chat/completions"


# --- the gateway does not answer in time ---------------------------------------------------------


def test_accept_and_never_answer_times_out(tmp_path: Path) -> None:
    with RawServer(never_answer, lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--timeout", "1")
    route = assert_clean_exit(run, 3, "timeout", within=5)
    assert "within 1s" in route["notes"]
    assert "--timeout" in route["hint"]
    assert run.report["error_path"]["verdict"] == "timeout"
    assert "No verdict on the error path" in run.report["error_path"]["hint"]
    assert len(server.requests) == 2  # the route and the error path, each once


def test_never_answer_as_a_process_exits_in_time(tmp_path: Path) -> None:
    """The whole process ends (no thread or connection keeps it alive) with exit 3."""
    with RawServer(never_answer, lifetime=20) as server:
        path = write_routing(tmp_path, server.base_url)
        env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "routing_guard", "check", "--routing-file", str(path),
             "--timeout", "1", "--retries", "0", "--report", str(tmp_path / "r.json")],
            capture_output=True, text=True, timeout=30, env=env, cwd=tmp_path,
        )  # fmt: skip
        elapsed = time.monotonic() - start
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert elapsed < 8, elapsed  # includes interpreter start-up
    assert "timeout" in proc.stdout and proc.stderr == ""
    assert json.loads((tmp_path / "r.json").read_text())["routes"][0]["verdict"] == "timeout"


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(response_bytes(200, b"", {"Content-Length": "1000"}, content_length=False), id="body"),
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Slow: ", id="headers"),
    ],
)
def test_trickle_one_byte_a_second_hits_the_per_attempt_deadline(tmp_path: Path, head: bytes) -> None:
    with RawServer(trickle(head, filler=b"a"), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 3, "timeout", within=5)
    assert run.elapsed >= 1.5  # it did wait for the deadline, not give up early
    assert "within 2s" in route["notes"]


def test_timeouts_are_retried_within_the_budget(tmp_path: Path) -> None:
    with RawServer(never_answer, lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--timeout", "1", "--retries", "1", "--skip-error-path")
    route = assert_clean_exit(run, 3, "timeout", within=6)
    assert "2 attempts" in route["notes"] and "retried after no answer in time" in route["notes"]
    assert len(server.requests) == 2


def test_a_stream_of_keep_alives_hits_the_deadline(tmp_path: Path) -> None:
    """SSE comments (": keep-alive") forever and never an event: the stream too has a deadline."""
    head = response_bytes(200, b"", {"Content-Type": "text/event-stream"}, content_length=False)
    routes = {"review": {"model": "gpt-4o", "stream": True}}
    with RawServer(trickle(head, interval=0.2, filler=b": keep-alive\n\n"), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path", routes=routes)
    assert_clean_exit(run, 3, "timeout", within=5)


def test_a_stream_cut_off_before_its_end(tmp_path: Path) -> None:
    head = response_bytes(200, b"", {"Content-Type": "text/event-stream"}, content_length=False)
    event = b'data: {"model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "po"}}]}\n\n'
    routes = {"review": {"model": "gpt-4o", "stream": True}}
    with RawServer(stream(head, [event]), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path", routes=routes)
    route = assert_clean_exit(run, 1, "bad_response", within=5)
    assert "cut short" in route["notes"] and "[DONE]" in route["notes"]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(response_bytes(200, b'{"model": "gpt-4o"', {"Content-Length": "500"}), id="short-body"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n", id="bad-chunked"
        ),
    ],
)
def test_broken_http_framing(tmp_path: Path, answer: bytes) -> None:
    with RawServer(send(answer), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 3, "unreachable", within=5)
    assert "broke the HTTP protocol" in route["notes"]


def test_connection_closed_without_an_answer(tmp_path: Path) -> None:
    with RawServer(send(b""), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 3, "unreachable", within=5)
    assert "closed the connection" in route["notes"]


def test_garbage_instead_of_http(tmp_path: Path) -> None:
    with RawServer(send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 3, "unreachable", within=5)
    assert route["notes"]


# --- transient errors are retried --------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_then_success_passes_with_the_retry_in_the_notes(tmp_path: Path, status: int) -> None:
    answers = [response_bytes(status, b'{"error": {"message": "upstream hiccup"}}'), OK]
    with RawServer(sequence(answers, invalid_model=INVALID), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--retries", "2")
    assert run.code == 0, run.out
    assert run.elapsed < 5
    assert run.route["verdict"] == "pass"
    assert f"retried after {status}" in run.route["notes"]
    assert [r.model for r in server.requests].count("gpt-4o") == 2
    # the retry is the same request: same model, same body
    bodies = [r.body for r in server.requests if r.model == "gpt-4o"]
    assert bodies[0] == bodies[1]


def test_several_5xx_then_success(tmp_path: Path) -> None:
    answers = [response_bytes(500), response_bytes(502), OK]
    with RawServer(sequence(answers, invalid_model=INVALID), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--retries", "2")
    assert run.code == 0 and run.elapsed < 6
    assert "retried after 500, 502" in run.route["notes"]


def test_5xx_that_persists_is_an_outage(tmp_path: Path) -> None:
    with RawServer(sequence([response_bytes(503, b"down for maintenance")], invalid_model=INVALID)) as server:
        run = check(tmp_path, server.base_url, "--retries", "1")
    route = assert_clean_exit(run, 3, "http_error", within=5)
    assert "HTTP 503: down for maintenance" in route["notes"] and "retried after 503" in route["notes"]
    assert "5xx" in route["hint"]
    assert len([r for r in server.requests if r.model == "gpt-4o"]) == 2


def test_429_with_retry_after_is_honoured(tmp_path: Path) -> None:
    answers = [response_bytes(429, b"", {"Retry-After": "1"}), OK]
    with RawServer(sequence(answers, invalid_model=INVALID), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--retries", "1", "--skip-error-path")
    assert run.code == 0 and run.route["verdict"] == "pass"
    assert 1.0 <= run.elapsed < 5  # waited what the gateway asked for
    assert "retried after 429" in run.route["notes"]


def test_429_with_an_http_date_retry_after(tmp_path: Path) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    answers = [response_bytes(429, b"", {"Retry-After": when}), OK]
    with RawServer(sequence(answers, invalid_model=INVALID), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--retries", "1", "--skip-error-path")
    assert run.code == 0 and "retried after 429" in run.route["notes"]
    assert 0.5 <= run.elapsed < 6


def test_429_without_retry_after_backs_off(tmp_path: Path) -> None:
    answers = [response_bytes(429, b'{"error": {"message": "slow down"}}'), OK]
    with RawServer(sequence(answers, invalid_model=INVALID), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--retries", "1", "--skip-error-path")
    assert run.code == 0 and "retried after 429" in run.route["notes"]
    assert 0.4 <= run.elapsed < 5
    assert len(server.requests) == 2


@pytest.mark.parametrize("value", ["\u00b2", "soon", "-1", "1.5"])
def test_429_with_a_retry_after_that_is_not_a_number(tmp_path: Path, value: str) -> None:
    """An unreadable Retry-After ("²" passes str.isdigit) falls back to the normal backoff."""
    answers = [response_bytes(429, b"", {"Retry-After": value}), OK]
    with RawServer(sequence(answers, invalid_model=INVALID), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--retries", "1", "--skip-error-path")
    assert "internal error" not in run.err
    assert run.code == 0 and "retried after 429" in run.route["notes"]
    assert run.elapsed < 5


def test_429_retry_after_beyond_the_budget_is_not_waited_for(tmp_path: Path) -> None:
    """Retry-After is honoured only up to the cap and the probe's time budget: an hour is not."""
    answers = [response_bytes(429, b'{"error": {"message": "quota"}}', {"Retry-After": "3600"}), OK]
    with RawServer(sequence(answers, invalid_model=INVALID), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--retries", "2", "--skip-error-path")
    route = assert_clean_exit(run, 3, "rate_limited", within=5)
    assert "429" in route["notes"] and "quota" in route["notes"]
    assert len(server.requests) == 1


def test_429_that_persists_is_rate_limited(tmp_path: Path) -> None:
    with RawServer(sequence([response_bytes(429, b"")], invalid_model=INVALID), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--retries", "1")
    route = assert_clean_exit(run, 3, "rate_limited", within=5)
    assert "HTTP 429" in route["notes"]
    assert len([r for r in server.requests if r.model == "gpt-4o"]) == 2


def test_error_path_outage_gives_no_verdict(tmp_path: Path) -> None:
    def answer(server: RawServer, request, conn) -> None:
        conn.sendall(OK if request.model == "gpt-4o" else response_bytes(500, b"Internal Server Error"))

    with RawServer(answer, lifetime=15) as server:
        run = check(tmp_path, server.base_url)
    assert run.code == 3 and run.elapsed < 5
    assert run.route["verdict"] == "pass"
    error_path = run.report["error_path"]
    assert error_path["verdict"] == "http_error" and error_path["http_status"] == 500
    assert "No verdict on the error path" in error_path["hint"]


# --- 200 answers that are not answers ------------------------------------------------------------

TOOL_CALLS = {
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
}


@pytest.mark.parametrize(
    ("answer", "verdict", "notes"),
    [
        pytest.param(
            response_bytes(200, b"<html><body><h1>Welcome to nginx!</h1></body></html>", {"Content-Type": "text/html"}),
            "bad_response", "not JSON", id="html-page",
        ),
        pytest.param(response_bytes(200, b'{"model": "gpt-4o", "choices": [{"ind'), "bad_response", "not JSON", id="truncated-json"),
        pytest.param(response_bytes(200, b""), "bad_response", "not JSON", id="empty-body"),
        pytest.param(json_response(200, [1, 2, 3]), "bad_response", "not a JSON object", id="json-array"),
        pytest.param(response_bytes(200, b"[" * 100_000 + b"]" * 100_000), "bad_response", "not JSON", id="nested-100k-deep"),
        pytest.param(
            json_response(200, {"error": {"message": "upstream provider overloaded", "code": 502}}),
            "bad_response", "error in the body", id="error-object",
        ),
        pytest.param(json_response(200, chat_completion(choices=[])), "empty_response", "no choices", id="choices-empty"),
        pytest.param(json_response(200, TOOL_CALLS), "empty_response", "tool calls only", id="content-null-tool-calls"),
        pytest.param(json_response(200, chat_completion(content="")), "empty_response", "empty text", id="empty-text"),
        pytest.param(json_response(200, chat_completion(model=42)), "bad_response", "names no model", id="model-number"),
        pytest.param(json_response(200, chat_completion(model=None)), "bad_response", "names no model", id="model-null"),
        pytest.param(json_response(200, chat_completion(model={"id": "gpt-4o"})), "bad_response", "names no model", id="model-object"),
        pytest.param(json_response(200, chat_completion(model=...)), "bad_response", "names no model", id="model-absent"),
        pytest.param(json_response(200, {"model": "gpt-4o"}), "bad_response", "no `choices`", id="no-choices"),
    ],
)  # fmt: skip
def test_200_that_is_not_an_answer(tmp_path: Path, answer: bytes, verdict: str, notes: str) -> None:
    with RawServer(send(answer), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 1, verdict, within=5)
    assert notes in route["notes"]
    assert route["hint"]


SSE = {"Content-Type": "text/event-stream"}


@pytest.mark.parametrize(
    ("route", "answer", "verdict"),
    [
        pytest.param(
            {"model": "gpt-4o", "stream": True},
            response_bytes(200, b'data: {"model": "gpt-4o", "choices": true}\n\ndata: [DONE]\n\n', SSE),
            "bad_response",  # no finish_reason: the stream was cut short
            id="chat-stream-choices-true",
        ),
        pytest.param(
            {"model": "gpt-4o", "api": "openai-responses"},
            json_response(
                200,
                {"model": "gpt-4o", "status": "completed", "output": [{"type": "message", "content": True}]},
            ),
            "empty_response",
            id="responses-content-true",
        ),
        pytest.param(
            {"model": "gpt-4o", "api": "anthropic-messages"},
            json_response(200, {"type": "message", "model": "gpt-4o", "content": {"text": "hi"}}),
            "bad_response",
            id="anthropic-content-object",
        ),
    ],
)
def test_odd_shapes_in_other_protocols(tmp_path: Path, route: dict, answer: bytes, verdict: str) -> None:
    """Shapes that once crashed a reader (a TypeError ended the whole run as an internal error)."""
    with RawServer(send(answer), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path", routes={"r": route})
    assert "internal error" not in run.err
    assert_clean_exit(run, 1, verdict, within=5)


def test_deeply_nested_json_everywhere(tmp_path: Path) -> None:
    """JSON nested 100 000 deep (json.loads raises RecursionError) in a stream chunk and in the
    error path's 404: unreadable text, never a crash."""
    nested = b'{"error":' * 100_000 + b"1" + b"}" * 100_000

    def answer(server: RawServer, request, conn) -> None:
        if request.model == INVALID:
            conn.sendall(response_bytes(404, nested))
        else:
            stop = (
                b'data: {"model": "gpt-4o", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}'
            )
            conn.sendall(
                response_bytes(200, b"data: " + nested + b"\n\n" + stop + b"\n\ndata: [DONE]\n\n", SSE)
            )

    with RawServer(answer, lifetime=15) as server:
        run = check(tmp_path, server.base_url, routes={"r": {"model": "gpt-4o", "stream": True}})
    assert "internal error" not in run.err
    assert_clean_exit(run, 1, "empty_response", within=5)
    assert run.report["error_path"]["verdict"] == "pass"


def test_invalid_utf8_in_the_answer_text_is_harmless(tmp_path: Path) -> None:
    body = (
        json.dumps(chat_completion("gpt-4o", "PLACE"))
        .encode()
        .replace(b"PLACE", b"\xff\xfe\xc3(\xed\xa0\x80")
    )
    with RawServer(send(response_bytes(200, body)), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path")
    assert run.code == 0 and run.route["verdict"] == "pass"


def test_invalid_utf8_in_the_model_id(tmp_path: Path) -> None:
    body = json.dumps(chat_completion("gpt-4oPLACE")).encode().replace(b"PLACE", b"\xff\xc0\xed\xa0\x80")
    with RawServer(send(response_bytes(200, body)), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 1, "model_mismatch", within=5)
    assert route["model_returned"].startswith("gpt-4o\ufffd")
    json.loads(run.log_text.splitlines()[0])
    run.summary.encode("utf-8")  # no lone surrogate anywhere


# --- bodies too big to read --------------------------------------------------------------------


def peak_memory_of(folder: Path, base_url: str, *args: str) -> tuple[CliRun, int]:
    """The run's peak of Python memory; a first, untraced run does the one-off imports and set-up."""
    check(folder, base_url, *args)
    tracemalloc.start()
    try:
        run = check(folder, base_url, *args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return run, peak


def test_50_mb_body_is_capped(tmp_path: Path) -> None:
    size = 50 * 1024 * 1024
    head = response_bytes(200, b"", {"Content-Length": str(size)}, content_length=False)
    with RawServer(stream(head, lambda: huge_json_body(size)), lifetime=20) as server:
        run, peak = peak_memory_of(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 1, "bad_response", within=10)
    assert "read limit" in route["notes"]
    assert peak < 12 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"  # the read limit is 2 MiB


@pytest.mark.parametrize(("encoding", "wbits"), [("gzip", 31), ("deflate", 15)])
def test_compression_bomb_is_capped(tmp_path: Path, encoding: str, wbits: int) -> None:
    """1 GiB of zeros, about 1 MB on the wire: decoded only up to the read limit."""
    bomb = zeros_bomb(1 << 30, wbits)
    head = response_bytes(
        200, b"", {"Content-Encoding": encoding, "Content-Length": str(len(bomb))}, content_length=False
    )
    with RawServer(stream(head, [bomb]), lifetime=20) as server:
        run, peak = peak_memory_of(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 1, "bad_response", within=10)
    assert "read limit" in route["notes"]
    assert peak < 12 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


def test_bomb_helper_is_a_real_bomb() -> None:
    bomb = zeros_bomb(16 << 20)
    out = zlib.decompressobj(31).decompress(bomb)
    assert len(out) == 16 << 20 and not out.strip(b"\0") and len(bomb) < 32 * 1024


def test_decoder_stops_exactly_at_the_limit() -> None:
    """A compressed chunk arriving after exactly `limit` decoded bytes must not be decoded unbounded
    (zlib reads max_length 0 as "no limit")."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    first = comp.compress(bytes(1000)) + comp.flush(zlib.Z_SYNC_FLUSH)
    rest = comp.compress(bytes(8 << 20)) + comp.flush()
    decoder = _Decoder("gzip", 1000)
    assert len(decoder.feed(first)) == 1000 and not decoder.over
    assert decoder.feed(rest) == b""
    assert decoder.over and decoder.size == 1000
    # a body of exactly the limit is not "over"
    whole = zlib.compress(bytes(MAX_BODY), wbits=31)
    exact = _Decoder("gzip", MAX_BODY)
    assert len(exact.feed(whole[:100])) + len(exact.feed(whole[100:])) == MAX_BODY
    assert not exact.over


@pytest.mark.parametrize("encoding", ["br", "zstd", "x-unknown"])
def test_content_encoding_we_did_not_ask_for(tmp_path: Path, encoding: str) -> None:
    answer = response_bytes(200, b"\x1b\x00\xf8\xa5\x40\x00garbage", {"Content-Encoding": encoding})
    with RawServer(send(answer), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 1, "bad_response", within=5)
    assert encoding in route["notes"] and "does not decode" in route["notes"]
    assert "Accept-Encoding" in route["hint"]
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_gzip_that_is_not_gzip(tmp_path: Path) -> None:
    """A body that claims gzip but is plain JSON: a bad answer, not a crash."""
    answer = response_bytes(200, json.dumps(chat_completion()).encode(), {"Content-Encoding": "gzip"})
    with RawServer(send(answer), lifetime=15) as server:
        run = check(tmp_path, server.base_url, "--skip-error-path")
    route = assert_clean_exit(run, 1, "bad_response", within=5)
    assert "internal error" not in run.err and route["hint"]


# --- redirects are never followed ----------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 307])
def test_redirect_is_not_followed_and_the_key_stays_home(
    tmp_path: Path, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)
    with RawServer(send(OK), lifetime=15) as elsewhere:
        location = f"{elsewhere.base_url}/chat/completions"
        redirect = response_bytes(status, b"", {"Location": location})
        with RawServer(send(redirect), lifetime=15) as server:
            run = check(tmp_path, server.base_url, "--retries", "2", auth="bearer")
        time.sleep(0.2)  # a follow-up request, if any, would have arrived by now
        received, connections = bytes(elsewhere.raw), elsewhere.connections
    route = assert_clean_exit(run, 1, "http_error", within=5)
    assert f"HTTP {status}" in route["notes"] and "never followed" in route["notes"]
    assert f"127.0.0.1:{elsewhere.port}" in route["notes"]
    assert "gateway.base_url" in route["hint"]
    assert connections == 0 and received == b""
    assert run.report["error_path"]["verdict"] == "http_error"
    # the gateway itself did get the key, once per probe (a 3xx is not retried)
    assert len(server.requests) == 2
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in server.requests)
    assert KEY not in run.everything
