"""A gateway that echoes the key in disguise: zero-width characters or soft hyphens inside it,
URL-encoded, base64 at every byte alignment, upper-cased. None of it may reach any output of the
action (log, annotations, summary, outputs, report, JSON Lines log); and text the gateway chose
cannot colour, reorder or hide the annotations (ANSI escapes, bidi overrides, control characters).

The leak detector here is independent of routing-guard's own matching: it strips every invisible
character, percent-decodes, lower-cases, and base64-decodes every base64-looking token at every
offset before it looks for runs of 8 of the key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import subprocess
import sys
import unicodedata
import urllib.parse
from pathlib import Path

import yaml

from tests.support.fault_servers import RawServer, Request

ROOT = Path(__file__).resolve().parents[2]
KEY = "rg-5f0c9e1ab34d77e2c0ffee1234abcd9876"  # hex after the prefix: gateways may echo it upper-cased
RUNS = {KEY[i : i + 8].lower() for i in range(len(KEY) - 7)}
INVISIBLE = ["\u200b", "\u00ad", "\u200e", "\u202e", "\u2060", "\ufeff", "\u034f", "\u180e", "\x00"]
HOSTILE_ID = "gpt-4o\x1b[2J\x1b]8;;http://evil\x07\u202egnp.exe\u2066x\x08\x7f"


def disguised_echoes() -> list[str]:
    echoes = [sep.join(KEY) for sep in INVISIBLE]  # every character of the key apart
    echoes += [KEY[:9] + sep + KEY[9:] for sep in INVISIBLE]
    echoes.append(urllib.parse.quote(KEY, safe=""))
    echoes.append("".join(f"%{b:02x}" for b in KEY.encode()))
    echoes.append(KEY.upper())
    for prefix in ("", "u", "us", "use", "user:"):  # every alignment, standard and URL-safe
        blob = base64.b64encode(prefix.encode() + KEY.encode()).decode()
        echoes += [f"Basic {blob}", base64.urlsafe_b64encode(prefix.encode() + KEY.encode()).decode()]
    echoes.append(json.dumps(KEY).replace("-", "\\u002d"))
    return echoes


def _visible(text: str) -> str:
    kept = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf") and c not in "\u034f\u180e")
    return urllib.parse.unquote(kept).lower()


def _base64_plain(text: str) -> list[str]:
    found = []
    for token in re.findall(r"[A-Za-z0-9+/_-]{12,}", text):
        for skip in range(4):
            part = token[skip:]
            part = part[: len(part) - len(part) % 4]
            for alt in (b"+/", b"-_"):
                with contextlib.suppress(binascii.Error, ValueError):
                    found.append(base64.b64decode(part, altchars=alt).decode("latin-1").lower())
    return found


def leaks(text: str) -> list[str]:
    views = [_visible(text), *_base64_plain(text)]
    return sorted({run for run in RUNS for view in views if run in view})


def test_the_detector_finds_every_disguise() -> None:
    for echo in disguised_echoes():
        assert leaks(f"Incorrect API key provided: {echo}."), repr(echo)
    assert not leaks("routing-guard check: 2 routes, error path refused, exit 1")


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> bytes:
    data = json.dumps(body).encode()
    head = [f"HTTP/1.1 {status} X", "Content-Type: application/json", f"Content-Length: {len(data)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join([*head, "Connection: close"]) + "\r\n\r\n").encode() + data


def echoing_gateway(server: RawServer, request: Request, conn: object) -> None:
    echo = " | ".join(disguised_echoes())
    if request.model == "gpt-4o":  # served by another model whose ID hides the key and a terminal attack
        body = {
            "model": f"{HOSTILE_ID} {echo}",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}
            ],
        }
        conn.sendall(answer(200, body))  # type: ignore[attr-defined]
        return
    message = f"Incorrect API key provided: {echo}"
    conn.sendall(answer(404, {"error": {"message": message, "type": "invalid_request_error"}}))  # type: ignore[attr-defined]


def test_no_disguised_echo_reaches_any_output_of_the_action(tmp_path: Path) -> None:
    workspace, files = tmp_path / "workspace", tmp_path / "files"
    files.mkdir()
    output, summary = files / "output", files / "summary"
    output.touch()
    summary.touch()
    with RawServer(echoing_gateway, lifetime=60) as server:
        (workspace / ".github").mkdir(parents=True)
        routing = {
            "version": 1,
            "gateway": {"base_url": server.base_url, "auth": "bearer"},
            "routes": {"code-generation": {"model": "gpt-4o"}, "test-repair": {"model": "claude-x"}},
        }
        (workspace / ".github/model-routing.yml").write_text(yaml.safe_dump(routing), encoding="utf-8")
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ROUTING_GUARD_"))
        }
        env.update(
            {
                "INPUT_API-KEY": KEY,
                "INPUT_RETRIES": "0",
                "INPUT_TIMEOUT": "5",
                "INPUT_LOG-FILE": "routing.jsonl",
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
        assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in server.requests)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 1, log  # a model mismatch, judged
    report = (workspace / "routing-guard-report.json").read_text(encoding="utf-8")
    assert "model_mismatch" in report and "***" in report  # the echoes were there, and were masked
    texts = {"log": log, "summary": summary.read_text(), "outputs": output.read_text(), "report": report}
    texts["jsonl"] = (workspace / "routing.jsonl").read_text()
    for name, text in texts.items():
        shown = "\n".join(line for line in text.splitlines() if not line.startswith("::add-mask::"))
        assert leaks(shown) == [], (name, leaks(shown))

    annotations = [line for line in proc.stdout.splitlines() if line.startswith(("::error ", "::warning "))]
    assert any("code-generation" in line for line in annotations), proc.stdout
    for line in annotations:
        assert not re.search("[\x00-\x1f\x7f-\x9f\u034f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", line), repr(
            line
        )
    mismatch = next(line for line in annotations if "code-generation" in line)
    assert "\\u202egnp.exe\\u2066x\\x08\\x7f" in mismatch  # shown as escapes, not obeyed
    assert "]8;;" not in mismatch and "[2J" not in mismatch  # ANSI sequences removed whole
