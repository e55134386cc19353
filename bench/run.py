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
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    DEFAULT_CONCURRENCY,
    GOAL_FIRST_REQUEST_MS,
    GOAL_IMAGE_MB,
    GOAL_RATIO,
    GOAL_ROUTES,
    HERE,
    OUTPUT_BUDGET,
    base_env,
    find_cli,
    fmt_ms,
    fmt_s,
    machine_facts,
    median,
    met,
    repeat_wall,
    section,
    spread,
    write_routing,
)
from gateway import FakeGateway
from image import image_facts, image_startup, print_image_startup
from startup import importtime, isolated_costs, print_importtime, print_phases
from wall import Size, curl_round_trip, first_after, run_check, run_naive, tls_section, write_naive


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
            f"| check, default ({DEFAULT_CONCURRENCY}) | check --concurrency N | check --concurrency N+1 "
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
