"""Secret scrubbing and the per-medium escaping of untrusted text."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing_guard.action.commands import workflow_data, workflow_property
from routing_guard.escape import markdown_cell, neutralise_line, terminal_text
from routing_guard.redact import MASK, Redactor
from routing_guard.results import RouteResult

KEY = "sk-abcdefghijklmnopqrstuvwxyz"

HOSTILE = [
    "::error::x",
    "::add-mask::x",
    "%0A::set-env name=x::y",
    "\n::warning::",
    "ok\n::error file=a,line=1::pwned",
    "ok\r::error::pwned",
    "  \t::error::indented",
    "\u00a0::error::nbsp",
    "\u2003::notice::em space",
    "\u200b::error::zero width",
    "\x1b[31m::error::after ansi",
    "model ##[add-mask]gpt-4o",
    "x ##[set-output name=passed;]true",
    "###[error]three hashes",
    "|",
    "`code`",
    "<script>alert(1)</script>",
    "[link](javascript:x)",
    "![img](http://x)",
    "\x1b[31mred\x1b[0m",
    "a\rb",
    "\ud800 lone surrogate \udfff",
]


# --- a model of the runner's command parser (actions/runner ActionCommand.cs) ---------------------


def runner_commands(output: str) -> list[str]:
    """Every line of `output` the runner would read as a workflow command, with any command name
    counted as known (stricter than the runner, which only knows its registered ones)."""
    found = []
    for line in re.split(r"\r\n|\r|\n", output):
        stripped = line.lstrip()  # Python's whitespace is a superset of .NET's TrimStart
        v2 = stripped.startswith("::") and stripped.find("::", 2) > 2
        v1_at = line.find("##[")
        v1 = v1_at >= 0 and line.find("]", v1_at) > v1_at + 3
        if v2 or v1:
            found.append(line)
    return found


def unescape_data(text: str) -> str:
    for token, escaped in (("\r", "%0D"), ("\n", "%0A"), ("%", "%25")):
        text = text.replace(escaped, token)
    return text


def unescape_property(text: str) -> str:
    for token, escaped in (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")):
        text = text.replace(escaped, token)
    return text


def has_run_of(text: str, secret: str, run: int = 8) -> bool:
    return any(secret[i : i + run] in text for i in range(len(secret) - run + 1))


def test_runner_model_sees_the_attacks() -> None:
    # The model must flag the raw strings, or the tests below prove nothing.
    for attack in ["::error::x", "ok\n::error::x", "\u00a0::error::x", "a ##[add-mask]b", "\r::warning::x"]:
        assert runner_commands(attack), attack


# --- Redactor ---------------------------------------------------------------------------------


def test_scrub_whole_key() -> None:
    assert Redactor([KEY]).scrub(f"Authorization: Bearer {KEY}.") == "Authorization: Bearer ***."


def test_scrub_masked_echo() -> None:
    scrubbed = Redactor([KEY]).scrub("Incorrect API key provided: sk-abcdefgh***wxyz.")
    assert scrubbed == "Incorrect API key provided: ******wxyz."
    assert not has_run_of(scrubbed, KEY)


def test_scrub_any_run_of_eight_but_not_seven() -> None:
    redactor = Redactor([KEY])
    assert redactor.scrub("x mnopqrst y") == "x *** y"  # 8 characters from the middle
    assert redactor.scrub("x mnopqrs y") == "x mnopqrs y"  # 7 are not a secret


def test_scrub_key_at_boundaries() -> None:
    redactor = Redactor([KEY])
    assert redactor.scrub(KEY) == MASK
    assert redactor.scrub(KEY + "!") == MASK + "!"
    assert redactor.scrub("!" + KEY) == "!" + MASK
    assert redactor.scrub(KEY[:8]) == MASK
    assert redactor.scrub(KEY[-8:]) == MASK


def test_scrub_repeated_and_adjacent_occurrences() -> None:
    redactor = Redactor([KEY])
    assert redactor.scrub(f"{KEY} {KEY}\n{KEY}") == "*** ***\n***"
    assert redactor.scrub(KEY + KEY) == MASK  # touching runs merge
    assert redactor.scrub("#" + KEY[:10] + "#" + KEY[5:20] + "#") == "#***#***#"


def test_scrub_overlapping_runs() -> None:
    # Two runs of the key sharing characters in the text, and a run that wraps around inside it.
    redactor = Redactor([KEY])
    text = KEY[0:12] + KEY[4:16]
    assert redactor.scrub(text) == MASK
    assert not has_run_of(redactor.scrub("x" + KEY[10:] + KEY[:10] + "y"), KEY)


def test_scrub_short_secret_whole_and_empty_ignored() -> None:
    redactor = Redactor(["", "abc12"])
    assert redactor.scrub("abc12 and abc1 and abc12") == "*** and abc1 and ***"
    assert Redactor([""]).scrub("anything at all") == "anything at all"
    assert Redactor([]).scrub("anything") == "anything"


def test_scrub_several_secrets() -> None:
    other = "ghp_0123456789ABCDEFGHIJ"
    scrubbed = Redactor([KEY, other]).scrub(f"{other[3:15]} and {KEY[2:12]}")
    assert scrubbed == "*** and ***"


@pytest.mark.timeout(60)  # a guard against a pathological (quadratic) scrub, not a timing goal
def test_scrub_one_mebibyte_ends_with_the_key_masked() -> None:
    text = ("lorem ipsum dolor sit amet " * 40_000)[: 1 << 20] + KEY
    redactor = Redactor([KEY, "another-secret-value-0123456789"])
    scrubbed = redactor.scrub(text)
    assert scrubbed.endswith(MASK) and KEY not in scrubbed


@given(st.lists(st.sampled_from(["x", " ", "sk-", KEY[:9], KEY[5:14], KEY[-8:], KEY, "***"]), max_size=12))
def test_scrub_leaves_no_run_of_the_key(pieces: list[str]) -> None:
    assert not has_run_of(Redactor([KEY]).scrub("".join(pieces)), KEY)


def test_scrub_obj_nested() -> None:
    data = {KEY: [KEY, {"n": 3, "t": (KEY, None, True)}], "ok": "fine"}
    assert Redactor([KEY]).scrub_obj(data) == {MASK: [MASK, {"n": 3, "t": (MASK, None, True)}], "ok": "fine"}


def test_scrub_obj_dataclass_records() -> None:
    route = RouteResult(
        route="r", model_requested="m", api="openai-chat", notes=f"echo {KEY}", warnings=[KEY]
    )
    scrubbed = Redactor([KEY]).scrub_obj(route)
    assert isinstance(scrubbed, RouteResult)
    assert scrubbed.notes == "echo ***" and scrubbed.warnings == [MASK]
    assert route.notes == f"echo {KEY}"  # the original is untouched


def test_scrub_obj_any_dataclass() -> None:
    @dataclass
    class Plain:
        text: str
        count: int = 0

    assert Redactor([KEY]).scrub_obj(Plain(KEY, 2)) == Plain(MASK, 2)


# --- terminal_text ----------------------------------------------------------------------------


def test_terminal_text_strips_ansi_and_shows_controls() -> None:
    assert terminal_text("\x1b[31mred\x1b[0m") == "red"
    assert terminal_text("\x1b]8;;http://x\x07link\x1b]8;;\x07") == "link"
    assert terminal_text("bell\x07 nul\x00 del\x7f") == "bell\\x07 nul\\x00 del\\x7f"
    assert terminal_text("rtl \u202eevil") == "rtl \\u202eevil"


def test_terminal_text_is_one_line() -> None:
    assert terminal_text("a\r\nb\nc\rd\u2028e\x85f\tg") == "a  b c d e f g"


def test_terminal_text_keeps_ordinary_unicode() -> None:
    assert terminal_text("modèle 模型 ✓") == "modèle 模型 ✓"


def test_terminal_text_truncates() -> None:
    assert terminal_text("x" * 10, 10) == "x" * 10
    assert terminal_text("x" * 11, 10) == "x" * 9 + "…"
    started = time.perf_counter()
    out = terminal_text("\x1b[31m" + "y" * 100_000, 50)
    assert time.perf_counter() - started < 0.1
    assert out == "y" * 49 + "…"
    assert terminal_text("\x07" * 100_000, 20).endswith("…")


def test_terminal_text_lone_surrogates_are_printable() -> None:
    out = terminal_text("a\ud800b")
    assert out == "a\\ud800b"
    out.encode("utf-8")


@pytest.mark.parametrize("attack", HOSTILE)
def test_terminal_text_hostile(attack: str) -> None:
    out = terminal_text(attack)
    assert runner_commands(out) == []
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", out)
    out.encode("utf-8")


# --- markdown_cell ----------------------------------------------------------------------------


def unescaped_pipes(text: str) -> int:
    """Pipes that split a GFM table cell: cmark-gfm treats `\\|` as escaped whatever comes before."""
    return len(re.findall(r"(?<!\\)\|", text))


@pytest.mark.parametrize(
    ("raw", "cell"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"),
        ("a|b", "a\\|b"),
        ("`code`", "\\`code\\`"),
        ("back\\slash", "back\\\\slash"),
        ("[link](javascript:x)", "\\[link\\]\\(javascript&#58;x\\)"),
        ("![img](http://x)", "\\!\\[img\\]\\(http&#58;//x\\)"),
        ("*em* _u_ ~~s~~ $m$", "\\*em\\* \\_u\\_ \\~\\~s\\~\\~ \\$m\\$"),
        ("www.evil.com", "www&#46;evil&#46;com"),
        ("'q' \"q\" & #1", "&#39;q&#39; &quot;q&quot; &amp; \\#1"),
        ("a@b.com", "a@\u200bb&#46;com"),
        ("claude-3-5-sonnet@20241022", "claude-3-5-sonnet@20241022"),
        ("line\nbreak\r\nx", "line break  x"),
        ("ctl\x00\x1b[31m\u202e\x1b", "ctl"),
        ("a\ud800b", "a\ufffdb"),
    ],
)
def test_markdown_cell(raw: str, cell: str) -> None:
    assert markdown_cell(raw) == cell


def test_markdown_cell_truncates_visible_text() -> None:
    assert markdown_cell("x" * 11, 10) == "x" * 9 + "…"
    assert markdown_cell("<" * 11, 10) == "&lt;" * 9 + "…"
    started = time.perf_counter()
    out = markdown_cell("|" * 100_000, 200)
    assert time.perf_counter() - started < 0.1
    assert out == "\\|" * 199 + "…"


@pytest.mark.parametrize("attack", HOSTILE)
def test_markdown_cell_hostile(attack: str) -> None:
    out = markdown_cell(attack)
    assert "<" not in out and ">" not in out
    assert unescaped_pipes(out) == 0
    assert "\n" not in out and "\r" not in out
    out.encode("utf-8")


def test_markdown_cell_renders_as_plain_text_in_github_markdown() -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm")  # GitHub's own renderer, where installed
    attacks = [
        *HOSTILE,
        "see http://evil.com/x now",
        "https://evil.com",
        "mailto:a@b.com",
        "xmpp:foo@bar.baz",
        "<http://x>",
        "<img src=x onerror=alert(1)>",
        "**bold** __b__",
        "``x``",
        "\\|",
        "x\\",
        "[x]: http://y",
        "[^1]",
    ]
    doc = "| a | b |\n|---|---|\n" + "".join(f"| {markdown_cell(a)} | z |\n" for a in attacks)
    html = cmarkgfm.github_flavored_markdown_to_html(doc)
    for tag in ("<a ", "<img", "<em>", "<strong>", "<del>", "<code>", "<script", "<sup"):
        assert tag not in html
    assert html.count("<tr>") == len(attacks) + 1
    assert html.count("<td>") == 2 * len(attacks)


@settings(max_examples=300)
@given(st.text())
def test_markdown_cell_never_emits_html_or_pipes(text: str) -> None:
    out = markdown_cell(text)
    assert "<" not in out and unescaped_pipes(out) == 0 and "\n" not in out


# --- workflow commands ------------------------------------------------------------------------


def test_workflow_data_escapes_percent_first() -> None:
    assert workflow_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert workflow_data("%0A::set-env name=x::y") == "%250A::set-env name=x::y"


def test_workflow_property_escapes_separators() -> None:
    assert workflow_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


@given(st.text())
def test_workflow_escapes_round_trip_through_the_runner(text: str) -> None:
    line = f"::error title={workflow_property(text)}::{workflow_data(text)}"
    assert len(runner_commands(line)) == 1  # still one command, on one line
    title, data = line[len("::error title=") :].split("::", 1)
    assert unescape_property(title) == text and unescape_data(data) == text


# --- neutralise_line --------------------------------------------------------------------------


@pytest.mark.parametrize("attack", HOSTILE)
def test_neutralise_line_hostile(attack: str) -> None:
    out = neutralise_line(attack)
    assert runner_commands(out) == []
    assert "\n" not in out and "\r" not in out
    out.encode("utf-8")


def test_neutralise_line_examples() -> None:
    assert neutralise_line("::error::x") == "\\::error::x"
    assert neutralise_line("  ::warning::x") == "  \\::warning::x"
    assert neutralise_line("ok\n::error::x") == "ok ::error::x"
    assert neutralise_line("a ##[add-mask]b") == "a ##\\[add-mask]b"
    assert neutralise_line("route code-gen: ok") == "route code-gen: ok"
    assert neutralise_line("a::b") == "a::b"  # only a leading `::` makes a command


def test_percent_newline_is_inert_in_a_plain_line() -> None:
    # The runner decodes %0A only inside a command's data; a plain line keeps it literal, and in our
    # own command data `%` is escaped first, so the decoded message is the text itself, still one line.
    attack = "%0A::set-env name=x::y"
    assert neutralise_line(attack) == attack
    assert runner_commands(neutralise_line(attack)) == []
    line = "::error::" + workflow_data(attack)
    assert runner_commands(line) == [line]
    assert unescape_data(line[len("::error::") :]) == attack


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list(":#[] \t\n\r\u00a0\u2028\x1b%0Aabc")), max_size=40) | st.text())
def test_neutralise_line_never_starts_a_command(text: str) -> None:
    assert runner_commands(neutralise_line(text)) == []
    assert runner_commands(terminal_text(text)) == []
