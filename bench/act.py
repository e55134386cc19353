"""The action step's wall time under act, the GitHub Actions runner emulator, as a workflow runs it.

    python bench/act.py [--routes 24] [--repeat 3] [--delay 0.3]

Needs podman (scripts/container-setup.sh), act (scripts/install-act.sh) and the runner layer's
harness (tests/support/act_harness.py), which builds the action image from the Dockerfile once and
runs act against podman's Docker API. A job checks out a repository holding the action and a
routing file of N routes, then runs the action (check mode, defaults) against the loopback gateway
of bench/gateway.py (`--network host`). Two ways the step gets its image:

- built from the Dockerfile (`image: Dockerfile`, as on a branch): the harness's image, which act
  starts as built (--rebuild=false);
- prebuilt (`image: docker://IMAGE`, as a released tag): action.yml names the same image.

For each it prints, from act's JSON log, the step's wall time (its first "Main" entry to its
result), the whole `act` run, and when the gateway saw the step's first request. A script run by
hand, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_routing  # noqa: E402
from gateway import FakeGateway  # noqa: E402

try:
    from tests.support.act_harness import (
        ACTION_DIR,
        CHECKOUT,
        KEY_SECRET,
        USES,
        ActEnv,
        ActRun,
        make_repo,
        start_act_env,
    )
except ImportError as missing:  # the runner layer is not in this checkout
    sys.exit(f"bench/act.py needs tests/support/act_harness.py (the runner layer): {missing}")

KEY = "bench-not-a-secret-key"
STEP = "guard"


def workflow(routing_file: str) -> str:
    return (
        "name: bench\non: push\npermissions: {}\njobs:\n  bench:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: {CHECKOUT}\n        with:\n          persist-credentials: false\n"
        f"      - id: {STEP}\n        uses: {USES}\n        with:\n"
        f"          routing-file: {routing_file}\n"
        f"          api-key: ${{{{ secrets.{KEY_SECRET} }}}}\n"
    )


def run_stamped(env: ActEnv, repo: Path, flow: Path) -> tuple[ActRun, list[tuple[float, dict[str, Any]]]]:
    """Run act, stamping each JSON log line with the time it was written (act's own `time` field
    has whole seconds): the log file is read every 5 ms while act runs."""
    process = env.start(repo, "push", workflow=str(flow), secrets={KEY_SECRET: KEY})
    stamped: list[tuple[float, dict[str, Any]]] = []
    with (process.workdir / "stdout").open("rb") as log:
        pending = b""
        while True:
            finished = process.process.poll() is not None
            pending += log.read()
            now = time.time()
            *lines, pending = pending.split(b"\n")
            for line in lines:
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if isinstance(entry, dict):
                        stamped.append((now, entry))
            if finished:
                break
            time.sleep(0.005)
    return process.wait(), stamped


def step_window(stamped: list[tuple[float, dict[str, Any]]]) -> tuple[float, float]:
    """When the action step's Main stage logged first and when it logged its result (epoch s)."""
    main = [(at, e) for at, e in stamped if STEP in (e.get("stepID") or []) and e.get("stage") == "Main"]
    ended = [at for at, e in main if "stepResult" in e]
    if not main or not ended:
        raise RuntimeError("no action step in act's log")
    return main[0][0], ended[-1]


def prebuilt(repo: Path, image: str) -> None:
    """action.yml names the image (`docker://...`), as a released tag does."""
    action = repo / ACTION_DIR / "action.yml"
    text = action.read_text(encoding="utf-8")
    assert "  image: Dockerfile\n" in text, "action.yml no longer says `image: Dockerfile`"
    action.write_text(text.replace("  image: Dockerfile\n", f"  image: docker://{image}\n"), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.3)
    args = parser.parse_args()
    print(f"# The action step under act: {args.routes} routes, gateway delay {args.delay * 1000:.0f} ms\n")
    with tempfile.TemporaryDirectory(prefix="rg-act-bench-") as tmp, FakeGateway(delay=args.delay) as gateway:
        envs = start_act_env(Path(tmp))
        env = next(envs)
        try:
            print(
                "| image | step wall (median, min-max) | act run | step start to first request "
                "| first request to last answer | last answer to step end |"
            )
            print("|---|---:|---:|---:|---:|---:|")
            for how in ("built from the Dockerfile", "prebuilt (docker://)"):
                steps, totals, firsts, probing, lasts = [], [], [], [], []
                for i in range(args.repeat):
                    folder = Path(tmp, f"{'built' if how.startswith('built') else 'prebuilt'}-{i}")
                    folder.mkdir()
                    routing = folder / "routing.yml"
                    write_routing(routing, gateway.base_url, args.routes)
                    repo = make_repo(
                        folder, {".github/model-routing.yml": routing.read_text(encoding="utf-8")}
                    )
                    if how.startswith("prebuilt"):
                        prebuilt(repo, env.image_id)
                    flow = repo / ".github" / "workflows" / "bench.yml"
                    flow.parent.mkdir(parents=True, exist_ok=True)
                    flow.write_text(workflow(".github/model-routing.yml"), encoding="utf-8")
                    gateway.reset()
                    started = time.monotonic()
                    run, stamped = run_stamped(env, repo, flow)
                    totals.append(time.monotonic() - started)
                    if run.returncode != 0 or run.step_result("bench", STEP) != "success":
                        raise RuntimeError(f"the action step failed under act:\n{run.describe()[-4000:]}")
                    begin, end = step_window(stamped)
                    steps.append(end - begin)
                    arrivals, _ = gateway.snapshot()
                    if len(arrivals) != args.routes + 1:
                        raise RuntimeError(f"the gateway saw {len(arrivals)} requests, not {args.routes + 1}")
                    firsts.append(min(a.wall for a in arrivals) - begin)
                    answered = max(a.answered for a in arrivals)  # monotonic: turned into wall time
                    last_wall = time.time() - (time.monotonic() - answered)
                    lasts.append(end - last_wall)
                    probing.append(last_wall - min(a.wall for a in arrivals))
                print(
                    f"| {how} | {statistics.median(steps):.2f} s ({min(steps):.2f}-{max(steps):.2f}) "
                    f"| {statistics.median(totals):.2f} s | {statistics.median(firsts):.2f} s "
                    f"| {statistics.median(probing):.2f} s | {statistics.median(lasts):.2f} s |",
                    flush=True,
                )
        finally:
            next(envs, None)  # stops podman's API service and untags the image
    print(
        "\nThe step's wall time is act's: container created and started by podman (runc, vfs storage "
        "here; Docker on a hosted runner), the action's run, its exit. Log lines are stamped as "
        "they are written (act's own stamps have whole seconds)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
