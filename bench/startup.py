"""Start-up: where the time before the first request goes, and what each import costs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fmt_ms, median

# Imported alone in a fresh interpreter: what each dependency costs before anything else is loaded.
# Each step runs in a fresh interpreter after `setup` (untimed); what `step` costs is printed.
# "hidden" steps make a module unimportable first (sys.modules[name] = None), as if not installed.
COST_PROBES: tuple[tuple[str, str, str], ...] = (
    ("import yaml", "", "import yaml"),
    ("import jsonschema", "", "import jsonschema"),
    ("routing_guard.config (the routing config's dataclasses)", "", "import routing_guard.config"),
    ("import routing_guard.routing (yaml + jsonschema + config)", "", "import routing_guard.routing"),
    ("import routing_guard.cli", "", "import routing_guard.cli"),
    ("import asyncio", "", "import asyncio"),
    ("import ssl", "", "import ssl"),
    ("import httpx (httpcore is imported lazily)", "", "import httpx"),
    (
        "import httpx, its CLI marked absent (as routing_guard/__init__.py does)",
        "import sys; sys.modules['httpx._main'] = None",
        "import httpx",
    ),
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
        "import sys, routing_guard.routing; from routing_guard.app import RoutingFile, load_config; "
        "f = sys.argv[1]",
        "load_config(RoutingFile(f))",
    ),
)


IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)\s*$")


ImportRow = tuple[int, int, int, str]  # self us, cumulative us, depth, module


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
        f"httpx's CLI (click, rich): {'YES' if 'click' in modules or 'rich' in modules else 'no'}\n"
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
