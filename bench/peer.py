"""Side by side with the peer: LiteLLM's own `GET /health` against `routing-guard check` at defaults.

    python bench/peer.py [--sizes 6,24,100,500] [--repeat 3] [--delay 0.3]

One run, one machine, one upstream: a fake OpenAI-compatible upstream on 127.0.0.1 that answers
every request after `--delay` seconds (bench/gateway.py), and a real LiteLLM proxy (its own venv,
`.venv-litellm`, made by scripts/install-litellm.sh) in front of it with one deployment per route.
For each size N it times, alternately and `--repeat` times:

- the peer: `curl` of the proxy's `GET /health`, which makes one real call per deployment, all at
  once (LiteLLM's own health check);
- routing-guard: the console script `routing-guard check` with default settings (N routes through
  the proxy, plus the error-path probe), as a subprocess, from spawn to exit;
- two floors for the same N + 1 chat requests through the same proxy (N route models and one
  unknown ID), which is the work routing-guard asks of the proxy: a bare client (a dozen lines of
  httpx and asyncio, spawned like routing-guard, judging nothing), and the proxy's own chat path
  (the same requests timed inside a client that is already running and has sent them once
  untimed, so no start-up or import is in it; only the connections are new). No client of the
  proxy's chat endpoint can be faster than the second floor, whatever it does at start-up.

Before each timed measurement the proxy is left to settle (LiteLLM logs each completion after it
has answered, so a measurement right after another would pay for part of the one before).

It prints medians, the ratio of each to the peer, the time per route, and the CPU time each side
used (the proxy's from /proc, routing-guard's from its process): where a figure is bound by CPU,
these say whose. Nothing outside loopback is contacted; the proxy and the upstream stop with the
script.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import FakeGateway

REPO = Path(__file__).resolve().parent.parent
LITELLM = REPO / ".venv-litellm" / "bin" / "litellm"
MASTER_KEY = "sk-bench-master-key"
GOAL_RATIO = 1.25
# LiteLLM builds a client per deployment at start-up: 500 took over a minute on a loaded 2-core VM.
START_S = 120.0
START_PER_DEPLOYMENT_S = 0.5
GOAL_ROUTES = 24
# Before each timed measurement: the proxy counts as settled once it used under 10 ms of CPU in 300 ms.
SETTLE_WINDOW_S = 0.3
SETTLE_IDLE_CPU_S = 0.01
SETTLE_MAX_S = 30.0
PROXY_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_MODE": "PRODUCTION",
    "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True",
    "LITELLM_LOG": "ERROR",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_proxy_config(path: Path, upstream: str, n: int) -> None:
    lines = ["model_list:"]
    for i in range(n):
        lines += [
            f"  - model_name: route-model-{i:03d}",
            "    litellm_params:",
            f"      model: openai/upstream-model-{i:03d}",
            f"      api_base: {upstream}",
            "      api_key: fake-upstream-key",
        ]
    lines += ["general_settings:", f"  master_key: {MASTER_KEY}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_routing(path: Path, base_url: str, n: int) -> None:
    lines = ["version: 1", "gateway:", f"  base_url: {base_url}", "  api: openai-chat", "routes:"]
    for i in range(n):
        lines += [f"  route-{i:03d}:", f"    model: route-model-{i:03d}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class LiteLLMProxy:
    def __init__(self, config: Path, log: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LITELLM_MASTER_KEY")}
        env.update(PROXY_ENV)
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_live(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"LiteLLM exited with {self.process.returncode}; see {self.log.name}")
            probe = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{self.root}/health/liveliness"],
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.stdout == "200":
                return
            time.sleep(0.25)
        raise RuntimeError(f"LiteLLM not live within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def settle(proxy: LiteLLMProxy) -> None:
    """Wait until the proxy has finished the work a previous measurement left it (LiteLLM logs each
    completion after it has answered), so no measurement pays for the one before."""
    deadline = time.monotonic() + SETTLE_MAX_S
    before = proxy_cpu(proxy)
    while time.monotonic() < deadline:
        time.sleep(SETTLE_WINDOW_S)
        now = proxy_cpu(proxy)
        if now - before < SETTLE_IDLE_CPU_S:
            return
        before = now


def proxy_cpu(proxy: LiteLLMProxy) -> float:
    """CPU seconds the proxy process has used so far (user + system, from /proc)."""
    fields = Path(f"/proc/{proxy.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_health(proxy: LiteLLMProxy, n: int) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        ["curl", "-s", "-H", f"Authorization: Bearer {MASTER_KEY}", f"{proxy.root}/health"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    wall = time.perf_counter() - start
    healthy = done.stdout.count('"model":')
    if done.returncode != 0 or f'"healthy_count":{n}' not in done.stdout.replace(" ", ""):
        raise RuntimeError(f"/health did not report {n} healthy deployments ({healthy} seen)")
    return wall


# The floors: the same requests as routing-guard's check (one per route, one unknown model), sent all
# at once. argv: proxy root, routes, batches (the last one is timed and printed, in seconds), key.
# Between batches it prints "settle" and waits for a line on stdin.
FLOOR_CLIENT = """
import asyncio, sys, time
sys.modules["httpx._main"] = None  # as routing-guard does: httpx's CLI (click, rich) is not imported
import httpx
root, n, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
body = {"messages": [{"role": "user", "content": "Reply with OK."}], "max_tokens": 16}
async def batch(client):
    models = [f"route-model-{i:03d}" for i in range(n)] + ["routing-guard-invalid-model-id"]
    posts = [client.post(root + "/v1/chat/completions", json={**body, "model": m}) for m in models]
    codes = [r.status_code for r in await asyncio.gather(*posts)]
    if codes[:-1] != [200] * n or codes[-1] < 400:
        sys.exit(f"unexpected answers: {codes}")
