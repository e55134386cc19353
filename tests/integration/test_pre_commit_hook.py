"""The pre-commit hook this repository offers (.pre-commit-hooks.yaml), run by pre-commit itself:
`pre-commit try-repo` installs this repository into pre-commit's own environment, as a user's
`.pre-commit-config.yaml` would, and runs the hook on a sample repository. The hook repository is a
commit of the checkout's files (try-repo leaves out files git does not track yet)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.checkout import REPO_ROOT, copy_checkout

HOOK = "routing-guard-validate"
GOOD = """\
version: 1
gateway: {base_url: "https://gateway.example.com/v1"}
routes:
  code-generation: {model: gpt-4o}
  test-repair: {model: claude-sonnet-4-5}
"""
DUPLICATE = GOOD + "  code-generation: {model: gpt-4o-mini}\n"


def pre_commit() -> list[str]:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.fail(
            "pre-commit is not installed: pip install -e '.[test]' (scripts/test.sh does)", pytrace=False
        )
    return [sys.executable, "-m", "pre_commit"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")  # pre-commit's cache: this module's alone
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    repo = copy_checkout(tmp_path_factory.mktemp("hook-repo"))
    for args in (["init", "--quiet"], ["add", "."], ["commit", "--quiet", "-m", "hook repository"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo


def try_repo(
    sample: Path, hook_repo: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*pre_commit(), "try-repo", str(hook_repo), HOOK, "--verbose", *args],
        cwd=sample,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def sample_repo(path: Path, routing: str) -> Path:
    (path / ".github").mkdir(parents=True)
    (path / ".github" / "model-routing.yml").write_text(routing, encoding="utf-8")
    (path / "notes.txt").write_text("unrelated\n", encoding="utf-8")
    git(path, "init", "--quiet")
    git(path, "add", ".")
    return path


def test_the_manifest_is_valid_for_pre_commit(env: dict[str, str]) -> None:
    result = subprocess.run(
        [*pre_commit(), "validate-manifest", str(REPO_ROOT / ".pre-commit-hooks.yaml")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(900)
def test_the_hook_passes_a_valid_routing_file_and_fails_a_broken_one(
    tmp_path: Path, hook_repo: Path, env: dict[str, str]
) -> None:
    good = sample_repo(tmp_path / "good", GOOD)
    passed = try_repo(good, hook_repo, env, "--all-files")
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert "routing-guard validate" in output and "Passed" in output
    assert ".github/model-routing.yml: valid, 2 route(s): code-generation, test-repair" in output

    skipped = try_repo(good, hook_repo, env, "--files", "notes.txt")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "Skipped" in skipped.stdout, "a commit that touches no routing file does not run the hook"

    broken = sample_repo(tmp_path / "broken", DUPLICATE)
    failed = try_repo(broken, hook_repo, env, "--all-files")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert ".github/model-routing.yml:6:" in output and "code-generation" in output, output
