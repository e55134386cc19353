"""The Redactor finds the key through every form a gateway or a renderer may give it."""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from routing_guard.escape import annotation_text, markdown_cell, terminal_text
from routing_guard.redact import MASK, Redactor

KEY = "sk-live_0123456789abcdefABCDEF+/="
HEX_KEY = "0123456789abcdef0123456789abcdef"


def scrubbed_away(secret: str, text: str) -> bool:
    out = Redactor([secret]).scrub(text)
    return MASK in out and out != text


@pytest.mark.parametrize(
    "sep", ["\u200b", "\u00ad", "\u200e", "\u200f", "\u202e", "\u2060", "\ufeff", "\u034f", "\ufe0f", "\x07"]
)
def test_invisible_characters_inside_the_key(sep: str) -> None:
    assert Redactor([KEY]).scrub(f"echo {sep.join(KEY)} end") == f"echo {MASK} end"
    assert Redactor([KEY]).scrub(f"echo {KEY[:5]}{sep}{KEY[5:13]} end") == f"echo {MASK} end"


@pytest.mark.parametrize(
    "form",
    [
        urllib.parse.quote(KEY, safe=""),
        urllib.parse.quote(KEY),
        "".join(f"%{b:02X}" for b in KEY.encode()),
        KEY.replace("_", "\\_").replace("+", "\\+"),  # Markdown escapes
        KEY.replace("-", "&#45;").replace("_", "&#x5F;"),  # HTML entities
        KEY.replace("-", "\\u002d"),  # JSON escape
        "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in KEY),  # fullwidth
    ],
)
def test_escaped_and_encoded_forms(form: str) -> None:
    assert scrubbed_away(KEY, f"key={form};")


@pytest.mark.parametrize("prefix", [b"", b"u", b"us", b"user:", b"Bearer "])
def test_base64_at_every_alignment(prefix: bytes) -> None:
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        blob = encode(prefix + KEY.encode() + b"!tail").decode()
        out = Redactor([KEY]).scrub(f"Basic {blob}")
        assert MASK in out
        assert base64.b64encode(KEY.encode()[2:10]).decode()[:8] not in out


def test_hex_key_in_another_case() -> None:
    assert Redactor([HEX_KEY]).scrub(f"got {HEX_KEY.upper()}") == f"got {MASK}"
    assert Redactor([HEX_KEY]).scrub(f"got {HEX_KEY[3:14].upper()}") == f"got {MASK}"


def test_other_text_is_left_alone() -> None:
    text = "model gpt-4o-2024-08-06 answered in 0.4 s; 100% fine &amp; \\* ok"
    assert Redactor([KEY, HEX_KEY]).scrub(text) == text
    assert Redactor([KEY]).scrub("ab\u200bcd") == "ab\u200bcd"


def test_every_renderer_strips_what_could_hide_or_reorder_text() -> None:
    hostile = "a\x1b[31mb\x1b]8;;http://x\x07c\u202ed\u2066e\x00f\u034fg"
    for shown in (terminal_text(hostile), annotation_text(hostile)):
        assert "\x1b" not in shown and "\u202e" not in shown and "\u2066" not in shown
        assert "\x00" not in shown and "\u034f" not in shown
        assert "\\u202e" in shown  # visible as an escape
    assert annotation_text("one\ntwo") == "one\ntwo"  # line breaks stay for the command escaping
    assert "\u202e" not in markdown_cell(hostile) and "\u034f" not in markdown_cell(hostile)


def test_a_view_that_decodes_cannot_hide_what_is_written() -> None:
    # Decoding `%00` drops the NUL it names; the `0`s written in it are still the secret's.
    assert "0" not in Redactor(["0"]).scrub("%00")
    assert Redactor(["\x00abc"]).scrub("x\x00abcy") == "x***y"  # a secret with no visible form
