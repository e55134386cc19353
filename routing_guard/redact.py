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

import base64
import dataclasses
import re
import string
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


# Characters a secret can be split by without any visible change: format characters (zero-width
# space, soft hyphen, bidi marks, word joiner, BOM...), controls, and the other default-ignorable
# code points (combining grapheme joiner, Hangul fillers, variation selectors).
_IGNORABLE_EXTRA = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0}
    | set(range(0x180B, 0x1810))
    | set(range(0xFE00, 0xFE10))
    | set(range(0xE0100, 0xE01F0))
)
# Escapes that render as one character: percent (URL), JSON/terminal (\u00e9, \x41), HTML
# numeric and the few named entities our Markdown escaping writes, Markdown backslash escapes.
_ESCAPE = re.compile(
    r"%([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|&#(\d{1,7});|&#[xX]([0-9A-Fa-f]{1,6});"
    r"|&(amp|lt|gt|quot|apos);|\\([!-/:-@\[-`{-~])"
)
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_PLAIN = re.compile(r"[^ -$'-\[\]-~]")  # anything but printable ASCII without `%`, `&` and `\`


def _is_ignorable(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf") or ord(char) in _IGNORABLE_EXTRA


def _fold(char: str) -> str:
    """One character as matching sees it: nothing if invisible, else its NFKC form (fullwidth is ASCII)."""
    if " " <= char <= "~":
        return char
    if _is_ignorable(char):
        return ""
    return "".join(c for c in unicodedata.normalize("NFKC", char) if not _is_ignorable(c))


def _unescape(match: re.Match[str]) -> str:
    percent, json_u, hex_x, decimal, hexa, named, backslashed = match.groups()
    if named or backslashed:
        return _NAMED[named] if named else backslashed
    code = int(percent or json_u or hex_x or hexa or "", 16) if not decimal else int(decimal)
    if percent and code >= 0x80:  # a byte of a multi-byte UTF-8 sequence: keep it as written
        return match[0]
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match[0]


def _skeleton(text: str, *, unescape: bool = True) -> tuple[str, list[tuple[int, int]]]:
    """The text as matching sees it, and for each of its characters the span of `text` it came from."""
    if not _PLAIN.search(text):
        return text, [(i, i + 1) for i in range(len(text))]
    view: list[str] = []
    spans: list[tuple[int, int]] = []
    position = 0
    while position < len(text):
        match = _ESCAPE.match(text, position) if unescape and text[position] in "%&\\" else None
        if match is not None:
            unit, end = _unescape(match), match.end()
            if unit == match[0]:
                unit, end = text[position], position + 1
        else:
            unit, end = text[position], position + 1
        for char in _fold(unit):
            view.append(char)
            spans.append((position, end))
        position = end
    return "".join(view), spans


def _views(text: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """The views matching looks at: as written, without invisible characters, and unescaped too.
    Each view can hide what another shows (`%00` hides a `0`, an invisible secret has no folded
    form), so a secret found in any of them is masked."""
    views = [(text, [(i, i + 1) for i in range(len(text))])]
    if _PLAIN.search(text):
        views += [_skeleton(text, unescape=False), _skeleton(text)]
    return views


def _echo_forms(secret: str) -> list[str]:
    """The secret, and the parts of its base64 forms that any base64 text holding it must contain."""
    forms = [secret] if secret else []
    data = secret.encode("utf-8", "surrogatepass")
    if len(data) < MIN_RUN:
        return forms
    for offset in range(3):  # the secret's first byte can sit at any position of a 3-byte group
        encoded = base64.b64encode(bytes(offset) + data).decode()
        # Only base64 characters whose 6 bits all come from the secret are certain to appear.
        first, last = -(-8 * offset // 6), (8 * (offset + len(data))) // 6
        core = encoded[first:last]
        forms += [core, core.translate(_URLSAFE)]
    return forms


_URLSAFE = str.maketrans("+/", "-_")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class Redactor:
    """Replaces a set of secrets, and every run of 8+ consecutive characters of one, by `***`.

    Matching is done on a normalised view of the text (see `_skeleton`), so a secret is found
    through the forms a gateway or a renderer may give it: with invisible characters inside,
    percent-, JSON-, Markdown- or HTML-escaped, fullwidth, base64-encoded at any byte alignment,
    and (runs of 8+) in another case, as a hex key may be echoed. Normalising only ever masks more.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self._runs: set[str] = set()  # every 8-character window, ASCII letters lower-cased
        self._short: set[str] = set()  # secrets shorter than a run, matched whole and exactly
        for secret in secrets:
            for form in _echo_forms(secret):
                for view, _ in _views(form):
                    if len(view) >= MIN_RUN:
                        lower = view.translate(_ASCII_LOWER)
                        self._runs.update(lower[i : i + MIN_RUN] for i in range(len(lower) - MIN_RUN + 1))
                    elif view:
                        self._short.add(view)
        self._short_sizes = sorted({len(s) for s in self._short})

    def scrub(self, text: str) -> str:
        if not (self._runs or self._short) or not text:
            return text
        hits: list[tuple[int, int]] = []
        for view, spans in _views(text):
            if self._runs:
                lower = view.translate(_ASCII_LOWER)
                hits += [
                    (spans[i][0], spans[i + MIN_RUN - 1][1])
                    for i in range(len(lower) - MIN_RUN + 1)
                    if lower[i : i + MIN_RUN] in self._runs
                ]
            for size in self._short_sizes:
                hits += [
                    (spans[i][0], spans[i + size - 1][1])
                    for i in range(len(view) - size + 1)
                    if view[i : i + size] in self._short
                ]
        if not hits:
            return text
        # Overlapping or touching matches merge, so a whole key, or any longer run of it, is one `***`.
        hits.sort()
        pieces: list[str] = []
        kept_from = 0
        span_start, span_end = hits[0]
        for start, end in hits[1:]:
            if start <= span_end:
                span_end = max(span_end, end)
                continue
            pieces += [text[kept_from:span_start], MASK]
            kept_from = span_end
            span_start, span_end = start, end
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
    if unicodedata.category(char) == "Cs" or _is_ignorable(char):
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
