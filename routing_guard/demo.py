"""`routing-guard demo`: the real check against a small drifting gateway on loopback.

The demo gateway behaves like a LiteLLM proxy that has drifted: one route is healthy, one is
served by a dated snapshot (fine), one is served by a fallback while the body still names the
routed model, and a catch-all answers unknown model IDs with 200.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routing_guard.output import Output

CATCH_ALL_UPSTREAM = "openai/gpt-4o-mini"

DEMO_ROUTING = """\
# routing-guard demo: which model serves which coding-agent task
version: 1
gateway:
  base_url: {base_url}
  api: openai-chat
  auth: none
routes:
  code-generation:
    model: gpt-4o
  test-repair:
    model: claude-sonnet-4-5
  ci-triage:
    model: coder-fast
"""

# requested model -> (model the body names, extra headers)
BEHAVIOUR: dict[str, tuple[str, dict[str, str]]] = {
    "gpt-4o": ("gpt-4o", {"x-litellm-model-name": "openai/gpt-4o"}),
    "claude-sonnet-4-5": (
        "claude-sonnet-4-5-20250929",
        {"x-litellm-model-name": "anthropic/claude-sonnet-4-5"},
    ),
    "coder-fast": (
        "coder-fast",
        {"x-litellm-model-name": CATCH_ALL_UPSTREAM, "x-litellm-attempted-fallbacks": "1"},
    ),
}


class DemoGateway(BaseHTTPRequestHandler):
    server_version = "demo-gateway"

    def log_message(self, format: str, *args: Any) -> None:  # keep the demo's output clean
        return

    def _send(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in BEHAVIOUR]})
        else:
            self._send(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
            return
        if not self.path.endswith("/chat/completions"):
            self._send(404, {"error": {"message": "not found", "type": "not_found"}})
            return
        requested = str(request.get("model", ""))
        # The drift this demo shows: unknown IDs fall through to a catch-all deployment.
        model, headers = BEHAVIOUR.get(requested, (requested, {"x-litellm-model-name": CATCH_ALL_UPSTREAM}))
        self._send(
            200,
            {
                "id": "chatcmpl-demo",
                "object": "chat.completion",
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}
                ],
            },
            headers,
        )


@contextmanager
def demo_gateway() -> Iterator[str]:
    """Serve the demo gateway on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), DemoGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def run_demo(output: Output) -> int:
    """The check against the demo gateway, through the same `app.execute` as the CLI and the action."""
    from routing_guard import app
    from routing_guard.check import CheckOptions

    folder = Path(tempfile.mkdtemp(prefix="routing-guard-demo-"))
    routing_file = folder / "model-routing.yml"
    summary = folder / "summary.md"
    with demo_gateway() as base_url:
        routing_file.write_text(DEMO_ROUTING.format(base_url=base_url), encoding="utf-8")
        output.print(f"Demo gateway on {base_url} (loopback, no key); routing file {routing_file}\n")
        request = app.CheckRequest(
            routing=app.RoutingFile(str(routing_file)), options=CheckOptions(retries=0), summary=summary
        )
        code = app.execute(request, app.Secrets(), output).exit_code
    output.print(
        "\nWhat you see: code-generation passes; test-repair passes as a dated snapshot; ci-triage fails "
        "as fallback_detected (the body names coder-fast, the headers show a fallback served it); the "
        "error path fails as silent_fallback (a catch-all answered a bogus model ID with 200)."
    )
    output.print(f"The check exited {code}. Markdown job summary written to {summary}")
    return 0 if code in (0, 1) else code
