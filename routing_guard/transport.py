"""How a run reaches the gateway: which proxy (if any) and which certificates TLS trusts.

routing-guard reads the environment itself instead of httpx's `trust_env`, because httpx ignores
CIDR entries in NO_PROXY (`127.0.0.0/8`, `::1/128`), would hand a plain-http request carrying the
key to a proxy on another host, and reports a broken SSL_CERT_FILE as a bare OSError. Every
request of a run goes to one base URL, so the decision is made once, before anything is sent.
See docs/proxies-and-certificates.md.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import httpx

from routing_guard.files import FileProblem, read_capped

CA_ENV = "ROUTING_GUARD_CA_CERTIFICATES"
MAX_CA_BYTES = 16 * 1024 * 1024
PEM_MARKER = b"-----BEGIN CERTIFICATE-----"


class TransportError(Exception):
    """A proxy or certificate setting that cannot be used: a configuration error (exit 2)."""


@dataclass(frozen=True)
class CaSource:
    """A CA file and where its name came from: `--ca-certificates`, an env var, an action input."""

    path: str
    origin: str


@dataclass(frozen=True)
class Connection:
    verify: ssl.SSLContext
    proxy: httpx.Proxy | None = None
    proxy_shown: str = ""  # "http://proxy.corp:3128 (from HTTPS_PROXY)", never credentials
    trust: str = ""  # what TLS trusts, for hints


def is_loopback(host: str) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def _env(environ: Mapping[str, str], name: str) -> tuple[str, str]:
    """The value of a proxy variable, lower-case spelling first (as curl and urllib read them)."""
    for variable in (name.lower(), name.upper()):
        value = environ.get(variable, "").strip()
        if value:
            return value, variable
    return "", ""


def bypasses_proxy(url: str, no_proxy: str) -> bool:
    """NO_PROXY as curl reads it, plus CIDR blocks: `*`, host names (`example.com` also covers its
    subdomains, a leading `.` or `*.` is the same), `host:port`, IP addresses and networks."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_port: int | None = None
        if entry.startswith("["):  # [::1] or [::1]:8080
            entry, _, rest = entry[1:].partition("]")
            entry_port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
        elif entry.count(":") == 1:  # host:port or 10.0.0.1:8080 (a bare IPv6 has more colons)
            name, _, maybe_port = entry.partition(":")
            if maybe_port.isdigit():
                entry, entry_port = name, int(maybe_port)
        if entry_port is not None and entry_port != port:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            network = None
        if network is not None:
            if address is not None and address.version == network.version and address in network:
                return True
            continue
        name = entry.removeprefix("*").removeprefix(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _shown(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port else ""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}{port}"


def choose_proxy(base_url: str, environ: Mapping[str, str]) -> tuple[httpx.URL, str] | None:
    """The proxy to use for this gateway and the variable that named it, or None: go direct."""
    parts = urlsplit(base_url)
    if is_loopback(parts.hostname or ""):
        return None  # a loopback gateway is on this machine: a proxy could only add a leak
    value, variable = _env(environ, f"{parts.scheme}_proxy")
    if not value:
        value, variable = _env(environ, "all_proxy")
    if not value:
        return None
    no_proxy, _ = _env(environ, "no_proxy")
    if bypasses_proxy(base_url, no_proxy):
        return None
    if "://" not in value:
        value = "http://" + value  # `proxy:3128`, as curl reads it
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise TransportError(f"{variable}: not a valid proxy URL; write it as http://HOST:PORT") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise TransportError(
            f"{variable}: {url.scheme}:// proxies are not supported; use an http:// or https:// proxy URL"
        )
    return url, variable


def read_pem(source: CaSource) -> str:
    """The PEM text of a CA file, checked; TransportError naming the origin and the path."""
    where = f"{source.origin}: {source.path}"
    try:
        data = read_capped(source.path, MAX_CA_BYTES)
    except FileProblem as problem:
        hint = ""
        if "directory" in str(problem) and source.origin == "SSL_CERT_FILE":
            hint = " (SSL_CERT_FILE names a PEM file; SSL_CERT_DIR names a directory)"
        raise TransportError(f"{where}: {problem}{hint}") from None
    if PEM_MARKER not in data:
        raise TransportError(
            f"{where}: holds no PEM certificate (no '-----BEGIN CERTIFICATE-----' line); "
            "a DER file converts with `openssl x509 -inform der -in FILE -out FILE.pem`"
        )
    text = data.decode("ascii", "replace")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=text)
    except ssl.SSLError as exc:
        reason = str(exc.reason or "unknown reason").lower().replace("_", " ")
        raise TransportError(f"{where}: a certificate in it cannot be read ({reason})") from None
    return text


