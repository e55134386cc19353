"""The Python distributions as the release workflow builds them: `python -m build` makes an sdist and a
wheel from it, PyPI's own metadata check passes, and the wheel installed into a fresh virtual
environment runs. Also the release workflow's PyPI jobs: trusted publishing, a pinned publisher."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from routing_guard import __version__
from tests.support.checkout import REPO_ROOT, copy_checkout

RELEASE_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "release.yml"
PUBLISHER = re.compile(r"pypa/gh-action-pypi-publish@[0-9a-f]{40}")


def run(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def test_build_makes_an_sdist_and_a_wheel_that_install_and_run(tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "source")
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--outdir", dist, source)

    built = sorted(p.name for p in dist.iterdir())
    assert built == [f"routing_guard-{__version__}-py3-none-any.whl", f"routing_guard-{__version__}.tar.gz"]
    run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))

    wheel = dist / built[0]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "routing_guard/schema/routing.schema.json" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "examples/"))], sorted(names)
    with tarfile.open(dist / built[1]) as archive:
        sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"README.md", "pyproject.toml", "routing_guard/schema/routing.schema.json"} <= sdist

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)
    version = run(venv / "bin" / "routing-guard", "--version")
    assert version.stdout.strip() == f"routing-guard {__version__}"

    # outside the checkout, the schema comes from the installed wheel
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".github").mkdir(parents=True)
    (elsewhere / ".github" / "model-routing.yml").write_text(
        "version: 1\ngateway: {base_url: 'https://gateway.example.com/v1'}\n"
        "routes:\n  code-generation: {model: gpt-4o}\n",
        encoding="utf-8",
    )
    validated = run(venv / "bin" / "routing-guard", "validate", cwd=elsewhere)
    assert "valid, 1 route(s): code-generation" in validated.stdout


def _jobs() -> dict[str, Any]:
    workflow = yaml.safe_load(RELEASE_WORKFLOW.read_text(encoding="utf-8"))
    jobs: dict[str, Any] = workflow["jobs"]
    return jobs


def _steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


def test_release_builds_the_distributions_with_the_pinned_tools_and_runs_the_wheel() -> None:
    dist = _jobs()["dist"]
    text = _steps_text(dist)
    assert "requirements-release.txt" in text
    assert "python -m build" in text
    assert "twine check --strict" in text
    assert re.search(r"routing-guard\"? --version", text)
    assert dist["permissions"] == {"contents": "read"}


def test_release_publishes_with_trusted_publishing_only() -> None:
    pypi = _jobs()["pypi"]
    assert pypi["needs"] == "dist"
    assert pypi["environment"]["name"] == "pypi"
    assert pypi["permissions"] == {"id-token": "write"}, "OIDC for PyPI, nothing else"
    publish = [step for step in pypi["steps"] if "gh-action-pypi-publish" in str(step.get("uses", ""))]
    assert len(publish) == 1
    assert PUBLISHER.fullmatch(publish[0]["uses"]), "pin the publisher by a full commit SHA"
    assert not set(publish[0].get("with") or {}) & {"password", "user"}, "no API token: trusted publishing"
    assert "secrets." not in yaml.safe_dump(pypi)
