"""Start-up measurements inside the action image (stdlib only; run by bench/run.py through podman).

    podman run --rm --network=host -v BENCH:/bench:ro -v WORK:/work --entrypoint PYTHON IMAGE \\
        /bench/in_image.py N TIMES

/work holds routes-N.yml, pointing at the fake gateway on the host's loopback. Prints one JSON object
with two rounds of measurements: the image as built, then the same after deleting the standard
library's __pycache__ directories in this throwaway container, which is what the official
python:*-slim images ship (they delete every .pyc, and the Dockerfile's PYTHONDONTWRITEBYTECODE=1
stops Python from caching them, so each run compiles the stdlib modules it imports from source).
Each round: wall times of `python -c pass`, `--version`, `validate`, `check` and the action's
entrypoint, the wall-clock spawn time of every run that sends requests (bench/run.py matches them
with the gateway's arrivals), bench/phases.py's breakdown and `-X importtime` lines.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

PY = sys.executable
APP = Path("/opt/routing-guard/app")
WORK = Path("/work")
KEY = "bench-not-a-secret-key"
IMPORTS = (
    "import routing_guard.cli, routing_guard.check, routing_guard.report, routing_guard.routing, "
    "routing_guard.action.main, httpcore, h2.connection, anyio._backends._asyncio, "
    "runpy, sys; print('\\n'.join(getattr(m, '__file__', None) or '' for m in list(sys.modules.values())))"
)


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(spawn time.time(), wall seconds, exit code)"""
    spawn = time.time()
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)
    return spawn, time.perf_counter() - start, proc.returncode


def importtime(argv: list[str], env: dict[str, str]) -> list[str]:
    proc = subprocess.run(
        [PY, "-X", "importtime", *argv], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return [line for line in proc.stderr.splitlines() if line.startswith("import time:")]


def measure(n: int, times: int) -> dict[str, Any]:
    routing = str(WORK / f"routes-{n}.yml")
    env = {**os.environ, "ROUTING_GUARD_API_KEY": KEY}
    rg = [PY, "-m", "routing_guard"]
    out: dict[str, Any] = {}
    out["pass"] = [run([PY, "-c", "pass"], env)[1] for _ in range(times)]
    out["version"] = [run([*rg, "--version"], env)[1] for _ in range(times)]
    out["validate"] = [run([*rg, "validate", "--routing-file", routing], env)[1] for _ in range(times)]
    checks = [run([*rg, "check", "--routing-file", routing], env) for _ in range(times)]
    out["check_spawns"] = [spawn for spawn, _, _ in checks]
    out["check"] = [wall for _, wall, _ in checks]
    out["check_exit"] = [code for _, _, code in checks]

    action_env = {
        **{k: v for k, v in env.items() if k != "ROUTING_GUARD_API_KEY"},
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(WORK),
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_OUTPUT": str(WORK / "github-output.txt"),
        "GITHUB_STEP_SUMMARY": str(WORK / "summary.md"),
        "RUNNER_TEMP": str(WORK),
        "INPUT_ROUTING-FILE": f"routes-{n}.yml",
        "INPUT_API-KEY": KEY,
    }
    actions = [run([PY, str(APP / "entrypoint.py")], action_env) for _ in range(times)]
    out["action_spawns"] = [spawn for spawn, _, _ in actions]
    out["action"] = [wall for _, wall, _ in actions]
    out["action_exit"] = [code for _, _, code in actions]

    spawn = time.time()
    proc = subprocess.run(
        [PY, "/bench/phases.py", routing],
        env={**env, "BENCH_SPAWN_TIME": repr(spawn)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out["phases_spawn"] = spawn
    out["phases"] = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None
    out["phases_error"] = proc.stderr[-400:] if proc.returncode else ""
    out["importtime_check"] = importtime(["-m", "routing_guard", "check", "--routing-file", routing], env)
    out["importtime_version"] = importtime(["-m", "routing_guard", "--version"], env)
    out["spawns_end"] = time.time()
    return out


def stdlib_pyc(stdlib: Path) -> tuple[int, int]:
    """(bytes of all stdlib .pyc, bytes of those the action's imports need)."""
    total = sum(f.stat().st_size for f in stdlib.rglob("__pycache__/*.pyc"))
    proc = subprocess.run([PY, "-c", IMPORTS], capture_output=True, text=True, timeout=60, check=False)
    needed = 0
    for line in proc.stdout.splitlines():
        if line.startswith(str(stdlib) + "/") and line.endswith(".py") and "-packages/" not in line:
            cached = Path(importlib.util.cache_from_source(line))
            if cached.is_file():
                needed += cached.stat().st_size
    return total, needed


def main() -> None:
    n = int(sys.argv[1])
    times = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    stdlib = Path(sysconfig.get_path("stdlib"))
    out: dict[str, Any] = {"python": sys.version.split()[0], "stdlib": str(stdlib)}
    out["dontwritebytecode"] = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    out["stdlib_pyc_bytes"], out["stdlib_pyc_needed_bytes"] = stdlib_pyc(stdlib)
    out["rounds"] = {"as built": measure(n, times)}
    # Now this throwaway container's stdlib looks like the official slim image's: no .pyc at all.
    for cache in list(stdlib.rglob("__pycache__")):
        if "-packages" not in str(cache):
            shutil.rmtree(cache, ignore_errors=True)
    out["rounds"]["stdlib without .pyc"] = measure(n, times)

    sizes: dict[str, int] = {}
    for site in Path("/opt/routing-guard/lib").glob("python*/site-packages"):
        for entry in site.iterdir():
            name = entry.name.split("-")[0].removesuffix(".py").removesuffix(".pth")
            files = [entry] if entry.is_file() else [f for f in entry.rglob("*") if f.is_file()]
            sizes[name] = sizes.get(name, 0) + sum(f.stat().st_size for f in files)
    app = [f for f in APP.rglob("*") if f.is_file()]
    sizes["(app: routing_guard + entrypoint)"] = sum(f.stat().st_size for f in app)
    out["site_packages_bytes"] = sizes
    print(json.dumps(out))


if __name__ == "__main__":
    main()
