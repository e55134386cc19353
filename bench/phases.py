"""Where the time to the first request goes: `routing-guard check`'s steps, timed one by one.

Run by bench/run.py as a fresh interpreter (so imports are cold):
    python bench/phases.py ROUTING_FILE
with BENCH_SPAWN_TIME=<time.time() just before the spawn> in the environment. It repeats what
`routing_guard.app.execute` does, in the same order, through the engine's own functions, and
prints one JSON object of milliseconds since the spawn (checkpoints) and of isolated costs.
"""

from __future__ import annotations

import time

T_SCRIPT = time.time()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402


def main() -> None:
    spawn = float(os.environ.get("BENCH_SPAWN_TIME") or T_SCRIPT)
    marks: dict[str, float] = {"interpreter_up": T_SCRIPT}
    routing_file = sys.argv[1]

    import routing_guard.cli as cli
    from routing_guard.app import RoutingFile, load_config

    marks["import_cli"] = time.time()
    args = cli.build_parser().parse_args(["check", "--routing-file", routing_file])
    marks["parse_args"] = time.time()
    from routing_guard.redact import Redactor

    key = os.environ.get(cli.KEY_ENV, "")
    redactor = Redactor([key])
    marks["redactor"] = time.time()
    config = load_config(RoutingFile(args.routing_file))  # imports yaml, jsonschema
    marks["load_config"] = time.time()
    from routing_guard import report
    from routing_guard.check import CheckOptions, run_check

    marks["import_check"] = time.time()

    import httpx

    from routing_guard import probe

    seen: dict[str, float] = {}
    original_init = probe.Prober.__init__
    original_send = httpx.AsyncHTTPTransport.handle_async_request

    def timed_init(self: Any, *a: Any, **kw: Any) -> None:
        seen.setdefault("prober_init_start", time.time())
        original_init(self, *a, **kw)
        seen.setdefault("prober_init_end", time.time())

    async def timed_send(self: Any, *a: Any, **kw: Any) -> Any:
        seen.setdefault("first_send", time.time())
        return await original_send(self, *a, **kw)

    probe.Prober.__init__ = timed_init  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = timed_send  # type: ignore[method-assign]
    run = run_check(config, key, CheckOptions(), redactor)
    marks["run_check_done"] = time.time()
    report.format_json(run)
    marks["report"] = time.time()

    # Isolated costs, measured after the run (warm imports, so these are the pure call costs).
    isolated: dict[str, float] = {}
    t = time.perf_counter()
    httpx.create_ssl_context()
    isolated["httpx_create_ssl_context"] = time.perf_counter() - t
    t = time.perf_counter()
    httpx.AsyncClient(http2=False, verify=False)  # noqa: S501 (measures the client without TLS setup)
    isolated["httpx_AsyncClient_no_tls"] = time.perf_counter() - t
    t = time.perf_counter()
    httpx.AsyncClient(http2=True)
    isolated["httpx_AsyncClient_http2_tls"] = time.perf_counter() - t
    from routing_guard import routing

    validator = getattr(routing, "_validator", None)
    if validator is not None and hasattr(validator, "cache_clear"):
        validator.cache_clear()
        t = time.perf_counter()
        validator()
        isolated["schema_validator_build"] = time.perf_counter() - t
    t = time.perf_counter()
    load_config(RoutingFile(args.routing_file))
    isolated["load_config_warm"] = time.perf_counter() - t
    import asyncio  # only here: importing it earlier would be charged to the first checkpoint

    t = time.perf_counter()
    asyncio.run(asyncio.sleep(0))
    isolated["asyncio_run_empty"] = time.perf_counter() - t

    out = {
        "checkpoints_ms": {name: round((at - spawn) * 1000, 1) for name, at in {**marks, **seen}.items()},
        "isolated_ms": {name: round(s * 1000, 2) for name, s in isolated.items()},
        "requests": run.request_count,
        "exit_code": run.exit_code,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