def ca_sources(environ: Mapping[str, str], ca_file: str | None, ca_origin: str) -> list[CaSource]:
    """The CA files of a run, in order: SSL_CERT_FILE (replaces the public CAs), then the extra one."""
    sources = []
    if cert_file := environ.get("SSL_CERT_FILE", "").strip():
        sources.append(CaSource(cert_file, "SSL_CERT_FILE"))
    extra = ca_file or environ.get(CA_ENV, "").strip()
    if extra:
        sources.append(CaSource(extra, ca_origin if ca_file else CA_ENV))
    return sources


def tls_context(environ: Mapping[str, str], sources: list[CaSource]) -> tuple[ssl.SSLContext, str]:
    """A verifying context: the public CAs (or SSL_CERT_FILE instead), SSL_CERT_DIR, the extra CAs."""
    trusted = []
    if any(s.origin == "SSL_CERT_FILE" for s in sources):
        context = ssl.create_default_context(cadata=read_pem(sources[0]))
        trusted.append(f"{sources[0].path} (SSL_CERT_FILE)")
        sources = sources[1:]
    else:  # as httpx does; never OpenSSL's default paths, which read a broken SSL_CERT_* silently
        context = ssl.create_default_context(cafile=certifi.where())
        trusted.append("the public CAs (certifi)")
    if cert_dir := environ.get("SSL_CERT_DIR", "").strip():
        if not os.path.isdir(cert_dir):
            raise TransportError(f"SSL_CERT_DIR: {cert_dir}: is not a directory")
        context.load_verify_locations(capath=cert_dir)
        trusted.append(f"{cert_dir} (SSL_CERT_DIR)")
    for source in sources:
        context.load_verify_locations(cadata=read_pem(source))
        trusted.append(f"{source.path} ({source.origin})")
    return context, ", ".join(trusted)


def connect(
    base_url: str,
    environ: Mapping[str, str],
    *,
    sends_secret: bool,
    ca_file: str | None = None,
    ca_origin: str = "--ca-certificates",
) -> Connection:
    """Decide the proxy and the TLS trust for a run; TransportError for a setting that cannot work."""
    sources = ca_sources(environ, ca_file, ca_origin)
    for source in sources:
        if source.origin != "SSL_CERT_FILE":
            read_pem(source)  # named for routing-guard: wrong even where this run needs no TLS
    chosen = choose_proxy(base_url, environ)
    scheme = urlsplit(base_url).scheme
    proxy_url, variable = chosen if chosen else (None, "")
    shown = f"{_shown(proxy_url)} (from {variable})" if proxy_url else ""
    if proxy_url is not None and scheme == "http" and sends_secret and not is_loopback(proxy_url.host):
        raise TransportError(
            f"the gateway URL is plain http://, so the proxy {shown} would receive the API key in "
            "clear text; use an https:// gateway URL (the proxy then only tunnels TLS), or add the "
            "gateway's host to NO_PROXY to reach it directly"
        )
    if scheme == "https" or (proxy_url is not None and proxy_url.scheme == "https"):
        context, trust = tls_context(environ, sources)
    else:
        # Loading the CA store costs ~20 ms and nothing here needs it (no redirects are followed);
        # an empty context fails closed should https ever be asked for.
        context, trust = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), ""
    proxy = None
    if proxy_url is not None:  # the TLS context is for the hop to the proxy, only an https:// one has it
        proxy = httpx.Proxy(proxy_url, ssl_context=context if proxy_url.scheme == "https" else None)
    return Connection(verify=context, proxy=proxy, proxy_shown=shown, trust=trust)
