"""The action against a pull request's planted files, a corporate CA, a second secret and its own bugs.

Real symlinks, FIFOs and pipes in a real workspace; real loopback gateways (pytest-httpserver and a
raw TLS server with a trustme CA); the entrypoint runs in process as the runner runs it.
"""

from __future__ import annotations

import json
import os
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from routing_guard import check
from tests.support.action_harness import KEY, Action, chat, fake_gateway, write_routing
from tests.support.fault_servers import RawServer, chat_completion, json_response, send

GATEWAY_KEY = "gwk-Zy8Xw7Vu6Ts5Rq4Po3Nm1Lk"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the workspace, standing in for the runner's event file."""
    path = tmp_path / "runner" / "event.json"
    path.parent.mkdir()
    path.write_text('{"original": true}')
    return path


@pytest.mark.parametrize("how", ["file", "folder"])
def test_log_file_through_a_symlink_is_refused_before_any_request(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer, outside: Path, how: str
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o"})
    write_routing(action.workspace, url, {"code-generation": "gpt-4o"})
    if how == "file":
        (action.workspace / "routing.jsonl").symlink_to(outside)
        log_file = "routing.jsonl"
    else:
        (action.workspace / "logs").symlink_to(outside.parent)
        log_file = "logs/event.json"
    assert action.run(capsys, api_key=KEY, log_file=log_file, retries="0") == 2
    [error] = action.annotations("error")
    assert f"{log_file}: " in error and "never through a symlink" in error
    assert outside.read_text() == '{"original": true}'
    assert httpserver.log == []  # refused before the key went anywhere


def test_report_and_log_are_written_inside_and_a_planted_report_link_is_replaced(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer, outside: Path
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o"})
    write_routing(action.workspace, url, {"code-generation": "gpt-4o"})
    (action.workspace / "routing-guard-report.json").symlink_to(outside)
    assert action.run(capsys, api_key=KEY, log_file="logs/routing.jsonl", retries="0") == 0
    report = action.workspace / "routing-guard-report.json"
    assert not report.is_symlink() and json.loads(report.read_text())["exit_code"] == 0
    assert outside.read_text() == '{"original": true}'
    [record] = [
        json.loads(line) for line in (action.workspace / "logs/routing.jsonl").read_text().splitlines()
    ]
    assert record["route"] == "code-generation" and record["pass"] is True
    assert action.outputs()["report"] == "routing-guard-report.json"


@pytest.mark.timeout(60)
def test_a_routing_file_input_linking_to_a_fifo_or_a_pipe_ends_at_once(
    action: Action, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "fifo")
    (action.workspace / "fifo.yml").symlink_to(tmp_path / "fifo")
    reader, writer = os.pipe()
    try:
        (action.workspace / "stdout.yml").symlink_to(f"/proc/self/fd/{reader}")
        for name in ("fifo.yml", "stdout.yml"):
            assert action.run(capsys, mode="validate", routing_file=name) == 2
            errors = action.annotations("error")
            assert errors and name in errors[-1], action.stdout
    finally:
        os.close(reader)
        os.close(writer)


def test_a_routing_file_outside_the_workspace_is_refused(
    action: Action, capsys: pytest.CaptureFixture[str], outside: Path
) -> None:
    (action.workspace / "model-routing.yml").symlink_to(outside)
    for value in ("model-routing.yml", "../runner/event.json", str(outside)):
        assert action.run(capsys, mode="validate", routing_file=value) == 2
        assert "inside the workspace" in action.annotations("error")[-1]


# --- a corporate CA through the ca-certificates input ----------------------------------------------


@pytest.fixture
def tls_gateway(tmp_path: Path) -> Any:
    ca = trustme.CA(organization_name="routing-guard test corporate CA")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with RawServer(send(json_response(200, chat_completion("gpt-4o"))), tls=context, lifetime=30) as server:
        yield server, ca


def test_the_ca_certificates_input_trusts_a_corporate_ca(
    action: Action, capsys: pytest.CaptureFixture[str], tls_gateway: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ca = tls_gateway
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "ROUTING_GUARD_CA_CERTIFICATES"):
        monkeypatch.delenv(name, raising=False)
    write_routing(action.workspace, server.base_url, {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=KEY, invalid_model="skip", retries="0") == 3  # not trusted yet
    assert "--ca-certificates" in (action.workspace / "routing-guard-report.json").read_text()
    (action.workspace / "certs").mkdir()
    ca.cert_pem.write_to_path(str(action.workspace / "certs" / "corp.pem"))
    assert (
        action.run(capsys, api_key=KEY, invalid_model="skip", retries="0", ca_certificates="certs/corp.pem")
        == 0
    )
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("certs/missing.pem", "no such file"),
        ("certs", "is a directory"),
        ("notes.txt", "holds no PEM certificate"),
    ],
)
def test_a_bad_ca_certificates_input_names_the_input_and_the_path(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer, value: str, problem: str
) -> None:
    (action.workspace / "certs").mkdir()
    (action.workspace / "notes.txt").write_text("not a certificate")
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o"})
    write_routing(action.workspace, url, {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=KEY, ca_certificates=value) == 2
    assert f"input `ca-certificates`: {value}: {problem}" in action.annotations("error")[-1]
    assert httpserver.log == []


# --- the gateway's own secret ----------------------------------------------------------------------


def test_the_gateway_key_input_is_masked_first_sent_in_its_header_and_never_shown(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    def handle(request: Request) -> Response:
        model = str(request.get_json()["model"])
        if model == "gpt-4o":
            return Response(json.dumps(chat("gpt-4o")), content_type="application/json")
        echo = f"The model does not exist (your gateway token {request.headers.get('x-portkey-api-key')})"
        return Response(json.dumps({"error": {"message": echo}}), status=404, content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handle)
    path = write_routing(
        action.workspace, httpserver.url_for("/v1"), {"code-generation": "gpt-4o", "other": "m"}
    )
    text = path.read_text().replace(
        "  auth: bearer\n", "  auth: bearer\n  gateway_key_header: x-portkey-api-key\n"
    )
    path.write_text(text)
    code = action.run(capsys, api_key=KEY, gateway_key=GATEWAY_KEY, retries="0")
    assert code == 1, (action.workspace / "routing-guard-report.json").read_text()  # `other`: 404
    assert {r.headers.get("x-portkey-api-key") for r, _ in httpserver.log} == {GATEWAY_KEY}
    assert "your gateway token ***" in (action.workspace / "routing-guard-report.json").read_text()
    lines = action.stdout.splitlines()
    assert f"::add-mask::{GATEWAY_KEY}" in lines[:6]
    shown = [line for line in lines if not line.startswith("::add-mask::")]
    for text in ["\n".join(shown), action.summary_text(), action.output.read_text(),
                 (action.workspace / "routing-guard-report.json").read_text()]:  # fmt: skip
        assert GATEWAY_KEY[:10] not in text and GATEWAY_KEY[-10:] not in text


# --- a bug in routing-guard fails the step whatever fail-on says -----------------------------------


def test_an_internal_error_fails_the_step_under_fail_on_routing_and_keeps_the_rest(
    action: Action,
    capsys: pytest.CaptureFixture[str],
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_judge = check.judge_reply

    def judge(**kwargs: Any) -> check.Judgement:
        if kwargs["requested"] == "boom-model":
            raise ValueError("injected bug")
        return real_judge(**kwargs)

    monkeypatch.setattr(check, "judge_reply", judge)
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o-mini", "boom-model": "boom-model"})
    write_routing(action.workspace, url, {"code-generation": "gpt-4o", "crashing": "boom-model"})
    assert action.run(capsys, api_key=KEY, fail_on="routing", retries="0", invalid_model="skip") == 4
    outputs = action.outputs()
    assert outputs["exit-code"] == "4" and outputs["passed"] == "false"
    assert "code-generation" in outputs["failed-routes"]
    assert any("internal error (exit 4)" in e for e in action.annotations("error"))
    assert any("code-generation model_mismatch" in e for e in action.annotations("error"))
    summary = action.summary_text()
    assert "model\\_mismatch" in summary and "internal error" in summary
