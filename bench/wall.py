"""Wall time to verdict: `routing-guard check` at several concurrencies against the naive curl loop,
over HTTP and HTTPS."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_CONCURRENCY, GOAL_ROUTES, OUTPUT_BUDGET, fmt_ms, median, timed, write_routing
from gateway import INVALID_MODEL, Arrival, FakeGateway


def naive_body(model: str) -> str:
    return json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": OUTPUT_BUDGET}
    )


def write_naive(path: Path, base_url: str, n: int, curl: str | None) -> None:
    """The shell step a team would write without routing-guard: one request per route, in sequence."""
    url = base_url + "/chat/completions"
    models = [f"bench-model-{i:03d}" for i in range(n)] + [INVALID_MODEL]
    if curl:
        lines = ["#!/usr/bin/env bash", "set -u"]
        for model in models:
            lines.append(
                f"curl -sS -o /dev/null -w '%{{http_code}}\\n' -X POST -H 'content-type: application/json' "
                '-H "authorization: Bearer $ROUTING_GUARD_API_KEY" '
                f"--data {shlex.quote(naive_body(model))} {shlex.quote(url)}"
            )
    else:
        lines = [
            "import http.client, json, os",
            "from urllib.parse import urlsplit",
            f"u = urlsplit({url!r})",
            f"for model in {models!r}:",
            "    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)",
            "    body = json.dumps({'model': model, 'messages': [{'role': 'user', 'content': 'ping'}],"
            f" 'max_tokens': {OUTPUT_BUDGET}}})",
            "    c.request('POST', u.path, body, {'content-type': 'application/json',"
            " 'authorization': 'Bearer ' + os.environ['ROUTING_GUARD_API_KEY']})",
            "    r = c.getresponse(); r.read(); print(r.status); c.close()",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def first_after(spawn: float, arrivals: list[Arrival], until: float = float("inf")) -> float:
    """Seconds from a wall-clock spawn to the first arrival in [spawn, until); nan when none."""
    walls = [a.wall for a in arrivals if spawn <= a.wall < until]
    return min(walls) - spawn if walls else float("nan")


@dataclass
class CheckRun:
    wall: float
    first_request: float  # seconds from spawn to the first request's arrival at the gateway
    last_request: float  # seconds from spawn to the last request's arrival
    tail: float  # seconds from the last response written to the process's exit
    gateway_requests: int
    connections: int
    report_requests: int | None
    report_tokens: int | None
    exit_code: int


@dataclass
class Size:
    n: int
    naive: list[float] = field(default_factory=list)
    naive_requests: int = 0
    checks: dict[int, list[CheckRun]] = field(default_factory=dict)  # concurrency -> runs

    def wall(self, concurrency: int) -> float:
        return median([r.wall for r in self.checks[concurrency]])


def run_check(
    cli: list[str],
    routing: Path,
    report: Path,
    concurrency: int | None,
    gateway: FakeGateway,
    env: dict[str, str],
) -> CheckRun:
    argv = [*cli, "check", "--routing-file", str(routing), "--report", str(report)]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    report.unlink(missing_ok=True)
    gateway.reset()
    spawn = time.monotonic()
    wall, proc = timed(argv, env)
    exited = time.monotonic()
    arrivals, connections = gateway.snapshot()
    answered = [a.answered for a in arrivals if a.answered == a.answered]
    doc = json.loads(report.read_text("utf-8")) if report.is_file() else {}
    if proc.returncode != 0:
        print(f"  ! check exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-500:]}")
    return CheckRun(
        wall=wall,
        first_request=min(a.at for a in arrivals) - spawn if arrivals else float("nan"),
        last_request=max(a.at for a in arrivals) - spawn if arrivals else float("nan"),
        tail=exited - max(answered) if answered else float("nan"),
        gateway_requests=len(arrivals),
        connections=connections,
        report_requests=doc.get("requests"),
        report_tokens=doc.get("requested_tokens"),
        exit_code=proc.returncode,
    )


def run_naive(script: Path, curl: str | None, gateway: FakeGateway, env: dict[str, str]) -> tuple[float, int]:
    gateway.reset()
    argv = ["bash", str(script)] if curl else [sys.executable, str(script)]
    wall, proc = timed(argv, env)
    if proc.returncode != 0:
        print(f"  ! naive step exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return wall, len(gateway.snapshot()[0])


def curl_round_trip(
    curl: str | None, base_url: str, env: dict[str, str], times: int
) -> tuple[list[float], list[float]]:
    """(time_total as curl measures it, wall time of the curl process) for one probe request."""
    totals: list[float] = []
    walls: list[float] = []
    for _ in range(times):
        if curl:
            argv = [
                curl,
                "-sS",
                "-o",
                os.devnull,
                "-w",
                "%{time_total}",
                "-X",
                "POST",
                "-H",
                "content-type: application/json",
                "--data",
                naive_body("bench-model-000"),
                base_url + "/chat/completions",
            ]
            wall, proc = timed(argv, env, timeout=60)
            totals.append(float(proc.stdout.strip() or "nan"))
            walls.append(wall)
        else:
            import http.client
            from urllib.parse import urlsplit

            u = urlsplit(base_url)
            start = time.perf_counter()
            conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=60)
            conn.request(
                "POST",
                u.path + "/chat/completions",
                naive_body("bench-model-000"),
                {"content-type": "application/json"},
            )
            conn.getresponse().read()
            conn.close()
            totals.append(time.perf_counter() - start)
            walls.append(totals[-1])
    return totals, walls


def make_tls(work: Path) -> tuple[Path, ssl.SSLContext] | None:
    """A throwaway self-signed P-256 certificate for 127.0.0.1 and a server context; None without openssl."""
    openssl = shutil.which("openssl")
    if not openssl:
        return None
    cert, key = work / "tls-cert.pem", work / "tls-key.pem"
    argv = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    argv += ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"]
    argv += ["-addext", "subjectAltName=IP:127.0.0.1"]
    if subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False).returncode != 0:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    return cert, context


def tls_section(
    cli: list[str], work: Path, env: dict[str, str], delay: float, repeat: int, plain: Size | None
) -> None:
    tls = make_tls(work)
    if tls is None:
        print("openssl not found or failed: HTTPS not measured.\n")
        return
    cert, context = tls
    n = GOAL_ROUTES
    tls_env = {**env, "SSL_CERT_FILE": str(cert)}
    with FakeGateway(delay=delay, tls=context) as gateway:
        routing = work / f"routes-tls-{n}.yml"
        write_routing(routing, gateway.base_url, n)
        runs: dict[int, list[CheckRun]] = {}
        for _ in range(repeat):
            for c in (DEFAULT_CONCURRENCY, n + 1):
                conc = None if c == DEFAULT_CONCURRENCY else c
                runs.setdefault(c, []).append(
                    run_check(cli, routing, work / "report.json", conc, gateway, tls_env)
                )
    print(
        f"Same gateway over HTTPS (TLS, HTTP/1.1 only: the fake gateway offers no h2), {n} routes, "
        "self-signed P-256 certificate trusted through SSL_CERT_FILE (so the client loads 1 CA, not "
        "certifi's ~140: that cost is in the isolated costs table). Median of "
        f"{repeat}:\n"
    )
    print(
        "| concurrency | http: wall | https: wall | http: first request | https: first request "
        "| https: connections (= TLS handshakes) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for c, tls_runs in runs.items():
        plain_runs = plain.checks.get(c, []) if plain else []
        print(
            f"| {c} | {fmt_ms(median([r.wall for r in plain_runs]))} "
            f"| {fmt_ms(median([r.wall for r in tls_runs]))} "
            f"| {fmt_ms(median([r.first_request for r in plain_runs]))} "
            f"| {fmt_ms(median([r.first_request for r in tls_runs]))} | {tls_runs[-1].connections} |"
        )
    bad = sum(r.exit_code != 0 for rs in runs.values() for r in rs)
    print(f"\nnon-zero exits over HTTPS: {bad}\n")
