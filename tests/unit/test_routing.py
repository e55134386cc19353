"""The routing file loader: good files load, every bad file fails on the right line with the right reason.

Bad examples live in tests/routing_files/bad/. Each carries its expectation as `LINE: fragment`
(LINE is `-` when the message has no line): in a first-line `# expect:` comment for YAML, in a
first-line `<!-- expect: -->` comment for Markdown, and in a NAME.expect file next to JSON files.
"""

from __future__ import annotations

import json
import pickle
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from routing_guard.routing import (
    MAX_BYTES,
    ROUTING_FILE_CANDIDATES,
    RoutingError,
    base_url_problem,
    find_routing_file,
    load_routing,
    load_routing_text,
)

FILES = Path(__file__).resolve().parents[1] / "routing_files"
GOOD = sorted((FILES / "good").iterdir())
BAD = sorted(path for path in (FILES / "bad").iterdir() if path.suffix != ".expect")
EXPECT = re.compile(r"expect:\s*(\d+|-):\s*(.+?)\s*(?:-->)?\s*$")

MINIMAL = "version: 1\ngateway:\n  base_url: https://gateway.example.com/v1\nroutes:\n  code-generation:\n    model: gpt-4o\n"
MARKDOWN_ROUTING = "```yaml model-routing\n" + MINIMAL + "```\n"


def expectation(path: Path) -> tuple[int | None, str]:
    source = path.with_suffix(".expect") if path.suffix == ".json" else path
    match = EXPECT.search(source.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path.name} has no expectation line"
    return (None if match[1] == "-" else int(match[1])), match[2]


def load_error(load: Any, *args: Any) -> RoutingError:
    with pytest.raises(RoutingError) as info:
        load(*args)
    return info.value


# --- the corpus ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BAD, ids=lambda path: path.name)
def test_bad_file_is_refused_on_the_right_line_with_the_reason(path: Path) -> None:
    line, fragment = expectation(path)
    display = f"bad/{path.name}"
    err = load_error(load_routing, path, display)
    assert (err.path, err.line) == (display, line), str(err)
    assert fragment in err.message, str(err)
    first = f"{display}: {err.message}" if line is None else f"{display}:{line}: {err.message}"
    assert str(err).splitlines()[0] == first  # then every other problem, one per line


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_good_file_loads_and_each_route_points_at_its_own_line(path: Path) -> None:
    config = load_routing(path, f"good/{path.name}")
    assert config.source == Path(f"good/{path.name}")
    assert config.routes
    lines = path.read_text(encoding="utf-8").splitlines()
    for route in config.routes:
        assert route.name in lines[route.line - 1], (route.name, route.line)


def test_the_corpus_covers_every_kind_of_bad_input() -> None:
    names = {path.name for path in BAD}
    wanted = [
        "type-boolean.yml",
        "enum-api.yml",
        "pattern-route-name.yml",
        "required-model.yml",
        "unknown-field-route.yml",
        "min-properties-routes.yml",
        "const-version.yml",
        "dup-top.yml",
        "dup-gateway.yml",
        "dup-headers.yml",
        "dup-route-name.yml",
        "dup-in-route.yml",
        "dup-route.json",
        "dup-alias-key.yml",
        "merge-in-routes.yml",
        "syntax-indent.yml",
        "top-list.yml",
        "md-no-block.md",
        "md-two-blocks.md",
        "md-schema-offset.md",
        "url-ftp.yml",
        "url-credentials.yml",
        "url-http-remote.yml",
    ]
    assert not [name for name in wanted if name not in names]
    assert all(path.with_suffix(".expect").is_file() for path in BAD if path.suffix == ".json")


# --- what loading produces -------------------------------------------------------------------------


