"""Loopback gateways for the runner layer (pytest-httpserver), with what each request asked for.

Shapes follow the OpenAI chat-completions answers recorded in tests/test_gateways.py: a dated
snapshot for an alias, `model_not_found` 404 for an unknown ID, and a catch-all that answers any ID.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.gateway_fixtures import chat_completion, json_response

KEY = "sk-act-Vb7Qm2Xk9Lp4Rt6Wz3Hn"  # no 8-character piece of it occurs in any fixture text


def not_found(model: str) -> Response:
    return json_response(
        {
            "error": {
                "message": f"The model `{model}` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            }
        },
        status=404,
    )


def unauthorized() -> Response:
    return json_response(
        {"error": {"message": "Incorrect API key provided.", "code": "invalid_api_key"}}, 401
    )


def serve(
    server: HTTPServer,
    served: Mapping[str, str],
    *,
    catch_all: str | None = None,
    key: str = KEY,
    listing: bool = False,
) -> list[str]:
    """Answer chat completions for `served` (requested ID -> ID the answer names).

    Any other ID gets a 404 model_not_found, or with `catch_all` a 200 naming that model. The
    answer needs `Authorization: Bearer <key>`. Returns the list of requested model IDs, filled
    as requests arrive. `listing` also serves GET /v1/models.
    """
    requested: list[str] = []

    def chat(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {key}":
            return unauthorized()
        model = str(json.loads(request.get_data(as_text=True)).get("model"))
        requested.append(model)
        if model in served:
            return json_response(chat_completion(served[model]))
        if catch_all is not None:
            return json_response(chat_completion(catch_all))
        return not_found(model)

    server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(chat)
    if listing:
        models = [{"id": model, "object": "model", "owned_by": "openai"} for model in served]
        server.expect_request("/v1/models", method="GET").respond_with_json(
            {"object": "list", "data": models}
        )
    return requested


def outage(server: HTTPServer) -> None:
    """Every request: 503, as a gateway whose upstreams are all down."""
    server.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "upstream unavailable", "type": "server_error"}}, status=503
    )


def url(server: HTTPServer) -> str:
    return f"http://127.0.0.1:{server.port}/v1"
