"""The action image, built and run the way the GitHub runner does, and the harness that does it.

The parser tests run anywhere. The `container` tests build the Dockerfile with podman (see
tests/support/container_harness.py; `scripts/container-setup.sh` prepares the machine) and check what the
image must get right whatever the product does: an absolute entrypoint that survives a hostile
PATH, the runner's environment and mounts, git trusting a workspace owned by another user, hash-
pinned runtime dependencies and nothing else. The action's own scenarios live elsewhere and use the
same harness.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.container_harness import (
    BASE_IMAGE,
    HOSTILE_PATH,
    REPO_ROOT,
    FileCommandError,
    build_image,
    build_info,
    exec_in_image,
    image_size,
    input_variable,
    inspect_image,
    layer_count,
    parse_key_value_file,
    parse_workflow_commands,
    plan_invocation,
    require_podman,
    run_action,
    size_above_base,
)

VENV_PYTHON = "/opt/routing-guard/bin/python"
ENTRYPOINT = [VENV_PYTHON, "/opt/routing-guard/app/entrypoint.py"]
# Until entrypoint.py exists the image is built with this stand-in, so the image can still be checked.
STUB_ENTRYPOINT = (
    'import sys\n\nimport routing_guard\n\nprint("stub entrypoint", routing_guard.__version__)\n'
)
SIZE_SANITY_BOUND = 200 * 1000 * 1000  # bytes above the base; the target is under 80 MB


# --- GITHUB_OUTPUT as the runner parses it (no podman) --------------------------------------------


def test_output_simple_values() -> None:
    text = "passed=true\n\nexit-code=0\nreport==a=b=\nempty=\n"
    assert parse_key_value_file(text) == {"passed": "true", "exit-code": "0", "report": "=a=b=", "empty": ""}


def test_output_heredoc_values_keep_inner_newlines_and_drop_the_last() -> None:
    text = (
        "failed-routes<<ghadelimiter_1\nplan\n\nreview\n\nghadelimiter_1\n"
        "one<<EOF\nsingle\nEOF\n"
        "blank<<EOF\nEOF\n"
        "odd<<=EOF\nkey=value\n EOF\n=EOF\n"
    )
    assert parse_key_value_file(text) == {
        "failed-routes": "plan\n\nreview\n",
        "one": "single",
        "blank": "",
        "odd": "key=value\n EOF",
    }


def test_output_delimiter_line_may_end_the_file_without_newline() -> None:
    assert parse_key_value_file("a<<X\nvalue\nX") == {"a": "value"}


def test_output_later_entries_win_and_carriage_returns_stay() -> None:
    assert parse_key_value_file("a=1\na=2\nb=x\r\n") == {"a": "2", "b": "x\r"}


def test_output_only_newline_ends_a_line() -> None:
    assert parse_key_value_file("a<<EOF\r\nvalue\r\nEOF\r\n") == {"a": "value\r"}  # delimiter "EOF\r"
    with pytest.raises(FileCommandError, match="Matching delimiter not found"):
        parse_key_value_file("a<<EOF\nvalue\r\nEOF\r\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a<<EOF\nvalue\n", "Matching delimiter not found 'EOF'"),
        ("a<<EOF\nvalueEOF", "EOF marker missing new line"),
        ("a<<EOF line one\nline two\nline three EOF", "EOF marker missing new line"),
        ("just text\n", "Invalid format 'just text'"),
        ("<<EOF\nx\nEOF\n", "Name must not be empty and delimiter must not be empty"),
        ("name<<\nx\n", "Name must not be empty and delimiter must not be empty"),
        ("=value\n", "Name must not be empty"),
    ],
)
def test_output_malformed_files_fail_as_on_the_runner(text: str, message: str) -> None:
    with pytest.raises(FileCommandError, match=re.escape(message)):
        parse_key_value_file(text)


# --- workflow commands as the runner reads them (no podman) ---------------------------------------


def test_workflow_commands_properties_data_and_escapes() -> None:
    lines = [
        (
            "stdout",
            "  ::error file=model-routing.yml,line=12,title=plan%3A fell back%2C twice::50%25%0Adone\n",
        ),
        ("stderr", "::ADD-MASK::sk-secret\n"),
        ("stdout", "::unknown::not a command\n"),
        ("stdout", "text before ::warning::is not a command\n"),
        ("stdout", "::notice::\n"),
    ]
    commands = parse_workflow_commands(lines)
    assert [(c.name, c.stream) for c in commands] == [
        ("error", "stdout"),
        ("add-mask", "stderr"),
        ("notice", "stdout"),
    ]
    error = commands[0]
    assert error.properties == {"file": "model-routing.yml", "line": "12", "title": "plan: fell back, twice"}
    assert error.data == "50%\ndone"
    assert commands[1].data == "sk-secret"


def test_workflow_commands_stop_and_resume() -> None:
    lines = [
        ("stdout", "::stop-commands::tok123\n"),
        ("stdout", "::error::from the gateway\n"),
        ("stderr", "##[error]legacy form from the gateway\n"),
        ("stdout", "::TOK123::\n"),
        ("stdout", "::warning::after resuming\n"),
        ("stdout", "::stop-commands::\n"),
        ("stdout", "::::\n"),
        ("stdout", "::error::an empty token never resumes\n"),
    ]
    assert [(c.name, c.data) for c in parse_workflow_commands(lines)] == [("warning", "after resuming")]


def test_workflow_commands_legacy_form_is_found_anywhere_in_a_line() -> None:
    (command,) = parse_workflow_commands([("stdout", "model said: ##[warning file=a%3Bb]hi%5D\n")])
    assert (command.name, command.syntax, command.properties, command.data) == (
        "warning",
        "v1",
        {"file": "a;b"},
        "hi]",
    )


# --- the runner's command line (no podman) --------------------------------------------------------


def test_invocation_passes_names_only_and_applies_action_defaults(tmp_path: Path) -> None:
    action_yml = tmp_path / "action.yml"
    action_yml.write_text(
        "inputs:\n  api-key:\n    default: ''\n  mode:\n    default: check\n  no default: {}\n"
        "runs:\n  using: docker\n  image: Dockerfile\n  env:\n    FROM_ACTION: a\n    KEPT: from-action\n"
    )
    mounts = {"/github/workspace": tmp_path / "ws", "/github/file_commands": tmp_path / "fc"}
    plan = plan_invocation(
        "localhost/routing-guard:test",
        inputs={"api-key": "sk-secret value", "routes": "plan,review"},
        env={"KEPT": "from-workflow", "ROUTING_FILE": str(tmp_path / "ws" / "routing.yml")},
        github={"GITHUB_EVENT_NAME": "pull_request"},
        mounts=mounts,
        guid="0000",
        action_yml=action_yml,
    )
    env = plan.container_env
    assert input_variable("api-key") == "INPUT_API-KEY"
    assert env["INPUT_API-KEY"] == "sk-secret value"
    assert env["INPUT_MODE"] == "check"
    assert env["INPUT_NO_DEFAULT"] == ""
    assert env["INPUT_ROUTES"] == "plan,review"
    assert (env["FROM_ACTION"], env["KEPT"]) == ("a", "from-workflow")
    assert env["ROUTING_FILE"] == "/github/workspace/routing.yml"  # host paths are translated
    assert env["PATH"] == HOSTILE_PATH
    assert env["HOME"] == "/github/home"
    assert env["GITHUB_EVENT_NAME"] == "pull_request"
    assert env["GITHUB_OUTPUT"] == "/github/file_commands/set_output_0000"
    assert env["GITHUB_STEP_SUMMARY"] == "/github/file_commands/step_summary_0000"
    assert env["GITHUB_EVENT_PATH"] == "/github/workflow/event.json"
    assert all(plan.client_env[name] == value for name, value in env.items())
    argv = " ".join(plan.argv)
    assert "sk-secret" not in argv and "plan,review" not in argv
    assert "-e INPUT_API-KEY " in argv and "-e GITHUB_ACTIONS=true" in argv and "-e CI=true" in argv
    assert "--workdir /github/workspace --rm" in argv


def test_invocation_refuses_what_the_runner_sets_itself(tmp_path: Path) -> None:
    for env, github in (
        ({"GITHUB_OUTPUT": "x"}, {}),
        ({"GITHUB_EVENT_NAME": "push"}, {}),
        ({}, {"HOME": "/"}),
    ):
        with pytest.raises(ValueError, match="set by the runner"):
            plan_invocation("img", inputs={}, env=env, github=github, mounts={}, guid="0", action_yml=None)


# --- the image's dependencies (no podman) ---------------------------------------------------------


def _requirement_names(lines: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", line.strip(), maxsplit=1)[0].lower() for line in lines}


def test_requirements_in_matches_the_project_dependencies() -> None:
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = sorted(line.replace(" ", "") for line in project["dependencies"])
    listed = [
        line.strip().replace(" ", "")
        for line in (REPO_ROOT / "requirements.in").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert sorted(listed) == wanted, "keep requirements.in in step with [project.dependencies]"
    pinned = (REPO_ROOT / "requirements.txt").read_text()
    for name in _requirement_names(listed):
        assert re.search(rf"^{re.escape(name)}==\S+ \\\n\s+--hash=sha256:", pinned, re.M | re.I), name


# --- the image ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image() -> str:
    require_podman()
    if (REPO_ROOT / "entrypoint.py").is_file():
        return build_image()
    return build_image("localhost/routing-guard:test-stub", overrides={"entrypoint.py": STUB_ENTRYPOINT})


@pytest.mark.container
@pytest.mark.timeout(900)
def test_image_size_and_layers_are_reported(image: str) -> None:
    above, layers = size_above_base(image), layer_count(image)
    base_layers = layer_count(BASE_IMAGE)
    print(
        f"\nimage {image[:12]}: {image_size(image) / 1e6:.1f} MB, {above / 1e6:.1f} MB above {BASE_IMAGE}, "
        f"{layers - base_layers} layers above the base ({layers} in all); "
        f"built in {build_info(image).seconds:.1f} s this session"
    )
    assert 0 < above < SIZE_SANITY_BOUND


@pytest.mark.container
@pytest.mark.timeout(900)
def test_image_config_follows_the_runner_rules(image: str) -> None:
    config = inspect_image(image)["Config"]
    assert config["Entrypoint"] == ENTRYPOINT  # exec form, absolute interpreter
    assert not config.get("Cmd")  # `args` from action.yml are the only arguments
    assert config.get("User", "") in ("", "root", "0")
    assert config.get("WorkingDir", "") in ("", "/")  # the runner's --workdir decides
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PIP_NO_CACHE_DIR"] == "1"


@pytest.mark.container
@pytest.mark.timeout(900)
def test_runtime_is_exactly_the_hashed_requirements(image: str) -> None:
    probe = (
        "import importlib.metadata as m, importlib.util as u, json\n"
        "names = sorted(d.metadata['Name'].lower().replace('_', '-') for d in m.distributions())\n"
        "tools = [t for t in ('pytest', 'hypothesis', 'ruff', 'mypy', 'pip', 'setuptools', 'pytest_httpserver')"
        " if u.find_spec(t)]\n"
        "import routing_guard, httpx, h2, jsonschema, yaml\n"
        "print(json.dumps({'names': names, 'tools': tools, 'pkg': routing_guard.__file__}))\n"
    )
    proc = exec_in_image(image, [VENV_PYTHON, "-c", probe], env={"PATH": HOSTILE_PATH})
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    pinned = sorted(
        re.split(r"[=\[ ]", line, maxsplit=1)[0].lower()
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if re.match(r"^[A-Za-z0-9]", line)
    )
    assert found["names"] == pinned  # hash-pinned runtime only: no test tools, no pip
    assert found["tools"] == []
    assert found["pkg"] == "/opt/routing-guard/app/routing_guard/__init__.py"


@pytest.mark.container
@pytest.mark.timeout(900)
def test_runner_environment_mounts_and_file_commands(image: str, tmp_path: Path) -> None:
    """The harness end to end, with a probe in place of the entrypoint: what the action will see."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "model-routing.yml").write_text("routes: {}\n")
    probe = r"""
import json, os, sys
env = os.environ
with open(env["GITHUB_OUTPUT"], "a") as out:
    out.write("passed=false\nfailed-routes<<ghadelimiter_7f\nplan\nreview\nghadelimiter_7f\n")
with open(env["GITHUB_STEP_SUMMARY"], "a") as summary:
    summary.write("### routing-guard\n\n| route | verdict |\n")
print("::add-mask::" + env["INPUT_API-KEY"])
print("::stop-commands::t0k3n")
print("::error::gateway text that must not become an annotation")
print("::t0k3n::")
print("::error file=model-routing.yml,line=1,title=routing-guard::plan fell back", file=sys.stderr)
print(json.dumps({
    "cwd": os.getcwd(), "argv": sys.argv[1:], "uid": os.getuid(),
    "env": {k: v for k, v in env.items() if k.startswith(("INPUT_", "GITHUB_", "RUNNER_")) or k in ("HOME", "CI", "PATH", "ROUTING")},
    "workspace": sorted(os.listdir(".")),
    "event": json.load(open(env["GITHUB_EVENT_PATH"])),
    "writable": [os.access(p, os.W_OK) for p in ("/github/workspace", "/github/home", "/github/runner_temp")],
}))
"""
    run = run_action(
        image,
        inputs={"api-key": "sk-test-not-a-secret", "routes": "plan\nreview"},
        env={"ROUTING": "yes"},
        workspace=workspace,
        github={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"},
        event={"pull_request": {"number": 7}},
        entrypoint=VENV_PYTHON,
        args=["-c", probe, "arg with space", ""],
    )
    assert run.exit_code == 0, run.describe()
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    env = seen["env"]
    assert seen["cwd"] == "/github/workspace"
    assert seen["argv"] == ["arg with space", ""]
    assert seen["uid"] == 0
    assert seen["workspace"] == ["model-routing.yml"]
    assert seen["event"] == {"pull_request": {"number": 7}}
    assert seen["writable"] == [True, True, True]
    assert env["PATH"] == HOSTILE_PATH
    assert env["HOME"] == "/github/home"
    assert (env["CI"], env["GITHUB_ACTIONS"], env["ROUTING"]) == ("true", "true", "yes")
    assert env["INPUT_API-KEY"] == "sk-test-not-a-secret"
    assert env["INPUT_ROUTES"] == "plan\nreview"
    assert env["GITHUB_EVENT_NAME"] == "pull_request" and env["GITHUB_BASE_REF"] == "main"
    assert env["GITHUB_WORKSPACE"] == "/github/workspace"
    assert re.fullmatch(r"/github/file_commands/set_output_[0-9a-f-]{36}", env["GITHUB_OUTPUT"])
    assert re.fullmatch(r"/github/file_commands/step_summary_[0-9a-f-]{36}", env["GITHUB_STEP_SUMMARY"])
    if (REPO_ROOT / "action.yml").is_file():
        assert env["INPUT_MODE"] == "check"  # action.yml's default for an input left out
    assert "sk-test-not-a-secret" not in " ".join(run.invocation.argv)
    assert run.outputs == {"passed": "false", "failed-routes": "plan\nreview"}
    assert run.summary.startswith("### routing-guard") and run.summary_uploaded
    assert run.masks == ["sk-test-not-a-secret"]
    (error,) = run.commands("error")
    assert (error.stream, error.data, error.properties["line"]) == ("stderr", "plan fell back", "1")
    assert not run.step_failed


@pytest.mark.container
@pytest.mark.timeout(900)
def test_malformed_output_fails_the_step(image: str, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    probe = "import os; open(os.environ['GITHUB_OUTPUT'], 'a').write('report<<EOF\\nno closing delimiter\\n')"
    run = run_action(
        image,
        inputs={},
        env={},
        workspace=workspace,
        network_host=False,
        entrypoint=VENV_PYTHON,
        args=["-c", probe],
    )
    assert run.exit_code == 0
    assert run.step_failed
    assert run.file_command_errors == ["GITHUB_OUTPUT: Invalid value. Matching delimiter not found 'EOF'"]
    with pytest.raises(FileCommandError):
        _ = run.outputs


@pytest.mark.container
@pytest.mark.timeout(900)
def test_git_trusts_a_workspace_owned_by_another_user(image: str, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    git = ["git", "-C", str(workspace), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    (workspace / "model-routing.yml").write_text("routes: {}\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "routing"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout
    run = run_action(
        image,
        inputs={},
        env={},
        workspace=workspace,  # chowned to uid 1001, the hosted runner's user
        network_host=False,
        entrypoint="/usr/bin/git",
        args=["log", "-1", "--format=%H"],
    )
    assert run.exit_code == 0, run.describe()  # not "detected dubious ownership"
    assert run.stdout == head


@pytest.mark.container
@pytest.mark.timeout(900)
def test_entrypoint_runs_with_a_hostile_path(image: str, tmp_path: Path) -> None:
    """The image's own entrypoint, as the runner starts it: python is found by absolute path."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    run = run_action(image, inputs={"mode": "validate"}, env={}, workspace=workspace, network_host=False)
    assert run.invocation.container_env["PATH"] == HOSTILE_PATH
    assert run.exit_code not in (125, 126, 127), run.describe()  # podman, not executable, not found
    assert "Traceback" not in run.stdout + run.stderr, run.describe()
    if not (REPO_ROOT / "entrypoint.py").is_file():
        assert run.exit_code == 0 and "stub entrypoint" in run.stdout
        return
    assert run.exit_code in (0, 1, 2, 3), run.describe()  # the CLI's exit codes
    run.outputs  # noqa: B018 - a file the runner accepts (raises FileCommandError otherwise)


@pytest.mark.container
@pytest.mark.timeout(900)
def test_version_with_a_hostile_path(image: str) -> None:
    if not (REPO_ROOT / "routing_guard" / "cli.py").is_file():
        pytest.skip("routing_guard/cli.py does not exist yet")
    from routing_guard import __version__

    proc = exec_in_image(image, [VENV_PYTHON, "-m", "routing_guard", "--version"], env={"PATH": HOSTILE_PATH})
    assert proc.returncode == 0, proc.stderr
    assert __version__ in proc.stdout + proc.stderr
