"""An OpenAI-compatible gateway as a plain ASGI app, for a real HTTP/2 server (hypercorn) over TLS.

Every model is served by itself; the invalid-model ID gets OpenAI's 404. Each request is recorded,
one JSON line in $H2_GATEWAY_RECORD, with the HTTP version and the client's address and port: the
port tells which connection carried it.

    python -m hypercorn tests.support.h2_gateway:app --certfile C --keyfile K --bind 127.0.0.1:PORT
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

INVALID_MODEL = "routing-guard-invalid-model-id"

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    model = json.loads(body).get("model") if body else None
    with open(os.environ["H2_GATEWAY_RECORD"], "a", encoding="utf-8") as record:
        line = {"http_version": scope["http_version"], "client": scope["client"], "path": scope["path"]}
        record.write(json.dumps({**line, "model": model}) + "\n")
    if scope["path"] == "/ready":
        status, answer = 200, {"ready": True}
    elif model == INVALID_MODEL:
        message = f"The model `{model}` does not exist or you do not have access to it."
        status, answer = 404, {"error": {"message": message, "type": "invalid_request_error"}}
    else:
        status = 200
        answer = {
            "id": "chatcmpl-h2",
            "object": "chat.completion",
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "OK"}, "finish_reason": "stop"}
            ],
        }
    payload = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
