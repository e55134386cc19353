"""Text from the gateway (and free strings in the routing file) is untrusted.

A fake gateway puts hostile strings everywhere it can: the `model` field, the headers that name
the served model or a fallback, error messages (in 4xx, 5xx and 200 bodies), OpenRouter's
`provider`, a stream, the model listing, and the answer to the bogus model ID. Whatever it sends:

- no line of stdout or stderr is a workflow command (`::...` after leading whitespace, or `##[`);
- the terminal table has no escape or control characters and one line per route;
- the Markdown summary has no raw `<`, no link, every table row has the same number of cells, and
  it stays under GitHub's 1 MiB;
- the JSON report and log are valid JSON and keep the data (escaping is per medium, not lossy).
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from routing_guard.protocols import MAX_ID
from tests.support.fault_servers import (
    CliRun,
    RawServer,
    Request,
    response_bytes,
    run_cli,
)

BIG = 100_000
HOSTILE = {
    "error-command": "::error::pwn",
    "add-mask": "::add-mask::x",
    "set-env-escaped": "%0A::set-env name=X::y",
    "newline-warning": "\n::warning::x",
    "cr-command": "ok\r::error::after-cr",
    "crlf-command": "ok\r\n::error::after-crlf",
    "indented": " \t ::notice::indented",
    "unicode-breaks": "a\u2028::error::ls\u2029::error::ps\x85::error::nel\x0b::error::vt",
    "old-style": "text ##[error]old style ##[set-output name=x;]y",
    "pipes": "a|b||c\\|d",
    "backticks": "```\ncode``` `inline`",
    "script": "<script>alert(1)</script>",
    "img": "<img src=x onerror=alert(1)>",
    "js-link": "[x](javascript:alert(1))",
    "image-link": "![x](https://evil.example/t.png) <https://evil.example> www.evil.example a@evil.example",
    "html-table": "</td></tr></table><h1>big</h1><details open>",
    "entities": "&lt;b&gt; &#60;i&#62; &amp;",
    "ansi": "\x1b[2J\x1b[31mred\x1b[0m\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x9b31m",
    "controls": "nul\x00bel\x07bs\x08del\x7f",
    "bidi": "\u202eevil\u202c \u2066isolate\u2069 \u200bzw\ufeff",
    "surrogates": "lone \ud800 pair \udfff\ud800 end",
    "emphasis-math": "**b** _i_ ~~s~~ $x$ $$y$$ # h \\",
    "long-tail": "x" * BIG + "::error::tail",
    "long-head": "::error::" + "y" * BIG,
    "long-lines": "\n::error::line\n" * 2000,
}


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the machine's environment holds, these runs use no key and write no job summary."""
    for name in ("ROUTING_GUARD_API_KEY", "GITHUB_STEP_SUMMARY", "ROUTING_GUARD_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def header_value(text: str) -> bytes:
    """As much of `text` as can travel in an HTTP header (h11 refuses controls and >16 KB heads)."""
    raw = text[:4000].encode("utf-8", "surrogatepass")
    return bytes(b for b in raw if b >= 0x20 and b != 0x7F)


def raw_response(status: int, doc: Any, headers: list[tuple[str, bytes]]) -> bytes:
    head = [f"HTTP/1.1 {status} X".encode()]
    body = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
    head += [name.encode() + b": " + value for name, value in headers]
    head += [b"Content-Type: application/json", f"Content-Length: {len(body)}".encode(), b"Connection: close"]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def completion(model: Any, **extra: Any) -> dict[str, Any]:
    return {
        "object": "chat.completion",
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}
        ],
        **extra,
    }


def sse(*chunks: Any) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


# Routes of the routing file; the gateway's behaviour is keyed by the requested model.
ROUTES: dict[str, dict[str, Any]] = {
    "mismatch": {"model": "m-mismatch"},
    "error-message": {"model": "m-error-message"},
    "server-error": {"model": "m-server-error"},
    "provider": {"model": "m-provider"},
    "fallback": {"model": "m-fallback"},
    "body-error": {"model": "m-body-error"},
    "pinned": {"model": "m-pinned", "served": ["anthropic/*"]},
    "stream": {"model": "m-stream", "stream": True},
    "stream-error": {"model": "m-stream-error", "stream": True},
}
INVALID = "bogus-model-id"


