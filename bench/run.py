"""routing-guard benchmark: wall time to verdict, start-up, import costs and image size. Run by hand.

    python bench/run.py [--delay 0.3] [--sizes 1,8,24,100] [--repeat 3] [--no-image-run]

Starts a fake OpenAI-compatible gateway on 127.0.0.1 (bench/gateway.py: asyncio, HTTP/1.1
keep-alive, a fixed delay per request, counts what it receives) and, for each N routes, times:
- `routing-guard check` as a subprocess (the real console script), with the default concurrency,
  with `--concurrency N` and with `--concurrency N+1` (N routes + 1 error-path request);
- the naive shell step: one `curl` per route plus one for the invalid model, in sequence;
- the floor: interpreter start (`python -c pass`) + one request's round trip (curl's time_total).
It also times `--version`, `validate` and the first request's arrival after the spawn, breaks the
latter down (bench/phases.py), prints `-X importtime`'s top costs, and, when podman and the action
image exist, the image's size and the same start-up figures inside it (bench/in_image.py, with
--network=host so the container reaches the loopback gateway). The Markdown tables can be pasted
into a README. Nothing outside loopback is contacted; the gateway stops with the script.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import INVALID_MODEL, Arrival, FakeGateway

HERE = Path(__file__).resolve().parent
DEFAULT_CONCURRENCY = 8
OUTPUT_BUDGET = 16
KEY = "bench-not-a-secret-key"
GOAL_ROUTES = 24
GOAL_RATIO = 1.5
GOAL_FIRST_REQUEST_MS = 150.0
GOAL_IMAGE_MB = 80.0
# Imported alone in a fresh interpreter: what each dependency costs before anything else is loaded.
# Each step runs in a fresh interpreter after `setup` (untimed); what `step` costs is printed.
# "hidden" steps make a module unimportable first (sys.modules[name] = None), as if not installed.
COST_PROBES: tuple[tuple[str, str, str], ...] = (
    ("import yaml", "", "import yaml"),
    ("import jsonschema", "", "import jsonschema"),
    ("import pydantic", "", "import pydantic"),
    (
        "routing_guard.config (3 pydantic models) after pydantic",
        "import pydantic",
        "import routing_guard.config",
    ),
    ("import routing_guard.routing (yaml + jsonschema + config)", "", "import routing_guard.routing"),
    ("import routing_guard.cli", "", "import routing_guard.cli"),
    ("import asyncio", "", "import asyncio"),
    ("import ssl", "", "import ssl"),
    ("import httpx (httpcore is imported lazily)", "", "import httpx"),
    ("import httpcore after httpx", "import httpx", "import httpcore"),
    (
        "import httpcore after httpx, trio hidden",
        "import sys, httpx; sys.modules['trio'] = None",
        "import httpcore",
    ),
    (
        "import httpcore after httpx, trio and h2 hidden",
        "import sys, httpx; sys.modules['trio'] = sys.modules['h2'] = None",
        "import httpcore",
    ),
    ("import h2.connection (HTTP/2 stack)", "", "import h2.connection"),
    ("import anyio", "", "import anyio"),
    ("import routing_guard.check", "", "import routing_guard.check"),
    ("httpx.create_ssl_context() (certifi bundle)", "import httpx", "httpx.create_ssl_context()"),
    (
        "ssl.SSLContext(PROTOCOL_TLS_CLIENT), no CA loaded",
        "import ssl",
        "ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)",
    ),
    (
        "httpx.AsyncClient(http2=True) after imports",
        "import httpx, httpcore, h2",
        "httpx.AsyncClient(http2=True)",
    ),
    (
        "load_config(24 routes) after imports, cold",
        "import sys, routing_guard.routing; from routing_guard.cli import load_config; f = sys.argv[1]",
        "load_config(f)",
    ),
)
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)\s*$")
ImportRow = tuple[int, int, int, str]  # self us, cumulative us, depth, module
Proc = subprocess.CompletedProcess[str]


# --- small helpers ---------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_s(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds:.2f} s"


def fmt_ms(seconds: float) -> str:
    if seconds != seconds:
        return "n/a"
    return f"{seconds * 1000:.1f} ms" if seconds < 0.01 else f"{seconds * 1000:.0f} ms"


def spread(values: list[float]) -> str:
    values = [v for v in values if v == v]
    if not values:
        return "n/a"
    low, mid, high = (v * 1000 for v in (min(values), median(values), max(values)))
    return f"median {mid:.0f} ms (min {low:.0f}, max {high:.0f}, n={len(values)})"


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["ROUTING_GUARD_API_KEY"] = KEY
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("ROUTING_GUARD_DEBUG", None)
    no_proxy = ",".join(p for p in (env.get("NO_PROXY", ""), "127.0.0.1,localhost") if p)
    env["NO_PROXY"] = env["no_proxy"] = no_proxy
    return env


def timed(argv: list[str], env: dict[str, str], timeout: float = 600) -> tuple[float, Proc]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return time.perf_counter() - start, proc


def repeat_wall(argv: list[str], env: dict[str, str], times: int) -> tuple[list[float], Proc]:
    walls: list[float] = []
    proc: Proc | None = None
    for _ in range(times):
        wall, proc = timed(argv, env, timeout=120)
        walls.append(wall)
    assert proc is not None
    return walls, proc


def find_cli() -> tuple[list[str], str]:
    """The console script of the interpreter running this bench (not a shim in front of it)."""
    own = Path(sys.executable).with_name("routing-guard")
    on_path = shutil.which("routing-guard")
    if own.is_file():
        note = ""
        if on_path and Path(on_path).resolve() != own.resolve():
            note = (
                "the `routing-guard` on PATH is another file (e.g. a pyenv shim, which adds its own "
                "start-up); measured the interpreter's console script instead"
            )
        return [str(own)], note
    if on_path:
        return [on_path], ""
    return [sys.executable, "-m", "routing_guard"], "no console script: measured `python -m routing_guard`"


def write_routing(path: Path, base_url: str, n: int) -> None:
    lines = [
        "version: 1",
        "gateway:",
        f"  base_url: {base_url}",
        "  api: openai-chat",
        "  auth: bearer",
        f"  invalid_model: {INVALID_MODEL}",
        "routes:",
    ]
    for i in range(n):
        lines += [f"  route-{i:03d}:", f"    model: bench-model-{i:03d}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


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


# --- measurements ---------------------------------------------------------------------------------


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


def isolated_costs(env: dict[str, str], times: int, routing_file: Path) -> None:
    print(
        "Each step timed in a fresh interpreter, after an untimed setup (an import includes the "
        f"dependencies it pulls in that are not yet loaded); {times} runs:\n"
    )
    print("| step | min | median |")
    print("|---|---:|---:|")
    for label, setup, step in COST_PROBES:
        code = f"{setup}\nimport time\nt = time.perf_counter()\n{step}\nprint(time.perf_counter() - t)"
        values: list[float] = []
        for _ in range(times):
            proc = subprocess.run(
                [sys.executable, "-c", code, str(routing_file)],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if proc.returncode != 0:
                break
            values.append(float(proc.stdout.strip().splitlines()[-1]))
        shown = f"{fmt_ms(min(values))} | {fmt_ms(median(values))}" if values else "failed | "
        print(f"| {label} | {shown} |")
    print()


def parse_importtime(lines: list[str]) -> list[ImportRow]:
    rows = []
    for line in lines:
        match = IMPORT_LINE.match(line)
        if match:
            depth = (len(match.group(3)) - 1) // 2
            rows.append((int(match.group(1)), int(match.group(2)), depth, match.group(4)))
    return rows


def importtime(argv: list[str], env: dict[str, str]) -> tuple[list[ImportRow], int]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "routing_guard", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return parse_importtime(proc.stderr.splitlines()), proc.returncode


def print_importtime(title: str, rows: list[ImportRow]) -> set[str]:
    top_level = sum(cum for _, cum, depth, _ in rows if depth == 0)
    print(
        f"### `{title}`: {len(rows)} modules, {top_level / 1000:.1f} ms of imports "
        "(sum of top-level cumulative times; -X importtime itself inflates them)\n"
    )
    print("Top 10 cumulative:\n")
    print("| # | cumulative | self | module (indent = nesting) |")
    print("|---:|---:|---:|---|")
    for i, (self_us, cum, depth, name) in enumerate(sorted(rows, key=lambda r: -r[1])[:10], 1):
        print(f"| {i} | {cum / 1000:.1f} ms | {self_us / 1000:.1f} ms | {'. ' * depth}`{name}` |")
    by_package: dict[str, int] = {}
    for self_us, _, _, name in rows:
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0) + self_us
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:12]
    print(
        "\nSelf time summed per top-level package: "
        + ", ".join(f"{name} {us / 1000:.1f} ms" for name, us in ranked)
    )
    modules = {name for _, _, _, name in rows}
    print(
        f"\nhttpx imported: {'YES' if 'httpx' in modules else 'no'}; "
        f"jsonschema: {'YES' if 'jsonschema' in modules else 'no'}; "
        f"pydantic: {'YES' if 'pydantic' in modules else 'no'}\n"
    )
    return modules


def print_phases(phases: dict[str, Any], first_request: float) -> None:
    print("| checkpoint (ms since spawn) | at | step |")
    print("|---|---:|---:|")
    marks = sorted(phases["checkpoints_ms"].items(), key=lambda item: item[1])
    if first_request == first_request:
        marks.append(("first request at the gateway", first_request * 1000))
        marks.sort(key=lambda item: item[1])
    previous = 0.0
    for name, at in marks:
        print(f"| {name} | {at:.1f} | +{at - previous:.1f} |")
        previous = at
    print(
        "\nisolated costs, warm (ms): "
        + ", ".join(f"{name} {value}" for name, value in phases["isolated_ms"].items())
    )
    print()


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


# --- podman ----------------------------------------------------------------------------------------


def podman_cmd() -> tuple[list[str], dict[str, str]] | None:
    podman = shutil.which("podman")
    if not podman:
        return None
    cache = os.environ.get("ROUTING_GUARD_CONTAINER_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "routing-guard-container"
    )
    env = dict(os.environ)
    conf = Path(cache) / "containers.conf"
    if conf.is_file():
        env["CONTAINERS_CONF"] = str(conf)
    return [podman, "--runtime", "runc", "--storage-driver=vfs"], env


def image_facts(image: str, base: str) -> bool:
    """Print the image's size and layers; False when podman or the image is missing."""
    found = podman_cmd()
    if found is None:
        print("podman is not installed: image size not measured.")
        return False
    cmd, env = found

    def podman(*args: str) -> Proc:
        return subprocess.run(
            [*cmd, *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    def inspect(name: str) -> dict[str, Any] | None:
        proc = podman("image", "inspect", name)
        return dict(json.loads(proc.stdout)[0]) if proc.returncode == 0 else None

    def history(name: str) -> list[dict[str, Any]]:
        proc = podman("image", "history", "--format", "json", name)
        return list(json.loads(proc.stdout)) if proc.returncode == 0 and proc.stdout.strip() else []

    info = inspect(image)
    if info is None:
        listed = podman("images", "--format", "{{.Repository}}:{{.Tag}}")
        others = [t for t in listed.stdout.split() if "routing-guard" in t]
        print(
            f"image {image} does not exist (the container tests build it after "
            f"scripts/container-setup.sh); routing-guard images present: {', '.join(others) or 'none'}"
        )
        return False
    size = int(info["Size"])
    layers = len(info["RootFS"]["Layers"])
    print(f"- image {image}: {size / 1e6:.1f} MB, {layers} layers")
    base_info = inspect(base)
    if base_info is None:
        print(f"- base image {base} not found: size above base unknown")
        return True
    base_size = int(base_info["Size"])
    base_layers = len(base_info["RootFS"]["Layers"])
    above = (size - base_size) / 1e6
    print(f"- base image {base}: {base_size / 1e6:.1f} MB, {base_layers} layers")
    print(
        f"- above base: {above:.1f} MB in {layers - base_layers} layers "
        f"(goal < {GOAL_IMAGE_MB:.0f} MB: {met(above < GOAL_IMAGE_MB)})\n"
    )
    own = history(image)
    added = len(own) - len(history(base))
    if added > 0:
        print("| size | step (image history, newest first) |")
        print("|---:|---|")
        for entry in own[:added]:
            created_by = " ".join(str(entry.get("CreatedBy") or entry.get("created_by") or "").split())
            created_by = created_by.removeprefix("/bin/sh -c ").replace("|", "\\|")
            print(
                f"| {int(entry.get('Size') or entry.get('size') or 0) / 1e6:.1f} MB | `{created_by[:96]}` |"
            )
        print()
    return True


def image_startup(image: str, work: Path, gateway: FakeGateway, times: int) -> dict[str, Any] | None:
    """bench/in_image.py inside the image, on the host's network namespace (loopback gateway)."""
    found = podman_cmd()
    assert found is not None
    cmd, env = found
    gateway.reset()
    argv = [
        *cmd,
        "run",
        "--rm",
        "--network=host",
        "-v",
        f"{HERE}:/bench:ro",
        "-v",
        f"{work}:/work",
        "--entrypoint",
        "/opt/routing-guard/bin/python",
        image,
        "/bench/in_image.py",
        str(GOAL_ROUTES),
        str(times),
    ]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        print(f"in-image run failed (podman exited {proc.returncode}): {proc.stderr.strip()[-600:]}")
        return None
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    arrivals, _ = gateway.snapshot()
    rounds = out["rounds"].values()
    spawns = sorted(
        s
        for r in rounds
        for s in [*r["check_spawns"], *r["action_spawns"], r["phases_spawn"], r["spawns_end"]]
    )

    def firsts(own: list[float]) -> list[float]:
        result = []
        for spawn in own:
            later = [s for s in spawns if s > spawn]
            result.append(first_after(spawn, arrivals, min(later) if later else float("inf")))
        return result

    for r in rounds:
        r["check_first"] = firsts(r["check_spawns"])
        r["action_first"] = firsts(r["action_spawns"])
        r["phases_first"] = firsts([r["phases_spawn"]])[0]
    return out


def print_image_startup(out: dict[str, Any]) -> None:
    print(
        f"Inside the image: its Python {out['python']}, "
        f"PYTHONDONTWRITEBYTECODE={out['dontwritebytecode']!r}; "
        f"`python -m routing_guard ...`, and the action's entrypoint with INPUT_* as the runner sets them; "
        f"{GOAL_ROUTES} routes. Round 2 deletes the stdlib's .pyc files in the throwaway container first, "
        "as the official python:*-slim base ships it (all of them: "
        f"{out['stdlib_pyc_bytes'] / 1e6:.1f} MB; those the action imports: "
        f"{out['stdlib_pyc_needed_bytes'] / 1e6:.1f} MB).\n"
    )
    names = list(out["rounds"])
    print("| measurement | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    rows = (
        ("`python -c pass`", "pass"),
        ("`--version`", "version"),
        ("`validate`", "validate"),
        ("`check`: spawn -> first request", "check_first"),
        ("`check`: wall", "check"),
        ("action entrypoint: spawn -> first request", "action_first"),
        ("action entrypoint: wall", "action"),
    )
    for label, key in rows:
        cells = [
            f"{fmt_ms(median(out['rounds'][n][key]))} (min {fmt_ms(min(out['rounds'][n][key]))})"
            for n in names
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    exits = {n: sorted({*out["rounds"][n]["check_exit"], *out["rounds"][n]["action_exit"]}) for n in names}
    print(f"\nexit codes: {exits}\n")
    for name in names:
        r = out["rounds"][name]
        if r.get("phases"):
            print(f"Where the time to the first request goes inside the image, {name} (one cold run):\n")
            print_phases(r["phases"], r["phases_first"])
        else:
            print(f"phase breakdown failed ({name}): {r.get('phases_error')}\n")
        print_importtime(f"check, inside the image, {name}", parse_importtime(r["importtime_check"]))
    print_importtime(
        "--version, inside the image, as built",
        parse_importtime(out["rounds"][names[0]]["importtime_version"]),
    )
    sizes = sorted(out["site_packages_bytes"].items(), key=lambda item: -item[1])
    print("Installed size in the image's venv, per package (files on disk, incl. .pyc):\n")
    print("| package | size |")
    print("|---|---:|")
    for name, size in sizes[:14]:
        print(f"| {name} | {size / 1e6:.2f} MB |")
    print(f"| total | {sum(size for _, size in sizes) / 1e6:.2f} MB |\n")


# --- main -------------------------------------------------------------------------------------------


def machine_facts(curl: str | None) -> None:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = "n/a"
    with contextlib.suppress(OSError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    versions = []
    for dist in ("routing-guard", "httpx", "httpcore", "h2", "pydantic", "jsonschema", "PyYAML", "trio"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{dist} {metadata.version(dist)}")
    curl_version = "not installed"
    if curl:
        curl_version = subprocess.run(
            [curl, "--version"], capture_output=True, text=True, check=False
        ).stdout.split("\n", 1)[0]
    print(f"- CPU: {cpu}, {os.cpu_count()} logical cores ({usable} usable); load average at start {load}")
    print(f"- OS: {platform.platform()}")
    print(f"- Python: {platform.python_implementation()} {platform.python_version()}")
    print(f"- packages: {', '.join(versions)}")
    print(f"- curl: {curl_version}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay", type=float, default=0.3, help="gateway delay per request, seconds (0.3)")
    parser.add_argument("--sizes", default="1,8,24,100", help="route counts (1,8,24,100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (3)")
    parser.add_argument("--image", default="localhost/routing-guard:test", help="action image to measure")
    parser.add_argument("--base-image", default="localhost/python-base:local", help="its base image")
    parser.add_argument("--no-image-run", action="store_true", help="only size the image, do not run it")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 1 or max(sizes) > 1000 or not 1 <= args.repeat <= 50:
        parser.error("sizes must be 1..1000, --repeat 1..50")
    if not 0 <= args.delay <= 30:
        parser.error("--delay must be 0..30 seconds")
    startup_runs = max(5, 2 * args.repeat)

    curl = shutil.which("curl")
    cli, cli_note = find_cli()
    env = base_env()
    print("# routing-guard benchmark\n")
    machine_facts(curl)
    print(
        f"- gateway: fake OpenAI-compatible (bench/gateway.py), asyncio HTTP/1.1 keep-alive on loopback, "
        f"{args.delay * 1000:.0f} ms per request; --repeat {args.repeat}"
    )
    print(f"- CLI measured: `{' '.join(Path(c).name for c in cli)}`" + (f" ({cli_note})" if cli_note else ""))
    if not curl:
        print(
            "- curl not found: the naive step is a sequential Python http.client loop (one interpreter, "
            "a new connection per request), which flatters it compared with a curl per route"
        )

    with tempfile.TemporaryDirectory(prefix="rg-bench-") as tmp, FakeGateway(delay=args.delay) as gateway:
        work = Path(tmp)
        report = work / "report.json"
        goal_file = work / f"routes-{GOAL_ROUTES}.yml"
        for n in {*sizes, 1, GOAL_ROUTES}:
            write_routing(work / f"routes-{n}.yml", gateway.base_url, n)
            write_naive(work / f"naive-{n}.sh", gateway.base_url, n, curl)

        # -- floor ----------------------------------------------------------------------------
        section("Floor: interpreter start + one request's round trip")
        pass_walls, _ = repeat_wall([sys.executable, "-c", "pass"], env, startup_runs)
        trips, curl_walls = curl_round_trip(curl, gateway.base_url, env, max(3, args.repeat))
        floor = median(pass_walls) + median(trips)
        print(f"- `python -c pass`: {spread(pass_walls)}")
        print(
            f"- one request (curl time_total, includes the {args.delay * 1000:.0f} ms delay): "
            f"{spread(trips)}; curl process wall: {spread(curl_walls)}"
        )
        print(f"- floor = {fmt_ms(floor)}")

        # -- start-up ---------------------------------------------------------------------------
        section("Start-up")
        version_walls, proc = repeat_wall([*cli, "--version"], env, startup_runs)
        print(f"- `routing-guard --version`: {spread(version_walls)} -> {proc.stdout.strip()}")
        validate_walls, proc = repeat_wall(
            [*cli, "validate", "--routing-file", str(goal_file)], env, startup_runs
        )
        print(
            f"- `routing-guard validate` ({GOAL_ROUTES} routes): {spread(validate_walls)} "
            f"-> exit {proc.returncode}"
        )
        firsts: dict[int, list[float]] = {}
        for n in (1, GOAL_ROUTES):
            runs = [
                run_check(cli, work / f"routes-{n}.yml", report, None, gateway, env)
                for _ in range(startup_runs)
            ]
            firsts[n] = [r.first_request for r in runs]
            print(
                f"- `routing-guard check`, {n} route(s): spawn -> first request at the gateway "
                f"{spread(firsts[n])}; wall {spread([r.wall for r in runs])}; last response -> exit "
                f"{spread([r.tail for r in runs])}"
            )
        first_goal = median(firsts[GOAL_ROUTES])

        print(
            f"\n### Where the time to the first request goes (`check`, {GOAL_ROUTES} routes, one cold run, "
            "bench/phases.py)\n"
        )
        gateway.reset()
        spawn = time.time()
        proc = subprocess.run(
            [sys.executable, str(HERE / "phases.py"), str(goal_file)],
            env={**env, "BENCH_SPAWN_TIME": repr(spawn)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode == 0 and proc.stdout.strip():
            phases = json.loads(proc.stdout.strip().splitlines()[-1])
            print_phases(phases, first_after(spawn, gateway.snapshot()[0]))
        else:
            print(
                f"phase breakdown unavailable (bench/phases.py exited {proc.returncode}): "
                f"{proc.stderr.strip()[-400:]}\n"
            )

        # -- imports ----------------------------------------------------------------------------
        section("Import costs")
        isolated_costs(env, startup_runs, goal_file)
        version_modules = print_importtime(
            "python -X importtime -m routing_guard --version", importtime(["--version"], env)[0]
        )
        validate_modules = print_importtime(
            "python -X importtime -m routing_guard validate",
            importtime(["validate", "--routing-file", str(goal_file)], env)[0],
        )
        rows, code = importtime(["check", "--routing-file", str(goal_file)], env)
        print_importtime(
            f"python -X importtime -m routing_guard check ({GOAL_ROUTES} routes, exit {code})", rows
        )

        # -- scaling ---------------------------------------------------------------------------
        section(f"Wall time to verdict ({args.delay * 1000:.0f} ms per request)")
        results: dict[int, Size] = {}
        for n in sizes:
            size = results[n] = Size(n=n)
            variants = sorted({DEFAULT_CONCURRENCY, n, n + 1})
            for _ in range(args.repeat):  # interleaved, so a load spike hits every variant alike
                wall, size.naive_requests = run_naive(work / f"naive-{n}.sh", curl, gateway, env)
                size.naive.append(wall)
                for c in variants:
                    conc = None if c == DEFAULT_CONCURRENCY else c
                    size.checks.setdefault(c, []).append(
                        run_check(cli, work / f"routes-{n}.yml", report, conc, gateway, env)
                    )
            last = size.checks[DEFAULT_CONCURRENCY][-1]
            print(f"- N={n}: naive {spread(size.naive)} ({size.naive_requests} requests)")
            for c in variants:
                label = f"--concurrency {c}" + (" (default)" if c == DEFAULT_CONCURRENCY else "")
                runs = size.checks[c]
                print(
                    f"  - check {label}: {spread([r.wall for r in runs])}; first request at "
                    f"{fmt_ms(median([r.first_request for r in runs]))}, last at "
                    f"{fmt_ms(median([r.last_request for r in runs]))}, last response -> exit "
                    f"{fmt_ms(median([r.tail for r in runs]))}; gateway got {runs[-1].gateway_requests} "
                    f"requests on {runs[-1].connections} connection(s); "
                    f"non-zero exits {sum(r.exit_code != 0 for r in runs)}"
                )
            print(f"  - report: {last.report_requests} requests, {last.report_tokens} tokens requested")

        print("\n### Table\n")
        print(
            f"Fake gateway on loopback answering each request after {args.delay * 1000:.0f} ms; median of "
            f"{args.repeat} runs. Requests = N routes + 1 error-path probe; output budget "
            f"{OUTPUT_BUDGET} tokens each. Floor = interpreter start + one round trip "
            f"({fmt_s(floor)}).\n"
        )
        print(
            "| routes | requests (report / gateway) | tokens requested | naive: curl per route "
            "| check, default (8) | check --concurrency N | check --concurrency N+1 "
            "| naive ÷ check | check ÷ floor (default / N+1) |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, size in results.items():
            default, at_n, at_n1 = size.wall(DEFAULT_CONCURRENCY), size.wall(n), size.wall(n + 1)
            last = size.checks[DEFAULT_CONCURRENCY][-1]
            naive = median(size.naive)
            print(
                f"| {n} | {last.report_requests} / {last.gateway_requests} | {last.report_tokens} "
                f"| {fmt_s(naive)} | {fmt_s(default)} | {fmt_s(at_n)} | {fmt_s(at_n1)} "
                f"| {naive / default:.1f}x | {default / floor:.1f}x / {at_n1 / floor:.1f}x |"
            )

        section("HTTPS")
        tls_section(cli, work, env, args.delay, args.repeat, results.get(GOAL_ROUTES))

        # -- image ------------------------------------------------------------------------------
        section("Action image")
        in_image: dict[str, Any] | None = None
        if image_facts(args.image, args.base_image) and not args.no_image_run:
            in_image = image_startup(args.image, work, gateway, startup_runs)
            if in_image is not None:
                print_image_startup(in_image)

        # -- goals -------------------------------------------------------------------------------
        section("Goals")
        if GOAL_ROUTES in results:
            size = results[GOAL_ROUTES]
            limit = GOAL_RATIO * floor
            for c in sorted(size.checks):
                wall = size.wall(c)
                label = f"--concurrency {c}" + (" (default)" if c == DEFAULT_CONCURRENCY else "")
                print(
                    f"- {GOAL_ROUTES} routes at {args.delay * 1000:.0f} ms, {label}: {fmt_s(wall)} = "
                    f"{wall / floor:.2f}x the floor (goal < {GOAL_RATIO}x = {fmt_s(limit)}): "
                    f"{met(wall < limit)}"
                )
        else:
            print(f"- {GOAL_ROUTES}-route goal: not measured (add {GOAL_ROUTES} to --sizes)")
        print(
            f"- first request < {GOAL_FIRST_REQUEST_MS:.0f} ms after spawn, host ({GOAL_ROUTES} routes): "
            f"{fmt_ms(first_goal)}: {met(first_goal * 1000 < GOAL_FIRST_REQUEST_MS)}"
        )
        if in_image is not None:
            for name, r in in_image["rounds"].items():
                for label, key in (("`check`", "check_first"), ("action entrypoint", "action_first")):
                    value = median(r[key])
                    print(
                        f"- first request < {GOAL_FIRST_REQUEST_MS:.0f} ms after spawn, in the image "
                        f"({name}), {label}: {fmt_ms(value)}: {met(value * 1000 < GOAL_FIRST_REQUEST_MS)}"
                    )
        for label, modules in (("--version", version_modules), ("validate", validate_modules)):
            print(f"- `{label}` does not import httpx: {met('httpx' not in modules)}")
        print(f"- image < {GOAL_IMAGE_MB:.0f} MB above base: see 'Action image'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
