"""The README's first command, as typed, on a newcomer's stock Debian: it ends in the demo table.

The machine is localhost/debian-stock:local (scripts/container-setup.sh): a plain Debian bookworm
root (minbase) with Debian's python3 and no python3-venv, sudo, and a user `newcomer` in the sudo
group. The command is read from README.md (the first line of its first `sh` block) and run by that
user in a copy of the checkout, with the package index and the Debian mirror reachable.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.checkout import REPO_ROOT, copy_checkout
from tests.support.container_harness import LABEL, require_podman, run_podman

STOCK_IMAGE = "localhost/debian-stock:local"
USER = "newcomer"
CLONE = f"/home/{USER}/routing-guard"
TABLE_HEADER = re.compile(r"^route +requested +returned +HTTP +verdict +notes$", re.M)
DEMO_ROUTES = ("code-generation", "test-repair", "ci-triage")


def readme_first_command() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```sh\n(.*?)^```", readme, re.M | re.S)
    assert block, "README.md starts with a ```sh block of commands"
    return block.group(1).splitlines()[0]


def test_the_first_command_installs_and_runs_the_demo() -> None:
    command = readme_first_command()
    assert "routing-guard demo" in command
    assert "pip install" in command and "--break-system-packages" not in command


def require_stock_image() -> None:
    require_podman()
    if run_podman("image", "exists", STOCK_IMAGE, check=False).returncode != 0:
        pytest.fail(f"{STOCK_IMAGE} is missing: run scripts/container-setup.sh (as root)", pytrace=False)


def run_as_newcomer(
    script: str, *, clone: Path | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    mount = ["-v", f"{clone}:{CLONE}", "--workdir", CLONE] if clone else []
    return run_podman(
        "run", "--rm", "--label", LABEL, "--network=host", "--user", USER, *mount,
        STOCK_IMAGE, "bash", "-c", script,
        check=False, timeout=timeout,
    )  # fmt: skip


@pytest.mark.container
@pytest.mark.timeout(900)
def test_stock_debian_python_has_no_venv_so_the_command_names_its_package() -> None:
    require_stock_image()
    probe = run_as_newcomer("python3 -m venv /tmp/probe")
    assert probe.returncode != 0, "the stand-in is not stock: python3 -m venv works without python3-venv"
    assert "ensurepip is not available" in " ".join((probe.stdout + probe.stderr).split())
    assert readme_first_command().startswith("sudo apt-get install -y python3-venv && ")


@pytest.mark.container
@pytest.mark.timeout(900)
def test_the_readme_command_as_typed_ends_in_the_demo_table(tmp_path: Path) -> None:
    require_stock_image()
    clone = copy_checkout(tmp_path / "routing-guard")
    uid = int(run_as_newcomer("id -u").stdout.strip())
    for path in [clone, *clone.rglob("*")]:
        os.lchown(path, uid, uid)

    run = run_as_newcomer(readme_first_command(), clone=clone, timeout=800)
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"exit {run.returncode}:\n{output[-6000:]}"
    table = TABLE_HEADER.search(run.stdout)
    assert table, f"no demo table on stdout:\n{run.stdout[-4000:]}"
    rows = run.stdout[table.end() :].splitlines()[1 : 1 + len(DEMO_ROUTES)]
    assert [row.split()[0] for row in rows] == list(DEMO_ROUTES), run.stdout[-4000:]
    assert "error path [openai-chat]" in run.stdout
    assert re.search(r"Markdown job summary written to \S+summary\.md$", run.stdout.rstrip(), re.M)