def test_contract_example_loads_with_every_field() -> None:
    config = load_routing(FILES / "good" / "contract-example.yml", ".github/model-routing.yml")
    assert config.version == 1
    assert config.gateway.base_url == "https://gateway.example.com/v1"  # trailing slash stripped
    assert (config.gateway.api, config.gateway.auth) == ("openai-chat", "bearer")
    routes = {route.name: route for route in config.routes}
    assert [route.name for route in config.routes] == [
        "code-generation",
        "heavy-alias",
        "test-repair",
        "commit-message",
        "claude-code-review",
    ]
    assert routes["code-generation"].accept == ("gpt-4o-2024-*",)
    assert routes["heavy-alias"].served == ("anthropic/claude-opus-4-*",)
    assert routes["test-repair"].request == {"max_tokens": 64}
    assert routes["commit-message"].strict is True
    review = routes["claude-code-review"]
    assert (review.api, review.stream, review.min_context) == ("anthropic-messages", True, 200000)
    assert routes["code-generation"].line == 14


def test_whole_numbers_written_as_floats_load_as_integers() -> None:
    """The schema's `integer` accepts `2.0e+5` and `1.0`; the config holds them as ints, so a note
    says `min_context 200000`, never `200000.0`."""
    text = "version: 1.0\ngateway:\n  base_url: https://gw.example.com/v1\nroutes:\n"
    text += "  review:\n    model: claude-sonnet-4-5\n    min_context: 2.0e+5\n"
    config = load_routing_text(text, "model-routing.yml")
    assert type(config.version) is int and config.version == 1
    [review] = config.routes
    assert type(review.min_context) is int and review.min_context == 200000


def test_defaults_merge_into_routes_and_the_route_wins() -> None:
    text = """\
version: 1
gateway:
  base_url: https://gateway.example.com/v1/
  api: openai-responses
defaults:
  strict: true
  stream: true
  accept: ["snapshot-*"]
  served: ["openai/*"]
  min_context: 8000
  request: {max_tokens: 32, temperature: 0, metadata: {team: platform}}
routes:
  zeta:
    model: gpt-4o
  alpha:
    model: claude-sonnet-4-5
    api: anthropic-messages
    strict: false
    accept: []
    request: {max_tokens: 64, metadata: {owner: me}}
"""
    config = load_routing_text(text, "model-routing.yml")
    zeta, alpha = config.routes
    assert [zeta.name, alpha.name] == ["zeta", "alpha"]  # file order, not sorted
    assert config.gateway.base_url == "https://gateway.example.com/v1"
    assert (zeta.api, zeta.strict, zeta.stream, zeta.min_context) == ("openai-responses", True, True, 8000)
    assert (zeta.accept, zeta.served) == (("snapshot-*",), ("openai/*",))
    assert zeta.request == {"max_tokens": 32, "temperature": 0, "metadata": {"team": "platform"}}
    assert (alpha.api, alpha.strict, alpha.accept, alpha.served) == (
        "anthropic-messages",
        False,
        (),
        ("openai/*",),
    )
    # shallow: the route's `metadata` replaces the default one instead of merging into it
    assert alpha.request == {"max_tokens": 64, "temperature": 0, "metadata": {"owner": "me"}}
    assert (zeta.line, alpha.line) == (13, 15)


def test_api_falls_back_to_defaults_then_to_the_gateway() -> None:
    gateway_only = load_routing_text(MINIMAL, "r.yml")
    assert gateway_only.routes[0].api == "openai-chat"
    assert gateway_only.gateway.auth is None
    assert gateway_only.gateway.invalid_model == "routing-guard-invalid-model-id"
    with_defaults = MINIMAL.replace("routes:", "defaults: {api: anthropic-messages}\nroutes:")
    assert load_routing_text(with_defaults, "r.yml").routes[0].api == "anthropic-messages"


def test_anchors_and_merge_keys_inside_a_route() -> None:
    config = load_routing(FILES / "good" / "anchors-and-merges.yml")
    routes = {route.name: route for route in config.routes}
    mini = routes["code-generation-mini"]
    assert (mini.model, mini.accept, mini.request) == ("gpt-4o-mini", ("gpt-4o-2024-*",), {"max_tokens": 32})
    commit = routes["commit-message"]
    assert (commit.model, commit.strict, commit.stream) == ("gpt-4o-mini", True, False)
    # YAML 1.2 scalars: only true/false are booleans; yes/no/on/off and dates stay as written
    assert routes["yaml12-strings"].request["metadata"] == {
        "switch": "on",
        "answer": "no",
        "since": "2024-01-01",
    }
    assert config.gateway.headers == {"X-Team": "platform", "X-Build": "42"}


