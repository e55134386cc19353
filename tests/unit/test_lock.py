"""The routing lock: its path, reading with line-accurate errors, writing, and the drift judgement."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from routing_guard.config import Gateway, Route, RoutingConfig
from routing_guard.lock import (
    Lock,
    LockEntry,
    LockError,
    apply_lock,
    default_lock_path,
    entry_of,
    load_lock,
    lock_warnings,
    parse_lock,
    relock,
    render_lock,
    write_lock,
)
from routing_guard.results import EXIT_OK, EXIT_ROUTING, RouteResult, RunResult
from routing_guard.routing import load_routing

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "routing_guard" / "schema" / "lock.schema.json"
EXAMPLE_LOCK = ROOT / "examples" / "model-routing.lock.json"
LOCKED = "2026-12-01T10:00:00Z"


def config(*routes: Route) -> RoutingConfig:
    return RoutingConfig(
        gateway=Gateway(base_url="https://gw.example.com/v1"),
        routes=routes,
        source=Path(".github/model-routing.yml"),
    )


def route(name: str = "code-generation", model: str = "gpt-4o", api: str = "openai-chat") -> Route:
    return Route(name=name, model=model, api=api)  # type: ignore[arg-type]


def result(
    name: str = "code-generation",
    *,
    requested: str = "gpt-4o",
    returned: str | None = "gpt-4o-2024-08-06",
    served: str | None = None,
    provider: str | None = None,
    verdict: str = "pass",
) -> RouteResult:
    return RouteResult(
        route=name,
        model_requested=requested,
        api="openai-chat",
        model_returned=returned,
        served_model=served,
        served_header="x-litellm-model-name" if served else None,
        provider=provider,
        verdict=verdict,  # type: ignore[arg-type]
        notes="accepted: dated snapshot of gpt-4o",
        date_utc="2026-12-08T10:00:00Z",
        http_status=200,
    )


def run_of(*results: RouteResult) -> RunResult:
    return RunResult(
        gateway_host="gw.example.com",
        api="openai-chat",
        routing_file=".github/model-routing.yml",
        routes=list(results),
        error_paths=[],
    )


def entry(**fields: str | None) -> LockEntry:
    base = LockEntry(
        api="openai-chat", locked_utc=LOCKED, model_requested="gpt-4o", model_returned="gpt-4o-2024-08-06"
    )
    return replace(base, **fields)


def lock_of(**entries: LockEntry) -> Lock:
    return Lock(
        gateway_host="gw.example.com",
        routing_file=".github/model-routing.yml",
        routes=entries,
        path=".github/model-routing.lock.json",
    )


# --- where the lock lives ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("routing_file", "lock_file"),
    [
        (".github/model-routing.yml", ".github/model-routing.lock.json"),
        (".github/model-routing.yaml", ".github/model-routing.lock.json"),
        ("model-routing.yml", "model-routing.lock.json"),
        ("model-routing.json", "model-routing.lock.json"),
        ("config/routes.yml", "config/routes.lock.json"),
        ("AGENTS.md", "model-routing.lock.json"),
        ("docs/CLAUDE.md", "docs/model-routing.lock.json"),
        (".github/copilot-instructions.md", ".github/model-routing.lock.json"),
    ],
)
def test_default_lock_path_is_beside_the_routing_file(routing_file: str, lock_file: str) -> None:
    assert default_lock_path(Path(routing_file)) == Path(lock_file)


# --- the schema and the example ------------------------------------------------------------------


def test_the_schema_is_a_valid_draft_2020_12_schema_and_ships_as_package_data() -> None:
    from importlib import resources

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    shipped = resources.files("routing_guard").joinpath("schema/lock.schema.json").read_text("utf-8")
    assert json.loads(shipped) == schema


def test_the_example_lock_matches_the_schema_and_the_example_routing_file() -> None:
    document = json.loads(EXAMPLE_LOCK.read_text(encoding="utf-8"))
    validator = Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert list(validator.iter_errors(document)) == []
    lock = load_lock(EXAMPLE_LOCK, "examples/model-routing.lock.json")
    routing = load_routing(ROOT / "examples" / "model-routing.yml", "examples/model-routing.yml")
    assert set(lock.routes) == {r.name for r in routing.routes}
    assert lock_warnings(lock, routing) == []
    # the example is exactly what `routing-guard lock` writes
    assert render_lock(lock) == EXAMPLE_LOCK.read_text(encoding="utf-8")


def test_the_contract_example_lock_is_valid() -> None:
    text = """{
  "version": 1,
  "gateway_host": "gateway.example.com",
  "routing_file": ".github/model-routing.yml",
  "routes": {
    "code-generation": {"api": "openai-chat", "locked_utc": "2026-12-01T10:00:00Z",
                        "model_requested": "gpt-4o", "model_returned": "gpt-4o-2024-08-06",
                        "provider": null, "served_header": null, "served_model": null}
  }
}"""
    lock = parse_lock(text, "model-routing.lock.json")
    assert lock.routes["code-generation"] == entry()
    assert lock.lines["code-generation"] == 6


# --- reading: every problem names the file and the line ------------------------------------------

GOOD = render_lock(
    lock_of(**{"code-generation": entry(), "commit-message": entry(model_requested="gpt-4o-mini")})
)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("edit", "needle", "message"),
    [
        (
            lambda t: t.replace('"provider": null,', '"provider": null', 1),
            '"served_header"',
            "JSON syntax error",
        ),
        (
            lambda t: t.replace('"provider": null,', '"provider": null, "provider": null,', 1),
            '"provider"',
            "duplicate key 'provider'",
        ),
        (
            lambda t: t.replace('"provider": null,', '"provider": null, "usage": 9,', 1),
            '"provider"',
            "unknown field 'usage'",
        ),
        (
            lambda t: t.replace('"locked_utc": "2026-12-01T10:00:00Z"', '"locked_utc": "yesterday"', 1),
            "yesterday",
            "locked_utc",
        ),
        (
            lambda t: t.replace('"api": "openai-chat"', '"api": "openai-chatt"', 1),
            "openai-chatt",
            "did you mean 'openai-chat'",
        ),
        (
            lambda t: t.replace('"code-generation"', '"Code Generation"'),
            "Code Generation",
            "route name 'Code Generation'",
        ),
        (lambda t: t.replace('"version": 1', '"version": 2'), '"version"', "must be 1"),
        (
            lambda t: t.replace('      "served_model": null\n', "", 1).replace(
                '"served_header": null,', '"served_header": null', 1
            ),
            '"code-generation"',
            "missing required field 'served_model'",
        ),
    ],
    ids=[
        "syntax",
        "duplicate-key",
        "unknown-field",
        "bad-date",
        "bad-api",
        "bad-route-name",
        "version",
        "missing",
    ],
)
def test_a_broken_lock_is_an_error_naming_the_file_and_the_line(edit, needle, message) -> None:  # type: ignore[no-untyped-def]
    text = edit(GOOD)
    assert text != GOOD
    with pytest.raises(LockError) as caught:
        parse_lock(text, ".github/model-routing.lock.json")
    error = caught.value
    assert error.path == ".github/model-routing.lock.json"
    assert message in error.message
    expected = line_of(text, needle)
    assert error.line == expected, str(error)
    assert str(error).startswith(f".github/model-routing.lock.json:{expected}: ")


def test_a_route_name_with_a_trailing_newline_is_refused_at_its_line() -> None:
    text = GOOD.replace('"commit-message": {', '"commit-message\\n": {')
    with pytest.raises(LockError, match="route name 'commit-message\\\\n' is not allowed") as caught:
        parse_lock(text, "x.lock.json")
    assert caught.value.line == line_of(text, '"commit-message')


def test_a_lock_that_is_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "model-routing.lock.json"
    os.mkfifo(fifo)
    with pytest.raises(LockError, match="not a regular file"):
        load_lock(fifo, "model-routing.lock.json")
    link = tmp_path / "link.lock.json"
    link.symlink_to(fifo)
    with pytest.raises(LockError, match="not a regular file"):
        load_lock(link, "link.lock.json")
    write_lock(lock_of(**{"code-generation": entry()}), fifo)  # replaces the FIFO, never blocks on it
    assert fifo.is_file() and load_lock(fifo).routes["code-generation"] == entry()


def test_a_missing_empty_or_binary_lock_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LockError, match="lock file not found; create it with `routing-guard lock`"):
        load_lock(tmp_path / "nope.lock.json", "nope.lock.json")
    (tmp_path / "empty.lock.json").write_text("  \n", encoding="utf-8")
    with pytest.raises(LockError, match="is empty"):
        load_lock(tmp_path / "empty.lock.json")
    (tmp_path / "bin.lock.json").write_bytes(b'{\n"version": 1,\n"x": "\xff"}')
    with pytest.raises(LockError) as caught:
        load_lock(tmp_path / "bin.lock.json", "bin.lock.json")
    assert caught.value.line == 3
    (tmp_path / "list.lock.json").write_text("[1]\n", encoding="utf-8")
    with pytest.raises(LockError, match="expected a mapping"):
        load_lock(tmp_path / "list.lock.json")


# --- writing ---------------------------------------------------------------------------------------


def test_the_written_lock_is_sorted_indented_stable_and_holds_only_identities(tmp_path: Path) -> None:
    run = run_of(
        result("test-repair", served="openai/gpt-4o-2024-08-06"),
        result("code-generation", provider="OpenAI"),
    )
    lock = relock(None, run, only_selected=False)
    path = tmp_path / "model-routing.lock.json"
    write_lock(lock, path)
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"
    assert list(document["routes"]) == ["code-generation", "test-repair"]
    assert set(document) == {"version", "gateway_host", "routing_file", "routes"}
    assert set(document["routes"]["test-repair"]) == {
        "api",
        "locked_utc",
        "model_requested",
        "model_returned",
        "provider",
        "served_header",
        "served_model",
    }
    assert document["routes"]["test-repair"]["served_header"] == "x-litellm-model-name"
    assert document["routes"]["code-generation"]["provider"] == "OpenAI"
    assert "notes" not in text and "pong" not in text and "usage" not in text
    assert load_lock(path).routes == lock.routes  # what is written reads back the same
    write_lock(lock, path)
    assert path.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["model-routing.lock.json"]  # no temporary left


def test_relocking_an_unchanged_identity_keeps_its_date_so_the_file_does_not_change() -> None:
    previous = lock_of(**{"code-generation": entry()})
    same = relock(previous, run_of(result()), only_selected=False)
    assert same.routes["code-generation"].locked_utc == LOCKED
    assert render_lock(same) == render_lock(previous)
    moved = relock(previous, run_of(result(returned="gpt-4o-2024-11-20")), only_selected=False)
    assert moved.routes["code-generation"].locked_utc == "2026-12-08T10:00:00Z"
    assert moved.routes["code-generation"].model_returned == "gpt-4o-2024-11-20"


def test_relock_with_routes_rewrites_only_those_entries() -> None:
    previous = lock_of(
        **{
            "code-generation": entry(),
            "commit-message": entry(model_requested="gpt-4o-mini", model_returned="gpt-4o-mini-2024-07-18"),
            "removed-route": entry(),
        }
    )
    run = run_of(result(returned="gpt-4o-2024-11-20"))
    selected = relock(previous, run, only_selected=True)
    assert selected.routes["commit-message"] == previous.routes["commit-message"]
    assert selected.routes["removed-route"] == previous.routes["removed-route"]
    assert selected.routes["code-generation"].model_returned == "gpt-4o-2024-11-20"
    whole = relock(previous, run, only_selected=False)
    assert set(whole.routes) == {"code-generation"}  # a full lock drops entries of removed routes


def test_a_lone_surrogate_from_the_gateway_does_not_make_the_lock_unreadable() -> None:
    lock = relock(None, run_of(result(returned="gpt-4o-\ud800")), only_selected=False)
    text = render_lock(lock)
    text.encode("utf-8")
    assert parse_lock(text, "x.lock.json").routes["code-generation"].model_returned == "gpt-4o-?"


def test_entry_of_records_no_served_header_without_a_served_model() -> None:
    recorded = entry_of(replace(result(), served_header="x-litellm-model-name"))
    assert recorded.served_header is None and recorded.served_model is None


# --- lock against routing file -----------------------------------------------------------------


def test_lock_warnings_name_unlocked_changed_and_stale_routes() -> None:
    lock = parse_lock(
        render_lock(
            lock_of(
                **{
                    "code-generation": entry(model_requested="gpt-4o-mini"),
                    "old-route": entry(),
                    "review": entry(),
                }
            )
        ),
        ".github/model-routing.lock.json",
    )
    routing = config(route(), route("review", api="anthropic-messages"), route("new-route"))
    warnings = lock_warnings(lock, routing)
    stale_line = line_of(render_lock(lock), '"old-route"')
    assert warnings == [
        "code-generation: the routing file now routes gpt-4o, the lock was taken for gpt-4o-mini: not "
        "compared with the lock; run `routing-guard lock` and commit .github/model-routing.lock.json",
        "review: the route now uses anthropic-messages, the lock was taken over openai-chat: not compared "
        "with the lock; run `routing-guard lock` and commit .github/model-routing.lock.json",
        "new-route: not locked (no entry in .github/model-routing.lock.json); run `routing-guard lock` and "
        "commit .github/model-routing.lock.json",
        f".github/model-routing.lock.json:{stale_line}: entry 'old-route' names no route of "
        ".github/model-routing.yml; run `routing-guard lock` and commit .github/model-routing.lock.json",
    ]


# --- the drift judgement ----------------------------------------------------------------------


def judged(
    lock: Lock, *results: RouteResult, routes: tuple[Route, ...] = (), on_drift: str = "fail"
) -> RunResult:
    run = run_of(*results)
    apply_lock(run, config(*(routes or (route(),))), lock, on_drift=on_drift)  # type: ignore[arg-type]
    return run


def test_an_unchanged_identity_passes_silently() -> None:
    run = judged(lock_of(**{"code-generation": entry(provider="OpenAI")}), result(provider="OpenAI"))
    assert run.routes[0].verdict == "pass" and run.routes[0].warnings == [] and run.exit_code == EXIT_OK


def test_a_moved_dated_snapshot_is_drifted_with_was_now_and_the_lock_date() -> None:
    run = judged(lock_of(**{"code-generation": entry()}), result(returned="gpt-4o-2024-11-20"))
    moved = run.routes[0]
    assert moved.verdict == "drifted"
    assert moved.notes == (
        "drifted from the lock: model_returned was gpt-4o-2024-08-06, now gpt-4o-2024-11-20 (locked "
        + LOCKED
        + ")"
    )
    assert "routing-guard lock" in moved.hint and ".github/model-routing.lock.json" in moved.hint
    assert run.exit_code == EXIT_ROUTING
    assert run.failed_routes == ["code-generation"]


def test_a_re_pointed_alias_is_drifted_by_its_served_model() -> None:
    lock = lock_of(
        **{
            "heavy": entry(
                model_requested="coder-heavy",
                model_returned="coder-heavy",
                served_header="x-litellm-model-name",
                served_model="anthropic/claude-opus-4-20250514",
            )
        }
    )
    run = judged(
        lock,
        result("heavy", requested="coder-heavy", returned="coder-heavy", served="openai/gpt-4o-mini"),
        routes=(route("heavy", model="coder-heavy"),),
    )
    assert run.routes[0].verdict == "drifted"
    assert (
        "served_model was anthropic/claude-opus-4-20250514, now openai/gpt-4o-mini (locked"
        in run.routes[0].notes
    )


def test_a_served_model_that_disappears_is_drifted_and_one_never_seen_is_not_compared() -> None:
    locked_served = lock_of(**{"code-generation": entry(served_model="openai/gpt-4o-2024-08-06")})
    gone = judged(locked_served, result())
    assert gone.routes[0].verdict == "drifted"
    assert "served_model was openai/gpt-4o-2024-08-06, now none" in gone.routes[0].notes
    appeared = judged(lock_of(**{"code-generation": entry()}), result(served="openai/gpt-4o-2024-08-06"))
    assert appeared.routes[0].verdict == "drifted"
    assert "served_model was none, now openai/gpt-4o-2024-08-06" in appeared.routes[0].notes


@pytest.mark.parametrize(("was", "now"), [("OpenAI", "Azure"), (None, "DeepInfra"), ("Together", None)])
def test_an_openrouter_provider_change_is_drifted(was: str | None, now: str | None) -> None:
    lock = lock_of(**{"code-generation": entry(provider=was)})
    run = judged(lock, result(provider=now))
    assert run.routes[0].verdict == "drifted"
    shown = {None: "none"}
    assert (
        f"provider was {shown.get(was, was)}, now {shown.get(now, now)} (locked {LOCKED})"
        in run.routes[0].notes
    )


def test_every_moved_field_is_named() -> None:
    lock = lock_of(**{"code-generation": entry(served_model="a/one", provider="P")})
    run = judged(lock, result(returned="gpt-4o-2024-11-20", served="b/two", provider="Q"))
    notes = run.routes[0].notes
    assert notes.count("(locked ") == 3
    assert "model_returned was" in notes and "served_model was a/one" in notes and "provider was P" in notes


def test_on_drift_warn_keeps_the_pass_and_warns() -> None:
    run = judged(
        lock_of(**{"code-generation": entry()}), result(returned="gpt-4o-2024-11-20"), on_drift="warn"
    )
    assert run.routes[0].verdict == "pass" and run.exit_code == EXIT_OK
    assert run.routes[0].notes == "accepted: dated snapshot of gpt-4o"
    [warning] = run.routes[0].warnings
    assert warning.startswith(
        "drifted from the lock: model_returned was gpt-4o-2024-08-06, now gpt-4o-2024-11-20"
    )
    assert "routing-guard lock" in warning


def test_an_unlocked_route_or_a_changed_model_passes_with_a_warning_to_re_lock() -> None:
    unlocked = judged(lock_of(), result(returned="anything-else"))
    assert unlocked.routes[0].verdict == "pass"
    assert unlocked.routes[0].warnings == [
        "not locked (no entry in .github/model-routing.lock.json); run `routing-guard lock` and commit "
        ".github/model-routing.lock.json"
    ]
    changed = judged(
        lock_of(**{"code-generation": entry(model_requested="gpt-4")}), result(returned="gpt-4o-2024-11-20")
    )
    assert changed.routes[0].verdict == "pass"
    [warning] = changed.routes[0].warnings
    assert "now routes gpt-4o, the lock was taken for gpt-4" in warning and "routing-guard lock" in warning


def test_a_failed_route_is_left_as_it_failed() -> None:
    run = judged(
        lock_of(**{"code-generation": entry()}), result(returned="gpt-3.5-turbo", verdict="model_mismatch")
    )
    assert run.routes[0].verdict == "model_mismatch" and run.routes[0].warnings == []


def test_an_echo_only_gateway_is_said_to_hide_the_identity() -> None:
    lock = lock_of(**{"heavy": entry(model_requested="coder-heavy", model_returned="coder-heavy")})
    run = judged(
        lock,
        result("heavy", requested="coder-heavy", returned="coder-heavy"),
        routes=(route("heavy", model="coder-heavy"),),
    )
    assert run.routes[0].verdict == "pass"
    [warning] = run.routes[0].warnings
    assert "cannot be observed on this gateway" in warning


def test_a_lock_taken_against_another_gateway_is_said() -> None:
    lock = replace(lock_of(**{"code-generation": entry()}), gateway_host="other.example.com")
    run = judged(lock, result())
    assert run.warnings == [
        ".github/model-routing.lock.json was locked against other.example.com, this run probed gw.example.com"
    ]
