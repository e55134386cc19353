"""Cancelling the CLI on a host: SIGTERM or SIGINT while a probe waits on a gateway that never answers.

A real `routing-guard check` subprocess (the console script), a real loopback socket. The process
must end by itself (exit 128 + the signal number) with a report marked as cancelled that keeps the
route judged before the signal and lists the unanswered one as skipped, plus the log and summary.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fault_servers import write_routing
from tests.support.hanging_gateway import ROUTES, hanging_gateway, wait_until_stuck

CONSOLE_SCRIPT = Path(sys.executable).with_name("routing-guard")
KEY = "sk-cancel-Jq4Wm8Rt2Zx6Vb9Np3Lk"
HANG_GUARD_S = (
    60  # not a timing assertion: only keeps a process that ignores the signal from hanging the suite
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_check_with_a_partial_report(tmp_path: Path, signum: signal.Signals) -> None:
    with hanging_gateway() as server:
        routing = write_routing(tmp_path, server.base_url, ROUTES, auth="bearer")
        files = {name: tmp_path / name for name in ("report.json", "log.jsonl", "summary.md")}
        argv = [str(CONSOLE_SCRIPT), "check", "--routing-file", str(routing), "--concurrency", "1"]
        argv += ["--retries", "0", "--timeout", "240", "--report", str(files["report.json"])]
        argv += ["--log", str(files["log.jsonl"]), "--summary", str(files["summary.md"])]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        env["ROUTING_GUARD_API_KEY"] = KEY
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until_stuck(server, timeout=120)
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=HANG_GUARD_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    assert proc.returncode == 128 + signum, (proc.returncode, out, err)
    assert f"cancelled by {signum.name}" in err
    report = json.loads(files["report.json"].read_text(encoding="utf-8"))
    assert report["cancelled"] == signum.name
    assert (report["pass"], report["exit_code"]) == (False, 128 + signum)
    verdicts = {r["route"]: (r["verdict"], r["notes"]) for r in report["routes"]}
    assert verdicts["quick"][0] == "pass"
    assert verdicts["stuck"] == ("skipped", f"cancelled ({signum.name}) before an answer")
    log = [json.loads(line) for line in files["log.jsonl"].read_text(encoding="utf-8").splitlines()]
    assert [record["route"] for record in log] == ["quick", "stuck"]
    assert f"Cancelled by {signum.name}" in files["summary.md"].read_text(encoding="utf-8")
    assert "quick" in out and "stuck" in out  # the table was printed too
    everything = out + err + "".join(path.read_text(encoding="utf-8") for path in files.values())
    assert not [KEY[i : i + 8] for i in range(len(KEY) - 7) if KEY[i : i + 8] in everything]
