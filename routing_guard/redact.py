"""Secret scrubbing: `Redactor` removes the API key (and every other secret of the run), and any
run of 8 or more of its characters (a gateway's masked echo such as `sk-abcdefgh***wxyz`), from
text and from JSON-like data, also through the disguises gateways use (see the class).

Making untrusted text safe for a medium (terminal, Markdown, workflow commands) is a separate job:
`routing_guard.escape`, and the workflow-command escapes in `routing_guard.action.commands`.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import string
import unicodedata
from collections.abc import Iterable
from typing import Any

# Escaping lives in routing_guard.escape; its functions stay importable from here for existing callers.
from routing_guard.escape import annotation_text, markdown_cell, neutralise_line, terminal_text
from routing_guard.escape import is_ignorable as _is_ignorable

MASK = "***"
MIN_RUN = 8  # a run of this many consecutive characters of a secret is itself secret

# Escapes that render as one character: percent (URL), JSON/terminal (\u00e9, \x41), HTML
# numeric and the few named entities our Markdown escaping writes, Markdown backslash escapes.
_ESCAPE = re.compile(
    r"%([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|&#(\d{1,7});|&#[xX]([0-9A-Fa-f]{1,6});"
    r"|&(amp|lt|gt|quot|apos);|\\([!-/:-@\[-`{-~])"
)
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_PLAIN = re.compile(r"[^ -$'-\[\]-~]")  # anything but printable ASCII without `%`, `&` and `\`


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
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Scrub these too from now on: secrets found during the run (committed in agent files)."""
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


__all__ = [
    "MASK",
    "MIN_RUN",
    "Redactor",
    "annotation_text",
    "markdown_cell",
    "neutralise_line",
    "terminal_text",
]