def hostile_gateway(text: str):
    hdr = header_value(text)

    def handler(server: RawServer, request: Request, conn) -> None:
        model = request.model
        if request.method == "GET":  # the model listing
            data = [{"id": text, "deprecation_date": "2000-01-01"}, {"id": "m-mismatch", "owned_by": text}]
            answer = raw_response(200, {"object": "list", "data": data}, [])
        elif model == "m-mismatch":
            answer = raw_response(200, completion(text), [("x-litellm-model-name", hdr)])
        elif model == "m-error-message":
            answer = raw_response(400, {"error": {"message": text, "type": text[:60], "code": text}}, [])
        elif model == "m-server-error":
            answer = raw_response(500, text.encode("utf-8", "surrogatepass"), [])
        elif model == "m-provider":
            answer = raw_response(200, completion(model, provider=text), [("x-litellm-model-name", hdr)])
        elif model == "m-fallback":
            headers = [("x-litellm-attempted-fallbacks", b"1 " + hdr), ("x-litellm-model-name", hdr)]
            answer = raw_response(200, completion(model), headers)
        elif model == "m-body-error":
            answer = raw_response(200, {"error": {"message": text, "code": 502}}, [])
        elif model == "m-pinned":
            answer = raw_response(200, completion(model), [("x-litellm-model-name", hdr)])
        elif model == "m-stream":
            choice = {"index": 0, "delta": {"content": "pong"}, "finish_reason": "stop"}
            chunk = {"model": text, "choices": [choice]}
            answer = raw_response(200, sse(chunk), [("content-type", b"text/event-stream")])
        elif model == "m-stream-error":
            answer = raw_response(
                200, sse({"error": {"message": text}}), [("content-type", b"text/event-stream")]
            )
        elif model == INVALID:
            answer = raw_response(200, completion(text), [("x-litellm-model-name", hdr)])
        else:  # a model named in the routing file itself: echoed in an OpenAI-style 404
            message = f"The model `{model}` does not exist or you do not have access to it."
            answer = raw_response(404, {"error": {"message": message, "code": "model_not_found"}}, [])
        conn.sendall(answer)

    return handler


def write_routing(folder: Path, base_url: str, routes: dict[str, dict[str, Any]], **gateway: Any) -> Path:
    doc = {
        "version": 1,
        "gateway": {"base_url": base_url, "api": "openai-chat", "auth": "none", "invalid_model": INVALID},
        "routes": routes,
    }
    doc["gateway"].update(gateway)
    path = folder / "model-routing.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


# --- what every output must satisfy --------------------------------------------------------------

_UNESCAPED_PIPE = re.compile(r"(?<!\\)(?:\\\\)*\|")


def cell_separators(row: str) -> int:
    """Pipes that split cells: those not escaped by an odd number of backslashes."""
    return sum(1 for m in _UNESCAPED_PIPE.finditer(row))


def assert_no_workflow_command(stream: str, name: str) -> None:
    # The runner splits on \n and \r; str.splitlines splits on every line break there is.
    for line in stream.splitlines():
        stripped = "".join(line).lstrip()
        assert not stripped.startswith("::"), f"{name}: {line[:120]!r}"
        assert "##[" not in line, f"{name}: {line[:120]!r}"


def assert_terminal_safe(stream: str, name: str, allowed: frozenset[str] = frozenset()) -> None:
    for char in set(stream) - {"\n"} - allowed:
        category = unicodedata.category(char)
        assert category not in ("Cc", "Cf", "Cs", "Zl", "Zp"), f"{name}: {char!r} ({category})"


def assert_summary_safe(summary: str) -> None:
    assert len(summary.encode("utf-8")) < 1024 * 1024
    assert "<" not in summary  # no HTML from the gateway: every `<` is an entity
    assert "javascript:" not in summary.lower()
    assert "](" not in summary and "![" not in summary  # no Markdown link or image
    assert "\x1b" not in summary and "\r" not in summary
    assert_terminal_safe(summary, "summary", frozenset("\u200b"))  # the summary's own e-mail autolink breaker
    lines = summary.split("\n")
    tables: list[list[str]] = []
    previous = False
    for line in lines:
        is_row = line.startswith("|")
        if is_row and not previous:
            tables.append([])
        if is_row:
            tables[-1].append(line)
        previous = is_row
    assert tables, summary[:2000]
    for table in tables:
        counts = {cell_separators(row) for row in table}
        assert len(counts) == 1, [(cell_separators(r), r[:300]) for r in table]
        assert all(row.endswith("|") for row in table)


