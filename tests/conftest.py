"""Fixtures shared by every test folder.

Layout: unit/ (pure functions, no server), integration/ (the CLI against pytest-httpserver gateway
fixtures, raw fault servers and the real LiteLLM proxy), action/ (the action in process),
container/ (the action image under podman), runner/ (the action under a real runner). Helper
modules live in support/; data in routing_files/ and gateways/.

The LiteLLM proxies are session fixtures here, at the root, so the integration, action and
container tests share one proxy per config; each starts only when a test asks for it.
"""

from tests.support.litellm_proxy import (  # noqa: F401  (fixtures, found by name)
    litellm_catch_all,
    litellm_fallback,
    litellm_gateway,
    litellm_healthy,
    litellm_passthrough,
    litellm_pool,
)
