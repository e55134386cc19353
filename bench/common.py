"""Shared by the benchmark scripts: timing helpers, formatting, the routing files and the CLI they run."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import INVALID_MODEL

HERE = Path(__file__).resolve().parent


DEFAULT_CONCURRENCY = 32


OUTPUT_BUDGET = 16


KEY = "bench-not-a-secret-key"


GOAL_ROUTES = 24


GOAL_RATIO = 1.5


GOAL_FIRST_REQUEST_MS = 150.0


GOAL_IMAGE_MB = 80.0


Proc = subprocess.CompletedProcess[str]


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
    for dist in ("routing-guard", "httpx", "httpcore", "h2", "jsonschema", "PyYAML", "trio"):
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