def assert_table_one_line_per_route(out: str, routes: list[str]) -> None:
    lines = out.split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("route "))
    rows = lines[header + 1 : header + 1 + len(routes)]
    assert [row.split(" ", 1)[0] for row in rows] == routes, rows
    following = lines[header + 1 + len(routes)]
    assert following.startswith(("error path", "warning:", "to fix (")) or " route" in following, following


def assert_everything_safe(run: CliRun, routes: list[str]) -> None:
    assert "Traceback" not in run.err and "internal error" not in run.err, run.err[-2000:]
    for name, stream in (("stdout", run.out), ("stderr", run.err)):
        assert_no_workflow_command(stream, name)
        assert_terminal_safe(stream, name)
    assert_table_one_line_per_route(run.out, routes)
    assert_summary_safe(run.summary)
    assert run.report is not None  # run_cli parsed it: valid JSON
    run.report_text.encode("ascii")
    for line in run.log_text.splitlines():
        json.loads(line)
    assert len(run.log_text.splitlines()) == len(routes)


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_gateway_text(tmp_path: Path, text: str) -> None:
    with RawServer(hostile_gateway(text), lifetime=20) as server:
        path = write_routing(tmp_path, server.base_url, ROUTES)
        argv = ["check", "--routing-file", str(path), "--retries", "0", "--timeout", "5", "--models"]
        run = run_cli(tmp_path, argv)
    assert run.elapsed < 10
    assert_everything_safe(run, list(ROUTES))
    assert run.code == 1
    verdicts = {r["route"]: r["verdict"] for r in run.routes}
    assert verdicts == {
        "mismatch": "model_mismatch",
        "error-message": "http_error",
        "server-error": "http_error",
        "provider": "pass",
        "fallback": "fallback_detected",
        "body-error": "bad_response",
        "pinned": "pass" if header_value(text).startswith(b"anthropic/") else "model_mismatch",
        "stream": "model_mismatch",
        "stream-error": "bad_response",
    }
    assert run.report["error_path"]["verdict"] == "silent_fallback"
    # The report keeps what the gateway said, exactly (lone surrogates become U+FFFD), up to MAX_ID.
    by_route = {r["route"]: r for r in run.routes}
    expected = re.sub("[\ud800-\udfff]", "\ufffd", text[:MAX_ID])
    if text.strip():
        assert by_route["mismatch"]["model_returned"] == expected
        assert run.report["error_path"]["model_returned"] == expected


def test_hostile_text_in_json_stdout(tmp_path: Path) -> None:
    """`--format json` prints the report to stdout, where the runner reads commands too."""
    routes = {f"r{i}": {"model": f"m{i}"} for i in range(len(HOSTILE))}
    texts = list(HOSTILE.values())

    def handler(server: RawServer, request: Request, conn) -> None:
        index = int(request.model[1:]) if request.model[1:].isdigit() else 0
        text = texts[index]
        conn.sendall(raw_response(200, completion(text), [("x-litellm-model-name", header_value(text))]))

    with RawServer(handler, lifetime=20) as server:
        path = write_routing(tmp_path, server.base_url, routes)
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--retries", "0", "--format", "json"])
    assert run.code == 1
    assert_no_workflow_command(run.out, "stdout")
    assert_terminal_safe(run.out, "stdout")
    printed = json.loads(run.out)
    assert [r["verdict"] for r in printed["routes"]] == ["model_mismatch"] * len(texts)
    assert printed["routes"][0]["model_returned"] == texts[0]


# Free strings of the routing file: model IDs, `accept` and `served` patterns, the invalid model ID.
FILE_TEXTS = {k: HOSTILE[k] for k in ("error-command", "newline-warning", "cr-command", "script", "js-link",
                                      "pipes", "ansi", "bidi", "old-style", "long-head")}  # fmt: skip


@pytest.mark.parametrize("text", list(FILE_TEXTS.values()), ids=list(FILE_TEXTS))
def test_hostile_text_in_the_routing_file(tmp_path: Path, text: str) -> None:
    routes = {
        "hostile-model": {"model": text},  # the gateway echoes it in its 404
        "mismatch": {"model": "m-mismatch", "accept": [text, f"{text}*"]},
        "pinned": {"model": "m-pinned", "served": [text]},
    }
    with RawServer(hostile_gateway("gpt-4o-mini"), lifetime=20) as server:
        path = write_routing(tmp_path, server.base_url, routes, invalid_model=text)
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--retries", "0", "--models"])
        requested = [r.model for r in server.requests if r.method == "POST"]
    assert_everything_safe(run, list(routes))
    assert text in requested  # the model ID went to the gateway unchanged
    by_route = {r["route"]: r for r in run.routes}
    assert by_route["hostile-model"]["verdict"] == "http_error"
    assert by_route["hostile-model"]["model_requested"] == text
    assert by_route["pinned"]["verdict"] == "model_mismatch"
    assert run.report["error_path"]["model_requested"] == text
    # validate prints the file's route names only, but must be as safe
    valid = run_cli(tmp_path, ["validate", "--routing-file", str(path)])
    assert valid.code == 0
    assert_no_workflow_command(valid.out + valid.err, "validate")