def test_json_file_loads_with_lines() -> None:
    config = load_routing(FILES / "good" / "minimal.json")
    assert [(route.name, route.line) for route in config.routes] == [
        ("code-generation", 6),
        ("commit-message", 7),
    ]
    commit = config.routes[1]
    assert commit.api == "openai-responses"
    assert commit.request == {"max_output_tokens": 16, "metadata": {"team": "platform"}}


def test_markdown_block_lines_refer_to_the_markdown_file() -> None:
    config = load_routing(FILES / "good" / "AGENTS.md", "AGENTS.md")
    assert [(route.name, route.line, route.model) for route in config.routes] == [
        ("code-generation", 24, "gpt-4o"),
        ("code-review", 26, "claude-sonnet-4-5"),
    ]
    assert config.source == Path("AGENTS.md")


# --- load_routing_text ---------------------------------------------------------------------------


def test_load_routing_text_chooses_the_format_by_suffix() -> None:
    as_json = json.dumps(
        {"version": 1, "gateway": {"base_url": "https://g.example"}, "routes": {"a": {"model": "m"}}}
    )
    assert load_routing_text(as_json, "model-routing.json").routes[0].model == "m"
    # JSON duplicate keys are only caught by the JSON reader: proof that .json text goes through it
    duplicated = as_json.replace('"routes": {', '"routes": {"a": {"model": "x"}, ')
    assert "duplicate key 'a'" in load_error(load_routing_text, duplicated, "model-routing.json").message
    markdown = "# Notes\n\n" + MARKDOWN_ROUTING
    config = load_routing_text(markdown, "docs/AGENTS.md")
    assert (config.source, config.routes[0].line) == (Path("docs/AGENTS.md"), 8)
    # the same Markdown read as YAML is not a routing file
    assert load_error(load_routing_text, markdown, "AGENTS.yml").path == "AGENTS.yml"
    assert load_routing_text(MINIMAL, ".github/model-routing.yaml").source == Path(
        ".github/model-routing.yaml"
    )


def test_load_routing_text_errors_name_the_display_path() -> None:
    err = load_error(load_routing_text, MINIMAL.replace("gpt-4o", "''"), "base:.github/model-routing.yml")
    assert str(err) == "base:.github/model-routing.yml:6: routes.code-generation.model: must not be empty"


def test_load_routing_text_refuses_oversized_and_nul_text() -> None:
    assert "larger than 1 MiB" in load_error(load_routing_text, "#" * (MAX_BYTES + 1), "r.yml").message
    err = load_error(load_routing_text, "version: 1\n\n\x00\n", "r.yml")
    assert (err.line, "NUL byte" in err.message) == (3, True)


# --- refused before parsing -----------------------------------------------------------------------


def test_ten_megabyte_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "model-routing.yml"
    path.write_bytes(b"[" * (10 * 1024 * 1024))  # parsed, this would be a nesting error instead
    err = load_error(load_routing, path, "model-routing.yml")
    assert (err.line, err.message) == (None, "is larger than 1 MiB; a routing file is a few kilobytes")


