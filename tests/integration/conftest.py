"""Fixtures of the integration tests: the real Portkey gateway and its loopback upstream."""

from tests.support.portkey_gateway import (  # noqa: F401  (fixtures, found by name)
    _upstream_server,
    portkey,
    upstream,
)
