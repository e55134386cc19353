"""Secret scrubbing and neutralising untrusted text for each place it is shown.

Two separate jobs:

- `Redactor` removes the API key, and any run of 8 or more of its characters (a gateway's masked
  echo such as `sk-abcdefgh***wxyz`), from text and from JSON-like data.
- The other functions make text that came from outside (model IDs, gateway error messages) safe for
  one medium: a terminal line, a GitHub Markdown table cell, or a workflow command.

What the GitHub runner parses on stdout and stderr (read from `actions/runner`, `ActionCommand.cs`):

- a line that, after leading whitespace, starts with `::` and names a known command (`::error::x`);
- a line that contains `##[` followed by a known command name and `]` *anywhere* (the old format,
  `text ##[set-output name=x;]y`, still processed);
- lines are split on `\\n`, `\\r` and `\\r\\n`.

Percent escapes (`%0A`, `%25`...) are decoded only inside a command's properties and data, and the
decoded text is never parsed again. So a literal `%0A::set-env` in a plain line is inert; it matters
only inside our own commands, where `workflow_data` escapes `%` first so it stays literal.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

MASK = "***"
MIN_RUN = 8  # a run of this many consecutive characters of a secret is itself secret

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


class Redactor:
    """Replaces a set of secrets, and every run of 8+ consecutive characters of one, by `***`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._runs: set[str] = set()
        short: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_RUN:
                self._runs.update(secret[i : i + MIN_RUN] for i in range(len(secret) - MIN_RUN + 1))
            elif secret:
                short.add(secret)
        longest_first = sorted(short, key=len, reverse=True)
        self._short = re.compile("|".join(map(re.escape, longest_first))) if short else None

    def scrub(self, text: str) -> str:
        if self._runs:
            text = self._scrub_runs(text)
        if self._short is not None:
            text = self._short.sub(MASK, text)
        return text

    def _scrub_runs(self, text: str) -> str:
        # Every 8-character window that occurs in a secret is masked; overlapping or touching
        # windows merge, so a whole key, or any longer run of it, becomes a single `***`.
        runs = self._runs
        starts = [i for i in range(len(text) - MIN_RUN + 1) if text[i : i + MIN_RUN] in runs]
        if not starts:
            return text
        pieces: list[str] = []
        kept_from = 0
        span_start, span_end = starts[0], starts[0] + MIN_RUN
        for start in starts[1:]:
            if start <= span_end:
                span_end = start + MIN_RUN
                continue
            pieces += [text[kept_from:span_start], MASK]
            kept_from = span_end
            span_start, span_end = start, start + MIN_RUN
        pieces += [text[kept_from:span_start], MASK, text[span_end:]]
        return "".join(pieces)

    def scrub_obj(self, obj: Any) -> Any:
        """Scrub every string (and dict key) in JSON-like data or in a dataclass record, recursively."""
        if isinstance(obj, str):
            return self.scrub(obj)
        if isinstance(obj, dict):
            return {self.scrub_obj(k): self.scrub_obj(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(self.scrub_obj(v) for v in obj)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            changes = {
                f.name: self.scrub_obj(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init
            }
            return dataclasses.replace(obj, **changes)
        return obj


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
    if unicodedata.category(char) in ("Cc", "Cf", "Cs"):
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


def _clean_for_markdown(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cs":
        return "\ufffd"
    if category in ("Cc", "Cf"):
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


def workflow_data(text: str) -> str:
    """Escape the message part of a workflow command (`::error::MESSAGE`)."""
    text = _SURROGATE.sub("\ufffd", text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """Escape a property value of a workflow command (`::error file=VALUE,title=VALUE::`)."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


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
