"""Fixtures of the integration tests: the real Portkey gateway and its loopback upstream, the real
llama.cpp server."""

from tests.support.llama_server import llama  # noqa: F401  (a fixture, found by name)
from tests.support.portkey_gateway import (  # noqa: F401  (fixtures, found by name)
    _upstream_server,
    portkey,
    upstream,
)
