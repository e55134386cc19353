"""Agent files are untrusted: oversized, binary, symlinked-out or broken files are findings, never crashes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from routing_guard.agents import discover
from routing_guard.agents.reading import MAX_BYTES, AgentFileError, parse_json, parse_toml, read_text
from tests.support.agent_repos import write


def only_finding(root: Path) -> tuple[str, str, int, str]:
    found = discover(root)
    assert found.settings == []
    (finding,) = found.findings
    return finding.kind, finding.file, finding.line, finding.message


def test_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    write(tmp_path, ".claude/settings.json", '{"model": "m", "pad": "' + "x" * MAX_BYTES + '"}')
    kind, file, line, message = only_finding(tmp_path)
    assert (kind, file, line) == ("invalid_file", ".claude/settings.json", 1)
    assert "larger than 256 KiB" in message


def test_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"model": "stolen"}')
    repo = tmp_path / "repo"
    (repo / ".claude").mkdir(parents=True)
    (repo / ".claude/settings.json").symlink_to(outside)
    kind, file, _, message = only_finding(repo)
    assert (kind, file) == ("invalid_file", ".claude/settings.json")
    assert "outside the repository" in message and "stolen" not in message


def test_symlinked_folder_out_of_the_repository_is_not_listed(tmp_path: Path) -> None:
    outside = tmp_path / "agents"
    outside.mkdir()
    (outside / "x.md").write_text("---\nmodel: stolen\n---\n")
    repo = tmp_path / "repo"
    (repo / ".claude").mkdir(parents=True)
    (repo / ".claude/agents").symlink_to(outside)
    assert discover(repo).settings == []


def test_symlink_inside_the_repository_is_read(tmp_path: Path) -> None:
    write(tmp_path, "shared/opencode.json", '{"model": "gw/m"}')
    (tmp_path / "opencode.json").symlink_to(tmp_path / "shared/opencode.json")
    (found,) = discover(tmp_path).settings
    assert found.resolved == "m"


def test_dangling_symlink_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / ".codex").mkdir()
    (tmp_path / ".codex/config.toml").symlink_to(tmp_path / "missing.toml")
    kind, file, _, message = only_finding(tmp_path)
    assert (kind, file) == ("invalid_file", ".codex/config.toml") and "cannot be read" in message


def test_binary_file_is_refused_with_the_line_of_its_first_nul(tmp_path: Path) -> None:
    (tmp_path / ".codex").mkdir()
    (tmp_path / ".codex/config.toml").write_bytes(b'model = "m"\n\x00\x01\x02')
    assert only_finding(tmp_path)[2:] == (
        2,
        ".codex/config.toml contains NUL bytes (a binary file?); not read",
    )


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".aider.conf.yml").write_bytes(b"model: a\nweak-model: \xff\xfe\n")
    kind, _, line, message = only_finding(tmp_path)
    assert (kind, line) == ("invalid_file", 2) and "not UTF-8" in message


def test_fifo_is_not_opened(tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    os.mkfifo(tmp_path / ".claude/settings.json")
    assert "not a regular file" in only_finding(tmp_path)[3]


def test_plain_json_with_a_comment_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, ".claude/settings.json", '{\n  "model": "m", // mine\n}\n')
    kind, file, line, message = only_finding(tmp_path)
    assert (kind, file, line) == ("invalid_file", ".claude/settings.json", 2)
    assert "plain JSON" in message


def test_broken_jsonc_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "opencode.jsonc", '{\n  // ok\n  "model": "gw/m",\n  "small_model": \n}\n')
    assert only_finding(tmp_path)[:3] == ("invalid_file", "opencode.jsonc", 5)


def test_deeply_nested_json_is_refused_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path, "opencode.json", '{"x": ' + "[" * 100_000 + "]" * 100_000 + ', "model": "gw/m"}')
    assert only_finding(tmp_path)[:3] == ("invalid_file", "opencode.json", 1)
    assert "nested too deeply" in only_finding(tmp_path)[3]


def test_unclosed_front_matter_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, ".claude/agents/x.md", "---\nmodel: sonnet\nno end\n")
    kind, file, line, message = only_finding(tmp_path)
    assert (kind, file, line) == ("invalid_file", ".claude/agents/x.md", 1) and "never closed" in message


def test_yaml_aliases_are_not_expanded(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    write(tmp_path, ".aider.conf.yml", bomb + "model: openai/m\n")
    (found,) = discover(tmp_path).settings
    assert found.resolved == "m"


def test_toml_keys_keep_their_lines_through_quoting_and_multiline_strings() -> None:
    doc = parse_toml(
        'note = """\nmodel = "fake"\n"""\n"model" = "real"\n[agents]\n\'default_subagent_model\' = "s"\n'
    )
    assert doc.data["model"] == "real"
    assert doc.line("model") == 4 and doc.line("agents", "default_subagent_model") == 6


def test_json_lines_of_nested_keys_and_array_items() -> None:
    doc = parse_json('{\n "a": {\n  "b": [\n   {"c": 1}\n  ]\n }\n}', comments=False)
    assert (doc.line("a"), doc.line("a", "b"), doc.line("a", "b", 0, "c"), doc.line("missing")) == (
        2,
        3,
        4,
        1,
    )


def test_read_text_rejects_a_directory(tmp_path: Path) -> None:
    (tmp_path / "opencode.json").mkdir()
    with pytest.raises(AgentFileError, match="is a directory"):
        read_text(tmp_path, "opencode.json")


def test_jsonc_comment_markers_inside_strings_and_trailing_commas_everywhere() -> None:
    doc = parse_json('{"u": "http://x//y/*z*/", /* a\nb */ "k": [1, 2,], "o": {"p": 1,},}', comments=True)
    assert doc.data == {"u": "http://x//y/*z*/", "k": [1, 2], "o": {"p": 1}}
    assert doc.line("k") == 2 and (("k", 2) not in doc.lines)


def test_jsonc_double_comma_is_still_an_error() -> None:
    with pytest.raises(AgentFileError, match="not valid JSON"):
        parse_json('{"a": 1,,}', comments=True)
