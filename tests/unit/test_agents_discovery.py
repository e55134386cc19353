"""Discovery of each agent's committed settings, checked against what the agents sent (journals)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing_guard.agents import Discovery, Setting, discover
from tests.support.agent_repos import (
    CLAUDE_LAYOUT,
    CODEX_LAYOUT,
    CONFIGS,
    OPENCODE_LAYOUT,
    journal,
    lay_out,
    models_sent,
    write,
)

FACTS_ENV = json.loads((CONFIGS / "claude/project-.claude-settings.json").read_text())["env"]


def setting(found: Discovery, file: str, name: str) -> Setting:
    (match,) = [s for s in found.settings if s.file == file and s.setting == name]
    return match


def opencode_repo(root: Path) -> Path:
    lay_out(root, OPENCODE_LAYOUT)
    config = json.loads((root / "opencode.json").read_text())
    # each recorded run listed the models it used; the pinger run listed the front matter's
    config["provider"]["gw"]["models"]["gw-oc-frontmatter"] = {"name": "GW frontmatter"}
    write(root, "opencode.json", json.dumps(config, indent=2))
    return root


# -- Claude Code ----------------------------------------------------------------------------------


def test_claude_settings_keep_file_and_line(tmp_path: Path) -> None:
    found = discover(lay_out(tmp_path, CLAUDE_LAYOUT))
    rows = {(s.file, s.line, s.setting): s.resolved for s in found.settings}
    assert rows[(".claude/settings.json", 2, "model")] == "gw-cc-settings-model"
    assert rows[(".claude/settings.json", 4, "env.ANTHROPIC_DEFAULT_SONNET_MODEL")] == "gw-cc-sonnet"
    assert rows[(".claude/settings.json", 7, "env.ANTHROPIC_SMALL_FAST_MODEL")] == "gw-cc-small-fast"
    assert rows[(".claude/settings.json", 8, "env.CLAUDE_CODE_SUBAGENT_MODEL")] == "gw-cc-subagent"
    assert all(s.api == "anthropic-messages" and s.stream for s in found.settings)
    assert found.findings == []  # the recorded front matter is not strict YAML, yet Claude Code reads it


@pytest.mark.parametrize(
    ("run", "source"),
    [
        ("claude-10-subagent-sonnet", ".claude/agents/pinger-sonnet.md"),
        ("claude-11-subagent-haiku", ".claude/agents/pinger-haiku.md"),
        ("claude-11-subagent-opus", ".claude/agents/pinger-opus.md"),
        ("claude-11-subagent-literal", ".claude/agents/pinger-literal.md"),
        ("claude-11-subagent-inherit", ".claude/agents/pinger-inherit.md"),
    ],
)
def test_claude_subagent_model_is_the_one_the_subagent_sent(tmp_path: Path, run: str, source: str) -> None:
    found = discover(lay_out(tmp_path, CLAUDE_LAYOUT))
    parent, subagent, _ = models_sent(run)
    assert setting(found, source, "model").resolved == subagent
    assert setting(found, ".claude/settings.json", "model").resolved == parent


def test_claude_subagent_without_model_uses_the_subagent_variable(tmp_path: Path) -> None:
    found = discover(lay_out(tmp_path, CLAUDE_LAYOUT))
    assert [s for s in found.settings if s.file.endswith("pinger-none.md")] == []
    assert (
        setting(found, ".claude/settings.json", "env.CLAUDE_CODE_SUBAGENT_MODEL").resolved
        == models_sent("claude-11-subagent-none")[1]
    )


def test_claude_force_variable_beats_front_matter(tmp_path: Path) -> None:
    lay_out(tmp_path, CLAUDE_LAYOUT)
    env = {**FACTS_ENV, "CLAUDE_CODE_SUBAGENT_MODEL_FORCE": "1"}
    write(tmp_path, ".claude/settings.json", json.dumps({"model": "gw-cc-settings-model", "env": env}))
    found = discover(tmp_path)
    assert setting(found, ".claude/agents/pinger-sonnet.md", "model").resolved == models_sent("claude-12")[1]


@pytest.mark.parametrize(
    "alias", ["sonnet", "opus", "haiku", "best", "opusplan", "sonnet[1m]", "fable", "default"]
)
def test_claude_alias_resolves_to_what_claude_code_sent(tmp_path: Path, alias: str) -> None:
    run = "claude-07-alias-" + alias.replace("[1m]", "1m")
    write(tmp_path, ".claude/settings.json", json.dumps({"model": alias, "env": FACTS_ENV}))
    main = setting(discover(tmp_path), ".claude/settings.json", "model")
    assert main.resolved == models_sent(run)[0]
    assert main.value == alias
    # fable has no ANTHROPIC_DEFAULT_FABLE_MODEL in the recorded env: Claude Code picked its own ID
    assert main.unpinned_by == ("env.ANTHROPIC_DEFAULT_FABLE_MODEL" if alias == "fable" else None)


def test_claude_unset_alias_is_unpinned_and_small_fast_does_not_pin_haiku(tmp_path: Path) -> None:
    env = {"ANTHROPIC_SMALL_FAST_MODEL": "gw-cc-small-fast"}
    write(tmp_path, ".claude/settings.json", json.dumps({"model": "haiku", "env": env}))
    main = setting(discover(tmp_path), ".claude/settings.json", "model")
    assert main.resolved == models_sent("claude-28")[0] == "claude-haiku-5-5"
    assert main.unpinned_by == "env.ANTHROPIC_DEFAULT_HAIKU_MODEL"


def test_claude_settings_env_model_beats_model(tmp_path: Path) -> None:
    settings = {
        "model": "gw-cc-settings-model",
        "env": {"ANTHROPIC_MODEL": "gw-cc-settings-env-ANTHROPIC_MODEL"},
    }
    write(tmp_path, ".claude/settings.json", json.dumps(settings, indent=2))
    found = discover(tmp_path)
    (main,) = found.settings
    assert (main.setting, main.line, main.resolved) == ("env.ANTHROPIC_MODEL", 4, models_sent("claude-05")[0])


def test_claude_local_settings_beat_project_settings(tmp_path: Path) -> None:
    write(tmp_path, ".claude/settings.json", '{"model": "gw-cc-settings-model"}')
    write(tmp_path, ".claude/settings.local.json", '{\n  "model": "gw-cc-local-settings-model"\n}')
    (main,) = discover(tmp_path).settings
    assert (main.file, main.line, main.resolved) == (
        ".claude/settings.local.json",
        2,
        "gw-cc-local-settings-model",
    )


def test_claude_base_url_and_request_shape_match_the_journal(tmp_path: Path) -> None:
    env = {"ANTHROPIC_BASE_URL": "https://gw.example.com/", "ANTHROPIC_DEFAULT_SONNET_MODEL": "gw-cc-sonnet"}
    write(tmp_path, ".claude/settings.json", json.dumps({"model": "sonnet", "env": env}))
    main = setting(discover(tmp_path), ".claude/settings.json", "model")
    (request,) = journal("claude-02")
    assert main.endpoint == "https://gw.example.com" + request["path"]
    assert main.agent_query == "beta=true" and request["query"] == {"beta": ["true"]}
    assert dict(main.agent_headers) == {"anthropic-beta": request["headers"]["anthropic-beta"]}
    assert request["stream"] is True and main.stream is True


def test_claude_committed_keys_are_secrets_never_settings(tmp_path: Path) -> None:
    env = {"ANTHROPIC_AUTH_TOKEN": "sk-gw-committed-token-1234", "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "1234"}
    write(tmp_path, ".claude/settings.json", json.dumps({"env": env}, indent=2))
    found = discover(tmp_path)
    assert [(s.setting, s.line) for s in found.secrets] == [("env.ANTHROPIC_AUTH_TOKEN", 3)]
    assert found.secret_values() == ["sk-gw-committed-token-1234"]
    assert "sk-gw-committed" not in repr(found.secrets)


# -- Codex ----------------------------------------------------------------------------------------


def test_codex_project_config_models_match_the_journals(tmp_path: Path) -> None:
    found = discover(lay_out(tmp_path, CODEX_LAYOUT))
    main = setting(found, ".codex/config.toml", "model")
    review = setting(found, ".codex/config.toml", "review_model")
    assert (main.line, main.resolved) == (2, models_sent("codex-03")[0])
    assert (review.line, review.resolved) == (4, models_sent("codex-14")[0])
    (request,) = journal("codex-03")
    assert request["path"].endswith("/responses") and request["stream"] is True
    assert (main.api, main.stream) == ("openai-responses", True)


def test_codex_reads_agents_and_memories_tables(tmp_path: Path) -> None:
    toml = 'model = "m"\n\n[agents]\ndefault_subagent_model = "sub"\n\n[agents."re viewer"]\nmodel = "role"\n\n[memories]\nextract_model = "x"\n'
    write(tmp_path, ".codex/config.toml", toml)
    found = discover(tmp_path)
    got = {(s.setting, s.line, s.resolved) for s in found.settings}
    assert got == {
        ("model", 1, "m"),
        ("agents.default_subagent_model", 4, "sub"),
        ("agents.re viewer.model", 7, "role"),
        ("memories.extract_model", 10, "x"),
    }


def test_codex_gateway_keys_in_a_project_config_are_reported_ignored(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".codex/config.toml",
        'model = "m"\nopenai_base_url = "https://gw.example.com/v1"\n[model_providers.gw]\nbase_url = "x"\nexperimental_bearer_token = "tok-committed-123456"\n',
    )
    found = discover(tmp_path)
    assert [(f.kind, f.setting, f.line) for f in found.findings] == [
        ("gateway_differs", "model_providers", 3),
        ("gateway_differs", "openai_base_url", 2),
    ]
    assert all(f.kind == "gateway_differs" and "ignores" in f.message for f in found.findings)
    assert [(s.setting, s.line) for s in found.secrets] == [
        ("model_providers.gw.experimental_bearer_token", 5)
    ]


def test_codex_broken_toml_is_a_finding_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, ".codex/config.toml", 'model = "m"\nreview_model = \n')
    found = discover(tmp_path)
    assert found.settings == []
    (finding,) = found.findings
    assert (finding.kind, finding.file, finding.line) == ("invalid_file", ".codex/config.toml", 2)
    assert "not valid TOML" in finding.message


# -- OpenCode -------------------------------------------------------------------------------------


def test_opencode_settings_match_the_journal(tmp_path: Path) -> None:
    found = discover(opencode_repo(tmp_path))
    title, main = models_sent("opencode-01")
    assert setting(found, "opencode.json", "small_model").resolved == title
    assert setting(found, "opencode.json", "model").resolved == main
    pinger = setting(found, ".opencode/agent/pinger.md", "model")
    assert pinger.resolved == models_sent("opencode-07-subagent-pinger")[2]
    assert pinger.line == 4
    request = journal("opencode-01")[0]
    assert pinger.endpoint is not None and pinger.endpoint.endswith(request["path"])
    assert found.findings == []


@pytest.mark.parametrize(
    ("npm", "api", "run"),
    [
        ("@ai-sdk/openai", "openai-responses", "opencode-16"),
        ("@ai-sdk/anthropic", "anthropic-messages", "opencode-17"),
    ],
)
def test_opencode_provider_package_decides_the_protocol(tmp_path: Path, npm: str, api: str, run: str) -> None:
    opencode_repo(tmp_path)
    config = json.loads((tmp_path / "opencode.json").read_text())
    config["provider"]["gw"]["npm"] = npm
    write(tmp_path, "opencode.json", json.dumps(config, indent=2))
    small = setting(discover(tmp_path), "opencode.json", "small_model")
    request = journal(run)[0]
    assert (small.api, small.stream) == (api, request["stream"])
    assert small.endpoint == "http://127.0.0.1:18083" + request["path"]
    assert small.resolved == request["model"]


def test_opencode_jsonc_comments_trailing_commas_and_dot_folder_precedence(tmp_path: Path) -> None:
    write(
        tmp_path,
        "opencode.jsonc",
        '// project config\n{\n  "provider": {"gw": {"npm": "@ai-sdk/openai-compatible", "models": {"a": {}, "b": {}},},},\n'
        '  /* the main model */\n  "model": "gw/a",\n  "small_model": "gw/a", // titles\n}\n',
    )
    write(tmp_path, ".opencode/opencode.json", '{\n  "model": "gw/b"\n}\n')
    found = discover(tmp_path)
    assert found.findings == []
    assert {(s.file, s.line, s.setting, s.resolved) for s in found.settings} == {
        (".opencode/opencode.json", 2, "model", "b"),
        ("opencode.jsonc", 6, "small_model", "a"),
    }


def test_opencode_unlisted_model_and_bad_model_value_are_findings(tmp_path: Path) -> None:
    opencode_repo(tmp_path)
    config = json.loads((tmp_path / "opencode.json").read_text())
    config["agent"] = {"title": {"model": "gw/not-listed"}, "plan": {"model": "no-slash"}}
    write(tmp_path, "opencode.json", json.dumps(config, indent=2))
    found = discover(tmp_path)
    messages = sorted(f.message for f in found.findings)
    assert len(messages) == 2
    assert (
        "not listed in provider.gw.models" in messages[0] or "not listed in provider.gw.models" in messages[1]
    )
    assert any("must be `provider/model`" in m for m in messages)
    assert all(f.kind == "invalid_file" and f.file == "opencode.json" and f.line > 1 for f in found.findings)


def test_opencode_literal_api_key_is_a_secret_env_reference_is_not(tmp_path: Path) -> None:
    config = {
        "provider": {
            "a": {"options": {"apiKey": "{env:GW_API_KEY}"}},
            "b": {"options": {"apiKey": "sk-literal-key-99887766"}},
        }
    }
    write(tmp_path, "opencode.json", json.dumps(config, indent=2))
    found = discover(tmp_path)
    assert [(s.setting, s.value) for s in found.secrets] == [
        ("provider.b.options.apiKey", "sk-literal-key-99887766")
    ]


def test_base_url_credentials_are_cut_and_kept_as_secrets(tmp_path: Path) -> None:
    config = {
        "provider": {
            "gw": {
                "npm": "@ai-sdk/openai-compatible",
                "options": {"baseURL": "https://user:pa55word-xyz@gw.example.com/v1?k=1"},
                "models": {"m": {}},
            }
        },
        "model": "gw/m",
    }
    write(tmp_path, "opencode.json", json.dumps(config, indent=2))
    found = discover(tmp_path)
    (main,) = found.settings
    assert main.base_url == "https://gw.example.com/v1"
    assert found.secret_values() == ["pa55word-xyz"]


# -- agents read from public docs -----------------------------------------------------------------


def test_copilot_custom_agents(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".github/agents/review.agent.md",
        "---\nname: 'Reviewer'\ndescription: 'Reviews'\nmodel: 'Claude Sonnet 4.5'\n---\nBody\n",
    )
    write(tmp_path, ".github/agents/notes.md", "---\nmodel: ignored\n---\n")
    (found,) = discover(tmp_path).settings
    assert (found.agent, found.file, found.line, found.resolved, found.api) == (
        "copilot",
        ".github/agents/review.agent.md",
        4,
        "Claude Sonnet 4.5",
        None,
    )


def test_aider_models_protocols_and_keys(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".aider.conf.yml",
        "model: openai/gw-main\nweak-model: anthropic/claude-haiku-x\neditor-model: deepseek/chat\nopenai-api-base: https://gw.example.com/v1\nopenai-api-key: sk-aider-committed-1\n",
    )
    found = discover(tmp_path)
    got = {(s.setting, s.line, s.resolved, s.api, s.endpoint) for s in found.settings}
    assert got == {
        ("model", 1, "gw-main", "openai-chat", "https://gw.example.com/v1/chat/completions"),
        ("weak-model", 2, "claude-haiku-x", "anthropic-messages", None),
        ("editor-model", 3, "deepseek/chat", None, None),
    }
    assert [(s.setting, s.line) for s in found.secrets] == [("openai-api-key", 5)]


def test_gemini_model_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".gemini/settings.json",
        '{\n  // picked for the team\n  "model": {\n    "name": "gemini-x-pro"\n  }\n}\n',
    )
    (found,) = discover(tmp_path).settings
    assert (found.agent, found.setting, found.line, found.resolved) == (
        "gemini-cli",
        "model.name",
        4,
        "gemini-x-pro",
    )


def test_mixed_repository_lists_every_agent(tmp_path: Path) -> None:
    lay_out(tmp_path, {**CLAUDE_LAYOUT, **CODEX_LAYOUT})
    opencode_repo(tmp_path)
    found = discover(tmp_path)
    assert {s.agent for s in found.settings} == {"claude-code", "codex", "opencode"}
    assert found.findings == [] and found.secrets == []
    assert len(found.settings) == 2 + 6 + 5 + 3


def test_no_agent_files_finds_nothing(tmp_path: Path) -> None:
    found = discover(tmp_path)
    assert (found.settings, found.findings, found.files) == ([], [], [])
