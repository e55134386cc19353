"""Proxy choice from the environment: NO_PROXY as curl reads it plus CIDR, loopback always direct."""

from __future__ import annotations

import pytest

from routing_guard.credentials import proxy_passwords
from routing_guard.transport import TransportError, bypasses_proxy, choose_proxy, connect

PROXY = {"HTTPS_PROXY": "http://proxy.corp:3128", "HTTP_PROXY": "http://proxy.corp:3128"}


@pytest.mark.parametrize(
    ("url", "no_proxy", "bypass"),
    [
        ("https://10.1.2.3/v1", "10.0.0.0/8", True),
        ("https://10.1.2.3/v1", "192.168.0.0/16, 10.1.0.0/16", True),
        ("https://11.1.2.3/v1", "10.0.0.0/8", False),
        ("https://[fd00::5]/v1", "fd00::/8", True),
        ("https://[fd00::5]/v1", "[fd00::5]", True),
        ("https://[fd00::5]:8443/v1", "[fd00::5]:443", False),
        ("https://10.1.2.3/v1", "10.1.2.3", True),
        ("https://10.1.2.3:8443/v1", "10.1.2.3:8443", True),
        ("https://10.1.2.3:8443/v1", "10.1.2.3:443", False),
        ("https://gw.corp.example/v1", "corp.example", True),
        ("https://gw.corp.example/v1", ".corp.example", True),
        ("https://gw.corp.example/v1", "*.corp.example", True),
        ("https://gw.corp.example/v1", "orp.example", False),
        ("https://gw.corp.example/v1", "*", True),
        ("https://gw.corp.example/v1", "", False),
        ("https://gw.corp.example:8443/v1", "gw.corp.example:8443", True),
        ("https://gw.corp.example/v1", "10.0.0.0/8", False),  # CIDR never matches a name
    ],
)
def test_no_proxy(url: str, no_proxy: str, bypass: bool) -> None:
    assert bypasses_proxy(url, no_proxy) is bypass


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:4000/v1", "http://[::1]:4000/v1", "http://localhost/v1", "http://127.9.9.9/v1"]
)
def test_loopback_is_always_direct(url: str) -> None:
    assert choose_proxy(url, {**PROXY, "ALL_PROXY": "http://proxy.corp:3128"}) is None


def test_lower_case_variable_wins_and_all_proxy_is_the_fallback() -> None:
    chosen = choose_proxy("https://gw.example/v1", {"https_proxy": "http://a:1", "HTTPS_PROXY": "http://b:2"})
    assert chosen is not None and chosen[0].host == "a" and chosen[1] == "https_proxy"
    chosen = choose_proxy("https://gw.example/v1", {"ALL_PROXY": "proxy.corp:3128"})
    assert chosen is not None and str(chosen[0]) == "http://proxy.corp:3128" and chosen[1] == "ALL_PROXY"


def test_unsupported_proxy_scheme_is_a_configuration_error() -> None:
    with pytest.raises(TransportError, match="HTTPS_PROXY: socks5:// proxies are not supported"):
        choose_proxy("https://gw.example/v1", {"HTTPS_PROXY": "socks5://proxy:1080"})


def test_plain_http_to_a_remote_proxy_only_without_a_secret() -> None:
    with pytest.raises(TransportError, match="clear text"):
        connect("http://gw.example/v1", PROXY, sends_secret=True)
    assert connect("http://gw.example/v1", PROXY, sends_secret=False).proxy is not None
    assert connect("https://gw.example/v1", PROXY, sends_secret=True).proxy is not None
    assert connect("http://gw.example/v1", {"HTTP_PROXY": "http://127.0.0.1:3128"}, sends_secret=True).proxy


def test_proxy_passwords_are_secrets() -> None:
    env = {"https_proxy": "http://me:s3cret-pass@proxy:3128", "HTTP_PROXY": "http://proxy:3128"}
    assert proxy_passwords(env) == ["s3cret-pass"]
