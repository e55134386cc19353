"""scripts/check_action_metadata.py: `${{ }}` only where the runner's action schema allows it.

tests/runner/test_act_load.py proves, with act, that each refused variant below is one the runner
emulator refuses too, at the same line and column.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.check_action_metadata import check, expressions, names_used

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION_YML = REPO_ROOT / "action.yml"
CHECKER = REPO_ROOT / "scripts" / "check_action_metadata.py"

DOCKER_ACTION = """\
name: x
description: d
inputs:
  key:
    description: {description}
    default: {default}
runs:
  using: docker
  image: Dockerfile
  args: [{arg}]
  env:
    KEY: {env}
"""


def action(**fields: str) -> str:
    values = {"description": "d", "default": '""', "arg": '"plain"', "env": "plain"} | fields
    return DOCKER_ACTION.format(**values)


def test_the_real_action_yml_passes() -> None:
    assert check(ACTION_YML.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"default": "${{ github.workspace }}"},
        {"default": "\"${{ hashFiles('**/x') }}\""},
        {"arg": '"${{ inputs.key }}"'},
        {"arg": "\"x ${{ format('{0}}}', inputs.key) }}\""},
        {"env": "${{ inputs.key }}"},
        {"env": "${{ contains(inputs.key, 'secrets.X') && true }}"},
        {"description": "'costs $5, {{ literally }}'"},
    ],
)
def test_expressions_where_the_schema_allows_them(fields: dict[str, str]) -> None:
    assert check(action(**fields)) == []


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        ({"description": "Pass ${{ secrets.GATEWAY_API_KEY }}"}, 5, "no expression is allowed here"),
        ({"description": "\"${{ 'a literal' }}\""}, 5, "no expression is allowed here"),
        ({"default": "${{ secrets.X }}"}, 6, "'secrets' is not available here"),
        ({"default": "${{ inputs.other }}"}, 6, "'inputs' is not available here"),
        ({"arg": '"${{ github.sha }}"'}, 10, "'github' is not available here (only: inputs)"),
        ({"env": "${{ steps.a.outputs.b }}"}, 12, "'steps' is not available here"),
        ({"env": "${{ hashFiles('x') }}"}, 12, "function 'hashfiles' is not available here"),
        ({"env": "${{ inputs.key"}, 12, "an unclosed `${{`"),
    ],
)
def test_expressions_the_runner_refuses(fields: dict[str, str], line: int, message: str) -> None:
    problems = check(action(**fields))
    assert [(p.line, message in p.message) for p in problems] == [(line, True)], problems


def test_every_other_place_refuses_an_expression() -> None:
    text = action() + "  pre-entrypoint: /bin/true\n  pre-if: ${{ always() }}\n"
    text = text.replace("image: Dockerfile", "image: ${{ inputs.key }}").replace("name: x", "name: ${{ x }}")
    text = text.replace("  key:\n", "  ${{ inputs.key }}:\n")
    problems = check(text)
    assert sorted(p.path for p in problems) == [
        "inputs.${{ inputs.key }}",
        "name",
        "runs.image",
        "runs.pre-if",
    ]
    assert all("no expression is allowed here" in p.message for p in problems)


def test_only_container_actions_are_known() -> None:
    text = "name: x\ndescription: d\nruns:\n  using: composite\n  steps: []\n"
    assert [p.path for p in check(text)] == ["runs.using"]


def test_expression_bodies_respect_string_literals() -> None:
    assert list(expressions("a ${{ format('}}', x) }} b ${{y}}")) == [" format('}}', x) ", "y"]
    assert list(expressions("${{ 'it''s' }} ${{ open")) == [" 'it''s' ", None]
    assert list(expressions("no expression: $ {{ }}")) == []


def test_names_used_skips_properties_literals_and_strings() -> None:
    contexts, functions = names_used(
        "github.event.pull_request.head-ref == 'secrets.X' && toJSON(matrix)[0] != null || 0x1F"
    )
    assert contexts == {"github", "matrix"}
    assert functions == {"tojson"}


def test_command_line_reports_file_line_and_column(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(action(), encoding="utf-8")
    bad.write_text(action(description="'Pass ${{ secrets.GATEWAY_API_KEY }}'"), encoding="utf-8")
    ok = subprocess.run([sys.executable, CHECKER, good], capture_output=True, text=True, check=False)
    assert (ok.returncode, ok.stderr) == (0, "")
    refused = subprocess.run(
        [sys.executable, CHECKER, good, bad], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 1
    assert f"{bad}:5:18: inputs.key.description: `${{{{ secrets.GATEWAY_API_KEY }}}}`" in refused.stderr
    assert str(good) not in refused.stderr