@pytest.mark.parametrize("place", ["gateway-field", "route-name", "top-level-field"])
@pytest.mark.parametrize("text", [HOSTILE["error-command"], HOSTILE["newline-warning"], HOSTILE["ansi"]])
def test_hostile_text_in_error_messages(tmp_path: Path, text: str, place: str) -> None:
    """Configuration errors quote what the user (or a pull request) wrote: stderr stays safe."""
    bad: dict[str, Any] = {
        "version": 1,
        "gateway": {"base_url": "https://g.example/v1"},
        "routes": {"a": {"model": "x"}},
    }
    if place == "gateway-field":
        bad["gateway"][text] = 1
    elif place == "route-name":
        bad["routes"][text] = {"model": "x"}  # route names are restricted by the schema
    else:
        bad[text] = {"x": 1}
    path = tmp_path / "model-routing.yml"
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    for argv in (["validate", "--routing-file", str(path)], ["check", "--routing-file", str(path)]):
        run = run_cli(tmp_path, argv)
        assert run.code == 2 and "model-routing.yml" in run.err
        assert_no_workflow_command(run.out + run.err, "stderr")
        assert_terminal_safe(run.out + run.err, "stderr")


@pytest.mark.parametrize("text", [HOSTILE["error-command"], HOSTILE["newline-warning"], HOSTILE["ansi"]])
def test_hostile_text_in_arguments(tmp_path: Path, text: str) -> None:
    good = tmp_path / "good.yml"
    doc = {"version": 1, "gateway": {"base_url": "https://g.example/v1"}, "routes": {"a": {"model": "x"}}}
    good.write_text(yaml.safe_dump(doc), encoding="utf-8")
    for extra in (["--route", text], ["--gateway-url", text], ["--timeout", text]):
        run = run_cli(tmp_path, ["check", "--routing-file", str(good), *extra])
        assert run.code == 2
        assert_no_workflow_command(run.out + run.err, "stderr")
    run = run_cli(tmp_path, ["check", "--routing-file", text])
    assert run.code == 2
    assert_no_workflow_command(run.out + run.err, "stderr")


def test_raw_control_characters_in_a_header(tmp_path: Path) -> None:
    """A header value with raw control bytes breaks HTTP itself: an operational failure, shown safely."""

    def handler(server: RawServer, request: Request, conn) -> None:
        conn.sendall(
            response_bytes(200, json.dumps(completion("gpt-4o")).encode()).replace(
                b"Connection: close", b"X-Litellm-Model-Name: \x1b[2J::error::x\rConnection: close"
            )
        )

    with RawServer(handler, lifetime=20) as server:
        path = write_routing(tmp_path, server.base_url, {"a": {"model": "gpt-4o"}})
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--retries", "0", "--skip-error-path"])
    assert run.code == 3 and run.route["verdict"] == "unreachable"
    assert_everything_safe(run, ["a"])


def test_absurd_header_values_do_not_crash_the_run(tmp_path: Path) -> None:
    """A fallback counter of 5000 digits (past Python's int() limit) and a served-model header of 8 KB."""
    digits = b"0" * 5000 + b"1"

    def handler(server: RawServer, request: Request, conn) -> None:
        headers = [("x-litellm-attempted-fallbacks", digits), ("x-litellm-model-name", b"m" * 8000)]
        conn.sendall(raw_response(200, completion(request.model), headers))

    with RawServer(handler, lifetime=20) as server:
        path = write_routing(tmp_path, server.base_url, {"a": {"model": "gpt-4o"}})
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--retries", "0", "--skip-error-path"])
    assert "internal error" not in run.err
    assert run.code == 1 and run.route["verdict"] == "fallback_detected"
    assert run.route["served_model"] == "m" * MAX_ID  # capped: longer can only be hostile or broken
    assert_everything_safe(run, ["a"])
