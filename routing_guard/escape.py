"""Neutralising untrusted text (model IDs, gateway error messages, pull-request text) for the place
it is shown: a terminal line, a GitHub Markdown table cell, a workflow command's message.

What the GitHub runner parses on stdout and stderr (docs/runner.md has the sources):

- a line that, after leading whitespace, starts with `::` and names a known command (`::error::x`);
- a line that contains `##[` followed by a known command name and `]` *anywhere* (the old format,
  `text ##[set-output name=x;]y`, still processed);
- lines are split on `\\n`, `\\r` and `\\r\\n`.

Percent escapes (`%0A`, `%25`...) are decoded only inside a command's properties and data, and the
decoded text is never parsed again. So a literal `%0A::set-env` in a plain line is inert; it matters
only inside the action's own commands, where `action.commands.workflow_data` escapes `%` first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Invisible characters that are not in the Cc/Cf categories (fillers, variation selectors).
_IGNORABLE_EXTRA = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0}
    | set(range(0x180B, 0x1810))
    | set(range(0xFE00, 0xFE10))
    | set(range(0xE0100, 0xE01F0))
)


def is_ignorable(char: str) -> bool:
    """A control, format or other invisible character: a terminal or annotation shows nothing for it."""
    return unicodedata.category(char) in ("Cc", "Cf") or ord(char) in _IGNORABLE_EXTRA


ELLIPSIS = "…"

# Characters a terminal, an editor or the runner may treat as the end of a line.
_LINE_BREAKS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_BREAKS_TO_SPACE = str.maketrans(dict.fromkeys(_LINE_BREAKS, " ") | {"\t": " "})
_EMAIL_AT = re.compile(r"@(?=\S*\.)")
_SURROGATE = re.compile("[\ud800-\udfff]")
# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), two-byte ESC sequences, 8-bit CSI.
_ANSI = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]"
)

# GitHub-flavoured Markdown: HTML-escape, backslash-escape what makes emphasis, links, images, code,
# math and table cells; write `:` and `.` as entities so no `http://` or `www.` autolink forms (the
# autolinker reads the raw source). E-mail autolinks are found after entities are decoded, so an `@`
# before a dotted domain gets a zero-width space after it instead (checked against cmark-gfm).
_MARKDOWN_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#39;",
        ":": "&#58;",
        ".": "&#46;",
        **{c: "\\" + c for c in "\\`*_~[]()!|$#"},
    }
)


# Characters a secret can be split by without any visible change: format characters (zero-width
# space, soft hyphen, bidi marks, word joiner, BOM...), controls, and the other default-ignorable
# code points (combining grapheme joiner, Hangul fillers, variation selectors).


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _bounded(text: str, limit: int, clean: Callable[[str], str]) -> str:
    # Clean only a bounded prefix, so a 100 KB string costs no more than a short one; cleaning
    # changes the length by a bounded factor, so the prefix still fills `limit` when it can.
    bound = limit * 2 + 16
    out = clean(text[:bound])
    if len(text) > bound:
        out += ELLIPSIS
    return _truncate(out, limit)


def _per_char(text: str, fix: Callable[[str], str]) -> str:
    # Decide once per distinct character outside printable ASCII: texts repeat their characters.
    return text.translate({ord(c): fix(c) for c in set(text) if not " " <= c <= "~"})


def _escape_for_terminal(char: str) -> str:
    if unicodedata.category(char) == "Cs" or is_ignorable(char):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def _clean_terminal(text: str) -> str:
    text = _ANSI.sub("", text).translate(_BREAKS_TO_SPACE)
    return neutralise_line(_per_char(text, _escape_for_terminal))


def terminal_text(text: str, limit: int = 200) -> str:
    """One line of at most `limit` (>= 1) characters, safe to print: no ANSI escapes, control or
    invisible format characters (shown as `\\xNN` / `\\uNNNN`), no line break, no workflow command."""
    return _bounded(text, limit, _clean_terminal)


def _escape_for_annotation(char: str) -> str:
    if char in "\r\n":  # kept: `workflow_data` encodes them, the annotation shows a line break
        return char
    if char in _LINE_BREAKS or char == "\t":
        return " "
    return _escape_for_terminal(char)


def _clean_annotation(text: str) -> str:
    return _per_char(_ANSI.sub("", text), _escape_for_annotation)


def annotation_text(text: str, limit: int = 4000) -> str:
    """Text for a workflow command's message or title, as the terminal table shows it: no ANSI
    escapes; controls, bidi overrides and other invisible format characters written as `\\xNN` /
    `\\uNNNN`. Line breaks stay (the command's escaping encodes them)."""
    return _bounded(text, limit, _clean_annotation)


def _clean_for_markdown(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cs":
        return "\ufffd"
    if category in ("Cc", "Cf") or ord(char) in _IGNORABLE_EXTRA:
        return ""
    return char


def _clean_markdown(text: str) -> str:
    text = _ANSI.sub("", text).translate(_BREAKS_TO_SPACE)
    return _per_char(text, _clean_for_markdown).strip()


def markdown_cell(text: str, limit: int = 200) -> str:
    """Text safe inside a GitHub Markdown table cell: at most `limit` (>= 1) visible characters on one
    line, no HTML, nothing that renders as a link, image, emphasis, code or math, or splits the cell."""
    text = _EMAIL_AT.sub("@\u200b", _bounded(text, limit, _clean_markdown))
    return text.translate(_MARKDOWN_ESCAPES)


def _is_lead(char: str) -> bool:
    # Wider than .NET's TrimStart (which the runner uses): whitespace, controls and invisible formats.
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def neutralise_line(text: str) -> str:
    """Make a line that carries outside text impossible for the runner to read as a workflow command.

    Line breaks become spaces (so the text stays one line), a `::` at the start of the line (after
    any whitespace) gets a backslash in front, and every `##[` becomes `##\\[`. Lone surrogates
    become U+FFFD so the line can always be encoded. `%0A` and friends are left alone: the runner
    decodes them only inside a command, and this line is no longer one.
    """
    text = _SURROGATE.sub("\ufffd", text).translate(_BREAKS_TO_SPACE).replace("##[", "##\\[")
    lead = 0
    while lead < len(text) and _is_lead(text[lead]):
        lead += 1
    if text.startswith("::", lead):
        text = text[:lead] + "\\" + text[lead:]
    return text