def test_size_limit_is_exactly_one_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "model-routing.yml"
    padding = "#" * 99 + "\n"
    text = MINIMAL + padding * ((MAX_BYTES - len(MINIMAL)) // len(padding))
    text += "#" * (MAX_BYTES - len(text))
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size == MAX_BYTES
    assert load_routing(path).routes[0].model == "gpt-4o"
    path.write_text(text + "#", encoding="utf-8")
    assert "larger than 1 MiB" in load_error(load_routing, path).message


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        (bytes(range(0x80, 0x100)) * 8, 1, "is not UTF-8 text"),
        (b"version: 1\ngateway:\n  base_url: \xff\xfe\n", 3, "is not UTF-8 text"),
        (b"version: 1\nrout\x00es:\n", 2, "contains a NUL byte"),
        (MINIMAL.encode("utf-16"), 1, "contains a NUL byte"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "contains a NUL byte"),
        (b"", None, "is empty"),
        (b"\n  \n\t\n", None, "is empty"),
        (b"version: 1\ngateway:\n  base_url: \x07\n", 3, "character U+0007 is not allowed in YAML"),
    ],
    ids=["binary", "latin-1", "nul", "utf-16", "png", "empty", "blank", "control-character"],
)
def test_unreadable_content_is_refused(
    tmp_path: Path, content: bytes, line: int | None, fragment: str
) -> None:
    path = tmp_path / "model-routing.yml"
    path.write_bytes(content)
    err = load_error(load_routing, path, "model-routing.yml")
    assert (err.line, fragment in err.message) == (line, True), str(err)


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    for name in ("model-routing.yml", "model-routing.json"):
        path = tmp_path / name
        text = MINIMAL if name.endswith(".yml") else json.dumps(yaml.safe_load(MINIMAL))
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        assert load_routing(path).routes[0].model == "gpt-4o"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert str(load_error(load_routing, tmp_path / "nope.yml", "nope.yml")) == "nope.yml: file not found"
    assert "is a directory" in load_error(load_routing, tmp_path, "here").message


def test_deep_nesting_is_refused_cleanly() -> None:
    for text, name in (("a: " + "[" * 5000, "r.yml"), ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "r.json")):
        err = load_error(load_routing_text, text, name)
        assert "nested too deeply" in err.message or "syntax error" in err.message


# --- URLs -----------------------------------------------------------------------------------------


def test_credentials_in_the_url_are_never_repeated() -> None:
    err = load_error(load_routing, FILES / "bad" / "url-credentials.yml")
    assert "sk-live" not in str(err)
    assert "0123456789abcdef" not in str(err)
    assert "ROUTING_GUARD_API_KEY" in err.message


@pytest.mark.parametrize(
    "url",
    [
        "https://gateway.example.com/v1",
        "HTTPS://gateway.example.com",
        "http://localhost:4000",
        "http://LOCALHOST/v1",
        "http://127.0.0.1:4000/v1",
        "http://127.255.0.9",
        "http://[::1]:8080/v1",
        "http://[::ffff:127.0.0.1]:4000",
    ],
)
def test_safe_base_urls(url: str) -> None:
    assert base_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://gateway.example.com/v1", "in clear text"),
        ("http://128.0.0.1", "in clear text"),
        ("http://localhost.example.com", "in clear text"),
        ("http://[::2]", "in clear text"),
        ("ws://gateway.example.com", "must be an https:// URL"),
        ("file:///etc/passwd", "must be an https:// URL"),
        ("gateway.example.com", "must be an https:// URL"),
        ("https://user@gateway.example.com", "must not contain credentials"),
        ("https://:secret@gateway.example.com", "must not contain credentials"),
        ("https://", "has no host name"),
        ("https://gateway.example.com:0x50", "is not a valid URL"),
    ],
)
def test_unsafe_base_urls(url: str, fragment: str) -> None:
    problem = base_url_problem(url)
    assert problem is not None and fragment in problem


def test_allow_insecure_http_opens_plain_http_only() -> None:
    assert base_url_problem("http://gateway.internal:4000", allow_insecure_http=True) is None
    assert base_url_problem("ftp://gateway.internal", allow_insecure_http=True) is not None
    config = load_routing(FILES / "good" / "insecure-http-allowed.yml")
    assert config.gateway.allow_insecure_http is True
    assert config.gateway.base_url == "http://gateway.internal:4000/v1"


# --- finding the file ----------------------------------------------------------------------------


def _write_candidate(root: Path, name: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MARKDOWN_ROUTING if name.endswith(".md") else MINIMAL, encoding="utf-8")


def test_candidates_are_in_contract_order() -> None:
    assert ROUTING_FILE_CANDIDATES == (
        ".github/model-routing.yml",
        ".github/model-routing.yaml",
        "model-routing.yml",
        "model-routing.yaml",
        "model-routing.json",
        "AGENTS.md",
        "CLAUDE.md",
        ".github/copilot-instructions.md",
    )


