"""Workflows for the runner layer: jobs that check out, run the action, and print what they saw."""

from __future__ import annotations

from typing import Any

from tests.support.act_harness import CHECKOUT, USES, ActRun

# A later step: the outputs (through `steps.<id>.outputs`) and the files they name, as facts.
FACTS = """\
      - id: facts
        if: ${{{{ always() }}}}
        env:
          PASSED: ${{{{ steps.{step}.outputs.passed }}}}
          EXIT_CODE: ${{{{ steps.{step}.outputs.exit-code }}}}
          FAILED_ROUTES: ${{{{ steps.{step}.outputs.failed-routes }}}}
          REPORT: ${{{{ steps.{step}.outputs.report }}}}
          OUTCOME: ${{{{ steps.{step}.outcome }}}}
        run: |
          python3 - <<'PY'
          import json, os, pathlib
          facts = {{k.lower(): os.environ[k] for k in ("PASSED", "EXIT_CODE", "FAILED_ROUTES", "REPORT", "OUTCOME")}}
          if facts["report"]:
              report = json.loads(pathlib.Path(facts["report"]).read_text(encoding="utf-8"))
              facts["report_exit_code"] = report["exit_code"]
              facts["verdicts"] = {{r["route"]: r["verdict"] for r in report["routes"]}}
          log = pathlib.Path("logs/routing-guard.jsonl")
          if log.is_file():
              facts["log"] = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
          print("facts=" + json.dumps(facts))
          PY
"""


def workflow(name: str, event: str, jobs: dict[str, str]) -> str:
    """A workflow whose jobs each check out the repository, then run `steps` (already indented)."""
    text = f"name: {name}\non: {event}\npermissions: {{}}\njobs:\n"
    for job, steps in jobs.items():
        text += (
            f"  {job}:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - uses: {CHECKOUT}\n        with:\n          persist-credentials: false\n{steps}"
        )
    return text


def guard(inputs: dict[str, str], *, step: str = "guard", extra: str = "") -> str:
    lines = [f"      - id: {step}\n        uses: {USES}\n{extra}"]
    if inputs:
        lines.append("        with:\n" + "".join(f"          {k}: {v}\n" for k, v in inputs.items()))
    return "".join(lines) + FACTS.format(step=step)


def facts(run: ActRun, job: str) -> dict[str, Any]:
    found: dict[str, Any] = run.printed(job, "facts", "facts=")
    return found
