"""The release form of the action: action.yml names a prebuilt image, as release.yml makes it.

release.yml's `pin` job rewrites `image: Dockerfile` to `image: docker://ghcr.io/<owner>/routing-guard:<tag>`.
The test runs that job's own shell lines (up to its check of the rewritten line) on a copy of the
action, names the locally built image as the release would publish it, removes the Dockerfile (a
released action must not need it), and runs a workflow that uses the action under act with
`--pull=false`: act takes the image by the name action.yml gives.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer

from tests.support import act_gateways as gateways
from tests.support.act_gateways import KEY
from tests.support.act_harness import ACTION_DIR, KEY_SECRET, REPO_ROOT, ActEnv, commit, make_repo
from tests.support.act_workflows import facts, guard, workflow
from tests.support.container_harness import run_podman

pytestmark = [pytest.mark.runner, pytest.mark.container, pytest.mark.timeout(900)]

RELEASE = REPO_ROOT / ".github" / "workflows" / "release.yml"
TAG, OWNER = "v1.2.3", "Octo-Org"  # the owner as GitHub spells it; image names are lower-case
ROUTING = "version: 1\ngateway:\n  base_url: {url}\nroutes:\n  code-generation:\n    model: gpt-4o\n"


def pin_script() -> str:
    """The pin job's lines that rewrite action.yml, as release.yml has them."""
    pin = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))["jobs"]["pin"]
    (step,) = [s for s in pin["steps"] if "sed -i" in str(s.get("run", ""))]
    lines = step["run"].splitlines()
    last = next(i for i, line in enumerate(lines) if line.startswith("grep -qxF"))
    return "\n".join(lines[: last + 1])


def test_release_form_runs_the_prebuilt_image(
    act_env: ActEnv, httpserver: HTTPServer, tmp_path: Path
) -> None:
    gateways.serve(httpserver, {"gpt-4o": "gpt-4o-2024-08-06"})
    flow = workflow("release", "push", {"check": guard({"api-key": f"${{{{ secrets.{KEY_SECRET} }}}}"})})
    repo = make_repo(
        tmp_path,
        {
            ".github/workflows/case.yml": flow,
            "model-routing.yml": ROUTING.format(url=gateways.url(httpserver)),
        },
    )
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", pin_script()],
        cwd=repo / ACTION_DIR,
        env={"PATH": "/usr/bin:/bin", "TAG": TAG, "OWNER": OWNER},
        check=True,
    )
    image = f"ghcr.io/{OWNER.lower()}/routing-guard:{TAG}"
    action = (repo / ACTION_DIR / "action.yml").read_text(encoding="utf-8")
    assert f"\n  image: docker://{image}\n" in action and "image: Dockerfile" not in action
    (repo / ACTION_DIR / "Dockerfile").unlink()
    commit(repo, f"Release {TAG}: use the prebuilt image {image}")

    run_podman("tag", act_env.image_id, image, timeout=120)
    try:
        run = act_env.run(repo, "push", workflow=".github/workflows/case.yml", secrets={KEY_SECRET: KEY})
    finally:
        run_podman("untag", act_env.image_id, image, check=False, timeout=120)

    assert run.returncode == 0, run.describe()
    assert run.step_result("check", "guard") == "success"
    started = [
        str(e.get("msg", "")) for e in run.of("check", "guard") if "docker run" in str(e.get("msg", ""))
    ]
    assert len(started) == 1 and f"image={image}" in started[0], run.describe()
    assert not [e for e in run.of("check", "guard") if "docker build" in str(e.get("msg", ""))]
    seen = facts(run, "check")
    assert (seen["passed"], seen["exit_code"], seen["verdicts"]) == ("true", "0", {"code-generation": "pass"})
    run.assert_never_leaks(KEY)