def test_find_routing_file_takes_the_first_candidate_present(tmp_path: Path) -> None:
    # Add candidates from the last to the first: each new one must win over all that follow it.
    for name in reversed(ROUTING_FILE_CANDIDATES):
        _write_candidate(tmp_path, name)
        assert find_routing_file(tmp_path) == tmp_path / name


def test_markdown_without_a_routing_block_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("# Agents\n\n```yaml\nversion: 1\n```\n", encoding="utf-8")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "copilot-instructions.md").write_text(MARKDOWN_ROUTING, encoding="utf-8")
    assert find_routing_file(tmp_path) == tmp_path / ".github" / "copilot-instructions.md"
    # one with two blocks counts, and then fails to load with a clear message
    (tmp_path / "CLAUDE.md").write_text(MARKDOWN_ROUTING * 2, encoding="utf-8")
    found = find_routing_file(tmp_path)
    assert found == tmp_path / "CLAUDE.md"
    assert "has 2 model-routing blocks" in load_error(load_routing, found).message


def test_no_routing_file_names_every_candidate_tried(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("# Agents\n", encoding="utf-8")
    (tmp_path / "model-routing.yml").mkdir()  # a directory is not a routing file
    err = load_error(find_routing_file, tmp_path)
    assert (err.path, err.line) == (str(tmp_path), None)
    for name in ROUTING_FILE_CANDIDATES:
        assert name in err.message
    assert "AGENTS.md (present, but without a model-routing block)" in err.message


# --- the error type and the schema ---------------------------------------------------------------


def test_routing_error_formats_and_survives_pickling() -> None:
    with_line = RoutingError("r.yml", 7, "duplicate key 'a' (first defined on line 3)")
    assert str(with_line) == "r.yml:7: duplicate key 'a' (first defined on line 3)"
    assert str(RoutingError("r.yml", None, "is empty")) == "r.yml: is empty"
    copy = pickle.loads(pickle.dumps(with_line))  # noqa: S301 - our own object, in memory
    assert (copy.path, copy.line, copy.message, str(copy)) == ("r.yml", 7, with_line.message, str(with_line))


def _schema() -> dict[str, Any]:
    text = resources.files("routing_guard").joinpath("schema/routing.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _object_schemas(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append((path, node))
        for key, value in node.items():
            found += _object_schemas(value, f"{path}/{key}")
    return found


def test_schema_is_draft_2020_12_with_documentation_on_every_property() -> None:
    schema = _schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert schema["required"] == ["version", "gateway", "routes"]
    for path, node in _object_schemas(schema):
        for name, prop in node.get("properties", {}).items():
            assert prop.get("title") and prop.get("description"), f"{path}/properties/{name}"
        if path.endswith(("/request", "/headers")):
            assert node.get("additionalProperties") is not False, path
        elif path != "/properties/routes":
            assert node.get("additionalProperties") is False, path
    assert _schema()["properties"]["routes"]["additionalProperties"] == {"$ref": "#/$defs/route"}


def test_defaults_accept_every_route_field_except_model() -> None:
    schema = _schema()
    route_fields = set(schema["$defs"]["route"]["properties"])
    assert set(schema["properties"]["defaults"]["properties"]) == route_fields - {"model"}


@pytest.mark.parametrize("path", [p for p in GOOD if p.suffix != ".md"], ids=lambda path: path.name)
def test_good_files_validate_against_the_schema_as_an_editor_would(path: Path) -> None:
    errors = list(
        Draft202012Validator(_schema()).iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))
    )
    assert errors == []


@pytest.mark.parametrize("command", ["validate", "check"])
@pytest.mark.parametrize("path", BAD, ids=lambda path: path.name)
def test_bad_file_exits_2_naming_file_and_line(
    path: Path, command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the CLI, as users meet it: exit 2, and stderr names the file and the line."""
    from routing_guard.cli import main

    monkeypatch.setenv("ROUTING_GUARD_API_KEY", "sk-unused-0123456789")
    line, fragment = expectation(path)
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--routing-file", str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    where = f"{path}:{line}:" if line is not None else f"{path}:"
    assert where in err and fragment in err