async def main():
    limits = httpx.Limits(max_connections=n + 1)
    headers = {"Authorization": "Bearer " + sys.argv[4]}
    for i in range(batches):
        if i:  # the script lets the proxy settle, then says go
            print("settle", flush=True)
            sys.stdin.readline()
        # a new client each batch: the proxy closes idle keep-alive connections while it settles
        async with httpx.AsyncClient(limits=limits, headers=headers, timeout=120) as client:
            start = time.perf_counter()
            await batch(client)
            elapsed = time.perf_counter() - start
    print(elapsed)
asyncio.run(main())
"""


def time_bare_client(proxy: LiteLLMProxy, n: int) -> float:
    """A bare Python client, spawned, sending the check's requests once: spawn to exit."""
    start = time.perf_counter()
    floor_client(proxy, n, batches=1)
    return time.perf_counter() - start


def time_chat_path(proxy: LiteLLMProxy, n: int) -> float:
    """The same requests from a client that is already running (its second batch)."""
    return floor_client(proxy, n, batches=2)


def floor_client(proxy: LiteLLMProxy, n: int, batches: int) -> float:
    process = subprocess.Popen(
        [sys.executable, "-c", FLOOR_CLIENT, proxy.root, str(n), str(batches), MASTER_KEY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    for _ in range(batches - 1):
        if process.stdout.readline().strip() != "settle":
            break
        settle(proxy)
        process.stdin.write("go\n")
        process.stdin.flush()
    out, err = process.communicate(timeout=600)
    if process.returncode != 0:
        raise RuntimeError(f"the floor client failed on {n} routes: {err[-500:]}")
    return float(out)


def find_cli() -> list[str]:
    own = Path(sys.executable).with_name("routing-guard")
    if own.is_file():
        return [str(own)]
    found = shutil.which("routing-guard")
    return [found] if found else [sys.executable, "-m", "routing_guard"]


def time_check(cli: list[str], routing: Path, n: int) -> float:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["ROUTING_GUARD_API_KEY"] = MASTER_KEY
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    start = time.perf_counter()
    done = subprocess.run(
        [*cli, "check", "--routing-file", str(routing), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"check exited {done.returncode} on {n} routes: {done.stderr[-500:]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6,24,100,500")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.3)
    args = parser.parse_args()
    if not LITELLM.is_file():
        print("LiteLLM is not installed: run scripts/install-litellm.sh", file=sys.stderr)
        return 2
    if shutil.which("curl") is None:
        print("curl is needed (apt-get install curl)", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",") if s]
    cli = find_cli()
    print(f"# routing-guard vs LiteLLM /health, upstream delay {args.delay * 1000:.0f} ms")
    print(f"\n{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, repeat {args.repeat}\n")
    print(
        "| routes | LiteLLM `/health` | `routing-guard check` (defaults) | ratio | check per route "
        "| floor: bare client (ratio) | floor: proxy's chat path (ratio) "
        "| proxy CPU in `/health` | proxy CPU in the check | routing-guard's CPU |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios: dict[int, tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="rg-peer-") as tmp, FakeGateway(delay=args.delay) as upstream:
        for n in sizes:
            config, routing = Path(tmp, f"litellm-{n}.yaml"), Path(tmp, f"routing-{n}.yml")
            write_proxy_config(config, upstream.base_url, n)
            proxy = LiteLLMProxy(config, Path(tmp, f"litellm-{n}.log"))
            try:
                proxy.wait_live(START_S + START_PER_DEPLOYMENT_S * n)
                write_routing(routing, f"{proxy.root}/v1", n)
                time_health(proxy, n)  # warm both paths once: first calls build LiteLLM's clients
                time_check(cli, routing, n)
                health, check, health_cpu, check_cpu, ours_cpu = [], [], [], [], []
                bare, chat_path = [], []
                for _ in range(args.repeat):
                    settle(proxy)
                    before = proxy_cpu(proxy)
                    health.append(time_health(proxy, n))
                    health_cpu.append(proxy_cpu(proxy) - before)
                    settle(proxy)
                    before, before_ours = proxy_cpu(proxy), children_cpu()
                    check.append(time_check(cli, routing, n))
                    check_cpu.append(proxy_cpu(proxy) - before)
                    ours_cpu.append(children_cpu() - before_ours)
                    settle(proxy)
                    bare.append(time_bare_client(proxy, n))
                    settle(proxy)
                    chat_path.append(time_chat_path(proxy, n))
            finally:
                proxy.stop()
            peer, ours = statistics.median(health), statistics.median(check)
            bare_s, path_s = statistics.median(bare), statistics.median(chat_path)
            ratios[n] = (ours / peer, bare_s / peer, path_s / peer)
            print(
                f"| {n} | {peer:.2f} s | {ours:.2f} s | {ours / peer:.2f}x | {ours / n * 1000:.1f} ms "
                f"| {bare_s:.2f} s ({bare_s / peer:.2f}x) | {path_s:.2f} s ({path_s / peer:.2f}x) "
                f"| {statistics.median(health_cpu):.2f} s | {statistics.median(check_cpu):.2f} s "
                f"| {statistics.median(ours_cpu):.2f} s |",
                flush=True,
            )
    if GOAL_ROUTES in ratios:
        ratio, bare_ratio, path_ratio = ratios[GOAL_ROUTES]
        verdict = "met" if ratio <= GOAL_RATIO else f"NOT met ({ratio / GOAL_RATIO:.2f}x over the goal)"
        print(f"\nGoal: {GOAL_ROUTES} routes within {GOAL_RATIO}x of LiteLLM's /health: {verdict}.")
        print(
            f"The same requests cost the proxy's chat path alone {path_ratio:.2f}x its /health, and a "
            f"bare client {bare_ratio:.2f}x: routing-guard's own share is {ratio - bare_ratio:+.2f}x "
            f"over the bare client"
            f"{' (the goal is below the chat-path floor)' if path_ratio > GOAL_RATIO else ''}."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
